"""The nearest-region rule for points in no region: :class:`capacitymap.join.NearestRule`, as for facilities.

The one rule (a point within ``tolerance_km`` of a region, measured exactly in metres on the WGS84
ellipsoid, goes to it; equal distances to the target that ranks first), and the search band the raster
marks around every boundary so that exactly the points that may be within reach are tested.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from capacitymap.join import NearestRule
from capacitymap.join import ramp as _ramp

__all__ = ["NearestRule", "search_radius_deg", "_ramp"]

#: The shortest degree of latitude (at the equator) is 110.574 km: a bound that only errs generously.
_KM_PER_DEGREE_MIN: Final = 110.0


def search_radius_deg(lat: np.ndarray, tolerance_km: float) -> np.ndarray:
    """A planar radius in degrees that holds every point within ``tolerance_km`` (geodesic) of (lon, lat)."""
    dlat = tolerance_km / _KM_PER_DEGREE_MIN * 1.05
    cos = np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.9)))
    return dlat * (1.0 + 1.0 / np.maximum(cos, 1e-3)) + 1e-9
