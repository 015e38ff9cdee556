"""Hostile and large inputs: time, peak memory and printed lines, against a naive baseline in the same run.

    python benchmarks/robust.py                    # the workbook cases and a 100,000-row facility file
    python benchmarks/robust.py --rows 1e6         # the issue's million-row file (slow: minutes, GBs)

1. A workbook whose sheet declares ``<dimension ref="A1:K3"/>`` over 10 data rows (some export tools write
   such a dimension). Baseline: openpyxl's read-only mode as it is (trusts the dimension: 2 records).
   capacitymap: ``read_table`` (reads the sheet as it is).
2. A workbook with a row numbered 3,000,000 after 10 rows: capacitymap stops at its row limit with a message;
   2b. a 48 MB workbook holding 3,000,000 real rows (the issue's bomb): refused before parsing.
3. A facility CSV of ``--rows`` sites, half of them with an unparsable capacity: ``capacitymap validate`` (lines
   printed) and ``capacitymap render --skip-invalid`` (time, peak memory, stderr lines, page size or refusal).

Each CLI run is its own process; peak memory is its maximum resident set (``getrusage`` of the child).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

SRC = Path(__file__).parents[1] / "src"


def workbook(path: Path, *, dimension: str | None = None, far_row: int | None = None) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["operator", "site", "state", "capacity_mw", "status"])
    for i in range(10):
        ws.append([f"Op{i}", f"Site{i}", "Texas", 10 + i, "operational"])
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    xml = members["xl/worksheets/sheet1.xml"].decode()
    if dimension:
        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', xml)
    if far_row:
        xml = xml.replace("</sheetData>", f'<row r="{far_row}"><c r="A{far_row}" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    members["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def bomb_workbook(path: Path, rows: int) -> Path:
    """A small workbook whose one sheet holds ``rows`` repetitive rows (compresses about 100:1)."""
    workbook(path)
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    head = members["xl/worksheets/sheet1.xml"].decode()
    head = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:E{rows + 1}"/>', head)
    start, end = head.index("<sheetData>") + len("<sheetData>"), head.index("</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if name != "xl/worksheets/sheet1.xml":
                zf.writestr(name, data)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(head[:start].encode())
            fh.write(b'<row r="1"><c r="A1" t="inlineStr"><is><t>operator</t></is></c><c r="B1" t="inlineStr"><is><t>site</t>'
                     b'</is></c><c r="C1" t="inlineStr"><is><t>state</t></is></c><c r="D1" t="inlineStr"><is><t>capacity_mw'
                     b'</t></is></c><c r="E1" t="inlineStr"><is><t>status</t></is></c></row>')
            for r in range(2, rows + 2):
                fh.write(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>Op</t></is></c><c r="B{r}" t="inlineStr"><is><t>S</t>'
                         f'</is></c><c r="C{r}" t="inlineStr"><is><t>TX</t></is></c><c r="D{r}"><v>10</v></c><c r="E{r}" '
                         f't="inlineStr"><is><t>operational</t></is></c></row>'.encode())
            fh.write(head[end:].encode())
    return path


def naive_rows(path: Path) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return n


def timed(fn):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what happened
        out = f"{type(exc).__name__}: {str(exc)[:160]}"
    return out, time.perf_counter() - start


def run_cli(*args: str) -> tuple[int, float, float, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from capacitymap.cli import main; main()", *args],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return done.returncode, seconds, peak_mb, (done.stdout + done.stderr).splitlines()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=float, default=1e5)
    parser.add_argument("--bomb-rows", type=float, default=3e6)
    args = parser.parse_args()
    sys.path.insert(0, str(SRC))
    from capacitymap.io.tables import read_table

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("1. workbook whose sheet declares a stale dimension")
        stale3 = workbook(folder / "stale.xlsx", dimension="A1:K3")
        print(f"   stale A1:K3 over 10 rows: openpyxl as is {naive_rows(stale3) - 1} records, "
              f"capacitymap {len(read_table(stale3))} records")

        print("2. workbook with a row numbered 3,000,000 after 10 rows (the sheet declares A1:E11)")
        far = workbook(folder / "far.xlsx", far_row=3_000_000)
        n, t = timed(lambda: naive_rows(far))
        print(f"   openpyxl read-only as is: {n} rows yielded in {t:.2f} s (the declared dimension hides the row)")
        msg, t2 = timed(lambda: read_table(far))
        print(f"   capacitymap read_table:    {str(msg)[:200]} ({t2:.2f} s)")

        bomb_rows = int(args.bomb_rows)
        bomb = bomb_workbook(folder / "bomb.xlsx", bomb_rows)
        print(f"2b. workbook of {bomb.stat().st_size / 1e6:,.1f} MB holding {bomb_rows:,} real rows (declared A1:E{bomb_rows + 1})")
        code, secs, peak, lines = run_cli("validate", str(bomb))
        print(f"   capacitymap validate: exit {code}, {secs:,.1f} s, peak {peak:,.0f} MB: {lines[0][:220] if lines else ''}")

        rows = int(args.rows)
        print(f"3. facility CSV of {rows:,} rows, every other capacity unparsable")
        csv = folder / "sites.csv"
        with csv.open("w", encoding="utf-8") as fh:
            fh.write("operator,site,latitude,longitude,capacity_mw,status\n")
            for i in range(rows):
                mw = "abc" if i % 2 else f"{1 + i % 50}"
                fh.write(f"Op{i % 40},Site{i},{29 + (i % 600) / 100:.2f},{-103 + (i % 700) / 100:.2f},{mw},operational\n")
        print(f"   input {csv.stat().st_size / 1e6:,.1f} MB")
        code, secs, peak, lines = run_cli("validate", str(csv))
        print(f"   validate: exit {code}, {secs:,.1f} s, peak {peak:,.0f} MB, {len(lines):,} lines printed "
              f"(one per problem would be {rows // 2 + 1:,})")
        out = folder / "sites.html"
        code, secs, peak, lines = run_cli("render", str(csv), "--preset", "us", "-o", str(out), "--skip-invalid")
        size = f"page {out.stat().st_size / 1e6:,.1f} MB" if out.exists() else "no page written"
        print(f"   render --skip-invalid: exit {code}, {secs:,.1f} s, peak {peak:,.0f} MB, {len(lines):,} lines printed, {size}")
        if code:
            print("   last line: " + lines[-1][:300])


if __name__ == "__main__":
    main()
