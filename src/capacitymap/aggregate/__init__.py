"""Points -> regional totals: millions of geolocated hasher records summed per region and group.

Two engines give **bit-identical** results on the same input:

* ``"incore"`` (default) streams :class:`~capacitymap.io.points.PointBatch` es through one process;
* ``"dask"`` sends the parts of a :class:`~capacitymap.io.points.PointSource` (Parquet row groups,
  CSV files) to a ``dask.distributed`` cluster, with the region index broadcast to every worker.

Rules (see ``docs/scale.md``):

* **One truth per point.** A point is placed once, the same way at every level: in the first
  admin-1 region (by code) whose polygon holds it, its country being the code's prefix; where the
  admin-1 layer has no region of a country, in that country's admin-0 polygon; in no polygon but
  within 25 km (geodesic) of one, in the nearest (as facilities are, placement "nearest"). The
  level only decides whether a region keeps its own row or adds up into its country's.
* **Nothing dropped.** Points placed nowhere (and NaN coordinates) are the table's unplaced row:
  country ``ZZ`` (CCAF's "Other"), no region. So every group's shares sum to 1 in the table; the
  :class:`AggregateReport` counts each fate apart.
* **Exact sums.** Weights are summed exactly (integer arithmetic on the float64 mantissas) and
  rounded once, so the result does not depend on batch sizes, partitioning or order.

Modules: ``_index`` (targets and placement), ``_raster`` (the cell lookup, and the band where the
nearest-region rule, :class:`capacitymap.join.NearestRule`, applies), ``_sums`` (exact sums),
``_report`` (table and report), ``_engines``, ``_progress``.
"""

from capacitymap.aggregate._engines import (
    ENGINES,
    WEIGHT_UNITS,
    Engine,
    WeightUnit,
    aggregate,
    aggregate_dask,
    aggregate_points,
    check_options,
)
from capacitymap.aggregate._index import LEVELS, TOLERANCE_KM, UNPLACED_COUNTRY, Level, RegionIndex, build_region_index
from capacitymap.aggregate._report import AggregateReport

__all__ = [
    "Level",
    "LEVELS",
    "Engine",
    "ENGINES",
    "WeightUnit",
    "WEIGHT_UNITS",
    "TOLERANCE_KM",
    "UNPLACED_COUNTRY",
    "AggregateReport",
    "RegionIndex",
    "build_region_index",
    "check_options",
    "aggregate",
    "aggregate_points",
    "aggregate_dask",
]
