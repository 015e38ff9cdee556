"""Issue 11, the page side, in Chromium: circles follow the slider, gaps are gaps, filters recompute regions.

Expected figures are derived from the frames built here (per-step sums), not typed in twice.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from capacitymap.render import BBox, MapSpec, build_map, render_html
from capacitymap.render.classify import format_value

pytestmark = pytest.mark.browser

VIEW = BBox(-106.0, 28.0, -90.0, 40.0)
GRID = [
    ("US-TX", "Texas", box(-104, 30, -100, 34)),
    ("US-OK", "Oklahoma", box(-100, 30, -96, 34)),
    ("US-KS", "Kansas", box(-104, 34, -100, 38)),
    ("US-MO", "Missouri", box(-100, 34, -96, 38)),
]
# operator, site, status, step, MW, lon, lat: one row per site per step in which it counts
SITES = [
    ("Riot Platforms", "Rockdale", "operational", "2024-01", 300.0, -103.0, 31.0),
    ("Riot Platforms", "Rockdale", "operational", "2024-02", 700.0, -103.0, 31.0),
    ("Hut 8", "Odessa", "operational", "2024-01", 100.0, -101.0, 33.3),
    ("Hut 8", "Odessa", "operational", "2024-02", 100.0, -101.0, 33.3),
    ("Core Scientific", "Denton", "operational", "2024-02", 125.0, -97.0, 31.0),
]
CAPTION = "2024-01: figures published for Texas only"


def regions() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"iso_3166_2": [c for c, _, _ in GRID], "iso_a2": "US", "name": [n for _, n, _ in GRID]},
                            geometry=[g for _, _, g in GRID], crs=4326)


def region_of(lon: float, lat: float) -> str:
    return next(c for c, _, g in GRID if g.contains(Point(lon, lat)))


def facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"operator": [s[0] for s in SITES], "site": [s[1] for s in SITES], "status": [s[2] for s in SITES],
         "month": [s[3] for s in SITES], "capacity_mw": [s[4] for s in SITES], "as_of": [s[3] for s in SITES],
         "source_url": "https://example.org/filing", "iso_3166_2": [region_of(s[5], s[6]) for s in SITES]},
        geometry=[Point(s[5], s[6]) for s in SITES], crs=4326,
    )


def sums(fac: gpd.GeoDataFrame) -> pd.DataFrame:
    return fac.groupby(["iso_3166_2", "month"], as_index=False)["capacity_mw"].sum().rename(columns={"capacity_mw": "value"})


def pipeline() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"operator": ["CleanSpark"], "site": ["Dalton"], "status": ["under_construction"], "capacity_mw": [200.0],
         "as_of": ["2024-02"], "source_url": ["https://example.org/p"], "iso_3166_2": ["US-KS"]},
        geometry=[Point(-102.0, 36.0)], crs=4326,
    )


@pytest.fixture
def page(open_map):  # noqa: ANN001, ANN201
    spec = MapSpec(preset=VIEW, assets="inline")
    built = build_map(spec, regions=regions(), values=sums(facilities()), facilities=facilities(), pipeline=pipeline(),
                      statuses=("operational",), captions={"2024-01": CAPTION})
    visit = open_map(render_html(built), width=1100, height=760)
    yield visit.page
    assert visit.requests == [] and visit.errors == [] and visit.dialogs == []


def slide(page, step: str) -> None:  # noqa: ANN001
    index = page.evaluate("s => window.capacitymap.months.indexOf(s)", step)
    page.eval_on_selector("#cm-step", "(i, v) => { i.value = String(v); i.dispatchEvent(new Event('input')); }", index)


def hover_tip(page, code: str) -> str:  # noqa: ANN001
    page.mouse.move(1, 1)
    box = page.locator(f'path[data-id="{code}"]').bounding_box()  # the bottom-right corner: clear of circles and panels
    page.hover(f'path[data-id="{code}"]', position={"x": box["width"] - 10, "y": box["height"] - 10})
    tip = page.locator(".leaflet-tooltip.cm-tip")
    tip.wait_for()
    return tip.inner_text()


def table_value(page, name: str) -> str:  # noqa: ANN001
    return page.locator("#cm-table tbody tr", has=page.locator(f'th:text-is("{name}")')).locator("td.cm-num").first.inner_text()


def test_circles_follow_the_slider(page) -> None:  # noqa: ANN001
    fac = facilities()
    steps = sorted(set(fac["month"]))
    radii = {}
    for step in steps:
        slide(page, step)
        assert page.locator("path.cm-facility").count() == int((fac["month"] == step).sum())
        radii[step] = page.evaluate(
            "() => window.capacitymap.markers.find(m => m.cmRecord.site === 'Rockdale').getRadius()")
    rockdale = fac[fac["site"] == "Rockdale"].set_index("month")["capacity_mw"]
    assert (radii["2024-01"] / radii["2024-02"]) ** 2 == pytest.approx(rockdale["2024-01"] / rockdale["2024-02"], rel=1e-3)


def test_an_open_tooltip_follows_the_slider(page) -> None:  # noqa: ANN001
    by_step = sums(facilities()).set_index(["iso_3166_2", "month"])["value"]
    text = hover_tip(page, "US-TX")
    assert format_value(by_step["US-TX", "2024-02"], "capacity_mw") in text and "2024-02" in text
    slide(page, "2024-01")  # the mouse stays: the open tooltip must now say 2024-01
    tip = page.locator(".leaflet-tooltip.cm-tip")
    assert format_value(by_step["US-TX", "2024-01"], "capacity_mw") in tip.inner_text() and "2024-01" in tip.inner_text()


def test_a_gap_step_is_marked_captioned_and_shows_no_data(page) -> None:  # noqa: ANN001
    assert page.locator(".cm-ticks .cm-gap").count() == 1
    assert page.locator(".cm-caption").inner_text() == ""
    slide(page, "2024-01")
    assert page.locator(".cm-caption").inner_text() == CAPTION
    assert page.get_attribute('path[data-id="US-OK"]', "stroke-dasharray") == "3 3"  # no figure that month: no data
    assert "no data" in hover_tip(page, "US-OK")
    assert "Colours fixed across all 2 months" in page.locator(".cm-legend").inner_text()


def test_unticking_an_operator_recomputes_the_region_value_in_tooltip_table_and_map(page) -> None:  # noqa: ANN001
    fac = facilities()
    shown = fac[(fac["month"] == "2024-02") & (fac["operator"] != "Hut 8")]
    texas = format_value(shown.loc[shown["iso_3166_2"] == "US-TX", "capacity_mw"].sum(), "capacity_mw")
    page.locator(".cm-table summary").click()
    before = table_value(page, "Texas")
    page.locator(".cm-filter").get_by_label("Hut 8").uncheck()
    assert table_value(page, "Texas") == texas != before
    assert texas in hover_tip(page, "US-TX")
    assert "Filtered" in page.locator(".cm-legend").inner_text()
    assert "unfiltered" in page.locator("#cm-csv-note").inner_text()
    page.locator(".cm-filter").get_by_label("Core Scientific").uncheck()  # Oklahoma's only site
    assert page.get_attribute('path[data-id="US-OK"]', "stroke-dasharray") == "3 3"


def test_the_pipeline_is_hollow_in_its_own_layer_and_never_counted(page) -> None:  # noqa: ANN001
    hollow = page.locator("path.cm-pipeline")
    assert hollow.count() == 1 and hollow.get_attribute("fill-opacity") == "0"
    assert page.get_attribute('path[data-id="US-KS"]', "stroke-dasharray") == "3 3"  # 200 MW planned: still no data
    control = page.locator(".leaflet-control-layers-overlays")
    control.get_by_text("Pipeline: under construction (not counted)").click()
    assert page.locator("path.cm-pipeline").count() == 0
    assert "operational" in page.locator(".leaflet-control-layers-overlays").inner_text()


def test_step_and_region_events_are_dispatched(page) -> None:  # noqa: ANN001
    page.evaluate("() => { window.seen = []; document.addEventListener('capacitymap:step', e => seen.push(e.detail.step));"
                  " document.addEventListener('capacitymap:region', e => seen.push(e.detail.key)); }")
    slide(page, "2024-01")
    hover_tip(page, "US-TX")
    seen = page.evaluate("window.seen")
    assert seen[0] == "2024-01" and "US-TX" in seen


def test_the_change_map_diverges_around_zero(open_map) -> None:  # noqa: ANN001
    change = gpd.GeoDataFrame(
        {"operator": ["Riot Platforms", "Hut 8"], "site": ["Rockdale", "Odessa"], "status": "operational",
         "capacity_mw": [700.0, 100.0], "capacity_change_mw": [400.0, -100.0], "change": ["grown", "removed"],
         "as_of": "2024-02", "source_url": "https://example.org/x", "iso_3166_2": ["US-TX", "US-OK"]},
        geometry=[Point(-103, 31), Point(-97, 31)], crs=4326,
    )
    values = pd.DataFrame({"iso_3166_2": ["US-TX", "US-OK", "US-KS"], "value": [400.0, -100.0, 0.0]})
    built = build_map(MapSpec(preset=VIEW, metric="capacity_change_mw"), regions=regions(), values=values, facilities=change)
    visit = open_map(render_html(built))
    legend = visit.page.locator(".cm-legend").inner_text()
    assert "Change in capacity (+/- MW)" in legend and "no change" in legend and "\u2212100" in legend and "+400" in legend
    fills = {c: visit.page.get_attribute(f'path[data-id="{c}"]', "fill") for c in ("US-TX", "US-OK", "US-KS")}
    assert len(set(fills.values())) == 3 and fills["US-KS"] == "#f7f7f7"
    assert visit.errors == []


def test_a_page_opens_on_the_step_its_spec_names(open_map) -> None:  # noqa: ANN001
    spec = MapSpec(preset=VIEW, assets="inline", step="2024-01")
    built = build_map(spec, regions=regions(), values=sums(facilities()), facilities=facilities(), statuses=("operational",))
    visit = open_map(render_html(built), width=1100, height=760)
    page = visit.page
    assert page.evaluate("window.capacitymap.month()") == "2024-01"
    assert page.eval_on_selector("#cm-step", "i => i.value") == "0"
    assert page.text_content(".cm-month") == "2024-01"
    assert visit.requests == [] and visit.errors == []
