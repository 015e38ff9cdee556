"""The shipped hashrate tables in data/hashrate/: CCAF's whole series, its errata, and the figures the maps show.

The file checks use plain pandas; the reproductions at the end go through the library, as a user would.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from capacitymap import api
from capacitymap.method import estimate_hashrate
from capacitymap.records import read_hashrate

TODAY = dt.date(2026, 11, 21)  # the day the data was last updated: no figure is dated after it

DATA = Path(__file__).resolve().parents[1] / "data"
README = DATA / "README.md"
HASHRATE = DATA / "hashrate"
COUNTRIES = HASHRATE / "mining_countries.csv"
PROVINCES = HASHRATE / "mining_provinces_china.csv"
US_STATES = HASHRATE / "us_states.csv"
FOUNDRY = HASHRATE / "foundry_us_states.csv"
ERRATA = HASHRATE / "ccaf_errata.csv"
SURVEY = HASHRATE / "cambridge_2025_survey_countries.csv"
HASHRATE_INDEX = HASHRATE / "hashrate_index_countries.csv"
COUNTRIES_COPY = ("https://github.com/Mccalabrese/Bitcoin-Hashrate-simulations-MonteCarlo/blob/"
                  "f33cb8231f1959ef1f21b5105fad3c57d0104c46/Resources/export.csv")
PROVINCES_COPY = "https://github.com/sorianom23/Bitcoin-Mining/blob/8796b7e83d6f43c83a5d4cb9d3f3b4171387f9d1/data/china_regions.csv"

HEADERS = {
    COUNTRIES: "date,country,monthly_hashrate_%,monthly_absolute_hashrate_EH/S,source_url",
    PROVINCES: "Date,Province,Share of Chinese hashrate,source_url",
    US_STATES: "Date,State,US hashrate by state,source_url",
    FOUNDRY: "month,pool,country,region,share_%,share_of,source_url",
    ERRATA: "month,place,share_of,launch_%,download_%,maps_use,source_url,notes",
    SURVEY: "month,pool,country,share_%,source_url",
    HASHRATE_INDEX: "month,pool,country,share_%,source_url",
}
TOLERANCE_PCT = 100.5


def text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def months(start: str, end: str) -> list[str]:
    return [str(p) for p in pd.period_range(start, end, freq="M")]


@pytest.mark.parametrize("path", list(HEADERS), ids=lambda p: p.name)
def test_header_is_exact(path: Path) -> None:
    assert path.read_text(encoding="utf-8").splitlines()[0] == HEADERS[path]


# --- CCAF's countries download ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def countries() -> pd.DataFrame:
    frame = text(COUNTRIES)
    frame["share"] = frame["monthly_hashrate_%"].str.removesuffix("%").astype(float)
    return frame


def test_countries_are_ccafs_whole_series(countries: pd.DataFrame) -> None:
    assert len(countries) == 290
    assert sorted(set(countries["date"].str[:7])) == months("2019-09", "2022-01")
    assert (countries.groupby("date").size() == 10).all()
    assert set(countries["source_url"]) == {COUNTRIES_COPY}
    assert {"Mainland China", "Russian Federation", "Iran, Islamic Rep.", "Germany *", "Ireland *", "Other"} <= set(countries["country"])


def test_country_shares_are_percent_text_and_sum_to_100(countries: pd.DataFrame) -> None:
    assert countries["monthly_hashrate_%"].str.match(r"^\d+(\.\d+)?%$").all()
    assert countries["date"].str.match(r"^\d{4}-\d{2}-01$").all()
    assert countries["monthly_absolute_hashrate_EH/S"].astype(float).ge(0).all()
    sums = countries.groupby("date")["share"].sum()
    assert sums.between(99.97, 100.03).all(), sums[~sums.between(99.97, 100.03)]
    assert not countries.duplicated(["date", "country"]).any()


# --- CCAF's China provinces and US states --------------------------------------------------------------


def test_provinces_are_ccafs_china_download() -> None:
    frame = text(PROVINCES)
    assert len(frame) == 207 and sorted(set(frame["Date"].str[:7])) == months("2019-09", "2021-07")
    assert (frame.groupby("Date").size() == 9).all()
    assert set(frame["Province"]) == {"Sichuan", "Xinjiang", "Yunnan", "Nei Mongol", "Other", "Gansu", "Beijing", "Shanxi", "Qinghai"}
    sums = frame.groupby("Date")["Share of Chinese hashrate"].apply(lambda s: s.astype(float).sum())
    assert ((sums - 100).abs() < 0.03).sum() == 22 and sums["2021-07-01"] == 0  # July 2021: China 0%
    assert set(frame["source_url"]) == {PROVINCES_COPY}


@pytest.mark.parametrize(("path", "key", "value"), [
    (US_STATES, ["Date", "State"], "US hashrate by state"),
    (FOUNDRY, ["month", "pool", "region"], "share_%"),
    (SURVEY, ["month", "pool", "country"], "share_%"),
    (HASHRATE_INDEX, ["month", "pool", "country"], "share_%"),
], ids=lambda v: v.name if isinstance(v, Path) else None)
def test_other_shares_parse_and_sum_to_at_most_100(path: Path, key: list[str], value: str) -> None:
    frame = text(path)
    share = frame[value].astype(float)
    assert share.between(0, 100).all() and not frame.duplicated(key).any()
    assert (share.groupby([frame[k] for k in key[:-1]]).sum() <= TOLERANCE_PCT).all()


def test_foundry_file_is_foundry_only() -> None:
    frame = text(FOUNDRY)
    assert set(frame["pool"]) == {"Foundry USA"} and set(frame["country"]) == {"US"} and set(frame["share_of"]) == {"country"}


def test_survey_is_its_own_source_not_ccafs_series() -> None:
    frame = text(SURVEY)
    assert set(frame["pool"]) == {"Cambridge 2025 survey"} and frame["month"].eq("2024-09").all()
    assert dict(zip(frame["country"], frame["share_%"])) == {
        "United States": "75.4", "Canada": "7.1", "Paraguay": "3.4", "Norway": "2.8", "Kazakhstan": "2.6"}


def test_hashrate_index_is_a_quarterly_source_of_its_own() -> None:
    records = read_hashrate(HASHRATE_INDEX, today=TODAY).frame
    assert set(records["pool"]) == {"Hashrate Index"} and set(records["month"]) == {"2025-Q2"}
    result = estimate_hashrate(records)
    us = result.table[result.table["country"] == "US"].iloc[0]
    assert us["share"] == pytest.approx(0.36025) and us["month"] == "2025-Q2"
    unreported = result.table[result.table["unreported"]].iloc[0]
    assert unreported["share"] == pytest.approx(1 - 0.74409)  # the page's six countries; the rest is never rescaled


# --- errata ------------------------------------------------------------------------------------------


def test_errata_launch_figure_and_the_one_maps_use(countries: pd.DataFrame) -> None:
    errata = text(ERRATA)
    china = errata[(errata["month"] == "2020-04") & (errata["place"] == "Mainland China")].iloc[0]
    assert (china["launch_%"], china["download_%"], china["maps_use"]) == ("65.08", "64.81", "download")
    assert set(errata["maps_use"]) == {"download"}
    listed = countries.set_index(["date", "country"])["share"]
    for r in errata.to_dict("records"):
        if (f"{r['month']}-01", r["place"]) in listed.index:
            assert listed[(f"{r['month']}-01", r["place"])] == float(r["download_%"]), r
    assert "| 2020-04 | Mainland China | 65.08% | 64.81% |" in README.read_text(encoding="utf-8")


def test_readme_hashrate_row_counts() -> None:
    counts = dict(re.findall(r"^\| `(hashrate/[\w]+\.csv)` \| (\d+) \|", README.read_text(encoding="utf-8"), flags=re.M))
    assert set(counts) == {f"hashrate/{p.name}" for p in HASHRATE.glob("*.csv")}
    for rel, n in counts.items():
        assert len(text(DATA / rel)) == int(n), rel


# --- the figures the maps show, reproduced from data/ through the library --------------------------------


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return read_hashrate([COUNTRIES, PROVINCES], today=TODAY).frame


def test_april_2020_china(records: pd.DataFrame) -> None:
    result = estimate_hashrate(records[records["region"].isna()], month="2020-04")
    china = result.table[(result.table["country"] == "CN") & result.table["region"].isna()].iloc[0]
    assert china["share"] == pytest.approx(0.6481) and china["hashrate_ehs"] == pytest.approx(72.19)


@pytest.mark.integration
def test_xinjiang_share_of_global_april_2020(records: pd.DataFrame) -> None:
    result = estimate_hashrate(records, month="2020-04", level="admin1")
    xj = result.table[result.table["region"] == "CN-XJ"].iloc[0]
    assert round(xj["share"] * 100, 2) == 35.76 and round(xj["share_of_country"] * 100, 2) == 55.18


@pytest.mark.integration
def test_january_2022_us() -> None:
    result = api.estimate_from_files(COUNTRIES, today=TODAY, options=api.HashrateOptions(month="2022-01"))
    us = result.table[result.table["country"] == "US"].iloc[0]
    assert us["share"] == pytest.approx(0.3784) and us["hashrate_ehs"] == pytest.approx(70.97)


@pytest.mark.integration
def test_georgia_december_2021_share_of_us() -> None:
    result = api.estimate_from_files(US_STATES, level="admin1", today=TODAY)
    ga = result.table[result.table["region"] == "US-GA"].iloc[0]
    assert ga["month"] == "2021-12" and ga["share_of_country"] == pytest.approx(0.3076)
    assert result.metadata["scope"] == "country"
