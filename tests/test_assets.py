"""Vendored assets and inline_assets: self-contained pages keep no network reference."""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser

import folium
import pytest

from capacitymap.errors import CapacityMapError
from capacitymap.render.assets import (
    UNUSED_ASSETS,
    AssetError,
    assets_dir,
    inline_assets,
    strip_unused_assets,
    vendored_assets,
)

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"
_TAG_REF = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(https?:|//)", re.I)


def _smoke_map() -> folium.Map:
    m = folium.Map(location=[40, -100], zoom_start=4, tiles=None)
    square = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "US-TX",
                "properties": {"name": "Texas"},
                "geometry": {"type": "Polygon", "coordinates": [[[-106, 26], [-94, 26], [-94, 36], [-106, 36], [-106, 26]]]},
            }
        ],
    }
    folium.GeoJson(square, name="regions", tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    group = folium.FeatureGroup(name="facilities").add_to(m)
    for i in range(3):
        folium.CircleMarker([30 + i * 0.01, -100], radius=5).add_to(group)
    folium.LayerControl().add_to(m)
    return m


def test_manifest_files_match_their_sha256_and_have_licences() -> None:
    manifest = json.loads((assets_dir() / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["urls"], "the manifest lists no URLs"
    for url, entry in manifest["urls"].items():
        data = (assets_dir() / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], url
        assert (assets_dir() / entry["licence_file"]).read_text(encoding="utf-8").strip(), url
        assert "@" in entry["package"] and entry["licence"] in {"MIT", "BSD-2-Clause", "BSD-3-Clause"}
    for pkg in manifest["packages"].values():
        assert pkg["integrity"].startswith("sha512-")


def test_every_asset_folium_map_emits_is_vendored_or_stripped() -> None:
    emitted = [url for _, url in folium.Map.default_js + folium.Map.default_css]
    known = vendored_assets()
    missing = [u for u in emitted if u not in known and u not in UNUSED_ASSETS]
    assert missing == []


def test_only_leaflet_is_shipped() -> None:
    # the page script needs Leaflet alone: no jQuery, d3, moment or plugins in the package
    assert {a.package for a in vendored_assets().values()} == {"leaflet@1.9.3"}
    folders = sorted(p.name for p in assets_dir().iterdir() if p.is_dir())
    assert folders == ["LICENSES", "leaflet-1.9.3"]


def _page(operator: str = "Riot", title: str = "t", assets: str = "inline") -> str:
    import geopandas as gpd
    from shapely.geometry import Point, box

    from capacitymap.render import MapSpec, build_map, render_html

    regions = gpd.GeoDataFrame({"iso_3166_2": ["US-TX"], "iso_a2": ["US"], "name": ["Texas"]},
                               geometry=[box(-104, 30, -100, 34)], crs=4326)
    fac = gpd.GeoDataFrame({"operator": [operator], "site": [operator], "capacity_mw": [5.0], "status": ["operational"],
                            "as_of": ["2024-01"], "source_url": ["https://example.org/" + operator], "iso_3166_2": ["US-TX"]},
                           geometry=[Point(-102, 32)], crs=4326)
    return render_html(build_map(MapSpec(title=title, credit=operator, assets=assets), regions=regions, facilities=fac))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["L.AwesomeMarkers", "$.ajax(", "L.tileLayer(", '<script src="https://x.example/a.js">',
                                  "url(https://x.example/i.png)"])
def test_data_never_trips_the_network_check(text: str) -> None:
    # issue 16: the check looks at the page template, never at text from data
    html = _page(operator=text, title=text)
    assert _TAG_REF.search(html.replace(html[html.index("var cfg"):], "")) is None


def test_page_template_with_a_network_reference_is_refused() -> None:
    from capacitymap.render.assets import check_self_contained

    with pytest.raises(AssetError, match="external references 'https://cdn.example/x.js'"):
        check_self_contained('<html><script src="https://cdn.example/x.js"></script></html>')
    with pytest.raises(AssetError, match="expected inlined assets, got a link"):
        check_self_contained('<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>')


def test_inline_assets_leaves_no_network_reference() -> None:
    html = _smoke_map().get_root().render()
    out = inline_assets(html)
    assert _TAG_REF.search(out) is None
    assert "url(images/" not in out and "data:image/png;base64," in out
    assert "leaflet@1.9.3 (BSD-2-Clause)" in out and "jquery" not in out.lower()
    for url in UNUSED_ASSETS:
        assert url not in out


def test_inline_assets_is_deterministic() -> None:
    html = _smoke_map().get_root().render()
    assert inline_assets(html) == inline_assets(html)


def test_inline_assets_inlines_a_repeated_url_once() -> None:
    tag = '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
    out = inline_assets(f"<html><head>{tag}{tag}</head></html>")
    assert out.count("leaflet@1.9.3 (BSD-2-Clause)") == 1


class _VisibleText(HTMLParser):
    """Collects text outside <script>/<style>, as a browser's parser splits the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.raw = 0
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self.raw += 1
            self.scripts += tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.raw -= 1

    def handle_data(self, data: str) -> None:
        if not self.raw:
            self.text.append(data)


def test_inlined_scripts_cannot_close_their_script_element() -> None:
    for html in (inline_assets(_smoke_map().get_root().render()), _page(operator="</script><b>x")):
        parser = _VisibleText()
        parser.feed(html)
        visible = "".join(parser.text)
        assert "function" not in visible and "{" not in visible  # no library code spilled into the page


def test_strip_unused_assets_keeps_cdn_links_it_needs() -> None:
    html = _smoke_map().get_root().render()
    out = strip_unused_assets(html)
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in out
    assert "bootstrap" not in out and "fontawesome" not in out


def test_unknown_cdn_script_is_named() -> None:
    html = '<head><script src="https://cdn.example.org/evil@1.0/x.js"></script></head>'
    with pytest.raises(AssetError, match=r"external references 'https://cdn\.example\.org/evil@1\.0/x\.js'"):
        inline_assets(html)


def test_unknown_relative_script_is_named() -> None:
    with pytest.raises(AssetError, match=r"'local\.js'"):
        inline_assets('<script src="local.js"></script>')


@pytest.mark.parametrize(
    "ref",
    ["//fonts.example.com/a.css", "https://fonts.example.com/b.css", "https://img.example.com/c.png"],
)
def test_unknown_stylesheet_and_css_import_and_url_are_named(ref: str) -> None:
    html = (
        '<link rel="stylesheet" href="//fonts.example.com/a.css"/>'
        "<style>@import 'https://fonts.example.com/b.css'; .x{background:url(https://img.example.com/c.png)}</style>"
    )
    with pytest.raises(AssetError, match=re.escape(repr(ref))):
        inline_assets(html)


def test_remote_image_is_named() -> None:
    with pytest.raises(AssetError, match=r"'https://img\.example\.com/logo\.png'"):
        inline_assets('<body><img alt="" src="https://img.example.com/logo.png"></body>')


def test_tile_layer_is_refused() -> None:
    html = folium.Map(tiles="OpenStreetMap").get_root().render()
    with pytest.raises(AssetError, match=r"a tile layer \(L\.tileLayer.*build the map with tiles=None"):
        inline_assets(html)


def test_remote_geojson_is_refused() -> None:
    # what folium.GeoJson(url, embed=False) emits: the data is fetched when the page is viewed
    html = '<script>$.ajax("https://example.org/regions.geojson", {dataType: "json", async: false})</script>'
    with pytest.raises(AssetError, match=r"data loaded at view time \(\$\.ajax"):
        inline_assets(html)


def test_awesome_marker_icons_are_refused() -> None:
    m = folium.Map(tiles=None)
    folium.Marker([0, 0], icon=folium.Icon(icon="info-sign")).add_to(m)
    html = m.get_root().render()
    with pytest.raises(AssetError, match=r"without folium\.Icon markers, got a page calling 'L\.AwesomeMarkers'"):
        inline_assets(html)
    with pytest.raises(AssetError, match=r"draw facilities with CircleMarker"):
        strip_unused_assets(html)


def test_asset_error_is_a_capacitymap_error() -> None:
    assert issubclass(AssetError, CapacityMapError) and issubclass(AssetError, ValueError)


def test_hostile_text_passes_through_unchanged() -> None:
    # inline_assets must not touch page text (escaping is the map builder's job)
    escaped = "O&#39;Brien &lt;b&gt;&amp;amp; ${1+1} ` &lt;/script&gt;"
    html = f"<html><body><p>{escaped}</p></body></html>"
    assert inline_assets(html) == html
    assert HOSTILE not in inline_assets(html)
