"""Points -> regional totals: one placement per point, the nearest rule, the unplaced row, the raster, exactness, both engines."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacitymap.aggregate import (
    WEIGHT_UNITS,
    aggregate,
    aggregate_dask,
    aggregate_points,
    build_region_index,
)
from capacitymap.aggregate import _engines as engines
from capacitymap.aggregate._index import _Memo
from capacitymap.aggregate._raster import BOUNDARY, Raster, _window_any
from capacitymap.aggregate._sums import Workspace
from capacitymap.errors import BoundaryError, CapacityMapError, DataError, OptionError, SchemaError
from capacitymap.io.points import open_points, read_point_part

# Three unit squares: US-NM | US-TX side by side, CA-ON on top of US-TX; admin-0 adds MX elsewhere.
#   y=2 +------+
#       |CA-ON |
#   y=1 +------+------+
#       |US-NM |US-TX |
#   y=0 +------+------+
#      x=-1   x=0    x=1
NM, TX, ON = shapely.box(-1, 0, 0, 1), shapely.box(0, 0, 1, 1), shapely.box(0, 1, 1, 2)


@pytest.fixture(scope="module")
def admin1() -> gpd.GeoDataFrame:
    # Deliberately not in code order: the rule must not depend on row order.
    return gpd.GeoDataFrame(
        {"iso_3166_2": ["US-TX", "CA-ON", "US-NM"], "iso_a2": ["US", "CA", "US"]},
        geometry=[TX, ON, NM],
        crs=4326,
    )


@pytest.fixture(scope="module")
def admin0() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"iso_a2": ["US", "CA", "MX", "MX", "-99"]},
        geometry=[shapely.union(NM, TX), ON, shapely.box(5, 5, 6, 6), shapely.box(7, 5, 8, 6), shapely.box(-5, -5, -4, -4)],
        crs=4326,
    )


def points_frame() -> pd.DataFrame:
    # (lat, lon, weight, month, pool, what)
    rows = [
        (0.5, 0.5, 1.0, "2024-01", "A", "inside US-TX"),
        (0.5, 0.0, 2.0, "2024-01", "A", "NM|TX border -> US-NM"),
        (1.0, 0.5, 4.0, "2024-01", "B", "TX|ON border -> CA-ON"),
        (1.0, 0.0, 8.0, "2024-01", "B", "NM|TX|ON corner -> CA-ON"),
        (5.5, 5.5, 16.0, "2024-02", "A", "MX, no admin-1 -> country row"),
        (5.5, 7.5, 32.0, "2024-02", "A", "MX second polygon -> same country row"),
        (-4.5, -4.5, 64.0, "2024-02", "A", "admin-0 without a code -> ZZ"),
        (40.0, 40.0, 128.0, "2024-02", "B", "sea"),
        (np.nan, 0.5, 256.0, "2024-02", "B", "NaN latitude"),
        (0.5, np.nan, 512.0, "2024-01", "A", "NaN longitude"),
        (0.0, -1.0, 1024.0, "2024-01", "A", "corner of US-NM"),
        (2.0, 1.0, 2048.0, "2024-01", "A", "corner of CA-ON"),
    ]
    frame = pd.DataFrame(rows, columns=["latitude", "longitude", "th", "month", "pool", "what"])
    return frame.drop(columns="what")


def write_parquet(frame: pd.DataFrame, path, row_group_size: int = 3) -> str:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return str(path)


# --- border rule, fallback, the unplaced row, report ----------------------------------------------


def test_border_points_go_to_the_code_that_sorts_first(admin1, admin0):
    index = build_region_index(admin1, admin0)
    f = points_frame()
    placed = index.place(f["latitude"], f["longitude"])
    got = placed["region"].astype(object).where(placed["region"].notna(), placed["placement"]).tolist()
    assert got[:4] == ["US-TX", "US-NM", "CA-ON", "CA-ON"]
    assert got[10:] == ["US-NM", "CA-ON"]
    assert got[7:10] == ["unplaced", "nan", "nan"]
    assert placed["country"].tolist()[4:10] == ["MX", "MX", "ZZ", "ZZ", "ZZ", "ZZ"]
    target = index.locate(f["latitude"], f["longitude"])
    assert target[7] == index.outside and target[8] == index.nan and target[9] == index.nan


def test_table_and_report_at_admin1(admin1, admin0):
    table, report = aggregate_points([points_frame()], build_region_index(admin1, admin0), weight="th", by=["month"])
    assert list(table.columns) == ["month", "country", "region", "share", "share_of", "hashrate_ehs", "points"]
    jan = table[table["month"] == "2024-01"].set_index("region")
    total_jan = 1 + 2 + 4 + 8 + 512 + 1024 + 2048
    assert jan.loc["US-NM", "hashrate_ehs"] == pytest.approx((2 + 1024) * 1e-6)
    assert jan.loc["CA-ON", "points"] == 3
    assert jan.loc["CA-ON", "share"] == (4 + 8 + 2048) / total_jan
    feb = table[table["month"] == "2024-02"]
    assert feb["region"].isna().all()
    # MX has no admin-1: a country row. ZZ: the admin-0 polygon without a code, the sea point and a NaN point.
    assert feb.set_index("country")["hashrate_ehs"].to_dict() == pytest.approx({"MX": 48e-6, "ZZ": (64 + 128 + 256) * 1e-6})
    assert feb.set_index("country")["points"].to_dict() == {"MX": 2, "ZZ": 3}
    assert (table["share_of"] == "global").all()
    rep = report.groups.set_index("month")
    assert rep.loc["2024-01", "nan_points"] == 1 and rep.loc["2024-01", "nan_hashrate_ehs"] == pytest.approx(512e-6)
    assert rep.loc["2024-02", "outside_points"] == 1 and rep.loc["2024-02", "outside_hashrate_ehs"] == pytest.approx(128e-6)
    assert rep.loc["2024-02", "country_points"] == 3
    assert report.points == 12 and report.placed_points == 9
    assert report.points_of("outside") == 1 and report.points_of("nan") == 2 and report.unplaced_points == 3
    # Every point is in the table, so each group's shares sum to 1; the report keeps the fates apart.
    assert table["points"].sum() == 12
    for _, group in table.groupby("month"):
        assert group["share"].sum() == pytest.approx(1.0, abs=1e-15)
    zz_jan = table[(table["month"] == "2024-01") & (table["country"] == "ZZ")]
    assert zz_jan["points"].tolist() == [1] and zz_jan["share"].iloc[0] == 512 / total_jan
    assert "NaN coordinates" in report.summary() and "12 points" in report.summary() and "unplaced row" in report.summary()


def test_level_country_places_points_as_admin1_does(admin1, admin0):
    table, report = aggregate_points([points_frame()], build_region_index(admin1, admin0, level="country"), weight="th")
    assert table["region"].isna().all()
    assert table.set_index("country")["points"].to_dict() == {"CA": 3, "MX": 2, "US": 3, "ZZ": 4}  # CA-ON sorts first on the border
    assert report.groups["country_points"].sum() == 9 and report.groups["region_points"].sum() == 0


def test_admin1_without_admin0_counts_uncovered_countries_as_unplaced(admin1):
    table, report = aggregate_points([points_frame()], build_region_index(admin1), weight="th")
    assert report.points_of("outside") == 4 and report.placed_points == 6
    assert table.set_index("country").loc["ZZ", "points"] == 6  # 4 outside + 2 NaN


def test_admin0_polygons_of_countries_with_admin1_are_not_used(admin1):
    # A coarse admin-0 "US" that reaches into Canada's region and beyond: the admin-1 layer says the
    # country wherever it covers a point; the admin-0 US polygon is not used at all.
    coarse = gpd.GeoDataFrame({"iso_a2": ["US", "HK"]}, geometry=[shapely.box(-1, 0, 1, 1.5), shapely.box(0.5, 0.5, 0.7, 0.7)], crs=4326)
    lat, lon = [1.25, 0.6, 0.6, 3.0], [0.5, 0.6, -0.5, 0.5]
    for level in ("admin1", "country"):
        placed = build_region_index(admin1, coarse, level=level).place(lat, lon)
        assert placed["country"].tolist() == ["CA", "US", "US", "ZZ"], level
        assert placed["placement"].tolist() == ["point", "point", "point", "unplaced"], level


def test_the_nearest_rule_within_25_km(admin1, admin0):
    index = build_region_index(admin1, admin0)
    # 0.1 degree east of US-TX at the equator is about 11 km; 0.3 degree about 33 km.
    placed = index.place([0.5, 0.5, -0.1], [1.1, 1.3, 5.5])
    assert placed["region"].tolist()[:1] == ["US-TX"] and placed["placement"].tolist() == ["nearest", "unplaced", "unplaced"]
    assert placed["distance_km"].iloc[0] == pytest.approx(11.13, abs=0.01)
    # An uncovered country (MX, admin-0 only) is a target of the rule too: 0.1 degree below its square.
    assert index.place([4.9], [5.5])[["country", "placement"]].values.tolist() == [["MX", "nearest"]]
    # Equal distances go to the code that sorts first: below the NM|TX corner.
    assert index.place([-0.1], [0.0])["region"].tolist() == ["US-NM"]
    frame = pd.DataFrame({"latitude": [0.5, 0.5], "longitude": [1.1, 1.3], "w": [1.0, 2.0]})
    table, report = aggregate_points([frame], index, weight="w")
    assert report.points_of("nearest") == 1 and report.points_of("region") == 1 and report.points_of("outside") == 1
    assert table.set_index("country")["share"].to_dict() == {"US": 1 / 3, "ZZ": 2 / 3}
    narrow = build_region_index(admin1, admin0, tolerance_km=5)
    assert narrow.place([0.5], [1.1])["placement"].tolist() == ["unplaced"]
    assert "within 25 km" in report.summary()


def test_weight_units_convert_to_ehs(admin1):
    frame = pd.DataFrame({"latitude": [0.5], "longitude": [0.5], "w": [3.0]})
    index = build_region_index(admin1)
    got = {u: aggregate_points([frame], index, weight="w", weight_unit=u)[0]["hashrate_ehs"].iloc[0] for u in WEIGHT_UNITS}
    assert got == {"H/s": 3e-18, "TH/s": 3e-6, "PH/s": 3e-3, "EH/s": 3.0}


def test_sums_are_exact_and_independent_of_batching(admin1):
    # 0.1 + 0.2 + 0.3 in floats depends on the order; the exact sum does not.
    w = np.array([1e16, 1.0, -0.0, 0.1, 0.2, 0.3, 5e-324, 1e-300, 1e300, 3.3e-17] * 50)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"latitude": 0.5, "longitude": 0.5, "w": rng.permutation(w)})
    index = build_region_index(admin1)
    one, _ = aggregate_points([frame], index, weight="w", weight_unit="EH/s")
    many, _ = aggregate_points([frame.iloc[i : i + 7] for i in range(0, len(frame), 7)], index, weight="w", weight_unit="EH/s")
    pd.testing.assert_frame_equal(one, many)
    exact = math.fsum(w)
    assert one["hashrate_ehs"].iloc[0] == exact


# --- conservation and one truth (hypothesis) ----------------------------------------------------

coordinate = st.one_of(st.floats(-1.5, 2.5), st.sampled_from([-1.0, 0.0, 1.0, 2.0, 0.5, 1.1, -1.2]), st.just(float("nan")))
record = st.tuples(coordinate, coordinate, st.floats(0, 1e6), st.sampled_from(["a", "b", None]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(record, min_size=1, max_size=40), split=st.integers(1, 10))
def test_every_point_and_all_weight_is_accounted_for(admin1, admin0, records, split):
    frame = pd.DataFrame(records, columns=["latitude", "longitude", "w", "pool"])
    index = build_region_index(admin1, admin0)
    batches = [frame.iloc[i : i + split] for i in range(0, len(frame), split)]
    table, report = aggregate_points(batches, index, weight="w", by=["pool"], weight_unit="EH/s")
    g = report.groups
    assert g["total_points"].sum() == len(frame)
    assert (g["region_points"] + g["country_points"] + g["outside_points"] + g["nan_points"] == g["total_points"]).all()
    assert (g["nearest_points"] <= g["region_points"] + g["country_points"]).all()
    assert table["points"].sum() == report.points == len(frame)
    placed = g["region_hashrate_ehs"] + g["country_hashrate_ehs"]
    assert np.allclose(placed + g["outside_hashrate_ehs"] + g["nan_hashrate_ehs"], g["total_hashrate_ehs"], rtol=1e-12, atol=0)
    assert g["total_hashrate_ehs"].sum() == pytest.approx(math.fsum(frame["w"]), rel=1e-12, abs=0)
    nan_pts = int((frame["latitude"].isna() | frame["longitude"].isna()).sum())
    assert report.points_of("nan") == nan_pts
    # A group whose weight is all zero has no shares (NaN), not a division by zero; the others sum to 1.
    totals = frame.groupby(frame["pool"].fillna("<NA>"))["w"].sum()
    zero = (table["pool"].astype(object).fillna("<NA>").map(totals) == 0).to_numpy()
    assert table["share"].isna().to_numpy().tolist() == zero.tolist()
    for _, group in table[~zero].groupby(table["pool"].astype(object).fillna("<NA>")):
        assert group["share"].sum() == pytest.approx(1.0, abs=1e-12)


# A covered country whose coarse admin-0 polygon disagrees with its admin-1 regions, an uncovered
# country overlapping a region (as Hong Kong's 1:50m polygon overlaps Guangdong at 1:10m), a gap
# between regions, and an admin-0 polygon without a code.
TRUTH_ADMIN0 = gpd.GeoDataFrame(
    {"iso_a2": ["US", "HK", "MX", "-99"]},
    geometry=[shapely.box(-1.2, -0.1, 1.1, 1.05), shapely.box(0.8, 0.8, 1.4, 1.4), shapely.box(1.5, 0, 2.5, 1), shapely.box(-1, 2.2, 0, 2.6)],
    crs=4326,
)
truth_point = st.tuples(st.one_of(st.floats(-0.5, 3.0), st.sampled_from([0.0, 1.0, 2.0, 0.8, 1.5, 2.2])),
                        st.one_of(st.floats(-1.6, 2.8), st.sampled_from([-1.0, 0.0, 1.0, 1.5, 2.5, 1.4])),
                        st.floats(0, 1e3), st.sampled_from(["2024-01", "2024-02"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(truth_point, min_size=1, max_size=40))
def test_country_totals_are_the_same_at_both_levels(admin1, records):
    frame = pd.DataFrame(records, columns=["latitude", "longitude", "w", "month"])
    by_country, _ = aggregate_points([frame], build_region_index(admin1, TRUTH_ADMIN0, level="country"), weight="w", by=["month"])
    by_region, _ = aggregate_points([frame], build_region_index(admin1, TRUTH_ADMIN0, level="admin1"), weight="w", by=["month"])
    assert by_country["region"].isna().all()
    summed = by_region.groupby(["month", "country"], observed=True)[["hashrate_ehs", "points"]].sum()
    direct = by_country.set_index(["month", "country"])[["hashrate_ehs", "points"]]
    pd.testing.assert_index_equal(direct.index, summed.index)
    assert (direct["points"] == summed["points"]).all()
    np.testing.assert_allclose(direct["hashrate_ehs"].to_numpy(), summed["hashrate_ehs"].to_numpy(), rtol=1e-12, atol=0)


# --- the raster never changes an answer ---------------------------------------------------------


def _without_raster(index):
    """The same index with a raster of one boundary cell: every point takes the exact path."""
    copy = index.copy_for_thread()
    copy.placer.raster = Raster(0.0, 0.0, 1e-9, 1e-9, 1, 1, np.full(1, BOUNDARY, np.int16))
    copy.placer.memo = _Memo()
    return copy


edge_coordinate = st.one_of(st.floats(-1.6, 2.6), st.sampled_from([-1.0, 0.0, 1.0, 2.0, 1.225, -1.225, 0.5]),
                            st.integers(-1600, 2600).map(lambda i: i / 1000))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=st.lists(st.tuples(edge_coordinate, edge_coordinate), min_size=1, max_size=50), cells=st.sampled_from([16, 400, 10_000]))
def test_the_raster_agrees_with_the_exact_test(admin1, admin0, points, cells):
    lat, lon = np.array(points).T
    index = build_region_index(admin1, admin0, max_cells=cells)
    np.testing.assert_array_equal(index.locate(lat, lon), _without_raster(index).locate(lat, lon))


# --- io.points and both engines ----------------------------------------------------------------


def test_parquet_and_csv_read_the_same(tmp_path):
    frame = points_frame()
    pq_path = write_parquet(frame, tmp_path / "p.parquet")
    csv_path = tmp_path / "p.csv"
    frame.to_csv(csv_path, index=False)
    src_pq = open_points([pq_path], weight="th", by=["month", "pool"], batch_size=2)
    src_csv = open_points(csv_path, weight="th", by=["month", "pool"])
    assert src_pq.rows == 12 and src_csv.rows is None
    assert len(src_pq.parts) == 4  # row groups of 3
    a = pd.concat([b.frame for b in src_pq.batches()], ignore_index=True)
    b = pd.concat([b.frame for b in src_csv.batches()], ignore_index=True)
    pd.testing.assert_frame_equal(a.astype({"month": str, "pool": str}), b.astype({"month": str, "pool": str}))
    firsts = [b.first_line for b in read_point_part(src_pq.parts[1], weight="th", batch_size=2)]
    assert firsts == [4, 6]


def test_month_dates_become_year_month_text(tmp_path):
    frame = pd.DataFrame({"latitude": [0.5], "longitude": [0.5], "th": [1.0], "month": pd.to_datetime(["2024-03-17"])})
    src = open_points(write_parquet(frame, tmp_path / "d.parquet"), weight="th", by=["month"])
    assert next(src.batches()).frame["month"].tolist() == ["2024-03"]


def test_dask_engine_on_a_two_worker_local_cluster_matches_incore(tmp_path, admin1, admin0):
    frame = points_frame()
    paths = [write_parquet(frame, tmp_path / "a.parquet"), write_parquet(frame.iloc[::-1], tmp_path / "b.parquet", 5)]
    frame.to_csv(tmp_path / "c.csv", index=False)
    source = open_points([*paths, tmp_path / "c.csv"], weight="th", by=["month", "pool"], batch_size=4)
    incore = aggregate(source, admin1, admin0, engine="incore")
    index = build_region_index(admin1, admin0)
    dask_result = aggregate_dask(source, index, scheduler=None, n_workers=2)
    pd.testing.assert_frame_equal(incore[0], dask_result[0])
    pd.testing.assert_frame_equal(incore[1].groups, dask_result[1].groups)
    assert incore[1].points == 36


def test_region_index_survives_pickling(admin1, admin0):
    index = build_region_index(admin1, admin0)
    again = pickle.loads(pickle.dumps(index))
    f = points_frame()
    np.testing.assert_array_equal(index.locate(f.latitude, f.longitude), again.locate(f.latitude, f.longitude))


# --- error paths -------------------------------------------------------------------------------


def test_bad_weights_and_coordinates_are_located(admin1):
    index = build_region_index(admin1)
    frame = pd.DataFrame({"latitude": [0.5, 95.0, 0.5], "longitude": [0.5, 0.5, 200.0], "w": [-1.0, 1.0, np.nan]})
    with pytest.raises(DataError, match=r"<points>:1:w: expected a finite hashrate >= 0, got -1\.0") as err:
        aggregate_points([frame], index, weight="w")
    text = str(err.value)
    assert "<points>:3:w" in text and "<points>:2:latitude: expected a latitude in [-90, 90]" in text
    assert "<points>:3:longitude" in text and "reproject to EPSG:4326" in text


def test_many_bad_rows_are_summarised(admin1):
    frame = pd.DataFrame({"latitude": 0.5, "longitude": 0.5, "w": [-1.0] * 25})
    with pytest.raises(DataError, match="15 more rows like these"):
        aggregate_points([frame], build_region_index(admin1), weight="w")


def test_bad_weight_in_a_parquet_file_names_file_and_row(tmp_path, admin1, admin0):
    frame = points_frame()
    frame.loc[7, "th"] = -5.0
    source = open_points(write_parquet(frame, tmp_path / "bad.parquet"), weight="th")
    with pytest.raises(DataError, match=r"bad\.parquet:8:th: expected a finite hashrate"):
        aggregate(source, admin1, admin0)
    with pytest.raises(DataError, match=r"bad\.parquet:8:th: expected a finite hashrate"):
        aggregate_dask(source, build_region_index(admin1, admin0))


def test_missing_columns_in_a_batch(admin1):
    with pytest.raises(DataError, match=r"expected columns \['w'\]"):
        aggregate_points([pd.DataFrame({"latitude": [1.0], "longitude": [1.0]})], build_region_index(admin1), weight="w")


def test_open_points_errors(tmp_path):
    frame = points_frame()
    good = write_parquet(frame, tmp_path / "p.parquet")
    with pytest.raises(SchemaError, match=r"p\.parquet: expected columns \['hashrate'\], got columns"):
        open_points(good, weight="hashrate")
    with pytest.raises(DataError, match=r"expected a \.parquet or \.csv point file, got suffix '\.txt'"):
        open_points(tmp_path / "p.txt", weight="th")
    with pytest.raises(DataError, match="expected an existing point file"):
        open_points(tmp_path / "nope.csv", weight="th")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read as parquet"):
        open_points(tmp_path / "junk.parquet", weight="th")
    with pytest.raises(DataError, match="expected at least one point file"):
        open_points([], weight="th")
    with pytest.raises(ValueError, match="batch_size: expected a positive number"):
        open_points(good, weight="th", batch_size=0)


def test_text_in_a_numeric_column(tmp_path, admin1):
    frame = pd.DataFrame({"latitude": ["x"], "longitude": [1.0], "th": [1.0]})
    src = open_points(write_parquet(frame, tmp_path / "t.parquet"), weight="th")
    with pytest.raises(DataError, match=r"t\.parquet:latitude: expected a numeric column, got Arrow type '(large_)?string'"):
        list(src.batches())
    (tmp_path / "t.csv").write_text("latitude,longitude,th\n1,abc,2\n")
    with pytest.raises(DataError, match=r"t\.csv:2:longitude: expected a number, got .abc."):
        list(open_points(tmp_path / "t.csv", weight="th").batches())


def test_option_errors(tmp_path, admin1, admin0):
    source = open_points(write_parquet(points_frame(), tmp_path / "p.parquet"), weight="th")
    index = build_region_index(admin1)
    with pytest.raises(OptionError, match=r"weight unit: expected one of .*got 'GH/s'"):
        aggregate_points([], index, weight="th", weight_unit="GH/s")
    with pytest.raises(OptionError, match=r"--by: expected group columns such as month and pool, got the coordinate column 'latitude'"):
        aggregate_points([], index, weight="th", by=["latitude"])
    with pytest.raises(OptionError, match=r"--by: .*got the weight column 'th'"):
        aggregate_points([], index, weight="th", by=["th"])
    with pytest.raises(OptionError, match=r"--by: .*got 'share', a column of the output table; rename that input column"):
        aggregate_points([], index, weight="th", by=["share"])
    with pytest.raises(OptionError, match=r"--by: expected each group column once, got \['pool'\]"):
        aggregate_points([], index, weight="th", by=["pool", "pool"])
    with pytest.raises(OptionError, match=r"engine: expected one of .*got 'spark'"):
        aggregate(source, admin1, admin0, engine="spark")
    with pytest.raises(OptionError, match=r"scheduler: expected None with engine 'incore'"):
        aggregate(source, admin1, admin0, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(OptionError, match=r"level: expected one of .*got 'county'"):
        build_region_index(admin1, admin0, level="county")
    with pytest.raises(OptionError, match=r"tolerance_km: expected a distance >= 0 in km, got -1"):
        build_region_index(admin1, admin0, tolerance_km=-1)
    # Every one of them is a CapacityMapError (and a ValueError, as before).
    assert issubclass(OptionError, CapacityMapError) and issubclass(OptionError, ValueError)


def test_text_weights_in_a_frame_name_the_row(admin1):
    frame = pd.DataFrame({"latitude": [0.5, 0.5], "longitude": [0.5, 0.5], "w": ["1.5", "lots"]})
    with pytest.raises(DataError, match=r"<points>:2:w: expected a number \(a hashrate\), got 'lots'; store numbers, not text"):
        aggregate_points([frame], build_region_index(admin1), weight="w")


def test_unreachable_scheduler(tmp_path, admin1):
    source = open_points(write_parquet(points_frame(), tmp_path / "p.parquet"), weight="th")
    with pytest.raises(DataError, match=r"expected a reachable Dask scheduler, got 'tcp://127\.0\.0\.1:9'"):
        aggregate_dask(source, build_region_index(admin1), scheduler="tcp://127.0.0.1:9", connect_timeout=1)


def test_boundary_layer_errors(admin1, admin0):
    with pytest.raises(BoundaryError, match="level 'admin1' expected an admin-1 layer, got None"):
        build_region_index(None, admin0)
    with pytest.raises(BoundaryError, match="level 'country' expected an admin-0 layer, got None"):
        build_region_index(admin1, None, level="country")
    with pytest.raises(BoundaryError, match=r"expected columns \['iso_3166_2'\]"):
        build_region_index(admin1.drop(columns="iso_3166_2"))
    with pytest.raises(BoundaryError, match="expected a GeoDataFrame, got 'DataFrame'"):
        build_region_index(pd.DataFrame({"iso_3166_2": ["X"], "iso_a2": ["X"]}))
    with pytest.raises(BoundaryError, match="expected EPSG:4326, got 'EPSG:3857'"):
        build_region_index(admin1.set_crs(3857, allow_override=True))
    with pytest.raises(BoundaryError, match=r"expected unique iso_3166_2 codes, got duplicates \['US-TX'\]"):
        build_region_index(pd.concat([admin1, admin1.iloc[:1]]))
    with pytest.raises(BoundaryError, match="expected Polygon or MultiPolygon geometries"):
        build_region_index(admin1.set_geometry(admin1.representative_point()))


def test_frames_bigger_than_the_exact_bincount_limit_are_cut(admin1, monkeypatch):
    import capacitymap.aggregate._engines as engines

    frame = pd.DataFrame({"latitude": [0.5] * 10, "longitude": [0.5] * 9 + [5.0], "w": np.arange(10.0)})
    whole, _ = aggregate_points([frame], build_region_index(admin1), weight="w")
    monkeypatch.setattr(engines, "MAX_PARTIAL_ROWS", 3)
    cut, report = aggregate_points([frame], build_region_index(admin1), weight="w")
    pd.testing.assert_frame_equal(whole, cut)
    assert report.points_of("outside") == 1 and report.hashrate_ehs_of("outside") == pytest.approx(9e-6)


def test_progress_callback_and_bar(admin1, capsys):
    seen: list[int] = []
    frame = points_frame()
    batches = [frame.iloc[:5], frame.iloc[5:]]
    aggregate_points(batches, build_region_index(admin1), weight="th", progress=seen.append)
    assert sorted(seen) == [5, 7]
    aggregate_points(batches, build_region_index(admin1), weight="th", quiet=False, total=12, threads=1)
    assert "aggregate" in capsys.readouterr().err
    aggregate_points(batches, build_region_index(admin1), weight="th")
    assert capsys.readouterr().err == ""


def test_threads_must_be_positive(admin1):
    with pytest.raises(ValueError, match="threads: expected 1 or more, got 0"):
        aggregate_points([], build_region_index(admin1), weight="th", threads=0)


def test_progress_line_needs_no_third_party_package(tmp_path):
    # tqdm (the scale extra) is not installed for this run: aggregate still shows its progress line.
    frame = points_frame()
    path = write_parquet(frame, tmp_path / "p.parquet")
    code = (
        "import sys; sys.modules['tqdm'] = None; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
        "import geopandas as gpd, shapely\n"
        "from capacitymap.aggregate import aggregate_points, build_region_index\n"
        "from capacitymap.io.points import open_points\n"
        "a1 = gpd.GeoDataFrame({'iso_3166_2': ['US-TX'], 'iso_a2': ['US']}, geometry=[shapely.box(0, 0, 1, 1)], crs=4326)\n"
        f"src = open_points({str(path)!r}, weight='th', by=['month'])\n"
        "table, report = aggregate_points(src.batches(), build_region_index(a1), weight='th', by=['month'], quiet=False, total=src.rows)\n"
        "print(report.points)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env={"PYTHONPATH": str(Path(__file__).parents[1] / "src"), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "12"
    assert "aggregate: 12/12 points (100%)" in out.stderr and "Traceback" not in out.stderr


def test_dask_engine_without_dask_is_a_clean_error(tmp_path, admin1, monkeypatch):
    source = open_points(write_parquet(points_frame(), tmp_path / "p.parquet"), weight="th")
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(OptionError, match=r"engine 'dask' expected dask.distributed to be installed.*pip install 'capacitymap\[scale\]'"):
        aggregate_dask(source, build_region_index(admin1))


# --- the command line ----------------------------------------------------------------------------


def _cli(*args):
    from capacitymap.cli import main

    return CliRunner().invoke(main, ["aggregate", *map(str, args)], catch_exceptions=False)


@pytest.mark.integration
def test_cli_errors_are_messages_not_tracebacks(tmp_path):
    frame = pd.DataFrame({"latitude": [31.0, 45.0], "longitude": [-99.0, -72.0], "w": [1.0, 2.0], "pool": ["P", "Q"]})
    csv = tmp_path / "pts.csv"
    frame.to_csv(csv, index=False)
    out = tmp_path / "o.csv"
    result = _cli(csv, "--weight", "w", "--by", "latitude", "-o", out)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--by: expected group columns such as month and pool, got the coordinate column 'latitude'" in result.output
    result = _cli(csv, "--weight", "w", "--by", "month", "-o", out)
    assert result.exit_code == 1 and "pts.csv:1: expected columns ['month']" in result.output
    result = _cli(csv, "--weight", "pool", "-o", out)
    assert result.exit_code == 1 and "pts.csv:2:pool: expected a number, got 'P'" in result.output and "numeric column" in result.output
    (tmp_path / "text.csv").write_text("latitude,longitude,w\n31,-99,1\n31,-99,many\n")
    result = _cli(tmp_path / "text.csv", "--weight", "w", "-o", out)
    assert result.exit_code == 1 and "text.csv" in result.output and "Traceback" not in result.output
    assert not out.exists()
    result = _cli(csv, "--weight", "w", "-o", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["share"].sum() == pytest.approx(1.0)


# --- the shipped layers: border and coast cases ------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    from capacitymap.io.boundaries import read_admin0, read_admin1

    return read_admin1(), read_admin0()


@pytest.mark.integration
@pytest.mark.parametrize("level", ["admin1", "country"])
def test_coast_and_border_cases_on_the_shipped_layers(shipped, level):
    index = build_region_index(*shipped, level=level)
    cases = [  # (lat, lon, country, region, placement)
        (40.7143, -74.0060, "US", "US-NY", "point"),  # New York City
        (22.5455, 114.0683, "CN", "CN-GD", "point"),  # Shenzhen, not Hong Kong
        (22.2793, 114.1628, "HK", None, "point"),  # Hong Kong itself (no admin-1 in the layer)
        (5.9749, 116.0724, "MY", "MY-12", "nearest"),  # Kota Kinabalu, 2 km from Sabah's polygon
        (40.3, -73.6, "ZZ", None, "unplaced"),  # 31 km south of Long Island
    ]
    placed = index.place([c[0] for c in cases], [c[1] for c in cases])
    assert placed["country"].tolist() == [c[2] for c in cases]
    assert placed["placement"].tolist() == [c[4] for c in cases]
    want = [c[3] if level == "admin1" else None for c in cases]
    assert [None if pd.isna(r) else r for r in placed["region"]] == want
    assert placed["distance_km"].iloc[3] == pytest.approx(2.0, abs=0.1)
    wide = build_region_index(*shipped, level=level, tolerance_km=40)
    assert wide.place([40.3], [-73.6])["distance_km"].iloc[0] == pytest.approx(31.5, abs=0.5)


@pytest.mark.integration
def test_the_raster_agrees_with_the_exact_test_on_the_shipped_layers(shipped):
    index = build_region_index(*shipped)
    rng = np.random.default_rng(7)
    n = 20_000
    lat, lon = rng.uniform(-60, 80, n), rng.uniform(-180, 180, n)
    # and points around coasts and borders: the layers' own vertices, nudged
    xy = shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(shipped[0].geometry.values)))
    pick = xy[rng.integers(0, len(xy), n)] + rng.normal(0, 0.02, (n, 2))
    lat, lon = np.r_[lat, pick[:, 1], xy[:2000, 1]], np.r_[lon, pick[:, 0], xy[:2000, 0]]
    np.testing.assert_array_equal(index.locate(lat, lon), _without_raster(index).locate(lat, lon))


# --- the fast path's pieces -----------------------------------------------------------------------


def test_the_memo_remembers_exactly_what_it_was_told():
    memo = _Memo(capacity=5000)
    rng = np.random.default_rng(3)
    # Few distinct values, so keys collide in their hash slots and the table grows several times.
    x, y = rng.integers(-50, 50, 4000) / 4.0, rng.integers(-50, 50, 4000) / 4.0
    keys = np.unique(x + 1j * y)
    kx, ky = keys.real.copy(), keys.imag.copy()
    target = rng.integers(0, 1000, len(keys))
    km = rng.random(len(keys))
    half = len(keys) // 2
    memo.insert(kx[:half], ky[:half], target[:half], km[:half])
    memo.insert(kx, ky, target, km)  # the first half again: kept once
    assert len(memo) == len(keys)
    found, got, dist = memo.lookup(kx, ky)
    assert found.all() and (got == target).all() and (dist == km).all()
    found, _, _ = memo.lookup(kx + 0.125, ky)  # never told
    assert not found[~np.isin(kx + 0.125 + 1j * ky, keys)].any()
    full = _Memo(capacity=10)
    full.insert(kx, ky, target, km)
    assert len(full) == 10 and full.lookup(kx, ky)[0].sum() == 10


@settings(max_examples=200, deadline=None)
@given(rows=st.integers(1, 30), cols=st.integers(1, 4), k=st.integers(0, 40), seed=st.integers(0, 1000))
def test_window_any_covers_every_window(rows, cols, k, seed):
    a = np.random.default_rng(seed).random((rows, cols)) < 0.15
    got = _window_any(a, k)
    exact = np.array([a[max(0, i - k): i + k + 1].any(axis=0) for i in range(rows)])
    assert not (exact & ~got).any()  # never misses a cell (more only near the start: safe)
    assert (got[k:] == exact[k:]).all()


def test_the_batch_lookup_agrees_with_locate(admin1, admin0):
    index = build_region_index(admin1, admin0, max_cells=400)
    rng = np.random.default_rng(5)
    n = 5000
    lat, lon = rng.uniform(-6, 7, n), rng.uniform(-6, 9, n)  # the grid ends ~0.5 degrees beyond the polygons
    lat[rng.random(n) < 0.05] = np.nan
    lon[rng.random(n) < 0.05] = np.nan
    want = index.locate(lat, lon)
    ranges = engines._check_batch("<t>", 1, lat, lon, np.ones(n), "w")
    assert (engines._targets(index, lat, lon, ranges, Workspace()) == want).all()
    inner = (np.abs(lat - 0.5) < 1) & (np.abs(lon) < 1)  # all on the grid: the fast path itself
    ranges = engines._check_batch("<t>", 1, lat[inner], lon[inner], np.ones(inner.sum()), "w")
    assert (engines._targets(index, lat[inner], lon[inner], ranges, Workspace()) == want[inner]).all()


def test_sums_do_not_depend_on_chunks(admin1, admin0, monkeypatch):
    rng = np.random.default_rng(9)
    n = 3000
    w = rng.choice([0.0, 5e-324, 1e-300, 0.1, 0.3, 7.0, 1e16, 1e300], n) * rng.random(n)
    frame = pd.DataFrame({"latitude": rng.uniform(-0.5, 2.5, n), "longitude": rng.uniform(-1.5, 1.5, n), "w": w,
                          "pool": rng.choice(["a", "b", "c"], n)})
    index = build_region_index(admin1, admin0)
    whole, _ = aggregate_points([frame], index, weight="w", by=["pool"], weight_unit="EH/s")
    monkeypatch.setattr(engines, "_CHUNK", 7)
    chunked, _ = aggregate_points([frame.iloc[i: i + 500] for i in range(0, n, 500)], index, weight="w", by=["pool"], weight_unit="EH/s")
    pd.testing.assert_frame_equal(whole, chunked)
    for pool, part in frame.groupby("pool"):
        assert whole.loc[whole["pool"] == pool, "hashrate_ehs"].sum() == pytest.approx(math.fsum(part["w"]), rel=1e-12)


def test_points_get_the_facilities_nearest_rule_exact_in_metres(tmp_path: Path) -> None:
    """20 km off the Yukon and Nunavut coasts (69N): placed, as tests/test_join.py places facilities there."""
    from capacitymap import api

    path = tmp_path / "arctic.csv"
    pd.DataFrame({"latitude": [69.432, 68.539], "longitude": [-138.0, -95.208], "w": [1.0, 1.0]}).to_csv(path, index=False)
    table, report = api.aggregate_files([path], weight="w", weight_unit="TH/s", level="admin1", by=(), engine="incore", quiet=True)
    assert sorted(table["region"]) == ["CA-NU", "CA-YT"]
    assert "2 points" in report.summary() and "nearest region" in report.summary()

