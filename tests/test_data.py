"""The shipped datasets in data/: sourced, well-formed, and in step with data/README.md.

Plain pandas on purpose: these tests check the files themselves, not the library's readers.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
README = DATA / "README.md"
FACILITIES = DATA / "facilities" / "north_america.csv"
PLACES = DATA / "facilities" / "north_america_places.csv"

FACILITY_HEADER = (
    "facility_id,operator,site,city,country,region,latitude,longitude,location_precision,"
    "capacity_mw,status,as_of,history,source_url,notes"
)
HEADERS = {
    FACILITIES: FACILITY_HEADER,
}  # the hashrate files' headers are checked in tests/test_data_hashrate.py
STATUSES = {"operational", "under_construction", "planned", "curtailed", "closed"}
AS_OF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
URL = re.compile(r"^https?://\S+$")


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
    assert (capacity > 0).all() and (capacity < 5000).all()


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
    stated = {k: float(v) for k, v in re.findall(r"([A-Z]{2}) ([\d.]+)", m.group(1))}
    op = current[current["status"] == "operational"].groupby("region")["mw"].sum()
    assert stated == pytest.approx(op.to_dict())
