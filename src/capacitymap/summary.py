"""Totals of mapped facilities by region, operator or country."""

from __future__ import annotations

from typing import Literal, get_args

import pandas as pd

__all__ = ["By", "BY_CHOICES", "summarize"]

By = Literal["region", "operator", "country"]
BY_CHOICES: tuple[str, ...] = get_args(By)

_KEYS: dict[str, list[str]] = {
    "region": ["iso_3166_2", "region_name", "country"],
    "operator": ["operator"],
    "country": ["country"],
}


def summarize(facilities: pd.DataFrame, *, by: By) -> pd.DataFrame:
    """``capacity_mw``, ``facilities`` and ``share`` (fraction of the total MW) per group, largest first."""
    keys = _KEYS[by]
    out = (
        facilities.groupby(keys, dropna=False, sort=True)
        .agg(capacity_mw=("capacity_mw", "sum"), facilities=("capacity_mw", "size"))
        .reset_index()
    )
    total = out["capacity_mw"].sum()
    out["share"] = out["capacity_mw"] / total if total else 0.0
    return out.sort_values(["capacity_mw", keys[0]], ascending=[False, True], ignore_index=True)
