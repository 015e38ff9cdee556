"""From results to what a map draws: region values, markers and the coverage note.

``capacity_layers`` turns mapped facilities into a capacity choropleth plus markers;
``hashrate_layers`` turns a hashrate method result into a share (or EH/s) choropleth with one
slider step per month. ``make_map`` and ``make_still`` hand the layers to the renderers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from capacitymap.method import HashrateResult, to_region_values
from capacitymap.pipeline import MappedFacilities
from capacitymap.render import BuiltMap, MapSpec, build_map
from capacitymap.render.spec import resolve_preset
from capacitymap.summary import summarize

__all__ = ["MapLayers", "capacity_layers", "hashrate_layers", "make_map", "make_still"]


@dataclass(frozen=True)
class MapLayers:
    """What one map draws: the boundary layer, region values (or None) and facility points (or None).

    ``pipeline``: sites not counted in the choropleth, drawn as hollow circles in their own layer.
    ``statuses``: the statuses the choropleth counts (titles, legends and tables say them).
    ``captions``: step -> caption; a step with a caption is marked incomplete on the slider.
    ``as_of``: the date a single-date map shows. ``value_label``: what the value means when the
    metric alone does not say it. ``credit``: who published the data (a user's ``--credit`` wins).
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


def capacity_layers(mapped: MappedFacilities, admin1: gpd.GeoDataFrame, *, by_month: pd.DataFrame | None = None) -> MapLayers:
    """Total MW per state/province of the mapped facilities, and the facilities as markers.

    ``by_month`` (from :func:`capacity_by_month`) turns the choropleth into a monthly slider of capacity
    over time; the markers stay the facilities as filtered.
    """
    if by_month is not None:
        values = by_month
    else:
        totals = summarize(mapped.facilities, by="region")
        values = pd.DataFrame({"iso_3166_2": totals["iso_3166_2"].astype(str), "value": totals["capacity_mw"].astype(float)})
    return MapLayers(admin1, values, mapped.facilities, _capacity_note(mapped))


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


def make_map(spec: MapSpec, layers: MapLayers) -> BuiltMap:
    """The interactive map, built: the one entry from layers + spec to a page (``render_html(make_map(...))``).

    Blanks in the spec (title, subtitle, credit, coverage note) are filled from the layers.
    """
    spec = complete_layers_spec(spec, layers)
    return build_map(
        spec, regions=layers.regions, values=layers.values, facilities=layers.facilities, pipeline=layers.pipeline,
        statuses=tuple(layers.statuses), captions=dict(layers.captions), as_of=layers.as_of,
        value_label=layers.value_label, credit=layers.credit, coverage_note=layers.coverage_note,
    )


def make_still(spec: MapSpec, layers: MapLayers, *, fmt: str = "png", width_px: int = 1200, height_px: int = 800, dpi: int = 150) -> bytes:
    """The same map as a PNG or SVG still (matplotlib, no browser), with the same title and credit."""
    from capacitymap.export import render_static

    return render_static(_with_note(spec, layers), regions=layers.regions, values=layers.values, facilities=layers.facilities,
                         fmt=fmt, width_px=width_px, height_px=height_px, dpi=dpi)  # type: ignore[arg-type]


def preset_level(preset: str) -> str:
    """``country`` for the world preset, ``admin1`` for the others."""
    return "country" if resolve_preset(preset).level == "admin0" else "admin1"


def _with_note(spec: MapSpec, layers: MapLayers) -> MapSpec:
    """The spec with its blanks filled from the layers, exactly as the HTML map fills them."""
    return complete_layers_spec(spec, layers)


def complete_layers_spec(spec: MapSpec, layers: MapLayers) -> MapSpec:
    """Title, subtitle, credit and coverage note defaults for ``layers`` (the user's text wins)."""
    from capacitymap.render.data import prepare_facilities
    from capacitymap.render.describe import complete_spec, value_publishers
    from capacitymap.render.geometry import key_of, select_regions

    preset = resolve_preset(spec.preset)
    drawn, level = select_regions(layers.regions, preset)
    keys = list(drawn[key_of(level)])
    domains = value_publishers(layers.values)
    if not domains and not layers.credit and "CCAF" in layers.coverage_note.split("Pools:", 1)[-1].split(".", 1)[0]:
        domains = ["ccaf.io"]  # the method's note names the pools: CCAF's published shares
    steps: list[str] = []
    for frame in (layers.facilities, layers.pipeline):
        fac = prepare_facilities(frame, level=level, preset=preset, drawn_keys=keys)
        domains += fac.domains
        steps = steps or fac.steps
    if layers.values is not None and "month" in layers.values.columns:
        steps = sorted({str(m) for m in layers.values["month"].dropna().astype(str)})
    return complete_spec(spec, steps=steps, as_of=layers.as_of, statuses=tuple(layers.statuses),
                         value_label=layers.value_label, credit=layers.credit, domains=domains,
                         coverage_note=layers.coverage_note)


def _capacity_note(mapped: MappedFacilities) -> str:
    f = mapped.facilities
    rec = mapped.reconciliation
    dates = sorted(d for d in f["as_of"].dropna()) if len(f) else []
    span = f"figures dated {dates[0]} to {dates[-1]}" if dates else "undated figures"
    sources = f["source_url"].dropna().nunique() if len(f) else 0
    parts = [
        f"{rec.rows_mapped} facilities, {rec.mw_mapped:,.1f} MW mapped ({span}; {sources} sources).",
    ]
    for r in rec.filtered.itertuples(index=False):
        parts.append(f"Left out by choice ({r.filter}): {r.rows} rows, {r.capacity_mw:,.1f} MW.")
    if len(rec.rejected):
        parts.append(f"Rejected as invalid: {len(rec.rejected)} rows, {rec.rejected['capacity_mw'].fillna(0).sum():,.1f} MW.")
    precise = f["location_precision"].fillna("").isin(["", "site"]).all() if "location_precision" in f else True
    if not precise:
        parts.append("Markers are placed at the town, county seat or region given, not the exact site.")
    return " ".join(parts)


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
