"""Static stills for print and social cards: the same map as the HTML page, drawn by matplotlib.

Same regions (the preset's), same classes and colours (:mod:`capacitymap.render.classify`), same
markers (area ∝ MW, coloured by operator or status), in the web map's Web Mercator view. No browser.
Output is deterministic: fixed SVG hash salt, no dates or software versions in the metadata.
"""

from __future__ import annotations

import io
import math
from typing import Final, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd

from capacitymap.errors import ExportError
from capacitymap.render.classify import (
    NO_DATA_COLOUR,
    Classes,
    category_colours,
    classify,
    format_value,
)
from capacitymap.render.data import prepare_facilities, prepare_values
from capacitymap.render.geometry import key_of, select_regions, web_mercator
from capacitymap.render.spec import METRIC_UNITS, MapSpec, resolve_preset

__all__ = ["render_static", "StaticFormat", "STATIC_FORMATS", "BOUNDARY_ATTRIBUTION"]

StaticFormat = Literal["png", "svg"]
STATIC_FORMATS: Final[tuple[str, ...]] = get_args(StaticFormat)
BOUNDARY_ATTRIBUTION: Final = "Boundaries: Natural Earth"

_METRIC_TITLES: Final[dict[str, str]] = {
    "capacity_mw": "Power capacity",
    "hashrate_ehs": "Hashrate",
    "share": "Share of hashrate",
}
_MERCATOR_MAX_LAT: Final = 85.0
_MAX_MARKER_AREA_PT2: Final = 900.0  # the largest facility's marker area, in points² at this figure size
_SALT: Final = "capacitymap"
_MAX_OPERATORS_IN_LEGEND: Final = 8


def render_static(
    spec: MapSpec,
    *,
    regions: gpd.GeoDataFrame,
    values: pd.DataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    fmt: StaticFormat = "png",
    width_px: int = 1200,
    height_px: int = 800,
    dpi: int = 150,
    month: str | None = None,
) -> bytes:
    """The map as PNG or SVG bytes of exactly ``width_px`` × ``height_px`` pixels (SVG: at ``dpi``).

    ``values`` with a ``month`` column draw ``month`` (default: the latest, as the HTML map opens).
    """
    _check_options(fmt, width_px, height_px, dpi)
    preset = resolve_preset(spec.preset)
    drawn, level = select_regions(regions, preset)
    key = key_of(level)
    keys = drawn[key].tolist()
    rv = prepare_values(values, level=level, layer_keys=set(regions[key].astype(str)), drawn_keys=keys)
    classes = classify(rv.finite(), scheme=spec.scheme, k=spec.k, bins=spec.bins, metric=spec.metric)
    shown = _month(rv.months, month)
    facs = prepare_facilities(facilities, level=level, preset=preset, drawn_keys=keys)
    return _draw(spec, preset, drawn, key, rv.values[shown], shown, classes, facs, fmt, width_px, height_px, dpi)


# --- steps ---------------------------------------------------------------------------------------


def _check_options(fmt: object, width_px: object, height_px: object, dpi: object) -> None:
    if fmt not in STATIC_FORMATS:
        raise ExportError(f"static export: expected format one of {list(STATIC_FORMATS)!r}, got {fmt!r}")
    for name, v, lo, hi in (("width_px", width_px, 100, 20_000), ("height_px", height_px, 100, 20_000), ("dpi", dpi, 50, 1200)):
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ExportError(f"static export: expected {name} as a whole number from {lo} to {hi}, got {v!r}")


def _month(months: list[str], month: str | None) -> str:
    if month is None:
        return months[-1]
    if month not in months:
        raise ExportError(
            f"static export: expected a month of the values {[m for m in months if m]!r}, got {month!r}; "
            "pick one of them or leave month out for the latest"
        )
    return month


def _draw(spec, preset, drawn, key, shown_values, month, classes: Classes, facs, fmt, width_px, height_px, dpi) -> bytes:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:  # matplotlib is the "static" extra
        raise ExportError(
            "static export: expected matplotlib to be installed, got none; pip install 'capacitymap[static]'"
        ) from exc

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
        fig.patch.set_facecolor("white")
        scale = min(width_px, height_px) / dpi / 800 * 150  # 1.0 at 1200x800 @ 150 dpi
        fs = max(6.0, 10.0 * min(width_px / 1200, height_px / 800) * 150 / dpi)
        ax = fig.add_axes((0.02, 0.09, 0.70, 0.76))
        _draw_regions(ax, drawn, key, shown_values, classes)
        _draw_markers(ax, facs, spec, scale)
        _set_view(ax, preset, width_px * 0.70, height_px * 0.76)
        _draw_texts(fig, spec, preset, month, fs)
        _draw_legends(fig, spec, classes, facs, fs, scale)
        buf = io.BytesIO()
        if fmt == "png":
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        else:
            fig.savefig(buf, format="svg", dpi=dpi, metadata={"Date": None, "Creator": None})
        return buf.getvalue()


_RC: Final[dict[str, object]] = {
    "svg.hashsalt": _SALT,
    "svg.fonttype": "none",  # text stays text: searchable, accessible, and escaped by the SVG writer
    "font.family": "DejaVu Sans",
    "path.simplify": True,
    "text.usetex": False,
    "axes.unicode_minus": False,
    "hatch.linewidth": 0.35,
    "hatch.color": "#8a8a8a",
}


def _mercator(gdf: gpd.GeoDataFrame):
    # regions drawn on one side of the antimeridian reach past ±180° (select_regions): pyproj would fold them back
    return web_mercator(gdf)


def _draw_regions(ax, drawn: gpd.GeoDataFrame, key: str, shown: dict[str, float | None], classes: Classes) -> None:
    frame = _mercator(drawn)
    colours = [classes.colour(shown.get(k)) for k in frame[key]]
    no_data = np.array([shown.get(k) is None for k in frame[key]])
    if (~no_data).any():
        frame[~no_data].plot(ax=ax, color=[c for c, n in zip(colours, no_data) if not n], edgecolor="#555555", linewidth=0.3)
    if no_data.any():
        frame[no_data].plot(ax=ax, color=NO_DATA_COLOUR, edgecolor="#555555", linewidth=0.3, hatch="//", alpha=0.55)


def _marker_colours(spec: MapSpec, facs) -> dict[str, str]:
    if spec.marker_colour == "status":
        return category_colours(facs.statuses, by="status")
    return category_colours(facs.operators, by="operator")


def _area(mw: float | None, max_mw: float, scale: float) -> float:
    if mw is None or not math.isfinite(mw) or mw <= 0 or max_mw <= 0:
        return 4.0 * scale
    return max(4.0, _MAX_MARKER_AREA_PT2 * mw / max_mw) * scale


def _draw_markers(ax, facs, spec: MapSpec, scale: float) -> None:
    if not facs.records:
        return
    from pyproj import Transformer

    to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
    lon = np.array([r["lon"] for r in facs.records])
    lat = np.clip(np.array([r["lat"] for r in facs.records]), -_MERCATOR_MAX_LAT, _MERCATOR_MAX_LAT)
    x, y = to_merc.transform(lon, lat)
    colours = _marker_colours(spec, facs)
    field = "status" if spec.marker_colour == "status" else "operator"
    c = [colours.get(r[field], "#7f7f7f") for r in facs.records]
    s = [_area(r["mw"], facs.max_mw, scale) for r in facs.records]
    # records come largest first, so small markers are drawn on top of large ones
    ax.scatter(x, y, s=s, c=c, alpha=0.8, edgecolors="white", linewidths=0.5, zorder=3)


def _set_view(ax, preset, width_px: float, height_px: float) -> None:
    from pyproj import Transformer

    b = preset.bbox
    to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
    south, north = max(b.south, -_MERCATOR_MAX_LAT), min(b.north, _MERCATOR_MAX_LAT)
    (x0, x1), (y0, y1) = to_merc.transform([b.west, b.east], [south, north])
    # widen the short side so the view keeps the axes' aspect ratio (no distortion, bbox fully shown)
    want = width_px / height_px
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    if w / h < want:
        w = h * want
    else:
        h = w / want
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_axis_off()


def _text(fig, x: float, y: float, text: str, **kw):
    return fig.text(x, y, text, parse_math=False, **kw)


def _draw_texts(fig, spec: MapSpec, preset, month: str, fs: float) -> None:
    title = spec.title or f"{_METRIC_TITLES[spec.metric]} by region: {preset.label}"
    subtitle = spec.subtitle
    if month:
        subtitle = f"{subtitle} · {month}" if subtitle else month
    _text(fig, 0.02, 0.965, title, fontsize=fs * 1.6, fontweight="bold", va="top", ha="left", wrap=True)
    if subtitle:
        _text(fig, 0.02, 0.905, subtitle, fontsize=fs * 1.05, va="top", ha="left", color="#333333", wrap=True)
    credit = spec.credit.strip()
    _text(fig, 0.02, 0.03, credit, fontsize=fs * 0.8, va="bottom", ha="left", color="#444444")
    _text(fig, 0.98, 0.03, BOUNDARY_ATTRIBUTION, fontsize=fs * 0.8, va="bottom", ha="right", color="#444444")


def _draw_legends(fig, spec: MapSpec, classes: Classes, facs, fs: float, scale: float) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    unit = METRIC_UNITS[spec.metric]
    handles = [Patch(facecolor=c, edgecolor="#555555", linewidth=0.4) for c in classes.colours]
    labels = list(classes.labels)
    handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor="#555555", linewidth=0.4, hatch="//", alpha=0.55))
    labels.append("no data")
    title = f"{_METRIC_TITLES[spec.metric]} ({unit})"
    leg = fig.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(0.74, 0.86),
                     fontsize=fs * 0.85, title_fontsize=fs * 0.95, frameon=False, alignment="left")
    _no_math(leg)
    if not facs.records:
        return
    colours = _marker_colours(spec, facs)
    names = list(colours)
    if spec.marker_colour == "operator" and len(names) > _MAX_OPERATORS_IN_LEGEND:
        names = names[: _MAX_OPERATORS_IN_LEGEND - 1]
        colours = {**{n: colours[n] for n in names}, "other operators": "#7f7f7f"}
        names.append("other operators")
    mk = []
    for n in names:
        mk.append(Line2D([], [], linestyle="none", marker="o", markersize=fs * 0.8, markerfacecolor=colours[n],
                         markeredgecolor="white", alpha=0.8))
    what = "Facilities by status" if spec.marker_colour == "status" else "Facilities by operator"
    shown_names = [_short(n.replace("_", " ") if spec.marker_colour == "status" else n) for n in names]
    sizes = _size_key(facs.max_mw)
    for mw in sizes:
        mk.append(Line2D([], [], linestyle="none", marker="o", markersize=math.sqrt(_area(mw, facs.max_mw, scale)),
                         markerfacecolor="none", markeredgecolor="#333333"))
    shown_names += [format_value(mw, "capacity_mw") for mw in sizes]
    leg2 = fig.legend(mk, shown_names, title=f"{what}\n(circle area ∝ MW)", loc="lower left",
                      bbox_to_anchor=(0.74, 0.08), fontsize=fs * 0.8, title_fontsize=fs * 0.9, frameon=False,
                      alignment="left", labelspacing=0.9, handlelength=3.0, handletextpad=1.0)
    _no_math(leg2)


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _size_key(max_mw: float) -> list[float]:
    if not math.isfinite(max_mw) or max_mw <= 0:
        return []
    top = float(10 ** math.floor(math.log10(max_mw)))
    for m in (5, 2, 1):
        if m * top <= max_mw:
            top *= m
            break
    return sorted({top, top / 4}) if top / 4 >= 1 else [top]


def _no_math(legend) -> None:
    # "$...$" in data (an operator called "${1+1}") must print as written, not as mathtext
    for t in legend.get_texts():
        t.set_parse_math(False)
    legend.get_title().set_parse_math(False)

