"""Build-time filters on facility records; every row a filter removes is counted by name.

A site's dated rows are its history: of each operator, site and status the newest figure as of the date
asked for counts (today's, i.e. the newest of all, by default); older figures are "superseded", and so is a
planned or under-construction figure once a later figure of a later stage, at least as large, reports it built. Statuses
are never summed silently: only the statuses asked for count (operational by default); rows of the others
are removed under a filter named ``status <name>`` so that callers can show them apart (the pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from capacitymap.errors import FilterError, RegionError
from capacitymap.regions import Gazetteer
from capacitymap.schema import LINE, SOURCE_FILE, STATUSES
from capacitymap.vocab import status_phrase

__all__ = [
    "Filters",
    "NO_FILTERS",
    "FilterError",
    "Area",
    "apply_filters",
    "DEFAULT_STATUSES",
    "PIPELINE_STATUSES",
    "STATUS_FILTER",
    "status_label",
    "step_end",
    "dated_after",
    "superseded",
]

#: What a capacity figure counts unless asked otherwise: energized capacity.
DEFAULT_STATUSES: tuple[str, ...] = ("operational",)
#: Statuses shown as the pipeline (hollow circles), never summed with operational capacity unless asked.
PIPELINE_STATUSES: tuple[str, ...] = ("under_construction", "planned")
#: The prefix of the filter name under which rows of statuses not asked for are removed.
STATUS_FILTER = "status "
SUPERSEDED = "superseded by a newer figure"


@dataclass(frozen=True)
class Filters:
    """What the user chose to keep.

    ``statuses`` are the statuses counted (operational by default; give several to add them up, which
    maps and tables then say). ``as_of`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) shows the state at that
    date: rows dated later are removed, and of each operator/site/status the newest figure up to then is
    kept (older ones are "superseded"). Without ``as_of`` the newest figure of each counts. A site with a
    ``closed`` row has its older rows (of any status) superseded from that date on.
    """

    operators: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    min_mw: float | None = None
    as_of: str | None = None

    def __post_init__(self) -> None:
        unknown = [s for s in self.statuses if s not in STATUSES]
        if unknown:
            raise FilterError(f"expected statuses among {', '.join(STATUSES)}, got {unknown!r}")
        if not self.statuses:
            object.__setattr__(self, "statuses", DEFAULT_STATUSES)
        else:  # one order whatever the order given: labels and tables are the same
            object.__setattr__(self, "statuses", tuple(s for s in STATUSES if s in self.statuses))


#: The default of every ``filters=`` argument: nothing chosen (frozen, so one value serves every call).
NO_FILTERS = Filters()


@dataclass(frozen=True)
class Area:
    """What a map covers: facilities elsewhere are left out under a named filter (``outside this map``).

    ``countries`` (ISO alpha-2) when the map draws whole countries' regions; otherwise ``bbox``
    (west, south, east, north in degrees WGS84) against the facility's point. Neither: everything.
    """

    label: str
    countries: tuple[str, ...] | None = None
    bbox: tuple[float, float, float, float] | None = None

    filter_name = "outside this map"


def status_label(statuses: tuple[str, ...]) -> str:
    """``"operational + under construction"``: how titles, legends and tables name what is counted."""
    return status_phrase(statuses)


def step_end(step: str) -> str:
    """The last month a step covers: ``"2024-Q2"`` → ``"2024-06"``; a month or date is itself."""
    if len(step) == 7 and step[5] == "Q":
        return f"{step[:4]}-{int(step[6]) * 3:02d}"
    return step


def apply_filters(
    facilities: pd.DataFrame,
    filters: Filters,
    *,
    gazetteer: Gazetteer,
    area: Area | None = None,
    dated: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep what the filters ask for. Returns (kept, removed); ``removed`` has ``filter`` naming why.

    Order: the date (rows dated after ``as_of``; superseded figures), operator, region, size, the map's
    area, and last the status, so that the rows of other statuses removed are exactly the ones the map
    could show beside the count (the pipeline). ``dated=False`` skips the date step (every figure kept).
    """
    removed: list[pd.DataFrame] = []
    frame = facilities

    def drop(mask: pd.Series, name: str | pd.Series) -> None:
        nonlocal frame
        if mask.any():
            gone = frame.loc[mask]
            removed.append(gone.assign(filter=name if isinstance(name, str) else name.loc[gone.index]))
        frame = frame.loc[~mask]

    if dated:
        if filters.as_of:
            drop(frame["as_of"].fillna("").map(lambda d: dated_after(d, step_end(filters.as_of))), f"dated after {filters.as_of}")
        drop(superseded(frame), SUPERSEDED)
    if filters.operators:
        drop(~_operator_mask(frame, facilities, filters.operators), "operator")
    if filters.regions:
        codes = set()
        for text in filters.regions:
            try:
                codes.add(gazetteer.region(text).code)
            except RegionError as exc:
                raise FilterError(f"--region: {exc}") from None
        drop(~frame["iso_3166_2"].isin(codes), "region")
    if filters.min_mw is not None:
        drop(frame["capacity_mw"] < filters.min_mw, f"below {filters.min_mw:g} MW")
    if area is not None:
        drop(~_inside(frame, area), area.filter_name)
    drop(~frame["status"].isin(filters.statuses), STATUS_FILTER + frame["status"].astype(str))
    gone = pd.concat(removed) if removed else facilities.iloc[0:0].assign(filter=pd.Series(dtype=object))
    return frame, gone.sort_values([SOURCE_FILE, LINE], kind="stable")


def superseded(frame: pd.DataFrame) -> pd.Series:
    """Rows that are not the newest figure of their operator/site/status, that a site's closing ends, or whose build a later figure reports done."""
    if not len(frame):
        return pd.Series(False, index=frame.index)
    date = frame["as_of"].fillna("")
    site = frame["operator"].str.casefold() + "\x1f" + frame["site"].str.casefold()
    key = site + "\x1f" + frame["status"].astype(str)
    # the newest date wins; on the same date a row not marked history beats one that is (the reader refuses
    # two unmarked rows of one date, so this only decides frames built by hand)
    history = frame["history"].fillna(False).astype(bool) if "history" in frame else pd.Series(False, index=frame.index)
    rank = date + history.map({True: "\x00", False: "\x01"})
    newest = rank.groupby(key, sort=False).transform("max")
    old = rank < newest
    closed = frame["status"] == "closed"
    if closed.any():
        closing = date.where(closed).groupby(site).transform("max")
        old |= closing.notna() & ~closed & (date <= closing.fillna(""))
    return old | _overtaken(frame, site, date)


#: How far along a site is: a planned or under-construction figure is overtaken by a later one further along.
_STAGE = {"planned": 0, "under_construction": 1, "operational": 2, "curtailed": 2}


def _overtaken(frame: pd.DataFrame, site: pd.Series, date: pd.Series) -> pd.Series:
    """Pipeline rows whose build a later figure of the site reports done: a later stage, later, at least as big.

    Hut 8's Culberson site, 63 MW under construction in February 2024 and 63 MW operational in April, is
    63 MW running, not 63 MW running plus 63 MW still being built. A plan only partly built (Riot's
    Corsicana, 1,000 MW planned and 400 MW running since) stays in the pipeline, and a figure of a later
    stage on the same date (at the precision both give) is an expansion reported beside it.
    """
    stage = frame["status"].map(_STAGE)
    pending = stage < 2
    if not pending.any():
        return pd.Series(False, index=frame.index)
    mw = pd.to_numeric(frame["capacity_mw"], errors="coerce")
    rows = pd.DataFrame({"site": site, "date": date, "stage": stage, "mw": mw, "row": range(len(frame))})
    pairs = rows[pending].merge(rows[stage.notna()], on="site", suffixes=("", "_later"))
    pairs = pairs[(pairs["stage_later"] > pairs["stage"]) & (pairs["mw_later"] >= pairs["mw"])]
    later = np.array([bool(a) and dated_after(b, a) for a, b in zip(pairs["date"], pairs["date_later"])], dtype=bool)
    out = np.zeros(len(frame), dtype=bool)
    out[pairs["row"].to_numpy(dtype=int)[later]] = True
    return pd.Series(out, index=frame.index)


def _inside(frame: pd.DataFrame, area: Area) -> pd.Series:
    if area.countries is not None:
        country = frame["country"] if "country" in frame else frame["iso_3166_2"].str.split("-").str[0]
        return country.isin(area.countries)
    if area.bbox is not None:
        west, south, east, north = area.bbox
        if "geometry" in frame:
            geom = gpd.GeoSeries(frame["geometry"], index=frame.index)
            lon, lat = geom.x, geom.y
        else:
            lon, lat = frame["longitude"], frame["latitude"]
        return lon.between(west, east) & lat.between(south, north)
    return pd.Series(True, index=frame.index)


def dated_after(date: str, cutoff: str) -> bool:
    """Whether ``date`` starts after the period ``cutoff`` covers (both ISO text of any precision)."""
    n = min(len(date), len(cutoff))
    return bool(date) and date[:n] > cutoff[:n]


def _operator_mask(frame: pd.DataFrame, everything: pd.DataFrame, wanted: tuple[str, ...]) -> pd.Series:
    names = frame["operator"].str.casefold()
    known = sorted(set(everything["operator"]))
    mask = pd.Series(False, index=frame.index)
    for text in wanted:
        key = text.strip().casefold()
        hit = names == key
        if not hit.any():
            hit = names.str.contains(key, regex=False)
        if not (everything["operator"].str.casefold().str.contains(key, regex=False)).any():
            close = [m[0] for m in process.extract(text, known, scorer=fuzz.WRatio, limit=3) if m[1] >= 70]
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise FilterError(f"--operator: no operator matches {text!r}{hint}")
        mask |= hit
    return mask
