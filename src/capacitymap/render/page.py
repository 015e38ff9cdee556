"""The page around the map: title block, legend, credits, coverage note, data table, CSV link.

Everything here is static HTML built in Python; every text from data or the spec goes through
:func:`esc`.
"""

from __future__ import annotations

import math

import pandas as pd
from branca.element import Figure, MacroElement
from jinja2 import Template

from capacitymap.render.classify import NO_DATA_COLOUR, Classes, format_value
from capacitymap.render.elements import RawHTML
from capacitymap.render.escape import esc
from capacitymap.errors import MapSpecError

__all__ = ["Page", "legend_html", "table_html", "PAGE_CSS", "NATURAL_EARTH"]

NATURAL_EARTH = '<a href="https://www.naturalearthdata.com/">Natural Earth</a>'

PAGE_CSS = """
html, body { height: 100%; width: 100%; margin: 0; padding: 0; }
body { display: flex; flex-direction: column; background: #fff; color: #222;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.cm-head { flex: 0 0 auto; padding: 8px 12px 6px; }
.cm-title { font-size: 1.3rem; line-height: 1.25; margin: 0; }
.cm-subtitle { font-size: 0.95rem; margin: 2px 0 0; color: #444; }
.folium-map { flex: 1 1 auto; min-height: 240px; height: auto !important; width: 100% !important;
  position: relative !important; background: #f4f4f2; }
.cm-foot { flex: 0 1 auto; max-height: 38vh; overflow: auto; padding: 6px 12px 10px; font-size: 0.8rem;
  color: #333; border-top: 1px solid #ddd; }
.cm-foot p { margin: 2px 0; }
.cm-sr { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
.cm-table table { border-collapse: collapse; margin-top: 4px; }
.cm-table th, .cm-table td { border-bottom: 1px solid #e3e3e3; padding: 2px 8px; text-align: left; }
.cm-table td.cm-num { text-align: right; font-variant-numeric: tabular-nums; }
.cm-legend, .cm-filter, .cm-slider { background: rgba(255, 255, 255, 0.94); padding: 6px 8px; font-size: 12px;
  line-height: 1.35; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.3); border-radius: 4px; }
.cm-legend { max-height: 45vh; overflow: auto; max-width: 230px; }
.cm-legend h2 { font-size: 12px; margin: 0 0 3px; }
.cm-legend ul { list-style: none; margin: 0 0 4px; padding: 0; }
.cm-swatch { display: inline-block; width: 16px; height: 11px; margin-right: 6px; vertical-align: -1px;
  border: 1px solid #777; }
.cm-swatch-nodata { border: 1px dashed #333; }
.cm-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; border: 1px solid #222;
  margin: 0 5px 0 2px; vertical-align: -1px; }
.cm-sizes svg { display: block; }
.cm-filter { max-height: 50vh; overflow: auto; max-width: 240px; }
.cm-filter summary, .cm-legend summary { cursor: pointer; font-weight: 600; }
.cm-fieldset { border: 0; margin: 4px 0 0; padding: 0; }
.cm-fieldset legend { font-weight: 600; padding: 0; }
.cm-check { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.cm-slider input { width: 200px; max-width: 60vw; display: block; }
.cm-month { font-weight: 600; }
.cm-tip-title { font-weight: 700; margin-bottom: 2px; }
.cm-label { color: #555; }
.cm-popup .cm-row { overflow-wrap: anywhere; }
@media (max-width: 600px) {
  .cm-title { font-size: 1.05rem; }
  .cm-subtitle { font-size: 0.85rem; }
  .cm-legend { font-size: 11px; max-height: 32vh; max-width: 160px; }
  .cm-foot { max-height: 30vh; }
}
"""


def legend_html(
    classes: Classes,
    *,
    title: str,
    has_no_data: bool,
    sizes: list[tuple[float, float]],
    colours: list[tuple[str, str]],
    colour_title: str,
) -> str:
    """The legend's inner HTML: classes (with units), the no-data swatch, marker sizes and colours."""
    out = [f"<h2>{esc(title)}</h2><ul>"]
    for colour, label in zip(reversed(classes.colours), reversed(classes.labels)):
        out.append(f'<li><span class="cm-swatch" style="background:{esc(colour)}"></span>{esc(label)}</li>')
    if has_no_data or not len(classes):
        out.append(
            f'<li><span class="cm-swatch cm-swatch-nodata" style="background:{NO_DATA_COLOUR}"></span>No data</li>'
        )
    out.append("</ul>")
    if sizes:
        rmax = max(r for _, r in sizes)
        h = int(2 * rmax + 4)
        w = int(2 * rmax + 4)
        circles, labels = [], []
        for mw, r in sizes:
            cy = h - 2 - r
            circles.append(
                f'<circle cx="{w / 2:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="none" stroke="#333" stroke-width="1"></circle>'
            )
            labels.append(esc(format_value(mw, "capacity_mw")))
        out.append(
            '<h2>Facilities (circle area ∝ MW)</h2><div class="cm-sizes" style="display:flex;gap:6px;align-items:flex-end">'
            f'<svg width="{w}" height="{h}" aria-hidden="true">{"".join(circles)}</svg>'
            f'<span>{" / ".join(labels)}</span></div>'
        )
    if colours:
        out.append(f"<h2>{esc(colour_title)}</h2><ul>")
        for name, colour in colours:
            out.append(f'<li><span class="cm-dot" style="background:{esc(colour)}"></span>{esc(name)}</li>')
        out.append("</ul>")
    return "".join(out)


def table_html(table: pd.DataFrame, *, caption: str, key: str, names: dict[str, str], metric: str,
               shares: dict[tuple[str, str], str], counts: dict[str, int] | None) -> str:
    """An accessible HTML table of the mapped values (one row per region and month)."""
    has_month = "month" in table.columns
    prov = [c for c in table.columns if c not in (key, "month", "value")]
    head = ["Region", "Code"] + (["Month"] if has_month else []) + [f"{_metric_header(metric)}", "Share of map total"]
    head += (["Facilities"] if counts is not None else []) + [c.replace("_", " ") for c in prov]
    rows = []
    for rec in table.to_dict("records"):
        k = rec[key]
        month = rec.get("month", "")
        v = rec["value"]
        cells = [f'<th scope="row">{esc(names.get(k, k))}</th>', f"<td>{esc(k)}</td>"]
        if has_month:
            cells.append(f"<td>{esc(month)}</td>")
        cells.append(f'<td class="cm-num">{esc(format_value(None if v is None or math.isnan(v) else v, metric))}</td>')
        cells.append(f'<td class="cm-num">{esc(shares.get((month, k), ""))}</td>')
        if counts is not None:
            cells.append(f'<td class="cm-num">{counts.get(k, 0)}</td>')
        cells += [f"<td>{esc(rec[c])}</td>" for c in prov]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ths = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    return (
        f"<table><caption>{esc(caption)}</caption><thead><tr>{ths}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _metric_header(metric: str) -> str:
    return {"capacity_mw": "Capacity (MW)", "hashrate_ehs": "Hashrate (EH/s)", "share": "Share of hashrate (%)"}[metric]


class Page(MacroElement):
    """Puts the title block before the map and the footer after it, and the page CSS in the head."""

    _template = Template("")

    def __init__(self, *, head_html: str, foot_html: str, css: str):
        super().__init__()
        self._name = "CapacityMapPage"
        self.head_html = head_html
        self.foot_html = foot_html
        self.css = css

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise MapSpecError("render: expected the map inside a branca Figure, got none; build it with build_map")
        figure.header.add_child(RawHTML(f"<style>{self.css}</style>"), name="cm_page_css")
        figure.html.add_child(RawHTML(self.head_html), name="cm_page_head", index=0)
        figure.html.add_child(RawHTML(self.foot_html), name="cm_page_foot")
        super().render(**kwargs)
