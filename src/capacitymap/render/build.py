"""``build_map`` (frames + spec -> :class:`BuiltMap`) and ``render_html`` (built map -> deterministic HTML).

The page is Leaflet plus one hand-written script (``js/page.js``), both inlined by default; the
data reach it as ``script_json`` text. No folium, no jQuery/d3/moment: a small, fast, offline page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from capacitymap.render.classify import NO_DATA_COLOUR, Classes, category_colours, classify
from capacitymap.render.data import Facilities, RegionValues, csv_data_uri, prepare_facilities, prepare_values
from capacitymap.render.describe import (
    METRIC_LABELS,
    complete_spec,
    count,
    describe_prepared,
    display_names,
    value_publishers,
)
from capacitymap.render.escape import esc, script_json
from capacitymap.render.geometry import key_of, select_regions, web_geometry
from capacitymap.render.page import NATURAL_EARTH, legend_html, page_html, table_html
from capacitymap.render.spec import ADDITIVE_METRICS, Assets, MapSpec, MapSpecError, resolve_preset, tile_source
from capacitymap.vocab import STATUS_LABELS, StillFormat, status_phrase

__all__ = ["BuiltMap", "build_map", "render_html", "MAX_RADIUS_PX", "MIN_RADIUS_PX"]

#: The largest facility's circle radius in pixels; others scale with sqrt(MW) (area ∝ MW).
MAX_RADIUS_PX = 22.0
#: Circles never shrink below this radius, so tiny sites stay clickable.
MIN_RADIUS_PX = 3.0
#: Change maps colour sites by what happened to them (RdBu ends, colour-blind safe).
CHANGE_COLOURS = {"added": "#2166ac", "grown": "#67a9cf", "shrunk": "#ef8a62", "removed": "#b2182b"}


@dataclass(frozen=True)
class BuiltMap:
    """A map ready to become a page: its completed spec, alt text and HTML-ready parts.

    Made by :func:`build_map`; :func:`render_html` (or :meth:`html`) turns it into the page text and
    :meth:`still` draws the same map as a PNG or SVG: one built object, one title, one alt text.
    """

    spec: MapSpec
    alt: str
    head_html: str
    foot_html: str
    config_json: str
    geojson_json: str
    addons: tuple[str, ...] = field(default=())  # add-on scripts the page calls ("basemap", "chart")
    #: What the still draws: the spec as given to build_map, the regions, values and facilities.
    drawn: tuple[MapSpec, gpd.GeoDataFrame, pd.DataFrame | None, gpd.GeoDataFrame | None] | None = field(
        default=None, repr=False, compare=False)

    @property
    def title(self) -> str:
        """The map's title (the spec's, or the default that says what the map shows)."""
        return self.spec.title

    def html(self, *, assets: Assets | None = None) -> str:
        """The page text (see :func:`render_html`)."""
        return render_html(self, assets=assets)

    def still(self, *, fmt: StillFormat = "png", width_px: int = 1200, height_px: int = 800, dpi: int = 150) -> bytes:
        """The same map as a PNG or SVG still (matplotlib, no browser), with the same title and credit."""
        from capacitymap.export import render_static

        if self.drawn is None:
            raise MapSpecError("BuiltMap.still: expected a map made by build_map, got one without its frames; build it with build_map")
        spec, regions, values, facilities = self.drawn
        return render_static(spec, regions=regions, values=values, facilities=facilities,
                             fmt=fmt, width_px=width_px, height_px=height_px, dpi=dpi)


def build_map(
    spec: MapSpec,
    *,
    regions: gpd.GeoDataFrame,
    values: pd.DataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    pipeline: gpd.GeoDataFrame | None = None,
    statuses: tuple[str, ...] = (),
    captions: dict[str, str] | None = None,
    as_of: str | None = None,
    value_label: str = "",
    credit: str = "",
    coverage_note: str = "",
) -> BuiltMap:
    """Build the map ``spec`` describes: choropleth of ``values`` on ``regions``, facility circles.

    ``regions`` is the whole shipped layer (admin-1 for the admin-1 presets, admin-0 for ``world``);
    the preset's regions are kept. ``values`` has the key column (``iso_3166_2`` / ``iso_a2``),
    ``value`` (float, NaN = no data) and optionally ``month`` (step labels "YYYY-MM" or "YYYY-Qn")
    and provenance columns shown in tooltips. ``facilities`` are points (with a ``month`` column: one
    row per site per step, and the circles follow the slider); ``pipeline`` sites are drawn hollow in
    their own layer and never counted. A spec without title, subtitle or credit gets defaults that say
    what, when and whose (see :func:`capacitymap.render.describe.complete_spec`).
    """
    if not isinstance(spec, MapSpec):
        raise MapSpecError(f"build_map: expected a MapSpec as the first argument, got {type(spec).__name__!r}")
    frames = (spec, regions, values, facilities)
    preset = resolve_preset(spec.preset)
    drawn, level = select_regions(regions, preset)
    key = key_of(level)
    keys = list(drawn[key])
    names = display_names(dict(zip(keys, drawn["name"])))
    rv = prepare_values(values, level=level, layer_keys=set(regions[key].astype(str)), drawn_keys=keys)
    fac = prepare_facilities(facilities, level=level, preset=preset, drawn_keys=keys)
    pipe = prepare_facilities(pipeline, level=level, preset=preset, drawn_keys=keys)
    steps = rv.months if rv.has_months else fac.steps
    spec = complete_spec(spec, steps=steps, as_of=as_of, statuses=statuses, value_label=value_label, credit=credit,
                         domains=value_publishers(values) + fac.domains + pipe.domains, coverage_note=coverage_note)
    classes = classify(rv.finite(), scheme=spec.scheme, k=spec.k, bins=spec.bins, metric=spec.metric)
    geojson = compact_geojson(drawn, web_geometry(drawn, level), key, names)
    alt = describe_prepared(spec, rv, fac, names=names, level=level)
    captions = {str(k): str(v) for k, v in (captions or {}).items() if str(k) in rv.months}
    config = _config(spec, rv, fac, pipe, classes, names, level, preset, statuses, captions, values is not None)
    config.update(_addons(rv, names, spec, level, preset, drawn))
    return BuiltMap(
        spec=spec,
        alt=alt,
        head_html=_head(spec, alt),
        foot_html=_foot(spec, rv, fac, names, statuses),
        config_json=script_json(config),
        geojson_json=geojson,
        addons=tuple(a for a in ("basemap", "chart") if config.get(a)),
        drawn=frames,
    )


def render_html(built: BuiltMap, *, assets: Assets | None = None) -> str:
    """The full HTML page of a :func:`build_map` result; the same map always gives the same text.

    ``assets`` overrides the spec's choice: ``"inline"`` (default) puts Leaflet in the page so it needs
    no network; ``"cdn"`` links Leaflet from a CDN (a smaller file; a message shows if it cannot load).
    """
    if not isinstance(built, BuiltMap):
        raise MapSpecError(
            f"render_html: expected a map made by capacitymap.render.build_map, got {type(built).__name__!r}"
        )
    mode = assets or built.spec.assets
    if mode not in ("cdn", "inline"):
        raise MapSpecError(f"render_html: expected assets 'cdn' or 'inline', got {mode!r}")
    if mode == "inline" and built.spec.tiles:
        raise MapSpecError(
            "render_html: a map with a tile layer needs the network; render it with assets='cdn' "
            "or build it without tiles for a self-contained page"
        )
    return page_html(built, mode)


# --- building blocks -----------------------------------------------------------------------------


#: Coordinates reach the page as integers of 1/1000 degree (about 100 m), each ring delta-encoded.
GEO_SCALE = 1000


def compact_geojson(drawn: gpd.GeoDataFrame, geometry: gpd.GeoSeries, key: str, names: dict[str, str]) -> str:
    """The regions as compact JSON the page decodes into GeoJSON: ``{"scale", "features": [[id, name, polys]]}``.

    Each polygon is a list of rings; each ring a flat list ``[x0, y0, dx1, dy1, ...]`` of integers in
    1/``scale`` degrees (repeated points dropped). Less than half the bytes of GeoJSON text.
    """
    feats = []
    for k, g in zip(drawn[key], geometry):
        if g is None or g.is_empty:
            continue
        polys = []
        for poly in _polygons(g):
            rings = [r for r in (_ring(poly.exterior), *(_ring(i) for i in poly.interiors)) if r]
            if rings and len(rings[0]) >= 8:
                polys.append(rings)
        if polys:
            feats.append([str(k), names.get(k, str(k)), polys])
    return script_json({"scale": GEO_SCALE, "features": feats})


def decode_regions(compact: dict) -> dict:
    """The GeoJSON FeatureCollection the page decodes from :func:`compact_geojson`'s output (for tests and tools)."""
    import numpy as np

    scale = compact["scale"]
    features = []
    for key, name, polys in compact["features"]:
        coords = [[(np.cumsum(np.asarray(r, dtype="int64").reshape(-1, 2), axis=0) / scale).tolist() for r in poly]
                  for poly in polys]
        features.append({"type": "Feature", "id": key, "properties": {"name": name},
                         "geometry": {"type": "MultiPolygon", "coordinates": coords}})
    return {"type": "FeatureCollection", "features": features}


def _polygons(g) -> list:  # noqa: ANN001 - shapely geometry
    if g.geom_type == "Polygon":
        return [g]
    if g.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for part in g.geoms for p in _polygons(part)]
    return []


def _ring(ring) -> list[int]:  # noqa: ANN001 - shapely LinearRing
    import numpy as np

    q = np.round(np.asarray(ring.coords)[:, :2] * GEO_SCALE).astype("int64")
    if len(q) > 1:
        keep = np.ones(len(q), dtype=bool)
        keep[1:] = np.any(q[1:] != q[:-1], axis=1)
        q = q[keep]
    if len(q) < 4:
        return []
    d = np.vstack([q[:1], np.diff(q, axis=0)])
    return d.ravel().tolist()


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


def _step_word(steps: list[str]) -> str:
    return "Quarter" if steps and "Q" in steps[0] else "Month"


def _config(spec: MapSpec, rv: RegionValues, fac: Facilities, pipe: Facilities, classes: Classes, names, level, preset,
            statuses, captions, has_values: bool) -> dict:
    metric_label = METRIC_LABELS[spec.metric]
    by = spec.marker_colour
    operators = list(dict.fromkeys(fac.operators + pipe.operators))
    all_statuses = sorted(set(fac.statuses) | set(pipe.statuses))
    op_colours = category_colours(operators, by="operator")
    st_colours = category_colours(all_statuses, by="status")
    change = spec.metric == "capacity_change_mw"
    max_mw = max(fac.max_mw, pipe.max_mw)
    if change:
        deltas = [abs(r["delta"]) for r in fac.records if r.get("delta") is not None]
        max_mw = max(deltas, default=max_mw) or max_mw
    counted = status_phrase(statuses) if statuses else ""
    region_word = "states and provinces" if level == "admin1" else "countries"
    step_word = _step_word(rv.months if rv.has_months else fac.steps)
    colours: list[tuple[str, str]] = []
    if fac.records or pipe.records:
        if change:
            colours = [(k, v) for k, v in CHANGE_COLOURS.items() if any(r.get("change") == k for r in fac.records)]
        elif by == "operator":
            colours = [(op, op_colours[op]) for op in operators[:7]] + ([("Other operators", "#7f7f7f")] if len(operators) > 7 else [])
        else:
            colours = [(STATUS_LABELS.get(s, s), st_colours[s]) for s in all_statuses]
    fixed = f"Colours fixed across all {count(len(rv.months), step_word.lower())}" if len(rv.months) > 1 else ""
    title = f"{metric_label} ({spec.unit})" + (f", {counted}" if counted else "")
    legend = legend_html(
        classes,
        title=title if has_values else f"{title}: no values given",
        has_no_data=True,  # regions without a row are "no data" too: the swatch is always explained
        sizes=_size_examples(max_mw) if fac.records or pipe.records else [],
        size_title="Change (circle area \u221d MW)" if change else "Facilities (circle area \u221d MW)",
        colours=colours,
        colour_title="Change" if change else ("Operator" if by == "operator" else "Status"),
        hollow=bool(pipe.records),
        fixed_note=fixed,
    )
    tiles = None
    if spec.tiles:
        url, attribution = tile_source(spec.tiles)
        tiles = {"url": url, "attribution": attribution}
    if spec.step is not None and spec.step not in rv.months:
        raise MapSpecError(f"MapSpec.step: expected one of the steps {[m for m in rv.months if m]!r}, got {spec.step!r}")
    config = {
        "months": rv.months,
        "start": spec.step or rv.months[-1],
        "stepWord": step_word,
        "captions": captions,
        "values": rv.values,
        "provenance": rv.provenance,
        "provenanceColumns": [c.replace("_", " ") for c in rv.provenance_columns],
        "names": {k: names[k] for k in sorted(names)},
        "classes": {"upper": list(classes.upper), "colours": list(classes.colours)},
        "diverging": change,
        "classesFixed": fixed,
        "noDataColour": NO_DATA_COLOUR,
        "metric": spec.metric,
        "metricLabel": metric_label,
        "additive": spec.metric in ADDITIVE_METRICS,
        "recompute": spec.metric in ("capacity_mw", "capacity_change_mw") and bool(fac.records or fac.unplaced),
        "hasFacilities": bool(fac.records or fac.unplaced),
        "facilities": fac.records,
        "unplaced": fac.unplaced,
        "pipeline": pipe.records,
        "operators": operators,
        "statuses": all_statuses,
        "statusLabels": STATUS_LABELS,
        "operatorColours": op_colours,
        "statusColours": st_colours,
        "changeColours": CHANGE_COLOURS if change else {},
        "markerBy": by,
        "maxMw": max_mw,
        "maxRadius": MAX_RADIUS_PX,
        "minRadius": MIN_RADIUS_PX,
        "legendHtml": legend,
        "regionLayerName": esc(f"{metric_label} by {region_word}"),
        "facilityLayerName": "Facilities" + (f" ({esc(counted)})" if counted else ""),
        "pipelineLayerName": "Pipeline: " + esc(status_phrase(pipe.statuses)) + " (not counted)",
        "attributionHtml": f"Boundaries: {NATURAL_EARTH}",
        "tiles": tiles,
        "bounds": preset.bbox.bounds,
        "minZoom": preset.min_zoom,
        "ariaLabel": spec.title,
        "tableCaption": _table_caption(spec, counted),
        "fallbackText": (
            "The interactive map could not load: its script library (Leaflet, from cdn.jsdelivr.net) was not "
            "reached. The data table below lists every figure."
        ),
    }
    return config


def _addons(rv: RegionValues, names, spec: MapSpec, level: str, preset, drawn) -> dict:
    """Payloads of the basemap and chart add-ons, when their modules are installed."""
    out: dict = {}
    try:
        from capacitymap.render import basemap as _basemap  # the BASEMAP helper's module
    except ImportError:
        _basemap = None
    if _basemap is not None and hasattr(_basemap, "basemap_payload") and _js_exists("basemap.js"):
        out["basemap"] = _basemap.basemap_payload(drawn.assign(name=drawn[rv.key].map(names)), level, preset.bbox.bounds)  # type: ignore[arg-type]
    try:
        from capacitymap.render import chart as _chart
    except ImportError:
        _chart = None
    if _chart is not None and hasattr(_chart, "chart_payload") and _js_exists("chart.js") and rv.has_months:
        payload = _chart.chart_payload(rv.table, names, spec.metric)
        if payload:
            out["chart"] = payload
    return out


def _js_exists(name: str) -> bool:
    from capacitymap.render.page import js_dir

    return (js_dir() / name).is_file()


def _table_caption(spec: MapSpec, counted: str) -> str:
    return f"{METRIC_LABELS[spec.metric]} ({spec.unit}" + (f", {counted}" if counted else "") + ") by region"


def _head(spec: MapSpec, alt: str) -> str:
    parts = ['<header class="cm-head">', f'<h1 class="cm-title">{esc(spec.title)}</h1>']
    if spec.subtitle:
        parts.append(f'<p class="cm-subtitle">{esc(spec.subtitle)}</p>')
    parts.append(f'<p class="cm-sr" id="cm-alt">{esc(alt)}</p>')
    parts.append("</header>")
    return "".join(parts)


def _foot(spec: MapSpec, rv: RegionValues, fac: Facilities, names, statuses) -> str:
    key = rv.key
    table = rv.table.copy()
    table.insert(1, "name", table[key].map(names))
    csv_table = table.rename(columns={"value": spec.metric})
    filename = re.sub(r"[^a-z0-9]+", "-", (spec.title or "capacitymap-data").lower()).strip("-")[:80] or "capacitymap-data"
    shown = rv.table
    counted = status_phrase(statuses) if statuses else ""
    caption = _table_caption(spec, counted)
    if rv.has_months:
        latest = rv.months[-1]
        shown = shown[shown["month"] == latest].drop(columns=["month"])
        caption += f", {latest}"
    shown = shown.assign(_v=shown["value"].fillna(-math.inf)).sort_values(["_v", key], ascending=[False, True],
                                                                        kind="stable").drop(columns=["_v"])
    counts = fac.count_by_region if (fac.records or fac.unplaced) else None
    parts = ['<footer class="cm-foot">']
    credit = f"{esc(spec.credit)} · " if spec.credit else ""
    parts.append(f'<p class="cm-credit">{credit}Boundaries: {NATURAL_EARTH}. {_source_links(fac)}</p>')
    if spec.coverage_note:
        parts.append(f'<p class="cm-coverage">{esc(spec.coverage_note)}</p>')
    every = f", every {_step_word(rv.months).lower()}" if len(rv.months) > 1 else ""
    parts.append(
        f'<p><a class="cm-download" href="{esc(csv_data_uri(csv_table))}" download="{esc(filename)}.csv">'
        f"Get the data (CSV{every})</a><span id=\"cm-csv-note\"></span></p>"
    )
    parts.append(
        '<details class="cm-table"><summary>Data table</summary>'
        + table_html(shown, caption=caption, key=key, names=names, metric=spec.metric, counts=counts)
        + "</details>"
    )
    parts.append("</footer>")
    return "".join(parts)


def _source_links(fac: Facilities) -> str:
    if not fac.domains:
        return ""
    if len(fac.domains) > 3:
        return f"Each site's source is linked from its circle ({count(len(fac.domains), 'source site')})."
    links = ", ".join(f'<a href="https://{esc(d)}/">{esc(d)}</a>' for d in fac.domains)
    return f"Sources: {links}; each site's source is linked from its circle."
