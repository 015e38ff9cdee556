"""How long `capacitymap validate` takes on a file of N facility rows (issue 3: "a few seconds" for 100,000).

Generates a realistic facility CSV (operators, sites, US/CA states by name and code, coordinates inside
the states, capacities with and without units, dates), then times, in one process:
  - baseline: pandas.read_csv of the same file (parsing only);
  - validate: capacitymap.api.validate (read, parse every cell, resolve every region, place every point).
Prints rows, seconds, rows per second and the ratio to the baseline.

    python benchmarks/validate.py [--rows 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    from capacitymap.io import read_admin1

    rng = random.Random(seed)
    layer = read_admin1()
    layer = layer[layer["iso_a2"].isin(["US", "CA"])].reset_index(drop=True)
    points = layer.geometry.representative_point()
    statuses = ["operational", "Operational", "planned", "under construction", "curtailed", "online"]
    lines = ["facility_id,operator,site,country,state,latitude,longitude,capacity_mw,status,as_of,source_url"]
    for i in range(rows):
        j = rng.randrange(len(layer))
        region = layer.at[j, "name"] if i % 2 else layer.at[j, "iso_3166_2"]
        cap = f"{rng.uniform(1, 900):.1f}" if i % 3 else f"{rng.uniform(1, 900):.1f} MW"
        lines.append(
            f"f{i},Operator {i % 97},Site {i},{layer.at[j, 'iso_a2']},{region},{points.iloc[j].y:.5f},{points.iloc[j].x:.5f},"
            f"{cap},{statuses[i % len(statuses)]},20{10 + i % 15}-{1 + i % 12:02d},https://example.com/{i}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from capacitymap import api
    from capacitymap.regions import default_gazetteer

    default_gazetteer()  # built once per process; not part of a file's time
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "facilities.csv"
        make_file(path, args.rows)
        base, ours = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            pd.read_csv(path, dtype=str, keep_default_na=False)
            base.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = api.validate([path])
            ours.append(time.perf_counter() - t0)
        if report.problems or report.rows != args.rows:
            raise SystemExit(f"unexpected: {len(report.problems)} problems, {report.rows} rows: {report.problems[:3]}")
    b, o = statistics.median(base), statistics.median(ours)
    print(f"rows: {args.rows:,}  runs: {args.runs} (median)")
    print(f"baseline pandas.read_csv: {b:.2f} s")
    print(f"capacitymap validate:     {o:.2f} s  ({args.rows / o:,.0f} rows/s, {o / b:.1f}x the baseline)")


if __name__ == "__main__":
    main()
