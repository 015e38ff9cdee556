"""Record validation: each kind of record file read, its columns mapped, every row parsed, resolved and checked.

Above ``io`` (which only reads and writes files) and ``regions`` (which resolves the names rows give);
``read_records`` and the readers for each kind compose them. Every problem is located (file, line, column).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import replace

import pandas as pd

from capacitymap.errors import DataError, Problem, SchemaError
from capacitymap.io.tables import Table, read_header, read_table
from capacitymap.records.columns import FACILITY_ALIASES, map_columns
from capacitymap.records.facilities import duplicates_across_files, parse_facilities
from capacitymap.records.hashrate import hashrate_format, parse_hashrate, parse_network_hashrate
from capacitymap.records.rows import Records
from capacitymap.regions import Gazetteer, default_gazetteer
from capacitymap.vocab import Kind

__all__ = [
    "Kind",
    "Records",
    "detect_kind",
    "kinds_of",
    "read_facilities",
    "read_hashrate",
    "read_network_hashrate",
    "read_records",
    "each_file_once",
]

Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


def detect_kind(table: Table) -> Kind:
    """Tell facility files from hashrate files by their columns."""
    if hashrate_format(table.header) is not None:
        return "hashrate"
    cols = map_columns(table.header, FACILITY_ALIASES, file=table.path)
    if {"capacity_mw", "capacity_gw"} & cols.keys() or {"operator", "site"} <= cols.keys():
        return "facilities"
    raise SchemaError(Problem(
        table.path, 1, None,
        f"expected the columns of a facility file (operator, site, capacity_mw, status, ...) or of a hashrate file "
        f"(month, pool, country, share, or a CCAF export), got {table.header!r}; rename the columns or pass --kind",
    ))


def each_file_once(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str | os.PathLike[str]], list[Problem]]:
    """The paths with any file given again left out (however it is spelled), and a problem for each repeat."""
    unique: list[str | os.PathLike[str]] = []
    problems: list[Problem] = []
    given: dict[str, str] = {}  # real path -> as first given
    for path in paths:
        real = os.path.realpath(path)
        if real in given:
            problems.append(Problem(str(path), None, None, f"expected each file once, got it again (also given as {given[real]}); "
                                    "a file given twice would count its rows twice: give it once"))
            continue
        given[real] = str(path)
        unique.append(path)
    return unique, problems


def read_records(
    paths: Paths,
    *,
    kind: Kind | None = None,
    skip_invalid: bool = False,
    gazetteer: Gazetteer | None = None,
    today: dt.date | None = None,
) -> dict[Kind, Records]:
    """Read every file, each as its own kind (detected from its columns unless ``kind`` is given).

    Problems from all files are gathered before anything is raised, so one run shows them all.
    """
    gaz = gazetteer or default_gazetteer()
    day = today or dt.date.today()
    parsed: dict[Kind, list[Records]] = {}
    problems: list[Problem] = []
    unique, problems = each_file_once(_as_list(paths))
    for path in unique:
        try:
            table = read_table(path)
            this_kind = kind or detect_kind(table)
            parse = parse_facilities if this_kind == "facilities" else parse_hashrate
            parsed.setdefault(this_kind, []).append(parse(table, gazetteer=gaz, today=day, skip_invalid=skip_invalid))
        except DataError as exc:
            problems.extend(_located(exc.problems, str(path)))
    if "facilities" in parsed:
        try:
            parsed["facilities"] = duplicates_across_files(parsed["facilities"], skip_invalid=skip_invalid)
        except DataError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DataError(problems)
    return {k: _combine(v) for k, v in parsed.items()}


def read_facilities(paths: Paths, **options: object) -> Records:
    """Read facility capacity files (CSV, XLSX, Parquet, GeoJSON points) into canonical records."""
    return read_records(paths, kind="facilities", **options)["facilities"]  # type: ignore[arg-type]


def read_hashrate(paths: Paths, **options: object) -> Records:
    """Read pool hashrate files (generic or CCAF exports) into canonical records."""
    return read_records(paths, kind="hashrate", **options)["hashrate"]  # type: ignore[arg-type]


def read_network_hashrate(path: str | os.PathLike[str], *, today: dt.date | None = None) -> pd.DataFrame:
    """A monthly network hashrate series (``month``, ``hashrate_ehs``)."""
    return parse_network_hashrate(read_table(path), today=today or dt.date.today())


def kinds_of(paths: Paths, *, kind: Kind | None = None) -> dict[str, Kind | None]:
    """Each file's kind from its header alone (cheap: for checking options before the real read).

    None where the header cannot be read or tells nothing (the real read reports why).
    """
    out: dict[str, Kind | None] = {}
    for path in _as_list(paths):
        if kind is not None:
            out[str(path)] = kind
            continue
        try:
            header = read_header(path)
            out[str(path)] = detect_kind(Table(str(path), header, pd.DataFrame(columns=header), []))
        except DataError:
            out[str(path)] = None
    return out


def _located(problems: list[Problem], path: str) -> list[Problem]:
    """Problems found from a header alone carry a placeholder file name: give them the file's."""
    return [replace(p, file=path) if p.file == "<header>" else p for p in problems]


def _as_list(paths: Paths) -> list[str | os.PathLike[str]]:
    if isinstance(paths, (str, os.PathLike)):
        return [paths]
    return list(paths)


def _combine(records: list[Records]) -> Records:
    if len(records) == 1:
        return records[0]
    return Records(
        frame=pd.concat([r.frame for r in records], ignore_index=True),
        rejected=pd.concat([r.rejected for r in records], ignore_index=True),
        rows_read=sum(r.rows_read for r in records),
        notes=[n for r in records for n in r.notes],
        problems=[p for r in records for p in r.problems],
    )
