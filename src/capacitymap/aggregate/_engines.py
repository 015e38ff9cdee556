"""The two engines: in-core (threads over streamed batches) and Dask (one task per file part)."""

from __future__ import annotations

import itertools
import math
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Final

import numpy as np
import pandas as pd

from capacitymap.aggregate._index import Level, RegionIndex, build_region_index
from capacitymap.aggregate._progress import Progress, progress_line
from capacitymap.aggregate._report import TABLE_COLUMNS, AggregateReport, finish
from capacitymap.aggregate._sums import DENSE_KEYS, MAX_PARTIAL_ROWS, Accumulator, DenseSums, Partial, Workspace, bucket_range, partial, split
from capacitymap.errors import DataError, OptionError, Problem
from capacitymap.io.points import COORDINATE_COLUMNS, PointBatch, PointSource, read_point_part
from capacitymap.vocab import ENGINES, WEIGHT_UNITS, Engine, WeightUnit

__all__ = ["Engine", "ENGINES", "WeightUnit", "WEIGHT_UNITS", "aggregate", "aggregate_points", "aggregate_dask", "check_options"]

#: Batches read while the region index is built: as many as its build takes, up to this many
#: (about 32 MB each at 1M points), so the threads start with batches ready.
_READ_AHEAD: Final = 6
#: Up to this many combinations of group values, the combination is the group number.
_DENSE_GROUPS: Final = 1 << 12
#: Points placed and split at once (measured: 2**19 beat 2**16..2**20 on 1M-point batches: fewer
#: calls, and the temporaries of 4 MiB mostly stay in the CPU's caches).
_CHUNK: Final = 1 << 19


def check_options(weight: str, by: Sequence[str], weight_unit: str) -> tuple[str, ...]:
    """The group columns as a tuple, or :class:`OptionError` naming what is wrong and the fix."""
    if weight_unit not in WEIGHT_UNITS:
        raise OptionError(f"weight unit: expected one of {WEIGHT_UNITS!r}, got {weight_unit!r}; say the unit of the weight column (--weight-unit)")
    if not isinstance(weight, str) or not weight:
        raise OptionError(f"weight: expected the name of the column holding each point's hashrate, got {weight!r}; e.g. --weight hashrate_th")
    by_t = tuple(by)
    for col in by_t:
        if col in COORDINATE_COLUMNS:
            raise OptionError(f"--by: expected group columns such as month and pool, got the coordinate column {col!r}; "
                              "points are placed by their coordinates (--level), not grouped by them")
        if col == weight:
            raise OptionError(f"--by: expected group columns such as month and pool, got the weight column {col!r}; "
                              "the weight is summed, not grouped by")
        if col in TABLE_COLUMNS:
            raise OptionError(f"--by: expected group columns such as month and pool, got {col!r}, a column of the output table; "
                              "rename that input column")
    dup = sorted({c for c in by_t if by_t.count(c) > 1})
    if dup:
        raise OptionError(f"--by: expected each group column once, got {dup!r} more than once in {list(by_t)!r}; name each once")
    return by_t


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
    and the :class:`AggregateReport`. ``threads`` batches are placed at once (shapely and numpy
    release the GIL; the result does not depend on it). ``quiet=False`` writes a progress line on
    stderr (``total`` points if known); ``progress`` is called with the number of points of each
    finished batch.
    """
    by_t = check_options(weight, by, weight_unit)
    if not isinstance(threads, int) or threads < 1:
        raise OptionError(f"threads: expected 1 or more, got {threads!r}; use 1 for no threading")
    acc = Accumulator(by_t, index.n_targets)
    # The threads share the index (its exact path takes a lock: see _index._Placer).
    with progress_line(quiet, total) as bar, ThreadPoolExecutor(max_workers=threads) as pool:
        # At most 2 * threads + 1 batches in flight, so memory stays bounded, and the threads find
        # the next batch already read when they finish one (reading is this thread's job). Sums
        # are exact, so the order in which batches finish does not matter; they are added in
        # input order anyway.
        pending: deque[Future[tuple[list[Partial], int]]] = deque()
        for batch in batches:
            pending.append(pool.submit(_sized_partial, batch, index, weight, by_t))
            while pending and (pending[0].done() or len(pending) > 2 * threads + 1):
                _drain(pending.popleft(), acc, bar, progress)
        while pending:
            _drain(pending.popleft(), acc, bar, progress)
    return finish(acc.result(), index, by_t, weight_unit)


def _sized_partial(batch: PointBatch | pd.DataFrame, index: RegionIndex, weight: str, by: tuple[str, ...]) -> tuple[list[Partial], int]:
    done = batch.rows if isinstance(batch, PointBatch) else len(batch)
    return batch_partial(batch, index, weight, by), done


def _drain(future: Future[tuple[list[Partial], int]], acc: Accumulator, bar: Progress, progress: Progress | None) -> None:
    parts, done = future.result()
    for part in parts:
        acc.add(part)
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
    by_t = check_options(source.weight, source.by, weight_unit)
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise OptionError(f"engine 'dask' expected dask.distributed to be installed, got {exc}; "
                          "pip install 'capacitymap[scale]', or use the in-core engine (the default)") from exc
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=50)
        client = Client(cluster)
    elif isinstance(scheduler, str):
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
        except OSError as exc:
            raise DataError(Problem("<scheduler>", None, None, f"expected a reachable Dask scheduler, got {scheduler!r} ({exc}); "
                                    "start 'dask scheduler' there or check the address")) from exc
    else:
        client = scheduler
    try:
        index_future = client.scatter(index, broadcast=True, hash=False)
        futures = [
            client.submit(_part_partial, part, index_future, source.weight, by_t, source.batch_size, pure=False)
            for part in source.parts
        ]
        acc = Accumulator(by_t, index.n_targets)
        with progress_line(quiet, source.rows) as bar:
            for future in as_completed(futures):
                status, value, count = future.result()
                if status == "error":
                    for f in futures:
                        f.cancel()
                    raise DataError(value)
                acc.add_frame(value)
                bar(count)
                if progress is not None:
                    progress(count)
        sums = acc.result()
    finally:
        if client is not scheduler:
            client.close()
        if cluster is not None:
            cluster.close()
    return finish(sums, index, by_t, weight_unit)


def _part_partial(part: Any, index: RegionIndex, weight: str, by: tuple[str, ...], batch_size: int) -> tuple[str, Any, int]:
    """Runs on a worker: read one part (io.points) and sum it. DataErrors travel back as values."""
    acc = Accumulator(by, index.n_targets)
    count = 0
    try:
        for batch in read_point_part(part, weight=weight, by=by, batch_size=batch_size):
            for part in batch_partial(batch, index, weight, by):
                acc.add(part)
            count += batch.rows
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
        raise OptionError(f"engine: expected one of {ENGINES!r}, got {engine!r}; use 'incore' or 'dask'")
    if scheduler is not None and engine != "dask":
        raise OptionError(f"scheduler: expected None with engine {engine!r}, got {scheduler!r}; add engine='dask' (--engine dask)")
    check_options(source.weight, source.by, weight_unit)
    if engine == "dask":
        index = build_region_index(admin1, admin0, level=level)
        return aggregate_dask(source, index, weight_unit=weight_unit, scheduler=scheduler, quiet=quiet)
    # Read the first batches while the index is built (both release the GIL for most of their work).
    batches = source.batches()
    with ThreadPoolExecutor(max_workers=1) as pool:
        building = pool.submit(build_region_index, admin1, admin0, level=level)
        first = list(itertools.islice(batches, 2))
        while len(first) < _READ_AHEAD and not building.done():
            more = list(itertools.islice(batches, 1))
            if not more:
                break
            first += more
        index = building.result()
    return aggregate_points(itertools.chain(first, batches), index, weight=source.weight, by=source.by,
                            weight_unit=weight_unit, quiet=quiet, total=source.rows)


# --------------------------------------------------------------------------------------------
# One batch
# --------------------------------------------------------------------------------------------


def _check_batch(file: str, first_line: int, lat: np.ndarray, lon: np.ndarray, w: np.ndarray, weight: str) -> tuple[float, ...]:
    """Raise the rows with a bad weight or coordinate; return the coordinates' ranges (NaN ignored) for the lookup."""
    if len(w) == 0:
        return (math.nan,) * 4
    # Reductions first (no temporary arrays): a batch without problems costs four passes.
    lat_lo, lat_hi = float(np.fmin.reduce(lat)), float(np.fmax.reduce(lat))
    lon_lo, lon_hi = float(np.fmin.reduce(lon)), float(np.fmax.reduce(lon))
    w_lo, w_hi = float(w.min()), float(w.max())
    if w_lo >= 0 and w_hi < math.inf and not (lat_lo < -90 or lat_hi > 90 or lon_lo < -180 or lon_hi > 180):
        return lat_lo, lat_hi, lon_lo, lon_hi
    bad_w = ~(w >= 0) | (w == np.inf)  # NaN, negative, infinite
    bad_lat = np.abs(lat) > 90
    bad_lon = np.abs(lon) > 180
    if not (bad_w.any() or bad_lat.any() or bad_lon.any()):
        return lat_lo, lat_hi, lon_lo, lon_hi
    problems: list[Problem] = []
    checks = (
        (weight, w, bad_w, "expected a finite hashrate >= 0, got {v!r}; fix the value or remove the row"),
        ("latitude", lat, bad_lat,
         "expected a latitude in [-90, 90] degrees WGS84, got {v!r}; are the coordinates projected or swapped? reproject to EPSG:4326"),
        ("longitude", lon, bad_lon, "expected a longitude in [-180, 180] degrees WGS84, got {v!r}; are the coordinates projected? reproject to EPSG:4326"),
    )
    for column, values, bad, message in checks:
        rows = np.flatnonzero(bad)
        for i in rows[:10]:
            problems.append(Problem(file, first_line + int(i), column, message.format(v=float(values[i]))))
        if len(rows) > 10:
            problems.append(Problem(file, None, column, f"{len(rows) - 10} more rows like these in the batch from line {first_line}"))
    raise DataError(problems)


def _numbers(values: Any, column: str, file: str, first_line: int) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    values = pd.Series(values)
    numeric = pd.to_numeric(values, errors="coerce")
    bad = np.flatnonzero(numeric.isna().to_numpy() & values.notna().to_numpy())
    i = int(bad[0]) if len(bad) else 0
    what = "a hashrate" if column not in COORDINATE_COLUMNS else "degrees WGS84"
    raise DataError(Problem(file, first_line + i, column, f"expected a number ({what}), got {values.iloc[i]!r}; store numbers, not text"))


def batch_partial(batch: PointBatch | pd.DataFrame, index: RegionIndex, weight: str, by: tuple[str, ...]) -> list[Partial]:
    """Place one batch and sum it exactly (partials, see :mod:`capacitymap.aggregate._sums`)."""
    if isinstance(batch, PointBatch):
        file, first, columns = batch.file, batch.first_line, batch.columns
        names = list(columns)
    else:
        file, first, columns = "<points>", 1, batch
        names = list(batch.columns)
    missing = [c for c in (*COORDINATE_COLUMNS, weight, *by) if c not in names]
    if missing:
        raise DataError(Problem(file, None, None, f"expected columns {missing!r}, got {names!r}; rename them or pass other weight=/by="))
    lat = _numbers(columns["latitude"], "latitude", file, first)
    lon = _numbers(columns["longitude"], "longitude", file, first)
    w = _numbers(columns[weight], weight, file, first)
    ranges = _check_batch(file, first, lat, lon, w, weight)
    ws = _workspace()
    gid, groups = _group_ids([columns[c] for c in by], len(lat), ws)
    # The float64 sums are exact up to 2**20 points: bigger batches are summed in slices.
    step = MAX_PARTIAL_ROWS
    return [_slice_partial(index, lat[a:a + step], lon[a:a + step], w[a:a + step], gid[a:a + step], groups, ranges, ws)
            for a in range(0, max(len(lat), 1), step)]


def _slice_partial(index: RegionIndex, lat: np.ndarray, lon: np.ndarray, w: np.ndarray, gid: np.ndarray,
                   groups: list[tuple[Any, ...]], ranges: tuple[float, ...], ws: Workspace) -> Partial:
    """Place and sum up to 2**20 points, in chunks, in this thread's reused buffers."""
    n, n_targets = len(w), index.n_targets
    if n == 0:
        return partial(gid, groups, np.zeros(0, np.int64), w, n_targets)
    bmin, bmax = bucket_range(float(w.min()), float(w.max()), w)
    nb = bmax - bmin + 1
    n_keys = max(len(groups), 1) * n_targets * nb
    if n_keys > DENSE_KEYS:
        return partial(gid, groups, _targets(index, lat, lon, ranges, ws).copy(), w, n_targets, ws)
    dense = DenseSums(ws, n_keys)
    for a in range(0, n, _CHUNK):
        b = min(a + _CHUNK, n)
        target = _targets(index, lat[a:b], lon[a:b], ranges, ws)
        dense.add(*split(w[a:b], gid[a:b], target, n_targets, bmin, bmax, ws))
    return dense.partial(groups, n_targets, nb, bmin)


_LOCAL = threading.local()


def _workspace() -> Workspace:
    """This thread's buffers (see :class:`~capacitymap.aggregate._sums.Workspace`)."""
    ws = getattr(_LOCAL, "workspace", None)
    if ws is None:
        ws = _LOCAL.workspace = Workspace()
    return ws


def _targets(index: RegionIndex, lat: np.ndarray, lon: np.ndarray, ranges: tuple[float, ...], ws: Workspace) -> np.ndarray:
    """``index.locate(lat, lon)`` in the workspace's buffers (the result is one of them: use it before the next batch)."""
    n = len(lat)
    placer = index.placer
    r = placer.raster
    lat_lo, lat_hi, lon_lo, lon_hi = ranges
    inv_x, inv_y = 1.0 / r.dx, 1.0 / r.dy
    # The same arithmetic as below on the extremes: every point is on the grid (monotone rounding).
    on_grid = (r.nx * r.ny < (1 << 31) and (lon_lo - r.x0) * inv_x >= 0 and (lon_hi - r.x0) * inv_x < r.nx
               and (lat_lo - r.y0) * inv_y >= 0 and (lat_hi - r.y0) * inv_y < r.ny)
    if n == 0 or not on_grid:  # off the grid (or all NaN): the general path
        return index.locate(lat, lon)
    has_nan = math.isnan(float(np.add.reduce(lat)) + float(np.add.reduce(lon)))
    if has_nan:
        nan = ws.get("nan", n, np.bool_)
        np.isnan(lat, out=nan)
        nan |= np.isnan(lon)
    f = ws.get("f", n, np.float64)
    ix, iy = ws.get("ix", n, np.int32), ws.get("iy", n, np.int32)
    for values, origin, inv, cell in ((lon, r.x0, inv_x, ix), (lat, r.y0, inv_y, iy)):
        np.subtract(values, origin, out=f)
        f *= inv
        if has_nan:
            np.copyto(f, 0.0, where=nan)
        np.copyto(cell, f, casting="unsafe")  # truncation = floor: f >= 0
    iy *= r.nx
    iy += ix
    cls = ws.get("cls", n, r.cells.dtype)
    np.take(r.cells, iy, out=cls)
    if has_nan:
        np.copyto(cls, index.outside, where=nan)  # any placed label; NaN points are set apart below
    target = ws.get("target", n, np.int64)
    np.copyto(target, cls)
    if int(cls.min()) < 0:
        placer.resolve(lon, lat, cls, target)
    if has_nan:
        target[nan] = index.nan
    return target


def _group_ids(by_columns: list[Any], n: int, ws: Workspace) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """A group number per row and the groups' values (one tuple per number; None for a missing value)."""
    combined = ws.get("gid", n, np.int64)
    if not by_columns:
        combined[:] = 0
        return combined, [()]
    combined[:] = 0
    uniques: list[np.ndarray] = []
    for series in by_columns:
        if isinstance(series, pd.Series) and isinstance(series.dtype, pd.CategoricalDtype):
            series = series.array
        if isinstance(series, pd.Categorical):  # dictionary-encoded columns: the codes are the numbers
            codes = series.codes
            values = np.asarray(series.categories, dtype=object)
            if len(codes) and codes.min() < 0:
                codes = codes.astype(np.int64)
                codes[codes < 0] = len(values)
                values = np.append(values, None)
        else:
            codes, values = pd.factorize(series, use_na_sentinel=False)
            values = np.asarray(values, dtype=object)
        combined *= max(len(values), 1)
        combined += codes
        uniques.append(values)
    sizes = [max(len(u), 1) for u in uniques]
    if math.prod(sizes) <= _DENSE_GROUPS:
        # Few combinations (months x pools): every combination is a group number, present or not.
        return combined, list(itertools.product(*(u.tolist() for u in uniques)))
    if math.prod(sizes) <= 1 << 22:
        present = np.bincount(combined, minlength=math.prod(sizes)) > 0
        first = np.flatnonzero(present)
        gid = (np.cumsum(present) - 1)[combined]
    else:
        gid, first = pd.factorize(combined)
    idx = np.unravel_index(np.asarray(first, dtype=np.int64), sizes)
    groups = list(zip(*(u[i].tolist() for u, i in zip(uniques, idx))))
    return np.asarray(gid, np.int64), groups
