"""Cross-check data/hashrate against the verbatim copies of CCAF's downloads (run by hand, not by the tests).

    python data/scripts/check_ccaf.py [../shared/data/real]

Compares every figure of ``hashrate/mining_countries.csv`` and ``hashrate/mining_provinces_china.csv``
with the copies (same rows, same order, same text), checks the errata table's ``download_%`` against the
download, and prints one line per check with its figures. Exit 1 on any difference.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "hashrate"
COPIES = {
    "mining_countries.csv": "ccaf_mining_countries_2019-09_2022-01.csv",
    "mining_provinces_china.csv": "ccaf_mining_provinces_cn_2019-09_2021-07.csv",
}


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def check_copy(ours: Path, copy: Path) -> list[str]:
    mine, theirs = _rows(ours), _rows(copy)
    problems = []
    if mine[0][:-1] != theirs[0] or mine[0][-1] != "source_url":
        problems.append(f"{ours.name}: header {mine[0]!r}, the copy has {theirs[0]!r} (+ source_url expected)")
    if len(mine) != len(theirs):
        problems.append(f"{ours.name}: {len(mine) - 1} rows, the copy has {len(theirs) - 1}")
    for i, (a, b) in enumerate(zip(mine[1:], theirs[1:]), start=2):
        if a[:-1] != b:
            problems.append(f"{ours.name}:{i}: {a[:-1]!r} differs from the copy's {b!r}")
    print(f"{ours.name}: {len(mine) - 1} rows against {copy.name}: {'identical figures' if not problems else f'{len(problems)} difference(s)'}")
    return problems


def check_errata(copy: Path) -> list[str]:
    countries = {(r[0][:7], r[1]): r[2].rstrip("%") for r in _rows(copy)[1:]}
    problems = []
    rows = _rows(DATA / "ccaf_errata.csv")
    head = rows[0]
    for r in rows[1:]:
        row = dict(zip(head, r))
        key = (row["month"], row["place"])
        if key in countries and float(countries[key]) != float(row["download_%"]):
            problems.append(f"ccaf_errata.csv: {key!r} download_% {row['download_%']} but the download has {countries[key]}")
    print(f"ccaf_errata.csv: {len(rows) - 1} rows; country rows checked against the download: {problems or 'ok'}")
    return problems


def main(argv: list[str]) -> int:
    real = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
    problems: list[str] = []
    for ours, copy in COPIES.items():
        problems += check_copy(DATA / ours, real / copy)
    problems += check_errata(real / COPIES["mining_countries.csv"])
    for p in problems:
        print(p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
