"""How long capacity over time takes: monthly and quarterly steps and a change map of a facility file.

    python benchmarks/steps.py [FILE] [--runs 3]

Prints, for FILE (default: data/facilities/north_america.csv), the time to read and place it, to build
the monthly and quarterly steps (with the number of steps and rows of the long facilities frame), and
to build the change between its first and last dated month. Best of ``--runs``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from capacitymap import api  # noqa: E402
from capacitymap.pipeline import capacity_change, capacity_steps  # noqa: E402


def best(runs: int, work):  # noqa: ANN001, ANN201
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(ROOT / "data" / "facilities" / "north_america.csv"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    b = api.Boundaries.shipped()
    t, mapped = best(args.runs, lambda: api.load_facilities(args.file, boundaries=b, area=api.preset_area("north-america")))
    print(f"read and place {len(mapped.placed)} rows: {t:.2f} s")
    for every in ("month", "quarter"):
        t, steps = best(args.runs, lambda every=every: capacity_steps(mapped, gazetteer=b.gazetteer, every=every))
        print(f"{every}ly steps: {len(steps.steps)} steps ({steps.steps[0]} to {steps.steps[-1]}), "
              f"{len(steps.facilities)} site-step rows, {len(steps.pipeline)} pipeline rows: {t:.2f} s")
    dates = sorted(mapped.placed["as_of"].dropna())
    first, last = dates[0][:7], dates[-1][:7]
    t, change = best(args.runs, lambda: capacity_change(mapped, first, last, gazetteer=b.gazetteer))
    print(f"change {first} to {last}: {len(change.values)} regions, {len(change.facilities)} sites changed: {t:.2f} s")


if __name__ == "__main__":
    main()
