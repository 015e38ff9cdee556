"""Facility records → placed, filtered facilities, with a reconciliation that accounts for every row.

Three views of the same records, each accounted for row by row:

- :func:`map_facilities`: the state at one date (the newest figures by default) of the statuses asked for;
  the other statuses' rows at that date are kept apart (``others``; the pipeline), never summed in.
- :func:`capacity_steps`: the same at every month (or quarter) from the first to the last dated figure.
- :func:`capacity_change`: the difference between two dates, per region and per site.

Sums are ``math.fsum`` (correctly rounded), so the order of the rows never changes a byte of the output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from capacitymap.errors import CapacityMapError, Problem
from capacitymap.filters import (
    NO_FILTERS,
    PIPELINE_STATUSES,
    STATUS_FILTER,
    Area,
    Filters,
    apply_filters,
    dated_after,
    status_label,
    step_end,
    superseded,
)
from capacitymap.join import TOLERANCE_KM, assign_regions
from capacitymap.records.rows import Records, empty_rejected, finish
from capacitymap.regions import Gazetteer
from capacitymap.schema import LINE, SOURCE_FILE
from capacitymap.vocab import Every

__all__ = [
    "Reconciliation",
    "MappedFacilities",
    "CapacitySteps",
    "CapacityChange",
    "Every",
    "StepError",
    "map_facilities",
    "capacity_steps",
    "capacity_change",
    "capacity_by_month",
    "steps_between",
    "fsum_by",
]

UNDATED = "undated (cannot be placed in time)"
_OUT_COLUMNS_DROPPED = ("history",)


class StepError(CapacityMapError, ValueError):
    """A time step or date range that the records cannot give (no dated figures, a range backwards)."""


@dataclass(frozen=True)
class Reconciliation:
    """Every row read is mapped, filtered by the user's own choice, or rejected with a reason.

    ``filtered`` has one row per filter (``filter``, ``rows``, ``capacity_mw``); ``rejected`` one row per
    rejected record (``source_file``, ``line``, ``capacity_mw``, ``reason``). Capacity that did not
    parse counts as a row but adds no megawatts.
    """

    rows_read: int
    mw_read: float
    rows_mapped: int
    mw_mapped: float
    filtered: pd.DataFrame
    rejected: pd.DataFrame

    @property
    def balanced(self) -> bool:
        """Whether every row and megawatt read is mapped, filtered or rejected (MW to a relative 1e-6)."""
        rows = self.rows_mapped + int(self.filtered["rows"].sum()) + len(self.rejected)
        mw = math.fsum([self.mw_mapped, *self.filtered["capacity_mw"], *self.rejected["capacity_mw"].fillna(0)])
        return rows == self.rows_read and abs(mw - self.mw_read) <= 1e-6 * max(1.0, abs(self.mw_read))

    def line(self, name: str) -> tuple[int, float]:
        """(rows, MW) of one filter line, (0, 0.0) when nothing was filtered under that name."""
        hit = self.filtered[self.filtered["filter"] == name]
        return (int(hit["rows"].sum()), float(hit["capacity_mw"].sum())) if len(hit) else (0, 0.0)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the counts, one entry per filter line and per rejected row, and whether it balances."""
        return {
            "rows_read": self.rows_read,
            "capacity_mw_read": round(self.mw_read, 6),
            "rows_mapped": self.rows_mapped,
            "capacity_mw_mapped": round(self.mw_mapped, 6),
            "filtered": [
                {"filter": r.filter, "rows": int(r.rows), "capacity_mw": round(float(r.capacity_mw), 6)}
                for r in self.filtered.itertuples(index=False)
            ],
            "rejected": [
                {"file": r.source_file, "line": int(r.line), "capacity_mw": None if pd.isna(r.capacity_mw) else float(r.capacity_mw), "reason": r.reason}
                for r in self.rejected.itertuples(index=False)
            ],
            "balanced": self.balanced,
        }


@dataclass(frozen=True)
class MappedFacilities:
    """The facilities a map counts, every row accounted for.

    ``facilities`` are the rows counted (the statuses asked for, at the date asked for, inside the map's
    area); ``others`` the rows of the other statuses at that date that passed every other filter (the
    pipeline and the rest, shown apart and never summed); ``placed`` every placed row before the filters,
    for views over time. ``as_of`` is the date shown (``None``: the newest figures).
    """

    facilities: gpd.GeoDataFrame
    reconciliation: Reconciliation
    warnings: list[Problem] = field(default_factory=list)
    placed: gpd.GeoDataFrame | None = None
    filters: Filters = NO_FILTERS
    others: gpd.GeoDataFrame | None = None
    area: Area | None = None
    as_of: str | None = None

    @property
    def statuses(self) -> tuple[str, ...]:
        """The statuses counted."""
        return self.filters.statuses

    @property
    def status_label(self) -> str:
        """How titles and tables name what is counted: ``"operational + under construction"``."""
        return status_label(self.filters.statuses)

    @property
    def pipeline(self) -> gpd.GeoDataFrame:
        """Under-construction and planned sites not counted (empty when those statuses are counted)."""
        others = self.others if self.others is not None else self.facilities.iloc[0:0]
        return _geo(others[others["status"].isin(PIPELINE_STATUSES)].reset_index(drop=True))


@dataclass(frozen=True)
class CapacitySteps:
    """Capacity at every step.

    ``values`` (``iso_3166_2``, ``value``, ``month``, ``sites``), and the long
    ``facilities`` and ``pipeline`` frames (one row per site per step, with ``month``). ``last`` is the
    last step's state with its reconciliation (what the map shows when it opens on the last step).
    """

    steps: list[str]
    values: pd.DataFrame
    facilities: gpd.GeoDataFrame
    pipeline: gpd.GeoDataFrame
    last: MappedFacilities


@dataclass(frozen=True)
class CapacityChange:
    """The change between two dates.

    ``values``: ``iso_3166_2``, ``value`` (MW at ``end`` minus MW at ``start``; negative when capacity
    went), ``capacity_mw_start``, ``capacity_mw_end``, ``sites_added``, ``sites_removed``; one row per region
    with a counted site at either date. ``facilities``: every site that changed, with ``change`` (added,
    removed, grown, shrunk; a site whose figure is 0 MW is not running: going to 0 is "removed"),
    ``capacity_change_mw`` (signed) and ``capacity_mw`` (the newer figure, the
    older for a removed site). ``at_start``/``at_end``: the counted rows at each date. ``mapped``: every row
    accounted for (mapped = used at either date).
    """

    start: str
    end: str
    values: pd.DataFrame
    facilities: gpd.GeoDataFrame
    at_start: gpd.GeoDataFrame
    at_end: gpd.GeoDataFrame
    unchanged: int
    mapped: MappedFacilities


def map_facilities(
    records: Records,
    admin1: gpd.GeoDataFrame,
    *,
    gazetteer: Gazetteer,
    filters: Filters = NO_FILTERS,
    area: Area | None = None,
    strict: bool = False,
    skip_invalid: bool = False,
    tolerance_km: float = TOLERANCE_KM,
) -> MappedFacilities:
    """Place records in regions, apply the user's filters and the map's area, and account for every row."""
    joined = assign_regions(records.frame, admin1, strict=strict, tolerance_km=tolerance_km)
    placed = finish(joined.facilities, joined.problems, skip_invalid=skip_invalid)  # raises unless skip_invalid
    rejected = pd.concat([df for df in (records.rejected, placed.rejected) if len(df)] or [empty_rejected()], ignore_index=True)
    read = Reconciliation(
        rows_read=records.rows_read,
        mw_read=math.fsum([*records.frame["capacity_mw"], *records.rejected["capacity_mw"].fillna(0)]),
        rows_mapped=0, mw_mapped=0.0, filtered=_filter_lines(None),
        rejected=rejected.sort_values([SOURCE_FILE, LINE], ignore_index=True),
    )
    everything = _geo(placed.frame)
    base = MappedFacilities(everything.iloc[0:0], read, joined.warnings, everything, filters, None, area, filters.as_of)
    return _at(base, filters.as_of, gazetteer=gazetteer)


def _at(base: MappedFacilities, as_of: str | None, *, gazetteer: Gazetteer, undated: bool = True) -> MappedFacilities:
    """The state at ``as_of`` (the newest figures when None); ``undated=False`` leaves undated rows out."""
    return _select(base, as_of, gazetteer=gazetteer, undated=undated)[0]


def _select(base: MappedFacilities, as_of: str | None, *, gazetteer: Gazetteer, undated: bool = True) -> tuple[MappedFacilities, pd.DataFrame]:
    placed = base.placed if base.placed is not None else base.facilities
    extra = placed.iloc[0:0].assign(filter=pd.Series(dtype=object))
    if not undated:
        missing = placed["as_of"].isna()
        extra, placed = placed[missing].assign(filter=UNDATED), placed[~missing]
    kept, removed = apply_filters(placed, replace(base.filters, as_of=as_of), gazetteer=gazetteer, area=base.area)
    removed = pd.concat([removed, extra]) if len(extra) else removed
    others = removed[removed["filter"].str.startswith(STATUS_FILTER)]
    rec = replace(base.reconciliation, rows_mapped=len(kept), mw_mapped=math.fsum(kept["capacity_mw"]), filtered=_filter_lines(removed))
    state = replace(base, facilities=_canonical(kept), reconciliation=rec, others=_canonical(others.drop(columns="filter")), as_of=as_of)
    return state, removed


def steps_between(first: str, last: str, every: Every = "month") -> list[str]:
    """Every month (``YYYY-MM``) or quarter (``YYYY-Qn``) from the one holding ``first`` to the one holding ``last``.

    A year-only date counts from January of that year.
    """
    def month_index(date: str) -> int:
        return int(date[:4]) * 12 + (int(date[5:7]) - 1 if len(date) >= 7 else 0)

    a, b = month_index(first), month_index(last)
    if every == "quarter":
        return [f"{q // 4}-Q{q % 4 + 1}" for q in range(a // 3, b // 3 + 1)]
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(a, b + 1)]


def capacity_steps(mapped: MappedFacilities, *, gazetteer: Gazetteer, every: Every = "month") -> CapacitySteps:
    """Capacity as of every month (or quarter) from the first to the last dated figure counted.

    At each step exactly the sites known in the counted statuses at that date count, each with its newest
    figure up to then (a site appears when it is dated, and grows with later figures). A region with no
    site yet has no row (no data, "none reported"); it is zero only when a source says zero. Undated rows
    cannot be placed in time and are left out under their own reconciliation line. ``--as-of`` ends the steps.
    """
    placed = mapped.placed if mapped.placed is not None else mapped.facilities
    dated = placed[placed["as_of"].notna()].reset_index(drop=True)
    # operator, region, size, area and status are facts of each row, the same at every date: worked out once
    static, removed = apply_filters(dated, mapped.filters, gazetteer=gazetteer, area=mapped.area, dated=False)
    span = static
    if mapped.filters.as_of:
        span = span[~span["as_of"].map(lambda d: dated_after(d, step_end(mapped.filters.as_of)))]
    if not len(span):
        raise StepError(f"expected dated figures ({mapped.status_label}) to step through, got none; "
                        "fill in as_of, or draw one date without --by-month/--by-quarter")
    last_date = max(span["as_of"])
    if mapped.filters.as_of and step_end(mapped.filters.as_of) < last_date[:7]:
        last_date = step_end(mapped.filters.as_of)
    steps = steps_between(min(span["as_of"]), last_date, every)
    counted = dated.index.isin(static.index)
    others = removed.index[removed["filter"].str.startswith(STATUS_FILTER) & removed["status"].isin(PIPELINE_STATUSES)]
    pipeline_rows = dated.index.isin(others)
    # what changes with the date: which figures are known, and which of them is each site's newest
    light = pd.DataFrame({c: dated[c].astype(object) for c in ("operator", "site", "status", "as_of")})
    light["capacity_mw"] = dated["capacity_mw"]
    if "history" in dated:
        light["history"] = dated["history"].fillna(False).astype(bool)
    rank = _canonical_rank(dated)
    regions = dated["iso_3166_2"].astype(str).to_numpy()
    mw = dated["capacity_mw"].to_numpy(dtype="float64")
    values, site_rows, site_steps, pipe_rows, pipe_steps = [], [], [], [], []
    for step in steps:
        cutoff = step_end(step)
        known = ~light["as_of"].map(lambda d, c=cutoff: dated_after(d, c)).to_numpy(dtype=bool)
        current = known.copy()
        current[known] = ~superseded(light[known]).to_numpy(dtype=bool)
        kept = sorted(np.flatnonzero(current & counted), key=lambda i: rank[i])
        pipe = sorted(np.flatnonzero(current & pipeline_rows), key=lambda i: rank[i])
        site_rows += kept
        site_steps += [step] * len(kept)
        pipe_rows += pipe
        pipe_steps += [step] * len(pipe)
        by_region: dict[str, list[float]] = {}
        for i in kept:
            by_region.setdefault(regions[i], []).append(mw[i])
        values += [(code, math.fsum(v), step, len(v)) for code, v in sorted(by_region.items())]
    last = replace(_at(mapped, step_end(steps[-1]), gazetteer=gazetteer, undated=False), as_of=steps[-1])
    table = pd.DataFrame(values, columns=["iso_3166_2", "value", "month", "sites"]).astype({"value": "float64", "sites": "int64"})
    return CapacitySteps(steps, table, _long(dated, site_rows, site_steps), _long(dated, pipe_rows, pipe_steps), last)


def _long(frame: pd.DataFrame, rows: list[int], steps: list[str]) -> gpd.GeoDataFrame:
    out = frame.drop(columns=[c for c in _OUT_COLUMNS_DROPPED if c in frame.columns]).iloc[rows].reset_index(drop=True)
    return _geo(out.assign(month=pd.Series(steps, dtype=object)))


def capacity_by_month(mapped: MappedFacilities, *, gazetteer: Gazetteer) -> pd.DataFrame:
    """Total MW per region as of each month (see :func:`capacity_steps`): ``iso_3166_2``, ``value``, ``month``, ``sites``."""
    return capacity_steps(mapped, gazetteer=gazetteer, every="month").values


def capacity_change(mapped: MappedFacilities, start: str, end: str, *, gazetteer: Gazetteer) -> CapacityChange:
    """The change in counted capacity between ``start`` and ``end`` (dates of any precision), by region and site."""
    if not step_end(start) < step_end(end):
        raise StepError(f"expected --change FROM:TO with FROM before TO, got {start}:{end}; give the older date first")
    a = _at(mapped, step_end(start), gazetteer=gazetteer, undated=False)
    b, removed_b = _select(mapped, step_end(end), gazetteer=gazetteer, undated=False)
    keys = ["_op", "_site", "status"]
    left, right = _keyed(a.facilities), _keyed(b.facilities)
    both = left.merge(right, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    mw_a = both["capacity_mw_a"].fillna(0.0)
    mw_b = both["capacity_mw_b"].fillna(0.0)
    # a site at 0 MW (a source saying it closed or stopped) is there for the totals but not as a site running
    running_a = (both["_merge"] != "right_only") & (mw_a > 0)
    running_b = (both["_merge"] != "left_only") & (mw_b > 0)
    change = pd.Series("unchanged", index=both.index, dtype=object)
    change[~running_a & running_b] = "added"
    change[running_a & ~running_b] = "removed"
    change[running_a & running_b & (mw_b > mw_a)] = "grown"
    change[running_a & running_b & (mw_b < mw_a)] = "shrunk"
    rows = []
    for i in both.index[change != "unchanged"]:
        side = "_a" if change[i] == "removed" or both.at[i, "_merge"] == "left_only" else "_b"
        row = {c[: -len(side)]: both.at[i, c] for c in both.columns if c.endswith(side)}
        row.update({"status": both.at[i, "status"], "change": change[i], "capacity_change_mw": float(mw_b[i] - mw_a[i])})
        rows.append(row)
    columns = [c for c in a.facilities.columns] + ["change", "capacity_change_mw"]
    sites = pd.DataFrame(rows, columns=[c for c in columns if c not in ("_op", "_site")]) if rows else a.facilities.iloc[0:0].assign(
        change=pd.Series(dtype=object), capacity_change_mw=pd.Series(dtype=float))
    sites = _canonical(sites)
    va, vb = _region_values(a.facilities), _region_values(b.facilities)
    values = va.merge(vb, on="iso_3166_2", how="outer", suffixes=("_start", "_end")).fillna({"value_start": 0.0, "value_end": 0.0})
    values = values.rename(columns={"value_start": "capacity_mw_start", "value_end": "capacity_mw_end"})
    values["value"] = values["capacity_mw_end"] - values["capacity_mw_start"]
    counts = sites.groupby(["iso_3166_2", "change"]).size().unstack(fill_value=0) if len(sites) else pd.DataFrame()
    for what in ("added", "removed"):
        values[f"sites_{what}"] = values["iso_3166_2"].map(counts.get(what, {})).fillna(0).astype("int64")
    values = values.sort_values("iso_3166_2", ignore_index=True)[
        ["iso_3166_2", "value", "capacity_mw_start", "capacity_mw_end", "sites_added", "sites_removed"]]
    # every row accounted for: used at either date, or filtered for the reason the end date left it out
    used_a = _row_key(a.facilities)
    filtered = removed_b[~_row_key(removed_b).isin(set(used_a))]
    used = pd.concat([a.facilities, b.facilities])
    used = used[~_row_key(used).duplicated()]
    rec = replace(b.reconciliation, rows_mapped=len(used), mw_mapped=math.fsum(used["capacity_mw"]), filtered=_filter_lines(filtered))
    unchanged = int((change == "unchanged").sum())
    return CapacityChange(start, end, values, sites, a.facilities, b.facilities, unchanged,
                          replace(b, reconciliation=rec, as_of=end))


def fsum_by(frame: pd.DataFrame, keys: list[str] | str, column: str) -> pd.Series:
    """Exact (correctly rounded, order-independent) sums of ``column`` per group, groups sorted."""
    return frame.groupby(keys, dropna=False, sort=True)[column].agg(lambda s: math.fsum(s.to_numpy(dtype="float64")))


def _region_values(kept: pd.DataFrame) -> pd.DataFrame:
    if not len(kept):
        return pd.DataFrame({"iso_3166_2": pd.Series(dtype=object), "value": pd.Series(dtype="float64"), "sites": pd.Series(dtype="int64")})
    totals = fsum_by(kept, "iso_3166_2", "capacity_mw")
    counts = kept.groupby("iso_3166_2", sort=True).size()
    return pd.DataFrame({"iso_3166_2": totals.index.astype(str), "value": totals.to_numpy(dtype="float64"),
                         "sites": counts.reindex(totals.index).to_numpy(dtype="int64")})


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(_op=frame["operator"].str.casefold(), _site=frame["site"].str.casefold())


def _row_key(frame: pd.DataFrame) -> pd.Series:
    return frame[SOURCE_FILE].astype(str) + ":" + frame[LINE].astype(str)


def _filter_lines(removed: pd.DataFrame | None) -> pd.DataFrame:
    if removed is None or not len(removed):
        return pd.DataFrame({"filter": pd.Series(dtype=object), "rows": pd.Series(dtype="int64"), "capacity_mw": pd.Series(dtype="float64")})
    rows = removed.groupby("filter", sort=True).size()
    mw = fsum_by(removed, "filter", "capacity_mw")
    return pd.DataFrame({"filter": rows.index.astype(str), "rows": rows.to_numpy(dtype="int64"),
                         "capacity_mw": mw.reindex(rows.index).to_numpy(dtype="float64")})


def _canonical(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """One order whatever the input order: region, operator, site, status, date (the key of a row)."""
    out = frame.drop(columns=[c for c in _OUT_COLUMNS_DROPPED if c in frame.columns])
    order = np.argsort(_canonical_rank(out), kind="stable")
    return _geo(out.iloc[order].reset_index(drop=True))


def _canonical_rank(frame: pd.DataFrame) -> np.ndarray:
    """Each row's place in the canonical order (region, operator, site, status, date; all case-folded)."""
    keys = list(zip(frame["iso_3166_2"].astype(str), frame["operator"].str.casefold(), frame["site"].str.casefold(),
                    frame["status"].astype(str), frame["as_of"].fillna("").astype(str)))
    rank = np.empty(len(keys), dtype="int64")
    rank[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return rank


def _geo(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
