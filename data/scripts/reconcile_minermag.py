"""Reconcile the facility file with TheMinerMag's published North American totals.

Run from the repository root with plain Python and pandas (reads data/ only):

    python data/scripts/reconcile_minermag.py

For each edition of TheMinerMag's North American Bitcoin Mining Map (end-2023: 5.42 GW, Texas about
2.7 GW; 2025 edition, data as of December 2024 or March 2025: 7.4 GW) it prints our operational MW
by country and for Texas at that date, the published figure and the ratio. "Operational MW at a
date" follows the facility file's history rules: of each operator/site/status, the newest figure
dated up to that date counts (a row dated only "2024" is after 2023-12-31); only status
``operational``. It then prints our operational MW by operator at both dates (where the gap lies),
the published company totals that have no per-site breakdown (data/facilities/operator_totals.csv),
which name most of the gap, and a cross-check against the New York Times' 34 largest US mines
(more than 3,900 MW, April 2023).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[1]
FACILITIES = DATA / "facilities" / "north_america.csv"
REGION_TOTALS = DATA / "facilities" / "region_totals.csv"
OPERATOR_TOTALS = DATA / "facilities" / "operator_totals.csv"

# (label, date our file is read at, as_of of TheMinerMag's rows in region_totals.csv)
EDITIONS = (("end-2023", "2023-12-31", "2023-12-31"), ("2025", "2025-03-31", "2025-03"))
SCOPES = (("US+CA", None, None), ("US", "US", None), ("CA", "CA", None), ("TX", "US", "TX"))
NYT_AS_OF = "2023-04"  # the NYT row in region_totals.csv
NYT_WINDOW_END = "2023-07-31"  # the NYT/Harvard study's data window: Aug 2022 - Jul 2023
NYT_MINES = 34


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _after(date: str, cutoff: str) -> bool:
    """Whether ``date`` starts after the period ``cutoff`` covers (ISO text of any precision)."""
    n = min(len(date), len(cutoff))
    return bool(date) and date[:n] > cutoff[:n]


def operational_at(facilities: pd.DataFrame, date: str) -> pd.DataFrame:
    """The operational rows that count at ``date``: newest figure per operator/site/status up to then."""
    dated = facilities[~facilities["as_of"].map(lambda d: _after(d, date))]
    key = [dated["operator"].str.casefold(), dated["site"].str.casefold(), dated["status"]]
    newest = dated.sort_values("as_of", kind="stable").groupby(key, sort=False).tail(1)
    out = newest[newest["status"] == "operational"].copy()
    out["mw"] = out["capacity_mw"].astype(float)
    return out


def published(totals: pd.DataFrame, as_of: str, country: str | None, region: str | None) -> float | None:
    """TheMinerMag's figure for a scope and edition, or None where it published none."""
    if country is None:
        hit = totals[(totals["region"] == "TOTAL") & (totals["country"] == "US+CA")]
    elif region is None:
        hit = totals[(totals["region"] == "TOTAL") & (totals["country"] == country)]
    else:
        hit = totals[(totals["region"] == region) & (totals["country"] == country)]
    hit = hit[(hit["as_of"] == as_of) & hit["notes"].str.contains("TheMinerMag")]
    return float(hit["capacity_mw"].iloc[0]) if len(hit) else None


def reconcile(data: Path = DATA) -> pd.DataFrame:
    """One row per edition and scope: ours, TheMinerMag's, ratio (NaN where nothing was published)."""
    facilities = read(data / "facilities" / "north_america.csv")
    totals = read(data / "facilities" / "region_totals.csv")
    rows = []
    for label, date, totals_as_of in EDITIONS:
        op = operational_at(facilities, date)
        for scope, country, region in SCOPES:
            part = op
            if country is not None:
                part = part[part["country"] == country]
            if region is not None:
                part = part[part["region"] == region]
            ours = round(float(part["mw"].sum()), 1)
            theirs = published(totals, totals_as_of, country, region)
            rows.append({
                "edition": label, "date": date, "scope": scope, "sites": len(part[part["mw"] > 0]),
                "ours_mw": ours, "minermag_mw": theirs,
                "ratio": round(ours / theirs, 3) if theirs else float("nan"),
            })
    return pd.DataFrame(rows)


def by_operator(data: Path = DATA) -> pd.DataFrame:
    """Operational MW and sites (MW > 0) per operator at each edition's date, largest 2025 MW first."""
    facilities = read(data / "facilities" / "north_america.csv")
    columns = {}
    for label, date, _ in EDITIONS:
        op = operational_at(facilities, date)
        grouped = op[op["mw"] > 0].groupby("operator")["mw"]
        columns[f"{label}_mw"] = grouped.sum().round(1)
        columns[f"{label}_sites"] = grouped.size()
    table = pd.DataFrame(columns).fillna(0)
    for label, _, _ in EDITIONS:
        table[f"{label}_sites"] = table[f"{label}_sites"].astype(int)
    last = EDITIONS[-1][0]
    return table.sort_values([f"{last}_mw", f"{EDITIONS[0][0]}_mw"], ascending=False, kind="stable")


def largest_mines(data: Path = DATA) -> tuple[int, float, float]:
    """(sites, MW) of our largest US operational sites at the end of the NYT/Harvard window, and NYT's MW."""
    facilities = read(data / "facilities" / "north_america.csv")
    totals = read(data / "facilities" / "region_totals.csv")
    op = operational_at(facilities, NYT_WINDOW_END)
    top = op[(op["country"] == "US") & (op["mw"] > 0)].nlargest(NYT_MINES, "mw")
    nyt = totals[(totals["region"] == "TOTAL") & (totals["country"] == "US") & (totals["as_of"] == NYT_AS_OF)]
    return len(top), round(float(top["mw"].sum()), 1), float(nyt["capacity_mw"].iloc[0])


def main() -> int:
    table = reconcile()
    shown = table.assign(
        minermag_mw=table["minermag_mw"].map(lambda v: "n/a" if pd.isna(v) else f"{v:,.0f}"),
        ratio=table["ratio"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.0%}"),
        ours_mw=table["ours_mw"].map(lambda v: f"{v:,.1f}"),
    )
    print("Operational MW in data/facilities/north_america.csv vs TheMinerMag's North American map")
    print(shown.to_string(index=False))
    print()
    print("Operational MW by operator at each edition's date (sites with MW > 0):")
    print(by_operator().to_string())
    print()
    print("Published company totals without a per-site breakdown (data/facilities/operator_totals.csv):")
    ops = read(OPERATOR_TOTALS)
    for _, r in ops.iterrows():
        print(f"  {r['operator']} ({r['scope']}, {r['country']}): {float(r['capacity_mw']):,.0f} MW "
              f"{r['meaning']}, as of {r['as_of']}")
    sites, mw, nyt = largest_mines()
    print()
    print(f"NYT/Harvard 34 largest US mines: more than {nyt:,.0f} MW (Apr 2023). Our largest {sites} US "
          f"operational sites at {NYT_WINDOW_END}: {mw:,.1f} MW ({mw / nyt:.0%}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
