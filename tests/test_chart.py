"""capacitymap.render.chart: ranked places per step, the rest and CCAF's Other, each place's series."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from capacitymap.errors import MapSpecError
from capacitymap.render.chart import OTHER_LABEL, chart_js, chart_payload
from capacitymap.render.escape import script_json

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"
NAMES = {"CN": "China", "US": "United States", "RU": "Russia", "KZ": "Kazakhstan", "MY": "Malaysia", "IR": "Iran"}


def shares() -> pd.DataFrame:
    rows = [
        ("2019-09", "CN", 0.7553), ("2019-09", "US", 0.0404), ("2019-09", "RU", 0.0691), ("2019-09", "KZ", 0.0141),
        ("2020-04", "CN", 0.6508), ("2020-04", "US", 0.0724), ("2020-04", "RU", 0.0690), ("2020-04", "KZ", 0.0617),
        ("2020-04", "MY", 0.0433), ("2020-04", "IR", np.nan),
    ]
    return pd.DataFrame(rows, columns=["month", "iso_a2", "value"])


def test_each_step_ranks_its_places_largest_first_with_the_maps_formatting():
    pay = chart_payload(shares(), NAMES, "share")
    assert pay["steps"] == ["2019-09", "2020-04"]
    april = pay["ranked"]["2020-04"]
    assert [r[0] for r in april["rows"]] == ["CN", "US", "RU", "KZ", "MY"]  # Iran's NaN is no data, not a bar
    assert april["rows"][0][1:] == [0.6508, "65.08%"]
    assert april["count"] == 5 and "rest" not in april and "other" not in april
    assert pay["label"] == "Share of hashrate" and pay["unit"] == "%"
    assert pay["names"]["CN"] == "China"


def test_places_beyond_the_top_are_summed_into_one_bar_and_ccafs_other_has_its_own():
    pay = chart_payload(shares(), NAMES, "share", other={"2020-04": 0.0528, "2019-09": float("nan")}, top=3)
    april = pay["ranked"]["2020-04"]
    assert [r[0] for r in april["rows"]] == ["CN", "US", "RU"]
    assert april["rest"] == [2, 0.105, "10.5%"]  # KZ 6.17% + MY 4.33%
    assert april["other"] == [0.0528, "5.28%"]
    assert "other" not in pay["ranked"]["2019-09"]  # NaN: CCAF gave no remainder that month
    assert pay["otherLabel"] == OTHER_LABEL == "Other (unallocated)"
    total = sum(r[1] for r in april["rows"]) + april["rest"][1] + april["other"][0]
    assert total == pytest.approx(0.6508 + 0.0724 + 0.0690 + 0.0617 + 0.0433 + 0.0528)  # every share counted once


def test_series_follow_the_steps_with_gaps_where_there_is_no_data():
    pay = chart_payload(shares(), NAMES, "share")
    assert pay["series"]["CN"] == {"v": [0.7553, 0.6508], "t": ["75.53%", "65.08%"]}
    assert pay["series"]["MY"] == {"v": [None, 0.0433], "t": ["no data", "4.33%"]}
    assert "IR" not in pay["series"]  # never had a value


def test_a_single_date_map_has_one_unnamed_step_and_quarters_sort_as_text():
    single = pd.DataFrame({"iso_3166_2": ["US-TX", "US-GA"], "value": [1716.0, 280.5]})
    pay = chart_payload(single, {"US-TX": "Texas", "US-GA": "Georgia"}, "capacity_mw")
    assert pay["steps"] == [""]
    assert pay["ranked"][""]["rows"] == [["US-TX", 1716.0, "1,716 MW"], ["US-GA", 280.5, "280 MW"]]
    quarters = pd.DataFrame({"iso_a2": ["US", "US", "US"], "month": ["2024-Q3", "2023-Q4", "2024-Q1"], "value": [1.0, 2.0, 3.0]})
    assert chart_payload(quarters, {}, "hashrate_ehs")["steps"] == ["2023-Q4", "2024-Q1", "2024-Q3"]


def test_a_change_map_keeps_signs_and_ranks_gains_first():
    change = pd.DataFrame({"iso_3166_2": ["US-TX", "US-NY", "US-GA"], "value": [300.0, -50.0, 0.0]})
    pay = chart_payload(change, {}, "capacity_change_mw")
    assert pay["ranked"][""]["rows"] == [["US-TX", 300.0, "+300 MW"], ["US-GA", 0.0, "0 MW"], ["US-NY", -50.0, "\u221250 MW"]]
    assert pay["label"] == "Change in capacity" and pay["unit"] == "MW"


def test_nothing_to_chart_gives_none():
    assert chart_payload(None, {}, "share") is None
    assert chart_payload(pd.DataFrame({"iso_a2": ["US"], "value": [np.nan]}), {}, "share") is None
    assert chart_payload(pd.DataFrame({"iso_a2": [], "value": []}), {}, "share") is None


def test_payload_is_deterministic_json_with_names_as_data():
    a = chart_payload(shares(), {**NAMES, "CN": HOSTILE}, "share", value_label="share of global hashrate")
    b = chart_payload(shares().sample(frac=1, random_state=3), {**NAMES, "CN": HOSTILE}, "share", value_label="share of global hashrate")
    assert json.dumps(a) == json.dumps(b)  # row order does not matter
    assert a["names"]["CN"] == HOSTILE and a["valueLabel"] == "share of global hashrate"
    assert "</script" not in script_json(a)


def test_bad_values_say_what_was_expected():
    with pytest.raises(MapSpecError, match="expected a key column 'iso_3166_2' or 'iso_a2'"):
        chart_payload(pd.DataFrame({"region": ["US"], "value": [1.0]}), {}, "share")
    with pytest.raises(MapSpecError, match="expected a 'value' column"):
        chart_payload(pd.DataFrame({"iso_a2": ["US"], "share": [1.0]}), {}, "share")
    with pytest.raises(MapSpecError, match="expected top as a whole number of at least 1, got 0"):
        chart_payload(shares(), NAMES, "share", top=0)


def test_the_script_defines_one_global_function_and_never_sets_html_from_data():
    js = chart_js()
    assert js.count("function capacitymapChart(container, payload)") == 1
    code = re.sub(r"/\*.*?\*/", "", js, flags=re.DOTALL)
    assert "innerHTML" not in code and "insertAdjacentHTML" not in code
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", js)


def test_ccafs_other_can_come_as_hashrate_layers_leave_it():
    values = shares()
    values.attrs["other"] = {"2020-04": {"ZZ": 0.0528}, "2019-09": {"ZZ": None}}  # hashrate_layers' shape
    pay = chart_payload(values, NAMES, "share")
    assert pay["ranked"]["2020-04"]["other"] == [0.0528, "5.28%"]
    assert "other" not in pay["ranked"]["2019-09"]
    given = chart_payload(values, NAMES, "share", other={"2020-04": {"CN-ZZ": 0.01}})  # an argument wins
    assert given["ranked"]["2020-04"]["other"] == [0.01, "1%"]
