"""The three demo pages, offline, at a phone, a tablet and a laptop viewport: nothing collides (issue 10).

Checked in Chromium on the pages ``capacitymap demo`` writes: zero requests, zero console errors, no two
of legend, layer control, filter panel, step slider, zoom buttons, scale bar, attribution and credit
overlapping, the slider's centre is the slider, touch targets of at least 24x24 px, the legend visible
without a tap, the filter folded on a phone and the map never pushed below half the viewport.
"""

from __future__ import annotations

import pytest

from capacitymap.demo import demo_maps
from capacitymap.maps import make_map
from capacitymap.render import render_html

pytestmark = [pytest.mark.browser, pytest.mark.integration]

VIEWPORTS = [(390, 844), (768, 1024), (1280, 800)]

_BOXES = """() => {
  const pick = [
    ['zoom', '.leaflet-control-zoom'], ['layers', '.leaflet-control-layers'], ['filter', '.cm-filter'],
    ['legend', '.cm-legend'], ['scale', '.leaflet-control-scale'], ['attribution', '.leaflet-control-attribution'],
    ['slider', '#cm-stepbar'], ['credit', '.cm-credit'], ['chart', '#cm-chart']];
  const out = [];
  for (const [name, sel] of pick) {
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect(), st = getComputedStyle(el);
      if (r.width > 0 && r.height > 0 && st.display !== 'none' && st.visibility !== 'hidden' && !el.hidden)
        out.push({name, left: r.left, top: r.top, right: r.right, bottom: r.bottom});
    }
  }
  return out;
}"""

_TARGETS = """() => {
  const sel = '.leaflet-control-zoom a, .leaflet-control-layers-toggle, .cm-filter summary, .cm-check, #cm-step,'
    + ' .cm-table summary, a.cm-download';
  return [...document.querySelectorAll(sel)].map(el => {
    const r = el.getBoundingClientRect(), st = getComputedStyle(el);
    return {what: el.className || el.tagName, w: r.width, h: r.height,
            shown: r.width > 0 && st.display !== 'none' && st.visibility !== 'hidden'};
  }).filter(t => t.shown);
}"""


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {d.name: render_html(make_map(d.spec, d.layers)) for d in demo_maps()}


def _overlaps(boxes: list[dict]) -> list[tuple[str, str, float]]:
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            ix = min(a["right"], b["right"]) - max(a["left"], b["left"])
            iy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if ix > 0 and iy > 0 and ix * iy > 4:
                out.append((a["name"], b["name"], round(ix * iy)))
    return out


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
@pytest.mark.parametrize("name", ["north-america", "china", "world"])
def test_demo_page_layout(open_map, pages, name: str, width: int, height: int) -> None:  # noqa: ANN001
    visit = open_map(pages[name], width=width, height=height)
    page = visit.page
    page.wait_for_timeout(200)
    assert visit.requests == [] and visit.errors == [] and visit.dialogs == []

    boxes = page.evaluate(_BOXES)
    names = {b["name"] for b in boxes}
    assert {"zoom", "legend", "scale", "attribution", "credit"} <= names, names
    assert _overlaps(boxes) == []

    if page.locator("#cm-step").count():
        hit = page.evaluate(
            "() => { const s = document.querySelector('#cm-step'); const r = s.getBoundingClientRect();"
            " const e = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return e === s; }"
        )
        assert hit, "the slider's centre is covered"

    small = [t for t in page.evaluate(_TARGETS) if t["w"] < 24 or t["h"] < 24]
    assert small == []

    legend = page.locator(".cm-legend").bounding_box()
    assert legend is not None and legend["y"] < height and legend["x"] >= 0 and legend["x"] + legend["width"] <= width
    assert page.locator(".cm-legend .cm-swatch").first.is_visible()  # open, no tap needed
    if width >= 1200:  # a laptop's map has the room: the whole legend shows, no line behind a scroll bar
        assert page.locator(".cm-legend").evaluate("d => d.scrollHeight <= d.clientHeight + 1"), "the legend scrolls"

    texts = page.evaluate("() => [...document.querySelectorAll('.cm-sizes svg text')].map(t => {"
                          " const r = t.getBoundingClientRect(); return {name: t.textContent, left: r.left, top: r.top,"
                          " right: r.right, bottom: r.bottom}; })")
    assert _overlaps(texts) == []  # the size key's labels never overlap each other

    map_box = page.locator("#cm-map").bounding_box()
    assert map_box["height"] >= height / 2 - 1 and map_box["y"] < height / 2
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width < 700 and page.locator(".cm-filter").count():
        assert page.locator(".cm-filter").evaluate("d => d.open") is False
