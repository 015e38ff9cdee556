"""Benchmark ``capacitymap.aggregate``: points per second and peak memory per engine, vs a naive sjoin.

    python benchmarks/aggregate.py                       # 1M and 10M points, in-core + dask + sjoin
    python benchmarks/aggregate.py --points 1e6          # one size
    python benchmarks/aggregate.py --points 1e6 --no-sjoin --engines incore
    python benchmarks/aggregate.py --stream 5e7          # 50M points streamed from Parquet (in-core)

Points are synthetic (uniform over the layer's extent, so some fall in the sea; 12 months x 10
pools; exponential hashrate) and written to Parquet in 1M-row row groups first; every engine then
reads that file, so the figures include reading. The regions are the shipped admin-1/admin-0 layers
when ``shapefiles/`` has them, else a synthetic layer of 3,000 Voronoi regions with ~1M vertices.

Each run is a separate process (``python benchmarks/aggregate.py --_run ...``), so peak memory is
its own: the largest resident set of the process and its children (Dask workers), sampled by psutil.
The naive baseline reads the whole frame, builds point geometries and runs ``geopandas.sjoin``
with ``predicate="intersects"``, then ``groupby``-sums: what one writes without this module.
"""

from __future__ import annotations

import argparse
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
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
            stop.wait(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    return peak, stop


def run_one(engine: str, path: str, level: str) -> dict:
    """In a fresh process: one engine on one file; time and peak RSS."""
    import resource

    admin1, admin0, _ = load_layers()
    peak, stop = _peak_sampler()
    t0 = time.perf_counter()
    if engine == "sjoin":
        import geopandas as gpd
        import pandas as pd

        frame = pd.read_parquet(path)
        pts = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["longitude"], frame["latitude"]), crs=4326)
        joined = gpd.sjoin(pts, admin1, predicate="intersects", how="inner")
        joined = joined[~joined.index.duplicated()]
        out = joined.groupby(["month", "pool", "iso_3166_2"], observed=True)["hashrate_th"].sum()
        rows, points = len(out), len(frame)
    else:
        from capacitymap.aggregate import aggregate
        from capacitymap.io.points import open_points

        source = open_points([path], weight="hashrate_th", by=["month", "pool"])
        table, report = aggregate(source, admin1, admin0, level=level, engine=engine, quiet=True)
        rows, points = len(table), report.points
    seconds = time.perf_counter() - t0
    stop.set()
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"engine": engine, "points": points, "seconds": seconds, "rows": rows,
            "peak_rss_bytes": max(peak[0], self_peak)}


def spawn(engine: str, path: Path, level: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--_run", engine, str(path), level],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{engine} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(result: dict, baseline: dict | None) -> str:
    rate = result["points"] / result["seconds"]
    line = (f"  {result['engine']:<7} {result['points']:>12,} points  {result['seconds']:8.2f} s  "
            f"{rate / 1e6:6.2f} M points/s  peak RSS {result['peak_rss_bytes'] / 2**30:5.2f} GiB  {result['rows']:,} rows")
    if baseline is not None and result is not baseline:
        line += f"  {baseline['seconds'] / result['seconds']:5.1f}x faster than sjoin"
    return line


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=float, nargs="+", default=[1e6, 1e7], help="sizes to run (default 1e6 1e7)")
    ap.add_argument("--engines", default="incore,dask", help="comma-separated: incore,dask")
    ap.add_argument("--no-sjoin", action="store_true", help="skip the naive geopandas.sjoin baseline")
    ap.add_argument("--stream", type=float, default=None, help="also stream this many points (e.g. 5e7) from Parquet in-core")
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
    print(f"regions: {what}: {len(admin1):,} admin-1, {len(admin0):,} admin-0; level {args.level}; "
          f"{os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        sizes = [int(n) for n in args.points]
        for n in sizes:
            path = Path(tmp) / f"points_{n}.parquet"
            write_points(path, n, bounds)
            print(f"{n:,} points ({path.stat().st_size / 2**20:.0f} MiB Parquet):", flush=True)
            baseline = None if args.no_sjoin else spawn("sjoin", path, args.level)
            if baseline is not None:
                print(report(baseline, None), flush=True)
            for engine in [e for e in args.engines.split(",") if e]:
                print(report(spawn(engine, path, args.level), baseline), flush=True)
            path.unlink()
        if args.stream:
            n = int(args.stream)
            path = Path(tmp) / f"points_{n}.parquet"
            write_points(path, n, bounds)
            print(f"{n:,} points streamed from Parquet ({path.stat().st_size / 2**20:.0f} MiB):", flush=True)
            print(report(spawn("incore", path, args.level), None), flush=True)


if __name__ == "__main__":
    main()
