"""Placing facilities in regions, filters, and the reconciliation that accounts for every row."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from capacitymap.errors import DataError
from capacitymap.filters import FilterError, Filters, apply_filters
from capacitymap.join import assign_regions, locate_points, nearest_region
from capacitymap.pipeline import map_facilities
from capacitymap.records.rows import Records, empty_rejected
from capacitymap.regions import Gazetteer
from capacitymap.summary import summarize


def facilities(rows: list[dict]) -> pd.DataFrame:
    base = {"facility_id": None, "operator": "Op", "site": "S", "country": None, "region": None, "region_code": None,
            "latitude": np.nan, "longitude": np.nan, "capacity_mw": 10.0, "status": "operational", "as_of": "2024-01",
            "source_url": None, "hashrate_ehs": np.nan, "location_precision": None, "history": False, "notes": None,
            "source_file": "f.csv"}
    return pd.DataFrame([{**base, "site": f"S{i}", "line": i + 2, **r} for i, r in enumerate(rows)])


def test_point_in_polygon(admin1: gpd.GeoDataFrame) -> None:
    result = assign_regions(facilities([{"latitude": 30.0, "longitude": -98.0}, {"latitude": 48.0, "longitude": -72.0}]), admin1)
    assert result.facilities["iso_3166_2"].tolist() == ["US-TX", "CA-QC"]
    assert result.facilities["placement"].tolist() == ["point", "point"]
    assert result.facilities["region_name"].tolist() == ["Texas", "Québec"]
    assert result.facilities.geometry.iloc[0].x == -98.0


def test_border_point_goes_to_the_first_code(admin1: gpd.GeoDataFrame) -> None:
    # x = -96 is the shared border of US-LA and US-TX: LA sorts first.
    assert locate_points(np.array([-96.0]), np.array([30.0]), admin1).tolist() == [sorted(admin1["iso_3166_2"]).index("US-LA")]
    result = assign_regions(facilities([{"latitude": 30.0, "longitude": -96.0}]), admin1)
    assert result.facilities["iso_3166_2"].tolist() == ["US-LA"]


def test_offshore_point_within_tolerance_goes_to_nearest(admin1: gpd.GeoDataFrame) -> None:
    # 0.1 degree south of Texas (about 11 km): nearest; 1 degree (about 111 km): rejected.
    result = assign_regions(facilities([{"latitude": 27.9, "longitude": -98.0}, {"latitude": 27.0, "longitude": -98.0}]), admin1)
    assert result.facilities["iso_3166_2"].tolist()[0] == "US-TX"
    assert result.facilities["placement"].tolist()[0] == "nearest"
    assert list(result.problems) == [1]
    assert "fall in no covered region and no covered region is near (more than 25 km)" in result.problems[1][0].message


def test_region_only_drawn_at_representative_point(admin1: gpd.GeoDataFrame) -> None:
    result = assign_regions(facilities([{"region_code": "CA-QC"}]), admin1)
    row = result.facilities.iloc[0]
    assert (row["iso_3166_2"], row["placement"]) == ("CA-QC", "region")
    assert admin1.set_index("iso_3166_2").geometry["CA-QC"].contains(row.geometry)


def test_mismatch_is_a_warning_naming_both_answers(admin1: gpd.GeoDataFrame) -> None:
    rows = facilities([{"region_code": "US-GA", "latitude": 30.0, "longitude": -98.0}])
    result = assign_regions(rows, admin1)
    assert result.facilities["iso_3166_2"].tolist() == ["US-TX"]
    assert not result.problems
    assert "the region says US-GA but the coordinates (30, -98) fall in US-TX" in result.warnings[0].message
    strict = assign_regions(rows, admin1, strict=True)
    assert "the region says US-GA" in strict.problems[0][0].message


def test_swapped_coordinates_are_named(admin1: gpd.GeoDataFrame) -> None:
    # Quebec at (lat 48, lon -72) written the other way round.
    result = assign_regions(facilities([{"region_code": "CA-QC", "latitude": -72.0, "longitude": 48.0}]), admin1)
    assert result.facilities["iso_3166_2"].tolist() == ["CA-QC"]
    assert "(latitude and longitude look swapped)" in result.warnings[0].message


def test_country_mismatch_is_reported(admin1: gpd.GeoDataFrame) -> None:
    result = assign_regions(facilities([{"country": "CA", "latitude": 30.0, "longitude": -98.0}]), admin1)
    assert "the country says CA but the facility falls in US-TX (US)" in result.warnings[0].message


def _records(frame: pd.DataFrame) -> Records:
    return Records(frame=frame, rejected=empty_rejected(), rows_read=len(frame))


def test_pipeline_accounts_for_every_row(admin1: gpd.GeoDataFrame, gazetteer: Gazetteer) -> None:
    frame = facilities([
        {"latitude": 30.0, "longitude": -98.0, "capacity_mw": 100.0, "operator": "Riot"},
        {"latitude": 30.0, "longitude": -98.0, "capacity_mw": 50.0, "operator": "Riot", "history": True, "site": "S0"},
        {"latitude": 27.0, "longitude": -98.0, "capacity_mw": 7.0},  # outside: rejected
        {"region_code": "CA-QC", "capacity_mw": 30.0, "operator": "Bitfarms", "status": "planned"},
    ])
    mapped = map_facilities(_records(frame), admin1, gazetteer=gazetteer, skip_invalid=True, filters=Filters(statuses=("operational",)))
    rec = mapped.reconciliation
    assert (rec.rows_read, rec.rows_mapped, rec.mw_read, rec.mw_mapped) == (4, 1, 187.0, 100.0)
    assert dict(zip(rec.filtered["filter"], rec.filtered["capacity_mw"])) == {"superseded by a newer figure": 50.0, "status planned": 30.0}
    assert rec.rejected["line"].tolist() == [4] and rec.balanced
    with pytest.raises(DataError, match="f.csv:4:latitude: the coordinates"):
        map_facilities(_records(frame), admin1, gazetteer=gazetteer)


def test_as_of_keeps_the_newest_figure_up_to_then(gazetteer: Gazetteer) -> None:
    frame = facilities([
        {"site": "Rockdale", "as_of": "2022-04", "capacity_mw": 400.0, "history": True},
        {"site": "Rockdale", "as_of": "2022-10-19", "capacity_mw": 700.0},
        {"site": "Corsicana", "as_of": "2023", "capacity_mw": 1000.0},
    ]).assign(iso_3166_2="US-TX")
    kept, removed = apply_filters(frame, Filters(as_of="2022-10"), gazetteer=gazetteer)
    assert kept["capacity_mw"].tolist() == [700.0]
    assert sorted(removed["filter"]) == ["dated after 2022-10", "superseded by a newer figure"]
    kept, _ = apply_filters(frame, Filters(as_of="2022-06"), gazetteer=gazetteer)
    assert kept["capacity_mw"].tolist() == [400.0]


def test_filters_by_operator_region_and_size(gazetteer: Gazetteer) -> None:
    frame = facilities([
        {"operator": "Riot Platforms", "capacity_mw": 700.0, "iso_3166_2": "US-TX"},
        {"operator": "Bitfarms", "capacity_mw": 96.0, "iso_3166_2": "CA-QC"},
        {"operator": "Bitfarms", "capacity_mw": 5.0, "iso_3166_2": "CA-QC"},
    ])
    kept, _ = apply_filters(frame, Filters(operators=("riot",)), gazetteer=gazetteer)
    assert kept["operator"].tolist() == ["Riot Platforms"]
    kept, _ = apply_filters(frame, Filters(regions=("Quebec",), min_mw=10), gazetteer=gazetteer)
    assert kept["capacity_mw"].tolist() == [96.0]
    with pytest.raises(FilterError, match=r"no operator matches 'Bitframs'; did you mean 'Bitfarms'"):
        apply_filters(frame, Filters(operators=("Bitframs",)), gazetteer=gazetteer)
    with pytest.raises(FilterError, match="--region: unknown region: 'Atlantis'"):
        apply_filters(frame, Filters(regions=("Atlantis",)), gazetteer=gazetteer)
    with pytest.raises(FilterError, match="expected statuses among"):
        apply_filters(frame, Filters(statuses=("sleeping",)), gazetteer=gazetteer)


# Points anywhere in a box that covers the squares and the sea around them; capacities, statuses,
# history flags and filters at random. Whatever happens, MW read == mapped + filtered + rejected,
# and the per-region summary adds up to what was mapped.
_row = st.fixed_dictionaries({
    "longitude": st.floats(-101, -69, allow_nan=False), "latitude": st.floats(27, 53, allow_nan=False),
    "capacity_mw": st.floats(0, 2000, allow_nan=False), "status": st.sampled_from(["operational", "planned", "curtailed"]),
    "history": st.booleans(), "operator": st.sampled_from(["Riot", "Bitfarms", "Hut 8"]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, min_size=1, max_size=30), statuses=st.sets(st.sampled_from(["operational", "planned", "curtailed"])),
       min_mw=st.none() | st.floats(0, 1000, allow_nan=False))
def test_capacity_is_conserved_through_join_filters_and_summary(admin1, gazetteer, rows, statuses, min_mw) -> None:  # noqa: ANN001
    frame = facilities(rows)
    frame["site"] = [f"S{i}" for i in range(len(frame))]
    mapped = map_facilities(_records(frame), admin1, gazetteer=gazetteer, skip_invalid=True,
                            filters=Filters(statuses=tuple(sorted(statuses)), min_mw=min_mw))
    rec = mapped.reconciliation
    assert rec.balanced
    assert rec.mw_read == pytest.approx(frame["capacity_mw"].sum())
    assert rec.rows_mapped + int(rec.filtered["rows"].sum()) + len(rec.rejected) == len(frame)
    for by in ("region", "operator", "country"):
        assert summarize(mapped.facilities, by=by)["capacity_mw"].sum() == pytest.approx(rec.mw_mapped)


def test_capacity_by_month_is_the_state_as_of_each_month(admin1: gpd.GeoDataFrame, gazetteer: Gazetteer) -> None:
    from capacitymap.pipeline import capacity_by_month

    frame = facilities([
        {"site": "Rockdale", "as_of": "2022-04", "capacity_mw": 400.0, "history": True, "latitude": 30.0, "longitude": -98.0},
        {"site": "Rockdale", "as_of": "2022-10-19", "capacity_mw": 700.0, "latitude": 30.0, "longitude": -98.0},
        {"site": "Sherbrooke", "as_of": "2021", "capacity_mw": 96.0, "region_code": "CA-QC"},
        {"site": "Corsicana", "as_of": "2023-01", "capacity_mw": 1000.0, "status": "planned", "latitude": 30.0, "longitude": -99.0},
    ])
    mapped = map_facilities(_records(frame), admin1, gazetteer=gazetteer, filters=Filters(statuses=("operational",)))
    monthly = capacity_by_month(mapped, gazetteer=gazetteer)
    got = {(r.month, r.iso_3166_2): r.value for r in monthly.itertuples(index=False)}
    # every month from the first to the last counted figure (the planned site is not counted: not past 2022-10)
    assert sorted({m for m, _ in got}) == [f"{y}-{m:02d}" for y in (2021, 2022) for m in range(1, 13)][:22]
    assert {k: v for k, v in got.items() if k[0] in ("2021-01", "2022-03", "2022-04", "2022-09", "2022-10")} == {
        ("2021-01", "CA-QC"): 96.0, ("2022-03", "CA-QC"): 96.0,
        ("2022-04", "CA-QC"): 96.0, ("2022-04", "US-TX"): 400.0,
        ("2022-09", "CA-QC"): 96.0, ("2022-09", "US-TX"): 400.0,
        ("2022-10", "CA-QC"): 96.0, ("2022-10", "US-TX"): 700.0,
    }
    assert ("2022-03", "US-TX") not in got  # no site there yet: no data, not zero
    # The last month is the current map.
    assert summarize(mapped.facilities, by="region").set_index("iso_3166_2")["capacity_mw"].to_dict() == {"US-TX": 700.0, "CA-QC": 96.0}


# -- coordinates settle region text the gazetteer does not know (issue 14) ---------------------------

UNKNOWN_TEXT_CSV = (
    "operator,site,state,latitude,longitude,capacity_mw,status\n"
    "Op,Known,Tex.,30.0,-98.0,100,operational\n"          # AP abbreviation: known, no warning
    "Op,Settled,Texass,30.5,-97.5,200,operational\n"      # unknown text, coordinates in Texas: kept, warned
    "Op,NoPoint,Texass,,,300,operational\n"               # unknown text, no coordinates: rejected with a suggestion
    "Op,AtSea,Texass,0.0,-30.0,400,operational\n"         # unknown text, coordinates in no region: rejected
)


def _read_unknown_text(tmp_path, gazetteer: Gazetteer, today):  # noqa: ANN001, ANN202
    from capacitymap.records import read_facilities

    path = tmp_path / "sites.csv"
    path.write_text(UNKNOWN_TEXT_CSV, encoding="utf-8")
    return path, read_facilities(path, gazetteer=gazetteer, today=today, skip_invalid=True)


def test_unknown_region_text_without_coordinates_is_rejected_by_the_reader(tmp_path, gazetteer: Gazetteer, today) -> None:  # noqa: ANN001
    path, records = _read_unknown_text(tmp_path, gazetteer, today)
    assert records.rejected["line"].tolist() == [4]
    assert [str(p) for p in records.problems] == [
        f"{path}:4:state: unknown region: 'Texass'; did you mean 'Texas (US-TX)'? Run 'capacitymap regions' to list the known codes."
    ]
    assert [c if isinstance(c, str) else None for c in records.frame["region_code"]] == ["US-TX", None, None]


def test_coordinates_settle_unknown_region_text_with_a_warning(tmp_path, gazetteer: Gazetteer, admin1: gpd.GeoDataFrame, today) -> None:  # noqa: ANN001
    path, records = _read_unknown_text(tmp_path, gazetteer, today)
    result = assign_regions(records.frame, admin1)
    placed = result.facilities.set_index("site")
    assert placed.loc[["Known", "Settled"], "iso_3166_2"].tolist() == ["US-TX", "US-TX"]
    assert placed.loc["Settled", "country"] == "US"
    assert placed.loc["Settled", "region"] == "Texass"  # the text as written is kept
    assert "region_unresolved" not in result.facilities and "region_column" not in result.facilities
    assert [str(w) for w in result.warnings] == [
        f"{path}:3:state: warning: unknown region: 'Texass'; did you mean 'Texas (US-TX)'? Run 'capacitymap regions' to list the "
        "known codes. The coordinates (30.5, -97.5) place the facility in US-TX (Texas), where it is kept; correct the region text or leave it empty"
    ]
    # In no region, the coordinates settle nothing: the row is rejected with the text's suggestion as well.
    at_sea = list(result.problems)
    assert placed.index[at_sea].tolist() == ["AtSea"]
    messages = [(p.column, p.message) for p in result.problems[at_sea[0]]]
    assert messages[0][0] == "latitude" and "fall in no covered region" in messages[0][1]
    assert messages[1][0] == "state" and messages[1][1].startswith("unknown region: 'Texass'; did you mean 'Texas (US-TX)'?")
    assert messages[1][1].endswith("The coordinates (0, -30) do not settle it: they fall in no covered region.")


def test_strict_makes_settled_unknown_text_an_error(tmp_path, gazetteer: Gazetteer, admin1: gpd.GeoDataFrame, today) -> None:  # noqa: ANN001
    path, records = _read_unknown_text(tmp_path, gazetteer, today)
    result = assign_regions(records.frame, admin1, strict=True)
    assert result.warnings == []
    rows = {records.frame.loc[i, "site"]: [str(p) for p in ps] for i, ps in result.problems.items()}
    assert sorted(rows) == ["AtSea", "Settled"]
    assert rows["Settled"] == [
        f"{path}:3:state: unknown region: 'Texass'; did you mean 'Texas (US-TX)'? Run 'capacitymap regions' to list the "
        "known codes. The coordinates (30.5, -97.5) place the facility in US-TX (Texas), where it is kept; correct the region text or leave it empty"
    ]


def test_validate_reports_the_settled_text_as_a_warning_and_strict_as_a_problem(tmp_path, today) -> None:  # noqa: ANN001
    from capacitymap import api

    path = tmp_path / "sites.csv"
    path.write_text("operator,site,state,latitude,longitude,capacity_mw,status\n"
                    "Op,A,Calif.,36.7,-119.7,10,operational\nOp,B,Texass,31.0,-99.0,10,operational\n", encoding="utf-8")
    report = api.validate([path], today=today)
    assert report.problems == []
    assert [(w.line, w.column) for w in report.warnings] == [(3, "state")]
    assert "place the facility in US-TX (Texas)" in report.warnings[0].message
    strict = api.validate([path], strict=True, today=today)
    assert [(p.line, p.column) for p in strict.problems] == [(3, "state")]


# --- the nearest rule in metres, at every latitude (issue 14) ----------------------------------

_GEOD = Geod(ellps="WGS84")


def _layer(*regions: tuple[str, object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"iso_3166_2": [c for c, _ in regions], "iso_a2": [c[:2] for c, _ in regions],
                             "name": [c for c, _ in regions]}, geometry=[g for _, g in regions], crs="EPSG:4326")


def _reference_km(geometry, lon: float, lat: float) -> float:  # noqa: ANN001
    """Geodesic km from a point to a boundary sampled every 0.0002 degree near the point (independent of join.py)."""
    near = shapely.intersection(geometry.boundary, shapely.box(lon - 3, lat - 1, lon + 3, lat + 1))
    xy = shapely.get_coordinates(shapely.segmentize(near, 0.0002))
    return float(np.min(_GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])[2])) / 1000.0


def _east_of(lon: float, lat: float, km: float, azimuth: float = 90.0) -> tuple[float, float]:
    x, y, _ = _GEOD.fwd(lon, lat, azimuth, km * 1000.0)
    return float(x), float(y)


@pytest.mark.parametrize("lat", [0.0, 67.5])
def test_nearest_rule_takes_20_km_and_rejects_30_km_at_the_equator_and_at_67_n(lat: float) -> None:
    # The region's east edge is the meridian 10E; a geodesic leaving it due east is the perpendicular, so
    # its end at 20 km is 20 km from the region (a degree of longitude is 111 km here, 43 km at 67.5N).
    layer = _layer(("NO-20", shapely.box(0.0, lat - 2.0, 10.0, lat + 2.0)))
    (x20, y20), (x30, y30) = _east_of(10.0, lat, 20.0), _east_of(10.0, lat, 30.0)
    near, km = nearest_region(np.array([x20, x30]), np.array([y20, y30]), layer)
    assert near.tolist() == [0, -1]
    assert km == pytest.approx([20.0, 30.0], abs=0.001)  # a metre
    result = assign_regions(facilities([{"latitude": y20, "longitude": x20}, {"latitude": y30, "longitude": x30}]), layer)
    assert result.facilities["placement"].tolist()[0] == "nearest"
    assert result.facilities["iso_3166_2"].tolist()[0] == "NO-20"
    assert list(result.problems) == [1]
    assert "the nearest covered region is 30 km away (more than 25 km)" in result.problems[1][0].message


# An L-shaped region at 70N: the point is 19 km west of its east arm and 33 km north of its south arm. In degrees the
# south arm is nearer (0.30 degree against 0.50), which is how the rule used to pick the spot it measured.
L_SHAPE = shapely.union(shapely.box(20.0, 60.0, 40.0, 69.7), shapely.box(30.5, 69.7, 40.0, 72.0))
L_POINT = _east_of(30.5, 70.0, 19.0, azimuth=270.0)


def test_a_point_19_km_from_a_region_at_70_n_is_placed_though_nearer_in_degrees_to_a_farther_edge() -> None:
    x, y = L_POINT
    assert not L_SHAPE.intersects(shapely.Point(x, y))
    assert _reference_km(L_SHAPE, x, y) == pytest.approx(19.0, abs=0.001)
    result = assign_regions(facilities([{"latitude": y, "longitude": x}]), _layer(("NO-20", L_SHAPE)))
    assert not result.problems
    assert (result.facilities["iso_3166_2"].iat[0], result.facilities["placement"].iat[0]) == ("NO-20", "nearest")


def test_the_nearest_region_is_the_nearest_on_the_ground_not_in_degrees() -> None:
    # NO-19, a strip 22 km south of the point, is nearer in degrees than NO-20's east arm (19 km away).
    x, y = L_POINT
    strip = shapely.box(29.0, 69.75, 30.2, 69.80)
    layer = _layer(("NO-20", L_SHAPE), ("NO-19", strip))
    assert _reference_km(strip, x, y) == pytest.approx(22.2, abs=0.1)
    near, km = nearest_region(np.array([x]), np.array([y]), layer)
    assert near.tolist() == [sorted(layer["iso_3166_2"]).index("NO-20")]
    assert km[0] == pytest.approx(19.0, abs=0.001)


def test_the_nearest_rule_reaches_across_the_antimeridian() -> None:
    x, y = _east_of(180.0, 65.0, 10.0)  # 10 km east of the meridian 180, written as -179.8
    assert x < -179.0
    near, km = nearest_region(np.array([x, -x]), np.array([y, y]), _layer(("RU-CHU", shapely.box(170.0, 60.0, 180.0, 70.0))))
    assert near.tolist() == [0, 0]
    assert km[0] == pytest.approx(10.0, abs=0.001)


def test_equal_distances_go_to_the_code_that_sorts_first() -> None:
    # A point 20 km south of the corner two regions share.
    x, y = _east_of(10.0, 0.0, 20.0, azimuth=180.0)
    layer = _layer(("US-TX", shapely.box(10.0, 0.0, 12.0, 2.0)), ("US-LA", shapely.box(8.0, 0.0, 10.0, 2.0)))
    near, km = nearest_region(np.array([x]), np.array([y]), layer)
    assert near.tolist() == [0] and km[0] == pytest.approx(20.0, abs=0.001)  # US-LA sorts first


@pytest.mark.integration
@pytest.mark.parametrize(("lat", "lon", "code", "km"), [
    (69.432, -138.0, "CA-YT", 19.976),  # off the Yukon coast (the rule in degrees measured 33.4 km: rejected)
    (68.539, -95.208, "CA-NU", 20.351),  # off Nunavut's coast (27.7 km in degrees: rejected)
    (69.190, 15.0, "NO-18", 20.016),  # off Norway's Nordland coast
    (69.542, -138.0, None, 29.953),  # 30 km off the Yukon coast: not placed
    (69.285, 15.0, None, 30.029),  # 30 km off Nordland: not placed
])
def test_the_nearest_rule_on_the_shipped_layer_at_68_to_70_n(lat: float, lon: float, code: str | None, km: float) -> None:
    from capacitymap.io import read_admin1

    layer = read_admin1()
    regions = layer.sort_values("iso_3166_2", ignore_index=True)
    near, got = nearest_region(np.array([lon]), np.array([lat]), layer)
    nearest_code = code or ("CA-YT" if lon < 0 else "NO-18")
    reference = _reference_km(regions.geometry[regions["iso_3166_2"] == nearest_code].iat[0], lon, lat)
    assert got[0] == pytest.approx(reference, abs=0.001) and got[0] == pytest.approx(km, abs=0.001)
    assert (regions["iso_3166_2"].iat[near[0]] if near[0] >= 0 else None) == code
    placed = assign_regions(facilities([{"latitude": lat, "longitude": lon}]), layer)
    assert placed.facilities["iso_3166_2"].iat[0] == code
    assert placed.facilities["placement"].iat[0] == ("nearest" if code else None)


# --- issue 14 item 1 on a file of the real points' shape: one country per point at both levels ---

POINTS = Path(__file__).parent / "fixtures" / "messy" / "pool_points_borders.csv"


def _aggregate(tmp_path: Path, level: str) -> pd.DataFrame:
    from capacitymap.cli import main

    out = tmp_path / f"{level}.csv"
    args = ["aggregate", str(POINTS), "--weight", "Avg Hashrate", "--by", "Month", "--level", level, "-o", str(out), "--quiet"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, keep_default_na=False, na_values=[""])


@pytest.mark.integration
def test_country_totals_are_the_same_at_both_levels_on_the_real_points_shape(tmp_path: Path) -> None:
    # The geolocation database's shape (Month, CRCode, SDName, coordinates, Avg Hashrate), with the border and
    # coast cases of issue 14: New York City, Shenzhen next to Hong Kong, Kota Kinabalu 2 km off Sabah, a point
    # 31 km off Long Island, Abakan (in Krasnoyarsk on the 1:10m layer), Anadyr and Fiji near the antimeridian.
    by_country = _aggregate(tmp_path, "country")
    by_region = _aggregate(tmp_path, "admin1")
    frame = pd.read_csv(POINTS, keep_default_na=False, na_values=[""])
    assert by_country["region"].isna().all()
    summed = by_region.groupby(["Month", "country"])[["hashrate_ehs", "points"]].sum()
    direct = by_country.set_index(["Month", "country"])[["hashrate_ehs", "points"]].sort_index()
    pd.testing.assert_index_equal(direct.index, summed.index)
    assert direct["points"].tolist() == summed["points"].tolist()
    np.testing.assert_allclose(direct["hashrate_ehs"], summed["hashrate_ehs"], rtol=1e-12, atol=0)
    # Nothing dropped: every point and all the weight (TH/s in, EH/s out) is in each table, shares sum to 1 per month.
    for table in (by_country, by_region):
        assert table["points"].sum() == len(frame)
        assert table["hashrate_ehs"].sum() == pytest.approx(frame["Avg Hashrate"].sum() / 1e6, rel=1e-12)
        assert table.groupby("Month")["share"].sum().tolist() == pytest.approx([1.0, 1.0], abs=1e-12)
    june = by_region[by_region["Month"] == 201806].set_index("region")
    assert june.loc["US-NY", "points"] == 1 and june.loc["CN-GD", "points"] == 1 and june.loc["MY-12", "points"] == 1
    assert by_country.set_index(["Month", "country"]).loc[(201806, "HK"), "points"] == 1
    assert by_country.set_index(["Month", "country"]).loc[(201806, "US"), "hashrate_ehs"] == pytest.approx(2350.25 / 1e6)
