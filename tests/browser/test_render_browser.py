"""Maps from capacitymap.render in a real browser: shapes, markers, layers, tooltips, slider, filters, XSS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from capacitymap.render import BBox, MapSpec, build_map, render_html

pytestmark = pytest.mark.browser

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"
XSS_OPERATOR = "<img src=x onerror=alert(1)>"
VIEW = BBox(-106.0, 28.0, -90.0, 40.0)

GRID = [
    ("US-TX", "Texas", box(-104, 30, -100, 34)),
    ("US-OK", "Oklahoma", box(-100, 30, -96, 34)),
    ("US-AR", "Arkansas", box(-96, 30, -92, 34)),
    ("US-KS", "Kansas", box(-104, 34, -100, 38)),
    ("US-MO", "Missouri", box(-100, 34, -96, 38)),
    ("US-KY", "Kentucky", box(-96, 34, -92, 38)),
    ("CA-QC", "Québec", box(-80, 45, -70, 52)),
]


def regions(names: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    names = names or {}
    return gpd.GeoDataFrame(
        {"iso_3166_2": [c for c, _, _ in GRID], "iso_a2": [c[:2] for c, _, _ in GRID],
         "name": [names.get(c, n) for c, n, _ in GRID]},
        geometry=[g for _, _, g in GRID], crs=4326,
    )


def facilities(**overrides) -> gpd.GeoDataFrame:
    rows = [  # at least 4 degrees apart: no clustering at the view's zoom
        ("Riot Platforms", "Rockdale", 700.0, "operational", "https://example.com/riot", "US-TX", -103.0, 31.0),
        ("Riot Platforms", "Corsicana", 300.0, "under_construction", "https://example.com/c", "US-MO", -98.0, 36.0),
        ("Core Scientific", "Denton", 125.0, "operational", "http://example.com/d", "US-AR", -94.0, 31.0),
        ("CleanSpark", "Dalton", 50.0, "planned", None, "US-KS", -103.0, 36.5),
        ("Hut 8", "Montreal", 20.0, "operational", None, "CA-QC", -75.0, 48.0),
    ]
    frame = gpd.GeoDataFrame(
        {"operator": [r[0] for r in rows], "site": [r[1] for r in rows], "capacity_mw": [r[2] for r in rows],
         "status": [r[3] for r in rows], "as_of": "2025-01", "source_url": [r[4] for r in rows],
         "iso_3166_2": [r[5] for r in rows], "region_name": "x", "history": False},
        geometry=[Point(r[6], r[7]) for r in rows], crs=4326,
    )
    for col, vals in overrides.items():
        frame[col] = vals
    return frame


def values(months: bool = False) -> pd.DataFrame:
    base = pd.DataFrame({"iso_3166_2": ["US-TX", "US-OK", "US-AR", "US-KS"], "value": [1000.0, 125.0, 0.0, np.nan]})
    if not months:
        return base
    early = base.assign(month="2024-01", value=[10.0, 900.0, 50.0, 5.0])
    return pd.concat([early, base.assign(month="2024-02")], ignore_index=True)


def page_html(spec: MapSpec | None = None, **data) -> str:
    data.setdefault("regions", regions())
    spec = spec or MapSpec(preset=VIEW, title="Browser test", assets="inline")
    return render_html(build_map(spec, **data))


def drawn(page, selector: str) -> int:
    return page.locator(selector).count()


def clean(visit) -> None:
    assert visit.errors == []
    assert visit.requests == [], "a self-contained page must not ask for anything"
    assert visit.dialogs == []


def test_every_region_and_facility_is_drawn(open_map):
    visit = open_map(page_html(values=values(), facilities=facilities()))
    page = visit.page
    assert drawn(page, "path.cm-region") == 6  # the view's six squares; Québec is outside it
    assert drawn(page, "path.cm-facility") == 4  # Montreal is outside it
    ids = sorted(page.eval_on_selector_all("path.cm-region", "ps => ps.map(p => p.getAttribute('data-id'))"))
    assert ids == ["US-AR", "US-KS", "US-KY", "US-MO", "US-OK", "US-TX"]
    clean(visit)


def test_no_data_and_zero_are_drawn_differently(open_map):
    page = open_map(page_html(values=values())).page
    fill = lambda code: page.get_attribute(f'path[data-id="{code}"]', "fill")  # noqa: E731
    dash = lambda code: page.get_attribute(f'path[data-id="{code}"]', "stroke-dasharray")  # noqa: E731
    assert fill("US-AR") != fill("US-KS")
    assert dash("US-KS") == "3 3" and dash("US-MO") == "3 3" and dash("US-AR") is None


def test_layer_control_hides_and_shows_layers(open_map):
    page = open_map(page_html(values=values(), facilities=facilities())).page
    control = page.locator(".leaflet-control-layers-overlays")
    control.get_by_text("Facilities").click()
    assert drawn(page, "path.cm-facility") == 0
    control.get_by_text("Facilities").click()
    assert drawn(page, "path.cm-facility") == 4
    control.get_by_text("Capacity by states and provinces").click()
    assert drawn(page, "path.cm-region") == 0


def test_hovering_a_region_shows_its_value_share_and_facilities(open_map):
    page = open_map(page_html(values=values(), facilities=facilities())).page
    page.hover('path[data-id="US-TX"]', position={"x": 20, "y": 60})
    tip = page.locator(".leaflet-tooltip.cm-tip")
    tip.wait_for()
    text = tip.inner_text()
    assert "Texas" in text and "1,000 MW" in text
    assert f"{1000 / 1125:.1%}" in text
    assert "Facilities: 1" in text and "Riot Platforms (700 MW)" in text
    page.hover('path[data-id="US-KS"]', position={"x": 60, "y": 20})
    page.wait_for_function("document.querySelector('.leaflet-tooltip.cm-tip').innerText.includes('Kansas')")
    assert "no data" in page.locator(".leaflet-tooltip.cm-tip").inner_text()


def test_the_time_slider_changes_the_drawn_values(open_map):
    page = open_map(page_html(values=values(months=True))).page
    assert page.locator(".cm-month").inner_text() == "2024-02"
    latest = page.get_attribute('path[data-id="US-TX"]', "fill")
    page.eval_on_selector("#cm-step", "i => { i.value = '0'; i.dispatchEvent(new Event('input')); }")
    assert page.locator(".cm-month").inner_text() == "2024-01"
    earliest = page.get_attribute('path[data-id="US-TX"]', "fill")
    assert earliest != latest
    page.hover('path[data-id="US-OK"]', position={"x": 20, "y": 60})
    tip = page.locator(".leaflet-tooltip.cm-tip")
    tip.wait_for()
    assert "900 MW" in tip.inner_text() and "2024-01" in tip.inner_text()


def test_operator_and_status_filters_hide_markers(open_map):
    page = open_map(page_html(facilities=facilities())).page
    filt = page.locator(".cm-filter")
    filt.get_by_label("Riot Platforms").uncheck()
    assert drawn(page, "path.cm-facility") == 2
    filt.get_by_label("planned").uncheck()
    assert drawn(page, "path.cm-facility") == 1
    filt.get_by_label("Riot Platforms").check()
    assert drawn(page, "path.cm-facility") == 3


def test_popup_shows_the_facility_and_links_its_source(open_map):
    page = open_map(page_html(facilities=facilities())).page
    page.locator('path.cm-facility[data-index="0"]').click()
    popup = page.locator(".cm-popup")
    popup.wait_for()
    text = popup.inner_text()
    assert "Riot Platforms" in text and "Rockdale" in text and "700 MW" in text and "operational" in text
    assert popup.locator("a").get_attribute("href") == "https://example.com/riot"


def test_hostile_names_and_links_execute_nothing(open_map):
    regs = regions({"US-TX": XSS_OPERATOR, "US-OK": HOSTILE})
    fac = facilities(operator=[XSS_OPERATOR, XSS_OPERATOR, HOSTILE, HOSTILE, HOSTILE], site=HOSTILE,
                     source_url=["javascript:alert(1)", "javascript:alert(2)", "https://x.example/", None, None])
    spec = MapSpec(preset=VIEW, title=XSS_OPERATOR, subtitle=HOSTILE, credit=XSS_OPERATOR,
                   coverage_note=HOSTILE, assets="inline")
    visit = open_map(page_html(spec, regions=regs, values=values().assign(pools=XSS_OPERATOR), facilities=fac))
    page = visit.page
    page.locator('path.cm-facility[data-index="0"]').click()
    popup = page.locator(".cm-popup")
    popup.wait_for()
    assert XSS_OPERATOR in popup.inner_text() and "javascript:alert(1)" in popup.inner_text()
    assert popup.locator("a").count() == 0
    page.evaluate("window.capacitymap.map.closePopup()")
    page.hover('path[data-id="US-TX"]', position={"x": 60, "y": 90})
    page.locator(".leaflet-tooltip.cm-tip").wait_for()
    assert XSS_OPERATOR in page.locator(".leaflet-tooltip.cm-tip").inner_text()
    page.hover('path[data-id="US-OK"]', position={"x": 20, "y": 60})
    page.wait_for_function("document.querySelector('.leaflet-tooltip.cm-tip').innerText.includes('${1+1}')")
    page.locator(".cm-filter").get_by_label(XSS_OPERATOR).uncheck()
    page.wait_for_timeout(200)  # give any injected onerror handler its chance to run
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.locator("h1").inner_text() == XSS_OPERATOR
    assert all(not h.startswith("javascript:") for h in page.eval_on_selector_all("a", "as => as.map(a => a.href)"))
    clean(visit)


def test_page_fills_a_phone_screen(open_map):
    visit = open_map(page_html(MapSpec(preset=VIEW, title="A long title that has to wrap on a phone screen", assets="inline"),
                               values=values(), facilities=facilities()), width=375, height=667)
    page = visit.page
    box = page.locator(".cm-map").bounding_box()
    assert box["height"] >= 300 and box["width"] == 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator(".cm-filter").evaluate("d => d.open") is False
    clean(visit)


def test_data_table_and_csv_link_are_in_the_page(open_map):
    page = open_map(page_html(values=values())).page
    page.locator(".cm-table summary").click()
    assert page.locator(".cm-table tbody tr").count() == 4
    href = page.locator("a.cm-download").get_attribute("href")
    assert href.startswith("data:text/csv;charset=utf-8,")
    assert page.locator(".cm-map").get_attribute("aria-describedby") == "cm-alt"


@pytest.mark.integration
def test_real_north_america_layer_draws_every_region(open_map):
    from capacitymap.io.boundaries import read_admin1

    admin1 = read_admin1()
    expected = int(admin1["iso_a2"].isin(["US", "CA", "MX"]).sum())
    html = render_html(build_map(MapSpec(assets="inline"), regions=admin1,
                                 values=pd.DataFrame({"iso_3166_2": ["US-TX", "CA-QC"], "value": [10.0, 0.0]})))
    visit = open_map(html)
    assert drawn(visit.page, "path.cm-region") == expected
    clean(visit)
