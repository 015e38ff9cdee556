"""The shipped datasets in data/: sourced, well-formed, and in step with data/README.md.

Plain pandas on purpose: these tests check the files themselves, not the library's readers.
"""

from __future__ import annotations

import importlib.util
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
README = DATA / "README.md"
FACILITIES = DATA / "facilities" / "north_america.csv"
PLACES = DATA / "facilities" / "north_america_places.csv"
REGION_TOTALS = DATA / "facilities" / "region_totals.csv"
OPERATOR_TOTALS = DATA / "facilities" / "operator_totals.csv"
RECONCILE = DATA / "scripts" / "reconcile_minermag.py"
COUNTRIES = DATA / "hashrate" / "mining_countries.csv"
PROVINCES = DATA / "hashrate" / "mining_provinces_china.csv"
PROVINCES_REVISED = DATA / "hashrate" / "mining_provinces_china_revised.csv"
US_STATES = DATA / "hashrate" / "us_states.csv"
FOUNDRY = DATA / "hashrate" / "foundry_us_states.csv"

FACILITY_HEADER = (
    "facility_id,operator,site,city,country,region,latitude,longitude,location_precision,"
    "capacity_mw,status,as_of,history,source_url,notes"
)
HEADERS = {
    COUNTRIES: "date,country,monthly_hashrate_%,monthly_absolute_hashrate_EH/S,source_url",
    PROVINCES: "Date,Province,Share of global hashrate,source_url",
    PROVINCES_REVISED: "Date,Province,Share of global hashrate,source_url",
    US_STATES: "Date,State,US hashrate by state,source_url",
    FOUNDRY: "month,pool,country,region,share_%,share_of,source_url",
    FACILITIES: FACILITY_HEADER,
    REGION_TOTALS: "region,country,capacity_mw,as_of,source_url,notes",
    OPERATOR_TOTALS: "operator,scope,country,capacity_mw,as_of,meaning,source_url,notes",
}
STATUSES = {"operational", "under_construction", "planned", "curtailed", "closed"}
AS_OF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
URL = re.compile(r"^https?://\S+$")
TOLERANCE_PCT = 100.5


def read_text_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def readme() -> str:
    return README.read_text(encoding="utf-8")


def all_csvs() -> list[Path]:
    return sorted(p for p in DATA.rglob("*.csv"))


@pytest.fixture(scope="module")
def facilities() -> pd.DataFrame:
    return read_text_csv(FACILITIES)


@pytest.fixture(scope="module")
def current(facilities: pd.DataFrame) -> pd.DataFrame:
    cur = facilities[facilities["history"] == "false"].copy()
    cur["mw"] = cur["capacity_mw"].astype(float)
    return cur


# --- every file -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(HEADERS), ids=lambda p: p.name)
def test_header_is_exact(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == HEADERS[path]


@pytest.mark.parametrize("path", all_csvs(), ids=lambda p: p.name)
def test_every_sourced_row_has_an_http_source_url(path: Path) -> None:
    frame = read_text_csv(path)
    if "source_url" not in frame.columns:  # the geocoding audit file cites GeoNames ids instead
        assert path == PLACES
        return
    bad = frame[~frame["source_url"].str.match(URL)]
    assert bad.empty, f"{path.name}: rows without an http(s) source_url:\n{bad}"


def test_readme_row_counts_match_the_files() -> None:
    counts = dict(re.findall(r"^\| `([\w/]+\.csv)` \| (\d+) \|", readme(), flags=re.M))
    assert set(counts) == {str(p.relative_to(DATA)) for p in all_csvs()}
    for rel, n in counts.items():
        assert len(read_text_csv(DATA / rel)) == int(n), rel


def test_readme_states_last_updated() -> None:
    assert "Last updated: **2026-11-21**" in readme()


# --- facilities -------------------------------------------------------------------------------


def test_as_of_is_an_iso_date_of_the_stated_precision(facilities: pd.DataFrame) -> None:
    for value in facilities["as_of"]:
        assert AS_OF.match(value), value
        parts = [int(x) for x in value.split("-")] + [1, 1]
        date(*parts[:3])  # raises on a month 13 or a 31 April
        assert value <= "2026-11-21"


def test_facility_ids_are_unique_slugs(facilities: pd.DataFrame) -> None:
    assert facilities["facility_id"].is_unique
    assert facilities["facility_id"].str.match(r"^[a-z0-9]+(-[a-z0-9]+)*$").all()


def test_vocabularies(facilities: pd.DataFrame) -> None:
    assert set(facilities["status"]) <= STATUSES
    assert set(facilities["country"]) == {"US", "CA"}
    assert facilities["region"].str.match(r"^[A-Z]{2}$").all()
    assert set(facilities["history"]) == {"true", "false"}
    assert set(facilities["location_precision"]) <= {"city", "county", "region"}
    capacity = facilities["capacity_mw"].astype(float)
    assert (capacity >= 0).all() and (capacity < 5000).all()


def test_zero_mw_only_where_a_source_says_mining_stopped(facilities: pd.DataFrame) -> None:
    zero = facilities[facilities["capacity_mw"].astype(float) == 0]
    assert not zero.empty
    assert set(zero["status"]) == {"operational"}
    assert zero["notes"].str.startswith("0 MW").all()
    # a zero ends an earlier figure of the same site and status, so it is never the site's first row
    for _, row in zero.iterrows():
        same = facilities[(facilities["operator"] == row["operator"]) & (facilities["site"] == row["site"])
                          & (facilities["status"] == row["status"])]
        earlier = same[same["as_of"] < row["as_of"]]
        assert (earlier["capacity_mw"].astype(float) > 0).any(), row["facility_id"]


def test_no_two_rows_of_a_site_on_one_date(facilities: pd.DataFrame) -> None:
    assert not facilities.duplicated(["operator", "site", "status", "as_of"]).any()


def test_coordinates_follow_location_precision(facilities: pd.DataFrame) -> None:
    located = facilities["location_precision"] != "region"
    assert (facilities.loc[~located, ["latitude", "longitude"]] == "").all().all()
    lat = facilities.loc[located, "latitude"].astype(float)
    lon = facilities.loc[located, "longitude"].astype(float)
    # North America, western hemisphere: catches swapped or sign-flipped coordinates.
    assert lat.between(24, 70).all() and lon.between(-141, -52).all()
    assert facilities.loc[located, "latitude"].str.match(r"^-?\d+\.\d{1,4}$").all()
    assert facilities.loc[located, "longitude"].str.match(r"^-?\d+\.\d{1,4}$").all()


def test_coordinates_come_from_the_geocoding_audit(facilities: pd.DataFrame) -> None:
    places = read_text_csv(PLACES)
    known = set(zip(places["latitude"], places["longitude"]))
    located = facilities[facilities["location_precision"] != "region"]
    assert set(zip(located["latitude"], located["longitude"])) <= known
    assert (places.loc[places["location_precision"] != "region", "geonames_id"] != "").all()


def test_one_current_row_per_operator_site_status(facilities: pd.DataFrame) -> None:
    for key, group in facilities.groupby(["operator", "site", "status"]):
        current = group[group["history"] == "false"]
        assert len(current) == 1, key
        assert current["as_of"].iloc[0] == group["as_of"].max(), key


def test_no_site_counted_twice_among_current_rows(current: pd.DataFrame) -> None:
    assert not current.duplicated(["site", "region", "status"]).any()
    # A site belongs to one (normalised) operator: renamed companies must not split a site.
    operators_per_site = current.groupby(["site", "region"])["operator"].nunique()
    assert (operators_per_site == 1).all(), operators_per_site[operators_per_site > 1]


def test_totals_by_status_match_readme(current: pd.DataFrame) -> None:
    rows = re.findall(
        r"^\| (\w+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", readme(), flags=re.M
    )
    stated = {status: (int(n), float(mw), float(us), float(ca)) for status, n, mw, us, ca in rows}
    assert set(stated) == set(current["status"])
    for status, (n, mw, us, ca) in stated.items():
        part = current[current["status"] == status]
        assert len(part) == n, status
        assert part["mw"].sum() == pytest.approx(mw, abs=1e-6), status
        by_country = part.groupby("country")["mw"].sum()
        assert by_country.get("US", 0.0) == pytest.approx(us, abs=1e-6), status
        assert by_country.get("CA", 0.0) == pytest.approx(ca, abs=1e-6), status


def test_operational_sentence_matches_readme(current: pd.DataFrame) -> None:
    text = " ".join(readme().split())
    m = re.search(
        r"current operational capacity \(history=false, status=operational\): (\d+) rows, "
        r"([\d.]+) MW; by country US ([\d.]+) MW, CA ([\d.]+) MW",
        text,
    )
    assert m, "README must state the current operational totals"
    op = current[current["status"] == "operational"]
    assert len(op) == int(m.group(1))
    assert op["mw"].sum() == pytest.approx(float(m.group(2)))
    assert op.loc[op["country"] == "US", "mw"].sum() == pytest.approx(float(m.group(3)))
    assert op.loc[op["country"] == "CA", "mw"].sum() == pytest.approx(float(m.group(4)))


def test_row_and_history_counts_match_readme(facilities: pd.DataFrame) -> None:
    text = " ".join(readme().split())
    m = re.search(r"The file has (\d+) rows, (\d+) of them history rows", text)
    assert m
    assert len(facilities) == int(m.group(1))
    assert (facilities["history"] == "true").sum() == int(m.group(2))


def test_operational_by_region_matches_readme(current: pd.DataFrame) -> None:
    text = " ".join(readme().split())
    m = re.search(r"Current operational MW by state/province: ((?:[A-Z]{2} [\d.]+,? )+)", text)
    assert m
    stated = {k: float(v) for k, v in re.findall(r"([A-Z]{2}) (\d+(?:\.\d+)?)", m.group(1))}
    op = current[current["status"] == "operational"].groupby("region")["mw"].sum()
    assert stated == pytest.approx(op.to_dict())


def _reconcile_module():
    spec = importlib.util.spec_from_file_location("reconcile_minermag", RECONCILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reconciliation_table_matches_readme() -> None:
    table = _reconcile_module().reconcile(DATA)
    rows = re.findall(
        r"^\| (end-2023|2025) \| ([\d-]+) \| ([A-Z+]+) \| (\d+) \| ([\d.]+) \| ([\d.]+|n/a) \| (\d+%|n/a) \|$",
        readme(), flags=re.M,
    )
    assert len(rows) == len(table) == 8
    for (edition, date_, scope, sites, ours, theirs, ratio), (_, row) in zip(rows, table.iterrows()):
        assert (edition, date_, scope) == (row["edition"], row["date"], row["scope"])
        assert int(sites) == row["sites"]
        assert float(ours) == pytest.approx(row["ours_mw"], abs=0.05)
        if theirs == "n/a":
            assert pd.isna(row["minermag_mw"]) and ratio == "n/a"
        else:
            assert float(theirs) == row["minermag_mw"]
            assert ratio == f"{row['ratio']:.0%}"


def test_reconciliation_reads_history_as_of_each_edition(facilities: pd.DataFrame) -> None:
    module = _reconcile_module()
    end_2023 = module.operational_at(facilities, "2023-12-31").set_index("site")["mw"]
    spring_2025 = module.operational_at(facilities, "2025-03-31").set_index("site")["mw"]
    # Drumheller: 18.7 MW (2018) counts at end-2023; the Mar-2024 closure (0 MW) at 2025
    assert end_2023["Drumheller"] == 18.7 and spring_2025["Drumheller"] == 0
    # a year-only row ("2024") is after 2023-12-31 but before 2025-03-31
    assert "Lake Mariner" not in end_2023 and spring_2025["Lake Mariner"] == 195
    # Riot Corsicana's 400 MW (Jan 2025) counts only in the 2025 edition
    assert "Corsicana Facility (Navarro County)" not in end_2023
    assert spring_2025["Corsicana Facility (Navarro County)"] == 400
    # operational only: planned and under-construction figures never count
    assert set(module.operational_at(facilities, "2025-03-31")["status"]) == {"operational"}


def test_reconciliation_by_operator_adds_up_to_the_totals() -> None:
    module = _reconcile_module()
    table = module.reconcile(DATA)
    operators = module.by_operator(DATA)
    for label in ("end-2023", "2025"):
        total = table[(table["edition"] == label) & (table["scope"] == "US+CA")].iloc[0]
        assert operators[f"{label}_mw"].sum() == pytest.approx(total["ours_mw"], abs=0.05)
        assert operators[f"{label}_sites"].sum() == total["sites"]
    # an operator whose sites have no sourced operational figure is absent, not counted as zero MW
    assert "BIT Mining" not in operators.index
    # Bitdeer's US sites count from their first sourced figure (Nov 2024) only
    assert operators.loc["Bitdeer", "end-2023_mw"] == 0
    assert operators.loc["Bitdeer", "2025_mw"] == 563 + 86 + 13
    # energized after end-2023: counts in the 2025 edition only
    assert operators.loc["Mawson Infrastructure Group", "end-2023_mw"] == 0
    assert operators.loc["Mawson Infrastructure Group", "2025_mw"] == 129


def test_energized_sites_leave_the_pipeline_with_a_later_operational_row(facilities: pd.DataFrame) -> None:
    # Hut 8's Culberson County (Salt Creek) site: 63 MW under construction (Feb 2024), energized (Apr 2024)
    site = facilities[(facilities["operator"] == "Hut 8") & (facilities["site"] == "Culberson County site")]
    uc = site[site["status"] == "under_construction"]["as_of"].max()
    op = site[site["status"] == "operational"]["as_of"].max()
    assert op > uc
    module = _reconcile_module()
    assert "Culberson County site" not in set(module.operational_at(facilities, "2023-12-31")["site"])
    spring_2025 = module.operational_at(facilities, "2025-03-31").set_index("site")["mw"]
    assert spring_2025["Culberson County site"] == 63
    # IREN Childress: 20 MW operating in Aug 2023 counts at end-2023, the 450 MW (Feb 2025) in 2025
    end_2023 = module.operational_at(facilities, "2023-12-31").set_index("site")["mw"]
    assert end_2023["Childress"] == 20 and spring_2025["Childress"] == 450


def test_minermag_totals_are_in_region_totals() -> None:
    totals = read_text_csv(REGION_TOTALS)
    minermag = totals[totals["notes"].str.contains("TheMinerMag") & (totals["region"] == "TOTAL")]
    assert set(zip(minermag["as_of"], minermag["capacity_mw"])) >= {("2023-12-31", "5420"), ("2025-03", "7400")}


# --- CCAF-format hashrate files ---------------------------------------------------------------


@pytest.fixture(scope="module")
def countries() -> pd.DataFrame:
    frame = read_text_csv(COUNTRIES)
    frame["share"] = frame["monthly_hashrate_%"].str.removesuffix("%").astype(float)
    return frame


def test_country_shares_are_percent_text(countries: pd.DataFrame) -> None:
    assert countries["monthly_hashrate_%"].str.match(r"^\d+(\.\d+)?%$").all()
    assert countries["share"].between(0, 100).all()
    assert countries["date"].str.match(r"^\d{4}-\d{2}-01$").all()
    assert countries["monthly_absolute_hashrate_EH/S"].astype(float).ge(0).all()


def test_one_row_per_month_and_country(countries: pd.DataFrame) -> None:
    assert not countries.duplicated(["date", "country"]).any()


def test_country_shares_per_month_do_not_exceed_100(countries: pd.DataFrame) -> None:
    sums = countries.groupby("date")["share"].sum()
    assert (sums <= TOLERANCE_PCT).all(), sums[sums > TOLERANCE_PCT]


def test_ccaf_country_names(countries: pd.DataFrame) -> None:
    names = set(countries["country"])
    assert {"Mainland China", "Russian Federation", "Iran, Islamic Rep.", "Germany *",
            "Ireland *", "Other"} <= names
    assert not names & {"China", "Russia", "Iran", "Germany", "Ireland", "USA"}


def test_april_2020_mainland_china(countries: pd.DataFrame) -> None:
    row = countries[(countries["date"] == "2020-04-01") & (countries["country"] == "Mainland China")]
    assert row["monthly_hashrate_%"].tolist() == ["65.08%"]


def test_months_table_in_readme_matches(countries: pd.DataFrame) -> None:
    rows = re.findall(r"^\| (\d{4}-\d{2}) \| (\d+) \| ([\d.]+)% \|", readme(), flags=re.M)
    stated = {month: (int(n), float(total)) for month, n, total in rows}
    months = countries["date"].str[:7]
    assert set(stated) == set(months)
    for month, (n, total) in stated.items():
        part = countries[months == month]
        assert len(part) == n, month
        assert part["share"].sum() == pytest.approx(total, abs=0.005), month


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        (PROVINCES, ["Date", "Province"], "Share of global hashrate"),
        (PROVINCES_REVISED, ["Date", "Province"], "Share of global hashrate"),
        (US_STATES, ["Date", "State"], "US hashrate by state"),
        (FOUNDRY, ["month", "pool", "region"], "share_%"),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_regional_shares_parse_and_sum_to_at_most_100(path: Path, key: list[str],
                                                     value: str) -> None:
    frame = read_text_csv(path)
    share = frame[value].astype(float)
    assert share.between(0, 100).all()
    assert not frame.duplicated(key).any()
    sums = share.groupby([frame[k] for k in key[:-1]]).sum()
    assert (sums <= TOLERANCE_PCT).all()


def test_province_launch_figures() -> None:
    frame = read_text_csv(PROVINCES)
    assert frame["Date"].eq("2020-04-01").all()
    xinjiang = frame.loc[frame["Province"] == "Xinjiang", "Share of global hashrate"]
    assert xinjiang.tolist() == ["35.76"]
    # Provinces are shares of global hashrate: they fit inside China's 65.08% that month.
    assert frame["Share of global hashrate"].astype(float).sum() <= 65.08


def test_foundry_file_is_foundry_only() -> None:
    frame = read_text_csv(FOUNDRY)
    assert set(frame["pool"]) == {"Foundry USA"} and set(frame["country"]) == {"US"}
    # Shares of the pool's US hashrate, not of its worldwide hashrate.
    assert set(frame["share_of"]) == {"country"}
    assert frame["month"].str.match(r"^\d{4}-\d{2}$").all()
