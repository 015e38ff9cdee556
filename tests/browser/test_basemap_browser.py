"""The basemap in Chromium: labels that fit and never overlap at three viewports, panes in order, and no
band across Russia on the world map (paths no wider than 180 degrees, and a screenshot check)."""

from __future__ import annotations

import io as _io

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image
from shapely.geometry import box

from capacitymap import io
from capacitymap.render import MapSpec, build_map, render_html
from capacitymap.render.assets import inline_assets
from capacitymap.render.basemap import basemap_js, basemap_payload
from capacitymap.render.escape import script_json
from capacitymap.render.geometry import features_json, key_of, select_regions, web_geometry
from capacitymap.render.spec import BBox, resolve_preset

pytestmark = pytest.mark.browser

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"
VIEWPORTS = [(390, 844), (768, 1024), (1280, 800)]

VISIBLE_LABELS = """() => Array.from(document.querySelectorAll('.cm-label')).filter(e => !e.hidden)
  .map(e => { const r = e.getBoundingClientRect(); return {key: e.dataset.key, text: e.textContent,
               x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })"""


def standalone_page(regions: gpd.GeoDataFrame, view: BBox | str) -> str:
    """Leaflet (inlined), a plain choropleth of ``regions`` and the basemap, as the page will wire it."""
    preset = resolve_preset(view)
    drawn, level = select_regions(regions, preset)
    geo = features_json(drawn, web_geometry(drawn, level), key_of(level))
    payload = basemap_payload(drawn, level, preset.bbox)
    html = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/>
<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>
<style>html,body{{margin:0;height:100%}}#map{{position:absolute;inset:0}}</style>
<script>{basemap_js()}</script></head><body><div id="map"></div><script>
var map = L.map("map", {{zoomSnap: 0.25, fadeAnimation: false, zoomAnimation: false}});
map.fitBounds({script_json(preset.bbox.bounds)}, {{animate: false}});
var shades = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"];
L.geoJSON({geo}, {{style: function (f, i) {{ var h = 0; for (var k = 0; k < f.id.length; k++) {{ h = (h * 31 + f.id.charCodeAt(k)) % 5; }}
  return {{fillColor: shades[h], fillOpacity: 0.85, color: "#555", weight: 0.6}}; }}}}).addTo(map);
var payload = {script_json(payload)};
var basemap = capacitymapBasemap(map, payload);
window.capacitymap = {{map: map, basemap: basemap, payload: payload}};
</script></body></html>"""
    return inline_assets(html)


def overlapping(labels: list[dict]) -> list[tuple[str, str]]:
    out = []
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]:
                out.append((a["text"], b["text"]))
    return out


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return {
        "north-america": standalone_page(io.read_admin1_web(), "north-america"),
        "china": standalone_page(io.read_admin1_web(), "china"),
        "world": standalone_page(io.read_admin0_web(), "world"),
    }


@pytest.mark.integration
@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
@pytest.mark.parametrize("name", ["north-america", "china", "world"])
def test_labels_are_shown_inside_the_map_and_never_overlap(open_map, pages, name, width, height):
    visit = open_map(pages[name], width=width, height=height)
    labels = visit.page.evaluate(VISIBLE_LABELS)
    assert len(labels) >= (3 if width < 500 else 8), labels
    assert overlapping(labels) == []
    for lab in labels:
        assert lab["x0"] >= 0 and lab["x1"] <= width and lab["y0"] >= 0 and lab["y1"] <= height, lab
    assert visit.errors == [] and visit.requests == []


@pytest.mark.integration
def test_zooming_in_shows_the_small_regions_and_still_no_overlap(open_map, pages):
    visit = open_map(pages["north-america"], width=1280, height=800)
    before = {lab["key"]: lab["text"] for lab in visit.page.evaluate(VISIBLE_LABELS)}
    assert "US-RI" not in before  # too small at the opening zoom
    assert before.get("US-TX") == "Texas"
    visit.page.evaluate("window.capacitymap.map.fitBounds([[40.5, -75], [43, -69.5]], {animate: false})")
    after = visit.page.evaluate(VISIBLE_LABELS)
    shown = {lab["key"]: lab["text"] for lab in after}
    assert shown.get("US-RI") in ("Rhode Island", "RI")
    assert overlapping(after) == []
    visit.page.set_viewport_size({"width": 390, "height": 844})  # a resize re-places the labels
    visit.page.wait_for_function("window.capacitymap.map.getSize().x === 390")
    small = visit.page.evaluate(VISIBLE_LABELS)
    assert small and overlapping(small) == []
    assert all(lab["x1"] <= 390 for lab in small)


@pytest.mark.integration
def test_phone_labels_fall_back_to_short_codes(open_map, pages):
    visit = open_map(pages["north-america"], width=390, height=844)
    texts = {lab["key"]: lab["text"] for lab in visit.page.evaluate(VISIBLE_LABELS)}
    forms = {d["key"]: (d["text"], d["short"]) for d in visit.page.evaluate("window.capacitymap.payload.labels")}
    assert all(t in forms[k] for k, t in texts.items()), texts  # each label is its region's name or its code
    assert any(t == forms[k][1] for k, t in texts.items()), texts  # e.g. "TX": names do not fit on a phone
    assert any(t == forms[k][0] for k, t in texts.items()), texts  # the big ones keep their names


@pytest.mark.integration
def test_land_and_sea_lie_below_the_choropleth_and_borders_and_labels_above(open_map, pages):
    visit = open_map(pages["north-america"], width=1000, height=700)
    z = visit.page.evaluate("""() => Object.fromEntries(['cmSea', 'cmLand', 'overlayPane', 'cmBorders', 'cmLabels']
        .map(n => [n, Number(getComputedStyle(window.capacitymap.map.getPane(n)).zIndex)]))""")
    assert z["cmSea"] < z["cmLand"] < z["overlayPane"] < z["cmBorders"] < z["cmLabels"]
    counts = visit.page.evaluate("""() => ({land: window.capacitymap.map.getPane('cmLand').querySelectorAll('path').length,
        borders: window.capacitymap.map.getPane('cmBorders').querySelectorAll('path').length,
        events: getComputedStyle(window.capacitymap.map.getPane('cmLabels')).pointerEvents})""")
    assert counts["land"] > 5 and counts["borders"] == 2 and counts["events"] == "none"
    # hovering a label's spot still reaches the region under it
    target = visit.page.evaluate("""() => { const e = document.querySelector('.cm-label[data-key="US-TX"]');
        const r = e.getBoundingClientRect(); const t = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return t.tagName; }""")
    assert target.lower() == "path"


def test_a_hostile_region_name_is_shown_as_text(open_map):
    frame = gpd.GeoDataFrame({"iso_3166_2": ["US-TX", "US-OK"], "iso_a2": ["US", "US"], "name": [HOSTILE, "Oklahoma"]},
                             geometry=[box(-106, 26, -94, 36), box(-103, 36, -94, 37)], crs=4326)
    visit = open_map(standalone_page(frame, BBox(-110, 24, -90, 40)), width=1000, height=700)
    texts = visit.page.evaluate("Array.from(document.querySelectorAll('.cm-label')).map(e => e.textContent)")
    assert HOSTILE in texts
    assert visit.page.evaluate("document.querySelectorAll('.leaflet-cmLabels-pane b').length") == 0
    assert visit.dialogs == [] and visit.errors == []


# --- no band across the world map ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_page() -> str:
    return render_html(build_map(MapSpec(preset="world", title="World", assets="inline"), regions=io.read_admin0_web()))


@pytest.mark.integration
def test_world_paths_are_no_wider_than_half_the_world(open_map, world_page):
    visit = open_map(world_page, width=1280, height=800)
    wide = visit.page.evaluate("""() => { const m = window.capacitymap.map, half = 256 * Math.pow(2, m.getZoom()) / 2;
        return Array.from(document.querySelectorAll('path.cm-region')).map(p => [p.dataset.id, p.getBBox().width])
          .filter(w => w[1] > half + 1); }""")
    assert visit.page.evaluate("document.querySelectorAll('path.cm-region').length") > 150
    assert wide == []


@pytest.mark.integration
def test_russia_has_no_horizontal_band_in_a_screenshot(open_map, world_page):
    """A band (a ring read the wrong way round the antimeridian) shows as dark lines running straight across
    Russia (measured on the layer before the fix: up to 57% of a pixel row dark); real coasts and borders
    cross a row at a few points (about 2%)."""
    visit = open_map(world_page, width=1280, height=800)
    crop = visit.page.evaluate("""() => { const m = window.capacitymap.map, r = m.getContainer().getBoundingClientRect();
        const a = m.latLngToContainerPoint([75, 40]), c = m.latLngToContainerPoint([62, 175]);
        return [r.left + a.x, r.top + a.y, r.left + c.x, r.top + c.y]; }""")
    image = np.asarray(Image.open(_io.BytesIO(visit.page.screenshot())).convert("L")).astype(int)
    x0, y0, x1, y1 = (int(round(v)) for v in crop)
    assert x1 - x0 > 300 and y1 - y0 > 60  # the area is big enough to tell
    dark_share = (image[y0:y1, x0:x1] < 150).mean(axis=1)
    assert dark_share.max() < 0.25, f"row {int(dark_share.argmax()) + y0} is {dark_share.max():.0%} dark"
