"""How long the command line takes before it does any work, and what it imports.

    python benchmarks/startup.py [--runs 5]

Prints, for ``capacitymap --help``, ``capacitymap COMMAND --help`` and ``--version``, the CPU time
(user + system) of the whole process, best and median of ``--runs``, against a bare
``python -c pass`` baseline run in the same process; which heavy libraries ``validate`` and
``summary`` of a small CSV import; and the ten slowest imports of ``import capacitymap.cli``.
Target (issue 15): every help/version command under 0.15 s of CPU.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("folium", "branca", "mapclassify", "scipy", "matplotlib", "dask", "geopandas", "shapely")
TARGET_S = 0.15


def cpu_seconds(argv: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from capacitymap.cli import main; main()", *args]


def imported_by(command: list[str]) -> list[str]:
    code = (
        "import sys\nfrom capacitymap.cli import main\n"
        f"try:\n    main({command!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return [m for m in out.strip().splitlines()[-1].split(",") if m] if out.strip() else []


def slowest_imports(n: int = 10) -> list[tuple[int, str]]:
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import capacitymap.cli"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stderr
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s+(.*)$", line)
        if m:
            rows.append((int(m.group(1)), m.group(3).strip()))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    baseline = [cpu_seconds([sys.executable, "-c", "pass"]) for _ in range(runs)]
    print(f"python -c pass: best {min(baseline):.3f} s CPU, median {statistics.median(baseline):.3f} s")
    worst = 0.0
    commands = [["--help"], ["--version"]] + [[c, "--help"] for c in
                ("validate", "summary", "render", "hashrate", "aggregate", "embed", "regions", "demo")]
    for args in commands:
        times = [cpu_seconds(cli(*args)) for _ in range(runs)]
        worst = max(worst, min(times))
        print(f"capacitymap {' '.join(args):<18} best {min(times):.3f} s CPU, median {statistics.median(times):.3f} s "
              f"({min(times) / min(baseline):.1f}x bare python)")
    print(f"slowest help/version: {worst:.3f} s CPU (target < {TARGET_S} s): {'OK' if worst < TARGET_S else 'OVER'}")

    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "sites.csv"
        small.write_text("operator,site,region,country,capacity_mw,status,as_of,source_url\n"
                         "Riot,Rockdale,TX,US,700,operational,2024-12,https://example.org/riot\n", encoding="utf-8")
        for command in (["validate", str(small)], ["summary", str(small)]):
            heavy = imported_by(command)
            print(f"capacitymap {command[0]} small.csv imports: {', '.join(heavy) or 'none of ' + ', '.join(HEAVY)}")
    print("ten slowest imports of `import capacitymap.cli` (self time):")
    for micros, name in slowest_imports():
        print(f"  {micros / 1000:8.1f} ms  {name}")
    os.sys.stdout.flush()


if __name__ == "__main__":
    main()
