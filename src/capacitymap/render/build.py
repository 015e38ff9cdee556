"""``build_map`` (frames -> ``folium.Map``) and ``render_html`` (map -> deterministic HTML text)."""

from __future__ import annotations

import math
import re

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Figure

from capacitymap.render.classify import NO_DATA_COLOUR, Classes, category_colours, classify, format_value
from capacitymap.render.data import (
    Facilities,
    RegionValues,
    csv_data_uri,
    prepare_facilities,
    prepare_values,
)
from capacitymap.render.describe import METRIC_LABELS, describe_prepared
from capacitymap.render.escape import esc, script_json
from capacitymap.render.geometry import features_json, key_of, select_regions, web_geometry
from capacitymap.render.ids import deterministic_ids
from capacitymap.render.layers import MapApp
from capacitymap.render.page import NATURAL_EARTH, PAGE_CSS, Page, legend_html, table_html
from capacitymap.render.spec import Assets, MapSpec, MapSpecError, resolve_preset

__all__ = ["build_map", "render_html", "MAX_RADIUS_PX", "MIN_RADIUS_PX"]

#: The largest facility's circle radius in pixels; others scale with sqrt(MW) (area ∝ MW).
MAX_RADIUS_PX = 22.0
#: Circles never shrink below this radius, so tiny sites stay clickable.
MIN_RADIUS_PX = 2.5
_STATUS_LABELS = {"operational": "operational", "under_construction": "under construction", "planned": "planned",
                  "curtailed": "curtailed", "closed": "closed"}
_BUILD = "cm"
_RENDER = "cr"


def build_map(
    spec: MapSpec,
    *,
    regions: gpd.GeoDataFrame,
    values: pd.DataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Build the layered map ``spec`` describes: choropleth of ``values`` on ``regions``, facility markers.

    ``regions`` is the whole shipped layer (admin-1 for the admin-1 presets, admin-0 for ``world``);
    the preset's regions are kept. ``values`` has the key column (``iso_3166_2`` / ``iso_a2``),
    ``value`` (float, NaN = no data) and optionally ``month`` ("YYYY-MM", one slider step each) and
    provenance columns shown in tooltips. ``facilities`` are current (``history`` False) points.
    The result is rendered with :func:`render_html`. Element ids are deterministic.
    """
    if not isinstance(spec, MapSpec):
        raise MapSpecError(f"build_map: expected a MapSpec as the first argument, got {type(spec).__name__!r}")
    with deterministic_ids(_BUILD):
        return _build(spec, regions, values, facilities)


def render_html(m: folium.Map, *, assets: Assets | None = None) -> str:
    """The full HTML page of a map from :func:`build_map`; the same map always gives the same text.

    ``assets`` overrides the spec's choice: ``"cdn"`` links Leaflet and plugins from CDNs (unused
    Bootstrap/Font Awesome links removed), ``"inline"`` inlines them so the page needs no network.
    """
    spec: MapSpec | None = getattr(m, "_capacitymap_spec", None)
    if spec is None:
        raise MapSpecError("render_html: expected a map made by capacitymap.render.build_map, got a plain folium.Map")
    mode = assets or spec.assets
    if mode not in ("cdn", "inline"):
        raise MapSpecError(f"render_html: expected assets 'cdn' or 'inline', got {mode!r}")
    if mode == "inline" and getattr(m, "_capacitymap_tiles", False):
        raise MapSpecError(
            "render_html: a map built with assets='cdn' has a tile layer, which needs the network; "
            "build it with MapSpec(assets='inline') to render it self-contained"
        )
    from capacitymap.render.assets import inline_assets, strip_unused_assets

    with deterministic_ids(_RENDER):
        html = m.get_root().render()
    html = _normalise(html)
    return inline_assets(html) if mode == "inline" else strip_unused_assets(html)


def _normalise(html: str) -> str:
    # folium's templates leave trailing spaces and runs of blank lines; drop them (stable bytes).
    lines = [line.rstrip() for line in html.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --- building blocks -----------------------------------------------------------------------------


def _build(spec: MapSpec, regions: gpd.GeoDataFrame, values: pd.DataFrame | None, facilities) -> folium.Map:
    preset = resolve_preset(spec.preset)
    drawn, level = select_regions(regions, preset)
    key = key_of(level)
    keys = list(drawn[key])
    names = dict(zip(keys, drawn["name"]))
    rv = prepare_values(values, level=level, layer_keys=set(regions[key].astype(str)), drawn_keys=keys)
    fac = prepare_facilities(facilities, level=level, preset=preset, drawn_keys=keys)
    classes = classify(rv.finite(), scheme=spec.scheme, k=spec.k, bins=spec.bins, metric=spec.metric)
    geojson = features_json(drawn, web_geometry(drawn, level), key)
    alt = describe_prepared(spec, rv, fac, names=names, level=level)

    tiles = spec.assets == "cdn"
    b = preset.bbox
    m = folium.Map(
        location=[(b.south + b.north) / 2, (b.west + b.east) / 2],
        zoom_start=3,
        min_zoom=preset.min_zoom,
        max_zoom=12,
        tiles="OpenStreetMap" if tiles else None,
        control_scale=True,
        zoom_snap=0.25,
    )
    fig = Figure(title=esc(spec.title or "capacitymap"))
    fig.add_child(m)
    shares = _shares(rv)
    config = _config(spec, rv, fac, classes, shares, alt, level, b.bounds, bool(values is not None and len(rv.table)))
    MapApp(geojson=geojson, config=script_json(config), clustered=bool(fac.records)).add_to(m)
    Page(head_html=_head(spec, alt), foot_html=_foot(spec, rv, fac, names, shares, level), css=PAGE_CSS).add_to(m)
    m._capacitymap_spec = spec  # type: ignore[attr-defined]
    m._capacitymap_tiles = tiles  # type: ignore[attr-defined]
    m._capacitymap_alt = alt  # type: ignore[attr-defined]
    return m


def _shares(rv: RegionValues) -> dict[tuple[str, str], str]:
    totals = rv.totals()
    out: dict[tuple[str, str], str] = {}
    for month, d in rv.values.items():
        t = totals[month]
        for k, v in d.items():
            if v is not None and t > 0:
                out[(month, k)] = f"{v / t:.1%}"
    return out


def _radius(mw: float | None, max_mw: float) -> float:
    if mw is None or not math.isfinite(mw) or mw <= 0 or max_mw <= 0:
        return MIN_RADIUS_PX
    return round(max(MIN_RADIUS_PX, MAX_RADIUS_PX * math.sqrt(mw / max_mw)), 2)


def _size_examples(max_mw: float) -> list[tuple[float, float]]:
    if max_mw <= 0:
        return []
    top = float(f"{max_mw:.1g}") if max_mw >= 1 else max_mw
    steps = sorted({top, float(f"{top / 4:.1g}"), float(f"{top / 16:.1g}")}, reverse=True)
    return [(v, _radius(v, max_mw)) for v in steps if v > 0]


def _config(spec, rv: RegionValues, fac: Facilities, classes: Classes, shares, alt, level, bounds, has_values) -> dict:
    metric_label = METRIC_LABELS[spec.metric]
    by = spec.marker_colour
    op_colours = category_colours(fac.operators, by="operator")
    st_colours = category_colours(fac.statuses, by="status")
    text = {
        month: {k: [format_value(v, spec.metric), shares.get((month, k), "")] for k, v in d.items()}
        for month, d in rv.values.items()
    }
    records = []
    for r in fac.records:
        rec = dict(r)
        rec["radius"] = _radius(r["mw"], fac.max_mw)
        rec["mwText"] = format_value(r["mw"], "capacity_mw") if r["mw"] is not None else "unknown"
        rec["statusText"] = _STATUS_LABELS.get(r["status"], r["status"])
        records.append(rec)
    has_no_data = True  # regions without a row are "no data" too: the swatch is always explained
    colours = (
        [(op, op_colours[op]) for op in fac.operators[:7]] + ([("Other operators", "#7f7f7f")] if len(fac.operators) > 7 else [])
        if by == "operator"
        else [(_STATUS_LABELS.get(s, s), st_colours[s]) for s in fac.statuses]
    )
    unit = spec.unit
    region_word = "states and provinces" if level == "admin1" else "countries"
    legend = legend_html(
        classes,
        title=f"{metric_label} ({unit})" if has_values else f"{metric_label} ({unit}): no values given",
        has_no_data=has_no_data,
        sizes=_size_examples(fac.max_mw) if fac.records else [],
        colours=colours if fac.records else [],
        colour_title="Operator" if by == "operator" else "Status",
    )
    attribution = f"Boundaries: {NATURAL_EARTH}" + (f" | {esc(spec.credit)}" if spec.credit else "")
    return {
        "months": rv.months,
        "values": rv.values,
        "text": text,
        "provenance": rv.provenance,
        "classes": {"upper": list(classes.upper), "colours": list(classes.colours)},
        "noDataColour": NO_DATA_COLOUR,
        "metricLabel": f"{metric_label}",
        "hasFacilities": bool(fac.records),
        "facilityCount": fac.count_by_region,
        "topOperators": {k: [f"{op} ({format_value(mw, 'capacity_mw')})" for op, mw in v] for k, v in fac.top_by_region.items()},
        "facilities": records,
        "operators": fac.operators,
        "statuses": fac.statuses,
        "statusLabels": _STATUS_LABELS,
        "operatorColours": op_colours,
        "statusColours": st_colours,
        "markerBy": by,
        "legendHtml": legend,
        "regionLayerName": esc(f"{metric_label} by {region_word}"),
        "facilityLayerName": "Facilities",
        "attributionHtml": attribution,
        "bounds": bounds,
        "ariaLabel": spec.title or f"Map of {metric_label.lower()} by {region_word}",
    }


def _head(spec: MapSpec, alt: str) -> str:
    parts = ['<header class="cm-head">']
    if spec.title:
        parts.append(f'<h1 class="cm-title">{esc(spec.title)}</h1>')
    if spec.subtitle:
        parts.append(f'<p class="cm-subtitle">{esc(spec.subtitle)}</p>')
    parts.append(f'<p class="cm-sr" id="cm-alt">{esc(alt)}</p>')
    parts.append("</header>")
    return "".join(parts)


def _foot(spec: MapSpec, rv: RegionValues, fac: Facilities, names, shares, level) -> str:
    key = rv.key
    table = rv.table.copy()
    table.insert(1, "name", table[key].map(names))
    csv_table = table.rename(columns={"value": spec.metric})
    filename = re.sub(r"[^a-z0-9]+", "-", (spec.title or "capacitymap-data").lower()).strip("-") or "capacitymap-data"
    shown = rv.table
    caption = f"{METRIC_LABELS[spec.metric]} ({spec.unit}) by region"
    if rv.has_months:
        latest = rv.months[-1]
        shown = shown[shown["month"] == latest].drop(columns=["month"])
        caption += f", {latest} (the CSV has all {len(rv.months)} months)"
    counts = fac.count_by_region if fac.records else None
    month_for_share = rv.months[-1]
    table_shares = {("", k): s for (m, k), s in shares.items() if m == month_for_share}
    parts = ['<footer class="cm-foot">']
    credit = f"{esc(spec.credit)} · " if spec.credit else ""
    parts.append(f'<p class="cm-credit">{credit}Boundaries: {NATURAL_EARTH}</p>')
    if spec.coverage_note:
        parts.append(f'<p class="cm-coverage">{esc(spec.coverage_note)}</p>')
    parts.append(
        f'<p><a class="cm-download" href="{esc(csv_data_uri(csv_table))}" download="{esc(filename)}.csv">'
        "Get the data (CSV)</a></p>"
    )
    parts.append(
        '<details class="cm-table"><summary>Data table</summary>'
        + table_html(shown, caption=caption, key=key, names=names, metric=spec.metric, shares=table_shares, counts=counts)
        + "</details>"
    )
    parts.append("<noscript><p>The interactive map needs JavaScript; the data table above shows its values.</p></noscript>")
    parts.append("</footer>")
    return "".join(parts)
