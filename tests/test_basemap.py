"""capacitymap.render.basemap and the antimeridian: labels, land, borders, payload size; no band across the map."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from capacitymap import io
from capacitymap.errors import BoundaryError
from capacitymap.render import BBox, MapSpec, build_map, render_html
from capacitymap.render.basemap import basemap_js, basemap_payload, label_points
from capacitymap.render.escape import script_json
from capacitymap.render.geometry import (
    cut_antimeridian,
    one_side_of_antimeridian,
    select_regions,
    web_geometry,
    web_mercator,
)
from capacitymap.render.spec import PRESETS, resolve_preset

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"
HALF_WORLD_M = 20037508.34  # Web Mercator metres of 180 degrees of longitude


def ring_widths(geom: shapely.Geometry) -> list[float]:
    """Longitude span of every ring (exterior and holes) of a (multi)polygon."""
    rings = shapely.get_rings(shapely.get_parts(geom))
    return [float(np.ptp(shapely.get_coordinates(r)[:, 0])) for r in rings]


def geojson_ring_widths(collection: dict) -> dict[str, float]:
    out = {}
    for f in collection["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        out[str(f.get("id"))] = max(max(x for x, _ in ring) - min(x for x, _ in ring) for p in polys for ring in p)
    return out


# --- cutting rings at the antimeridian ------------------------------------------------------------


def test_a_ring_crossing_the_antimeridian_is_cut_into_two_parts_within_180():
    # As world-atlas writes Fiji's Vanua Levu: the ring jumps from 179 to -179 and back.
    crossing = shapely.Polygon([(179, -16), (-179, -16), (-179, -17), (179, -17)])
    assert ring_widths(crossing) == [358.0]  # read planar: a band round the world
    cut = cut_antimeridian(gpd.GeoSeries([crossing], crs=4326)).iloc[0]
    parts = sorted(shapely.get_parts(cut), key=lambda p: p.bounds[0])
    assert [tuple(round(v, 6) for v in p.bounds) for p in parts] == [(-180, -17, -179, -16), (179, -17, 180, -16)]
    assert cut.area == pytest.approx(2.0)  # 2 x 1 degrees, not 358 x 1
    assert max(ring_widths(cut)) <= 180


def test_a_ring_round_a_pole_is_closed_along_it():
    # Antarctica-like: a ring circling the south pole, crossing the antimeridian once.
    xs = np.linspace(-180, 180, 37)[:-1]
    ring = [(x, -70 + 5 * np.sin(np.radians(x) * 3)) for x in xs] + [(xs[0] + 360 - 360, -70)]
    polar = shapely.Polygon(ring[::-1])
    cut = cut_antimeridian(gpd.GeoSeries([polar], crs=4326)).iloc[0]
    assert cut.is_valid and not cut.is_empty
    assert cut.bounds[1] == -90 and cut.bounds[0] >= -180 and cut.bounds[2] <= 180
    assert cut.area == pytest.approx(360 * 20, rel=0.02)  # from -90 up to about -70 all round


def test_polygons_that_do_not_cross_are_returned_unchanged():
    plain = box(10, 10, 20, 20)
    assert cut_antimeridian(gpd.GeoSeries([plain, None], crs=4326)).iloc[0].equals(plain)


def test_a_region_with_parts_on_both_sides_is_drawn_on_its_larger_side():
    alaska = shapely.MultiPolygon([box(-170, 55, -140, 70), box(172, 52, 174, 53)])  # mainland + Attu-like islet
    chukotka = shapely.MultiPolygon([box(170, 62, 180, 70), box(-180, 64, -172, 67)])
    antarctica_like = box(-180, -90, 180, -65)
    out = one_side_of_antimeridian(np.array([alaska, chukotka, antarctica_like], dtype=object))
    assert out[0].bounds == (-188, 52, -140, 70)  # the islet moved west of -180, beside Alaska
    assert out[1].bounds == (170, 62, 188, 70)  # the tip moved east of 180, beside Chukotka
    assert out[2].equals(antarctica_like)  # round the pole: nothing to move
    assert all(b - a <= 180 for g in out[:2] for a, b in [(g.bounds[0], g.bounds[2])])


# --- the shipped layers, every preset (integration) ------------------------------------------------


@pytest.mark.integration
def test_the_shipped_admin0_layer_has_no_band_across_the_map():
    for layer in (io.read_admin0(), io.read_admin0_web()):
        for code, geom in zip(layer["iso_a2"], layer.geometry):
            if code == "AQ":  # round the south pole: closed along it, drawn below the world preset's view
                continue
            assert max(ring_widths(geom)) <= 180, code
    # Russia is whole: its area matches the sum of its 83 subjects in the admin-1 layer (another source)
    admin0, admin1 = io.read_admin0(), io.read_admin1()
    russia = admin0.loc[admin0["iso_a2"] == "RU"].geometry.iloc[0]
    subjects = np.asarray(admin1.loc[admin1["iso_a2"] == "RU"].geometry.values)
    assert shapely.area(russia) == pytest.approx(shapely.area(subjects).sum(), rel=0.01)
    # and an Alaskan point at 66 N is not in Russia
    assert not russia.contains(shapely.Point(-150, 66))


@pytest.mark.integration
@pytest.mark.parametrize("preset", list(PRESETS))
def test_no_drawn_ring_spans_more_than_180_degrees_at_any_preset(preset):
    p = resolve_preset(preset)
    for layer in ((io.read_admin0_web(), io.read_admin0()) if p.level == "country" else (io.read_admin1_web(), io.read_admin1())):
        drawn, level = select_regions(layer, p)
        for code, geom in zip(drawn.iloc[:, 0], web_geometry(drawn, level)):
            assert max(ring_widths(geom)) <= 180, (preset, code)
        # the still's geometries: Web Mercator metres, no ring wider than half the world
        merc = web_mercator(drawn)
        for code, geom in zip(merc.iloc[:, 0], merc.geometry):
            if not geom.is_empty:
                assert max(ring_widths(geom)) <= HALF_WORLD_M, (preset, code)


@pytest.mark.integration
def test_the_world_page_embeds_no_ring_wider_than_180_degrees():
    html = render_html(build_map(MapSpec(preset="world", title="World"), regions=io.read_admin0_web()))
    from capacitymap.render.build import decode_regions  # the page carries regions delta-encoded

    geo = decode_regions(json.loads(re.search(r"var geo = (\{.*?\});\n", html).group(1)))
    widths = geojson_ring_widths(geo)
    assert {"RU", "FJ", "US", "NZ"} <= set(widths)
    assert max(widths.values()) <= 180, {k: w for k, w in widths.items() if w > 180}


@pytest.mark.integration
def test_alaska_is_drawn_beside_itself_in_north_america():
    drawn, _ = select_regions(io.read_admin1_web(), resolve_preset("north-america"))
    alaska = drawn.loc[drawn["iso_3166_2"] == "US-AK"].geometry.iloc[0]
    west, _, east, _ = alaska.bounds
    assert west < -180 and east < -129 and east - west < 60  # the western Aleutians west of -180, not at +172


# --- the basemap payload --------------------------------------------------------------------------


def small_regions(names: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    names = names or {}
    rows = [
        ("US-TX", "US", names.get("US-TX", "Texas"), box(-106, 26, -94, 36)),
        ("US-OK", "US", "Oklahoma", box(-103, 36, -94, 37)),  # a thin strip: a small inscribed circle
        ("CA-QC", "CA", "Québec", box(-79, 45, -57, 62)),
    ]
    return gpd.GeoDataFrame({"iso_3166_2": [r[0] for r in rows], "iso_a2": [r[1] for r in rows],
                             "name": [r[2] for r in rows]}, geometry=[r[3] for r in rows], crs=4326)


def test_every_region_gets_one_label_inside_it_sized_by_its_inscribed_circle():
    regions = small_regions()
    labels = {lab["key"]: lab for lab in label_points(regions, "admin1")}
    assert set(labels) == {"US-TX", "US-OK", "CA-QC"}
    assert labels["US-TX"]["text"] == "Texas" and labels["US-TX"]["short"] == "TX"
    for code, geom in zip(regions["iso_3166_2"], regions.geometry):
        assert geom.contains(shapely.Point(labels[code]["lon"], labels[code]["lat"])), code
    # Oklahoma's strip is 1 degree tall: its circle's radius is half a degree of latitude, in degrees of longitude
    ok = labels["US-OK"]
    assert ok["size"] == pytest.approx(0.5 / np.cos(np.radians(36.5)), rel=0.1)
    assert labels["CA-QC"]["size"] > labels["US-TX"]["size"] > ok["size"]
    # the largest region (by area on the ground) is placed first when labels collide
    assert labels["CA-QC"]["priority"] == 1 and ok["priority"] == 3


def test_payload_is_json_ready_deterministic_and_escaped_only_where_the_page_puts_it():
    regions = small_regions({"US-TX": HOSTILE})
    bounds = BBox(-120, 20, -50, 65)
    a = basemap_payload(regions, "admin1", bounds)
    b = basemap_payload(regions.copy(), "admin1", bounds.bounds)  # Leaflet's [[s, w], [n, e]] too
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert {lab["text"] for lab in a["labels"]} >= {HOSTILE}  # data, as written; the page uses textContent
    text = script_json(a)
    assert "</script" not in text and "<b>" not in text
    assert set(a) >= {"sea", "land", "borders", "labels", "colours"}


@pytest.mark.integration
def test_north_america_land_is_the_neighbours_and_borders_are_between_the_drawn_countries():
    p = resolve_preset("north-america")
    drawn, level = select_regions(io.read_admin1_web(), p)
    pay = basemap_payload(drawn, level, p.bbox)
    land = {f["properties"]["iso_a2"] for f in pay["land"]["features"]}
    assert {"GL", "CU", "GT"} <= land  # Greenland, Cuba, Guatemala: muted land around the map
    assert not land & {"US", "CA", "MX"}  # the choropleth draws those
    assert {f["properties"]["between"] for f in pay["borders"]["features"]} == {"CA|US", "MX|US"}
    assert len(pay["labels"]) == len(drawn) == 96
    assert max(geojson_ring_widths(pay["land"]).values()) <= 180


@pytest.mark.integration
@pytest.mark.parametrize(("preset", "budget_kb"), [("north-america", 70), ("china", 90), ("world", 50), ("us", 100)])
def test_payload_stays_small(preset, budget_kb):
    p = resolve_preset(preset)
    drawn, level = select_regions(io.read_admin0_web() if p.level == "country" else io.read_admin1_web(), p)
    size = len(script_json(basemap_payload(drawn, level, p.bbox)).encode())
    assert size <= budget_kb * 1000, f"{preset}: {size / 1000:.0f} KB"


@pytest.mark.integration
def test_world_land_is_what_the_choropleth_does_not_draw():
    p = resolve_preset("world")
    drawn, level = select_regions(io.read_admin0_web(), p)
    pay = basemap_payload(drawn, level, p.bbox)
    names = {f["properties"]["name"] for f in pay["land"]["features"]}
    assert "Kosovo" in names  # no ISO 3166-1 code: not in the choropleth, still land
    assert not {f["properties"]["iso_a2"] for f in pay["land"]["features"]} & set(drawn["iso_a2"])
    assert pay["borders"]["features"] == []


def test_bad_arguments_say_what_was_expected():
    regions = small_regions()
    with pytest.raises(BoundaryError, match="expected level 'admin1' or 'country', got 'states'"):
        basemap_payload(regions, "states", BBox(-120, 20, -50, 65))
    with pytest.raises(BoundaryError, match=r"expected bounds as a BBox or \[\[south, west\], \[north, east\]\]"):
        basemap_payload(regions, "admin1", "everywhere")
    with pytest.raises(BoundaryError, match="expected the drawn regions to have a 'name' column"):
        basemap_payload(regions.drop(columns="name"), "admin1", BBox(-120, 20, -50, 65))


def test_the_script_defines_one_global_function():
    js = basemap_js()
    assert js.count("function capacitymapBasemap(map, payload)") == 1
    assert "innerHTML" not in re.sub(r"/\*.*?\*/", "", js, flags=re.DOTALL)  # label text goes in as textContent
    assert not re.search(r"https?://", js)


# --- detail for the view: page size ----------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(("preset", "budget_kb"), [("north-america", 300), ("china", 200), ("world", 300)])
def test_a_wide_view_sends_the_detail_it_needs_and_stays_a_coverage(preset, budget_kb):
    from capacitymap.render.geometry import features_json, key_of, view_tolerance

    p = resolve_preset(preset)
    drawn, level = select_regions(io.read_admin0_web() if p.level == "country" else io.read_admin1_web(), p)
    geometry = web_geometry(drawn, level)
    size = len(features_json(drawn, geometry, key_of(level)).encode())
    assert size <= budget_kb * 1000, f"{preset}: {size / 1000:.0f} KB"
    assert not any(g is None or g.is_empty for g in geometry)  # every region kept, however small
    tolerance = view_tolerance(p, level)
    assert tolerance == pytest.approx((p.bbox.east - p.bbox.west) / 1600, abs=0.001) or tolerance in (0.03, 0.05)
    # shared borders stay shared: no overlaps, and the land lost or gained is small
    values = np.asarray(geometry.values)
    union = shapely.union_all(values)
    assert shapely.area(union) == pytest.approx(shapely.area(values).sum(), rel=1e-3)
    assert shapely.area(union) == pytest.approx(shapely.area(np.asarray(drawn.geometry.values)).sum(), rel=0.02)


@pytest.mark.integration
def test_the_smallest_region_keeps_its_shape():
    drawn, level = select_regions(io.read_admin1_web(), resolve_preset("north-america"))
    geometry = web_geometry(drawn, level)
    dc = geometry[drawn["iso_3166_2"] == "US-DC"].iloc[0]
    assert not dc.is_empty and dc.intersects(shapely.Point(-77.03, 38.9).buffer(0.05))
