"""The page around the map: title block, legend, credits, coverage note, data table, CSV link.

Everything here is static HTML built in Python; every text from data or the spec goes through
:func:`esc`.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from capacitymap.render.classify import NO_DATA_COLOUR, Classes, format_value
from capacitymap.render.escape import esc
from capacitymap.render.spec import ADDITIVE_METRICS

if TYPE_CHECKING:
    from capacitymap.render.build import BuiltMap

__all__ = ["page_html", "legend_html", "size_key_svg", "table_html", "js_dir", "PAGE_CSS", "NATURAL_EARTH"]

NATURAL_EARTH = '<a href="https://www.naturalearthdata.com/">Natural Earth</a>'

PAGE_CSS = """
html, body { margin: 0; padding: 0; }
html { height: 100%; }
body { min-height: 100%; display: flex; flex-direction: column; background: #fff; color: #222;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.cm-head { flex: 0 0 auto; padding: 8px 12px 4px; }
.cm-title { font-size: 1.25rem; line-height: 1.25; margin: 0; }
.cm-subtitle { font-size: 0.92rem; margin: 2px 0 0; color: #444; }
.cm-stepbar { flex: 0 0 auto; display: flex; flex-wrap: wrap; align-items: center; gap: 2px 10px;
  padding: 2px 12px 6px; font-size: 13px; }
.cm-stepbar[hidden] { display: none; }
.cm-step-label { font-weight: 600; white-space: nowrap; }
.cm-range { position: relative; flex: 1 1 220px; min-width: 160px; max-width: 560px; padding-bottom: 6px; }
.cm-range input { width: 100%; height: 28px; margin: 0; display: block; cursor: pointer; }
.cm-ticks { position: absolute; left: 8px; right: 8px; bottom: 0; height: 6px; pointer-events: none; }
.cm-gap { position: absolute; width: 6px; height: 6px; margin-left: -3px; background: #b2182b; border-radius: 1px; }
.cm-caption { flex: 1 0 100%; margin: 0; color: #8a1c1c; min-height: 0; }
.cm-caption:empty { display: none; }
.cm-fixed { color: #555; font-size: 12px; }
.cm-main { flex: 1 0 auto; display: flex; min-height: 50vh; }
.cm-map { flex: 1 1 auto; min-height: 50vh; position: relative; background: #eef2f5; outline-offset: -2px; }
.cm-fallback { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  padding: 24px; text-align: center; color: #333; font-size: 15px; }
.cm-failed { background: #fff6e5; }
.cm-chart { flex: 0 0 34%; max-width: 420px; min-width: 260px; padding: 6px 10px; box-sizing: border-box; }
.cm-chart[hidden] { display: none; }
.cm-foot { flex: 0 0 auto; max-height: 30vh; overflow: auto; padding: 6px 12px 10px; font-size: 0.8rem;
  color: #333; border-top: 1px solid #ddd; }
.cm-foot p { margin: 2px 0; }
.cm-download { display: inline-block; min-height: 24px; line-height: 24px; }
.cm-sr { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
.cm-table summary, .cm-filter summary { cursor: pointer; font-weight: 600; min-height: 24px; line-height: 24px; }
.cm-table table { border-collapse: collapse; margin-top: 4px; }
.cm-table th, .cm-table td { border-bottom: 1px solid #e3e3e3; padding: 2px 8px; text-align: left; }
.cm-table td.cm-num { text-align: right; font-variant-numeric: tabular-nums; }
.cm-legend, .cm-filter { background: rgba(255, 255, 255, 0.95); padding: 6px 8px; font-size: 12px;
  line-height: 1.35; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3); border-radius: 4px; }
.leaflet-container .cm-legend { max-height: 42vh; overflow: auto; max-width: 230px; }
.cm-legend h2 { font-size: 12px; margin: 0 0 3px; }
.cm-legend ul { list-style: none; margin: 0 0 4px; padding: 0; }
.cm-swatch { display: inline-block; width: 16px; height: 11px; margin-right: 6px; vertical-align: -1px;
  border: 1px solid #777; }
.cm-swatch-nodata { border: 1px dashed #333; }
.cm-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; border: 1px solid #fff;
  box-shadow: 0 0 0 1px #888; margin: 0 5px 0 2px; vertical-align: -1px; flex: 0 0 auto; }
.cm-sizes svg { display: block; overflow: visible; }
.cm-note { margin: 2px 0 0; color: #555; font-size: 11px; }
.cm-note:empty { display: none; }
.cm-filter { max-height: 45vh; overflow: auto; max-width: 220px; }
.cm-fieldset { border: 0; margin: 4px 0 0; padding: 0; }
.cm-fieldset legend { font-weight: 600; padding: 0; }
.cm-check { display: flex; align-items: center; min-height: 24px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; cursor: pointer; }
.cm-check input { width: 16px; height: 16px; margin: 0 6px 0 0; flex: 0 0 auto; }
.cm-month { font-weight: 600; }
.cm-tip, .cm-fac-tip { width: max-content; max-width: 260px; white-space: normal; }
.cm-tip-title { font-weight: 700; margin-bottom: 2px; }
.cm-tip-key { color: #555; }
.cm-popup .cm-row { overflow-wrap: anywhere; }
.leaflet-control-layers-toggle { width: 36px; height: 36px; }
.leaflet-control-attribution { max-width: 60vw; white-space: normal; line-height: 1.3; }
#cm-legend-slot { flex: 0 0 auto; }
.cm-legend-compact { box-shadow: none; border-top: 1px solid #ddd; border-radius: 0; padding: 4px 12px; }
.cm-legend-compact h2 { display: inline; margin-right: 6px; }
.cm-legend-compact ul { display: inline-flex; flex-wrap: wrap; gap: 0 10px; vertical-align: top; margin: 0; }
.cm-legend-compact .cm-sizes, .cm-legend-compact .cm-legend-part { display: inline-flex; align-items: center; gap: 6px;
  margin-right: 12px; }
@media (max-width: 899px) {
  .cm-main { flex-direction: column; }
  .cm-chart { flex: 0 0 auto; max-width: none; min-width: 0; }
}
@media (max-width: 699px) {
  .cm-title { font-size: 1.05rem; }
  .cm-subtitle { font-size: 0.82rem; }
  .cm-foot { max-height: 24vh; }
}
html.cm-embedded { height: auto; overflow: hidden; }
html.cm-embedded body { min-height: 0; }
html.cm-embedded .cm-main, html.cm-embedded .cm-map { min-height: 0; }
html.cm-embedded .cm-map { height: clamp(300px, 62vw, 620px); flex: 1 1 auto; }
html.cm-embedded .cm-foot { max-height: none; overflow: visible; }
"""


def legend_html(
    classes: Classes,
    *,
    title: str,
    has_no_data: bool,
    sizes: list[tuple[float, float]],
    colours: list[tuple[str, str]],
    colour_title: str,
    size_title: str = "Facilities (circle area \u221d MW)",
    hollow: bool = False,
    fixed_note: str = "",
) -> str:
    """The legend's inner HTML: classes (units in the title), no data, the size key, marker colours."""
    out = [f'<div class="cm-legend-part"><h2>{esc(title)}</h2><ul>']
    for colour, label in zip(reversed(classes.colours), reversed(classes.labels)):
        out.append(f'<li><span class="cm-swatch" style="background:{esc(colour)}"></span>{esc(label)}</li>')
    if has_no_data or not len(classes):
        out.append(
            f'<li><span class="cm-swatch cm-swatch-nodata" style="background:{NO_DATA_COLOUR}"></span>No data</li>'
        )
    out.append("</ul></div>")
    if fixed_note:
        out.append(f'<p class="cm-note">{esc(fixed_note)}</p>')
    if sizes:
        out.append(f'<div class="cm-sizes"><h2>{esc(size_title)}</h2>{size_key_svg(sizes)}</div>')
    if colours:
        out.append(f'<div class="cm-legend-part"><h2>{esc(colour_title)}</h2><ul>')
        for name, colour in colours:
            out.append(f'<li><span class="cm-dot" style="background:{esc(colour)}"></span>{esc(name)}</li>')
        if hollow:
            out.append('<li><span class="cm-dot" style="background:none;border:1.5px dashed #333;box-shadow:none">'
                       "</span>Pipeline (hollow, not counted)</li>")
        out.append("</ul></div>")
    elif hollow:
        out.append('<p class="cm-note">Hollow circles: pipeline, not counted</p>')
    return "".join(out)


def size_key_svg(sizes: list[tuple[float, float]]) -> str:
    """Nested circles on one baseline, each labelled at the right with a leader line; labels never overlap."""
    rmax = max(r for _, r in sizes)
    h = 2 * rmax + 2
    cx = rmax + 1
    label_x = 2 * rmax + 10
    ys: list[float] = []
    parts = []
    for mw, r in sorted(sizes, key=lambda s: -s[1]):
        top = h - 1 - 2 * r
        y = max(top + 4, (ys[-1] + 14) if ys else top + 4)  # 11px text boxes are about 13px tall
        ys.append(y)
        parts.append(f'<circle cx="{cx:.1f}" cy="{h - 1 - r:.1f}" r="{r:.1f}" fill="none" stroke="#444" stroke-width="1"/>')
        parts.append(f'<line x1="{cx:.1f}" y1="{top:.1f}" x2="{label_x - 3:.1f}" y2="{y - 4:.1f}" stroke="#999" stroke-width="0.7"/>')
        parts.append(f'<text x="{label_x:.1f}" y="{y:.1f}" font-size="11" fill="#222">{esc(format_value(mw, "capacity_mw"))}</text>')
    height = max(h, ys[-1] + 3)
    width = label_x + 64
    return (f'<svg width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" aria-hidden="true">'
            + "".join(parts) + "</svg>")


def table_html(table: pd.DataFrame, *, caption: str, key: str, names: dict[str, str], metric: str,
               counts: dict[str, int] | None) -> str:
    """An accessible HTML table of the values shown (one row per region, largest first).

    The page script re-renders the body when the slider or the filters change; this is what a reader
    without JavaScript sees. "Share of map total" only for additive metrics (MW, EH/s).
    """
    additive = metric in ADDITIVE_METRICS
    prov = [c for c in table.columns if c not in (key, "month", "value")]
    head = ["Region", "Code", _metric_header(metric)] + (["Share of map total"] if additive else [])
    head += (["Facilities"] if counts is not None else []) + [c.replace("_", " ") for c in prov]
    values = [v for v in table["value"] if v is not None and not math.isnan(v)]
    total = float(math.fsum(values)) if additive else 0.0
    rows = []
    for rec in table.to_dict("records"):
        k = rec[key]
        v = rec["value"]
        v = None if v is None or math.isnan(v) else v
        cells = [f'<th scope="row">{esc(names.get(k, k))}</th>', f"<td>{esc(k)}</td>"]
        cells.append(f'<td class="cm-num">{esc(format_value(v, metric))}</td>')
        if additive:
            cells.append(f'<td class="cm-num">{f"{100 * v / total:.1f}%" if v is not None and total > 0 else ""}</td>')
        if counts is not None:
            cells.append(f'<td class="cm-num">{counts.get(k, 0)}</td>')
        cells += [f"<td>{esc(rec[c])}</td>" for c in prov]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ths = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    return (
        f'<table id="cm-table"><caption>{esc(caption)}</caption><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _metric_header(metric: str) -> str:
    return {"capacity_mw": "Capacity (MW)", "hashrate_ehs": "Hashrate (EH/s)", "share": "Share of hashrate (%)",
            "capacity_change_mw": "Change (+/- MW)"}[metric]


def js_dir() -> Path:
    """The folder of the page's scripts (``page.js``, and the add-ons ``basemap.js``, ``chart.js``)."""
    return Path(__file__).resolve().parent / "js"


@cache
def _script(name: str) -> str:
    text = (js_dir() / name).read_text(encoding="utf-8")
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE).replace("<!--", "<\\!--")


_SLOTS = ("LEAFLET_CSS", "LEAFLET_JS", "PAGE_JS", "ADDONS_JS", "TITLE", "HEAD", "FOOT", "CONFIG", "GEO", "NOSCRIPT")


def page_html(built: BuiltMap, mode: str) -> str:
    """The page: a fixed template whose slots are filled after the network check (data never checked)."""
    from capacitymap.render.assets import check_self_contained, leaflet_tags

    template = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>\x00TITLE\x00</title>\n\x00LEAFLET_CSS\x00\n"
        f"<style>{PAGE_CSS}</style>\n</head>\n<body>\n\x00HEAD\x00\n"
        '<div class="cm-stepbar" id="cm-stepbar" hidden></div>\n'
        '<div class="cm-main"><div id="cm-map" class="cm-map">'
        '<div id="cm-fallback" class="cm-fallback">\x00NOSCRIPT\x00</div></div>'
        '<div id="cm-legend-slot"></div><aside id="cm-chart" class="cm-chart" hidden></aside></div>\n'
        '\x00FOOT\x00\n'
        "\x00LEAFLET_JS\x00\n<script>\x00PAGE_JS\x00</script>\n\x00ADDONS_JS\x00"
        "<script>\nvar cfg = \x00CONFIG\x00;\nvar geo = \x00GEO\x00;\n"
        "if (typeof capacitymapPage === \"function\") { capacitymapPage(cfg, geo); }\n</script>\n"
        "</body>\n</html>\n"
    )
    css, js = leaflet_tags(mode)
    if mode == "inline":
        check_self_contained(template.replace("\x00LEAFLET_CSS\x00", "").replace("\x00LEAFLET_JS\x00", ""))
    addons = "".join(f"<script>{_script(name + '.js')}</script>\n" for name in built.addons)
    fill = {
        "LEAFLET_CSS": css, "LEAFLET_JS": js, "PAGE_JS": _script("page.js"), "ADDONS_JS": addons,
        "TITLE": esc(built.spec.title), "HEAD": built.head_html, "FOOT": built.foot_html,
        "CONFIG": built.config_json, "GEO": built.geojson_json,
        "NOSCRIPT": "The interactive map needs JavaScript; the data table below lists its values.",
    }
    return re.sub("\x00([A-Z_]+)\x00", lambda m: fill[m.group(1)], template)
