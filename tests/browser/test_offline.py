"""A self-contained page renders in Chromium with zero network requests and no console errors.

Uses the ``chromium`` fixture of ``conftest.py`` (fails, naming ``apt-get install -y chromium``, without it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import branca.colormap
import folium
import pytest
from folium import plugins

from capacitymap.render.assets import inline_assets

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


def _regions() -> dict:
    def square(code: str, x: float, y: float) -> dict:
        ring = [[x, y], [x + 4, y], [x + 4, y + 4], [x, y + 4], [x, y]]
        return {"type": "Feature", "id": code, "properties": {"name": code}, "geometry": {"type": "Polygon", "coordinates": [ring]}}

    return {"type": "FeatureCollection", "features": [square("US-TX", -102, 28), square("US-OK", -98, 33), square("US-NY", -78, 41)]}


def test_smoke_map_inline_makes_no_requests(chromium: object) -> None:
    # without a tile layer Leaflet has no maxZoom, and MarkerCluster throws "Map has no maxZoom specified"
    m = folium.Map(location=[38, -95], zoom_start=4, tiles=None, maxZoom=12)
    folium.GeoJson(_regions(), name="Regions", tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    cluster = plugins.MarkerCluster(name="Facilities").add_to(m)
    for i in range(12):
        folium.CircleMarker([31 + i * 0.3, -99 + i * 0.2], radius=6, popup=folium.Popup(f"site {i}")).add_to(cluster)
    folium.LayerControl(collapsed=False).add_to(m)
    visit = _open(chromium, inline_assets(m.get_root().render()))
    page = visit.page
    assert _fetched(visit) == []
    assert visit.errors == []
    assert page.locator("path.leaflet-interactive").count() >= 3  # type: ignore[attr-defined]
    assert page.locator(".marker-cluster").count() >= 1  # type: ignore[attr-defined]
    assert page.locator(".leaflet-control-layers").count() == 1  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]


def test_every_vendored_plugin_runs_offline(chromium: object) -> None:
    m = folium.Map(location=[38, -95], zoom_start=4, tiles=None)
    regions = _regions()
    styledict = {
        f["id"]: {"0": {"color": "#ffffcc", "opacity": 1}, "2592000": {"color": "#800026", "opacity": 1}}
        for f in regions["features"]
    }
    plugins.TimeSliderChoropleth(regions, styledict=styledict, name="By month").add_to(m)
    parent = folium.FeatureGroup(name="Facilities").add_to(m)
    sub = plugins.FeatureGroupSubGroup(parent, name="Operator A").add_to(m)
    folium.CircleMarker([35, -97], radius=5, popup=folium.Popup("A")).add_to(sub)
    group = folium.FeatureGroup(name="Status: operational").add_to(m)
    folium.CircleMarker([36, -96], radius=5).add_to(group)
    plugins.GroupedLayerControl({"Status": [group]}, exclusive_groups=False).add_to(m)
    branca.colormap.LinearColormap(["#ffffcc", "#800026"], vmin=0, vmax=100, caption="MW").add_to(m)
    folium.Marker([40, -90]).add_to(m)  # a default Leaflet marker: its images must come from data: URIs
    visit = _open(chromium, inline_assets(m.get_root().render()))
    page = visit.page
    assert _fetched(visit) == []
    assert visit.errors == []
    assert page.locator("input[type=range]").count() == 1  # type: ignore[attr-defined]
    assert page.locator(".leaflet-marker-icon").count() == 1  # type: ignore[attr-defined]
    assert page.locator("svg g.legend, .legend").count() >= 1  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]


def test_cdn_page_would_have_requested_the_network(chromium: object) -> None:
    # the control: the same counting sees the CDN requests of an un-inlined page
    m = folium.Map(location=[38, -95], zoom_start=4, tiles=None)
    visit = _open(chromium, m.get_root().render())
    assert any(u.startswith("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/") for u in _fetched(visit))
    visit.page.context.close()  # type: ignore[attr-defined]


def test_capacitymap_self_contained_page_makes_no_requests(chromium: object) -> None:
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
    spec = MapSpec(preset=BBox(-110, 24, -70, 48), title="Offline", assets="inline")
    html = render_html(build_map(spec, regions=regions, values=values, facilities=facilities))
    visit = _open(chromium, html)
    assert _fetched(visit) == []
    assert visit.errors == []
    assert visit.page.locator("path.leaflet-interactive").count() >= 3  # type: ignore[attr-defined]
    visit.page.context.close()  # type: ignore[attr-defined]
