"""From results to what a map draws: region values, markers and the coverage note.

``capacity_layers`` turns mapped facilities into a capacity choropleth plus markers;
``hashrate_layers`` turns a hashrate method result into a share (or EH/s) choropleth with one
slider step per month. ``make_map`` and ``make_still`` hand the layers to the renderers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import folium
import geopandas as gpd
import pandas as pd

from capacitymap.filters import PIPELINE_STATUSES
from capacitymap.method import HashrateResult, to_region_values
from capacitymap.pipeline import CapacityChange, CapacitySteps, MappedFacilities
from capacitymap.render import MapSpec, build_map
from capacitymap.render.spec import resolve_preset
from capacitymap.summary import summarize

__all__ = ["MapLayers", "capacity_layers", "hashrate_layers", "make_map", "make_still"]


@dataclass(frozen=True)
class MapLayers:
    """What one map draws: the boundary layer, region values (or None) and facility points (or None).

    ``pipeline``: sites not counted in the choropleth (hollow circles in their own layer, never summed);
    ``statuses``: the statuses the choropleth counts; ``captions``: step -> caption of an incomplete step;
    ``as_of``: the date a single-date map shows; ``value_label``: what the value means when the metric alone
    does not say it; ``credit``: who published the data (a user's ``--credit`` wins).
    """

    regions: gpd.GeoDataFrame
    values: pd.DataFrame | None
    facilities: gpd.GeoDataFrame | None
    coverage_note: str
    pipeline: gpd.GeoDataFrame | None = None
    statuses: tuple[str, ...] = ()
    captions: Mapping[str, str] = field(default_factory=dict)
    as_of: str | None = None
    value_label: str = ""
    credit: str = ""


def capacity_layers(
    mapped: MappedFacilities,
    admin1: gpd.GeoDataFrame,
    *,
    steps: CapacitySteps | None = None,
    change: CapacityChange | None = None,
) -> MapLayers:
    """Total MW per state/province of the counted facilities, the facilities as markers, the pipeline apart.

    ``steps`` (from :func:`~capacitymap.pipeline.capacity_steps`) turns the map into a slider of capacity over
    time: values and the long facilities/pipeline frames carry ``month`` steps. ``change`` (from
    :func:`~capacitymap.pipeline.capacity_change`) draws the change between two dates (metric
    ``capacity_change_mw``): signed values, and the sites added, removed, grown or shrunk.
    """
    statuses = mapped.statuses
    if change is not None:
        values = change.values.rename(columns={
            "capacity_mw_start": f"MW as of {change.start}", "capacity_mw_end": f"MW as of {change.end}",
            "sites_added": "sites added", "sites_removed": "sites removed"})
        return MapLayers(admin1, values, change.facilities, _change_note(change), None, statuses, {}, None, "", _credit(mapped.facilities))
    if steps is not None:
        note = _capacity_note(steps.last, steps=steps)
        return MapLayers(admin1, steps.values, steps.facilities, note, steps.pipeline, statuses, {}, None, "",
                         _credit(steps.facilities))
    totals = summarize(mapped.facilities, by="region")
    values = pd.DataFrame({"iso_3166_2": totals["iso_3166_2"].astype(str), "value": totals["capacity_mw"].astype(float)})
    return MapLayers(admin1, values, mapped.facilities, _capacity_note(mapped), mapped.pipeline, statuses, {}, mapped.as_of, "",
                     _credit(mapped.facilities))


def hashrate_layers(
    result: HashrateResult,
    *,
    admin1: gpd.GeoDataFrame,
    admin0: gpd.GeoDataFrame,
    level: str,
    value: str = "share",
    facilities: gpd.GeoDataFrame | None = None,
) -> MapLayers:
    """The method's result as region values: countries on admin-0, or states/provinces on admin-1."""
    values = to_region_values(result.table, level=level, value=value)  # type: ignore[arg-type]
    regions = admin0 if level == "country" else admin1
    return MapLayers(regions, values, facilities, _hashrate_note(result))


def make_map(spec: MapSpec, layers: MapLayers) -> folium.Map:
    """The interactive map; the layers' coverage note is used unless the spec has its own."""
    return build_map(_with_note(spec, layers), regions=layers.regions, values=layers.values, facilities=layers.facilities)


def make_still(spec: MapSpec, layers: MapLayers, *, fmt: str = "png", width_px: int = 1200, height_px: int = 800, dpi: int = 150) -> bytes:
    """The same map as a PNG or SVG still (matplotlib, no browser)."""
    from capacitymap.export import render_static

    return render_static(_with_note(spec, layers), regions=layers.regions, values=layers.values, facilities=layers.facilities,
                         fmt=fmt, width_px=width_px, height_px=height_px, dpi=dpi)  # type: ignore[arg-type]


def preset_level(preset: str) -> str:
    """``country`` for the world preset, ``admin1`` for the others."""
    return "country" if resolve_preset(preset).level == "admin0" else "admin1"


def _with_note(spec: MapSpec, layers: MapLayers) -> MapSpec:
    return spec if spec.coverage_note else replace(spec, coverage_note=layers.coverage_note)


def _capacity_note(mapped: MappedFacilities, *, steps: CapacitySteps | None = None) -> str:
    f = mapped.facilities
    rec = mapped.reconciliation
    dates = sorted(d for d in f["as_of"].dropna()) if len(f) else []
    span = f"figures dated {dates[0]} to {dates[-1]}" if dates else "undated figures"
    sources = f["source_url"].dropna().nunique() if len(f) else 0
    counted = mapped.status_label
    when = f" as of {mapped.as_of}" if mapped.as_of else ""
    parts = []
    if steps is not None:
        parts.append(f"Capacity at each of {len(steps.steps)} steps, {steps.steps[0]} to {steps.steps[-1]}: at each, the newest "
                     "figure of every site up to that date; a region with no site reported yet is shown as no data.")
        parts.append(f"At {steps.steps[-1]}:")
    parts.append(f"{_plural(rec.rows_mapped, 'facility', 'facilities')}, {rec.mw_mapped:,.1f} MW {counted} capacity mapped{when} "
                 f"({span}; {_plural(sources, 'source', 'sources')}).")
    not_counted = [s for s in PIPELINE_STATUSES if s not in mapped.statuses]
    for r in rec.filtered.itertuples(index=False):
        if r.filter.startswith("status "):
            status = r.filter[len("status "):]
            shown = "; shown apart as the pipeline" if status in not_counted else ""
            parts.append(f"Not counted ({status.replace('_', ' ')}{shown}): {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
        elif r.filter == "outside this map":
            where = f" ({mapped.area.label})" if mapped.area is not None else ""
            parts.append(f"Outside this map{where}: {_rows(r.rows)}, {r.capacity_mw:,.1f} MW, not drawn.")
        elif r.filter == "superseded by a newer figure":
            parts.append(f"Older figures of the same sites (history, not added): {_rows(r.rows)}.")
        elif r.filter.startswith("dated after"):
            parts.append(f"Dated after {r.filter[len('dated after '):]}: {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
        elif r.filter.startswith("undated"):
            parts.append(f"Undated, so not placed in time: {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
        else:
            parts.append(f"Left out by choice ({r.filter}): {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
    if len(rec.rejected):
        parts.append(f"Rejected as invalid: {_rows(len(rec.rejected))}, {math.fsum(rec.rejected['capacity_mw'].fillna(0)):,.1f} MW.")
    precise = f["location_precision"].fillna("").isin(["", "site"]).all() if "location_precision" in f else True
    if not precise:
        parts.append("Markers are placed at the town, county seat or region given, not the exact site.")
    return " ".join(parts)


def _change_note(change: CapacityChange) -> str:
    rec = change.mapped.reconciliation
    a = math.fsum(change.at_start["capacity_mw"])
    b = math.fsum(change.at_end["capacity_mw"])
    counts = change.facilities["change"].value_counts() if len(change.facilities) else {}
    label = change.mapped.status_label
    parts = [
        f"Change in {label} capacity from {change.start} to {change.end}: {a:,.1f} MW to {b:,.1f} MW ({b - a:+,.1f} MW).",
        "Sites " + ", ".join(f"{what} {int(counts.get(what, 0))}" for what in ("added", "removed", "grown", "shrunk"))
        + f"; unchanged {change.unchanged}.",
        f"Each date counts the newest figure of every site up to then; {rec.rows_mapped} rows used of {rec.rows_read} read.",
    ]
    for r in rec.filtered.itertuples(index=False):
        if r.filter == "outside this map":
            parts.append(f"Outside this map: {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
        elif r.filter.startswith("status "):
            parts.append(f"Not counted ({r.filter[len('status '):].replace('_', ' ')}): {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
    if len(rec.rejected):
        parts.append(f"Rejected as invalid: {_rows(len(rec.rejected))}.")
    return " ".join(parts)


def _credit(facilities: pd.DataFrame) -> str:
    """The publishers of a facility file: the source sites' domains (a few), or a generic line for many."""
    from urllib.parse import urlsplit

    if facilities is None or not len(facilities) or "source_url" not in facilities:
        return ""
    hosts = sorted({(urlsplit(u).hostname or "").removeprefix("www.") for u in facilities["source_url"].dropna()} - {""})
    if not hosts:
        return ""
    if len(hosts) > 4:
        return "company filings and press reports"
    return ", ".join(hosts)


def _rows(n: int) -> str:
    return _plural(n, "row", "rows")


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _hashrate_note(result: HashrateResult) -> str:
    meta = result.metadata
    pools = sorted({p for cell in result.table["pools"].dropna() for p in str(cell).split("|") if p})
    parts = [
        f"Window: {meta.get('window')}.",
        f"Pools: {', '.join(pools) if pools else 'none'}.",
        f"Assumption: {meta.get('assumption')}",
    ]
    if result.table["extrapolated"].any():
        parts.append(f"Extrapolated: {meta.get('extrapolation')}.")
    corrections = meta.get("vpn_corrections") or ()
    parts.append(f"VPN correction: {', '.join(corrections)}." if corrections else "No VPN correction.")
    if result.table["unreported"].any():
        parts.append("Where sources list less than 100%, the rest is shown as unreported, never rescaled.")
    return " ".join(parts)
