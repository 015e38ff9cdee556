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
    t0 = time.perf_counter()
    cpu0 = _cpu_seconds()
    note = ""
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
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"engine": engine, "points": points, "seconds": seconds, "cpu_seconds": cpu, "rows": rows, "note": note,
            "peak_rss_bytes": max(peak[0], self_peak)}


def _cpu_seconds() -> float:
    """CPU time of this process and its (waited-for) children: on a shared machine, what the run itself cost."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def spawn(engine: str, path: Path, level: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--_run", engine, str(path), level],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"engine": engine, "error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(runs: list[dict], baseline: dict | None) -> str:
    if "error" in runs[0]:
        return f"  {runs[0]['engine']:<7} not run: {runs[0]['error']}"
    secs = sorted(r["seconds"] for r in runs)
    best, median = secs[0], float(np.median(secs))
    result = runs[0]
    rate = result["points"] / best
    peak = max(r["peak_rss_bytes"] for r in runs)
    line = (f"  {result['engine']:<7} {result['points']:>12,} points  best {best:7.2f} s  {rate / 1e6:6.2f} M points/s"
            + (f"  (median of {len(runs)}: {median:7.2f} s, {result['points'] / median / 1e6:6.2f} M points/s)" if len(runs) > 1 else "")
            + (f"  CPU {min(r['cpu_seconds'] for r in runs):7.2f} s" if "cpu_seconds" in result else "")
            + f"  peak RSS {peak / 2**30:5.2f} GiB  {result['rows']:,} rows")
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
    ap.add_argument("--_run", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._run:
        engine, path, level = args._run
        print(json.dumps(run_one(engine, path, level)))
        return

    admin1, admin0, what = load_layers()
    bounds = admin1.total_bounds
    engines = [e for e in args.engines.split(",") if e]
    limits = {"sjoin": args.sjoin_max, "strtree": args.strtree_max, "duckdb": args.duckdb_max}
    print(f"regions: {what}: {len(admin1):,} admin-1, {len(admin0):,} admin-0; level {args.level}; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; "
          f"{'every point its own coordinate' if not args.locations else f'{int(args.locations):,} distinct coordinates'}", flush=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for n in [int(v) for v in args.points]:
            path = Path(tmp) / f"points_{n}.parquet"
            write_points(path, n, bounds, locations=int(args.locations))
            print(f"{n:,} points ({path.stat().st_size / 2**20:.0f} MiB Parquet):", flush=True)
            baseline = None
            skipped = []
            for engine in sorted(engines, key=lambda e: e in ("incore", "dask")):  # baselines first
                if n > limits.get(engine, float("inf")):
                    skipped.append(engine)
                    continue
                runs = [spawn(engine, path, args.level) for _ in range(args.repeat if engine in ("incore", "dask") else 1)]
                if engine in ("strtree", "sjoin") and "error" not in runs[0] and (baseline is None or engine == "sjoin"):
                    baseline = runs[0]
                print(report(runs, baseline), flush=True)
            if skipped:
                print(f"  (not run at this size: {', '.join(skipped)}; see --sjoin-max/--strtree-max/--duckdb-max)", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
