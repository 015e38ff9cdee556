"""Totals of mapped facilities by region, operator or country: of the statuses counted, each status apart."""

from __future__ import annotations

import math

import pandas as pd

from capacitymap.schema import STATUSES
from capacitymap.vocab import By

__all__ = ["By", "summarize", "summarize_change", "status_column"]

_KEYS: dict[str, list[str]] = {
    "region": ["iso_3166_2", "region_name", "country"],
    "operator": ["operator"],
    "country": ["country"],
}


def status_column(status: str) -> str:
    """``operational_mw``: the column of one status's MW in a summary."""
    return f"{status}_mw"


def summarize(facilities: pd.DataFrame, *, by: By, others: pd.DataFrame | None = None) -> pd.DataFrame:
    """Totals per group of the statuses counted, and each status in its own column.

    Per group: ``capacity_mw`` (the statuses counted, added up), ``facilities`` (rows counted), ``share``
    (fraction of the counted MW), then one ``<status>_mw`` column per status present, counted or not.

    ``others`` are the rows of statuses not counted (e.g. the pipeline): they get their own columns and
    rows, never the total. A group with no counted site has ``capacity_mw`` NaN (none reported) and
    ``share`` NaN. Sums are exact (``math.fsum``): the order of the rows never changes a figure.
    Largest first, then by key.
    """
    keys = _KEYS[by]
    counted = _fill_keys(facilities, keys)
    rest = _fill_keys(others if others is not None else facilities.iloc[0:0], keys)
    everything = pd.concat([counted, rest], ignore_index=True)
    groups = everything[keys].drop_duplicates().sort_values(keys, ignore_index=True)
    out = groups.merge(_totals(counted, keys, "capacity_mw"), on=keys, how="left")
    out["facilities"] = out.merge(_sizes(counted, keys), on=keys, how="left")["n"].fillna(0).astype("int64").to_numpy()
    total = math.fsum(counted["capacity_mw"])
    out["share"] = out["capacity_mw"] / total if total else (out["capacity_mw"] * 0.0)
    present = [s for s in STATUSES if s in set(everything["status"])]
    for status in present:
        part = everything[everything["status"] == status]
        out[status_column(status)] = out.merge(_totals(part, keys, "mw"), on=keys, how="left")["mw"].to_numpy()
    out = out.sort_values(["capacity_mw", *keys], ascending=[False] + [True] * len(keys), na_position="last", ignore_index=True)
    return _unfill_keys(out, keys)


def summarize_change(at_start: pd.DataFrame, at_end: pd.DataFrame, sites: pd.DataFrame, *, by: By) -> pd.DataFrame:
    """The change per group between two dates, largest first.

    ``capacity_mw_start``, ``capacity_mw_end``, ``capacity_change_mw`` (end minus start), and the
    number of sites ``added``, ``removed``, ``grown``, ``shrunk``; largest change first.
    """
    keys = _KEYS[by]
    a, b, s = (_fill_keys(f, keys) for f in (at_start, at_end, sites))
    groups = pd.concat([a[keys], b[keys]]).drop_duplicates().sort_values(keys, ignore_index=True)
    out = groups.merge(_totals(a, keys, "capacity_mw_start"), on=keys, how="left")
    out = out.merge(_totals(b, keys, "capacity_mw_end"), on=keys, how="left")
    out[["capacity_mw_start", "capacity_mw_end"]] = out[["capacity_mw_start", "capacity_mw_end"]].fillna(0.0)
    out["capacity_change_mw"] = out["capacity_mw_end"] - out["capacity_mw_start"]
    for what in ("added", "removed", "grown", "shrunk"):
        part = s[s["change"] == what] if len(s) else s
        out[f"sites_{what}"] = out.merge(_sizes(part, keys), on=keys, how="left")["n"].fillna(0).astype("int64").to_numpy()
    out = out.sort_values(["capacity_change_mw", *keys], ascending=[False] + [True] * len(keys), ignore_index=True)
    return _unfill_keys(out, keys)


_MISSING = "\x00"  # a group key that was missing (groupby and merge treat NaN keys unevenly)


def _fill_keys(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    for k in keys:
        if k not in frame:
            frame[k] = None
        frame[k] = frame[k].astype(object).where(frame[k].notna(), _MISSING)
    return frame


def _unfill_keys(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    for k in keys:
        frame[k] = frame[k].where(frame[k] != _MISSING, None)
    return frame


def _totals(frame: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    if not len(frame):
        return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys}, name: pd.Series(dtype="float64")})
    sums = frame.groupby(keys, sort=True)["capacity_mw"].agg(lambda s: math.fsum(s.to_numpy(dtype="float64")))
    return sums.rename(name).reset_index()


def _sizes(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if not len(frame):
        return pd.DataFrame({**{k: pd.Series(dtype=object) for k in keys}, "n": pd.Series(dtype="int64")})
    return frame.groupby(keys, sort=True).size().rename("n").reset_index()
