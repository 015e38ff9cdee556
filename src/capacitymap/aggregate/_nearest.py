"""The nearest-region rule for points in no region, vectorised: the same rule ``join.assign_regions`` applies to facilities.

A point in no polygon goes to the nearest one if it lies within ``tolerance_km``. As in
:mod:`capacitymap.join`: for each candidate polygon, the point on it nearest to the point in
longitude/latitude degrees is found (``shapely``'s nearest point), and its geodesic distance on the
WGS84 ellipsoid (``pyproj.Geod.inv``) decides; equal distances go to the target that ranks first
(the code that sorts first). Polygon boundaries are cut into short pieces so that each distance is
computed against a few vertices, not a whole coastline.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import shapely
from pyproj import Geod

__all__ = ["NearestIndex"]

_GEOD = Geod(ellps="WGS84")
#: Segments per boundary piece.
_PIECE: Final = 16
#: The shortest degree of latitude (at the equator) is 110.574 km: a bound that only errs generously.
_KM_PER_DEGREE_MIN: Final = 110.0


def search_radius_deg(lat: np.ndarray, tolerance_km: float) -> np.ndarray:
    """A planar radius in degrees that holds every point within ``tolerance_km`` (geodesic) of (lon, lat)."""
    dlat = tolerance_km / _KM_PER_DEGREE_MIN * 1.05
    cos = np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.9)))
    return dlat * (1.0 + 1.0 / np.maximum(cos, 1e-3)) + 1e-9


class NearestIndex:
    """Boundary pieces of the target polygons (parts with their target rank), indexed by an STRtree."""

    def __init__(self, parts: np.ndarray, part_target: np.ndarray, tolerance_km: float):
        self.tolerance_km = float(tolerance_km)
        rings, ring_part = shapely.get_rings(parts, return_index=True) if len(parts) else (np.zeros(0, object), np.zeros(0, np.int64))
        coords, ring_of = shapely.get_coordinates(rings, return_index=True) if len(rings) else (np.zeros((0, 2)), np.zeros(0, np.int64))
        n_per_ring = np.bincount(ring_of, minlength=len(rings)) if len(rings) else np.zeros(0, np.int64)
        first = np.r_[0, np.cumsum(n_per_ring)[:-1]] if len(rings) else np.zeros(0, np.int64)
        segs = np.maximum(n_per_ring - 1, 0)
        n_pieces = (segs + _PIECE - 1) // _PIECE
        piece_ring = np.repeat(np.arange(len(rings)), n_pieces)
        k = _ramp(n_pieces)
        start = first[piece_ring] + k * _PIECE
        stop = first[piece_ring] + np.minimum((k + 1) * _PIECE, segs[piece_ring])  # inclusive last vertex
        lengths = stop - start + 1
        vertex = np.repeat(start, lengths) + _ramp(lengths)
        piece_id = np.repeat(np.arange(len(start)), lengths)
        self.pieces = shapely.linestrings(coords[vertex], indices=piece_id) if len(vertex) else np.zeros(0, object)
        self.piece_target = np.asarray(part_target, np.int64)[ring_part[piece_ring]] if len(piece_ring) else np.zeros(0, np.int64)
        self.tree = shapely.STRtree(self.pieces)

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For points in no polygon: the target within tolerance (-1 if none) and the distance in km (inf if none)."""
        n = len(x)
        target = np.full(n, -1, np.int64)
        km = np.full(n, np.inf)
        if n == 0 or len(self.pieces) == 0:
            return target, km
        points = shapely.points(x, y)
        dlat = self.tolerance_km / _KM_PER_DEGREE_MIN * 1.05
        cos = np.cos(np.radians(np.minimum(np.abs(y) + dlat, 89.9)))
        dlon = np.minimum(dlat / np.maximum(cos, 1e-3), 360.0)
        boxes = shapely.box(x - dlon, y - dlat, x + dlon, y + dlat)
        pt, pc = self.tree.query(boxes)  # pieces whose bounding box meets the point's search box
        if len(pt) == 0:
            return target, km
        planar = shapely.distance(self.pieces[pc], points[pt])
        tg = self.piece_target[pc]
        # Per (point, target): the planar-nearest piece, as join.py's shapely.ops.nearest_points.
        order = np.lexsort((planar, tg, pt))
        pt, tg, pc = pt[order], tg[order], pc[order]
        first = np.ones(len(pt), bool)
        first[1:] = (pt[1:] != pt[:-1]) | (tg[1:] != tg[:-1])
        pt, tg, pc = pt[first], tg[first], pc[first]
        ends = shapely.get_coordinates(shapely.shortest_line(self.pieces[pc], points[pt])).reshape(-1, 2, 2)
        qx, qy = ends[:, 0, 0], ends[:, 0, 1]
        _, _, metres = _GEOD.inv(x[pt], y[pt], qx, qy)
        dist = np.asarray(metres, np.float64) / 1000.0
        # Per point: the smallest distance; equal distances to the target that ranks first.
        order = np.lexsort((tg, dist, pt))
        pt, tg, dist = pt[order], tg[order], dist[order]
        first = np.ones(len(pt), bool)
        first[1:] = pt[1:] != pt[:-1]
        pt, tg, dist = pt[first], tg[first], dist[first]
        km[pt] = dist
        ok = dist <= self.tolerance_km
        target[pt[ok]] = tg[ok]
        return target, km


def _ramp(lengths: np.ndarray) -> np.ndarray:
    """0..len-1 for each length, concatenated (``np.arange`` per run, vectorised)."""
    lengths = np.asarray(lengths, np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)
