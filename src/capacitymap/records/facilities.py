"""Read facility capacity records: every row parsed, resolved and validated, every problem located."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from capacitymap.errors import DataError, Problem, RegionError, SchemaError
from capacitymap.io.tables import Table
from capacitymap.records import cells
from capacitymap.records.columns import FACILITY_ALIASES, map_columns, suggest_column
from capacitymap.records.rows import Records, RowParser, finish
from capacitymap.regions import Gazetteer
from capacitymap.schema import LINE, SOURCE_FILE

#: Internal columns between the reader and the join (dropped by the join): the gazetteer's message for region
#: text it does not know on a row that has coordinates, and the region column's name as the file writes it.
REGION_UNRESOLVED = "region_unresolved"
REGION_COLUMN = "region_column"

__all__ = ["parse_facilities", "duplicates_across_files", "site_date_key", "REQUIRED_FACILITY_COLUMNS"]

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
                self.problem(i, "region", "expected a region or coordinates to place the facility, got neither; "
                                          "fill in the state/province or latitude+longitude")
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
    """Repeated facility ids, and the same operator, site, status and date given twice.

    Several dated rows of one operator/site/status are its history (the newest as of the date asked
    for counts), so only a repeat of the date is a problem: reported on the later row, naming the first,
    so that a map never counts a site twice and never picks one of two figures silently.
    """
    found: list[tuple[int, str, str]] = []
    ids = frame["facility_id"]
    for i, first in _repeats(ids.where(ids.notna()), frame[LINE]):
        found.append((i, "facility_id", f"expected a unique facility_id, got {ids[i]!r} again (first on line {first}); give each row its own id"))
    for i, first in _repeats(site_date_key(frame), frame[LINE]):
        row = frame.loc[i]
        first_row = frame.loc[(frame[LINE] == first).idxmax()]
        found.append((i, "site", _repeat_message(row, first_row, f"line {first}")))
    return found


def site_date_key(frame: pd.DataFrame) -> pd.Series:
    """operator, site (both case-folded), status and as-of date: one row per key (missing when no status)."""
    key = (frame["operator"].str.casefold() + "\x1f" + frame["site"].str.casefold() + "\x1f"
           + frame["status"].astype(str) + "\x1f" + frame["as_of"].fillna("").astype(str))
    return key.where(frame["status"].notna())


def _repeat_message(row: pd.Series, first: pd.Series, where: str) -> str:
    what = f"{row['operator']!r} / {row['site']!r} / {row['status']!r}"
    date = f"dated {row['as_of']}" if isinstance(row["as_of"], str) and row["as_of"] else "undated"
    a, b = float(row["capacity_mw"]), float(first["capacity_mw"])
    if a == b or (math.isnan(a) and math.isnan(b)):
        return (f"expected each operator, site, status and date once, got {what} {date} again (first in {where}); "
                "remove the repeat")
    return (f"expected one figure per operator, site, status and date, got {a:g} MW here and {b:g} MW in {where}, "
            f"both {what} {date}; keep the right figure, or give each its own as_of date (older figures are the site's history)")


def duplicates_across_files(records: list[Records], *, skip_invalid: bool = False) -> list[Records]:
    """Report the same site in two files: same facility_id, or same operator, site, status and date.

    A located problem on the later file's row names the first file's, so that files given together never
    count a site twice. Raises :class:`DataError` with every repeat unless ``skip_invalid``, which rejects the
    later rows (listed and counted like any invalid row).
    """
    if len(records) < 2:
        return records
    seen_id: dict[str, tuple[str, int, int]] = {}
    seen_key: dict[str, tuple[str, int, int]] = {}
    problems: list[dict[int, list[Problem]]] = [{} for _ in records]
    for n, rec in enumerate(records):
        frame = rec.frame
        keys = site_date_key(frame)
        mine_id: dict[str, tuple[str, int, int]] = {}
        mine_key: dict[str, tuple[str, int, int]] = {}
        for i in frame.index:
            here = (str(frame.at[i, SOURCE_FILE]), int(frame.at[i, LINE]), n)
            fid = frame.at[i, "facility_id"]
            if isinstance(fid, str) and fid in seen_id:
                file, line, _ = seen_id[fid]
                problems[n].setdefault(i, []).append(Problem(here[0], here[1], "facility_id", (
                    f"expected each facility_id once across the files given, got {fid!r} again (first in {file}:{line}); "
                    "is the same file given twice, or a site in two files? remove one of them")))
            elif isinstance(fid, str):
                mine_id.setdefault(fid, here)
            key = keys[i]
            if isinstance(key, str) and key in seen_key:
                file, line, m = seen_key[key]
                first_row = records[m].frame.loc[(records[m].frame[LINE] == line).idxmax()]
                message = _repeat_message(frame.loc[i], first_row, f"{file}:{line}")
                problems[n].setdefault(i, []).append(Problem(here[0], here[1], "site", message + " (the same site in two files)"))
            elif isinstance(key, str):
                mine_key.setdefault(key, here)
        for k, v in mine_id.items():
            seen_id.setdefault(k, v)
        for k, v in mine_key.items():
            seen_key.setdefault(k, v)
    if not any(problems):
        return records
    if not skip_invalid:
        raise DataError(sorted((p for d in problems for ps in d.values() for p in ps), key=lambda p: (p.file, p.line or 0, p.column or "")))
    out = []
    for rec, found in zip(records, problems):
        if not found:
            out.append(rec)
            continue
        moved = finish(rec.frame, found, skip_invalid=True)
        out.append(Records(frame=moved.frame, rejected=pd.concat([rec.rejected, moved.rejected], ignore_index=True),
                           rows_read=rec.rows_read, notes=rec.notes, problems=rec.problems + moved.problems))
    return out


def _repeats(key: pd.Series, lines: pd.Series) -> list[tuple[int, int]]:
    """(row, line of the first row with the same key) for every repeat of a non-missing key."""
    present = key.notna()
    repeat = present & key.duplicated(keep="first")
    if not repeat.any():
        return []
    first_line = lines[present].groupby(key[present], sort=False).transform("first")
    return [(int(i), int(first_line[i])) for i in key.index[repeat]]
