"""capacitymap.render: classes, presets, escaping, determinism, no-data vs zero, CSV, alt text, errors."""

from __future__ import annotations

import json
import re
from io import StringIO
from urllib.parse import unquote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from capacitymap.errors import BoundaryError, CapacityMapError
from capacitymap.render import (
    PRESETS,
    BBox,
    MapSpec,
    MapSpecError,
    build_map,
    classify,
    describe,
    format_value,
    render_html,
)
from capacitymap.render.classify import NO_DATA_COLOUR, OKABE_ITO, category_colours
from capacitymap.render.escape import safe_url, script_json
from capacitymap.render.geometry import select_regions, web_geometry

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"

# A 3 x 2 grid of US states (shared borders), a Canadian and a Mexican province, and one Chinese province.
GRID = [
    ("US-TX", "Texas", box(-104, 30, -100, 34)),
    ("US-OK", "Oklahoma", box(-100, 30, -96, 34)),
    ("US-AR", "Arkansas", box(-96, 30, -92, 34)),
    ("US-KS", "Kansas", box(-104, 34, -100, 38)),
    ("US-MO", "Missouri", box(-100, 34, -96, 38)),
    ("US-KY", "Kentucky", box(-96, 34, -92, 38)),
    ("CA-QC", "Québec", box(-80, 45, -70, 52)),
    ("MX-SON", "Sonora", box(-112, 27, -108, 31)),
    ("CN-XJ", "Xinjiang", box(80, 38, 90, 46)),
]


def regions_frame(names: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    names = names or {}
    return gpd.GeoDataFrame(
        {
            "iso_3166_2": [c for c, _, _ in GRID],
            "iso_a2": [c[:2] for c, _, _ in GRID],
            "name": [names.get(c, n) for c, n, _ in GRID],
        },
        geometry=[g for _, _, g in GRID],
        crs=4326,
    )


def countries_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"iso_a2": ["US", "CA", "CN"], "name": ["United States", "Canada", "China"]},
        geometry=[box(-120, 30, -80, 49), box(-120, 49, -60, 70), box(75, 20, 130, 50)],
        crs=4326,
    )


def facilities_frame(**overrides) -> gpd.GeoDataFrame:
    rows = [
        ("Riot Platforms", "Rockdale", 700.0, "operational", "2024-12", "https://example.com/riot", "US-TX", -103.0, 31.0),
        ("Riot Platforms", "Corsicana", 300.0, "under_construction", "2025-01", "https://example.com/c", "US-TX", -101.0, 33.0),
        ("Core Scientific", "Denton", 125.0, "operational", "2024-06", "http://example.com/d", "US-OK", -98.0, 31.0),
        ("CleanSpark", "Dalton", 50.0, "planned", "2024", "ftp://example.com/x", "US-KY", -94.0, 36.0),
        ("Hut 8", "Montreal", 20.0, "operational", "2023-03-01", None, "CA-QC", -75.0, 48.0),
    ]
    frame = gpd.GeoDataFrame(
        {
            "operator": [r[0] for r in rows],
            "site": [r[1] for r in rows],
            "capacity_mw": [r[2] for r in rows],
            "status": [r[3] for r in rows],
            "as_of": [r[4] for r in rows],
            "source_url": [r[5] for r in rows],
            "iso_3166_2": [r[6] for r in rows],
            "region_name": ["x"] * len(rows),
            "history": [False] * len(rows),
        },
        geometry=[Point(r[7], r[8]) for r in rows],
        crs=4326,
    )
    for col, vals in overrides.items():
        frame[col] = vals
    return frame


def values_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"iso_3166_2": ["US-TX", "US-OK", "US-AR", "US-KS", "CA-QC", "CN-XJ"],
         "value": [1000.0, 125.0, 0.0, np.nan, 20.0, 999.0]}
    )


def config_of(html: str) -> dict:
    match = re.search(r"var cfg = (\{.*?\});\n", html)
    assert match, "no config in the page"
    return json.loads(match.group(1))


def csv_of(html: str) -> pd.DataFrame:
    match = re.search(r'href="data:text/csv;charset=utf-8,([^"]*)"', html)
    assert match, "no CSV link in the page"
    return pd.read_csv(StringIO(unquote(match.group(1))), keep_default_na=False, na_values=[""])


def render(spec: MapSpec | None = None, **data) -> str:
    data.setdefault("regions", regions_frame())
    return render_html(build_map(spec or MapSpec(title="Test map"), **data))


# --- classification ------------------------------------------------------------------------------


def test_quantiles_split_values_into_k_classes_with_units():
    c = classify(list(range(1, 101)), scheme="quantiles", k=4)
    assert len(c) == 4
    assert c.upper[-1] == 100
    assert c.labels[-1].endswith(" MW")
    assert c.colours[0] != c.colours[-1]


def test_natural_breaks_find_the_gap():
    c = classify([1, 2, 3, 100, 101, 102], scheme="natural_breaks", k=2)
    assert c.upper == (3.0, 102.0)


def test_equal_interval_classes_are_equal_width():
    c = classify([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], scheme="equal_interval", k=5)
    widths = np.diff((c.lower[0],) + c.upper)
    assert np.allclose(widths, 20)


def test_user_bins_are_upper_bounds_and_grow_to_the_maximum():
    c = classify([0, 5, 50, 500], scheme="user_bins", bins=[10, 100])
    assert c.upper == (10.0, 100.0, 500.0)
    assert c.index(10) == 0 and c.index(10.5) == 1 and c.index(500) == 2


def test_fewer_distinct_values_than_k_give_fewer_classes_never_a_single_value():
    c = classify([3, 3, 7], scheme="quantiles", k=5)
    assert c.upper == (7.0,) and c.labels == ("3\u20137 MW",)
    c = classify([1, 2, 3, 4, 5, 6], scheme="quantiles", k=5)
    assert len(c) == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 2000), min_size=2, max_size=40), st.sampled_from(["quantiles", "natural_breaks", "equal_interval"]))
def test_no_class_holds_one_value_and_labels_never_share_end_points(values, scheme):
    c = classify(values, scheme=scheme, k=5)
    distinct = sorted(set(values))
    if len(distinct) > 1:
        members = [[v for v in distinct if c.index(v) == i] for i in range(len(c))]
        assert all(len(m) >= 2 for m in members)
    ends = [tuple(int(x.replace(",", "")) for x in lab.removesuffix(" MW").split("\u2013")) for lab in c.labels]
    flat = [x for e in ends for x in e]
    assert flat == sorted(flat) and len(set(e[0] for e in ends[1:]) & set(e[-1] for e in ends)) == 0


def test_labels_are_rounded_to_the_data_precision():
    assert classify([18, 20, 25, 29, 30, 50, 103, 200, 300], k=3).labels == ("18\u201325 MW", "26\u201350 MW", "51\u2013300 MW")
    shares = classify([0.6508, 0.1, 0.05, 0.02, 0.01, 0.003], metric="share", k=3)
    assert shares.labels[-1] == "5.01\u201365.08%"


def test_change_classes_diverge_around_zero():
    c = classify([-100, -20, -5, 0, 5, 30, 200, 400], metric="capacity_change_mw", k=4)
    assert "no change" in c.labels and c.colours[c.labels.index("no change")] == "#f7f7f7"
    assert c.index(-100) < c.index(0) < c.index(400)
    assert c.labels[0].startswith("\u2212100") and c.labels[-1].endswith("+400 MW")
    assert format_value(-12.5, "capacity_change_mw") == "\u221212.5 MW" and format_value(30, "capacity_change_mw") == "+30 MW"


def test_no_data_is_not_a_class_and_zero_is():
    c = classify([0, 1, 2, 3, float("nan")], scheme="quantiles", k=2)
    assert c.index(float("nan")) is None and c.colour(None) == NO_DATA_COLOUR
    assert c.index(0) == 0 and c.colour(0) != NO_DATA_COLOUR


def test_all_missing_gives_no_classes():
    c = classify([float("nan")], scheme="quantiles")
    assert len(c) == 0 and c.colour(1.0) == NO_DATA_COLOUR


def test_user_bins_need_bins():
    with pytest.raises(MapSpecError, match="needs bins"):
        classify([1, 2], scheme="user_bins")


def test_unknown_scheme_is_refused():
    with pytest.raises(MapSpecError, match="expected scheme one of"):
        classify(range(20), scheme="jenks", k=3)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=60),
       st.sampled_from(["quantiles", "natural_breaks", "equal_interval"]), st.integers(2, 9))
def test_every_value_falls_in_a_class_whose_bounds_hold_it(values, scheme, k):
    c = classify(values, scheme=scheme, k=k)
    assert list(c.upper) == sorted(set(c.upper))
    for v in values:
        i = c.index(v)
        assert i is not None
        assert c.lower[i] <= v <= c.upper[i] or np.isclose(v, c.upper[i])


def test_values_are_formatted_with_units():
    assert format_value(1234.4, "capacity_mw") == "1,234 MW"
    assert format_value(12.34, "hashrate_ehs") == "12.3 EH/s"
    assert format_value(0.073, "share") == "7.3%"
    assert format_value(float("nan"), "share") == "no data"
    assert format_value(0, "capacity_mw") == "0 MW"


def test_operator_colours_are_okabe_ito_then_grey():
    colours = category_colours([f"op{i}" for i in range(9)], by="operator")
    assert [colours[f"op{i}"] for i in range(7)] == list(OKABE_ITO)
    assert colours["op7"] == colours["op8"] == "#7f7f7f"


# --- spec and presets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "europe"}, r"preset: expected one of \['north-america'"),
        ({"k": 1}, "k: expected a whole number of classes from 2 to 9, got 1"),
        ({"k": True}, "k: expected a whole number"),
        ({"scheme": "user_bins"}, "scheme 'user_bins' needs bins"),
        ({"scheme": "user_bins", "bins": (10, 5)}, "strictly increasing"),
        ({"scheme": "user_bins", "bins": (1, float("inf"))}, "expected finite numbers"),
        ({"bins": (1, 2)}, "bins are used only with scheme='user_bins'"),
        ({"metric": "hashrate"}, r"metric: expected one of \['capacity_mw'"),
        ({"marker_colour": "size"}, "marker_colour: expected one of"),
        ({"assets": "offline"}, "assets: expected one of"),
        ({"title": None}, "title: expected text"),
    ],
)
def test_bad_specs_are_refused(kwargs, message):
    with pytest.raises(MapSpecError, match=message):
        MapSpec(**kwargs)


def test_spec_errors_belong_to_the_hierarchy():
    with pytest.raises(CapacityMapError):
        MapSpec(k=0)
    with pytest.raises(ValueError):
        MapSpec(k=0)


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ((10, 0, 5, 1), "west < east"),
        ((0, 10, 1, 5), "south < north"),
        ((0, -95, 1, 5), "south < north"),
        ((0, 0, float("nan"), 1), "four finite numbers"),
    ],
)
def test_bad_bboxes_are_refused(bbox, message):
    with pytest.raises(MapSpecError, match=message):
        BBox(*bbox)


@pytest.mark.parametrize(
    ("preset", "kept"),
    [
        ("north-america", ["CA-QC", "MX-SON", "US-AR", "US-KS", "US-KY", "US-MO", "US-OK", "US-TX"]),
        ("us", ["US-AR", "US-KS", "US-KY", "US-MO", "US-OK", "US-TX"]),
        ("canada", ["CA-QC"]),
        ("china", ["CN-XJ"]),
        (BBox(-105, 29, -99, 35), ["US-KS", "US-MO", "US-OK", "US-TX"]),
    ],
)
def test_presets_keep_their_regions(preset, kept):
    from capacitymap.render.spec import resolve_preset

    drawn, level = select_regions(regions_frame(), resolve_preset(preset))
    assert level == "admin1" and list(drawn["iso_3166_2"]) == kept
    cfg = config_of(render(MapSpec(preset=preset)))
    assert cfg["bounds"] == (preset if isinstance(preset, BBox) else PRESETS[preset].bbox).bounds


def test_world_preset_draws_countries():
    vals = pd.DataFrame({"iso_a2": ["US", "CN", "ZZ"], "value": [0.4, 0.2, 0.1]})
    html = render(MapSpec(preset="world", metric="share"), regions=countries_frame(), values=vals)
    cfg = config_of(html)
    assert cfg["values"][""] == {"CN": 0.2, "US": 0.4}
    assert cfg["additive"] is False and "Share of map total</th>" not in html


def test_world_preset_refuses_an_admin1_layer():
    with pytest.raises(MapSpecError, match="expected an admin-0 layer, got an admin-1 layer; pass capacitymap.io.boundaries.read_admin0"):
        build_map(MapSpec(preset="world"), regions=regions_frame())


def test_admin1_preset_refuses_an_admin0_layer():
    with pytest.raises(MapSpecError, match="expected an admin-1 layer, got an admin-0 layer"):
        build_map(MapSpec(preset="us"), regions=countries_frame())


def test_a_preset_with_no_regions_in_the_layer_is_refused():
    with pytest.raises(MapSpecError, match="got none of its 3 regions"):
        build_map(MapSpec(preset="china"), regions=regions_frame().iloc[:3])


def test_regions_without_codes_are_refused():
    frame = regions_frame().rename(columns={"iso_3166_2": "code", "iso_a2": "cc"})
    with pytest.raises(BoundaryError, match="expected an admin-1 layer \\(column 'iso_3166_2'\\)"):
        build_map(MapSpec(), regions=frame)


def test_regions_without_crs_are_refused():
    frame = regions_frame().set_crs(None, allow_override=True)
    with pytest.raises(BoundaryError, match="no coordinate reference system"):
        build_map(MapSpec(), regions=frame)


def test_regions_in_another_crs_are_reprojected():
    cfg = config_of(render(regions=regions_frame().to_crs(3857), values=values_frame()))
    assert cfg["values"][""]["US-TX"] == 1000.0


# --- geometry ------------------------------------------------------------------------------------


def test_borders_are_simplified_as_a_coverage_without_gaps_or_overlaps():
    wiggly = []
    for _, _, g in GRID[:6]:
        # densify every edge so simplification has something to remove
        wiggly.append(shapely.segmentize(g, 0.01))
    frame = gpd.GeoDataFrame({"iso_3166_2": [c for c, _, _ in GRID[:6]], "name": "x"}, geometry=wiggly, crs=4326)
    simple = web_geometry(frame, "admin1")
    assert shapely.get_num_coordinates(simple.values).sum() < shapely.get_num_coordinates(np.asarray(wiggly)).sum() / 10
    union = shapely.union_all(simple.values)
    assert union.area == pytest.approx(sum(g.area for g in simple), rel=1e-9)  # no overlaps
    assert union.area == pytest.approx(shapely.union_all(wiggly).area, rel=1e-6)  # no gaps


def test_geojson_keeps_only_id_and_name():
    html = render()
    match = re.search(r"var geo = (\{.*?\});\n", html)
    geo = json.loads(match.group(1))
    key, name, polys = geo["features"][0]
    assert (key, name) == ("CA-QC", "Québec") and geo["scale"] == 1000
    ring = np.cumsum(np.asarray(polys[0][0]).reshape(-1, 2), axis=0) / geo["scale"]
    assert ring.min(axis=0).tolist() == [-80, 45] and ring.max(axis=0).tolist() == [-70, 52]


# --- values ---------------------------------------------------------------------------------------


def test_no_data_is_drawn_differently_from_zero():
    cfg = config_of(render(values=values_frame()))
    vals = cfg["values"][""]
    assert vals["US-AR"] == 0.0 and vals["US-KS"] is None and "US-MO" not in vals
    assert "CN-XJ" not in vals  # outside the preset
    assert cfg["noDataColour"] not in cfg["classes"]["colours"]


def test_shares_of_the_map_total_use_only_drawn_regions():
    html = render(values=values_frame())
    assert f'<td>US-TX</td><td class="cm-num">1,000 MW</td><td class="cm-num">{1000 / 1145:.1%}</td>' in html


def test_months_make_an_ordered_slider():
    vals = pd.DataFrame({
        "iso_3166_2": ["US-TX", "US-TX", "US-OK", "US-OK"],
        "month": ["2024-02", "2023-12", "2024-02", "2023-12"],
        "value": [0.5, 0.2, 0.1, np.nan],
        "extrapolated": [True, False, False, False],
        "pools": ["Foundry|AntPool", "Foundry", "Foundry", "Foundry"],
    })
    cfg = config_of(render(MapSpec(metric="share"), values=vals))
    assert cfg["months"] == ["2023-12", "2024-02"]
    assert cfg["values"]["2023-12"] == {"US-OK": None, "US-TX": 0.2}
    assert ["extrapolated", "yes"] in cfg["provenance"]["2024-02"]["US-TX"]
    assert ["pools", "Foundry|AntPool"] in cfg["provenance"]["2024-02"]["US-TX"]


def test_month_timestamps_are_accepted_as_months():
    vals = pd.DataFrame({"iso_3166_2": ["US-TX"], "month": [pd.Period("2024-03", "M")], "value": [1.0]})
    assert config_of(render(values=vals))["months"] == ["2024-03"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"region": ["US-TX"], "value": [1.0]}), r"missing \['iso_3166_2'\].*rename the region code column"),
        (pd.DataFrame({"iso_3166_2": ["US-TX"], "value": ["lots"]}), "expected numbers .* got 'lots'"),
        (pd.DataFrame({"iso_3166_2": ["US-TX"], "value": [np.inf]}), "expected finite numbers"),
        (pd.DataFrame({"iso_3166_2": ["US-TX"], "value": [1.0], "month": ["2024/03"]}), "expected months as 'YYYY-MM' .*got '2024/03'"),
        (pd.DataFrame({"iso_3166_2": ["US-TX", "US-TX"], "value": [1.0, 2.0]}), "expected one row per region, got 'US-TX' twice"),
        (pd.DataFrame({"iso_3166_2": ["US-XX"], "value": [1.0]}), r"got unknown \['US-XX'\]; resolve names"),
        ([1, 2], "expected a DataFrame"),
    ],
)
def test_bad_values_are_refused(frame, message):
    with pytest.raises(MapSpecError, match=message):
        build_map(MapSpec(), regions=regions_frame(), values=frame)


# --- facilities -----------------------------------------------------------------------------------


def test_markers_are_current_facilities_largest_first_with_area_proportional_to_mw():
    fac = facilities_frame()
    fac.loc[len(fac)] = fac.iloc[0].copy()
    fac.loc[len(fac) - 1, ["site", "history"]] = ["Old Rockdale", True]
    cfg = config_of(render(values=values_frame(), facilities=fac))
    recs = cfg["facilities"]
    assert [r["site"] for r in recs] == ["Rockdale", "Corsicana", "Denton", "Dalton", "Montreal"]
    assert cfg["maxMw"] == 700 and cfg["maxRadius"] > cfg["minRadius"] > 0  # radius = max * sqrt(mw / maxMw), in the page
    assert [r["key"] for r in recs] == ["US-TX", "US-TX", "US-OK", "US-KY", "CA-QC"]
    assert cfg["operators"][0] == "Riot Platforms"
    assert cfg["operatorColours"]["Riot Platforms"] == OKABE_ITO[0]


def test_only_http_links_are_links():
    fac = facilities_frame(source_url=["https://a.example/x", "javascript:alert(1)", "http://b.example",
                                       "ftp://c.example/x", "data:text/html,hi"])
    recs = {r["site"]: r for r in config_of(render(facilities=fac))["facilities"]}
    assert recs["Rockdale"]["url"] == "https://a.example/x"
    assert recs["Denton"]["url"] == "http://b.example"
    for site, text in (("Corsicana", "javascript:alert(1)"), ("Dalton", "ftp://c.example/x"), ("Montreal", "data:text/html,hi")):
        assert "url" not in recs[site] and recs[site]["url_text"] == text


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/a?b=1", True),
        ("HTTP://EXAMPLE.COM", True),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("https:/example.com", False),
        ("//example.com", False),
        ('https://example.com/"onmouseover=alert(1)', False),
        ("https://exa mple.com", False),
        (None, False),
    ],
)
def test_url_policy(url, ok):
    assert (safe_url(url) is not None) is ok


def test_facilities_outside_the_preset_are_not_drawn():
    fac = facilities_frame(iso_3166_2=["US-TX", "US-TX", "US-OK", "US-KY", "CA-QC"])
    cfg = config_of(render(MapSpec(preset="us"), facilities=fac))
    assert len(cfg["facilities"]) == 4


def test_marker_colour_by_status():
    cfg = config_of(render(MapSpec(marker_colour="status"), facilities=facilities_frame()))
    assert cfg["markerBy"] == "status"
    assert cfg["statuses"] == ["operational", "planned", "under_construction"]


def test_facility_datetimes_are_cast_to_text():
    fac = facilities_frame(as_of=pd.to_datetime(["2024-12-01"] * 5))
    assert config_of(render(facilities=fac))["facilities"][0]["as_of"].startswith("2024-12-01")


@pytest.mark.parametrize(
    ("fac", "message"),
    [
        (facilities_frame().drop(columns=["operator"]), r"missing \['operator'\]"),
        (pd.DataFrame({"operator": ["x"]}), "expected a GeoDataFrame of points"),
        (facilities_frame().set_geometry([box(0, 0, 1, 1)] * 5), r"expected Point geometries, got \['Polygon'\]"),
    ],
)
def test_bad_facilities_are_refused(fac, message):
    with pytest.raises(MapSpecError, match=message):
        build_map(MapSpec(), regions=regions_frame(), facilities=fac)


# --- page, escaping, determinism -----------------------------------------------------------------


def hostile_inputs():
    regions = regions_frame({"US-TX": HOSTILE, "US-OK": "<img src=x onerror=alert(1)>"})
    vals = values_frame().assign(pools=HOSTILE)
    fac = facilities_frame(operator=[HOSTILE] * 2 + ["<img src=x onerror=alert(1)>"] * 3, site=HOSTILE,
                           as_of=HOSTILE, source_url=[HOSTILE, "javascript:alert(1)", "https://x.example/" + HOSTILE, HOSTILE, None])
    spec = MapSpec(title=HOSTILE, subtitle=HOSTILE, credit=HOSTILE, coverage_note=HOSTILE)
    return spec, dict(regions=regions, values=vals, facilities=fac)


def test_hostile_text_never_appears_raw():
    spec, data = hostile_inputs()
    html = render(spec, **data)
    assert HOSTILE not in html
    assert "<b>&amp;" not in html and "<img src=x" not in html
    assert html.count("</script>") == len(re.findall(r"<script\b", html))
    # It is there, escaped: as HTML text in the page and as \u003c-escaped JSON in the script.
    assert "O&#x27;Brien &lt;b&gt;&amp;amp; ${1+1} ` &lt;/script&gt;" in html
    cfg = config_of(html)
    assert cfg["facilities"][0]["operator"] == HOSTILE
    assert "url" not in cfg["facilities"][0] and "url" not in cfg["facilities"][1]
    assert csv_of(html)["pools"].tolist() == [HOSTILE] * 5


def test_template_syntax_in_data_is_shown_not_evaluated():
    # The page's own HTML blocks are not Jinja templates: "{{ 7*7 }}" in data stays text (never 49).
    names = ["{{ 7*7 }}", "{% raw %}x"]
    fac = facilities_frame(operator=[names[0]] * 5, site=[names[1]] * 5)
    html = render(MapSpec(title="{{ 6*7 }}", credit="{{ 5*5 }}"), values=values_frame(), facilities=fac)
    assert "{{ 6*7 }}" in html and "{{ 5*5 }}" in html
    assert "{{ 7*7 }}" in html or "{{ 7*7 }}".replace(" ", "\\u0020") in html
    assert ">42<" not in html and ">25<" not in html and "{% raw %}x" in html


def test_hostile_title_is_escaped_in_the_document_title():
    spec, data = hostile_inputs()
    html = render(spec, **data)
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert title == "O&#x27;Brien &lt;b&gt;&amp;amp; ${1+1} ` &lt;/script&gt;"


def test_script_json_escapes_markup():
    text = script_json({"a": "</script><!--&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!--&\u2028"}


def test_the_same_inputs_give_the_same_bytes():
    spec, data = hostile_inputs()
    a = render_html(build_map(spec, **data))
    b = render_html(build_map(spec, **data))
    m = build_map(spec, **data)
    assert a == b == render_html(m) == render_html(m)
    assert not re.search(r"[0-9a-f]{32}", a)


def test_page_has_title_credits_attribution_and_full_page_layout():
    spec = MapSpec(title="Mining capacity", subtitle="By state", credit="Source: reference set", coverage_note="As of 2025-01.")
    html = render(spec, values=values_frame(), facilities=facilities_frame())
    assert '<h1 class="cm-title">Mining capacity</h1>' in html
    assert '<p class="cm-subtitle">By state</p>' in html
    assert "Source: reference set · Boundaries: <a href=\"https://www.naturalearthdata.com/\">Natural Earth</a>" in html
    assert '<p class="cm-coverage">As of 2025-01.</p>' in html
    assert ".cm-main { flex: 1 0 auto; display: flex; min-height: 50vh; }" in html
    assert 'name="viewport"' in html
    assert "Natural Earth" in config_of(html)["attributionHtml"]


def test_legend_has_units_classes_and_no_data():
    cfg = config_of(render(MapSpec(scheme="user_bins", bins=(100, 500)), values=values_frame(), facilities=facilities_frame()))
    legend = cfg["legendHtml"]
    assert "<h2>Capacity (MW)</h2>" in legend
    assert "0\u2013100 MW" in legend and "101\u2013500 MW" in legend and "501\u20131,000 MW" in legend
    assert "No data" in legend and NO_DATA_COLOUR in legend
    assert "circle area ∝ MW" in legend and "Riot Platforms" in legend


def test_data_table_lists_values_with_units_and_no_data():
    html = render(values=values_frame(), facilities=facilities_frame())
    table = re.search(r"<details class=\"cm-table\">(.*?)</details>", html).group(1)
    assert '<th scope="row">Texas</th><td>US-TX</td><td class="cm-num">1,000 MW</td>' in table
    assert '<th scope="row">Kansas</th><td>US-KS</td><td class="cm-num">no data</td>' in table
    assert '<th scope="row">Arkansas</th><td>US-AR</td><td class="cm-num">0 MW</td>' in table
    assert "Xinjiang" not in table
    order = re.findall(r'<th scope="row">([^<]+)</th>', table)
    assert order == ["Texas", "Oklahoma", "Québec", "Arkansas", "Kansas"]  # largest first, no data last


def test_csv_data_uri_round_trips_the_mapped_values():
    html = render(values=values_frame())
    table = csv_of(html)
    assert list(table.columns) == ["iso_3166_2", "name", "capacity_mw"]
    assert table.set_index("iso_3166_2")["capacity_mw"].to_dict() == pytest.approx(
        {"CA-QC": 20.0, "US-AR": 0.0, "US-KS": np.nan, "US-OK": 125.0, "US-TX": 1000.0}, nan_ok=True
    )
    assert 'download="test-map.csv"' in html


def test_csv_has_every_month():
    vals = pd.DataFrame({"iso_3166_2": ["US-TX", "US-TX"], "month": ["2024-01", "2024-02"], "value": [0.25, 0.5]})
    table = csv_of(render(MapSpec(metric="share"), values=vals))
    assert table[["month", "share"]].values.tolist() == [["2024-01", 0.25], ["2024-02", 0.5]]


def test_alt_text_says_what_the_map_shows_and_its_top_regions():
    text = describe(MapSpec(title="Capacity"), values_frame(), facilities_frame(), regions=regions_frame())
    assert text.startswith("Capacity. Map of United States, Canada and Mexico showing bitcoin mining power capacity")
    assert "Texas (US-TX) 1,000 MW, 87% of the map total" in text
    assert text.index("Texas") < text.index("Oklahoma") < text.index("Québec")
    assert "4 of 8 regions have data (4 without, drawn grey and dashed)" in text
    assert "5 current facilities from 4 operators" in text
    html = render(MapSpec(title="Capacity"), values=values_frame(), facilities=facilities_frame())
    assert f'<p class="cm-sr" id="cm-alt">{text}</p>' in html


def test_alt_text_without_regions_names_codes():
    text = describe(MapSpec(metric="share"), pd.DataFrame({"iso_3166_2": ["US-TX"], "value": [0.5]}))
    assert "US-TX (US-TX) 50%" in text


def test_render_html_needs_a_capacitymap_map():
    with pytest.raises(MapSpecError, match="expected a map made by capacitymap.render.build_map"):
        render_html(folium.Map())


def test_inline_rendering_refuses_a_map_with_tiles():
    m = build_map(MapSpec(assets="cdn", tiles="carto-light"), regions=regions_frame())
    with pytest.raises(MapSpecError, match="needs the network; render it with assets='cdn'"):
        render_html(m, assets="inline")
    assert config_of(render_html(m))["tiles"]["url"].startswith("https://{s}.basemaps.cartocdn.com/")
    with pytest.raises(MapSpecError, match="tiles are fetched from a server, so they need assets='cdn'"):
        MapSpec(tiles="osm")
    with pytest.raises(MapSpecError, match="expected one of"):
        MapSpec(assets="cdn", tiles="javascript:alert(1)")


def test_inline_rendering_loads_nothing_from_the_network():
    html = render(MapSpec(assets="inline"), values=values_frame(), facilities=facilities_frame())
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"http", html)
    assert config_of(html)["tiles"] is None
    assert "jquery" not in html.lower() and "d3.v" not in html and "markercluster" not in html.lower()


def test_cdn_rendering_drops_unused_assets():
    html = render(MapSpec(assets="cdn"), values=values_frame(), facilities=facilities_frame())
    assert "bootstrap" not in html and "awesome" not in html and "markercluster" not in html
    assert re.search(r'<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" integrity="sha384-', html)
    assert "could not load" in config_of(html)["fallbackText"]


def test_build_map_wants_a_spec():
    with pytest.raises(MapSpecError, match="expected a MapSpec"):
        build_map("north-america", regions=regions_frame())  # type: ignore[arg-type]


# --- the real layer ------------------------------------------------------------------------------


@pytest.mark.integration
def test_north_america_with_all_layers_is_at_most_one_megabyte():
    from capacitymap.io.boundaries import read_admin1

    admin1 = read_admin1()
    na = admin1[admin1["iso_a2"].isin(["US", "CA", "MX"])]
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    vals = pd.DataFrame(
        [(c, mo, float(i % 17) / 100) for i, c in enumerate(na["iso_3166_2"]) for mo in months],
        columns=["iso_3166_2", "month", "value"],
    ).assign(extrapolated=False, vpn_corrected=True)
    rng = np.random.default_rng(1)
    rows = na.sample(60, random_state=1)
    pts = rows.geometry.representative_point()
    fac = gpd.GeoDataFrame(
        {"operator": [f"Operator {i % 12}" for i in range(60)], "site": [f"Site {i}" for i in range(60)],
         "capacity_mw": rng.uniform(5, 900, 60).round(1), "status": "operational", "as_of": "2025-01",
         "source_url": "https://example.com/source/page", "iso_3166_2": rows["iso_3166_2"].to_numpy(),
         "region_name": rows["name"].to_numpy(), "history": False},
        geometry=pts.to_numpy(), crs=4326,
    )
    html = render_html(build_map(MapSpec(metric="share", title="Hashrate share"), regions=admin1, values=vals, facilities=fac))
    assert len(html.encode()) <= 1_000_000
    cfg = config_of(html)
    assert len(cfg["months"]) == 12 and len(cfg["facilities"]) == 60


def test_parts_crossing_the_antimeridian_are_drawn_east_of_it():
    crossing = shapely.Polygon([(-179.5, 60), (-179.5, 62), (179.5, 62), (179.5, 60)])  # a band the wrong way round
    frame = gpd.GeoDataFrame({"iso_a2": ["RU"], "name": ["Russia"]}, geometry=[crossing], crs=4326)
    geom = web_geometry(frame, "country").iloc[0]
    west, _, east, _ = geom.bounds
    assert east - west < 2 and west >= 179


# --- titles and credits: every map says what, when and whose -------------------------------------


def _title_and_credit(html: str) -> tuple[str, str, str]:
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    h1 = re.search(r'<h1 class="cm-title">(.*?)</h1>', html).group(1)
    credit = re.search(r'<p class="cm-credit">(.*?)</p>', html).group(1)
    return title, h1, credit


def test_api_build_without_a_title_gets_the_same_defaults():
    fac = facilities_frame()
    built = build_map(MapSpec(), regions=regions_frame(), values=values_frame(), facilities=fac,
                      statuses=("operational", "under_construction"))
    assert built.spec.title == "Operational + under construction bitcoin mining power capacity, United States, Canada and Mexico"
    title, h1, credit = _title_and_credit(render_html(built))
    assert title == h1 == built.title
    assert credit.startswith("Data: example.com") and "Natural Earth" in credit and "via the pages" not in credit
    assert "operational + under construction" in config_of(render_html(built))["legendHtml"]
    # the user's text wins
    own = build_map(MapSpec(title="Mine", credit="Data: me"), regions=regions_frame(), facilities=fac)
    assert (own.spec.title, own.spec.credit) == ("Mine", "Data: me")


def test_many_source_domains_are_summarised_and_few_are_named():
    fac = facilities_frame(source_url=[f"https://site{i}.example/x" for i in range(5)])
    credit = build_map(MapSpec(), regions=regions_frame(), facilities=fac).spec.credit
    assert credit == "Data: company filings and press reports (5 source sites)"
    fac = facilities_frame(source_url=["https://www.sec.gov/a", "https://www.sec.gov/b", "https://theminermag.com/x", None, None])
    assert build_map(MapSpec(), regions=regions_frame(), facilities=fac).spec.credit == "Data: SEC filings, TheMinerMag"


def test_subtitle_is_the_as_of_date_or_the_step_range():
    vals = pd.DataFrame({"iso_3166_2": ["US-TX"] * 3, "month": ["2024-01", "2024-02", "2024-03"], "value": [1.0, 2.0, 3.0]})
    assert build_map(MapSpec(), regions=regions_frame(), values=vals).spec.subtitle.startswith("2024-01 to 2024-03 (3 months)")
    assert build_map(MapSpec(), regions=regions_frame(), values=values_frame(), as_of="2025-01-31").spec.subtitle == "As of 2025-01-31"


def test_display_names_override_natural_earth_and_wording_is_plural_aware():
    regions = regions_frame().assign(iso_3166_2=lambda f: f["iso_3166_2"].replace({"CN-XJ": "CN-NM"}))
    regions.loc[regions["iso_3166_2"] == "CN-NM", "name"] = "Inner Mongol"
    vals = pd.DataFrame({"iso_3166_2": ["CN-NM"], "value": [0.1]})
    html = render(MapSpec(preset="china", metric="share"), regions=regions, values=vals)
    assert "Inner Mongolia" in html and "Inner Mongol<" not in html and "Inner Mongol\"" not in html
    one = pd.DataFrame({"iso_3166_2": ["CN-NM"], "month": ["2020-04"], "value": [0.1]})
    assert "1 months" not in render(MapSpec(preset="china", metric="share"), regions=regions, values=one)
    html = render(values=values_frame(), facilities=facilities_frame())
    text = re.search(r"<header.*?</header>", html, re.S).group(0) + re.search(r"<footer.*?</footer>", html, re.S).group(0)
    assert "((" not in text and "))" not in text


@pytest.mark.integration
def test_cli_maps_of_a_facility_file_and_a_ccaf_file_are_titled_and_credited(tmp_path):
    from click.testing import CliRunner

    from capacitymap._resources import data_dir
    from capacitymap.cli import main

    out = tmp_path / "na.html"
    run = CliRunner().invoke(main, ["render", str(data_dir() / "facilities" / "north_america.csv"), "--preset", "north-america",
                                    "-o", str(out)])
    assert run.exit_code == 0, run.output
    title, h1, credit = _title_and_credit(out.read_text(encoding="utf-8"))
    assert title == h1 and "capacity" in title and "United States, Canada and Mexico" in title and title != "capacitymap"
    assert credit.startswith("Data: ") and "Natural Earth" in credit
    out = tmp_path / "world.html"
    run = CliRunner().invoke(main, ["render", str(data_dir() / "hashrate" / "mining_countries.csv"), "--preset", "world",
                                    "-o", str(out)])
    assert run.exit_code == 0, run.output
    html = out.read_text(encoding="utf-8")
    title, h1, credit = _title_and_credit(html)
    assert title == h1 and title.startswith("Share of global hashrate by country") and "World" in title
    assert "CCAF (Cambridge Centre for Alternative Finance)" in credit and "Natural Earth" in credit
    assert re.search(r'<p class="cm-subtitle">\d{4}-\d\d to \d{4}-\d\d \(\d+ months\)', html)


def test_a_spec_step_must_be_one_of_the_steps() -> None:
    from capacitymap.render import BBox as _BBox

    values = pd.DataFrame({"iso_3166_2": ["US-TX", "US-TX"], "value": [1.0, 2.0], "month": ["2024-01", "2024-02"]})
    regions = gpd.GeoDataFrame({"iso_3166_2": ["US-TX"], "iso_a2": ["US"], "name": ["Texas"]},
                               geometry=[shapely.box(-104, 30, -100, 34)], crs=4326)
    spec = MapSpec(preset=_BBox(-106, 28, -90, 40), step="2023-12")
    with pytest.raises(MapSpecError, match=r"MapSpec.step: expected one of the steps \['2024-01', '2024-02'\], got '2023-12'"):
        build_map(spec, regions=regions, values=values)
    with pytest.raises(MapSpecError, match="MapSpec.step: expected a step"):
        MapSpec(step=202401)  # type: ignore[arg-type]
