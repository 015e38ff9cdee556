"""Build-time filters on facility records; every row a filter removes is counted by name."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz, process

from capacitymap.errors import FilterError, RegionError
from capacitymap.regions import Gazetteer
from capacitymap.schema import LINE, SOURCE_FILE, STATUSES

__all__ = ["Filters", "FilterError", "apply_filters"]



@dataclass(frozen=True)
class Filters:
    """What the user chose to keep.

    ``as_of`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) shows the state at that date: rows dated later are
    removed, and of each operator/site/status the newest figure up to then is kept (older ones, and
    history rows, are "superseded"). Without ``as_of``, rows marked ``history`` are left out.
    """

    operators: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    min_mw: float | None = None
    as_of: str | None = None

    def describe(self) -> list[str]:
        """Human-readable lines, for coverage notes."""
        out = []
        if self.operators:
            out.append("operators: " + ", ".join(self.operators))
        if self.regions:
            out.append("regions: " + ", ".join(self.regions))
        if self.statuses:
            out.append("status: " + ", ".join(self.statuses))
        if self.min_mw is not None:
            out.append(f"sites of at least {self.min_mw:g} MW")
        if self.as_of:
            out.append(f"as of {self.as_of}")
        return out


def apply_filters(facilities: pd.DataFrame, filters: Filters, *, gazetteer: Gazetteer) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep what the filters ask for. Returns (kept, removed); ``removed`` has ``filter`` naming why."""
    removed: list[pd.DataFrame] = []
    frame = facilities

    def drop(mask: pd.Series, name: str) -> None:
        nonlocal frame
        if mask.any():
            removed.append(frame.loc[mask].assign(filter=name))
        frame = frame.loc[~mask]

    if filters.as_of:
        drop(frame["as_of"].fillna("").map(lambda d: _after(d, filters.as_of)), f"dated after {filters.as_of}")
        key = [frame["operator"].str.casefold(), frame["site"].str.casefold(), frame["status"]]
        newest = frame.assign(_order=frame["as_of"].fillna("")).sort_values("_order", kind="stable").groupby(key, sort=False).tail(1).index
        drop(~frame.index.isin(newest), "superseded by a newer figure")
    elif "history" in frame:
        drop(frame["history"].astype(bool), "history (older figures)")
    if filters.statuses:
        unknown = [s for s in filters.statuses if s not in STATUSES]
        if unknown:
            raise FilterError(f"expected statuses among {', '.join(STATUSES)}, got {unknown!r}")
        drop(~frame["status"].isin(filters.statuses), "status")
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
    gone = pd.concat(removed) if removed else facilities.iloc[0:0].assign(filter=pd.Series(dtype=object))
    return frame, gone.sort_values([SOURCE_FILE, LINE], kind="stable")


def _after(date: str, cutoff: str) -> bool:
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
