"""Placing facilities in regions, filters, and the reconciliation that accounts for every row."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacitymap.errors import DataError
from capacitymap.filters import FilterError, Filters, apply_filters
from capacitymap.join import assign_regions, locate_points
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
