"""Read pool hashrate records: generic pool geolocation exports and CCAF's own download formats.

CCAF formats are recognised by their headers and read as they are:

=================================================================================  ===========================
header                                                                             read as
=================================================================================  ===========================
``date,country,monthly_hashrate_%,monthly_absolute_hashrate_EH/S``                 countries, % of global
``Date,Country,Share of global hashrate`` (older)                                  countries, % of global
``Date,Province,Share of Chinese hashrate``                                        China provinces, % of China
``Date,Province,Share of global hashrate``                                         China provinces, % of global
``Date,State,US hashrate by state``                                                US states, % of the US
=================================================================================  ===========================

CCAF writes shares as text with a ``%`` sign and an unknown absolute hashrate as ``0``: that ``0``
is read as missing, not as zero. CCAF's data is already pool-weighted; it is read as pool ``"CCAF"``.
A trailing ``source_url`` column is accepted in every format.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capacitymap.errors import DataError, Problem, RegionError, SchemaError
from capacitymap.io import cells
from capacitymap.io.columns import HASHRATE_ALIASES, map_columns, normalize_header
from capacitymap.io.rows import Records, RowParser, finish
from capacitymap.io.tables import Table
from capacitymap.regions import Gazetteer
from capacitymap.schema import LINE, SHARE_TOLERANCE, SOURCE_FILE

__all__ = ["parse_hashrate", "parse_network_hashrate", "hashrate_format", "CCAF_POOL", "SHARE_TOLERANCE"]

CCAF_POOL = "CCAF"


@dataclass(frozen=True)
class _Format:
    name: str
    month: str
    place: str  # "country" or "region"
    share: str | None  # the share column, or None
    share_of: str  # "global" or "country"
    country: str | None  # fixed country for region formats
    absolute: str | None = None  # absolute EH/s column


_CCAF_FORMATS = (
    _Format("ccaf-countries", "date", "country", "monthly_hashrate_%", "global", None, "monthly_absolute_hashrate_eh_s"),
    _Format("ccaf-countries-old", "date", "country", "share_of_global_hashrate", "global", None),
    _Format("ccaf-china-provinces", "date", "province", "share_of_chinese_hashrate", "country", "CN"),
    _Format("ccaf-china-provinces-global", "date", "province", "share_of_global_hashrate", "global", "CN"),
    _Format("ccaf-us-states", "date", "state", "us_hashrate_by_state", "country", "US"),
)


def hashrate_format(header: list[str]) -> str | None:
    """The name of the hashrate format a header has (``"pool"`` for the generic one), or None."""
    normalized = {normalize_header(h) for h in header}
    for fmt in _CCAF_FORMATS:
        needed = {fmt.month, fmt.place, fmt.share}
        if needed <= normalized:
            return fmt.name
    generic = map_columns(header, HASHRATE_ALIASES, file="<header>")
    if "month" in generic and "country" in generic and ({"share", "share_%"} & generic.keys() or any(k.startswith("hashrate") for k in generic)):
        return "pool"
    return None


def parse_hashrate(table: Table, *, gazetteer: Gazetteer, today: dt.date, skip_invalid: bool = False) -> Records:
    """Turn a :class:`Table` of hashrate rows (any supported format) into canonical records."""
    name = hashrate_format(table.header)
    if name is None:
        raise SchemaError(Problem(table.path, 1, None, f"expected a hashrate table (month, pool, country, share) or a CCAF export, got columns {table.header!r}"))
    if name == "pool":
        parser = _PoolParser(table, map_columns(table.header, HASHRATE_ALIASES, file=table.path), gazetteer, today)
    else:
        fmt = next(f for f in _CCAF_FORMATS if f.name == name)
        by_norm = {normalize_header(h): h for h in table.header}
        cols = {"month": by_norm[fmt.month], fmt.place: by_norm[fmt.place], "share_%": by_norm[fmt.share]}
        if fmt.absolute and fmt.absolute in by_norm:
            cols["absolute"] = by_norm[fmt.absolute]
        if "source_url" in by_norm:
            cols["source_url"] = by_norm["source_url"]
        parser = _CcafParser(table, cols, gazetteer, today, fmt)
    frame = parser.parse()
    _check_sums(frame, parser)
    _check_duplicate_keys(frame, parser)
    records = finish(frame, parser.problems, skip_invalid=skip_invalid)
    return Records(records.frame, records.rejected, records.rows_read, notes=_partial_notes(records.frame), problems=records.problems)


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
        return self.each("month", lambda t: cells.parse_month(t, today=self.today), required=True, missing=None)

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
        try:
            return self.gaz.region(text, country=country).code  # type: ignore[arg-type, union-attr]
        except RegionError as exc:
            raise cells.CellError(str(exc)) from None


class _CcafParser(_HashrateParser):
    def __init__(self, table: Table, cols: dict[str, str], gazetteer: Gazetteer, today: dt.date, fmt: _Format):
        super().__init__(table, cols, gazetteer, today)
        self.fmt = fmt

    def parse(self) -> pd.DataFrame:
        fmt = self.fmt
        share = self.each("share_%", lambda t: cells.parse_share(t, percent_column=True, decimal=self.decimal), required=True, missing=math.nan)
        if fmt.country is None:
            country = self.countries()
            region: list[object] = [None] * self.n
        else:
            country = [fmt.country] * self.n
            region = self.regions(country, fmt.place, required=True)  # type: ignore[arg-type]
        # CCAF writes an unknown absolute hashrate as 0: read it as missing.
        absolute = self.each("absolute", lambda t: cells.parse_hashrate_ehs(t, column_unit="eh/s", decimal=self.decimal), required=False, missing=math.nan)
        absolute = [math.nan if v == 0 else v for v in absolute]
        return self.frame(month=self.months(), pool=CCAF_POOL, country=country, region=region, share=share,
                          share_of=fmt.share_of, hashrate=absolute)


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
    ok = frame["share"].notna() & frame["pool"].notna() & frame["month"].notna()
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
