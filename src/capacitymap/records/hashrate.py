"""Read pool hashrate records: generic pool geolocation exports and CCAF's own download formats.

CCAF's downloads are recognised by their columns and read as they are published:

=====================================================================  =====================================
header (any case, spacing or ``%``/``(%)`` spelling)                     read as
=====================================================================  =====================================
``date,country,monthly_hashrate_%,monthly_absolute_hashrate_EH/S``     countries, % of global, EH/s (v1.1.1+)
``Date,Country,Share of global hashrate``                              countries, % of global (v1.1.0)
``Date,Country,Estimated absolute hashrate``                           countries, EH/s only (``absolute_mining_countries``)
``Date,Province,Share of Chinese hashrate``                            China provinces, % of China
``Date,Province,Share of global hashrate``                             China provinces, % of global
``Date,State,US hashrate by state``                                    US states, % of the US
=====================================================================  =====================================

The same files after a spreadsheet has been through them read too: a renamed share column (any
column whose name says share, %, percent or hashrate), shares without their ``%`` sign, extra
columns (noted, not read), quarters (``2025-Q2``, kept as the step ``"2025-Q2"``), dates such as ``9/1/19`` (month/day/year or day/month/year, decided from the
whole column, never row by row), country names people write (``China``, ``USA``, ``Russia``) and
trailing spaces.

CCAF's ``Other`` is its unallocated remainder: in a countries file the country ``ZZ``, in a provinces
or states file the region ``<country>-ZZ`` (``CN-ZZ``). It is kept in every total and never drawn.
CCAF writes an unknown absolute hashrate as ``0``: a ``0`` beside a non-zero share is read as missing.
CCAF's data is already pool-weighted; it is read as pool ``"CCAF"``. A ``source_url`` column is
accepted in every format.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacitymap.errors import DataError, Problem, RegionError, SchemaError
from capacitymap.io.tables import Table
from capacitymap.records import cells
from capacitymap.records.columns import FACILITY_ALIASES, HASHRATE_ALIASES, map_columns, normalize_header
from capacitymap.records.rows import Records, RowParser, finish
from capacitymap.regions import Gazetteer, normalize_name
from capacitymap.schema import LINE, OTHER_REGION_SUFFIX, SHARE_TOLERANCE, SOURCE_FILE

__all__ = ["parse_hashrate", "parse_network_hashrate", "hashrate_format", "other_region", "is_other_region",
           "CCAF_POOL", "SHARE_TOLERANCE"]

CCAF_POOL = "CCAF"

#: What CCAF (and people) write for the part of a country not allocated to a named region.
_OTHER_NAMES = frozenset({"other", "others", "other provinces", "other states", "other regions", "rest of country"})


def other_region(country: str) -> str:
    """The region code of a country's unallocated remainder: ``"CN"`` -> ``"CN-ZZ"``."""
    return f"{country}{OTHER_REGION_SUFFIX}"


def is_other_region(code: object) -> bool:
    """Whether a region code is a country's unallocated remainder (``CN-ZZ``)."""
    return isinstance(code, str) and code.endswith(OTHER_REGION_SUFFIX)


@dataclass(frozen=True)
class _Format:
    """A CCAF-style file: a date column, one place column, a share and/or an absolute EH/s column."""

    name: str
    place: str  # "country", "province" or "state"
    share_of: str  # "global" or "country"
    country: str | None  # the country of a region file
    date_col: str
    place_col: str
    share_col: str | None
    absolute_col: str | None
    percent: bool  # shares are percentages (CCAF) rather than fractions (a column named 'share')
    ignored: tuple[str, ...] = ()


#: place column -> the country a region file is of (None: a countries file).
_PLACES = {"country": None, "province": "CN", "state": "US"}
_DATES = ("date", "month")
#: Columns that make a file a generic pool file (or a facility file), never a CCAF download.
_NOT_CCAF = frozenset(
    set(HASHRATE_ALIASES["pool"]) | (set(HASHRATE_ALIASES["region"]) - {"province", "state"}) | set(HASHRATE_ALIASES["share_of"])
    | {s for k in ("operator", "site", "capacity_mw", "capacity_gw", "latitude", "longitude", "status") for s in FACILITY_ALIASES[k]}
)
_FRACTION_NAMES = frozenset(HASHRATE_ALIASES["share"])


def _is_absolute(norm: str) -> bool:
    return "absolute" in norm or norm.endswith(("eh_s", "ehs")) or "hashrate_eh" in norm


def _is_share(norm: str) -> bool:
    return "share" in norm or "%" in norm or "percent" in norm or norm.endswith("_pct") or "hashrate" in norm


def _ccaf_format(header: list[str]) -> _Format | None:
    norm = {h: normalize_header(h) for h in header}
    if set(norm.values()) & _NOT_CCAF:
        return None
    dates = [h for h in header if norm[h] in _DATES]
    places = [h for h in header if norm[h] in _PLACES]
    if not dates or len(places) != 1:
        return None
    date_col, place_col = dates[0], places[0]
    rest = [h for h in header if h not in (date_col, place_col) and norm[h] != "source_url"]
    absolute = [h for h in rest if _is_absolute(norm[h])]
    shares = [h for h in rest if h not in absolute and _is_share(norm[h])]
    if not shares and not absolute:
        return None
    place = norm[place_col]
    share_col = shares[0] if shares else None
    words = set(re.split(r"[_\s]+", norm[share_col])) if share_col else set()
    share_of = "global" if place == "country" or words & {"global", "world", "worldwide", "network"} else "country"
    kind = {"country": "countries", "province": "china-provinces", "state": "us-states"}[place]
    name = f"ccaf-{kind}" + ("-global" if place != "country" and share_of == "global" else "")
    if share_col is None:
        name = "ccaf-absolute-countries" if place == "country" else name
    ignored = tuple(h for h in rest if h not in (share_col, absolute[0] if absolute else None))
    return _Format(name, place, share_of, _PLACES[place], date_col, place_col, share_col,
                   absolute[0] if absolute else None, share_col is not None and norm[share_col] not in _FRACTION_NAMES, ignored)


def hashrate_format(header: list[str]) -> str | None:
    """The name of the hashrate format a header has (``"pool"`` for the generic one), or None."""
    fmt = _ccaf_format(header)
    if fmt is not None:
        return fmt.name
    generic = map_columns(header, HASHRATE_ALIASES, file="<header>")
    if "month" in generic and "country" in generic and ({"share", "share_%"} & generic.keys() or any(k.startswith("hashrate") for k in generic)):
        return "pool"
    return None


def parse_hashrate(table: Table, *, gazetteer: Gazetteer, today: dt.date, skip_invalid: bool = False) -> Records:
    """Turn a :class:`Table` of hashrate rows (any supported format) into canonical records."""
    name = hashrate_format(table.header)
    if name is None:
        raise SchemaError(Problem(table.path, 1, None,
                                  f"expected a hashrate table (month, pool, country, share) or a CCAF export, got columns {table.header!r}"))
    notes: list[Problem] = []
    if name == "pool":
        parser: _HashrateParser = _PoolParser(table, map_columns(table.header, HASHRATE_ALIASES, file=table.path), gazetteer, today)
    else:
        fmt = _ccaf_format(table.header)
        cols = {"month": fmt.date_col, fmt.place: fmt.place_col}  # type: ignore[union-attr]
        if fmt.share_col:  # type: ignore[union-attr]
            cols["share_%"] = fmt.share_col  # type: ignore[union-attr]
        if fmt.absolute_col:  # type: ignore[union-attr]
            cols["absolute"] = fmt.absolute_col  # type: ignore[union-attr]
        url = next((h for h in table.header if normalize_header(h) == "source_url"), None)
        if url:
            cols["source_url"] = url
        parser = _CcafParser(table, cols, gazetteer, today, fmt)  # type: ignore[arg-type]
        if fmt.ignored:  # type: ignore[union-attr]
            notes.append(Problem(table.path, 1, None, f"read as CCAF's {fmt.name} format; columns not read: {list(fmt.ignored)!r}",  # type: ignore[union-attr]
                                 severity="note"))
    frame = parser.parse()
    if getattr(parser, "fraction_note", False):
        notes.append(Problem(table.path, 1, parser.cols["share_%"], "shares read as fractions (no % sign, every month's shares add up to 1, "
                             "as a spreadsheet keeps 75.53% as 0.7553)", severity="note"))
    _check_sums(frame, parser)
    _check_duplicate_keys(frame, parser)
    records = finish(frame, parser.problems, skip_invalid=skip_invalid)
    return Records(records.frame, records.rejected, records.rows_read, notes=notes + _partial_notes(records.frame), problems=records.problems)


_QUARTER = re.compile(r"^(\d{4})[- ]?[Qq]([1-4])$")
_SLASH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


class _HashrateParser(RowParser):
    def __init__(self, table: Table, cols: dict[str, str], gazetteer: Gazetteer | None, today: dt.date):
        super().__init__(table, cols)
        self.gaz, self.today = gazetteer, today

    def frame(self, *, month, pool, country, region, share, share_of, hashrate) -> pd.DataFrame:  # noqa: ANN001
        url = self.each("source_url", cells.parse_url, required=False, missing=None)
        return pd.DataFrame(
            {
                "month": month,
                "pool": pool,
                "country": country,
                "region": region,
                "share": np.asarray(share, dtype="float64"),
                "share_of": share_of,
                "hashrate_ehs": np.asarray(hashrate, dtype="float64"),
                "source_url": url,
                SOURCE_FILE: self.table.path,
                LINE: np.asarray(self.table.lines, dtype="int64"),
            }
        )

    def months(self) -> list[object]:
        """Each row's month. Dates written ``9/1/19`` are read in the one order the whole column allows."""
        order = self._slash_order()
        return self.each("month", lambda t: self._month(t, order), required=True, missing=None)

    def _slash_order(self) -> str | None:
        found = [(i, m) for i, t in enumerate(self.column("month")) if (m := _SLASH_DATE.match(t))]
        if not found:
            return None
        firsts = {int(m.group(1)) for _, m in found}
        seconds = {int(m.group(2)) for _, m in found}
        if max(firsts) > 12 and max(seconds) <= 12:
            return "dmy"
        if max(firsts) <= 12 and (max(seconds) > 12 or seconds == {1}):
            return "mdy"  # US spreadsheets; monthly data dated on the 1st: 9/1/19 is 1 September 2019
        if max(firsts) <= 12 and firsts == {1}:
            return "dmy"
        i, m = found[0]
        column = self.cols["month"]
        raise SchemaError(Problem(
            self.table.path, self.table.lines[i], column,
            f"expected dates in one order, got {len(found)} dates like {m.group(0)!r} that could be month/day/year or day/month/year; "
            "write them as YYYY-MM-DD (or YYYY-MM) so that each month is read as meant",
        ))

    def _month(self, text: str, order: str | None) -> str:
        q = _QUARTER.match(text)
        if q:  # a quarterly estimate: the step "YYYY-Qn"
            year, quarter = int(q.group(1)), int(q.group(2))
            if dt.date(year, 3 * quarter - 2, 1) > self.today:
                raise cells.CellError(f"expected a quarter not after today ({self.today.isoformat()}), got {text!r}; "
                                      "a future date is a typo or a plan, not data")
            return f"{year:04d}-Q{quarter}"
        m = _SLASH_DATE.match(text)
        if m is None or order is None:
            return cells.parse_month(text, today=self.today)
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        month, day = (a, b) if order == "mdy" else (b, a)
        year = 2000 + year if year < 100 else year
        try:
            date = dt.date(year, month, day)
        except ValueError:
            raise cells.CellError(f"expected a date that exists on the calendar ({'month/day/year' if order == 'mdy' else 'day/month/year'}, "
                                  f"the order of this column), got {text!r}") from None
        if date > self.today:
            raise cells.CellError(f"expected a month not after today ({self.today.isoformat()}), got {text!r}; a future date is a typo or a plan, not data")
        return f"{date.year:04d}-{date.month:02d}"

    def countries(self, canon: str = "country") -> list[object]:
        return self.each(canon, self._country, required=True, missing=None)

    def _country(self, text: str) -> str:
        try:
            return self.gaz.country(text).code  # type: ignore[union-attr]
        except RegionError as exc:
            raise cells.CellError(str(exc)) from None

    def regions(self, countries: list[object], canon: str = "region", *, required: bool = False) -> list[object]:
        return self.each_row(canon, lambda i, text: self._region(text, countries[i]), required=required, missing=None)

    def _region(self, text: str, country: object) -> str:
        if isinstance(country, str) and normalize_name(text) in _OTHER_NAMES:
            return other_region(country)
        try:
            return self.gaz.region(text, country=country).code  # type: ignore[arg-type, union-attr]
        except RegionError as exc:
            raise cells.CellError(str(exc)) from None


class _CcafParser(_HashrateParser):
    def __init__(self, table: Table, cols: dict[str, str], gazetteer: Gazetteer, today: dt.date, fmt: _Format):
        super().__init__(table, cols, gazetteer, today)
        self.fmt = fmt
        self.fraction_note = False

    def parse(self) -> pd.DataFrame:
        fmt = self.fmt
        if fmt.share_col:
            percent = fmt.percent and not self._fractions()
            share = self.each("share_%", lambda t: cells.parse_share(t, percent_column=percent, decimal=self.decimal), required=True, missing=math.nan)
        else:
            share = [math.nan] * self.n
        if fmt.country is None:
            country = self.countries()
            region: list[object] = [None] * self.n
        else:
            country = [fmt.country] * self.n
            region = self.regions(country, fmt.place, required=True)  # type: ignore[arg-type]
        absolute = self.each("absolute", lambda t: cells.parse_hashrate_ehs(t, column_unit="eh/s", decimal=self.decimal),
                             required=fmt.share_col is None, missing=math.nan)
        # CCAF writes an unknown absolute hashrate as 0: beside a non-zero share it is missing, not zero.
        absolute = [math.nan if a == 0 and fmt.share_col and s != 0 else a for a, s in zip(absolute, share)]
        return self.frame(month=self.months(), pool=CCAF_POOL, country=country, region=region, share=share,
                          share_of=fmt.share_of, hashrate=absolute)


    def _fractions(self) -> bool:
        """Whether a CCAF share column holds fractions (an .xlsx keeps 75.53% as 0.7553).

        So read when no cell has a ``%``, every value is in [0, 1] and every month's values sum to 1 (within
        the rounding tolerance): decided from the whole column, never cell by cell.
        """
        texts, dates = self.column("share_%"), self.column("month")
        if any("%" in t for t in texts):
            return False
        sums: dict[str, float] = {}
        for text, date in zip(texts, dates):
            try:
                value = cells.parse_float(text, decimal=self.decimal)
            except cells.CellError:
                return False
            if not 0 <= value <= 1:
                return False
            sums[date] = sums.get(date, 0.0) + value
        if not sums or not all(abs(total - 1) <= SHARE_TOLERANCE for total in sums.values()):
            return False
        self.fraction_note = True
        return True


class _PoolParser(_HashrateParser):
    def parse(self) -> pd.DataFrame:
        cols = self.cols
        pool = self.each("pool", str, required=True, missing=None) if "pool" in cols else [None] * self.n
        if "pool" not in cols:
            for i in range(self.n):
                self.problem(i, None, "expected a 'pool' column naming the mining pool; add one (e.g. 'BTC.com')")
        country = self.countries()
        region = self.regions(country)
        if "share_%" in cols:
            share = self.each("share_%", lambda t: cells.parse_share(t, percent_column=True, decimal=self.decimal), required=False, missing=math.nan)
        else:
            share = self.each("share", lambda t: cells.parse_share(t, percent_column=False, decimal=self.decimal), required=False, missing=math.nan)
        hashrate = self._hashrate()
        for i in range(self.n):
            if math.isnan(share[i]) and math.isnan(hashrate[i]):  # type: ignore[arg-type]
                self.problem(i, "share_%" if "share_%" in cols else "share", "expected a share or a hashrate, got neither; fill one in")
        share_of = self.each("share_of", _share_of, required=False, missing="global")
        return self.frame(month=self.months(), pool=pool, country=country, region=region, share=share,
                          share_of=share_of, hashrate=hashrate)

    def _hashrate(self) -> list[object]:
        for canon, unit in (("hashrate_ehs", "eh/s"), ("hashrate_phs", "ph/s"), ("hashrate_ths", "th/s"), ("hashrate", None)):
            if canon in self.cols:
                return self.each(canon, lambda t, u=unit: cells.parse_hashrate_ehs(t, column_unit=u, decimal=self.decimal), required=False, missing=math.nan)
        return [math.nan] * self.n


def _share_of(text: str) -> str:
    key = text.strip().lower()
    if key in {"global", "country"}:
        return key
    raise cells.CellError(f"expected share_of 'global' or 'country', got {text!r}")


def _groups(frame: pd.DataFrame) -> pd.Series:
    """The denominator each share belongs to: (pool, month, share_of, country for within-country shares)."""
    scope = frame["country"].where(frame["share_of"] == "country", "*")
    level = frame["region"].notna().map({True: "admin1", False: "country"})
    return frame["pool"].astype(str) + "|" + frame["month"].astype(str) + "|" + frame["share_of"] + "|" + scope.astype(str) + "|" + level


def _check_sums(frame: pd.DataFrame, parser: RowParser) -> None:
    """Shares of one denominator summing to more than 100 % (+ tolerance) are an error on each of its rows."""
    ok = frame["share"].notna() & frame["pool"].notna() & frame["month"].notna() & ~frame.index.isin(list(parser.problems))
    if not ok.any():
        return
    sub = frame[ok]
    groups = _groups(sub)
    totals = sub.groupby(groups)["share"].sum()
    for key, total in totals[totals > 1 + SHARE_TOLERANCE].items():
        pool, month, share_of, scope, level = key.split("|")
        rows = sub.index[groups == key]
        where = "worldwide" if share_of == "global" else f"in {scope}"
        canon = "share_%" if "share_%" in parser.cols else "share"
        for i in rows:
            parser.problem(
                int(i), canon,
                f"expected the {level} shares of pool {pool!r} in {month} ({where}) to sum to at most 100%, got {total * 100:.2f}%; "
                "check for a repeated row or shares in the wrong unit",
            )


def _check_duplicate_keys(frame: pd.DataFrame, parser: RowParser) -> None:
    key = ["month", "pool", "country", "region", "share_of"]
    sub = frame.dropna(subset=["month", "pool", "country"])
    sub = sub[~sub.index.isin(list(parser.problems))]  # a row whose place did not resolve is not a repeat
    dup = sub.duplicated(subset=key, keep="first")
    for i in sub.index[dup]:
        row = sub.loc[i]
        place = row["region"] if isinstance(row["region"], str) else row["country"]
        parser.problem(int(i), None, f"expected one row per month, pool and place, got {row['month']} / {row['pool']} / {place} again; remove the repeat")


def _partial_notes(frame: pd.DataFrame) -> list[Problem]:
    """A note for each pool-month whose shares sum to less than 100 %: the list is partial, never rescaled."""
    notes: list[Problem] = []
    sub = frame[frame["share"].notna()]
    if sub.empty:
        return notes
    keys = _groups(sub)
    for key, group in sub.groupby(keys, sort=True):
        total = group["share"].sum()
        if total < 1 - SHARE_TOLERANCE:
            pool, month, share_of, scope, level = key.split("|")
            where = "worldwide" if share_of == "global" else f"in {scope}"
            if total == 0:
                notes.append(Problem(str(group[SOURCE_FILE].iloc[0]), None, None,
                                     f"{month} {pool}: every {level} figure {where} is 0% (the source locates nothing there that month)",
                                     severity="note"))
                continue
            notes.append(Problem(
                str(group[SOURCE_FILE].iloc[0]), None, None,
                f"{month} {pool}: the {level} list {where} covers {total * 100:.2f}%; "
                f"the remaining {(1 - total) * 100:.2f}% is unreported (kept as a partial list, not rescaled)",
                severity="note",
            ))
    return notes


def parse_network_hashrate(table: Table, *, today: dt.date) -> pd.DataFrame:
    """A monthly network hashrate series: ``month`` and ``hashrate_ehs`` (or ``hashrate`` with a unit)."""
    cols = map_columns(table.header, HASHRATE_ALIASES, file=table.path)
    value_col = next((c for c in ("hashrate_ehs", "hashrate_phs", "hashrate_ths", "hashrate") if c in cols), None)
    if "month" not in cols or value_col is None:
        raise SchemaError(Problem(table.path, 1, None, f"expected columns 'month' and 'hashrate_ehs', got {table.header!r}"))
    parser = _HashrateParser(table, cols, None, today)
    unit = {"hashrate_ehs": "eh/s", "hashrate_phs": "ph/s", "hashrate_ths": "th/s", "hashrate": None}[value_col]
    hashrate = parser.each(value_col, lambda t: cells.parse_hashrate_ehs(t, column_unit=unit, decimal=parser.decimal), required=True, missing=math.nan)
    frame = pd.DataFrame({"month": parser.months(), "hashrate_ehs": np.asarray(hashrate, dtype="float64"),
                          SOURCE_FILE: table.path, LINE: np.asarray(table.lines, dtype="int64")})
    dup = frame["month"].notna() & frame["month"].duplicated()
    for i in frame.index[dup]:
        parser.problem(int(i), "month", f"expected one row per month, got {frame.at[i, 'month']} again; remove the repeat")
    if parser.problems:
        raise DataError([p for ps in parser.problems.values() for p in ps])
    return frame.sort_values("month", ignore_index=True)
