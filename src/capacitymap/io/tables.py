"""Read any tabular file people hand us into text cells, with the line each record came from.

Every reader returns a :class:`Table`: the header as written, the cells as text (``""`` for an
empty cell), and ``lines``, the 1-based line of each record as an editor shows it (header = line 1).
For Excel that is the sheet's row number; for Parquet and GeoJSON, the record number + 1.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capacitymap.errors import DataError, Problem, SchemaError

__all__ = ["Table", "read_table", "TABLE_SUFFIXES"]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".geojson", ".json", ".gpkg")


@dataclass(frozen=True)
class Table:
    """Text cells of one file, as read."""

    path: str
    header: list[str]
    cells: pd.DataFrame  # columns = header, object dtype, "" for empty
    lines: list[int]
    decimal: str = "."  # "," in semicolon-separated files, where 30,5 means 30.5

    def __len__(self) -> int:
        return len(self.lines)


def read_table(path: str | os.PathLike[str]) -> Table:
    """Read CSV (UTF-8 with or without BOM; comma, semicolon or tab), XLSX, Parquet or GeoJSON/GeoPackage points."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise DataError(Problem(name, None, None, "file not found; check the path"))
    if p.is_dir():
        raise DataError(Problem(name, None, None, "expected a file, got a directory"))
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        table = _read_xlsx(p, name)
    elif suffix == ".parquet":
        table = _read_parquet(p, name)
    elif suffix in (".geojson", ".gpkg") or (suffix == ".json" and _looks_geojson(p)):
        table = _read_points(p, name)
    else:
        table = _read_csv(p, name)
    if not table.header:
        raise DataError(Problem(name, None, None, "the file is empty: expected a header line and at least one record"))
    if len(table) == 0:
        raise DataError(Problem(name, 1, None, "the file has a header but no records; add rows below the header"))
    return table


def _read_csv(p: Path, name: str) -> Table:
    raw = p.read_bytes()
    if b"\x00" in raw[:4096]:
        raise DataError(
            Problem(name, None, None, "expected a text table (CSV), got a binary file; export it as CSV (UTF-8) or .xlsx")
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            Problem(
                name, line, None,
                f"expected UTF-8 text, got byte {raw[exc.start:exc.start + 1]!r} at byte {exc.start}; "
                "re-save the file as 'CSV UTF-8' (Excel) or convert it with iconv -f cp1252 -t utf-8",
            )
        ) from None
    if not text.strip():
        return Table(name, [], pd.DataFrame(), [])
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    start = 1
    try:
        for record in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue  # blank lines are not records
            if header is None:
                header = [h.strip() for h in record]
                while len(header) > 1 and not header[-1]:
                    header.pop()  # trailing empty header cells (spreadsheet exports)
                continue
            if len(record) != len(header):
                if len(record) > len(header) and not any(c.strip() for c in record[len(header):]):
                    record = record[: len(header)]
                else:
                    problems.append(
                        Problem(name, line, None, f"expected {len(header)} cells like the header, got {len(record)}; check for an unquoted {delimiter!r} inside a value")
                    )
                    continue
            rows.append(record)
            lines.append(line)
    except csv.Error as exc:
        raise DataError(Problem(name, reader.line_num, None, f"not a readable CSV table ({exc}); check the quoting")) from None
    if header is None:
        return Table(name, [], pd.DataFrame(), [])
    _check_header(name, header)
    if problems:
        raise DataError(problems)
    decimal = "," if delimiter == ";" else "."
    return Table(name, header, pd.DataFrame(rows, columns=header, dtype=object), lines, decimal)


def _sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _check_header(name: str, header: list[str]) -> None:
    problems = []
    seen: dict[str, int] = {}
    for i, col in enumerate(header, start=1):
        if not col:
            problems.append(Problem(name, 1, f"#{i}", "the header cell is empty; give every column a name"))
        elif col in seen:
            problems.append(Problem(name, 1, col, f"the column name is used twice (columns {seen[col]} and {i}); rename one"))
        else:
            seen[col] = i
    if problems:
        raise SchemaError(problems)


def _read_xlsx(p: Path, name: str) -> Table:
    try:
        from openpyxl import load_workbook

        wb = load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for non-workbooks
        raise DataError(Problem(name, None, None, f"expected an Excel .xlsx workbook, could not open it ({type(exc).__name__}); re-save it as .xlsx or CSV")) from None
    try:
        ws = wb.worksheets[0]
        header: list[str] | None = None
        rows: list[list[str]] = []
        lines: list[int] = []
        for row_number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            texts = [_cell_text(v) for v in values]
            if not any(texts):
                continue
            if header is None:
                header = [t.strip() for t in texts]
                while header and not header[-1]:
                    header.pop()
                continue
            rows.append((texts + [""] * len(header))[: len(header)])
            lines.append(row_number)
    finally:
        wb.close()
    if header is None:
        return Table(name, [], pd.DataFrame(), [])
    _check_header(name, header)
    return Table(name, header, pd.DataFrame(rows, columns=header, dtype=object), lines)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value)


def _read_parquet(p: Path, name: str) -> Table:
    try:
        frame = pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError variants
        raise DataError(Problem(name, None, None, f"expected a Parquet file, could not read it ({exc})")) from None
    return _from_frame(frame, name)


def _looks_geojson(p: Path) -> bool:
    with p.open("rb") as fh:
        head = fh.read(2048)
    return b'"FeatureCollection"' in head or b'"Feature"' in head


def _read_points(p: Path, name: str) -> Table:
    import geopandas as gpd

    try:
        frame = gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise DataError(Problem(name, None, None, f"expected a GeoJSON or GeoPackage of points, could not read it ({exc})")) from None
    geom = frame.geometry
    if len(frame) and not geom.isna().all():
        bad = ~geom.isna() & (geom.geom_type != "Point")
        if bad.any():
            first = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(Problem(name, first + 2, "geometry", f"expected Point geometries, got {geom.iloc[first].geom_type!r}; give facilities as points"))
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            frame = frame.to_crs(4326)
        frame["longitude"] = geom.x.where(~geom.isna())
        frame["latitude"] = geom.y.where(~geom.isna())
    return _from_frame(pd.DataFrame(frame.drop(columns=frame.geometry.name)), name)


def _from_frame(frame: pd.DataFrame, name: str) -> Table:
    header = [str(c) for c in frame.columns]
    cells = pd.DataFrame(
        {h: [_cell_text(v) if not _is_missing(v) else "" for v in frame[c]] for h, c in zip(header, frame.columns)},
        dtype=object,
    )
    return Table(name, header, cells, list(range(2, len(frame) + 2)))


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
