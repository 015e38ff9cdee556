"""The output table and the report of where every point went, from exact sums."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from capacitymap.aggregate._index import FATE_COUNTRY, FATE_NAN, FATE_OUTSIDE, FATE_REGION, RegionIndex
from capacitymap.aggregate._sums import exact_numerators, int_sum_by, sum_by

__all__ = ["AggregateReport", "finish", "TABLE_COLUMNS", "UNIT_EXP_TO_EHS"]

#: The columns after the group columns, in order.
TABLE_COLUMNS: Final = ("country", "region", "share", "share_of", "hashrate_ehs", "points")
#: Powers of ten from the weight unit to EH/s (exact: the division happens on exact sums).
UNIT_EXP_TO_EHS: Final[dict[str, int]] = {"H/s": 18, "TH/s": 6, "PH/s": 3, "EH/s": 0}
# Fates: 0 = total; then the index's fates; then "nearest", a part of region + country.
_FATES: Final = ("total", "region", "country", "outside", "nan", "nearest")
_NEAREST: Final = 5


@dataclass(frozen=True)
class AggregateReport:
    """Where every input point went, per group.

    ``groups`` has the group columns, then for each fate ``<fate>_points`` and
    ``<fate>_hashrate_ehs``: ``total`` (all input), ``region`` (in an admin-1 region), ``country``
    (country-level rows), ``outside`` (in no region and farther than the tolerance from every one)
    and ``nan`` (a NaN coordinate): ``region + country + outside + nan == total``. ``nearest`` counts
    the points of ``region`` and ``country`` that were placed by the nearest-region rule. Outside and
    NaN points are the table's unplaced row (country ``ZZ``, no region).
    """

    level: str
    weight_unit: str
    by: tuple[str, ...]
    groups: pd.DataFrame = field(repr=False)
    tolerance_km: float = 25.0

    def _total(self, column: str) -> Any:
        return self.groups[column].sum() if len(self.groups) else 0

    def points_of(self, fate: str) -> int:
        """Points of a fate (``total``, ``region``, ``country``, ``outside``, ``nan``, ``nearest``), all groups."""
        return int(self._total(f"{fate}_points"))

    def hashrate_ehs_of(self, fate: str) -> float:
        """EH/s of a fate, all groups."""
        return float(self._total(f"{fate}_hashrate_ehs"))

    @property
    def points(self) -> int:
        return self.points_of("total")

    @property
    def hashrate_ehs(self) -> float:
        return self.hashrate_ehs_of("total")

    @property
    def placed_points(self) -> int:
        """Points in a region or country row (the nearest-rule ones included)."""
        return self.points_of("region") + self.points_of("country")

    @property
    def unplaced_points(self) -> int:
        """Points in the unplaced row: in no region (beyond the tolerance) or with a NaN coordinate."""
        return self.points_of("outside") + self.points_of("nan")

    def summary(self) -> str:
        """A few lines a person reads after a run."""
        lines = [f"{self.points:,} points, {self.hashrate_ehs:.6g} EH/s in {len(self.groups):,} group(s) at level {self.level}"]
        for fate, what in (("region", "in an admin-1 region"), ("country", "in country-level rows"),
                           ("nearest", f"of these placed in the nearest region (within {self.tolerance_km:g} km)"),
                           ("outside", f"in no region, farther than {self.tolerance_km:g} km (the unplaced row, country ZZ)"),
                           ("nan", "with NaN coordinates (the unplaced row, country ZZ)")):
            pts = self.points_of(fate)
            if pts or fate in ("outside", "nan"):
                lines.append(f"  {pts:,} points, {self.hashrate_ehs_of(fate):.6g} EH/s {what}")
        return "\n".join(lines)


def finish(sums: pd.DataFrame, index: RegionIndex, by: tuple[str, ...], weight_unit: str) -> tuple[pd.DataFrame, AggregateReport]:
    """Exact sums per (group, target, exponent bucket) -> the hashrate table and the report.

    Every sum is a Python integer numerator over a power of two (numpy object arrays, so the loops
    run in C); shares and EH/s are one correctly rounded division each, so they do not depend on
    how the points were split into batches or parts.
    """
    num, shift = exact_numerators(sums)
    den = (1 << shift) * 10 ** UNIT_EXP_TO_EHS[weight_unit]
    grouped = by and len(sums)
    gid = sums.groupby(list(by), dropna=False, sort=True, observed=True).ngroup().to_numpy(np.int64) if grouped else np.zeros(len(sums), np.int64)
    n_groups = int(gid.max()) + 1 if len(gid) else 0
    target = sums["target"].to_numpy(np.int64)
    fate = index.fate[target]
    nearest = index.nearest_targets[target]
    pts = sums["points"].to_numpy(np.int64)

    # Per group and fate (0 = total): exact numerators and point counts.
    fate_num = np.zeros((n_groups, len(_FATES)), dtype=object)
    fate_pts = np.zeros((n_groups, len(_FATES)), dtype=np.int64)
    for f in (FATE_REGION, FATE_COUNTRY, FATE_OUTSIDE, FATE_NAN):
        sel = fate == f
        fate_num[:, f] = sum_by(gid[sel], num[sel], n_groups)
        fate_pts[:, f] = int_sum_by(gid[sel], pts[sel], n_groups)
    fate_num[:, _NEAREST] = sum_by(gid[nearest], num[nearest], n_groups)
    fate_pts[:, _NEAREST] = int_sum_by(gid[nearest], pts[nearest], n_groups)
    fate_num[:, 0] = fate_num[:, 1:_NEAREST].sum(axis=1) if n_groups else fate_num[:, 0]
    fate_pts[:, 0] = fate_pts[:, 1:_NEAREST].sum(axis=1)

    # Per (group, label): the table rows, the unplaced row included.
    label = index.label_of[target]
    n_labels = max(len(index.labels), 1)
    cells, inverse = np.unique(gid * n_labels + label, return_inverse=True)
    cell_num = sum_by(inverse, num, len(cells))
    cell_pts = int_sum_by(inverse, pts, len(cells))
    cell_gid, cell_label = cells // n_labels, cells % n_labels
    totals = fate_num[cell_gid, 0]
    nonzero = totals != 0
    share = np.full(len(cells), math.nan)
    share[nonzero] = (cell_num[nonzero] / totals[nonzero]).astype(np.float64)
    ehs = (cell_num / den).astype(np.float64) if len(cells) else np.zeros(0)

    group_values = _group_values(sums, gid, n_groups, by)
    for col in by:  # text once per group, not once per row
        if group_values[col].dtype == object or isinstance(group_values[col].dtype, pd.CategoricalDtype):
            group_values[col] = group_values[col].astype("string")
    # Rows sorted by (*by, country, region), missing values first: the groups and the labels are
    # ranked in their own small tables, then the rows by their two ranks (each row is one pair).
    group_rank = _rank(group_values, list(by))
    label_rank = _rank(index.labels, ["country", "region"])
    order = np.lexsort((label_rank[cell_label], group_rank[cell_gid]))
    cell_gid, cell_label = cell_gid[order], cell_label[order]
    table = pd.DataFrame({col: _take(group_values[col], cell_gid) for col in by})
    table["country"] = index.labels["country"].array.take(cell_label)
    table["region"] = index.labels["region"].array.take(cell_label)
    table["share"] = share[order]
    table["share_of"] = pd.array(["global"], dtype="string").take(np.zeros(len(cell_label), np.int64))
    table["hashrate_ehs"] = ehs[order]
    table["points"] = cell_pts[order]

    report = group_values.copy()
    for f, name in enumerate(_FATES):
        report[f"{name}_points"] = fate_pts[:, f]
        report[f"{name}_hashrate_ehs"] = (fate_num[:, f] / den).astype(np.float64) if n_groups else np.zeros(0)
    return table, AggregateReport(index.level, weight_unit, by, report, index.tolerance_km)


def _rank(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's place when ``frame`` is sorted by ``columns`` (missing values first; stable)."""
    rank = np.zeros(len(frame), np.int64)
    if columns and len(frame):
        order = frame.reset_index(drop=True).sort_values(columns, na_position="first", kind="stable").index.to_numpy()
        rank[order] = np.arange(len(frame))
    return rank


def _take(values: pd.Series, rows: np.ndarray) -> object:
    if isinstance(values.dtype, pd.StringDtype):
        return values.array.take(rows)
    return values.to_numpy()[rows]


def _group_values(sums: pd.DataFrame, gid: np.ndarray, n_groups: int, by: tuple[str, ...]) -> pd.DataFrame:
    """One row of group-column values per group id, in group-id (sorted) order."""
    if not by:
        return pd.DataFrame(index=range(n_groups))
    first = np.zeros(n_groups, np.int64)
    if len(gid):
        first[gid[::-1]] = np.arange(len(gid) - 1, -1, -1)
    return sums[list(by)].iloc[first].reset_index(drop=True)
