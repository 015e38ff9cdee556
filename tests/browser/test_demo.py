"""The default maps, in Chromium: they show the figures in data/ (screenshots under a temporary folder)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from capacitymap.demo import demo_maps
from capacitymap.maps import make_map
from capacitymap.render import render_html

pytestmark = [pytest.mark.browser, pytest.mark.integration]

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def demos() -> dict[str, object]:
    return {d.name: d for d in demo_maps(assets="inline")}


@pytest.fixture(scope="module")
def pages(demos) -> dict[str, str]:  # noqa: ANN001
    return {name: render_html(make_map(d.spec, d.layers)) for name, d in demos.items()}


def tooltip_of(page, demo, code: str) -> str:  # noqa: ANN001
    """Move the mouse, as a reader would, onto a point of the region that no circle covers, and read its tooltip."""
    regions = demo.layers.regions
    key = "iso_3166_2" if "iso_3166_2" in regions.columns else "iso_a2"
    geom = regions.loc[regions[key] == code].geometry.iloc[0]
    part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)  # the mainland, not an island
    for point in _inside(part):
        x, y, hit = page.evaluate(
            "([lat, lon, code]) => { const m = window.capacitymap.map; const p = m.latLngToContainerPoint([lat, lon]);"
            " const r = m.getContainer().getBoundingClientRect(); const x = r.left + p.x, y = r.top + p.y;"
            " const e = document.elementFromPoint(x, y); return [x, y, !!e && e.getAttribute('data-id') === code]; }",
            [point.y, point.x, code],
        )
        if hit:
            break
    else:
        raise AssertionError(f"no point of {code} is free of circles and controls")
    page.mouse.move(1, 1)
    page.mouse.move(x, y)
    tip = page.locator(".leaflet-tooltip.cm-tip").last
    tip.wait_for()
    return tip.inner_text()


def _inside(polygon):  # noqa: ANN001, ANN202
    """Points inside the polygon, those farthest from its edge first."""
    import numpy as np
    import shapely

    west, south, east, north = polygon.bounds
    xs, ys = np.meshgrid(np.linspace(west, east, 30), np.linspace(south, north, 30))
    grid = shapely.points(xs.ravel(), ys.ravel())
    inside = grid[shapely.contains(polygon, grid)]
    edge = polygon.boundary
    return sorted(inside, key=lambda p: (-p.distance(edge), p.x, p.y))


def shoot(page, folder: Path, name: str) -> None:  # noqa: ANN001
    """Screenshots go under the test's temporary folder, never into the user's output/."""
    page.screenshot(path=str(folder / f"{name}.png"))
    assert (folder / f"{name}.png").stat().st_size > 10_000


def test_world_map_shows_ccaf_april_2020(open_map, pages, demos, tmp_path) -> None:  # noqa: ANN001
    visit = open_map(pages["world"], width=1200, height=800)
    page = visit.page
    months = page.evaluate("window.capacitymap.months")
    ccaf = pd.read_csv(REPO / "data" / "hashrate" / "mining_countries.csv")
    assert months == sorted({d[:7] for d in ccaf["date"]})  # the slider has the months with data, no others
    assert page.evaluate("window.capacitymap.setMonth('2020-04')") is True
    text = tooltip_of(page, demos["world"], "CN")
    assert "China" in text and "64.81%" in text and "2020-04" in text  # CCAF's download (launch figure 65.08%: data/hashrate/ccaf_errata.csv)
    assert page.evaluate("window.capacitymap.setMonth('2021-08')") is True
    assert "35.4%" in tooltip_of(page, demos["world"], "US")  # CCAF: United States 35.40% in August 2021
    assert visit.requests == [] and visit.errors == [] and visit.dialogs == []
    shoot(page, tmp_path, "world")


def test_china_map_shows_province_shares(open_map, pages, demos, tmp_path) -> None:  # noqa: ANN001
    visit = open_map(pages["china"], width=1200, height=800)
    page = visit.page
    provinces = pd.read_csv(REPO / "data" / "hashrate" / "mining_provinces_china.csv")
    april = provinces[(provinces["Date"] == "2020-04-01") & (provinces["Province"] == "Xinjiang")]
    xinjiang = april["Share of Chinese hashrate"].iloc[0]  # CCAF: 55.18% of China's hashrate
    assert page.evaluate("window.capacitymap.setMonth('2020-04')") is True
    text = tooltip_of(page, demos["china"], "CN-XJ")
    assert "Xinjiang" in text and f"{xinjiang:.2f}%" in text
    assert visit.requests == [] and visit.errors == []
    shoot(page, tmp_path, "china")


def test_north_america_map_shows_operational_capacity(open_map, pages, demos, tmp_path) -> None:  # noqa: ANN001
    visit = open_map(pages["north-america"], width=1200, height=800)
    page = visit.page
    sites = pd.read_csv(REPO / "data" / "facilities" / "north_america.csv")
    current = sites[(sites["status"] == "operational") & ~sites["history"]]
    texas = current.loc[current["region"] == "TX", "capacity_mw"].sum()
    assert f"{texas:,.0f} MW" in tooltip_of(page, demos["north-america"], "US-TX")
    drawn = page.evaluate("(() => { let n = 0; window.capacitymap.facilities.eachLayer(() => n++); return n; })()")
    assert drawn == len(current)
    assert visit.requests == [] and visit.errors == []
    shoot(page, tmp_path, "north-america")
