"""Benchmark ``capacitymap.aggregate``: points per second and peak memory, ours against the obvious alternatives.

    python benchmarks/aggregate.py                        # 1M, 10M and 50M points; ours, STRtree, sjoin (1M), DuckDB
    python benchmarks/aggregate.py --points 1e6 1e7 --repeat 3
    python benchmarks/aggregate.py --engines incore --points 5e7 --repeat 3
    python benchmarks/aggregate.py --locations 0            # every point its own coordinate (no geolocation repeats)

Points are synthetic and written to Parquet (1M-row row groups) first; every engine then reads that
file, so the figures include reading. ``--locations K`` (default 100,000) draws the points from K
coordinates uniform over the admin-1 layer's extent, as an IP-geolocation database gives many
records the same city coordinates (the real file in ``../shared/data/real`` has 6,120 distinct
coordinates for 42,820 records); ``--locations 0`` gives every point its own coordinate. Either
way about 60% of the points are at sea, as the extent is mostly sea. 12 months x 10 pools, exponential hashrate,
0.1% NaN latitudes.

Engines (each in its own process, so peak memory is its own: the largest resident set of the process
and its children, sampled by psutil). Each line gives wall-clock seconds and the CPU seconds the run
used (process and children): on a machine shared with other work, the CPU seconds are the steadier
figure, and on 2 idle cores a run takes about CPU / 2 seconds where it keeps both busy.

* ``incore``: ours (``capacitymap.aggregate``), the whole rule: admin-1, admin-0 for countries without
  admin-1, the 25 km nearest rule, exact sums; the region index is built inside the timing;
* ``strtree``: a bulk ``shapely.STRtree.query(points, predicate="intersects")`` on the admin-1 layer,
  first code wins, then a pandas groupby-sum (no country fallback, no nearest rule: less work);
* ``sjoin``: naive ``geopandas.sjoin`` on the admin-1 layer, then a groupby-sum (1M points only unless
  ``--sjoin-max`` says more: ~0.1M points/s);
* ``duckdb``: DuckDB's spatial extension (``ST_Contains`` join), when ``duckdb`` is installed and the
  extension loads; it is downloaded on first use, which fails offline: then the run says so;
* ``dask``: ours on a 2-worker ``LocalCluster`` (``--engines incore,dask``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def synthetic_layers():
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(0)
    seeds = shapely.points(rng.uniform(-170, 170, 3000), rng.uniform(-55, 70, 3000))
    vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=shapely.box(-180, -60, 180, 75))
    polys = shapely.get_parts(vor)
    polys = shapely.intersection(polys, shapely.box(-175, -58, 175, 72))
    polys = shapely.segmentize(polys, 0.05)
    # Countries AA..: 100 codes, each ~30 regions; admin-1 covers the first 70 countries only.
    letters = "ABCDEFGHIJ"
    country = np.array([letters[i % 10] + letters[(i // 10) % 10] for i in range(len(polys))])
    codes = np.array([f"{c}-{i:04d}" for i, c in enumerate(country)])
    admin0 = gpd.GeoDataFrame({"iso_a2": country}, geometry=polys, crs=4326).dissolve("iso_a2").reset_index()
    covered = np.isin(country, np.unique(country)[:70])
    admin1 = gpd.GeoDataFrame({"iso_3166_2": codes[covered], "iso_a2": country[covered]}, geometry=polys[covered], crs=4326)
    return admin1, admin0


def load_layers():
    try:
        from capacitymap.io.boundaries import read_admin0, read_admin1

        return read_admin1()[["iso_3166_2", "iso_a2", "geometry"]], read_admin0()[["iso_a2", "geometry"]], "shipped Natural Earth"
    except Exception:  # noqa: BLE001 - any failure means: no shipped layers here
        a1, a0 = synthetic_layers()
        return a1, a0, "synthetic (3,000 Voronoi regions)"


def write_points(path: Path, n: int, bounds, seed: int = 1, chunk: int = 1_000_000, locations: int = 0) -> None:
    """``n`` points uniform over ``bounds``: each its own coordinate, or (``locations`` > 0) drawn
    from that many coordinates uniform over ``bounds``, as a geolocation database gives many records
    the same city coordinates."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    months = np.array([f"2024-{m:02d}" for m in range(1, 13)])
    pools = np.array([f"pool{p}" for p in range(10)])
    x0, y0, x1, y1 = bounds
    if locations:
        loc_lat, loc_lon = rng.uniform(y0, y1, locations), rng.uniform(x0, x1, locations)
    writer = None
    done = 0
    while done < n:
        k = min(chunk, n - done)
        if locations:
            pick = rng.integers(0, locations, k)
            lat, lon = loc_lat[pick], loc_lon[pick]
        else:
            lat, lon = rng.uniform(y0, y1, k), rng.uniform(x0, x1, k)
        lat[rng.random(k) < 0.001] = np.nan
        table = pa.table({
            "latitude": lat,
            "longitude": lon,
            "hashrate_th": rng.exponential(100.0, k),
            "month": pa.array(months[rng.integers(0, 12, k)]).dictionary_encode(),
            "pool": pa.array(pools[rng.integers(0, 10, k)]).dictionary_encode(),
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=chunk)
        done += k
    writer.close()


def _peak_sampler():
    import psutil

    me = psutil.Process()
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            peak[0] = max(peak[0], total)
            stop.wait(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    return peak, stop


def _read_frame(path: str):
    import pandas as pd

    return pd.read_parquet(path, columns=["latitude", "longitude", "hashrate_th", "month", "pool"])


def run_one(engine: str, path: str, level: str) -> dict:
    """In a fresh process: one engine on one file; time and peak RSS."""
    import resource

    admin1, admin0, _ = load_layers()
    peak, stop = _peak_sampler()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    note = ""
    table = None
    if engine == "sjoin":
        import geopandas as gpd

        frame = _read_frame(path)
        pts = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["longitude"], frame["latitude"]), crs=4326)
        joined = gpd.sjoin(pts, admin1, predicate="intersects", how="inner")
        joined = joined[~joined.index.duplicated()]
        out = joined.groupby(["month", "pool", "iso_3166_2"], observed=True)["hashrate_th"].sum()
        rows, points = len(out), len(frame)
    elif engine == "strtree":
        import shapely

        frame = _read_frame(path)
        regions = admin1.sort_values("iso_3166_2", ignore_index=True)
        tree = shapely.STRtree(regions.geometry.to_numpy())
        pt, rg = tree.query(shapely.points(frame["longitude"].to_numpy(), frame["latitude"].to_numpy()), predicate="intersects")
        order = np.lexsort((rg, pt))
        pt, rg = pt[order], rg[order]
        first = np.r_[True, pt[1:] != pt[:-1]]
        code = np.full(len(frame), None, dtype=object)
        code[pt[first]] = regions["iso_3166_2"].to_numpy()[rg[first]]
        frame["code"] = code
        out = frame.groupby(["month", "pool", "code"], observed=True, dropna=False)["hashrate_th"].sum()
        rows, points = len(out), len(frame)
    elif engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        try:
            con.execute("INSTALL spatial")
            con.execute("LOAD spatial")
        except Exception as exc:  # noqa: BLE001 - report why and stop this engine
            stop.set()
            return {"engine": engine, "error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
        regions = admin1.sort_values("iso_3166_2", ignore_index=True)
        con.execute("CREATE TABLE regions AS SELECT * FROM (SELECT unnest($1) AS code, ST_GeomFromWKB(unnest($2)) AS geom)",
                    [regions["iso_3166_2"].tolist(), [bytes(b) for b in regions.geometry.to_wkb()]])
        out = con.execute(
            f"SELECT p.month, p.pool, min(r.code) AS code, sum(p.hashrate_th) FROM read_parquet('{path}') p "
            "JOIN regions r ON ST_Contains(r.geom, ST_Point(p.longitude, p.latitude)) GROUP BY ALL").fetchall()
        rows, points = len(out), con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
        note = "contains-join; points on shared borders counted twice"
    else:
        from capacitymap.aggregate import aggregate
        from capacitymap.io.points import open_points

        source = open_points([path], weight="hashrate_th", by=["month", "pool"])
        table, report = aggregate(source, admin1, admin0, level=level, engine=engine, quiet=True)
        rows, points = len(table), report.points
        note = f"{report.points_of('nearest'):,} placed by the nearest rule, {report.unplaced_points:,} unplaced"
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    stop.set()
    if engine in ("incore", "dask"):
        saved = Path(path).with_suffix(f".{engine}.parquet")
        if not saved.exists():  # the first run's table, for the check against the reference sums (not timed)
            table.to_parquet(saved)
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"engine": engine, "points": points, "seconds": seconds, "cpu_seconds": cpu, "rows": rows, "note": note,
            "peak_rss_bytes": max(peak[0], self_peak), "load": max(load, os.getloadavg()[0])}


def check_sums(path: str, level: str, table_path: str) -> dict:
    """In a fresh process: the reference for our table, computed another way, compared row by row.

    Placement: the same rule with the raster switched off (every point takes the exact
    point-in-polygon / nearest-region path, once per distinct coordinate). Sums: each weight's
    53-bit integer mantissa in two 27-bit halves, summed in int64 per (group, target, binary
    exponent) by a pandas groupby, then as exact fractions; each row's EH/s and share must be the
    correctly rounded value of the exact fraction, and its point count equal.
    """
    from fractions import Fraction

    import pandas as pd
    import pyarrow.parquet as pq

    from capacitymap.aggregate import build_region_index
    from capacitymap.aggregate._index import _Memo
    from capacitymap.aggregate._raster import BOUNDARY, Raster

    admin1, admin0, _ = load_layers()
    index = build_region_index(admin1, admin0, level=level).copy_for_thread()
    index.placer.raster = Raster(0.0, 0.0, 1e-9, 1e-9, 1, 1, np.full(1, BOUNDARY, np.int16))
    index.placer.memo = _Memo(capacity=1 << 22)
    pf = pq.ParquetFile(path)
    parts = []
    for i in range(pf.num_row_groups):
        t = pf.read_row_group(i, columns=["latitude", "longitude", "hashrate_th", "month", "pool"]).to_pandas()
        target = index.locate(t["latitude"].to_numpy(), t["longitude"].to_numpy())
        mant, exp = np.frexp(t["hashrate_th"].to_numpy())
        m = np.ldexp(mant, 53).astype(np.int64)  # w = m * 2**(exp - 53), m < 2**53
        parts.append(pd.DataFrame({"month": t["month"].astype(str), "pool": t["pool"].astype(str), "target": target,
                                   "exp": exp, "hi": m >> 27, "lo": m & ((1 << 27) - 1), "n": 1})
                     .groupby(["month", "pool", "target", "exp"], sort=False).sum().reset_index())
    sums = pd.concat(parts).groupby(["month", "pool", "target", "exp"], sort=False).sum().reset_index()
    labels = index.labels
    row = index.label_of[sums["target"].to_numpy()]
    exact: dict[tuple, list] = {}
    for month, pool, r, e, hi, lo, n in zip(sums["month"], sums["pool"], row, sums["exp"], sums["hi"], sums["lo"], sums["n"]):
        key = (month, pool, labels["country"].iloc[r], None if pd.isna(labels["region"].iloc[r]) else labels["region"].iloc[r])
        cell = exact.setdefault(key, [Fraction(0), 0])
        cell[0] += Fraction((int(hi) << 27) + int(lo)) * Fraction(2) ** (int(e) - 53)
        cell[1] += int(n)
    totals: dict[tuple, Fraction] = {}
    for (month, pool, _, _), (value, _) in exact.items():
        totals[(month, pool)] = totals.get((month, pool), Fraction(0)) + value
    ours = pd.read_parquet(table_path)
    bad = []
    for month, pool, country, region, share, ehs, pts in zip(ours["month"], ours["pool"], ours["country"], ours["region"],
                                                            ours["share"], ours["hashrate_ehs"], ours["points"]):
        key = (month, pool, country, None if pd.isna(region) else region)
        value, count = exact.pop(key, (None, None))
        total = totals.get((month, pool))
        if value is None or count != pts or ehs != float(value / 10**6) or (total and share != float(value / total)):
            bad.append(key)
    bad += list(exact)  # rows the reference has and ours lacks
    return {"rows": len(ours), "mismatches": len(bad), "first": [str(b) for b in bad[:3]]}


def _cpu_seconds() -> float:
    """CPU time of this process and its (waited-for) children: on a shared machine, what the run itself cost."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def spawn(engine: str, path: Path, level: str) -> dict:
    return {"engine": engine, **_spawn_json(["--_run", engine, str(path), level])}


def _spawn_json(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(runs: list[dict], baseline: dict | None) -> str:
    if "error" in runs[0]:
        return f"  {runs[0]['engine']:<7} not run: {runs[0]['error']}"
    secs = sorted(r["seconds"] for r in runs)
    best, median = secs[0], float(np.median(secs))
    result = runs[0]
    rate = result["points"] / best
    peak = max(r["peak_rss_bytes"] for r in runs)
    loads = "/".join(f"{r.get('load', 0.0):.1f}" for r in runs)
    line = (f"  {result['engine']:<7} {result['points']:>12,} points  best {best:7.2f} s  {rate / 1e6:6.2f} M points/s"
            + (f"  (median of {len(runs)}: {median:7.2f} s, {result['points'] / median / 1e6:6.2f} M points/s)" if len(runs) > 1 else "")
            + (f"  CPU {min(r['cpu_seconds'] for r in runs):7.2f} s" if "cpu_seconds" in result else "")
            + f"  peak RSS {peak / 2**30:5.2f} GiB  {result['rows']:,} rows"
            + (f"  load average {loads}" if "load" in result else ""))
    if baseline is not None and "error" not in baseline and result is not baseline:
        line += f"  {baseline['seconds'] / best:6.1f}x {baseline['engine']}"
    if result.get("note"):
        line += f"  [{result['note']}]"
    return line


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=float, nargs="+", default=[1e6, 1e7, 5e7], help="sizes to run (default 1e6 1e7 5e7)")
    ap.add_argument("--engines", default="incore,strtree,sjoin,duckdb", help="comma-separated: incore,strtree,sjoin,duckdb,dask")
    ap.add_argument("--repeat", type=int, default=1, help="runs of ours per size (best and median are printed)")
    ap.add_argument("--locations", type=float, default=1e5, help="distinct coordinates (0: every point its own)")
    ap.add_argument("--sjoin-max", type=float, default=1e6, help="largest size for the naive sjoin (default 1e6)")
    ap.add_argument("--strtree-max", type=float, default=1e7, help="largest size for the bulk STRtree (default 1e7)")
    ap.add_argument("--duckdb-max", type=float, default=1e6, help="largest size for DuckDB spatial (default 1e6)")
    ap.add_argument("--level", default="admin1", choices=["admin1", "country"])
    ap.add_argument("--workdir", default=None, help="where to write the Parquet files (default: a temp dir)")
    ap.add_argument("--check-max", type=float, default=5e7, help="largest size whose table is checked against the reference sums (default 5e7)")
    ap.add_argument("--_run", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--_check", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._run:
        engine, path, level = args._run
        print(json.dumps(run_one(engine, path, level)))
        return
    if args._check:
        print(json.dumps(check_sums(*args._check)))
        return

    admin1, admin0, what = load_layers()
    bounds = admin1.total_bounds
    engines = [e for e in args.engines.split(",") if e]
    limits = {"sjoin": args.sjoin_max, "strtree": args.strtree_max, "duckdb": args.duckdb_max}
    print(f"regions: {what}: {len(admin1):,} admin-1, {len(admin0):,} admin-0; level {args.level}; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; "
          f"{'every point its own coordinate' if not args.locations else f'{int(args.locations):,} distinct coordinates'}", flush=True)
    rates: dict[str, float] = {}  # the last measured points/s of each engine, for extrapolating
    failed = False
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for n in [int(v) for v in args.points]:
            path = Path(tmp) / f"points_{n}.parquet"
            write_points(path, n, bounds, locations=int(args.locations))
            print(f"{n:,} points ({path.stat().st_size / 2**20:.0f} MiB Parquet):", flush=True)
            baseline = None
            for engine in sorted(engines, key=lambda e: e in ("incore", "dask")):  # baselines first
                if n > limits.get(engine, float("inf")):
                    if engine in rates:
                        guess = {"engine": engine, "points": n, "seconds": n / rates[engine], "extrapolated": True}
                        print(f"  {engine:<7} {n:>12,} points  ~{guess['seconds']:7.1f} s    {rates[engine] / 1e6:6.2f} M points/s  "
                              f"EXTRAPOLATED from its run at a smaller size (not run at this size: --{engine}-max)", flush=True)
                        if engine in ("strtree", "sjoin") and (baseline is None or engine == "sjoin"):
                            baseline = guess
                    else:
                        print(f"  {engine:<7} not run at this size (--{engine}-max)", flush=True)
                    continue
                runs = [spawn(engine, path, args.level) for _ in range(args.repeat if engine in ("incore", "dask") else 1)]
                if "error" not in runs[0]:
                    rates[engine] = runs[0]["points"] / min(r["seconds"] for r in runs)
                if engine in ("strtree", "sjoin") and "error" not in runs[0] and (baseline is None or engine == "sjoin"):
                    baseline = runs[0]
                print(report(runs, baseline), flush=True)
                table = path.with_suffix(f".{engine}.parquet")
                if engine in ("incore", "dask") and table.exists() and n <= args.check_max:
                    check = _spawn_json(["--_check", str(path), args.level, str(table)])
                    if "error" in check or check["mismatches"]:
                        failed = True
                    print("  " + (f"sums: NOT CHECKED ({check['error']})" if "error" in check else
                                  f"sums: {check['rows']:,} rows equal to the reference (exact fractions, raster off)" if not check["mismatches"] else
                                  f"sums: {check['mismatches']:,} of {check['rows']:,} rows DIFFER from the reference, e.g. {check['first']}"),
                          flush=True)
            for extra in Path(tmp).glob("*.parquet"):
                extra.unlink()
    if failed:
        sys.exit("the sums differ from the reference (or could not be checked): see above")

if __name__ == "__main__":
    main()
