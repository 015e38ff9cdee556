"""Alt text: what a map shows, in words, with its top regions and their values."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from capacitymap.render.classify import format_value
from capacitymap.render.data import Facilities, RegionValues, prepare_facilities, prepare_values
from capacitymap.render.geometry import key_of, select_regions
from capacitymap.render.spec import MapSpec, resolve_preset

__all__ = ["describe", "describe_prepared", "METRIC_LABELS"]

METRIC_LABELS = {"capacity_mw": "Capacity", "hashrate_ehs": "Hashrate", "share": "Share of hashrate"}
_METRIC_PHRASE = {
    "capacity_mw": "bitcoin mining power capacity in megawatts (MW)",
    "hashrate_ehs": "bitcoin mining hashrate in exahashes per second (EH/s)",
    "share": "share of bitcoin mining hashrate (percent)",
}


def describe(
    spec: MapSpec,
    values: pd.DataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    *,
    regions: gpd.GeoDataFrame | None = None,
    top: int = 5,
) -> str:
    """Alt text for the map :func:`build_map` would draw: what it shows, the top regions with values.

    Without ``regions`` the text names regions by code (the key column of ``values``) and keeps
    every code; with them, names and the preset's selection are used, as on the map.
    """
    preset = resolve_preset(spec.preset)
    if regions is not None:
        drawn, level = select_regions(regions, preset)
        key = key_of(level)
        names = dict(zip(drawn[key], drawn["name"]))
        layer_keys = set(regions[key].astype(str))
    else:
        level = preset.level or ("admin1" if values is not None and "iso_3166_2" in values.columns else "admin0")
        key = key_of(level)
        codes = [] if values is None or key not in values.columns else sorted(set(values[key].dropna().astype(str)))
        names = {c: c for c in codes}
        layer_keys = set(codes)
    rv = prepare_values(values, level=level, layer_keys=layer_keys, drawn_keys=list(names))
    fac = prepare_facilities(facilities, level=level, preset=preset, drawn_keys=list(names))
    return describe_prepared(spec, rv, fac, names=names, level=level, top=top)


def describe_prepared(
    spec: MapSpec, rv: RegionValues, fac: Facilities, *, names: dict[str, str], level: str, top: int = 5
) -> str:
    preset = resolve_preset(spec.preset)
    unit_word = "state or province" if level == "admin1" else "country"
    parts: list[str] = []
    head = f"{spec.title}. " if spec.title else ""
    parts.append(
        f"{head}Map of {preset.label} showing {_METRIC_PHRASE[spec.metric]} by {unit_word}."
    )
    month = rv.months[-1]
    if rv.has_months:
        parts.append(
            f"A slider steps through {len(rv.months)} months from {rv.months[0]} to {rv.months[-1]}; "
            f"figures below are for {month}."
        )
    current = rv.values.get(month, {})
    with_data = {k: v for k, v in current.items() if v is not None}
    total = sum(with_data.values())
    n_none = len(names) - len(with_data)
    if with_data:
        ranked = sorted(with_data.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        items = []
        for k, v in ranked:
            share = f", {v / total:.0%} of the map total" if total > 0 and spec.metric != "share" else ""
            items.append(f"{names.get(k, k)} ({k}) {format_value(v, spec.metric)}{share}")
        parts.append(
            f"{len(with_data)} of {len(names)} regions have data ({n_none} without, drawn grey and dashed); "
            f"map total {format_value(total, spec.metric)}. Highest: " + "; ".join(items) + "."
        )
    else:
        parts.append(f"None of the {len(names)} regions has data.")
    if fac.records:
        colour = "operator" if spec.marker_colour == "operator" else "status"
        biggest = [
            f"{r['operator']} {r['site']} ({format_value(r['mw'], 'capacity_mw')})".replace("  ", " ")
            for r in fac.records[:3]
        ]
        parts.append(
            f"{_count(len(fac.records), 'current facility', 'current facilities')} from "
            f"{_count(len(fac.operators), 'operator', 'operators')} {'is' if len(fac.records) == 1 else 'are'} drawn as circles "
            f"with area proportional to MW, coloured by {colour}; largest: " + "; ".join(biggest) + "."
        )
    if spec.coverage_note:
        parts.append(spec.coverage_note.strip())
    return " ".join(parts)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
