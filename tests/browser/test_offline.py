"""A self-contained page renders in Chromium with zero network requests and no console errors.

Uses the ``chromium`` fixture of ``conftest.py`` (fails, naming ``apt-get install -y chromium``, without it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

pytestmark = pytest.mark.browser


@dataclass
class Visit:
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    page: object = None


def _open(browser: object, html: str) -> Visit:
    visit = Visit()
    context = browser.new_context(viewport={"width": 1000, "height": 700})  # type: ignore[attr-defined]
    page = context.new_page()
    page.on("request", lambda r: visit.requests.append(r.url))
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    # a safety net, not the measure: anything that slips through is counted above, then refused
    page.route("**/*", lambda route: route.abort())
    page.set_content(html, wait_until="load")
    page.wait_for_timeout(300)
    visit.page = page
    return visit


def _fetched(visit: Visit) -> list[str]:
    return [u for u in visit.requests if not u.startswith(("data:", "about:"))]


def _page(assets: str) -> str:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from capacitymap.render import BBox, MapSpec, build_map, render_html

    codes = ["US-TX", "US-OK", "US-NY"]
    regions = gpd.GeoDataFrame(
        {"iso_3166_2": codes, "iso_a2": ["US"] * 3, "name": ["Texas", "Oklahoma", "New York"]},
        geometry=[shapely.box(-102, 28, -98, 32), shapely.box(-98, 33, -94, 37), shapely.box(-78, 41, -74, 45)],
        crs=4326,
    )
    values = pd.DataFrame({"iso_3166_2": codes * 2, "value": [5.0, 1.0, float("nan"), 6.0, 2.0, 1.0],
                           "month": ["2024-01"] * 3 + ["2024-02"] * 3})
    facilities = gpd.GeoDataFrame(
        {"operator": ["A", "B"], "site": ["s1", "s2"], "capacity_mw": [300.0, 20.0], "status": ["operational", "planned"],
         "as_of": ["2024", "2024"], "source_url": ["https://example.org/a", None], "iso_3166_2": ["US-TX", "US-OK"]},
        geometry=gpd.points_from_xy([-100, -96], [30, 35]), crs=4326,
    )
    spec = MapSpec(preset=BBox(-110, 24, -70, 48), title="Offline", assets=assets)  # type: ignore[arg-type]
    return render_html(build_map(spec, regions=regions, values=values, facilities=facilities))


def test_capacitymap_self_contained_page_makes_no_requests(chromium: object) -> None:
    visit = _open(chromium, _page("inline"))
    assert _fetched(visit) == []
    assert visit.errors == []
    assert visit.page.locator("path.leaflet-interactive").count() >= 3  # type: ignore[attr-defined]
    visit.page.context.close()  # type: ignore[attr-defined]


def test_cdn_page_without_network_shows_a_message_in_the_map_area(chromium: object) -> None:
    visit = _open(chromium, _page("cdn"))
    assert any(u.startswith("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/") for u in visit.requests)  # tried, refused
    page = visit.page
    message = page.locator("#cm-map .cm-fallback")
    assert message.is_visible()
    assert "could not load" in message.inner_text() and "data table below" in message.inner_text()
    box = message.bounding_box()
    assert box["width"] > 300 and box["height"] > 200  # fills the map area, not a blank box
    assert page.locator("#cm-table tbody tr").count() == 3  # the figures are still on the page
    page.context.close()  # type: ignore[attr-defined]
