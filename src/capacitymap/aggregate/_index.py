"""The region index: which target each point goes to, the same way at every level.

Targets, in rank order (a lower rank wins where polygons overlap or touch):

1. the admin-1 regions, by ``iso_3166_2``; their country is the code's prefix (``CN-GD`` -> ``CN``);
2. the admin-0 countries that have **no** region in the admin-1 layer, by ``iso_a2`` (an admin-0
   polygon without a two-letter code counts as ``ZZ``). The admin-0 polygons of countries the
   admin-1 layer covers are not used: there, the admin-1 layer says which country a point is in.

A point inside a target polygon goes to the first-ranked one. A point in none goes to the nearest
target within ``tolerance_km`` (geodesic, as :mod:`capacitymap.join` places facilities): placed
"nearest". Otherwise it is unplaced. NaN coordinates are unplaced too, and counted apart.

Placement does not depend on the level: ``level`` only decides the labels (admin-1 regions keep
their code at ``"admin1"``; at ``"country"`` every target is its country). So a point has the same
country at both levels, and country totals agree by construction.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import shapely

from capacitymap.aggregate._raster import BOUNDARY, DEFAULT_MAX_CELLS, NEAR, Raster, build_raster
from capacitymap.errors import BoundaryError, OptionError
from capacitymap.join import NearestRule, ramp
from capacitymap.schema import OTHER_COUNTRY
from capacitymap.vocab import LEVELS, Level

__all__ = ["Level", "LEVELS", "TOLERANCE_KM", "RegionIndex", "build_region_index", "UNPLACED_COUNTRY"]

#: Points this close to a target polygon (but in none) go to the nearest one (the facilities' rule).
TOLERANCE_KM: Final = 25.0
#: The table row of unplaced points: CCAF's "Other" country, no region.
UNPLACED_COUNTRY: Final = OTHER_COUNTRY

# Fates of a target, for the report.
FATE_REGION, FATE_COUNTRY, FATE_OUTSIDE, FATE_NAN = 1, 2, 3, 4
_EPS_CELL: Final = 1e-9
#: Distinct coordinates whose exact placement a placer remembers.
MEMO_SIZE: Final = 1 << 18


class _PolygonLocator:
    """Exact, vectorised point-in-polygon over polygons in rank order; the first hit by rank wins.

    Points are bucketed into a uniform grid; each polygon part's bounding box covers a few grid rows,
    each a contiguous run of the cell-sorted points, which one ``shapely.intersects_xy`` call on the
    prepared part decides. Parts are visited from the last rank to the first, so the first overwrites.
    """

    def __init__(self, parts: np.ndarray, rank: np.ndarray):
        # Multipolygons come split into their parts (France's bounding box with its overseas
        # departments is the whole world; its parts' boxes are small); a part keeps its rank.
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
        row = np.repeat(j0, rows) + ramp(rows)
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
        # Every (part, point) pair whose grid cells meet, then one vectorised test of them all.
        busy = np.flatnonzero(counts > 0)
        if len(busy) == 0:
            return out
        k_of_slice = np.repeat(np.arange(len(self._part_slices) - 1), np.diff(self._part_slices))
        pair_part = np.repeat(self._slice_part[k_of_slice[busy]], counts[busy])
        pair_pos = np.repeat(lo_all[busy], counts[busy]) + ramp(counts[busy])
        hit = shapely.intersects_xy(self.geoms[pair_part], xs[pair_pos], ys[pair_pos])
        # The first polygon by rank (code) wins on shared borders and overlaps.
        best = np.full(n, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(best, order[pair_pos[hit]], self.rank[pair_part[hit]])
        found = best != np.iinfo(np.int64).max
        out[found] = best[found]
        return out


class _Memo:
    """Exact placements of distinct coordinates, remembered: an open-addressing hash table in numpy arrays.

    Geolocation databases give the same city coordinates to many records, so the points that need
    an exact test are mostly coordinates seen before. Looking them up is a few vectorised probes of
    the table (no Python loop per coordinate). The table is copied on write (an insert builds new
    arrays and swaps one reference), so threads read it without a lock.
    """

    def __init__(self, capacity: int = MEMO_SIZE):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._table = self._empty(1 << 12)
        self.size = 0

    @staticmethod
    def _empty(slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # (x, y, target, km); an empty slot has a NaN x (every key is finite).
        return np.full(slots, np.nan), np.zeros(slots), np.zeros(slots, np.int64), np.zeros(slots)

    def __len__(self) -> int:
        return self.size

    @staticmethod
    def _home(x: np.ndarray, y: np.ndarray, bits: int) -> np.ndarray:
        h = x.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h ^= y.view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        return (h >> np.uint64(64 - bits)).astype(np.int64)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For coordinates (finite; ``-0.0`` given as ``0.0``): found?, target, km."""
        tx, ty, tt, tk = self._table
        n = len(x)
        found = np.zeros(n, bool)
        target = np.zeros(n, np.int64)
        km = np.full(n, np.nan)
        if self.size == 0 or n == 0:
            return found, target, km
        bits = len(tx).bit_length() - 1
        mask = len(tx) - 1
        todo = np.arange(n)
        slot = self._home(x, y, bits)
        while len(todo):
            kx = tx[slot]
            hit = (kx == x[todo]) & (ty[slot] == y[todo])
            if hit.any():
                at, s = todo[hit], slot[hit]
                found[at], target[at], km[at] = True, tt[s], tk[s]
            go_on = ~hit & ~np.isnan(kx)  # an empty slot ends the probe: not known
            todo, slot = todo[go_on], (slot[go_on] + 1) & mask
        return found, target, km

    def insert(self, x: np.ndarray, y: np.ndarray, target: np.ndarray, km: np.ndarray) -> None:
        """Remember distinct coordinates (not yet known) while there is room."""
        with self._lock:
            room = self.capacity - self.size
            if room <= 0 or len(x) == 0:
                return
            x, y, target, km = x[:room], y[:room], target[:room], km[:room]
            tx, ty, tt, tk = self._table
            # Keep these distinct from keys already there (another thread may have added them).
            known = self.lookup(x, y)[0]
            keep = ~known
            x, y, target, km = x[keep], y[keep], target[keep], km[keep]
            size = self.size + len(x)
            slots = len(tx)
            while 4 * size > slots:  # load at most 1/4: short probes
                slots *= 2
            table = self._empty(slots)
            old = np.flatnonzero(~np.isnan(tx))
            self._fill(table, np.r_[tx[old], x], np.r_[ty[old], y], np.r_[tt[old], target], np.r_[tk[old], km])
            self._table, self.size = table, size

    def _fill(self, table: tuple[np.ndarray, ...], x: np.ndarray, y: np.ndarray, target: np.ndarray, km: np.ndarray) -> None:
        tx, ty, tt, tk = table
        bits = len(tx).bit_length() - 1
        mask = len(tx) - 1
        todo = np.arange(len(x))
        slot = self._home(x, y, bits)
        while len(todo):
            free = np.isnan(tx[slot])
            # Of the keys that want the same free slot, the first takes it; the others probe on.
            cand = np.flatnonzero(free)
            _, first = np.unique(slot[cand], return_index=True)
            win = cand[first]
            s, at = slot[win], todo[win]
            tx[s], ty[s], tt[s], tk[s] = x[at], y[at], target[at], km[at]
            placed = np.zeros(len(todo), bool)
            placed[win] = True
            todo, slot = todo[~placed], (slot[~placed] + 1) & mask


def _exact_path(parts: np.ndarray, part_target: np.ndarray, tolerance_km: float) -> tuple[_PolygonLocator, NearestRule]:
    """The locator and the nearest rule, with GEOS's lazily built indexes built now (not in the first batch, under its lock)."""
    locator = _PolygonLocator(parts, part_target)
    nearest = NearestRule(parts, part_target, tolerance_km)
    geoms = locator.geoms
    if len(geoms):
        shapely.prepare(geoms)
        b = locator.bounds
        ok = np.flatnonzero(np.isfinite(b).all(axis=1))
        # One test per part builds its prepared point-in-polygon index; one query builds the tree.
        shapely.intersects_xy(geoms[ok], (b[ok, 0] + b[ok, 2]) / 2, (b[ok, 1] + b[ok, 3]) / 2)
        nearest.tree.query(shapely.box(0.0, 0.0, 0.0, 0.0))
    return locator, nearest


def _without_gc(func: Any, *args: Any) -> Any:
    """``func(*args)`` with Python's cyclic garbage collector paused (and then as it was).

    The exact path makes tens of thousands of short-lived shapely geometries; each few hundred
    start a collection that walks every object of the process (the boundary layers included):
    measured, a third of the exact path's time. Nothing it makes holds a reference cycle.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        return func(*args)
    finally:
        if was:
            gc.enable()


class _Placer:
    """The level-independent part of an index: raster, exact locator and nearest rule over the targets.

    Most points are placed by the raster. The others (in a cell that a boundary crosses, or near a
    polygon) are placed exactly, once per distinct coordinate: geolocation databases give the same
    city coordinates to many records, so the answers are remembered (up to :data:`MEMO_SIZE`
    coordinates) for the rest of the run and later runs in this process.

    Threads share one placer. The raster and the memo are safe to read at once; the GEOS objects
    of the exact path are not (prepared geometries build their indexes lazily), so one thread at a
    time takes that path, and a thread that waited first looks again in the memo, which the other
    has just filled. (Copying the GEOS objects for each thread cost more than the waiting.)
    """

    def __init__(self, parts: np.ndarray, part_target: np.ndarray, n_targets: int, tolerance_km: float, max_cells: int):
        self.n_targets = n_targets
        shapely.bounds(parts)  # every envelope computed before two threads read the parts
        # The exact path (locator and nearest rule) is made ready in a second thread while the
        # raster is built (both mostly run in numpy and GEOS, without the GIL).
        with ThreadPoolExecutor(max_workers=1) as pool:
            exact = pool.submit(_exact_path, parts, part_target, tolerance_km)
            # Far cells hold the "outside" target (2T) itself, so the lookup needs no remapping.
            self.raster: Raster = build_raster(parts, part_target, n_targets, tolerance_km, max_cells=max_cells, far=2 * n_targets)
            self.locator, self.nearest = exact.result()
        self.memo = _Memo()
        self.exact_lock = threading.Lock()

    def copy_for_thread(self) -> _Placer:
        """A shallow copy (the same raster, memo, GEOS objects and lock), whose attributes can be replaced."""
        other = object.__new__(_Placer)
        other.__dict__.update(self.__dict__)
        return other

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(memo=None, exact_lock=None, nearest=dict(self.nearest.__dict__, tree=None))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        nearest = object.__new__(NearestRule)
        nearest.__dict__.update(state["nearest"])
        nearest.tree = shapely.STRtree(nearest.pieces)
        self.__dict__.update(state, nearest=nearest, memo=_Memo(), exact_lock=threading.Lock())

    def place(self, x: np.ndarray, y: np.ndarray, *, want_km: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Per point: a target (< T), T + target (placed by the nearest rule) or 2T (unplaced); km if asked (nearest only)."""
        cls = self.raster.classify(x, y)
        out = cls.astype(np.int64)
        km = np.full(len(x), np.nan) if want_km else None
        if len(cls) and int(cls.min()) < 0:
            self.resolve(x, y, cls, out, km)
        return out, km

    def resolve(self, x: np.ndarray, y: np.ndarray, cls: np.ndarray, out: np.ndarray, km: np.ndarray | None = None) -> None:
        """Place the points whose raster label ``cls`` is negative (their cell needs the exact test), into ``out`` (and ``km``)."""
        slow = np.flatnonzero(cls < 0)
        if len(slow) == 0:
            return
        sx, sy = x[slow] + 0.0, y[slow] + 0.0  # + 0.0: -0.0 becomes 0.0, one key per coordinate
        found, got, dist = self.memo.lookup(sx, sy)
        miss = np.flatnonzero(~found)
        if len(miss):
            with self.exact_lock:
                again, g, d = self.memo.lookup(sx[miss], sy[miss])
                got[miss[again]], dist[miss[again]] = g[again], d[again]
                miss = miss[~again]
                if len(miss):
                    uniq, first, inverse = np.unique(sx[miss] + 1j * sy[miss], return_index=True, return_inverse=True)
                    ux, uy = uniq.real.copy(), uniq.imag.copy()
                    g, d = _without_gc(self._place_exactly, ux, uy, cls[slow[miss[first]]])
                    got[miss], dist[miss] = g[inverse], d[inverse]
                    self.memo.insert(ux, uy, g, d)
        out[slow] = got
        if km is not None:
            km[slow] = dist

    def _place_exactly(self, x: np.ndarray, y: np.ndarray, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        res = np.full(len(x), 2 * self.n_targets, np.int64)
        res_km = np.full(len(x), np.nan)
        exact = np.flatnonzero(cls == BOUNDARY)
        rest = np.flatnonzero(cls == NEAR)
        if len(exact):
            hit = self.locator.locate(x[exact], y[exact])
            res[exact] = np.where(hit >= 0, hit, res[exact])
            rest = np.concatenate([exact[hit < 0], rest])
        if len(rest):
            t, d = self.nearest.nearest(x[rest], y[rest])
            res[rest] = np.where(t >= 0, t + self.n_targets, 2 * self.n_targets)
            res_km[rest] = d
        return res, res_km


@dataclass(frozen=True, eq=False)
class RegionIndex:
    """The boundary layers prepared for point lookup; build with :func:`build_region_index`.

    Picklable (the Dask engine broadcasts it to its workers). A point's *target* is a target rank
    ``t`` (inside its polygon), ``T + t`` (placed by the nearest rule; ``T`` targets), :attr:`outside`
    or :attr:`nan`; ``label_of`` maps a target to its table row in ``labels`` (``country``, ``region``)
    and ``fate`` to the report's fate (1 region, 2 country-level row, 3 outside, 4 NaN coordinates).
    """

    level: str
    tolerance_km: float
    target_country: np.ndarray  # per target rank
    target_region: np.ndarray  # per target rank, None for a country target
    n_regions: int  # targets 0..n_regions-1 are admin-1 regions, the rest countries
    labels: pd.DataFrame
    label_of: np.ndarray
    fate: np.ndarray
    placer: _Placer

    @property
    def n_places(self) -> int:
        """T: the number of target polygons (admin-1 regions, then uncovered countries)."""
        return len(self.target_country)

    @property
    def n_countries(self) -> int:
        return self.n_places - self.n_regions

    @property
    def outside(self) -> int:
        return 2 * self.n_places

    @property
    def nan(self) -> int:
        return 2 * self.n_places + 1

    @property
    def n_targets(self) -> int:
        return 2 * self.n_places + 2

    @property
    def nearest_targets(self) -> np.ndarray:
        """True for the targets placed by the nearest rule."""
        t = np.arange(self.n_targets)
        return (t >= self.n_places) & (t < self.outside)

    def copy_for_thread(self) -> RegionIndex:
        return RegionIndex(self.level, self.tolerance_km, self.target_country, self.target_region, self.n_regions,
                           self.labels, self.label_of, self.fate, self.placer.copy_for_thread())

    def locate(self, latitude: Any, longitude: Any) -> np.ndarray:
        """The target of each point (see the class docstring)."""
        return self._locate(latitude, longitude)[0]

    def _locate(self, latitude: Any, longitude: Any, want_km: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        lat = np.asarray(latitude, dtype=np.float64)
        lon = np.asarray(longitude, dtype=np.float64)
        finite = np.isfinite(lat)
        finite &= np.isfinite(lon)
        if finite.all():
            return self.placer.place(lon, lat, want_km=want_km)
        target = np.full(len(lat), self.nan, np.int64)
        km = np.full(len(lat), np.nan) if want_km else None
        idx = np.flatnonzero(finite)
        got, dist = self.placer.place(lon[idx], lat[idx], want_km=want_km)
        target[idx] = got
        if km is not None:
            km[idx] = dist
        return target, km

    def place(self, latitude: Any, longitude: Any) -> pd.DataFrame:
        """Where each point goes, for people and tests: ``country``, ``region``, ``placement``, ``distance_km``.

        ``placement`` is ``"point"`` (inside a polygon), ``"nearest"`` (within the tolerance of one;
        ``distance_km`` says how far), ``"unplaced"`` or ``"nan"`` (a NaN coordinate); unplaced and NaN
        points have the table's unplaced row (country ``ZZ``, no region).
        """
        target, km = self._locate(latitude, longitude, want_km=True)
        row = self.label_of[target]
        placement = np.select(
            [target < self.n_places, target < self.outside, target == self.outside],
            ["point", "nearest", "unplaced"], "nan")
        return pd.DataFrame({
            "country": self.labels["country"].to_numpy()[row],
            "region": self.labels["region"].to_numpy()[row],
            "placement": placement,
            "distance_km": np.where(placement == "nearest", km, np.where(placement == "point", 0.0, np.nan)),
        }).astype({"country": "string", "region": "string", "placement": "string"})


def build_region_index(
    admin1: Any | None = None,
    admin0: Any | None = None,
    *,
    level: Level = "admin1",
    tolerance_km: float = TOLERANCE_KM,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> RegionIndex:
    """Prepare the boundary layers (GeoDataFrames, EPSG:4326) for point lookup.

    ``admin1`` (``iso_3166_2``, ``iso_a2``, geometry) places points in regions, and says the country
    wherever it covers a point; ``admin0`` (``iso_a2``, geometry) is used for the countries the
    admin-1 layer does not cover. ``level="admin1"`` needs ``admin1``; ``level="country"`` needs
    ``admin0`` (and uses ``admin1`` too when given, so both levels place a point alike). Geometries
    are used as they are (never simplified). The prepared layers are cached in the process, so
    building the same index again is cheap.
    """
    if level not in LEVELS:
        raise OptionError(f"level: expected one of {LEVELS!r}, got {level!r}; use 'admin1' or 'country'")
    if level == "admin1" and admin1 is None:
        raise BoundaryError("level 'admin1' expected an admin-1 layer, got None; pass read_admin1() or use level='country'")
    if level == "country" and admin0 is None:
        raise BoundaryError("level 'country' expected an admin-0 layer, got None; pass read_admin0()")
    if not (isinstance(tolerance_km, (int, float)) and math.isfinite(tolerance_km) and tolerance_km >= 0):
        raise OptionError(f"tolerance_km: expected a distance >= 0 in km, got {tolerance_km!r}; use 25 (the default)")
    geoms: list[np.ndarray] = []
    countries: list[str] = []
    regions: list[str | None] = []
    covered: set[str] = set()
    if admin1 is not None:
        layer = _checked_layer(admin1, ("iso_3166_2", "iso_a2"), "admin-1")
        codes = layer["iso_3166_2"].astype(str).to_numpy()
        order = np.argsort(codes, kind="stable")
        column = _country_codes(layer["iso_a2"])
        for i in order:
            code = codes[i]
            prefix = code[:2].upper()
            country = prefix if len(code) > 2 and code[2] == "-" and prefix.isascii() and prefix.isalpha() else column[i]
            countries.append(country)
            regions.append(code)
            covered.add(country)
        geoms.append(_polygons(layer, "admin-1")[order])
    n_regions = len(regions)
    if admin0 is not None:
        layer = _checked_layer(admin0, ("iso_a2",), "admin-0")
        codes = _country_codes(layer["iso_a2"])
        keep = np.flatnonzero(~np.isin(codes, sorted(covered)))
        keep = keep[np.argsort(codes[keep], kind="stable")]
        countries += codes[keep].tolist()
        regions += [None] * len(keep)
        geoms.append(_polygons(layer, "admin-0")[keep])
    all_geoms = np.concatenate(geoms) if geoms else np.zeros(0, object)
    placer = _cached_placer(all_geoms, float(tolerance_km), int(max_cells))
    return _labelled(level, float(tolerance_km), np.array(countries, dtype=object), np.array(regions, dtype=object), n_regions, placer)


def _labelled(level: str, tolerance_km: float, countries: np.ndarray, regions: np.ndarray, n_regions: int, placer: _Placer) -> RegionIndex:
    n = len(countries)
    rows: dict[tuple[str, str | None], int] = {}
    label_of = np.zeros(2 * n + 2, np.int64)
    fate = np.zeros(2 * n + 2, np.int64)
    for t in range(n):
        key = (countries[t], regions[t] if level == "admin1" else None)
        label_of[t] = label_of[n + t] = rows.setdefault(key, len(rows))
        fate[t] = fate[n + t] = FATE_REGION if (level == "admin1" and t < n_regions) else FATE_COUNTRY
    label_of[2 * n] = label_of[2 * n + 1] = rows.setdefault((UNPLACED_COUNTRY, None), len(rows))
    fate[2 * n], fate[2 * n + 1] = FATE_OUTSIDE, FATE_NAN
    keys = list(rows)
    labels = pd.DataFrame({"country": pd.array([k[0] for k in keys], dtype="string"),
                           "region": pd.array([k[1] for k in keys], dtype="string")})
    return RegionIndex(level, tolerance_km, countries, regions, n_regions, labels, label_of, fate, placer)


_CACHE: dict[str, _Placer] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE: Final = 4


def _cached_placer(geoms: np.ndarray, tolerance_km: float, max_cells: int) -> _Placer:
    """Build (or reuse, within this process) the placer of these polygons in this order."""
    digest = hashlib.sha256(f"{tolerance_km!r}|{max_cells}|{len(geoms)}|".encode())
    missing = shapely.is_missing(geoms)
    wkb = shapely.to_wkb(np.where(missing, shapely.Polygon(), geoms))
    for blob in wkb:
        digest.update(len(blob).to_bytes(8, "little"))
        digest.update(blob)
    key = digest.hexdigest()
    with _CACHE_LOCK:
        placer = _CACHE.get(key)
    if placer is not None:
        return placer
    parts, owner = shapely.get_parts(geoms, return_index=True) if len(geoms) else (np.zeros(0, object), np.zeros(0, np.int64))
    good = ~shapely.is_empty(parts) if len(parts) else np.zeros(0, bool)
    placer = _Placer(parts[good], owner[good].astype(np.int64), len(geoms), tolerance_km, max_cells)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = placer
    return placer


def _polygons(layer: Any, what: str) -> np.ndarray:
    geoms = np.asarray(layer.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    bad = ~np.isin(types, (3, 6)) & ~shapely.is_missing(geoms)  # Polygon, MultiPolygon
    if bad.any():
        got = sorted({int(shapely.get_type_id(g)) for g in geoms[bad]})
        raise BoundaryError(f"the {what} layer: expected Polygon or MultiPolygon geometries, got geometry type ids {got!r}; give a polygon layer")
    return geoms


def _checked_layer(layer: Any, columns: tuple[str, ...], what: str) -> Any:
    if not hasattr(layer, "geometry") or not hasattr(layer, "columns"):
        raise BoundaryError(f"the {what} layer: expected a GeoDataFrame, got {type(layer).__name__!r}; read it with capacitymap.io.boundaries")
    missing = [c for c in columns if c not in layer.columns]
    if missing:
        got = [c for c in layer.columns if c != "geometry"]
        raise BoundaryError(f"the {what} layer: expected columns {missing!r}, got {got!r}; read it with capacitymap.io.boundaries")
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
    """Two-letter codes, upper-cased; anything else (missing, ``-99``) is ``ZZ`` (plain Python: a few hundred values)."""
    out = []
    for value in codes.tolist():
        text = "" if value is None or value is pd.NA or (isinstance(value, float) and value != value) else str(value).strip().upper()
        out.append(text if _TWO_LETTERS.fullmatch(text) else OTHER_COUNTRY)
    return np.array(out, dtype=str)


_TWO_LETTERS: Final = re.compile(r"[A-Z]{2}")
