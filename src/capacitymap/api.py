"""The steps a user runs, from files to results: what the CLI calls and what a notebook uses.

Each function is a few lines of orchestration over the modules that do the work:
``io`` (read) → ``regions`` (resolve) → ``join`` → ``filters`` → ``summary`` / ``method`` → ``render``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from capacitymap import io
from capacitymap.errors import DataError, Problem
from capacitymap.filters import Filters
from capacitymap.join import assign_regions
from capacitymap.pipeline import MappedFacilities, map_facilities
from capacitymap.regions import Gazetteer, default_gazetteer
from capacitymap.summary import By, summarize

__all__ = [
    "Boundaries",
    "FacilitySummary",
    "ValidationReport",
    "load_facilities",
    "summarize_facilities",
    "validate",
    "list_regions",
]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Boundaries:
    """The admin-1 layer to join to and the gazetteer that knows its names."""

    admin1: gpd.GeoDataFrame
    gazetteer: Gazetteer

    @classmethod
    def shipped(cls) -> Boundaries:
        return cls(io.read_admin1(), default_gazetteer())

    @classmethod
    def from_file(cls, path: PathLike, *, code_column: str, name_column: str, country: str | None = None) -> Boundaries:
        """A user's own admin-1 layer (anything GDAL reads); countries still come from the shipped admin-0."""
        admin1 = io.read_boundaries(path, code_column=code_column, name_column=name_column, country=country)
        return cls(admin1, Gazetteer(admin1.drop(columns="geometry"), io.read_admin0().drop(columns="geometry")))


@dataclass(frozen=True)
class FacilitySummary:
    table: pd.DataFrame
    mapped: MappedFacilities


@dataclass(frozen=True)
class ValidationReport:
    rows: int
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def load_facilities(
    files: PathLike | Iterable[PathLike],
    *,
    filters: Filters = Filters(),
    strict: bool = False,
    skip_invalid: bool = False,
    boundaries: Boundaries | None = None,
    today: dt.date | None = None,
) -> MappedFacilities:
    """Read facility files, place them in regions, apply filters; every row accounted for."""
    b = boundaries or Boundaries.shipped()
    records = io.read_facilities(files, skip_invalid=skip_invalid, gazetteer=b.gazetteer, today=today)
    return map_facilities(records, b.admin1, gazetteer=b.gazetteer, filters=filters, strict=strict, skip_invalid=skip_invalid)


def summarize_facilities(files: PathLike | Iterable[PathLike], *, by: By = "region", **options: object) -> FacilitySummary:
    """Totals by region, operator or country of the mapped facilities."""
    mapped = load_facilities(files, **options)  # type: ignore[arg-type]
    return FacilitySummary(summarize(mapped.facilities, by=by), mapped)


def validate(
    files: Iterable[PathLike], *, kind: io.Kind | None = None, strict: bool = False, boundaries: Boundaries | None = None,
    today: dt.date | None = None,
) -> ValidationReport:
    """Every problem in every file (reading, resolving and placing), without stopping at the first."""
    b = boundaries or Boundaries.shipped()
    problems: list[Problem] = []
    warnings: list[Problem] = []
    notes: list[Problem] = []
    rows = 0
    for path in files:
        try:
            parsed = io.read_records([path], kind=kind, skip_invalid=True, gazetteer=b.gazetteer, today=today)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        for this_kind, records in parsed.items():
            rows += records.rows_read
            problems.extend(records.problems)
            notes.extend(records.notes)
            if this_kind == "facilities" and len(records.frame):
                joined = assign_regions(records.frame, b.admin1, strict=strict)
                problems.extend(p for ps in joined.problems.values() for p in ps)
                warnings.extend(joined.warnings)
    problems.sort(key=lambda p: (p.file, p.line or 0, p.column or ""))
    return ValidationReport(rows=rows, problems=problems, warnings=warnings, notes=notes)


def list_regions(country: str | None = None, *, boundaries: Boundaries | None = None) -> pd.DataFrame:
    """Canonical admin-1 codes and names (of one country, if given)."""
    b = boundaries or Boundaries.shipped()
    code = b.gazetteer.country(country).code if country else None
    frame = b.admin1.drop(columns="geometry")
    if code:
        frame = frame[frame["iso_a2"] == code]
    cols = ["iso_3166_2", "iso_a2", "name", "name_local", "alias_code"]
    return frame[cols].sort_values("iso_3166_2", ignore_index=True)
