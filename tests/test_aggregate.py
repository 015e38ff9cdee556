"""Points → regional totals: border rule, fallback, report, exactness, both engines."""

from __future__ import annotations

import math
import pickle

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacitymap.aggregate import (
    ENGINES,
    LEVELS,
    WEIGHT_UNITS,
    aggregate,
    aggregate_dask,
    aggregate_points,
    build_region_index,
)
from capacitymap.errors import BoundaryError, DataError, SchemaError
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


# --- border rule, fallback, report ------------------------------------------------------------


def test_border_points_go_to_the_code_that_sorts_first(admin1, admin0):
    index = build_region_index(admin1, admin0)
    f = points_frame()
    target = index.locate(f["latitude"].to_numpy(), f["longitude"].to_numpy())
    labels = index.labels
    got = [labels["region"].iloc[index.label_of[t]] if index.label_of[t] >= 0 else t for t in target]
    assert got[:4] == ["US-TX", "US-NM", "CA-ON", "CA-ON"]
    assert got[10:] == ["US-NM", "CA-ON"]
    assert got[7] == index.outside and got[8] == index.nan and got[9] == index.nan


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
    assert feb.set_index("country")["hashrate_ehs"].to_dict() == pytest.approx({"MX": 48e-6, "ZZ": 64e-6})
    assert (table["share_of"] == "global").all()
    rep = report.groups.set_index("month")
    assert rep.loc["2024-01", "nan_points"] == 1 and rep.loc["2024-01", "nan_hashrate_ehs"] == pytest.approx(512e-6)
    assert rep.loc["2024-02", "outside_points"] == 1 and rep.loc["2024-02", "outside_hashrate_ehs"] == pytest.approx(128e-6)
    assert rep.loc["2024-02", "country_points"] == 3
    assert report.points == 12 and report.matched_points == 9
    assert report.outside_points == 1 and report.nan_points == 2
    # Shares sum to matched / total weight; the rest is visible in the report.
    for month, group in table.groupby("month"):
        r = rep.loc[month]
        assert group["share"].sum() == pytest.approx((r.region_hashrate_ehs + r.country_hashrate_ehs) / r.total_hashrate_ehs)
    assert "NaN coordinates" in report.summary() and "12 points" in report.summary()


def test_level_country_ignores_admin1(admin1, admin0):
    table, report = aggregate_points([points_frame()], build_region_index(admin1, admin0, level="country"), weight="th")
    assert table["region"].isna().all()
    assert table.set_index("country")["points"].to_dict() == {"CA": 3, "MX": 2, "US": 3, "ZZ": 1}  # CA sorts first on the border
    assert report.groups["country_points"].sum() == 9 and report.groups["region_points"].sum() == 0


def test_admin1_without_admin0_counts_uncovered_countries_as_outside(admin1):
    _, report = aggregate_points([points_frame()], build_region_index(admin1), weight="th")
    assert report.outside_points == 4 and report.matched_points == 6


def test_weight_units_convert_to_ehs(admin1):
    frame = pd.DataFrame({"latitude": [0.5], "longitude": [0.5], "w": [3.0]})
    index = build_region_index(admin1)
    got = {u: aggregate_points([frame], index, weight="w", weight_unit=u)[0]["hashrate_ehs"].iloc[0] for u in WEIGHT_UNITS}
    assert got == {"H/s": 3e-18, "TH/s": 3e-6, "PH/s": 3e-3, "EH/s": 3.0}


def test_sums_are_exact_and_independent_of_batching(admin1):
    # 0.1 + 0.2 + 0.3 in floats depends on the order; the exact sum does not.
    w = np.array([1e16, 1.0, -0.0, 0.1, 0.2, 0.3, 5e-324, 1e-300] * 50)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"latitude": 0.5, "longitude": 0.5, "w": rng.permutation(w)})
    index = build_region_index(admin1)
    one, _ = aggregate_points([frame], index, weight="w", weight_unit="EH/s")
    many, _ = aggregate_points([frame.iloc[i : i + 7] for i in range(0, len(frame), 7)], index, weight="w", weight_unit="EH/s")
    pd.testing.assert_frame_equal(one, many)
    exact = math.fsum(w)
    assert one["hashrate_ehs"].iloc[0] == exact


# --- conservation (hypothesis) -----------------------------------------------------------------

coordinate = st.one_of(st.floats(-1.5, 2.5), st.sampled_from([-1.0, 0.0, 1.0, 2.0, 0.5]), st.just(float("nan")))
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
    assert table["points"].sum() == report.matched_points
    matched = g["region_hashrate_ehs"] + g["country_hashrate_ehs"]
    assert np.allclose(matched + g["outside_hashrate_ehs"] + g["nan_hashrate_ehs"], g["total_hashrate_ehs"], rtol=1e-12, atol=0)
    assert g["total_hashrate_ehs"].sum() == pytest.approx(math.fsum(frame["w"]), rel=1e-12, abs=0)
    nan_pts = int((frame["latitude"].isna() | frame["longitude"].isna()).sum())
    assert report.nan_points == nan_pts
    # A group whose weight is all zero has no shares (NaN), not a division by zero.
    totals = frame.groupby(frame["pool"].fillna("<NA>"))["w"].sum()
    zero = (table["pool"].astype(object).fillna("<NA>").map(totals) == 0).to_numpy()
    assert table["share"].isna().to_numpy().tolist() == zero.tolist()
    assert ((table["share"][~zero] >= 0) & (table["share"][~zero] <= 1)).all()


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


def test_choices_for_the_cli():
    assert LEVELS == ("admin1", "country") and ENGINES == ("incore", "dask") and "TH/s" in WEIGHT_UNITS


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
    with pytest.raises(DataError, match="expected numbers in"):
        list(open_points(tmp_path / "t.csv", weight="th").batches())


def test_option_errors(tmp_path, admin1, admin0):
    source = open_points(write_parquet(points_frame(), tmp_path / "p.parquet"), weight="th")
    index = build_region_index(admin1)
    with pytest.raises(ValueError, match=r"weight_unit: expected one of .*got 'GH/s'"):
        aggregate_points([], index, weight="th", weight_unit="GH/s")
    with pytest.raises(ValueError, match=r"by: expected distinct group columns.*got \['latitude'\]"):
        aggregate_points([], index, weight="th", by=["latitude"])
    with pytest.raises(ValueError, match=r"by: expected distinct.*got \['pool', 'pool'\]"):
        aggregate_points([], index, weight="th", by=["pool", "pool"])
    with pytest.raises(ValueError, match=r"engine: expected one of .*got 'spark'"):
        aggregate(source, admin1, admin0, engine="spark")
    with pytest.raises(ValueError, match=r"scheduler: expected None with engine 'incore'"):
        aggregate(source, admin1, admin0, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match=r"level: expected one of .*got 'county'"):
        build_region_index(admin1, admin0, level="county")


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
    import capacitymap.aggregate as agg

    frame = pd.DataFrame({"latitude": [0.5] * 10, "longitude": [0.5] * 9 + [5.0], "w": np.arange(10.0)})
    whole, _ = aggregate_points([frame], build_region_index(admin1), weight="w")
    monkeypatch.setattr(agg, "_MAX_PARTIAL_ROWS", 3)
    cut, report = aggregate_points([frame], build_region_index(admin1), weight="w")
    pd.testing.assert_frame_equal(whole, cut)
    assert report.outside_points == 1 and report.outside_hashrate_ehs == pytest.approx(9e-6)


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
