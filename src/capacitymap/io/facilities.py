"""Read facility capacity records: every row parsed, resolved and validated, every problem located."""

from __future__ import annotations

import datetime as dt
import math
import numpy as np
import pandas as pd

from capacitymap.errors import Problem, RegionError, SchemaError
from capacitymap.io import cells
from capacitymap.io.columns import FACILITY_ALIASES, map_columns, suggest_column
from capacitymap.io.rows import Records, RowParser, finish
from capacitymap.io.tables import Table
from capacitymap.regions import Gazetteer
from capacitymap.schema import LINE, SOURCE_FILE

#: Internal columns between the reader and the join (dropped by the join): the gazetteer's message for region
#: text it does not know on a row that has coordinates, and the region column's name as the file writes it.
REGION_UNRESOLVED = "region_unresolved"
REGION_COLUMN = "region_column"

__all__ = ["parse_facilities", "REQUIRED_FACILITY_COLUMNS"]

REQUIRED_FACILITY_COLUMNS = ("operator", "site", "capacity_mw", "status")


def parse_facilities(
    table: Table, *, gazetteer: Gazetteer, today: dt.date, skip_invalid: bool = False
) -> Records:
    """Turn a :class:`Table` of facility rows into canonical records.

    Raises :class:`DataError` with every problem unless ``skip_invalid``, in which case rows with
    problems are returned in ``Records.rejected`` and the rest are kept.
    """
    parser = _FacilityParser(table, _facility_columns(table), gazetteer, today)
    frame = parser.parse()
    for i, column, message in _duplicates(frame):
        parser.problem(i, column, message)
    return finish(frame, parser.problems, skip_invalid=skip_invalid)


def _facility_columns(table: Table) -> dict[str, str]:
    cols = map_columns(table.header, FACILITY_ALIASES, file=table.path)
    problems = []
    missing = [c for c in REQUIRED_FACILITY_COLUMNS if c not in cols and not (c == "capacity_mw" and "capacity_gw" in cols)]
    has_coords = "latitude" in cols and "longitude" in cols
    if not has_coords and "region" not in cols:
        missing.append("latitude+longitude or region")
    if ("latitude" in cols) != ("longitude" in cols):
        missing.append("longitude" if "latitude" in cols else "latitude")
    unknown = [h for h in table.header if h not in cols.values()]
    for col in missing:
        guess = next((h for h in unknown if suggest_column(h, FACILITY_ALIASES) == col), None)
        hint = f" (is {guess!r} meant to be {col!r}? rename it)" if guess else ""
        problems.append(
            Problem(table.path, 1, None, f"expected a column {col!r}, the file has {table.header!r}{hint}")
        )
    if problems:
        raise SchemaError(problems)
    return cols


class _FacilityParser(RowParser):
    def __init__(self, table: Table, cols: dict[str, str], gazetteer: Gazetteer, today: dt.date):
        super().__init__(table, cols)
        self.gaz, self.today = gazetteer, today

    def parse(self) -> pd.DataFrame:
        text = {c: self.column(c) for c in ("facility_id", "operator", "site", "notes", "location_precision", "city")}
        for c in ("operator", "site"):
            for i, v in enumerate(text[c]):
                if not v:
                    self.problem(i, c, f"expected a value, got an empty cell; fill in the {c}")
        if "capacity_mw" in self.cols:
            capacity = self.each("capacity_mw", lambda t: cells.parse_capacity_mw(t, column_unit="mw", decimal=self.decimal), required=True, missing=math.nan)
        else:
            capacity = self.each("capacity_gw", lambda t: cells.parse_capacity_mw(t, column_unit="gw", decimal=self.decimal), required=True, missing=math.nan)
        lat = self.each("latitude", lambda t: _coordinate(t, 90.0, "latitude", self.decimal), required=False, missing=math.nan)
        lon = self.each("longitude", lambda t: _coordinate(t, 180.0, "longitude", self.decimal), required=False, missing=math.nan)
        status = self.each("status", cells.parse_status, required=True, missing=None)
        as_of = self.each("as_of", lambda t: cells.parse_date(t, today=self.today, what="an as-of date"), required=False, missing=None)
        url = self.each("source_url", cells.parse_url, required=False, missing=None)
        hashrate = self.each("hashrate_ehs", lambda t: cells.parse_hashrate_ehs(t, column_unit="eh/s", decimal=self.decimal), required=False, missing=math.nan)
        history = self.each("history", cells.parse_bool, required=False, missing=False)
        country, region_code, unresolved = self._places(lat, lon)
        frame = pd.DataFrame(
            {
                "facility_id": _nullable(text["facility_id"]),
                "operator": text["operator"],
                "site": text["site"],
                "country": country,
                "region": _nullable(self.column("region")),
                "region_code": region_code,
                # Region text the gazetteer does not know, on a row with coordinates: the join places the row
                # by its coordinates and reports the text (a warning; an error under --strict or with no region).
                REGION_UNRESOLVED: unresolved,
                REGION_COLUMN: self.cols.get("region"),
                "latitude": np.asarray(lat, dtype="float64"),
                "longitude": np.asarray(lon, dtype="float64"),
                "capacity_mw": np.asarray(capacity, dtype="float64"),
                "status": status,
                "as_of": as_of,
                "source_url": url,
                "hashrate_ehs": np.asarray(hashrate, dtype="float64"),
                "location_precision": _nullable(text["location_precision"]),
                "history": np.asarray(history, dtype=bool),
                "notes": _nullable(text["notes"]),
                SOURCE_FILE: self.table.path,
                LINE: np.asarray(self.table.lines, dtype="int64"),
            }
        )
        if "city" in self.cols:
            frame["city"] = _nullable(text["city"])
        return frame

    def _places(self, lat: list[object], lon: list[object]) -> tuple[list[object], list[object], list[object]]:
        countries: list[object] = []
        regions: list[object] = []
        unresolved: list[object] = []
        raw_country = self.column("country")
        raw_region = self.column("region")
        for i in range(self.n):
            code = None
            if raw_country[i]:
                try:
                    code = self.gaz.country(raw_country[i]).code
                except RegionError as exc:
                    self.problem(i, "country", str(exc))
            has_point = not (math.isnan(lat[i]) or math.isnan(lon[i]))  # type: ignore[arg-type]
            region, note = None, None
            if raw_region[i]:
                try:
                    region = self.gaz.region(raw_region[i], country=code).code
                except RegionError as exc:
                    if has_point:
                        note = str(exc)  # the coordinates settle it: see the join
                    else:
                        self.problem(i, "region", str(exc))
            if code is None and region is not None:
                code = self.gaz.place("admin1", region).country
            if math.isnan(lat[i]) != math.isnan(lon[i]):  # type: ignore[arg-type]
                self.problem(i, "latitude" if math.isnan(lat[i]) else "longitude",  # type: ignore[arg-type]
                             "expected both latitude and longitude, got only one; fill in both or neither")
            elif not has_point and not raw_region[i]:
                self.problem(i, "region", "expected a region or coordinates to place the facility, got neither; fill in the state/province or latitude+longitude")
            countries.append(code)
            regions.append(region)
            unresolved.append(note)
        return countries, regions, unresolved


def _coordinate(text: str, bound: float, what: str, decimal: str) -> float:
    value = cells.parse_float(text, what=f"a {what} in decimal degrees", decimal=decimal)
    if not -bound <= value <= bound:
        raise cells.CellError(f"expected a {what} within [-{bound:g}, {bound:g}], got {text!r}; are latitude and longitude swapped?")
    return value


def _nullable(values: list[str]) -> list[object]:
    return [v if v else None for v in values]


def _duplicates(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """Repeated facility ids, and (operator, site, status) repeated among current rows.

    Each repeat is reported on the later row and names the first, so a map never counts a site twice.
    """
    found: list[tuple[int, str, str]] = []
    ids = frame["facility_id"]
    for i, first in _repeats(ids.where(ids.notna()), frame[LINE]):
        found.append((i, "facility_id", f"expected a unique facility_id, got {ids[i]!r} again (first on line {first}); give each row its own id"))
    current = ~frame["history"] & frame["status"].notna()
    key = (frame["operator"].str.casefold() + "\x1f" + frame["site"].str.casefold() + "\x1f" + frame["status"].astype(str)).where(current)
    for i, first in _repeats(key, frame[LINE]):
        row = frame.loc[i]
        found.append((
            i, "site",
            f"expected one current row per operator, site and status, got {row['operator']!r} / {row['site']!r} / "
            f"{row['status']!r} again (first on line {first}); mark the older figure history=true or remove the repeat",
        ))
    return found


def _repeats(key: pd.Series, lines: pd.Series) -> list[tuple[int, int]]:
    """(row, line of the first row with the same key) for every repeat of a non-missing key."""
    present = key.notna()
    repeat = present & key.duplicated(keep="first")
    if not repeat.any():
        return []
    first_line = lines[present].groupby(key[present], sort=False).transform("first")
    return [(int(i), int(first_line[i])) for i in key.index[repeat]]
