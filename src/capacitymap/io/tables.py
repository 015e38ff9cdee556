"""Read any tabular file people hand us into text cells, with the line each record came from.

Every reader returns a :class:`Table`: the header as written, the cells as text (``""`` for an
empty cell), and ``lines``, the 1-based line of each record as an editor shows it (header = line 1).
For Excel that is the sheet's row number; for Parquet and GeoJSON, the record number + 1.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capacitymap.errors import DataError, Problem, SchemaError

__all__ = ["Table", "Limits", "read_table", "read_header", "check_input_file", "TABLE_SUFFIXES"]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".geojson", ".json", ".gpkg")


@dataclass(frozen=True)
class Limits:
    """How much one input file may hold before it is refused (each can be raised by an environment variable).

    The defaults are far beyond any facility list or pool table (thousands of rows; millions of point records
    go through :mod:`capacitymap.io.points`, which streams them); they are there so that a damaged or hostile
    file (a small workbook unzipping to millions of rows, ``/dev/zero``) ends in seconds with a clear message
    instead of exhausting time and memory.
    """

    max_bytes: int = 256 << 20  # CAPACITYMAP_MAX_INPUT_MB
    max_rows: int = 200_000  # CAPACITYMAP_MAX_ROWS
    max_columns: int = 1_000  # CAPACITYMAP_MAX_COLUMNS
    max_unpacked_bytes: int = 256 << 20  # CAPACITYMAP_MAX_UNPACKED_MB: an .xlsx's contents once unzipped

    @classmethod
    def from_environment(cls) -> Limits:
        """The defaults, each overridden by its environment variable when set to a positive whole number."""
        base = cls()
        values = {}
        for name, env, unit in _LIMIT_ENV:
            text = os.environ.get(env, "").strip()
            if text.isdigit() and int(text) > 0:
                values[name] = int(text) * unit
            else:
                values[name] = getattr(base, name)
        return cls(**values)


_MB = 1 << 20
_LIMIT_ENV = (
    ("max_bytes", "CAPACITYMAP_MAX_INPUT_MB", _MB),
    ("max_rows", "CAPACITYMAP_MAX_ROWS", 1),
    ("max_columns", "CAPACITYMAP_MAX_COLUMNS", 1),
    ("max_unpacked_bytes", "CAPACITYMAP_MAX_UNPACKED_MB", _MB),
)


def _raise_hint(name: str, wanted: int) -> str:
    env, unit = next((e, u) for n, e, u in _LIMIT_ENV if n == name)
    return f"if the file is right, raise the limit with {env}={max(1, -(-wanted // unit))}"


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


def check_input_file(path: str | os.PathLike[str], *, limits: Limits | None = None) -> int:
    """Refuse what is not an ordinary file of a sane size (a FIFO, a device, a directory); return its size in bytes."""
    lim = limits or Limits.from_environment()
    name = str(path)
    try:
        st = os.stat(path)  # follows symlinks: a link to /dev/zero is judged by what it points at
    except FileNotFoundError:
        raise DataError(Problem(name, None, None, "file not found; check the path")) from None
    except OSError as exc:
        raise DataError(Problem(
            name, None, None, f"expected a readable file, got an error opening it ({exc.strerror}); check the path and its permissions",
        )) from None
    if stat.S_ISDIR(st.st_mode):
        raise DataError(Problem(name, None, None, "expected a file, got a directory"))
    if not stat.S_ISREG(st.st_mode):
        raise DataError(Problem(
            name, None, None,
            f"expected an ordinary file, got {_file_type(st.st_mode)}{' (through a link)' if Path(path).is_symlink() else ''}; "
            "save the data to a file first and pass that file",
        ))
    if st.st_size > lim.max_bytes:
        raise DataError(Problem(
            name, None, None,
            f"expected a file of at most {lim.max_bytes // _MB:,} MB, got {st.st_size / _MB:,.1f} MB; "
            f"split the file, or {_raise_hint('max_bytes', st.st_size)}",
        ))
    return st.st_size


def _file_type(mode: int) -> str:
    for test, what in ((stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "a special file"


def read_table(path: str | os.PathLike[str], *, limits: Limits | None = None) -> Table:
    """Read CSV, XLSX, Parquet or GeoJSON/GeoPackage points into text cells.

    CSV may be UTF-8 (with or without BOM) or UTF-16 with a BOM, separated by commas, semicolons or tabs.
    Files beyond ``limits`` (default: :meth:`Limits.from_environment`) are refused.
    """
    p = Path(path)
    name = str(path)
    lim = limits or Limits.from_environment()
    check_input_file(p, limits=lim)
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        table = _read_xlsx(p, name, lim)
    elif suffix == ".parquet":
        table = _read_parquet(p, name, lim)
    elif suffix in (".geojson", ".gpkg") or (suffix == ".json" and _looks_geojson(p)):
        table = _read_points(p, name)
    else:
        table = _read_csv(p, name, lim)
    if not table.header:
        raise DataError(Problem(name, None, None, "the file is empty: expected a header line and at least one record"))
    if len(table) == 0:
        raise DataError(Problem(name, 1, None, "the file has a header but no records; add rows below the header"))
    return table


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a file, read cheaply (first line, first sheet row, or the schema); errors as :func:`read_table`."""
    p = Path(path)
    name = str(path)
    lim = Limits.from_environment()
    check_input_file(p, limits=lim)
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return [str(n) for n in pq.read_schema(p).names]
        except Exception as exc:  # pyarrow raises ArrowInvalid and OSError variants
            raise DataError(Problem(name, None, None, f"expected a Parquet file, could not read it ({exc})")) from None
    if suffix == ".xlsx":
        return _read_xlsx(p, name, lim, header_only=True).header
    if suffix in (".geojson", ".gpkg") or (suffix == ".json" and _looks_geojson(p)):
        return _read_points(p, name).header
    with p.open("rb") as fh:
        head = fh.read(64 * 1024)
    text = _decode(head, name, partial=True)
    first = next((line for line in text.splitlines() if line.strip()), "")
    return [h.strip() for h in next(csv.reader([first], delimiter=_sniff_delimiter(first)), [])]


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _decode(raw: bytes, name: str, *, partial: bool = False) -> str:
    """UTF-8 (BOM or not), or UTF-16/32 announced by a BOM (Excel's "Unicode text"); anything else is refused, located."""
    encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), None)
    if encoding is not None:
        if partial:
            raw = raw[: len(raw) - len(raw) % 4]
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            if partial and exc.start >= len(raw) - 4:
                return raw[: exc.start].decode(encoding)
            raise DataError(Problem(
                name, None, None,
                f"expected {encoding.upper()} text (the file starts with its byte-order mark), got an invalid sequence "
                f"at byte {exc.start}; re-save the file as 'CSV UTF-8'",
            )) from None
    if b"\x00" in raw[:4096]:
        hint = ""
        head = raw[:4096]
        if head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4:
            hint = " (it looks like UTF-16 text without a byte-order mark)"
        raise DataError(
            Problem(name, None, None, f"expected a text table (CSV), got a binary file{hint}; export it as CSV (UTF-8) or .xlsx")
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(raw) - 3:
            return raw[: exc.start].decode("utf-8-sig")
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            Problem(
                name, line, None,
                f"expected UTF-8 text, got byte {raw[exc.start:exc.start + 1]!r} at byte {exc.start}; "
                "re-save the file as 'CSV UTF-8' (Excel) or convert it with iconv -f cp1252 -t utf-8",
            )
        ) from None


def _read_csv(p: Path, name: str, lim: Limits) -> Table:
    with p.open("rb") as fh:
        raw = fh.read(lim.max_bytes + 1)  # bounded even where the size on disk says nothing (/proc files)
    if len(raw) > lim.max_bytes:
        raise DataError(Problem(
            name, None, None,
            f"expected a file of at most {lim.max_bytes // _MB:,} MB, got more; split the file, or {_raise_hint('max_bytes', len(raw))}",
        ))
    text = _decode(raw, name)
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
                _check_width(name, line, len(header), lim)
                continue
            if len(lines) >= lim.max_rows:
                _too_many_rows(name, line, lim)
            if len(record) != len(header):
                if len(record) > len(header) and not any(c.strip() for c in record[len(header):]):
                    record = record[: len(header)]
                else:
                    problems.append(
                        Problem(name, line, None, f"expected {len(header)} cells like the header, got {len(record)}; "
                                f"check for an unquoted {delimiter!r} inside a value")
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


def _check_width(name: str, line: int, width: int, lim: Limits) -> None:
    if width > lim.max_columns:
        raise DataError(Problem(
            name, line, None,
            f"expected at most {lim.max_columns:,} columns, got {width:,}; remove the unused columns, or {_raise_hint('max_columns', width)}",
        ))


def _too_many_rows(name: str, line: int, lim: Limits) -> None:
    raise DataError(Problem(
        name, line, None,
        f"expected at most {lim.max_rows:,} records, got more (reading stopped here); split the file, or "
        f"{_raise_hint('max_rows', lim.max_rows * 2)}",
    ))


def _column_letter(index: int) -> str:
    """1 → A, 27 → AA: the column as a spreadsheet shows it."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _not_a_workbook(name: str, exc: Exception) -> DataError:
    return DataError(Problem(
        name, None, None, f"expected an Excel .xlsx workbook, could not open it ({type(exc).__name__}); re-save it as .xlsx or CSV",
    ))


def _open_workbook(p: Path, name: str, lim: Limits, *, data_only: bool):  # noqa: ANN202 - openpyxl Workbook
    try:
        with zipfile.ZipFile(p) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise _not_a_workbook(name, exc) from None
    if unpacked > lim.max_unpacked_bytes:
        raise DataError(Problem(
            name, None, None,
            f"expected a workbook of at most {lim.max_unpacked_bytes // _MB:,} MB once unzipped, got {unpacked / _MB:,.0f} MB; "
            f"save the sheet as CSV, or {_raise_hint('max_unpacked_bytes', unpacked)}",
        ))
    try:
        from openpyxl import load_workbook

        return load_workbook(p, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for non-workbooks
        raise _not_a_workbook(name, exc) from None


def _sheet_rows(ws, name: str, lim: Limits):  # noqa: ANN001, ANN202 - (row number, values) of a read-only sheet
    # Read-only mode trusts the sheet's declared <dimension>: a stale one hides rows, a huge one pads millions of
    # empty rows. Read the sheet as it is instead, and stop at the limits.
    ws.reset_dimensions()
    for row_number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if row_number > lim.max_rows + 1:
            raise DataError(Problem(
                name, row_number, None,
                f"expected sheet rows numbered up to {lim.max_rows + 1:,} (a header and {lim.max_rows:,} records), got more "
                f"(reading stopped here); delete the rows below the data, split the file, or "
                f"{_raise_hint('max_rows', lim.max_rows * 2)}",
            ))
        if len(values) > lim.max_columns and any(v is not None for v in values[lim.max_columns:]):
            _check_width(name, row_number, len(values), lim)
        yield row_number, values


def _read_xlsx(p: Path, name: str, lim: Limits, *, header_only: bool = False) -> Table:
    wb = _open_workbook(p, name, lim, data_only=True)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    empty: list[tuple[int, int]] = []  # (row number, column index) of empty record cells: formulas are checked there
    try:
        ws = wb.worksheets[0]
        for row_number, values in _sheet_rows(ws, name, lim):
            texts = [_cell_text(v) for v in values]
            if not any(texts):
                continue
            if header is None:
                header = [t.strip() for t in texts]
                while header and not header[-1]:
                    header.pop()
                if header_only:
                    break
                continue
            extra = [(i, t) for i, t in enumerate(texts[len(header):], start=len(header) + 1) if t.strip()]
            if extra:
                col, text = extra[0]
                problems.append(Problem(
                    name, row_number, None,
                    f"expected {len(header)} cells like the header, got a value in column {_column_letter(col)} "
                    f"beyond it ({text!r}); give that column a header or delete the value",
                ))
                continue
            row = (texts + [""] * len(header))[: len(header)]
            empty.extend((row_number, i) for i, t in enumerate(row) if not t)
            rows.append(row)
            lines.append(row_number)
    finally:
        wb.close()
    if header is None:
        return Table(name, [], pd.DataFrame(), [])
    _check_header(name, header)
    if empty and not header_only:
        problems.extend(_uncached_formulas(p, name, lim, header, set(empty)))
    if problems:
        raise DataError(sorted(problems, key=lambda pr: (pr.line or 0, pr.column or "")))
    return Table(name, header, pd.DataFrame(rows, columns=header, dtype=object), lines)


def _uncached_formulas(p: Path, name: str, lim: Limits, header: list[str], empty: set[tuple[int, int]]) -> list[Problem]:
    """Cells that read as empty because they hold a formula whose result was never saved (files written by scripts)."""
    wanted_rows = {r for r, _ in empty}
    last = max(wanted_rows)
    problems = []
    wb = _open_workbook(p, name, lim, data_only=False)
    try:
        for row_number, values in _sheet_rows(wb.worksheets[0], name, lim):
            if row_number > last:
                break
            if row_number not in wanted_rows:
                continue
            for i, v in enumerate(values[: len(header)]):
                if isinstance(v, str) and v.startswith("=") and (row_number, i) in empty:
                    problems.append(Problem(
                        name, row_number, header[i],
                        f"expected a value, got a formula with no saved result ({v!r}); open the file in Excel or "
                        "LibreOffice and save it so the results are stored, or paste the values",
                    ))
    finally:
        wb.close()
    return problems


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value)


def _read_parquet(p: Path, name: str, lim: Limits) -> Table:
    try:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(p).metadata
        if meta.num_rows > lim.max_rows:
            _too_many_rows(name, lim.max_rows + 2, lim)
        if meta.num_columns > lim.max_columns:
            _check_width(name, 1, meta.num_columns, lim)
        frame = pd.read_parquet(p)
    except DataError:
        raise
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
