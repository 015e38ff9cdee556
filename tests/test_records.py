"""Reading records: messy files map, broken files fail at the right line with an actionable message."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from capacitymap.errors import DataError
from capacitymap.records import cells, read_facilities, read_hashrate, read_network_hashrate, read_records
from capacitymap.regions import default_gazetteer

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2026, 11, 21)


# -- cells ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "unit", "mw"),
    [("300", "mw", 300.0), ("300 MW", "mw", 300.0), ("1.2 GW", "mw", 1200.0), ("1,200", "mw", 1200.0),
     ("1.2", "gw", 1200.0), ("500 kW", "mw", 0.5), ("0", "mw", 0.0), (" 18.7 ", "mw", 18.7)],
)
def test_capacity_units_are_understood(text: str, unit: str, mw: float) -> None:
    assert cells.parse_capacity_mw(text, column_unit=unit) == pytest.approx(mw)


def test_decimal_comma_in_semicolon_files() -> None:
    assert cells.parse_capacity_mw("30,5", decimal=",") == 30.5
    assert cells.parse_capacity_mw("1.200,5", decimal=",") == 1200.5
    with pytest.raises(cells.CellError, match="expected a capacity in megawatts"):
        cells.parse_capacity_mw("30,5")


@pytest.mark.parametrize(
    ("text", "message"),
    [("abc", "expected a capacity in megawatts such as 120"), ("-5", "expected a capacity of zero or more"),
     ("300000", "more than any mining site .* is it in kW"), ("12 furlongs", "expected a capacity in megawatts")],
)
def test_bad_capacities_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(cells.CellError, match=message):
        cells.parse_capacity_mw(text)


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2024", "2024"), ("2024-12", "2024-12"), ("2024-12-31", "2024-12-31"), ("Dec 2024", "2024-12"),
     ("12/2024", "2024-12"), ("2020-04-01 00:00:00", "2020-04-01"), ("2024-3", "2024-03")],
)
def test_dates_keep_their_precision(text: str, iso: str) -> None:
    assert cells.parse_date(text, today=TODAY) == iso


@pytest.mark.parametrize(
    ("text", "message"),
    [("2099-01", "not after today"), ("sometime", "as YYYY-MM or YYYY-MM-DD"), ("2024-02-30", "exists on the calendar")],
)
def test_bad_dates(text: str, message: str) -> None:
    with pytest.raises(cells.CellError, match=message):
        cells.parse_date(text, today=TODAY)


def test_shares_percent_and_fraction() -> None:
    assert cells.parse_share("65.08%", percent_column=False) == pytest.approx(0.6508)
    assert cells.parse_share("65.08", percent_column=True) == pytest.approx(0.6508)
    assert cells.parse_share("0.6508", percent_column=False) == pytest.approx(0.6508)
    with pytest.raises(cells.CellError, match="write '65.08%' or name the column 'share_%'"):
        cells.parse_share("65.08", percent_column=False)
    with pytest.raises(cells.CellError, match="between 0% and 100%"):
        cells.parse_share("120%", percent_column=False)


def test_hashrate_units() -> None:
    assert cells.parse_hashrate_ehs("12.5 EH/s", column_unit=None) == 12.5
    assert cells.parse_hashrate_ehs("350 PH/s", column_unit=None) == pytest.approx(0.35)
    assert cells.parse_hashrate_ehs("2000", column_unit="th/s") == pytest.approx(0.002)
    with pytest.raises(cells.CellError, match="with a unit"):
        cells.parse_hashrate_ehs("12", column_unit=None)


def test_only_http_links() -> None:
    assert cells.parse_url("https://example.com/a?b=1") == "https://example.com/a?b=1"
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "example.com", "data:text/html,<b>",
                'https://x.org/"onmouseover="alert(1)', "https://:80/", "https://x.org/a b"):
        with pytest.raises(cells.CellError, match="expected an http"):
            cells.parse_url(bad)


def test_statuses_and_synonyms() -> None:
    assert cells.parse_status("Online") == "operational"
    assert cells.parse_status("under-construction") == "under_construction"
    with pytest.raises(cells.CellError, match="expected a status, one of operational, under_construction"):
        cells.parse_status("sleeping")


# -- messy files map correctly ----------------------------------------------------------------------

@pytest.mark.integration
def test_english_facilities_with_aliases_and_units() -> None:
    frame = read_facilities(FIXTURES / "messy" / "facilities_english.csv", today=TODAY).frame
    assert frame["region_code"].tolist() == ["US-TX", "US-TX", "CA-QC", "CA-AB"]
    assert frame["country"].tolist() == ["US", "US", "CA", "CA"]
    assert frame["capacity_mw"].tolist() == [700.0, 1000.0, 96.0, 18.7]
    assert frame["status"].tolist() == ["operational", "planned", "operational", "operational"]
    assert frame["as_of"].tolist() == ["2022-10", "2022-10", "2021-10-01", "2018"]
    assert frame["line"].tolist() == [2, 3, 4, 5]
    assert frame.loc[0, "notes"] == "Quoted, with a comma"


@pytest.mark.integration
def test_chinese_names_iso_and_old_codes() -> None:
    frame = read_facilities(FIXTURES / "messy" / "facilities_chinese.csv", today=TODAY).frame
    assert frame["region_code"].tolist() == ["CN-XJ", "CN-NM", "CN-SC", "CN-NM", "CN-XJ", "CN-NM"]
    assert frame["operator"].iloc[0] == "某矿场"


@pytest.mark.integration
def test_semicolon_csv_with_bom_and_decimal_comma() -> None:
    frame = read_facilities(FIXTURES / "messy" / "semicolon_bom.csv", today=TODAY).frame
    assert frame.columns[0] == "facility_id"  # the BOM did not stick to the first header
    assert frame.loc[0, "operator"] == "HIVE"
    assert frame.loc[0, "capacity_mw"] == 30.5
    assert frame.loc[0, "region_code"] == "CA-QC"


@pytest.mark.integration
def test_xlsx_facilities(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Operator", "Site", "State", "MW", "Status", "As of"])
    ws.append(["Riot Platforms", "Rockdale", "Texas", 700, "operational", dt.datetime(2022, 10, 1)])
    ws.append([None, None, None, None, None, None])
    ws.append(["Bitfarms", "Sherbrooke", "QC", 96.5, "operational", "2021-10"])
    path = tmp_path / "facilities.xlsx"
    wb.save(path)
    frame = read_facilities(path, today=TODAY).frame
    assert frame["region_code"].tolist() == ["US-TX", "CA-QC"]
    assert frame["capacity_mw"].tolist() == [700.0, 96.5]
    assert frame["line"].tolist() == [2, 4]  # the sheet's own row numbers
    assert frame["as_of"].tolist() == ["2022-10-01", "2021-10"]


@pytest.mark.integration
def test_parquet_and_geojson_points(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    frame = pd.DataFrame({"operator": ["Riot"], "site": ["Rockdale"], "lat": [30.65], "lon": [-97.0],
                          "capacity_mw": [700.0], "status": ["operational"]})
    frame.to_parquet(tmp_path / "f.parquet")
    got = read_facilities(tmp_path / "f.parquet", today=TODAY).frame
    assert got.loc[0, "latitude"] == 30.65 and got.loc[0, "capacity_mw"] == 700.0
    gdf = gpd.GeoDataFrame(frame.drop(columns=["lat", "lon"]), geometry=[Point(-97.0, 30.65)], crs=4326)
    gdf.to_file(tmp_path / "f.geojson", driver="GeoJSON")
    got = read_facilities(tmp_path / "f.geojson", today=TODAY).frame
    assert (got.loc[0, "longitude"], got.loc[0, "latitude"]) == (-97.0, 30.65)


@pytest.mark.integration
def test_ccaf_exports_read_as_they_are() -> None:
    countries = read_hashrate(FIXTURES / "messy" / "ccaf_mining_countries.csv", today=TODAY).frame
    assert countries["country"].tolist() == ["CN", "RU", "US", "IR", "DE", "ZZ"]
    assert countries.loc[0, "share"] == pytest.approx(0.6508)
    assert set(countries["share_of"]) == {"global"} and set(countries["pool"]) == {"CCAF"}
    # CCAF's "0" absolute hashrate means unknown, not zero.
    assert math.isnan(countries.loc[0, "hashrate_ehs"]) and countries.loc[2, "hashrate_ehs"] == 8.5
    provinces = read_hashrate(FIXTURES / "messy" / "ccaf_china_provinces.csv", today=TODAY).frame
    assert provinces["region"].tolist() == ["CN-XJ", "CN-SC", "CN-NM", "CN-YN"]
    assert set(provinces["share_of"]) == {"country"}
    states = read_hashrate(FIXTURES / "messy" / "ccaf_us_states.csv", today=TODAY).frame
    assert states["region"].tolist() == ["US-GA", "US-TX", "US-KY"]
    old = read_hashrate(FIXTURES / "messy" / "ccaf_countries_old.csv", today=TODAY).frame
    assert old["share"].tolist() == pytest.approx([0.7553, 0.0593])


@pytest.mark.integration
def test_generic_pool_file_and_partial_notes() -> None:
    records = read_hashrate(FIXTURES / "messy" / "pool_shares.csv", today=TODAY)
    frame = records.frame
    assert frame["region"].fillna("").tolist() == ["CN-XJ", "CN-SC", "", ""]
    assert frame["hashrate_ehs"].tolist()[:3] == pytest.approx([12.0, 6.0, 3.0])
    assert any("covers 60.00%" in n.message and "not rescaled" in n.message for n in records.notes)


@pytest.mark.integration
def test_kind_is_detected_from_columns() -> None:
    parsed = read_records([FIXTURES / "messy" / "facilities_english.csv", FIXTURES / "messy" / "ccaf_us_states.csv"], today=TODAY)
    assert set(parsed) == {"facilities", "hashrate"}


# -- broken files fail at the right place -----------------------------------------------------------

BROKEN = [
    ("missing_capacity.csv", 1, None, r"expected a column 'capacity_mw'"),
    ("bad_capacity.csv", 3, "capacity_mw", r"expected a capacity in megawatts such as 120 or '120 MW' or '1.2 GW', got 'abc'"),
    ("bad_capacity.csv", 4, "capacity_mw", r"expected a capacity of zero or more megawatts, got '-5'"),
    ("wrong_unit.csv", 2, "capacity_mw", r"got '300,000' = 300,000 MW.*is it in kW"),
    ("bad_latitude.csv", 2, "latitude", r"expected a latitude within \[-90, 90\], got '123.4'"),
    ("duplicate_ids.csv", 3, "facility_id", r"expected a unique facility_id, got 'r1' again \(first on line 2\)"),
    ("duplicate_site.csv", 3, "site", r"expected one figure per operator, site, status and date, got 120 MW here and 100 MW in line 2"),
    ("shares_over_100.csv", 2, "share_%", r"shares of pool 'BTC.com' in 2020-04 \(worldwide\) to sum to at most 100%, got 105.00%"),
    ("bad_dates.csv", 2, "as_of", r"not after today"),
    ("bad_dates.csv", 3, "as_of", r"expected an as-of date as YYYY-MM or YYYY-MM-DD \(or YYYY\), got 'sometime'"),
    ("empty.csv", None, None, r"the file is empty"),
    ("header_only.csv", 1, None, r"has a header but no records"),
    ("latin1.csv", 3, None, r"expected UTF-8 text, got byte b'\\xe9'.*re-save the file as 'CSV UTF-8'"),
    ("binary.csv", None, None, r"expected a text table \(CSV\), got a binary file"),
    ("prose.txt", 1, None, r"expected the columns of a facility file"),
    ("unknown_region.csv", 2, "region", r"unknown region in US: 'Texsa'; did you mean 'Texas \(US-TX\)'"),
    ("empty_status.csv", 2, "status", r"expected a value, got an empty cell; fill in the status"),
    ("share_fraction_as_percent.csv", 2, "share", r"write '65.08%' or name the column 'share_%'"),
    ("half_coordinates.csv", 2, "longitude", r"expected both latitude and longitude"),
]


@pytest.mark.integration
@pytest.mark.parametrize(("name", "line", "column", "message"), BROKEN, ids=[f"{b[0]}:{b[1]}" for b in BROKEN])
def test_broken_file_gets_the_right_error_at_the_right_line(name: str, line: int | None, column: str | None, message: str) -> None:
    path = FIXTURES / "broken" / name
    with pytest.raises(DataError) as err:
        read_records(path, today=TODAY)
    hits = [p for p in err.value.problems if p.line == line and p.column == column]
    assert hits, f"no problem at line {line} column {column}: {[str(p) for p in err.value.problems]}"
    assert any(__import__("re").search(message, p.message) for p in hits), [p.message for p in hits]
    assert all(p.file == str(path) for p in err.value.problems)


@pytest.mark.integration
def test_every_problem_is_reported_not_only_the_first() -> None:
    with pytest.raises(DataError) as err:
        read_records([FIXTURES / "broken" / "bad_capacity.csv", FIXTURES / "broken" / "bad_dates.csv"], today=TODAY)
    assert {(Path(p.file).name, p.line) for p in err.value.problems} == {
        ("bad_capacity.csv", 3), ("bad_capacity.csv", 4), ("bad_dates.csv", 2), ("bad_dates.csv", 3)
    }


@pytest.mark.integration
def test_skip_invalid_sets_rows_aside_with_reasons() -> None:
    records = read_facilities(FIXTURES / "broken" / "bad_capacity.csv", skip_invalid=True, today=TODAY)
    assert len(records.frame) == 1 and records.rows_read == 3
    assert records.rejected["line"].tolist() == [3, 4]
    assert "got 'abc'" in records.rejected["reason"].iloc[0]


def test_two_columns_for_one_meaning(tmp_path: Path, gazetteer) -> None:  # noqa: ANN001
    path = tmp_path / "two.csv"
    path.write_text("operator,company,site,capacity_mw,status,region\na,b,c,1,operational,TX\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected one column for 'operator', got 'operator' and 'company'"):
        read_facilities(path, gazetteer=gazetteer, today=TODAY)


def test_network_hashrate_series(tmp_path: Path) -> None:
    path = tmp_path / "network.csv"
    path.write_text("month,hashrate_ehs\n2020-05,100\n2020-04,110.5\n", encoding="utf-8")
    frame = read_network_hashrate(path, today=TODAY)
    assert frame["month"].tolist() == ["2020-04", "2020-05"] and frame["hashrate_ehs"].tolist() == [110.5, 100.0]
    path.write_text("month,hashrate_ehs\n2020-05,100\n2020-05,101\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected one row per month, got 2020-05 again"):
        read_network_hashrate(path, today=TODAY)


def test_default_gazetteer_is_built_once() -> None:
    assert default_gazetteer() is default_gazetteer()


def test_errors_survive_pickling() -> None:
    import pickle

    from capacitymap.errors import AmbiguousRegionError, Problem

    err = pickle.loads(pickle.dumps(DataError([Problem("f.csv", 3, "mw", "bad"), Problem("f.csv", 4, None, "worse")])))
    assert [str(p) for p in err.problems] == ["f.csv:3:mw: bad", "f.csv:4: worse"]
    amb = pickle.loads(pickle.dumps(AmbiguousRegionError("two", query="Georgia", candidates=("US-GA", "GE"))))
    assert (type(amb), str(amb), amb.query, amb.candidates) == (AmbiguousRegionError, "two", "Georgia", ("US-GA", "GE"))
