"""Batched readers for millions of geolocated point records (Parquet and CSV, via pyarrow).

A point file has one row per hasher connection or hasher-day: ``latitude`` and ``longitude``
(degrees WGS84), a weight column (hashrate) and optional group columns (``month``, ``pool``).
Nothing here loads a whole file: :meth:`PointSource.batches` streams :class:`PointBatch` es of at
most ``batch_size`` rows (``pyarrow.parquet.ParquetFile.iter_batches``, ``pyarrow.csv.open_csv``),
so memory stays bounded whatever the file size.

The unit of parallel work is a :class:`PointPart`: one Parquet row group, or one whole CSV file.
:func:`read_point_part` reads one part; the Dask engine ships parts (plain paths and numbers) to
its workers, which read them from storage they share with the client.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from capacitymap.errors import DataError, Problem, SchemaError
from capacitymap.vocab import PointFormat

__all__ = [
    "COORDINATE_COLUMNS",
    "DEFAULT_BATCH_SIZE",
    "PointBatch",
    "PointPart",
    "PointSource",
    "open_points",
    "read_point_part",
]

#: The coordinate columns every point file has, degrees WGS84.
COORDINATE_COLUMNS: Final[tuple[str, str]] = ("latitude", "longitude")

#: Rows per batch: large enough for vectorised work (a whole 1M-row Parquet row group is one
#: batch), small enough that a batch of the widest frame stays well under 100 MB.
DEFAULT_BATCH_SIZE: Final = 1 << 20



@dataclass(frozen=True, slots=True)
class PointPart:
    """One unit of reading: a Parquet row group (``row_group`` set) or a whole CSV file."""

    path: str
    format: PointFormat
    row_group: int | None = None
    rows: int | None = None  # known for Parquet, None for CSV


@dataclass(frozen=True)
class PointBatch:
    """Up to ``batch_size`` consecutive records of one file, as columns (no pandas frame is built to read them).

    ``columns`` maps each column read to its values: float64 numpy arrays for ``latitude``,
    ``longitude`` and the weight (read-only: they may share Arrow's memory), and pandas
    Series for the group columns (categorical where the file stores text; ``month`` normalised to
    ``"YYYY-MM"`` text when it was a date). ``frame`` is the same as a DataFrame, built on first
    use. ``first_line`` locates the first row for error messages: the editor line for CSV
    (header = line 1), the 1-based row number for Parquet.
    """

    file: str
    first_line: int
    columns: Mapping[str, Any]

    @property
    def rows(self) -> int:
        """Number of records in the batch."""
        return len(next(iter(self.columns.values()))) if self.columns else 0

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The columns as a DataFrame (built on first use; the engines read ``columns``)."""
        return pd.DataFrame(dict(self.columns), copy=False)


@dataclass(frozen=True, slots=True)
class PointSource:
    """Point files opened and checked by :func:`open_points`; read them with :meth:`batches`."""

    parts: tuple[PointPart, ...]
    weight: str
    by: tuple[str, ...]
    batch_size: int = DEFAULT_BATCH_SIZE

    @property
    def rows(self) -> int | None:
        """Number of records, when every file tells it without being read (Parquet); else None."""
        if any(p.rows is None for p in self.parts):
            return None
        return sum(p.rows or 0 for p in self.parts)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns read: the coordinates, the weight and the group columns."""
        return (*COORDINATE_COLUMNS, self.weight, *self.by)

    def batches(self) -> Iterator[PointBatch]:
        """Stream every record of every file, in file order, as :class:`PointBatch` es."""
        for part in self.parts:
            yield from read_point_part(part, weight=self.weight, by=self.by, batch_size=self.batch_size)


def open_points(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    weight: str,
    by: Sequence[str] = (),
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> PointSource:
    """Check point files (they exist, have a known format and the needed columns) without reading rows.

    ``.parquet``/``.pq`` files are Parquet, ``.csv`` files CSV. Raises :class:`SchemaError` listing
    every file that lacks a column, and :class:`DataError` for missing or unreadable files.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise DataError(Problem("<points>", None, None, "expected at least one point file, got none; name a Parquet or CSV file"))
    if batch_size < 1:
        raise ValueError(f"batch_size: expected a positive number of rows, got {batch_size!r}")
    by = tuple(by)
    needed = (*COORDINATE_COLUMNS, weight, *by)
    parts: list[PointPart] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        fmt = _format_of(path)
        if fmt is None:
            problems.append(Problem(str(path), None, None, f"expected a .parquet or .csv point file, got suffix {path.suffix!r}; convert it to Parquet or CSV"))
            continue
        if not path.is_file():
            problems.append(Problem(str(path), None, None, "expected an existing point file, got a path that does not exist; check the path"))
            continue
        try:
            header, file_parts = _inspect(path, fmt)
        except (OSError, pa.ArrowException) as exc:
            problems.append(Problem(str(path), None, None, f"cannot read as {fmt} ({exc}); check the file is a valid {fmt} file"))
            continue
        missing = [c for c in needed if c not in header]
        if missing:
            problems.append(
                Problem(str(path), 1 if fmt == "csv" else None, None,
                        f"expected columns {missing!r}, got columns {list(header)!r}; rename them or name others with --weight/--by")
            )
            continue
        parts.extend(file_parts)
    if problems:
        if all("expected columns" in p.message for p in problems):
            raise SchemaError(problems)
        raise DataError(problems)
    return PointSource(parts=tuple(parts), weight=weight, by=by, batch_size=batch_size)


def read_point_part(
    part: PointPart, *, weight: str, by: Sequence[str] = (), batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[PointBatch]:
    """Stream one part (a Parquet row group or a CSV file) as batches of at most ``batch_size`` rows."""
    columns = [*COORDINATE_COLUMNS, weight, *by]
    if part.format == "parquet":
        # Text group columns are read dictionary-encoded: grouping then works on small integer codes.
        schema = pq.read_schema(part.path)
        text = [c for c in by if c in schema.names and _is_text(schema.field(c).type)]
        # Memory-mapped: the pages are read in place, not through another buffer.
        pf = pq.ParquetFile(part.path, read_dictionary=text or None, memory_map=True)
        groups = None if part.row_group is None else [part.row_group]
        first = 1
        if part.row_group is not None:
            meta = pf.metadata
            first += sum(meta.row_group(i).num_rows for i in range(part.row_group))
        if part.row_group is not None and part.rows is not None and part.rows <= batch_size:
            # A whole row group at once: cheaper than iter_batches (no re-slicing of its pages).
            record_batches: Iterator[pa.RecordBatch | pa.Table] = iter([pf.read_row_group(part.row_group, columns=columns, use_threads=True)])
        else:
            record_batches = pf.iter_batches(batch_size=batch_size, row_groups=groups, columns=columns, use_threads=True)
    else:
        first = 2  # the header is line 1
        record_batches = _csv_batches(part.path, columns, weight, batch_size)
    for rb in record_batches:
        if rb.num_rows == 0:
            continue
        yield PointBatch(part.path, first, _to_columns(rb, columns, weight, part.path))
        first += rb.num_rows


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def _format_of(path: Path) -> PointFormat | None:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    return None


def _inspect(path: Path, fmt: PointFormat) -> tuple[tuple[str, ...], list[PointPart]]:
    if fmt == "parquet":
        meta = pq.ParquetFile(path).metadata
        header = tuple(meta.schema.to_arrow_schema().names)
        parts = [PointPart(str(path), "parquet", i, meta.row_group(i).num_rows) for i in range(meta.num_row_groups)]
        return header, parts
    with open(path, "rb") as fh:
        first_line = fh.readline().decode("utf-8-sig", errors="replace")
    header = tuple(h.strip().strip('"') for h in first_line.rstrip("\r\n").split(","))
    return header, [PointPart(str(path), "csv")]


def _csv_batches(path: str, columns: list[str], weight: str, batch_size: int) -> Iterator[pa.RecordBatch]:
    # Coordinates and weight are read as float64; group columns as dictionary-encoded text (months stay "YYYY-MM").
    types = {c: pa.float64() for c in (*COORDINATE_COLUMNS, weight)}
    types.update({c: pa.dictionary(pa.int32(), pa.string()) for c in columns if c not in types})
    # pyarrow's block size is in bytes; ~40 bytes a row keeps batches near batch_size rows.
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=max(1 << 16, min(batch_size * 40, 1 << 30))),
            convert_options=pacsv.ConvertOptions(include_columns=columns, column_types=types),
        )
        yield from reader
    except pa.ArrowInvalid as exc:
        found = _first_non_number(path, (*COORDINATE_COLUMNS, weight))
        if found is None:
            raise DataError(Problem(path, None, None, f"expected a CSV file pyarrow can read, got: {exc}")) from exc
        line, column, text = found
        raise DataError(Problem(path, line, column, f"expected a number, got {text!r}; fix or remove the row"
                                + (" (or give --weight a numeric column)" if column == weight else ""))) from None


def _first_non_number(path: str, numeric: tuple[str, ...]) -> tuple[int, str, str] | None:
    """The first (line, column, text) of a numeric column that is not a number (an empty cell is NaN)."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        rows = csv.reader(fh)
        header = [h.strip() for h in next(rows, [])]
        where = [(header.index(c), c) for c in numeric if c in header]
        for line, row in enumerate(rows, start=2):
            for i, name in where:
                text = row[i].strip() if i < len(row) else ""
                if text:
                    try:
                        float(text)
                    except ValueError:
                        return line, name, row[i]
    return None


def _to_columns(rb: pa.RecordBatch | pa.Table, columns: list[str], weight: str, path: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in columns:
        arr = rb.column(rb.schema.get_field_index(name))
        if name in (*COORDINATE_COLUMNS, weight):
            if not (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type)):
                raise DataError(Problem(path, None, name, f"expected a numeric column, got Arrow type {str(arr.type)!r}; store numbers, not text"))
            if arr.type != pa.float64():
                arr = arr.cast(pa.float64())
            # Zero-copy where there are no nulls and one chunk (then read-only); nulls become NaN.
            data[name] = np.asarray(arr.to_numpy(zero_copy_only=False), np.float64)
        elif name == "month" and (pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type)):
            data[name] = pd.Series(pd.Series(arr.to_pandas()).dt.strftime("%Y-%m").astype("string").to_numpy(), name=name)
        else:
            data[name] = pd.Series(arr.to_pandas(), name=name)
    return data
