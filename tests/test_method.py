"""Tests of capacitymap.method: worked examples computed by hand here, error paths, properties.

Hand-worked example used throughout (month 2020-04, three pools, shares are fractions):

    pool A, 20 EH/s: CN 0.8, US 0.2; regions of the world: CN-XJ 0.4, CN-SC 0.3, CN-ZJ 0.1
    pool B, 30 EH/s: CN 0.6, US 0.3, RU 0.1; regions as shares OF CHINA: CN-XJ 0.5, CN-SC 0.25, CN-NM 0.25
    pool C, 50 EH/s: CN 0.5, RU 0.3, KZ 0.1 (locates only 0.9: 0.1 unreported); no regions

Weights 20/100, 30/100, 50/100 = 0.2, 0.3, 0.5.
"""

from __future__ import annotations

import datetime as dt
import math
from math import fsum
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from capacitymap.errors import DataError, MethodError, SchemaError
from capacitymap.method import (
    AVERAGES,
    DEFAULT_J_PER_TH,
    DEFAULT_J_PER_TH_SOURCE,
    LEVELS,
    POOL_SHARE_COLUMNS,
    RESULT_COLUMNS,
    VPN_VARIANTS,
    MonthRange,
    VpnCorrection,
    admin1_adjacency,
    aggregate_pools,
    apply_window,
    correct_vpn,
    derive_pool_weights,
    ehs_to_mw,
    estimate_hashrate,
    extrapolate_regions,
    format_explain,
    month_range,
    mw_to_ehs,
    normalise_pool_shares,
    resolve_window,
    to_region_values,
)
from capacitymap.schema import HASHRATE_COLUMNS

TOL = 1e-9
APR = "2020-04"


def rec(month, pool, country, region, share, share_of="global", ehs=math.nan, line=2):
    return {"month": month, "pool": pool, "country": country, "region": region, "share": share, "share_of": share_of,
            "hashrate_ehs": ehs, "source_url": None, "source_file": f"{pool}.csv", "line": line}


def frame(rows):
    return pd.DataFrame(rows, columns=list(HASHRATE_COLUMNS))


def three_pools():
    return frame([
        rec(APR, "A", "CN", None, 0.8, line=2), rec(APR, "A", "US", None, 0.2, line=3),
        rec(APR, "A", "CN", "CN-XJ", 0.4, line=4), rec(APR, "A", "CN", "CN-SC", 0.3, line=5),
        rec(APR, "A", "CN", "CN-ZJ", 0.1, line=6),
        rec(APR, "B", "CN", None, 0.6, line=2), rec(APR, "B", "US", None, 0.3, line=3), rec(APR, "B", "RU", None, 0.1, line=4),
        rec(APR, "B", "CN", "CN-XJ", 0.5, "country", line=5), rec(APR, "B", "CN", "CN-SC", 0.25, "country", line=6),
        rec(APR, "B", "CN", "CN-NM", 0.25, "country", line=7),
        rec(APR, "C", "CN", None, 0.5, line=2), rec(APR, "C", "RU", None, 0.3, line=3), rec(APR, "C", "KZ", None, 0.1, line=4),
    ])


POOL_EHS = pd.DataFrame({"month": [APR] * 3, "pool": ["A", "B", "C"], "hashrate_ehs": [20.0, 30.0, 50.0]})
NETWORK = pd.DataFrame({"month": [APR], "hashrate_ehs": [200.0]})


def value(table, country, region=None, column="share", unreported=False):
    mask = (table["country"] == country) & (table["unreported"] == unreported)
    mask &= table["region"].isna() if region is None else (table["region"] == region)
    found = table.loc[mask, column]
    assert len(found) == 1, (country, region, found)
    return float(found.iloc[0])


# --- 1. pool aggregation + 2. extrapolation: the three-pool example ------------------------------

def test_three_pools_country_level_by_hand():
    result = estimate_hashrate(three_pools(), pool_hashrate=POOL_EHS, network_hashrate=NETWORK)
    t = result.table
    assert list(t.columns) == list(RESULT_COLUMNS)
    assert t["region"].isna().all()
    # CN = 0.2*0.8 + 0.3*0.6 + 0.5*0.5
    assert value(t, "CN") == pytest.approx(0.16 + 0.18 + 0.25, abs=TOL)
    assert value(t, "US") == pytest.approx(0.2 * 0.2 + 0.3 * 0.3, abs=TOL)
    assert value(t, "RU") == pytest.approx(0.3 * 0.1 + 0.5 * 0.3, abs=TOL)
    assert value(t, "KZ") == pytest.approx(0.5 * 0.1, abs=TOL)
    # C did not locate 0.1 of its hashrate: 0.5 * 0.1 of the network stays visible as unreported
    assert value(t, "ZZ", unreported=True) == pytest.approx(0.05, abs=TOL)
    assert t["share"].sum() == pytest.approx(1.0, abs=TOL)
    assert value(t, "CN", column="hashrate_ehs") == pytest.approx(0.59 * 200, abs=TOL)
    assert t.loc[t["country"] == "CN", "pools"].iloc[0] == "A|B|C"
    assert t.loc[t["country"] == "US", "pools"].iloc[0] == "A|B"
    assert set(t["window"]) == {APR} and set(t["month"]) == {APR}
    assert not t["extrapolated"].any() and not t["vpn_corrected"].any()


def test_three_pools_admin1_level_by_hand():
    t = estimate_hashrate(three_pools(), pool_hashrate=POOL_EHS, level="admin1").table
    # within-China distributions: A = XJ 0.4/0.8, SC 0.3/0.8, ZJ 0.1/0.8; B = XJ 0.5, SC 0.25, NM 0.25
    d_xj = (0.5 + 0.5) / 2
    d_sc = (0.375 + 0.25) / 2
    d_zj = (0.125 + 0.0) / 2
    d_nm = (0.0 + 0.25) / 2
    # C (CN 0.5) gets 0.5 x the plain average; aggregate with weights 0.2 / 0.3 / 0.5
    expected = {
        "CN-XJ": 0.2 * 0.4 + 0.3 * 0.6 * 0.5 + 0.5 * 0.5 * d_xj,  # 0.295
        "CN-SC": 0.2 * 0.3 + 0.3 * 0.6 * 0.25 + 0.5 * 0.5 * d_sc,  # 0.183125
        "CN-ZJ": 0.2 * 0.1 + 0.0 + 0.5 * 0.5 * d_zj,  # 0.035625
        "CN-NM": 0.0 + 0.3 * 0.6 * 0.25 + 0.5 * 0.5 * d_nm,  # 0.07625
    }
    assert expected["CN-XJ"] == pytest.approx(0.295) and expected["CN-SC"] == pytest.approx(0.183125)
    for region, share in expected.items():
        assert value(t, "CN", region) == pytest.approx(share, abs=TOL)
        assert value(t, "CN", region, "share_of_country") == pytest.approx(share / 0.59, abs=TOL)
    assert sum(expected.values()) == pytest.approx(value(t, "CN"), abs=TOL)
    regions = t[t["region"].notna()]
    assert regions["extrapolated"].all()  # C's extrapolated rows contribute to every province
    assert regions.set_index("region").loc["CN-NM", "pools"] == "B|C"
    assert math.isnan(value(t, "CN", column="share_of_country"))
    assert t.loc[t["region"].isna(), "share"].sum() == pytest.approx(1.0, abs=TOL)


def test_normalise_pool_shares_converts_shares_of_a_country_and_keeps_the_unreported_rest():
    s = normalise_pool_shares(three_pools())
    assert list(s.columns) == list(POOL_SHARE_COLUMNS)
    b = s[(s["pool"] == "B") & (s["region"] == "CN-SC")]
    assert float(b["share"].iloc[0]) == pytest.approx(0.25 * 0.6, abs=TOL)
    c = s[(s["pool"] == "C") & s["unreported"]]
    assert list(c["country"]) == ["ZZ"] and float(c["share"].iloc[0]) == pytest.approx(0.1, abs=TOL)
    assert not s.loc[s["pool"] != "C", "unreported"].any()


def test_normalise_pool_shares_from_hashrate_only_and_derived_country_row():
    records = frame([
        rec(APR, "P", "CN", None, math.nan, ehs=30.0), rec(APR, "P", "US", None, math.nan, ehs=10.0),
        rec(APR, "Q", "CN", "CN-XJ", 0.3), rec(APR, "Q", "CN", "CN-SC", 0.2), rec(APR, "Q", "US", None, 0.5),
    ])
    s = normalise_pool_shares(records)
    p = s[s["pool"] == "P"].set_index("country")["share"]
    assert p["CN"] == pytest.approx(0.75, abs=TOL) and p["US"] == pytest.approx(0.25, abs=TOL)
    q_cn = s[(s["pool"] == "Q") & (s["country"] == "CN") & s["region"].isna()]
    assert float(q_cn["share"].iloc[0]) == pytest.approx(0.5, abs=TOL)  # the sum of its regions


def test_extrapolate_regions_plain_average_and_flags():
    s = normalise_pool_shares(three_pools())
    out = extrapolate_regions(s)
    c = out[(out["pool"] == "C") & out["region"].notna()].set_index("region")
    assert c["extrapolated"].all()
    assert c.loc["CN-XJ", "share"] == pytest.approx(0.5 * 0.5, abs=TOL)
    assert c.loc["CN-SC", "share"] == pytest.approx(0.5 * 0.3125, abs=TOL)
    assert c.loc["CN-ZJ", "share"] == pytest.approx(0.5 * 0.0625, abs=TOL)
    assert c.loc["CN-NM", "share"] == pytest.approx(0.5 * 0.125, abs=TOL)
    assert c["share"].sum() == pytest.approx(0.5, abs=TOL)
    assert not out.loc[out["pool"] != "C", "extrapolated"].any()
    # nothing to extrapolate for RU/US/KZ: no pool lists their regions
    assert set(out.loc[out["region"].notna(), "country"]) == {"CN"}


def test_extrapolation_keeps_what_donors_left_unplaced():
    records = frame([
        rec(APR, "A", "CN", None, 1.0), rec(APR, "A", "CN", "CN-XJ", 0.6),  # 0.4 of China not placed
        rec(APR, "B", "CN", None, 1.0),
    ])
    out = extrapolate_regions(normalise_pool_shares(records))
    b = out[(out["pool"] == "B") & out["region"].notna()]
    assert list(b["region"]) == ["CN-XJ"] and float(b["share"].iloc[0]) == pytest.approx(0.6, abs=TOL)


# --- weights ---------------------------------------------------------------------------------------

def test_derive_pool_weights_sources():
    w = derive_pool_weights(three_pools(), pool_hashrate=POOL_EHS)
    assert list(w["weight"]) == [20.0, 30.0, 50.0]
    assert set(w["weight_source"]) == {"pool hashrate series"}
    records = frame([rec(APR, "P", "CN", None, 0.5, ehs=5.0), rec(APR, "P", "US", None, 0.25, ehs=2.5),
                     rec(APR, "Q", "CN", None, 1.0, ehs=30.0)])
    w = derive_pool_weights(records).set_index("pool")
    assert w.loc["P", "weight"] == pytest.approx(10.0)  # 7.5 EH/s located in 0.75 of the pool
    assert w.loc["Q", "weight"] == pytest.approx(30.0)
    assert w.loc["P", "weight_source"] == "sum of the pool's country rows"


def test_derive_pool_weights_missing_is_an_error_unless_equal_weights_are_chosen():
    with pytest.raises(MethodError, match=r"got none for \['A 2020-04', 'B 2020-04', 'C 2020-04'\].*weighting='equal'"):
        derive_pool_weights(three_pools())
    w = derive_pool_weights(three_pools(), weighting="equal")
    assert list(w["weight"]) == [1.0, 1.0, 1.0] and set(w["weight_source"]) == {"equal (assumed)"}
    with pytest.raises(MethodError, match=r"expected pool weighting in .*got 'votes'"):
        derive_pool_weights(three_pools(), weighting="votes")
    result = estimate_hashrate(three_pools(), pool_weighting="equal")
    assert value(result.table, "CN") == pytest.approx((0.8 + 0.6 + 0.5) / 3, abs=TOL)
    assert result.metadata["pool_weighting"] == "equal"
    assert "equal weights assumed" in format_explain(result)


def test_weights_are_needed_only_for_the_months_of_the_window():
    records = pd.concat([three_pools(), frame([rec("2020-05", "A", "CN", None, 1.0), rec("2020-05", "B", "CN", None, 1.0)])])
    t = estimate_hashrate(records, pool_hashrate=POOL_EHS, month=APR).table  # May has no pool hashrates
    assert value(t, "CN") == pytest.approx(0.59, abs=TOL)
    with pytest.raises(MethodError, match=r"got none for \['A 2020-05', 'B 2020-05'\]"):
        estimate_hashrate(records, pool_hashrate=POOL_EHS)


def test_single_pool_needs_no_weight():
    w = derive_pool_weights(frame([rec(APR, "CCAF", "CN", None, 0.65)]))
    assert w["weight_source"].iloc[0].startswith("only pool")


def test_pool_hashrate_frame_problems_are_located():
    bad = pd.DataFrame({"month": [APR, "April", APR], "pool": ["A", "B", "A"], "hashrate_ehs": [20.0, 1.0, 3.0],
                        "source_file": "pools.csv", "line": [2, 3, 4]})
    with pytest.raises(DataError, match=r"pools.csv:3:month: expected a month 'YYYY-MM', got 'April'") as info:
        derive_pool_weights(three_pools(), pool_hashrate=bad)
    assert "pools.csv:4:pool: expected one hashrate per pool and month" in str(info.value)
    with pytest.raises(DataError, match=r"<pool hashrate>:hashrate_ehs: expected a positive number of EH/s, got -1.0"):
        derive_pool_weights(three_pools(), pool_hashrate=pd.DataFrame({"month": [APR], "pool": ["A"], "hashrate_ehs": [-1.0]}))


def test_aggregate_pools_rejects_missing_or_bad_weights():
    s = normalise_pool_shares(three_pools())
    w = derive_pool_weights(three_pools(), pool_hashrate=POOL_EHS)
    with pytest.raises(MethodError, match=r"got none for \['2020-04 C'\]"):
        aggregate_pools(s, w[w["pool"] != "C"])
    zero = w.assign(weight=[20.0, 0.0, 50.0])
    with pytest.raises(MethodError, match=r"expected positive finite pool weights, got \['2020-04 B: 0.0'\]"):
        aggregate_pools(s, zero)


# --- record errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        ([rec(APR, "A", "CN", None, 0.5, "country", line=7)],
         r"A.csv:7:share_of: expected 'global' on a country row"),
        ([rec(APR, "A", "CN", "CN-XJ", 0.5, "country", line=3)],
         r"A.csv:3:share_of: expected a country row for 'CN'"),
        ([rec(APR, "A", "CN", None, 0.7, line=2), rec(APR, "A", "US", None, 0.4, line=3)],
         r"A.csv:2:share: expected pool 'A'.* to add up to at most 1, got 1.1"),
        ([rec(APR, "A", "CN", None, 0.5, line=2), rec(APR, "A", "CN", "CN-XJ", 0.4, line=3), rec(APR, "A", "CN", "CN-SC", 0.3, line=4)],
         r"expected the regions of 'CN' to add up to at most the country's share 0.5"),
        ([rec(APR, "A", "CN", None, 0.5, line=2), rec(APR, "A", "CN", None, 0.5, line=5)],
         r"A.csv:5:country: expected one row per month, pool, country and region"),
        ([rec(APR, "A", "US", "CN-XJ", 0.5, line=4)],
         r"A.csv:4:region: expected a region of country 'US' \(a code starting 'US-'\), got 'CN-XJ'"),
        ([rec(APR, "A", "CN", None, math.nan, line=6)],
         r"A.csv:6:share: expected a share or a hashrate_ehs, got share nan and hashrate_ehs nan"),
        ([rec("2020-4", "A", "CN", None, 0.5, line=8)],
         r"A.csv:8:month: expected a month 'YYYY-MM', got '2020-4'"),
        ([rec(APR, "A", "CN", None, 1.5, line=9)],
         r"A.csv:9:share: expected a fraction between 0 and 1, got 1.5; write shares as fractions"),
        ([rec(APR, "A", "CN", None, 0.5, "half", line=9)],
         r"A.csv:9:share_of: expected 'global' or 'country', got 'half'"),
        ([rec(APR, "A", "CN", "CN-XJ", math.nan, ehs=3.0, line=5), rec(APR, "B", "CN", None, 1.0, line=2)],
         r"A.csv:5:share: expected a share, or a pool hashrate to divide hashrate_ehs by"),
    ],
)
def test_record_errors_are_located(rows, pattern):
    with pytest.raises(DataError, match=pattern):
        normalise_pool_shares(frame(rows))


def test_records_from_the_reader_are_not_checked_row_by_row_again(tmp_path):
    """The reader checked each row; the method checks only what a reader cannot know."""
    from capacitymap.records import read_hashrate

    path = tmp_path / "pools.csv"
    path.write_text("month,pool,country,region,share,share_of\n2020-04,A,CN,,0.8,global\n2020-04,A,US,,0.2,global\n"
                    "2020-04,A,CN,Xinjiang,0.5,country\n", encoding="utf-8")
    records = read_hashrate([path], today=dt.date(2025, 1, 1)).frame
    trusted = estimate_hashrate(records, validated=True, level="admin1").table
    assert trusted.equals(estimate_hashrate(records, level="admin1").table)  # the same result, checked once
    # A row no reader lets through shows that the row checks are skipped for read records, and kept for frames handed in:
    odd = pd.concat([records, frame([rec(APR, "B", "CN", None, 0.5, "half", line=9)])], ignore_index=True)
    with pytest.raises(DataError, match="share_of: expected 'global' or 'country', got 'half'"):
        estimate_hashrate(odd)
    assert "B" in estimate_hashrate(odd, validated=True, pool_weighting="equal").metadata["pools"]
    # What a reader cannot know is checked either way: a second row for the same place, given as a share of something else.
    twice = pd.concat([records, records.iloc[[2]].assign(share_of="global", share=0.4)], ignore_index=True)
    for validated in (False, True):
        with pytest.raises(DataError, match=r"pools.csv:4:region: expected one row per month, pool, country and region"):
            estimate_hashrate(twice, validated=validated, level="admin1")


def test_every_record_problem_is_reported_at_once():
    rows = [rec("bad", "A", "CN", None, 0.5, line=2), rec(APR, "A", "CN", None, 2.0, line=3)]
    with pytest.raises(DataError) as info:
        normalise_pool_shares(frame(rows))
    assert len(info.value.problems) == 2


def test_missing_columns_and_wrong_type():
    with pytest.raises(SchemaError, match=r"missing \['share_of'\]"):
        normalise_pool_shares(frame([rec(APR, "A", "CN", None, 1.0)]).drop(columns=["share_of"]))
    with pytest.raises(SchemaError, match=r"expected a pandas DataFrame, got 'list'"):
        normalise_pool_shares([rec(APR, "A", "CN", None, 1.0)])


# --- 3. VPN correction -------------------------------------------------------------------------------

def squares():
    """A tiny synthetic admin-1 layer: unit squares.

    row y=1:  CN-BJ [0,1]  CN-NM [1,2]
    row y=0:  CN-XJ [0,1]  CN-ZJ [1,2]  CN-SC [2,3]
    row y=-1:              VN-01 [1,2]           (across the border, below Zhejiang)
    far away: CN-HI [5,6]x[5,6]                 (an island)
    CN-ZJ borders CN-XJ, CN-NM, CN-SC; it meets CN-BJ at one corner only (not a neighbour).
    """
    cells = {"CN-XJ": (0, 0), "CN-ZJ": (1, 0), "CN-SC": (2, 0), "CN-BJ": (0, 1), "CN-NM": (1, 1), "VN-01": (1, -1), "CN-HI": (5, 5)}
    return gpd.GeoDataFrame(
        {"iso_3166_2": list(cells), "iso_a2": [c[:2] for c in cells]},
        geometry=[box(x, y, x + 1, y + 1) for x, y in cells.values()], crs="EPSG:4326",
    )


def test_admin1_adjacency_of_the_squares():
    adj = admin1_adjacency(squares())
    assert adj["CN-ZJ"] == ("CN-NM", "CN-SC", "CN-XJ")
    assert adj["CN-BJ"] == ("CN-NM", "CN-XJ")
    assert adj["CN-HI"] == ()
    assert adj["VN-01"] == ()  # its only neighbour is across the border
    shuffled = squares().iloc[::-1].reset_index(drop=True)
    assert admin1_adjacency(shuffled) == adj


def test_admin1_adjacency_errors():
    layer = squares()
    with pytest.raises(Exception, match=r"duplicates \['CN-XJ'\]"):
        admin1_adjacency(pd.concat([layer, layer.iloc[:1]], ignore_index=True))
    with pytest.raises(Exception, match=r"missing \['iso_a2'\]"):
        admin1_adjacency(layer.drop(columns=["iso_a2"]))
    with pytest.raises(Exception, match=r"expected the admin-1 layer as a GeoDataFrame, got 'DataFrame'"):
        admin1_adjacency(pd.DataFrame(layer.drop(columns="geometry")))


def test_vpn_proportional_zhejiang_by_hand():
    s = normalise_pool_shares(three_pools())
    out, moves = correct_vpn(s, [VpnCorrection("A", "CN-ZJ", "proportional")])
    a = out[(out["pool"] == "A") & out["region"].notna()].set_index("region")
    # Zhejiang's 0.1 goes to Xinjiang 0.4 and Sichuan 0.3 in proportion 4:3
    assert a.loc["CN-XJ", "share"] == pytest.approx(0.4 + 0.1 * 4 / 7, abs=TOL)
    assert a.loc["CN-SC", "share"] == pytest.approx(0.3 + 0.1 * 3 / 7, abs=TOL)
    assert a.loc["CN-ZJ", "share"] == 0.0
    assert a["vpn_corrected"].all()
    assert not out.loc[out["pool"] != "A", "vpn_corrected"].any()
    assert list(moves["to_region"]) == ["CN-SC", "CN-XJ"] and moves["share"].sum() == pytest.approx(0.1, abs=TOL)


def test_vpn_proportional_then_extrapolation_and_aggregation_by_hand():
    result = estimate_hashrate(three_pools(), pool_hashrate=POOL_EHS, level="admin1",
                               vpn_corrections=[VpnCorrection("A", "CN-ZJ")])
    t = result.table
    # A after correction, within China: XJ (0.4 + 0.4/7)/0.8 = 4/7, SC 3/7, ZJ 0; B: XJ 1/2, SC 1/4, NM 1/4
    d = {"CN-XJ": (4 / 7 + 1 / 2) / 2, "CN-SC": (3 / 7 + 1 / 4) / 2, "CN-NM": (0 + 1 / 4) / 2, "CN-ZJ": 0.0}
    a = {"CN-XJ": 0.4 + 0.4 / 7, "CN-SC": 0.3 + 0.3 / 7, "CN-NM": 0.0, "CN-ZJ": 0.0}
    b = {"CN-XJ": 0.3, "CN-SC": 0.15, "CN-NM": 0.15, "CN-ZJ": 0.0}
    for region in d:
        expected = 0.2 * a[region] + 0.3 * b[region] + 0.5 * 0.5 * d[region]
        assert value(t, "CN", region) == pytest.approx(expected, abs=TOL)
    assert value(t, "CN", "CN-ZJ") == 0.0
    assert t.loc[t["region"] == "CN-ZJ", "vpn_corrected"].iloc[0]
    assert value(t, "CN") == pytest.approx(0.59, abs=TOL)  # country totals do not move
    assert result.metadata["vpn_corrections"] == ("A:CN-ZJ:proportional",)
    assert "A:CN-ZJ:proportional: moved 10% of pool A's hashrate out of CN-ZJ" in format_explain(result)


def test_vpn_neighbours_zhejiang_on_squares_by_hand():
    s = normalise_pool_shares(three_pools())
    out, moves = correct_vpn(s, [VpnCorrection("A", "CN-ZJ", "neighbours")], admin1=squares())
    a = out[(out["pool"] == "A") & out["region"].notna()].set_index("region")
    # Zhejiang's 0.1 split equally over its three neighbours in China (not CN-BJ, corner; not VN-01, border)
    assert a.loc["CN-XJ", "share"] == pytest.approx(0.4 + 0.1 / 3, abs=TOL)
    assert a.loc["CN-SC", "share"] == pytest.approx(0.3 + 0.1 / 3, abs=TOL)
    assert a.loc["CN-NM", "share"] == pytest.approx(0.1 / 3, abs=TOL)  # a new row: A did not list it
    assert a.loc["CN-ZJ", "share"] == 0.0
    assert "CN-BJ" not in a.index and "VN-01" not in set(out["region"].dropna())
    assert set(moves["variant"]) == {"neighbours"} and len(moves) == 3
    result = estimate_hashrate(three_pools(), pool_hashrate=POOL_EHS, level="admin1", admin1=squares(),
                               vpn_corrections=[VpnCorrection("A", "CN-ZJ", "neighbours")])
    assert value(result.table, "CN", "CN-NM") == pytest.approx(
        0.2 * (0.1 / 3) + 0.3 * 0.15 + 0.5 * 0.5 * ((0.1 / 3) / 0.8 + 0.25) / 2, abs=TOL)


@pytest.mark.parametrize(
    ("correction", "pattern"),
    [
        ("A:CN-HI:neighbours", r"expected region 'CN-HI' to have admin-1 neighbours in 'CN', got none"),
        ("A:CN-GD:neighbours", r"expected pool 'A' to list region 'CN-GD' in some month"),
        ("Z:CN-ZJ", r"expected a pool in the records \['A', 'B', 'C'\], got 'Z'"),
        ("B:CN-XJ:neighbours", r"expected region 'CN-XJ' in the admin-1 layer, got no such region"),
    ],
)
def test_vpn_errors(correction, pattern):
    rows = three_pools()
    rows = pd.concat([rows, frame([rec(APR, "A", "CN", "CN-HI", 0.0, line=9)])], ignore_index=True)
    layer = squares()
    if correction.startswith("B:CN-XJ"):
        layer = layer[layer["iso_3166_2"] != "CN-XJ"]
    with pytest.raises(MethodError, match=pattern):
        s = normalise_pool_shares(rows)
        s.loc[(s["pool"] == "A") & (s["region"] == "CN-HI"), "share"] = 0.05
        s.loc[(s["pool"] == "A") & (s["region"] == "CN-ZJ"), "share"] = 0.05
        pool, region, *variant = correction.split(":")
        correct_vpn(s, [VpnCorrection(pool, region, *variant)], admin1=layer)


def test_vpn_proportional_needs_other_listed_regions():
    records = frame([rec(APR, "A", "CN", None, 1.0), rec(APR, "A", "CN", "CN-ZJ", 0.6)])
    with pytest.raises(MethodError, match=r"expected pool 'A' to list other regions of 'CN' with a share in '2020-04', got \[\]; use the 'neighbours' variant"):
        estimate_hashrate(records, vpn_corrections=[VpnCorrection("A", "CN-ZJ")])


def test_vpn_neighbours_needs_the_layer_and_corrections_once():
    s = normalise_pool_shares(three_pools())
    with pytest.raises(MethodError, match=r"needs the admin-1 layer for adjacency, got none"):
        correct_vpn(s, [VpnCorrection("A", "CN-ZJ", "neighbours")])
    with pytest.raises(MethodError, match=r"corrected once, got \['A:CN-ZJ'\] more than once"):
        correct_vpn(s, [VpnCorrection("A", "CN-ZJ"), VpnCorrection("A", "CN-ZJ", "neighbours")], admin1=squares())
    with pytest.raises(MethodError, match=r"expected VpnCorrection values, got 'A:CN-ZJ'"):
        correct_vpn(s, ["A:CN-ZJ"])


def test_vpn_is_off_by_default_and_says_so():
    result = estimate_hashrate(three_pools(), pool_hashrate=POOL_EHS)
    assert result.metadata["vpn_corrections"] == () and result.vpn_moves is None
    assert "no VPN correction (off unless asked for)" in format_explain(result)


def test_vpn_correction_checks_its_values():
    assert str(VpnCorrection("P", "CN-ZJ")) == "P:CN-ZJ:proportional"
    assert VPN_VARIANTS == ("proportional", "neighbours")
    with pytest.raises(MethodError, match=r"expected an ISO 3166-2 region code such as 'CN-ZJ', got 'Zhejiang'"):
        VpnCorrection("P", "Zhejiang")
    with pytest.raises(MethodError, match=r"expected a variant in .*got 'equal'"):
        VpnCorrection("P", "CN-ZJ", "equal")  # type: ignore[arg-type]
    with pytest.raises(MethodError, match=r"expected a pool name, got ''"):
        VpnCorrection("", "CN-ZJ")


def test_a_month_range_is_checked_when_made():
    assert tuple(MonthRange("2020-01", "2020-03")) == ("2020-01", "2020-03") and str(MonthRange("2024-Q1", "2024-Q2")) == "2024-Q1:2024-Q2"
    with pytest.raises(MethodError, match=r"expected a range from an earlier to a later month, got '2020-03':'2020-01'"):
        MonthRange("2020-03", "2020-01")
    with pytest.raises(MethodError, match=r"expected a month 'YYYY-MM', got '2020-13'"):
        MonthRange("2020-01", "2020-13")


# --- 4. time windows ---------------------------------------------------------------------------------

def three_months():
    """One pool, Jan-Mar 2020: CN 0.7/0.6/0.5, US 0.3/0.4/0.5; network 100/120/180 EH/s."""
    rows = []
    for line, (m, cn) in enumerate((("2020-01", 0.7), ("2020-02", 0.6), ("2020-03", 0.5)), start=2):
        rows += [rec(m, "P", "CN", None, cn, line=line), rec(m, "P", "US", None, round(1 - cn, 10), line=line + 10)]
    return frame(rows)


NETWORK_Q1 = pd.DataFrame({"month": ["2020-01", "2020-02", "2020-03"], "hashrate_ehs": [100.0, 120.0, 180.0]})


def test_three_month_plain_average_by_hand():
    t = estimate_hashrate(three_months(), months=MonthRange("2020-01", "2020-03"), average="plain", network_hashrate=NETWORK_Q1).table
    assert value(t, "CN") == pytest.approx((0.7 + 0.6 + 0.5) / 3, abs=TOL)
    assert value(t, "US") == pytest.approx((0.3 + 0.4 + 0.5) / 3, abs=TOL)
    # hashrate: the mean of the monthly EH/s, (70 + 72 + 90) / 3
    assert value(t, "CN", column="hashrate_ehs") == pytest.approx((70 + 72 + 90) / 3, abs=TOL)
    assert set(t["window"]) == {"2020-01:2020-03 (plain average)"} and set(t["month"]) == {"2020-01:2020-03"}


def test_three_month_weighted_average_by_hand_and_default():
    result = estimate_hashrate(three_months(), months=MonthRange("2020-01", "2020-03"), network_hashrate=NETWORK_Q1)
    t = result.table
    # (100*0.7 + 120*0.6 + 180*0.5) / (100 + 120 + 180) = 232 / 400
    assert value(t, "CN") == pytest.approx(232 / 400, abs=TOL)
    assert value(t, "US") == pytest.approx(168 / 400, abs=TOL)
    assert value(t, "US", column="hashrate_ehs") == pytest.approx((30 + 48 + 90) / 3, abs=TOL)
    assert set(t["window"]) == {"2020-01:2020-03 (weighted average)"}
    assert result.metadata["average"] == "weighted"
    assert "months weighted by network hashrate 2020-01 100 EH/s, 2020-02 120 EH/s, 2020-03 180 EH/s" in format_explain(result)
    plain = estimate_hashrate(three_months(), months=("2020-01", "2020-03"))
    assert set(plain.table["window"]) == {"2020-01:2020-03 (plain average)"}  # default without a network series
    assert plain.table["hashrate_ehs"].isna().all()


def test_every_month_on_its_own_and_one_month():
    t = estimate_hashrate(three_months(), network_hashrate=NETWORK_Q1).table
    assert list(t["month"]) == ["2020-01", "2020-01", "2020-02", "2020-02", "2020-03", "2020-03"]
    assert list(t["window"]) == list(t["month"])
    assert value(t[t["month"] == "2020-03"], "CN", column="hashrate_ehs") == pytest.approx(90.0, abs=TOL)
    one = estimate_hashrate(three_months(), month="2020-02").table
    assert set(one["month"]) == {"2020-02"} and value(one, "CN") == 0.6


def test_a_region_absent_in_one_month_of_a_window_counts_zero_that_month():
    rows = [rec("2020-01", "P", "CN", None, 1.0), rec("2020-01", "P", "CN", "CN-XJ", 1.0),
            rec("2020-02", "P", "CN", None, 1.0)]
    t = estimate_hashrate(frame(rows), months=MonthRange("2020-01", "2020-02"), level="admin1").table
    assert value(t, "CN", "CN-XJ") == pytest.approx(0.5, abs=TOL)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"months": ("2020-01", "2020-04")}, r"got none for \['2020-04'\]; add those months' records .*never counted as zero"),
        ({"month": "2020-05"}, r"expected a month the records cover \(2020-01 to 2020-03\), got '2020-05'"),
        ({"month": "May"}, r"expected a month 'YYYY-MM', got 'May'"),
        ({"month": "2020-01", "months": ("2020-01", "2020-02")}, r"expected one month or one range"),
        ({"average": "plain"}, r"got average 'plain' without one"),
        ({"months": ("2020-01", "2020-03"), "average": "weighted"}, r"expected a network hashrate series to weight the months by"),
        ({"months": ("2020-01", "2020-03"), "average": "median"}, r"expected an average in \('plain', 'weighted'\), got 'median'"),
        ({"months": ("2020-03", "2020-01")}, r"expected a range from an earlier to a later month, got '2020-03':'2020-01'"),
        ({"months": "2020-01:2020-02"}, r"expected a range of months MonthRange\(first, last\), got '2020-01:2020-02'"),
        ({"level": "county"}, r"expected level in \('country', 'admin1'\), got 'county'"),
        ({"pool_weighting": "votes"}, r"expected pool weighting in .*got 'votes'"),
    ],
)
def test_window_errors(kwargs, pattern):
    with pytest.raises(MethodError, match=pattern):
        estimate_hashrate(three_months(), **kwargs)


def test_missing_months_in_the_middle_are_listed():
    records = three_months()
    records = records[records["month"] != "2020-02"]
    with pytest.raises(MethodError, match=r"got none for \['2020-02'\]"):
        estimate_hashrate(records, months=MonthRange("2020-01", "2020-03"))


def test_network_series_errors():
    short = NETWORK_Q1.iloc[:2]
    with pytest.raises(MethodError, match=r"expected the network hashrate series to cover 2020-01:2020-03, got none for \['2020-03'\]"):
        estimate_hashrate(three_months(), months=MonthRange("2020-01", "2020-03"), network_hashrate=short)
    bad = pd.DataFrame({"month": ["2020-01", "2020-01"], "hashrate_ehs": [100.0, 0.0], "source_file": "net.csv", "line": [2, 3]})
    with pytest.raises(DataError, match=r"net.csv:3:hashrate_ehs: expected a positive number of EH/s, got 0.0"):
        estimate_hashrate(three_months(), network_hashrate=bad)


def test_resolve_window_and_month_range():
    assert month_range("2019-11", "2020-02") == ("2019-11", "2019-12", "2020-01", "2020-02")
    w = resolve_window(["2020-02", "2020-01"])
    assert w.months == ("2020-01", "2020-02") and w.average is None
    assert AVERAGES == ("plain", "weighted") and LEVELS == ("country", "admin1")
    with pytest.raises(MethodError, match=r"expected records for at least one month, got none"):
        resolve_window([])


def test_apply_window_rejects_other_frames():
    with pytest.raises(SchemaError, match=r"missing \["):
        apply_window(pd.DataFrame({"month": ["2020-01"]}), resolve_window(["2020-01"]))


# --- 5. power <-> hashrate ---------------------------------------------------------------------------

def test_ehs_to_mw_and_back():
    assert ehs_to_mw(1.0, 20.0) == 20.0  # 1 EH/s at 20 J/TH = 20 MW
    assert mw_to_ehs(20.0, 20.0) == 1.0
    assert ehs_to_mw(10.0) == pytest.approx(10 * DEFAULT_J_PER_TH)
    assert DEFAULT_J_PER_TH == 28.2 and "https://www.jbs.cam.ac.uk/" in DEFAULT_J_PER_TH_SOURCE
    series = pd.Series([1.0, np.nan, 2.5])
    out = ehs_to_mw(series, 30.0)
    assert isinstance(out, pd.Series) and out.iloc[0] == 30.0 and math.isnan(out.iloc[1])
    np.testing.assert_allclose(mw_to_ehs(ehs_to_mw(np.array([0.5, 7.0]), 23.0), 23.0), [0.5, 7.0])


@pytest.mark.parametrize("j_per_th", [0, -5, math.nan, math.inf, "fast"])
def test_efficiency_must_be_positive(j_per_th):
    with pytest.raises(MethodError, match=r"expected a fleet efficiency in J/TH above 0, got .*; use e.g. 28.2"):
        ehs_to_mw(1.0, j_per_th)


def test_negative_hashrate_or_power_is_an_error():
    with pytest.raises(MethodError, match=r"expected hashrate as non-negative EH/s"):
        ehs_to_mw(pd.Series([1.0, -2.0]), 20.0)
    with pytest.raises(MethodError, match=r"expected power as non-negative MW"):
        mw_to_ehs(-1.0, 20.0)


# --- CCAF's own exports: re-aggregating reproduces the published shares exactly ------------------------

CCAF_APRIL_2020 = {"CN": 0.6508, "US": 0.0724, "RU": 0.0690, "KZ": 0.0617, "MY": 0.0433, "IR": 0.0382, "CA": 0.0082, "DE": 0.0056}
CCAF_PROVINCES = {"CN-XJ": 0.3576, "CN-SC": 0.0966, "CN-NM": 0.0807, "CN-YN": 0.0542, "CN-BJ": 0.0173}


def test_ccaf_single_pool_reproduces_published_shares_exactly():
    rows = [rec(APR, "CCAF", c, None, s) for c, s in CCAF_APRIL_2020.items()]
    rows += [rec(APR, "CCAF", "ZZ", None, 0.0508)]  # CCAF's "Other"
    rows += [rec(APR, "CCAF", "CN", r, s) for r, s in CCAF_PROVINCES.items()]
    t = estimate_hashrate(frame(rows), level="admin1").table
    for country, share in CCAF_APRIL_2020.items():
        assert value(t, country) == share  # exactly, not approximately
    for region, share in CCAF_PROVINCES.items():
        assert value(t, "CN", region) == share
    assert value(t, "ZZ") == 0.0508
    assert not t["unreported"].any()  # with "Other" the month is complete: no unreported remainder


def test_ccaf_export_files_in_data_reproduce_april_2020():
    from capacitymap.records import read_hashrate

    root = Path(__file__).resolve().parents[1] / "data" / "hashrate"
    records = read_hashrate([root / "mining_countries.csv", root / "mining_provinces_china.csv"]).frame
    t = estimate_hashrate(records, month=APR, level="admin1").table
    april = records[records["month"] == APR]
    countries = april[april["region"].isna()]
    # the method passes a single pool's country shares through bit for bit ...
    for country, share in zip(countries["country"], countries["share"]):
        assert value(t, country) == share
    # ... they are CCAF's download (64.81%; the launch figure 65.08% is in data/hashrate/ccaf_errata.csv) ...
    assert value(t, "CN") == pytest.approx(0.6481, abs=1e-15)
    for country, share in {**CCAF_APRIL_2020, "CN": 0.6481}.items():
        assert value(t, country) == pytest.approx(share, abs=1e-15)
    # ... and the provinces, given as shares of China, become shares of global: 55.18% x 64.81% = 35.76%
    assert value(t, "CN", "CN-XJ") == pytest.approx(0.5518 * 0.6481, abs=1e-12)
    for region, share in CCAF_PROVINCES.items():
        assert round(value(t, "CN", region), 4) == share
    # CCAF's 'Other' is a country row of its own; April 2020 adds up to 100.00%, so nothing is unreported
    assert value(t, "ZZ") == pytest.approx(0.0535, abs=1e-15)
    assert fsum(countries["share"]) == pytest.approx(1.0, abs=1e-12) and not t["unreported"].any()


# --- provenance, explain, hand-over -------------------------------------------------------------------

def test_explain_log_has_the_numbers():
    result = estimate_hashrate(three_pools(), pool_hashrate=POOL_EHS, network_hashrate=NETWORK, level="admin1")
    text = format_explain(result)
    assert "[pool shares 2020-04] pool C: CN 50%, RU 30%, KZ 10%; located 90%, the other 10% kept as unreported (ZZ)" in text
    assert "[weights 2020-04] A 20 EH/s (pool hashrate series) = 20%, B 30 EH/s (pool hashrate series) = 30%, C 50 EH/s" in text
    assert ("pool C gives CN 50% but no regions: plain average of the distributions of A, B within CN: "
            "CN-NM 12.5%, CN-SC 31.25%, CN-XJ 50%, CN-ZJ 6.25%; times 50% = CN-NM 6.25%, CN-SC 15.62%") in text
    assert "[aggregate 2020-04] weighted sum of the pools: CN 59%, RU 18%, US 13%, KZ 5%, ZZ (unreported) 5%; total 100%" in text
    assert text.startswith("[assumption] the pools' combined geographic distribution is taken to be")
    assert "representative" in result.metadata["assumption"]
    assert result.metadata["extrapolation"].startswith("a pool that gives a country's share but not its regions gets the plain")


def test_to_region_values():
    t = estimate_hashrate(three_pools(), pool_hashrate=POOL_EHS, network_hashrate=NETWORK, level="admin1").table
    countries = to_region_values(t)
    assert list(countries.columns) == ["iso_a2", "value", "month"]
    assert set(countries["iso_a2"]) == {"CN", "US", "RU", "KZ"}  # no ZZ: nothing to draw it on
    regions = to_region_values(t, level="admin1", value="hashrate_ehs")
    assert regions.set_index("iso_3166_2").loc["CN-XJ", "value"] == pytest.approx(0.295 * 200, abs=TOL)
    with pytest.raises(MethodError, match=r"expected value in .*got 'pools'"):
        to_region_values(t, value="pools")
    with pytest.raises(MethodError, match=r"expected level in .*got 'state'"):
        to_region_values(t, level="state")


def test_inputs_are_not_modified():
    records = three_pools()
    before = records.copy()
    estimate_hashrate(records, pool_hashrate=POOL_EHS, level="admin1", admin1=squares(),
                      vpn_corrections=[VpnCorrection("A", "CN-ZJ", "neighbours")])
    pd.testing.assert_frame_equal(records, before)


# --- properties ---------------------------------------------------------------------------------------

CN_REGIONS = ("CN-XJ", "CN-SC", "CN-ZJ", "CN-NM")


@st.composite
def pool_records(draw):
    """1-3 months x 1-4 pools; each pool: integer parts over CN/US/RU (+ an unreported part);
    some pools list all of China's regions (so no part of China is left unplaced), others none."""
    months = ["2020-01", "2020-02", "2020-03"][: draw(st.integers(1, 3))]
    n_pools = draw(st.integers(1, 4))
    rows, ehs = [], []
    line = 2
    for month in months:
        for p in range(n_pools):
            pool = f"pool{p}"
            parts = {c: draw(st.integers(0, 20)) for c in ("CN", "US", "RU")}
            parts["CN"] += 1
            missing = draw(st.integers(0, 5))
            total = sum(parts.values()) + missing
            for country, k in parts.items():
                rows.append(rec(month, pool, country, None, k / total, line=line))
                line += 1
            if draw(st.booleans()):
                regional = {r: draw(st.integers(0, 9)) for r in CN_REGIONS}
                regional["CN-ZJ"] += 1
                regional["CN-XJ"] += 1
                rsum = sum(regional.values())
                for region, k in regional.items():
                    rows.append(rec(month, pool, "CN", region, k / rsum, "country", line=line))
                    line += 1
            ehs.append({"month": month, "pool": pool, "hashrate_ehs": float(draw(st.integers(1, 100)))})
    return frame(rows), pd.DataFrame(ehs)


def _country_sums(shares):
    c = shares[shares["region"].isna()]
    return c.groupby(["month", "pool"])["share"].sum()


def _weighted_total(shares, weights, *, regions):
    w = weights.set_index(["month", "pool"])["weight"]
    rows = shares[shares["region"].notna() if regions else shares["region"].isna()]
    return sum(w[(m, p)] * s for m, p, s in zip(rows["month"], rows["pool"], rows["share"]))


@settings(max_examples=60, deadline=None)
@given(pool_records())
def test_shares_sum_to_one_after_every_step(data):
    records, ehs = data
    shares = normalise_pool_shares(records, pool_hashrate=ehs)
    assert np.allclose(_country_sums(shares), 1.0, atol=TOL)
    weights = derive_pool_weights(records, pool_hashrate=ehs)
    corrections = [VpnCorrection(p, "CN-ZJ", "proportional") for p in sorted(set(shares.loc[shares["region"] == "CN-ZJ", "pool"]))]
    corrected, _ = correct_vpn(shares, corrections)
    assert np.allclose(_country_sums(corrected), 1.0, atol=TOL)
    extrapolated = extrapolate_regions(corrected)
    assert np.allclose(_country_sums(extrapolated), 1.0, atol=TOL)
    monthly = aggregate_pools(extrapolated, weights)
    assert np.allclose(monthly[monthly["region"].isna()].groupby("month")["share"].sum(), 1.0, atol=TOL)
    for average in (None, "plain"):
        result = estimate_hashrate(records, pool_hashrate=ehs, months=MonthRange("2020-01", max(records["month"])) if average else None,
                                   average=average, vpn_corrections=corrections, level="admin1")
        t = result.table
        assert np.allclose(t[t["region"].isna()].groupby("month")["share"].sum(), 1.0, atol=TOL)
        # every pool that has China either lists all its regions or gets them extrapolated (when a donor exists)
        cn = t[(t["country"] == "CN")]
        for _month, g in cn.groupby("month"):
            placed = g.loc[g["region"].notna(), "share"].sum()
            assert placed <= float(g.loc[g["region"].isna(), "share"].iloc[0]) + TOL


@settings(max_examples=60, deadline=None)
@given(pool_records())
def test_extrapolation_and_vpn_conserve_hashrate(data):
    records, ehs = data
    shares = normalise_pool_shares(records, pool_hashrate=ehs)
    weights = derive_pool_weights(records, pool_hashrate=ehs)
    corrections = [VpnCorrection(p, "CN-ZJ") for p in sorted(set(shares.loc[shares["region"] == "CN-ZJ", "pool"]))]
    corrected, _ = correct_vpn(shares, corrections)
    # VPN: every pool's country shares untouched; its regions' EH/s total unchanged
    pd.testing.assert_frame_equal(corrected[corrected["region"].isna()].reset_index(drop=True),
                                  shares[shares["region"].isna()].reset_index(drop=True))
    assert _weighted_total(corrected, weights, regions=True) == pytest.approx(_weighted_total(shares, weights, regions=True), rel=TOL)
    extrapolated = extrapolate_regions(corrected)
    pd.testing.assert_frame_equal(extrapolated[extrapolated["region"].isna()].reset_index(drop=True),
                                  corrected[corrected["region"].isna()].reset_index(drop=True))
    # donors list all of China, so after extrapolation each pool's Chinese regions add up to its China share
    for (month, _pool), g in extrapolated[extrapolated["country"] == "CN"].groupby(["month", "pool"]):
        donors = corrected[(corrected["month"] == month) & (corrected["region"].notna())]
        if donors.empty:
            continue
        country = float(g.loc[g["region"].isna(), "share"].iloc[0])
        assert g.loc[g["region"].notna(), "share"].sum() == pytest.approx(country, abs=TOL)


@settings(max_examples=40, deadline=None)
@given(pool_records(), st.randoms(use_true_random=False))
def test_row_order_does_not_change_any_result(data, rnd):
    records, ehs = data
    order = list(records.index)
    rnd.shuffle(order)
    shuffled = records.loc[order].reset_index(drop=True)
    ehs_order = list(ehs.index)
    rnd.shuffle(ehs_order)
    kwargs = {"level": "admin1", "vpn_corrections": [VpnCorrection(p, "CN-ZJ") for p in sorted(set(records.loc[records["region"] == "CN-ZJ", "pool"]))]}
    a = estimate_hashrate(records, pool_hashrate=ehs, **kwargs)
    b = estimate_hashrate(shuffled, pool_hashrate=ehs.loc[ehs_order].reset_index(drop=True), **kwargs)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert a.explain == b.explain


# --- region shares of a country alone; CCAF's absolute figures ------------------------------------------


def _ccaf_records(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([{"month": m, "pool": "CCAF", "country": c, "region": r, "share": s, "share_of": so,
                          "hashrate_ehs": e, "source_url": None, "source_file": "ccaf.csv", "line": i + 2}
                         for i, (m, c, r, s, so, e) in enumerate(rows)])


def test_region_shares_without_a_country_row_stay_shares_of_the_country() -> None:
    from capacitymap.method import split_within_country

    records = _ccaf_records([("2020-04", "CN", "CN-XJ", 0.6, "country", math.nan), ("2020-04", "CN", "CN-ZZ", 0.4, "country", math.nan),
                             ("2020-04", "US", None, 0.1, "global", math.nan)])
    placed, within = split_within_country(records)
    assert placed["country"].tolist() == ["US"] and [c for c, _ in within] == ["CN"]
    result = estimate_hashrate(records, level="admin1")
    xj = result.table[result.table["region"] == "CN-XJ"].iloc[0]
    assert xj["share_of_country"] == pytest.approx(0.6) and math.isnan(xj["share"])
    assert result.metadata["scope"] == "mixed"
    # The unallocated rest of China is kept in the table but never drawn.
    assert "CN-ZZ" in set(result.table["region"].dropna())
    assert "CN-ZZ" not in set(to_region_values(result.table, level="admin1", value="share_of_country")["iso_3166_2"])


def test_ccaf_absolute_figures_give_the_network_and_stay_on_country_rows() -> None:
    from capacitymap.method import implied_network_hashrate

    records = _ccaf_records([("2020-04", "CN", None, 0.6481, "global", 72.19), ("2020-04", "US", None, 0.0724, "global", 8.07),
                             ("2020-04", "ZZ", None, 0.2795, "global", 31.13)])
    network, given = implied_network_hashrate(records)
    assert network["hashrate_ehs"].tolist() == pytest.approx([(72.19 + 8.07 + 31.13) / 1.0])
    assert given[("2020-04", "CN", None)] == 72.19
    table = estimate_hashrate(records).table
    assert table.loc[table["country"] == "CN", "hashrate_ehs"].tolist() == [72.19]  # CCAF's figure, not share x network
    # Another pool in the month: CCAF's figures are not the network's any more.
    other = pd.concat([records, records.assign(pool="P", hashrate_ehs=math.nan)], ignore_index=True)
    assert implied_network_hashrate(other) == (None, {})


def test_quarters_are_steps_too() -> None:
    from capacitymap.method import month_range

    assert month_range("2024-Q3", "2025-Q2") == ("2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2")
    with pytest.raises(MethodError, match="both ends of a range as months or both as quarters"):
        month_range("2024-Q3", "2025-02")
