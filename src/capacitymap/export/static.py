"""Static stills for print and social cards: the same map as the HTML page, drawn by matplotlib.

Same regions (the preset's), same classes and colours (:mod:`capacitymap.render.classify`), same
markers (area ∝ MW, coloured by operator or status), in the web map's Web Mercator view. No browser.
Output is deterministic: fixed SVG hash salt, no dates or software versions in the metadata.
"""

from __future__ import annotations

import io
import math
import re
from typing import Final

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
from capacitymap.render.spec import METRIC_LABELS, METRIC_UNITS, MapSpec, resolve_preset
from capacitymap.vocab import STILL_FORMATS, StillFormat

__all__ = ["render_static", "build_still_figure", "StaticFormat", "STATIC_FORMATS", "BOUNDARY_ATTRIBUTION"]

StaticFormat = StillFormat
STATIC_FORMATS: Final[tuple[str, ...]] = STILL_FORMATS
BOUNDARY_ATTRIBUTION: Final = "Boundaries: Natural Earth"

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
    fig = build_still_figure(spec, regions=regions, values=values, facilities=facilities, width_px=width_px,
                             height_px=height_px, dpi=dpi, month=month)
    with _rc():
        buf = io.BytesIO()
        if fmt == "png":
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        else:
            fig.savefig(buf, format="svg", dpi=dpi, metadata={"Date": None, "Creator": None})
        return buf.getvalue()


def build_still_figure(
    spec: MapSpec,
    *,
    regions: gpd.GeoDataFrame,
    values: pd.DataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    width_px: int = 1200,
    height_px: int = 800,
    dpi: int = 150,
    month: str | None = None,
):  # noqa: ANN201 - matplotlib.figure.Figure
    """The still as a laid-out matplotlib ``Figure`` (what :func:`render_static` saves).

    No two texts overlap, long titles and credits wrap, legends are stacked in the right-hand column within
    the figure.
    """
    _check_options("png", width_px, height_px, dpi)
    preset = resolve_preset(spec.preset)
    drawn, level = select_regions(regions, preset)
    key = key_of(level)
    keys = drawn[key].tolist()
    rv = prepare_values(values, level=level, layer_keys=set(regions[key].astype(str)), drawn_keys=keys)
    classes = classify(rv.finite(), scheme=spec.scheme, k=spec.k, bins=spec.bins, metric=spec.metric)
    shown = _month(rv.months, month)
    if facilities is not None and "month" in facilities.columns:
        # A stepped map's facilities are long (one row per site per step): draw the step shown, as the page does.
        facilities = facilities[facilities["month"].astype(str) == (shown or str(facilities["month"].max()))]
    facs = prepare_facilities(facilities, level=level, preset=preset, drawn_keys=keys)
    return _draw(spec, preset, drawn, key, rv.values[shown], shown, classes, facs, width_px, height_px, dpi)


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


def _rc():  # noqa: ANN202 - a matplotlib rc context
    try:
        import matplotlib
    except ImportError as exc:  # matplotlib is the "static" extra
        raise ExportError(
            "static export: expected matplotlib to be installed, got none; pip install 'capacitymap[static]'"
        ) from exc
    return matplotlib.rc_context(_RC)


def _draw(spec, preset, drawn, key, shown_values, month, classes: Classes, facs, width_px, height_px, dpi):  # noqa: ANN001, ANN202
    with _rc():
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
        FigureCanvasAgg(fig)  # text is measured with the renderer that draws the PNG
        fig.patch.set_facecolor("white")
        scale = min(width_px, height_px) / dpi / 800 * 150  # 1.0 at 1200x800 @ 150 dpi
        fs = max(6.0, 10.0 * min(width_px / 1200, height_px / 800) * 150 / dpi)
        top, bottom = _lay_out_texts(fig, spec, preset, month, classes, facs, scale, fs)
        ax = fig.add_axes((0.02, bottom, _MAP_WIDTH, top - bottom))
        _draw_regions(ax, drawn, key, shown_values, classes)
        _draw_markers(ax, facs, spec, scale)
        _set_view(ax, preset, width_px * _MAP_WIDTH, height_px * (top - bottom))
        return fig


#: The map keeps at least this share of the figure's height; type is made smaller until it does.
_MIN_MAP_HEIGHT: Final = 0.4


def _lay_out_texts(fig, spec, preset, month, classes: Classes, facs, scale: float, fs: float) -> tuple[float, float]:  # noqa: ANN001
    """Title, subtitle, credit and legends, measured and placed so that none overlaps another or leaves the figure.

    First with fewer operators named in the legend, then with smaller type. Returns the map's vertical
    span (bottom of the header, top of the footer) as figure fractions.
    """
    shrinks = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)
    attempts = [(shrink, names, True, True) for shrink in shrinks for names in (_MAX_OPERATORS_IN_LEGEND, 5, 3, 0)]
    # a figure too small for every block: the colour key of the facilities goes first, then the size key
    attempts += [(shrink, 0, False, True) for shrink in shrinks] + [(shrink, 0, False, False) for shrink in shrinks]
    for shrink, names, colour_key, size_key in attempts:
        fig.clear()
        layout = _Layout(fig, fs * shrink)
        top = _draw_header(layout, spec, preset, month)
        bottom = _draw_footer(layout, spec)
        if top - bottom < _MIN_MAP_HEIGHT:
            continue
        legends = _place_legends(layout, spec, classes, facs, scale, top=top, fs=layout.fs, max_names=names,
                                 colour_key=colour_key, size_key=size_key)
        boxes = [layout.extent(lg) for lg in legends]
        if min(b.y0 for b in boxes) >= bottom and max(b.x1 for b in boxes) <= 1.0:
            return top, bottom
    # the smallest type, classes only: what fits best in a figure this small
    return top, min(bottom, top - 0.05)


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


_MAP_WIDTH: Final = 0.70  # of the figure's width; the legends use the column to its right
_LEGEND_X: Final = 0.74
_GAP_PT: Final = 6.0  # between stacked blocks, in points
#: Wording that only makes sense on the interactive page; a printed map says nothing about it.
_WEB_ONLY = re.compile(r"\s*[(\[]?\s*(?:with\s+)?(?:a\s+)?(?:source\s+links?|links?\s+to\s+(?:the\s+)?sources?)\s+"
                       r"(?:on|for|in)\s+(?:each|every)\s+(?:site|facility|marker|popup)\s*[)\]]?", re.IGNORECASE)


class _Layout:
    """Places text blocks measured with the figure's own renderer, so wrapping and stacking use real extents."""

    def __init__(self, fig, fs: float):  # noqa: ANN001
        self.fig, self.fs = fig, fs
        self.renderer = fig.canvas.get_renderer()
        self.width_px, self.height_px = fig.bbox.width, fig.bbox.height
        self.margin_x = 0.02
        self.margin_y = 0.025
        self.gap = _GAP_PT * fig.dpi / 72 / self.height_px  # a gap as a fraction of the height

    def text(self, x: float, y: float, text: str, *, max_width: float, **kw):  # noqa: ANN201 - matplotlib Text
        """``text`` at figure fraction (x, y), wrapped at word boundaries to ``max_width`` (a fraction of the width)."""
        artist = self.fig.text(x, y, text, parse_math=False, **kw)
        artist.set_text(self.wrap(artist, text, max_width * self.width_px))
        return artist

    def wrap(self, artist, text: str, limit_px: float) -> str:  # noqa: ANN001
        lines: list[str] = []
        for paragraph in text.split("\n"):
            words = paragraph.split(" ")
            line = ""
            for word in words:
                candidate = f"{line} {word}" if line else word
                if line and self.width_of(artist, candidate) > limit_px:
                    lines.append(line)
                    line = word
                else:
                    line = candidate
            lines.append(line)
        return "\n".join(_break_long(self, artist, ln, limit_px) for ln in lines)

    def width_of(self, artist, text: str) -> float:  # noqa: ANN001
        artist.set_text(text)
        return artist.get_window_extent(self.renderer).width

    def extent(self, artist):  # noqa: ANN001, ANN201 - Bbox in figure fractions
        return artist.get_window_extent(self.renderer).transformed(self.fig.transFigure.inverted())


def _break_long(layout: _Layout, artist, line: str, limit_px: float) -> str:  # noqa: ANN001
    """A single word wider than the line (a long URL) is cut with a hyphen rather than overflowing."""
    if layout.width_of(artist, line) <= limit_px or len(line) < 2:
        return line
    head = line
    while len(head) > 1 and layout.width_of(artist, head + "-") > limit_px:
        head = head[: max(1, int(len(head) * 0.9))]
    return head + "-\n" + _break_long(layout, artist, line[len(head):], limit_px)


def _print_wording(text: str) -> str:
    """Text for print: web-only phrases ("source link on each site") removed."""
    return re.sub(r"\s{2,}", " ", _WEB_ONLY.sub("", text)).strip()


def _draw_header(layout: _Layout, spec: MapSpec, preset, month: str) -> float:  # noqa: ANN001
    """Title and subtitle from the top, wrapped; returns the figure fraction below them."""
    fs = layout.fs
    title = _print_wording(spec.title) or f"{METRIC_LABELS[spec.metric]} by region: {preset.label}"
    subtitle = _print_wording(spec.subtitle)
    if month:
        subtitle = f"{subtitle} · {month}" if subtitle else month
    width = 1 - 2 * layout.margin_x
    y = 1 - layout.margin_y
    t = layout.text(layout.margin_x, y, title, max_width=width, fontsize=fs * 1.6, fontweight="bold", va="top", ha="left")
    y = layout.extent(t).y0 - layout.gap * 0.5
    if subtitle:
        st = layout.text(layout.margin_x, y, subtitle, max_width=width, fontsize=fs * 1.05, va="top", ha="left", color="#333333")
        y = layout.extent(st).y0
    return y - layout.gap


def _draw_footer(layout: _Layout, spec: MapSpec) -> float:
    """The credit (wrapped, left) and the boundary attribution (right), never on top of each other.

    Returns the figure fraction above them.
    """
    fs = layout.fs * 0.8
    y = layout.margin_y
    attribution = layout.text(1 - layout.margin_x, y, BOUNDARY_ATTRIBUTION, max_width=1, fontsize=fs, va="bottom", ha="right",
                              color="#444444")
    a = layout.extent(attribution)
    credit = _print_wording(spec.credit)
    top = a.y1
    if credit:
        room = a.x0 - layout.margin_x - layout.gap * layout.height_px / layout.width_px * 2
        if room < 0.35:  # too narrow beside the attribution: the credit goes above it, full width
            c = layout.text(layout.margin_x, a.y1 + layout.gap * 0.5, credit, max_width=1 - 2 * layout.margin_x, fontsize=fs,
                            va="bottom", ha="left", color="#444444")
        else:
            c = layout.text(layout.margin_x, y, credit, max_width=room, fontsize=fs, va="bottom", ha="left", color="#444444")
        top = max(top, layout.extent(c).y1)
    return top + layout.gap


def _place_legends(layout: _Layout, spec: MapSpec, classes: Classes, facs, scale: float, *, top: float, fs: float, max_names: int,
                   colour_key: bool = True, size_key: bool = True) -> list:  # noqa: ANN001
    """Class legend, then the facility colours, then the circle-size key, stacked down the right-hand column."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = layout.fig
    placed = []
    unit = METRIC_UNITS[spec.metric]
    handles = [Patch(facecolor=c, edgecolor="#555555", linewidth=0.4) for c in classes.colours]
    labels = list(classes.labels)
    handles.append(Patch(facecolor=NO_DATA_COLOUR, edgecolor="#555555", linewidth=0.4, hatch="//", alpha=0.55))
    labels.append("no data")
    title = f"{METRIC_LABELS[spec.metric]} ({unit})"
    placed.append(_legend(fig, handles, labels, title, top, fs))
    y = layout.extent(placed[-1]).y0 - layout.gap
    if not facs.records or not colour_key:
        return placed
    colours = _marker_colours(spec, facs)
    names = list(colours)
    if spec.marker_colour == "operator" and len(names) > max(max_names, 1):
        kept = names[: max(max_names - 1, 0)]
        colours = {**{n: colours[n] for n in kept}, "other operators" if kept else "operators": "#7f7f7f"}
        names = [*kept, "other operators" if kept else "operators"]
    marker_pt = fs * 0.8
    mk = [Line2D([], [], linestyle="none", marker="o", markersize=marker_pt, markerfacecolor=colours[n],
                 markeredgecolor="white", alpha=0.8) for n in names]
    what = "Facilities by status" if spec.marker_colour == "status" else "Facilities by operator"
    # names cut (with "…") to the column's width: long legal names never run off the figure
    room_px = (1 - layout.margin_x - _LEGEND_X) * layout.width_px - (2.0 + 0.8) * fs * 0.8 * fig.dpi / 72
    shown = [_fit(layout, _short(n.replace("_", " ") if spec.marker_colour == "status" else n), fs * 0.8, room_px) for n in names]
    placed.append(_legend(fig, mk, shown, what, y, fs))
    y = layout.extent(placed[-1]).y0 - layout.gap
    sizes = _size_key(facs.max_mw)
    if not sizes or not size_key:
        return placed
    diameters = [math.sqrt(_area(mw, facs.max_mw, scale)) for mw in sizes]
    rings = [Line2D([], [], linestyle="none", marker="o", markersize=d, markerfacecolor="none", markeredgecolor="#333333")
             for d in diameters]
    # rows as tall, and handles as wide, as the largest circle: circles never reach their neighbours or labels
    size_fs = fs * 0.8
    height = max(0.7, max(diameters) / size_fs * 1.1)
    placed.append(_legend(fig, rings, [format_value(mw, "capacity_mw") for mw in sizes], "Circle area ∝ MW", y, fs,
                          handleheight=height, handlelength=max(2.0, height), labelspacing=0.4))
    return placed


def _fit(layout: _Layout, text: str, fs: float, room_px: float) -> str:
    probe = layout.fig.text(0, 0, text, fontsize=fs, parse_math=False)
    try:
        if layout.width_of(probe, text) <= room_px:
            return text
        cut = text
        while len(cut) > 1 and layout.width_of(probe, cut.rstrip() + "…") > room_px:
            cut = cut[:-1]
        return cut.rstrip() + "…"
    finally:
        probe.remove()


def _legend(fig, handles, labels, title: str, top: float, fs: float, **kw):  # noqa: ANN001, ANN202
    leg = fig.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(_LEGEND_X, top), borderaxespad=0.0,
                     fontsize=fs * 0.8, title_fontsize=fs * 0.9, frameon=False, alignment="left", **kw)
    _no_math(leg)
    return leg


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

