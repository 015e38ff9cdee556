"""Points → regional totals: millions of geolocated hasher records summed per region and group.

Two engines give **bit-identical** results on the same input:

* ``"incore"`` (default) streams :class:`~capacitymap.io.points.PointBatch` es through one process;
* ``"dask"`` sends the parts of a :class:`~capacitymap.io.points.PointSource` (Parquet row groups,
  CSV files) to a ``dask.distributed`` cluster, with the region index broadcast to every worker.

Rules (see ``docs/scale.md``):

* **Point in polygon.** A point belongs to a region whose polygon *intersects* it (boundary
  included). A point on a shared border, or in overlapping polygons, goes to the region whose code
  sorts first (``iso_3166_2`` at admin-1, ``iso_a2`` at country level); so ``CA-ON`` wins over
  ``US-MI`` and ``US-NM`` over ``US-TX``.
* **Country fallback.** At ``level="admin1"`` a point inside no admin-1 polygon but inside an admin-0
  polygon becomes a country-level row (``region`` <NA>): that covers countries the admin-1 layer does
  not, and gaps between its polygons. An admin-0 polygon without a two-letter ``iso_a2`` counts as
  :data:`~capacitymap.schema.OTHER_COUNTRY` (``"ZZ"``).
* **Nothing dropped silently.** Points in no polygon (sea) and points with a NaN coordinate are not
  in the table; they are counted, per group, in the :class:`AggregateReport`.
* **Shares.** ``share`` is the region's weight over *all* the group's weight, unmatched included
  (``share_of="global"``), so a group's shares sum to matched weight / total weight and what is
  unmatched is the visible remainder.
* **Exact sums.** Weights are summed exactly (integer arithmetic on the float64 mantissas) and
  rounded once, so the result does not depend on batch sizes, partitioning or order.
"""

from __future__ import annotations

import math
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from queue import Queue
from typing import Any, Final, Literal, get_args

import numpy as np
import pandas as pd
import shapely

from capacitymap.errors import BoundaryError, DataError, Problem
from capacitymap.io.points import COORDINATE_COLUMNS, PointBatch, PointSource, read_point_part
from capacitymap.schema import OTHER_COUNTRY

__all__ = [
    "Level",
    "LEVELS",
    "Engine",
    "ENGINES",
    "WeightUnit",
    "WEIGHT_UNITS",
    "AggregateReport",
    "RegionIndex",
    "build_region_index",
    "aggregate",
    "aggregate_points",
    "aggregate_dask",
]

Level = Literal["admin1", "country"]
LEVELS: Final[tuple[str, ...]] = get_args(Level)
Engine = Literal["incore", "dask"]
ENGINES: Final[tuple[str, ...]] = get_args(Engine)
WeightUnit = Literal["H/s", "TH/s", "PH/s", "EH/s"]
WEIGHT_UNITS: Final[tuple[str, ...]] = get_args(WeightUnit)
#: Powers of ten from the weight unit to EH/s (exact: the division happens on exact sums).
_UNIT_EXP_TO_EHS: Final[dict[str, int]] = {"H/s": 18, "TH/s": 6, "PH/s": 3, "EH/s": 0}

# Every point gets a target: 0..R-1 an admin-1 region, R..R+C-1 a country, then outside, then NaN.
_KIND_REGION, _KIND_COUNTRY = "region", "country"
_MANTISSA_SPLIT: Final = 26  # float64 mantissas (53 bits) as hi (27 bits) and lo (26 bits)
_EPS_CELL: Final = 1e-9
_MAX_PARTIAL_ROWS: Final = 1 << 24
_SHIFT: Final = 1074 + 53  # every exact sum is an integer over 2**_SHIFT


# --------------------------------------------------------------------------------------------
# Region index
# --------------------------------------------------------------------------------------------


class _PolygonLocator:
    """Vectorised point-in-polygon over polygons sorted by code; the first hit by rank wins.

    Points are bucketed into a uniform grid; each polygon's bounding box covers a few grid rows,
    each a contiguous run of the cell-sorted points, so the candidate (point, polygon) pairs come out
    of one ``np.repeat`` and are decided by one ``shapely.intersects_xy`` call on prepared polygons.
    """

    def __init__(self, geoms: np.ndarray):
        # Multipolygons are split into their parts (France's bounding box with its overseas
        # departments is the whole world; its parts' boxes are small); a part keeps its rank.
        parts, rank = shapely.get_parts(geoms, return_index=True) if len(geoms) else (np.zeros(0, object), np.zeros(0, np.int64))
        self.geoms = parts
        self.rank = rank.astype(np.int64)
        n = len(parts)
        self.bounds = shapely.bounds(parts) if n else np.zeros((0, 4))
        ok = np.isfinite(self.bounds).all(axis=1) if n else np.zeros(0, bool)
        if not ok.any():
            self.nx = self.ny = 0
            self._slice_part = np.zeros(0, np.int64)
            self._part_slices = np.zeros(1, np.int64)
            self._slice_lo = self._slice_hi = np.zeros(0, np.int64)
            return
        b = self.bounds[ok]
        self.x0, self.y0 = float(b[:, 0].min()), float(b[:, 1].min())
        self.x1, self.y1 = float(b[:, 2].max()), float(b[:, 3].max())
        width = max(self.x1 - self.x0, 1e-9)
        height = max(self.y1 - self.y0, 1e-9)
        # Cells of about a third of the median part extent, at most ~1M cells.
        med = max(float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))), 1e-9)
        cell = max(med / 3.0, math.sqrt(width * height / 1_000_000))
        self.nx = max(1, min(2048, math.ceil(width / cell)))
        self.ny = max(1, min(2048, math.ceil(height / cell)))
        self.dx, self.dy = width / self.nx, height / self.ny
        # Conservative cell ranges (the same monotone formula as for points, plus a margin).
        idx = np.flatnonzero(ok)
        i0 = self._col(self.bounds[idx, 0] - _EPS_CELL)
        i1 = self._col(self.bounds[idx, 2] + _EPS_CELL)
        j0 = self._row(self.bounds[idx, 1] - _EPS_CELL)
        j1 = self._row(self.bounds[idx, 3] + _EPS_CELL)
        rows = j1 - j0 + 1
        row = np.repeat(j0, rows) + _ramp(rows)
        self._slice_part = idx  # parts with a box; the slices of idx[k] are _part_slices[k]:[k+1]
        self._part_slices = np.r_[0, np.cumsum(rows)].astype(np.int64)
        self._slice_lo = row * self.nx + np.repeat(i0, rows)
        self._slice_hi = row * self.nx + np.repeat(i1, rows) + 1

    def _col(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((x - self.x0) / self.dx), 0, self.nx - 1).astype(np.int64)

    def _row(self, y: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((y - self.y0) / self.dy), 0, self.ny - 1).astype(np.int64)

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        shapely.prepare(self.geoms)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Rank of the first polygon (by code) intersecting each point, or -1. x, y finite."""
        n = len(x)
        out = np.full(n, -1, np.int64)
        if n == 0 or self.nx == 0:
            return out
        shapely.prepare(self.geoms)
        ncell = self.nx * self.ny
        # Cells use the same monotone formula as the polygons' cell ranges, so a point inside a
        # bounding box always lands in one of that polygon's cells; off-grid points get ncell.
        inside = (x >= self.x0) & (x <= self.x1) & (y >= self.y0) & (y <= self.y1)
        cell = np.where(inside, self._row(y) * self.nx + self._col(x), ncell).astype(np.int32)
        order = np.argsort(cell, kind="stable")
        xs, ys = x[order], y[order]
        starts = np.zeros(ncell + 2, np.int64)
        np.cumsum(np.bincount(cell, minlength=ncell + 1), out=starts[1:])
        lo_all = starts[self._slice_lo]
        hi_all = starts[self._slice_hi]
        counts = hi_all - lo_all
        per_part = np.add.reduceat(counts, self._part_slices[:-1]) if len(counts) else np.zeros(0, np.int64)
        busy = np.flatnonzero(per_part > 0)
        lo, hi = lo_all.tolist(), hi_all.tolist()
        bounds = self._part_slices.tolist()
        geoms, rank = self.geoms, self.rank
        # Highest rank first: a lower rank (code sorts first) overwrites, so it wins on borders.
        for k in busy[::-1].tolist():
            runs = [(lo[s], hi[s]) for s in range(bounds[k], bounds[k + 1]) if hi[s] > lo[s]]
            if len(runs) == 1:
                (r0, r1), = runs
                cx, cy, ci = xs[r0:r1], ys[r0:r1], order[r0:r1]
            else:
                cx = np.concatenate([xs[r0:r1] for r0, r1 in runs])
                cy = np.concatenate([ys[r0:r1] for r0, r1 in runs])
                ci = np.concatenate([order[r0:r1] for r0, r1 in runs])
            part = self._slice_part[k]
            hit = shapely.intersects_xy(geoms[part], cx, cy)
            out[ci[hit]] = rank[part]
        return out


def _ramp(lengths: np.ndarray) -> np.ndarray:
    """0..len-1 for each length, concatenated (``np.arange`` per run, vectorised)."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)


@dataclass(frozen=True)
class RegionIndex:
    """The region layers prepared for point lookup; build with :func:`build_region_index`.

    Picklable (the Dask engine broadcasts it to its workers). Targets are the admin-1 polygons by
    code, then the admin-0 polygons by code, then :attr:`outside`, then :attr:`nan`; ``label_of``
    maps a target to a row of ``labels`` (``country``, ``region``, ``kind``), -1 for the last two.
    """

    level: str
    regions: _PolygonLocator | None
    countries: _PolygonLocator | None
    labels: pd.DataFrame
    label_of: np.ndarray
    n_regions: int
    n_countries: int

    @property
    def outside(self) -> int:
        return self.n_regions + self.n_countries

    @property
    def nan(self) -> int:
        return self.n_regions + self.n_countries + 1

    @property
    def n_targets(self) -> int:
        return self.n_regions + self.n_countries + 2

    def locate(self, latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
        """Target of each point: region rank, R + country rank, :attr:`outside` or :attr:`nan`."""
        lat = np.asarray(latitude, dtype=np.float64)
        lon = np.asarray(longitude, dtype=np.float64)
        target = np.full(len(lat), self.nan, np.int64)
        finite = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        x, y = lon[finite], lat[finite]
        got = np.full(len(finite), -1, np.int64)
        if self.regions is not None:
            got = self.regions.locate(x, y)
        if self.countries is not None:
            rest = np.flatnonzero(got < 0)
            c = self.countries.locate(x[rest], y[rest])
            got[rest] = np.where(c >= 0, c + self.n_regions, -1)
        target[finite] = np.where(got >= 0, got, self.outside)
        return target


def build_region_index(
    admin1: Any | None = None,
    admin0: Any | None = None,
    *,
    level: Level = "admin1",
) -> RegionIndex:
    """Prepare the boundary layers (GeoDataFrames, EPSG:4326) for point lookup.

    ``level="admin1"`` needs ``admin1`` (``iso_3166_2``, ``iso_a2``, geometry); ``admin0``
    (``iso_a2``, geometry) is optional and gives the country fallback. ``level="country"`` needs
    ``admin0`` and ignores ``admin1``. Geometries are used as they are (never simplified).
    """
    if level not in LEVELS:
        raise ValueError(f"level: expected one of {LEVELS!r}, got {level!r}; use 'admin1' or 'country'")
    if level == "admin1" and admin1 is None:
        raise BoundaryError("level 'admin1' expected an admin-1 layer, got None; pass read_admin1() or use level='country'")
    if level == "country" and admin0 is None:
        raise BoundaryError("level 'country' expected an admin-0 layer, got None; pass read_admin0()")
    label_rows: list[tuple[str, str | None, str]] = []
    target_labels: list[tuple[str, str | None, str]] = []
    regions = countries = None
    n_regions = n_countries = 0
    if level == "admin1":
        layer = _checked_layer(admin1, ("iso_3166_2", "iso_a2"), "admin-1")
        layer = layer.assign(_code=layer["iso_3166_2"].astype(str)).sort_values("_code", kind="stable")
        regions = _PolygonLocator(_polygons(layer, "admin-1"))
        n_regions = len(layer)
        target_labels += [(c, r, _KIND_REGION) for c, r in zip(_country_codes(layer["iso_a2"]), layer["_code"])]
    if admin0 is not None:
        layer = _checked_layer(admin0, ("iso_a2",), "admin-0")
        layer = layer.assign(_code=_country_codes(layer["iso_a2"])).sort_values("_code", kind="stable")
        countries = _PolygonLocator(_polygons(layer, "admin-0"))
        n_countries = len(layer)
        target_labels += [(c, None, _KIND_COUNTRY) for c in layer["_code"]]
    seen: dict[tuple[str, str | None, str], int] = {}
    label_of = np.full(n_regions + n_countries + 2, -1, np.int64)
    for t, lab in enumerate(target_labels):
        label_of[t] = seen.setdefault(lab, len(seen))
    label_rows = list(seen)
    labels = pd.DataFrame(label_rows, columns=["country", "region", "kind"])
    labels = labels.astype({"country": "string", "region": "string", "kind": "string"})
    return RegionIndex(level, regions, countries, labels, label_of, n_regions, n_countries)


def _polygons(layer: Any, what: str) -> np.ndarray:
    geoms = np.asarray(layer.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    bad = ~np.isin(types, (3, 6)) & ~shapely.is_missing(geoms)  # Polygon, MultiPolygon
    if bad.any():
        got = sorted({shapely.get_type_id(g) for g in geoms[bad]})
        raise BoundaryError(f"the {what} layer: expected Polygon or MultiPolygon geometries, got geometry type ids {got!r}; give a polygon layer")
    return geoms


def _checked_layer(layer: Any, columns: tuple[str, ...], what: str) -> Any:
    if not hasattr(layer, "geometry") or not hasattr(layer, "columns"):
        raise BoundaryError(f"the {what} layer: expected a GeoDataFrame, got {type(layer).__name__!r}; read it with capacitymap.io.boundaries")
    missing = [c for c in columns if c not in layer.columns]
    if missing:
        raise BoundaryError(f"the {what} layer: expected columns {missing!r}, got {[c for c in layer.columns if c != 'geometry']!r}; read it with capacitymap.io.boundaries")
    crs = getattr(layer, "crs", None)
    if crs is not None and crs.to_epsg() != 4326:
        raise BoundaryError(f"the {what} layer: expected EPSG:4326, got {crs.to_string()!r}; reproject it with .to_crs(4326)")
    if what == "admin-1":
        codes = layer["iso_3166_2"].astype(str)
        if codes.duplicated().any():
            dup = sorted(set(codes[codes.duplicated()]))[:5]
            raise BoundaryError(f"the {what} layer: expected unique iso_3166_2 codes, got duplicates {dup!r}; dissolve them first")
    return layer


def _country_codes(codes: pd.Series) -> np.ndarray:
    text = codes.astype("string").fillna("").str.strip().str.upper()
    return text.where(text.str.fullmatch(r"[A-Z]{2}").fillna(False), OTHER_COUNTRY).astype(str).to_numpy()


# --------------------------------------------------------------------------------------------
# Exact partial sums
# --------------------------------------------------------------------------------------------

_PARTIAL_INT = ("points", "hi", "lo")


def _partial(frame: pd.DataFrame, target: np.ndarray, weight: np.ndarray, by: tuple[str, ...], n_targets: int) -> pd.DataFrame:
    """Counts and exact weight sums per (group, target, binary exponent) of one batch."""
    n = len(target)
    if by:
        gid, groups = _group_ids(frame, by)
    else:
        gid, groups = np.zeros(n, np.int64), pd.DataFrame(index=[0])
    mant, exp = np.frexp(weight)
    m = (mant * float(1 << 53)).astype(np.int64)
    hi = (m >> _MANTISSA_SPLIT).astype(np.float64)
    lo = (m & ((1 << _MANTISSA_SPLIT) - 1)).astype(np.float64)
    emin = int(exp.min()) if n else 0
    ne = int(exp.max()) - emin + 1 if n else 1
    key = (gid * n_targets + target) * ne + (exp - emin)
    codes, uniq = pd.factorize(key)
    k = len(uniq)
    # float64 sums of integers below 2**53 are exact: at most 2**26 rows of 27-bit halves.
    out = pd.DataFrame({
        "points": np.bincount(codes, minlength=k).astype(np.int64),
        "hi": np.bincount(codes, weights=hi, minlength=k).astype(np.int64),
        "lo": np.bincount(codes, weights=lo, minlength=k).astype(np.int64),
        "exp": (uniq % ne + emin).astype(np.int64),
        "target": ((uniq // ne) % n_targets).astype(np.int64),
    })
    g = uniq // ne // n_targets
    for col in by:
        out[col] = groups[col].to_numpy()[g]
    return out


def _group_ids(frame: pd.DataFrame, by: tuple[str, ...]) -> tuple[np.ndarray, pd.DataFrame]:
    combined = np.zeros(len(frame), np.int64)
    uniques = []
    for col in by:
        c, u = pd.factorize(frame[col], use_na_sentinel=False)
        combined = combined * max(len(u), 1) + c
        uniques.append(u)
    gid, first = pd.factorize(combined)
    sizes = [max(len(u), 1) for u in uniques]
    idx = np.unravel_index(np.asarray(first, dtype=np.int64), sizes) if by else ()
    groups = pd.DataFrame({col: np.asarray(u, dtype=object)[i] for col, u, i in zip(by, uniques, idx)})
    return gid.astype(np.int64), groups


def _combine(partials: list[pd.DataFrame], by: tuple[str, ...]) -> pd.DataFrame:
    """Sum partials exactly (int64) by (group, target, exponent); the order never matters."""
    frames = [p for p in partials if len(p)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in (*_PARTIAL_INT, "exp", "target")} | {c: pd.Series(dtype=object) for c in by})
    cat = pd.concat(frames, ignore_index=True)
    keys = [*by, "target", "exp"]
    return cat.groupby(keys, sort=True, dropna=False, observed=True)[list(_PARTIAL_INT)].sum().reset_index()


class _Accumulator:
    """Partials of many batches, compacted every few batches so memory stays bounded."""

    def __init__(self, by: tuple[str, ...]):
        self.by = by
        self.partials: list[pd.DataFrame] = []
        self.rows = 0

    def add(self, partial: pd.DataFrame) -> None:
        self.partials.append(partial)
        self.rows += len(partial)
        if len(self.partials) >= 16:
            self.partials = [_combine(self.partials, self.by)]

    def result(self) -> pd.DataFrame:
        return _combine(self.partials, self.by)


def _check_batch(file: str, first_line: int, lat: np.ndarray, lon: np.ndarray, w: np.ndarray, weight: str) -> None:
    problems: list[Problem] = []
    checks = (
        (weight, w, ~(np.isfinite(w) & (w >= 0)), "expected a finite hashrate >= 0, got {v!r}; fix the value or remove the row"),
        ("latitude", lat, np.abs(lat) > 90, "expected a latitude in [-90, 90] degrees WGS84, got {v!r}; are the coordinates projected or swapped? reproject to EPSG:4326"),
        ("longitude", lon, np.abs(lon) > 180, "expected a longitude in [-180, 180] degrees WGS84, got {v!r}; are the coordinates projected? reproject to EPSG:4326"),
    )
    for column, values, bad, message in checks:
        rows = np.flatnonzero(bad)
        for i in rows[:10]:
            problems.append(Problem(file, first_line + int(i), column, message.format(v=float(values[i]))))
        if len(rows) > 10:
            problems.append(Problem(file, None, column, f"{len(rows) - 10} more rows like these in the batch from line {first_line}"))
    if problems:
        raise DataError(problems)


def _batch_partial(batch: PointBatch | pd.DataFrame, index: RegionIndex, weight: str, by: tuple[str, ...]) -> pd.DataFrame:
    if isinstance(batch, PointBatch):
        file, first, frame = batch.file, batch.first_line, batch.frame
    else:
        file, first, frame = "<points>", 1, batch
    missing = [c for c in (*COORDINATE_COLUMNS, weight, *by) if c not in frame.columns]
    if missing:
        raise DataError(Problem(file, None, None, f"expected columns {missing!r}, got {list(frame.columns)!r}; rename them or pass other weight=/by="))
    lat = np.asarray(frame["latitude"], dtype=np.float64)
    lon = np.asarray(frame["longitude"], dtype=np.float64)
    w = np.asarray(frame[weight], dtype=np.float64)
    _check_batch(file, first, lat, lon, w, weight)
    if len(frame) <= _MAX_PARTIAL_ROWS:
        return _partial(frame, index.locate(lat, lon), w, by, index.n_targets)
    # The float64 bincounts in _partial are exact up to 2**26 rows: cut bigger frames.
    pieces = []
    for a in range(0, len(frame), _MAX_PARTIAL_ROWS):
        b = a + _MAX_PARTIAL_ROWS
        pieces.append(_partial(frame.iloc[a:b], index.locate(lat[a:b], lon[a:b]), w[a:b], by, index.n_targets))
    return _combine(pieces, by)


# --------------------------------------------------------------------------------------------
# Report and table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregateReport:
    """Where every input point went, per group.

    ``groups`` has the group columns, then for each fate ``<fate>_points`` and
    ``<fate>_hashrate_ehs``: ``total`` (all input), ``region`` (in an admin-1 region), ``country``
    (country-level rows: level ``"country"``, or the admin-0 fallback), ``outside`` (in no polygon:
    sea, unmapped land) and ``nan`` (a NaN coordinate). ``region + country + outside + nan == total``.
    """

    level: str
    weight_unit: str
    by: tuple[str, ...]
    groups: pd.DataFrame = field(repr=False)

    def _total(self, column: str) -> Any:
        return self.groups[column].sum() if len(self.groups) else 0

    @property
    def points(self) -> int:
        return int(self._total("total_points"))

    @property
    def matched_points(self) -> int:
        return int(self._total("region_points") + self._total("country_points"))

    @property
    def outside_points(self) -> int:
        return int(self._total("outside_points"))

    @property
    def nan_points(self) -> int:
        return int(self._total("nan_points"))

    @property
    def hashrate_ehs(self) -> float:
        return float(self._total("total_hashrate_ehs"))

    @property
    def matched_hashrate_ehs(self) -> float:
        return float(self._total("region_hashrate_ehs") + self._total("country_hashrate_ehs"))

    @property
    def outside_hashrate_ehs(self) -> float:
        return float(self._total("outside_hashrate_ehs"))

    @property
    def nan_hashrate_ehs(self) -> float:
        return float(self._total("nan_hashrate_ehs"))

    def summary(self) -> str:
        """A few lines a person reads after a run."""
        lines = [f"{self.points:,} points, {self.hashrate_ehs:.6g} EH/s in {len(self.groups):,} group(s) at level {self.level}"]
        for fate, what in (("region", "in an admin-1 region"), ("country", "country-level rows"),
                           ("outside", "in no region (not in the table)"), ("nan", "NaN coordinates (not in the table)")):
            pts = int(self._total(f"{fate}_points"))
            if pts or fate in ("outside", "nan"):
                lines.append(f"  {pts:,} points, {float(self._total(f'{fate}_hashrate_ehs')):.6g} EH/s {what}")
        return "\n".join(lines)


_FATES = ("total", "region", "country", "outside", "nan")


def _finish(sums: pd.DataFrame, index: RegionIndex, by: tuple[str, ...], weight_unit: str) -> tuple[pd.DataFrame, AggregateReport]:
    """Exact sums per (group, target, exponent) → the hashrate table and the report.

    Every sum is a Python integer numerator over ``2**_SHIFT`` (numpy object arrays, so the loops
    run in C); shares and EH/s are one correctly rounded division each, so they do not depend on
    how the points were split into batches or parts.
    """
    den = (1 << _SHIFT) * 10 ** _UNIT_EXP_TO_EHS[weight_unit]
    if by and len(sums):
        gid = sums.groupby(list(by), dropna=False, sort=True, observed=True).ngroup().to_numpy(np.int64)
    else:
        gid = np.zeros(len(sums), np.int64)
    n_groups = int(gid.max()) + 1 if len(gid) else 0
    target = sums["target"].to_numpy(np.int64)
    label = index.label_of[target]
    kind_code = np.where(index.labels["kind"].to_numpy() == _KIND_REGION, 0, 1)
    fate = np.where(target == index.nan, 4, np.where(target == index.outside, 3, 0))
    has_label = label >= 0
    fate[has_label] = 1 + kind_code[label[has_label]]  # 1 region, 2 country
    mant = (sums["hi"].to_numpy(np.int64).astype(object) << _MANTISSA_SPLIT) + sums["lo"].to_numpy(np.int64).astype(object)
    num = np.left_shift(mant, (sums["exp"].to_numpy(np.int64) - 53 + _SHIFT).astype(object))
    pts = sums["points"].to_numpy(np.int64)

    # Per group and fate (0 = total): exact numerators and point counts.
    fate_num = np.zeros((n_groups, len(_FATES)), dtype=object)
    fate_pts = np.zeros((n_groups, len(_FATES)), dtype=np.int64)
    for f in range(1, len(_FATES)):
        sel = fate == f
        fate_num[:, f] = _sum_by(gid[sel], num[sel], n_groups, zero=0)
        fate_pts[:, f] = _int_sum_by(gid[sel], pts[sel], n_groups)
    fate_num[:, 0] = fate_num[:, 1:].sum(axis=1) if n_groups else fate_num[:, 0]
    fate_pts[:, 0] = fate_pts[:, 1:].sum(axis=1)

    # Per (group, label): the table rows.
    n_labels = len(index.labels)
    cell = gid[has_label] * max(n_labels, 1) + label[has_label]
    cells, inverse = np.unique(cell, return_inverse=True)
    cell_num = _sum_by(inverse, num[has_label], len(cells), zero=0)
    cell_pts = _int_sum_by(inverse, pts[has_label], len(cells))
    cell_gid, cell_label = cells // max(n_labels, 1), cells % max(n_labels, 1)
    totals = fate_num[cell_gid, 0]
    nonzero = totals != 0
    share = np.full(len(cells), math.nan)
    share[nonzero] = (cell_num[nonzero] / totals[nonzero]).astype(np.float64)
    ehs = (cell_num / den).astype(np.float64) if len(cells) else np.zeros(0)

    group_values = _group_values(sums, gid, n_groups, by)
    table = pd.DataFrame({col: group_values[col].to_numpy()[cell_gid] for col in by})
    table["country"] = pd.array(index.labels["country"].to_numpy()[cell_label], dtype="string")
    table["region"] = pd.array(index.labels["region"].to_numpy()[cell_label], dtype="string")
    table["share"] = share
    table["share_of"] = pd.array(["global"] * len(table), dtype="string")
    table["hashrate_ehs"] = ehs
    table["points"] = cell_pts
    table = table.sort_values([*by, "country", "region"], na_position="first", kind="stable").reset_index(drop=True)

    report = group_values.copy()
    for f, name in enumerate(_FATES):
        report[f"{name}_points"] = fate_pts[:, f]
        report[f"{name}_hashrate_ehs"] = (fate_num[:, f] / den).astype(np.float64) if n_groups else np.zeros(0)
    for frame in (table, report):
        for col in by:
            if frame[col].dtype == object:
                frame[col] = frame[col].astype("string")
    return table, AggregateReport(index.level, weight_unit, by, report)


def _sum_by(codes: np.ndarray, values: np.ndarray, n: int, *, zero: Any) -> np.ndarray:
    """Sum an object array (Python ints) by integer code, exactly."""
    out = np.full(n, zero, dtype=object)
    if len(codes):
        np.add.at(out, codes, values)
    return out


def _int_sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, np.int64)
    if len(codes):
        np.add.at(out, codes, values)
    return out


def _group_values(sums: pd.DataFrame, gid: np.ndarray, n_groups: int, by: tuple[str, ...]) -> pd.DataFrame:
    """One row of group-column values per group id, in group-id (sorted) order."""
    if not by:
        return pd.DataFrame(index=range(n_groups))
    first = np.zeros(n_groups, np.int64)
    if len(gid):
        first[gid[::-1]] = np.arange(len(gid) - 1, -1, -1)
    return sums[list(by)].iloc[first].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------

Progress = Callable[[int], None]


def aggregate_points(
    batches: Iterable[PointBatch | pd.DataFrame],
    index: RegionIndex,
    *,
    weight: str,
    by: Sequence[str] = (),
    weight_unit: WeightUnit = "TH/s",
    quiet: bool = True,
    total: int | None = None,
    progress: Progress | None = None,
    threads: int = 2,
) -> tuple[pd.DataFrame, AggregateReport]:
    """The in-core engine: stream batches of points through one process.

    ``batches`` are :class:`~capacitymap.io.points.PointBatch` es (``PointSource.batches()``) or
    DataFrames with ``latitude``, ``longitude``, the ``weight`` column and the ``by`` columns.
    Returns the hashrate table (``*by, country, region, share, share_of, hashrate_ehs, points``)
    and the :class:`AggregateReport`. ``threads`` batches are located at once (shapely and numpy
    release the GIL; the result does not depend on it). ``quiet=False`` shows a tqdm bar on stderr (``total`` points
    if known); ``progress`` is called with the number of points of each finished batch.
    """
    by_t = _check_options(weight, by, weight_unit)
    if threads < 1:
        raise ValueError(f"threads: expected 1 or more, got {threads!r}; use 1 for no threading")
    acc = _Accumulator(by_t)
    # GEOS prepared geometries are not safe to share between threads (they build their indexes
    # lazily): each thread borrows its own copy of the index (a few MB) from this queue.
    copies: Queue[RegionIndex] = Queue()
    copies.put(index)
    for _ in range(threads - 1):
        copies.put(pickle.loads(pickle.dumps(index)))
    with _progress_bar(quiet, total) as bar, ThreadPoolExecutor(max_workers=threads) as pool:
        # At most threads + 1 batches in flight, so memory stays bounded. Sums are exact, so the
        # order in which batches finish does not matter; they are added in input order anyway.
        pending: deque[Future[tuple[pd.DataFrame, int]]] = deque()
        for batch in batches:
            pending.append(pool.submit(_sized_partial, batch, copies, weight, by_t))
            if len(pending) > threads:
                _drain(pending.popleft(), acc, bar, progress)
        while pending:
            _drain(pending.popleft(), acc, bar, progress)
    return _finish(acc.result(), index, by_t, weight_unit)


def _sized_partial(batch: PointBatch | pd.DataFrame, copies: Queue[RegionIndex], weight: str, by: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
    done = len(batch.frame) if isinstance(batch, PointBatch) else len(batch)
    index = copies.get()
    try:
        return _batch_partial(batch, index, weight, by), done
    finally:
        copies.put(index)


def _drain(future: Future[tuple[pd.DataFrame, int]], acc: _Accumulator, bar: Callable[[int], None], progress: Progress | None) -> None:
    partial, done = future.result()
    acc.add(partial)
    bar(done)
    if progress is not None:
        progress(done)


def aggregate_dask(
    source: PointSource,
    index: RegionIndex,
    *,
    weight_unit: WeightUnit = "TH/s",
    scheduler: str | Any | None = None,
    n_workers: int = 2,
    connect_timeout: float = 20.0,
    quiet: bool = True,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, AggregateReport]:
    """The Dask engine: one task per part (Parquet row group, CSV file) on a distributed cluster.

    ``scheduler`` is ``None`` (a ``LocalCluster`` of ``n_workers`` single-threaded worker
    processes, closed afterwards), a scheduler address (``"tcp://10.0.0.5:8786"``) or a
    ``distributed.Client``. The region index is scattered to every worker once; each worker reads
    its parts itself (the paths must be readable there) and returns exact partial sums, so the
    result is identical to :func:`aggregate_points` on the same files.
    """
    by_t = _check_options(source.weight, source.by, weight_unit)
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise _missing_dask(exc) from exc
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=50)
        client = Client(cluster)
    elif isinstance(scheduler, str):
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
        except OSError as exc:
            raise DataError(Problem("<scheduler>", None, None, f"expected a reachable Dask scheduler, got {scheduler!r} ({exc}); start 'dask scheduler' there or check the address")) from exc
    else:
        client = scheduler
    try:
        index_future = client.scatter(index, broadcast=True, hash=False)
        futures = [
            client.submit(_part_partial, part, index_future, source.weight, by_t, source.batch_size, pure=False)
            for part in source.parts
        ]
        partials: dict[int, pd.DataFrame] = {}
        position = {f.key: i for i, f in enumerate(futures)}
        with _progress_bar(quiet, source.rows) as bar:
            for future in as_completed(futures):
                status, value, count = future.result()
                if status == "error":
                    for f in futures:
                        f.cancel()
                    raise DataError(value)
                partials[position[future.key]] = value
                bar(count)
                if progress is not None:
                    progress(count)
        sums = _combine([partials[i] for i in range(len(futures))], by_t)
    finally:
        if client is not scheduler:
            client.close()
        if cluster is not None:
            cluster.close()
    return _finish(sums, index, by_t, weight_unit)


def _part_partial(part: Any, index: RegionIndex, weight: str, by: tuple[str, ...], batch_size: int) -> tuple[str, Any, int]:
    """Runs on a worker: read one part (io.points) and sum it. DataErrors travel back as values."""
    acc = _Accumulator(by)
    count = 0
    try:
        for batch in read_point_part(part, weight=weight, by=by, batch_size=batch_size):
            acc.add(_batch_partial(batch, index, weight, by))
            count += len(batch.frame)
    except DataError as exc:
        return "error", exc.problems, count
    return "ok", acc.result(), count


def aggregate(
    source: PointSource,
    admin1: Any | None = None,
    admin0: Any | None = None,
    *,
    level: Level = "admin1",
    engine: Engine = "incore",
    weight_unit: WeightUnit = "TH/s",
    scheduler: str | Any | None = None,
    quiet: bool = True,
) -> tuple[pd.DataFrame, AggregateReport]:
    """Sum point records to regions: what ``capacitymap aggregate`` runs.

    ``source`` comes from :func:`capacitymap.io.points.open_points` (paths, ``weight``, ``by``);
    ``admin1``/``admin0`` from :mod:`capacitymap.io.boundaries`. ``engine`` is ``"incore"``
    (default) or ``"dask"`` (with ``scheduler``: None for a local 2-worker cluster, or an address).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine: expected one of {ENGINES!r}, got {engine!r}; use 'incore' or 'dask'")
    if scheduler is not None and engine != "dask":
        raise ValueError(f"scheduler: expected None with engine {engine!r}, got {scheduler!r}; add engine='dask' (--engine dask)")
    index = build_region_index(admin1, admin0, level=level)
    if engine == "dask":
        return aggregate_dask(source, index, weight_unit=weight_unit, scheduler=scheduler, quiet=quiet)
    return aggregate_points(source.batches(), index, weight=source.weight, by=source.by,
                            weight_unit=weight_unit, quiet=quiet, total=source.rows)


def _check_options(weight: str, by: Sequence[str], weight_unit: str) -> tuple[str, ...]:
    if weight_unit not in WEIGHT_UNITS:
        raise ValueError(f"weight_unit: expected one of {WEIGHT_UNITS!r}, got {weight_unit!r}; say the unit of the weight column")
    by_t = tuple(by)
    clash = [c for c in by_t if c in (*COORDINATE_COLUMNS, weight) or c in ("country", "region", "share", "share_of", "hashrate_ehs", "points")]
    if clash or len(set(by_t)) != len(by_t):
        raise ValueError(f"by: expected distinct group columns other than the coordinates, the weight and the output columns, got {list(by_t)!r}; group by columns such as month and pool")
    return by_t


def _missing_dask(exc: ImportError) -> ImportError:
    return ImportError(f"engine 'dask' expected dask.distributed to be installed, got {exc}; pip install 'capacitymap[scale]'")


class _progress_bar:
    """A tqdm bar on stderr unless quiet; called with the points just done."""

    def __init__(self, quiet: bool, total: int | None):
        self.quiet, self.total, self.bar = quiet, total, None

    def __enter__(self) -> Callable[[int], None]:
        if not self.quiet:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, unit="pt", unit_scale=True, desc="aggregate", leave=False)
            return self.bar.update
        return lambda n: None

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
