"""CCAF's downloads read as published, and the spreadsheet-mangled variants people make of them.

Small fixtures of the real shapes live in tests/fixtures/ccaf/ (the real files stay outside the project).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacitymap import api
from capacitymap.cli import main
from capacitymap.errors import DataError
from capacitymap.maps import hashrate_layers
from capacitymap.method import estimate_hashrate, to_region_values
from capacitymap.records import Records, read_hashrate
from capacitymap.render import MapSpec

TODAY = dt.date(2026, 11, 21)  # the day the data was last updated: no figure is dated after it

CCAF = Path(__file__).parent / "fixtures" / "ccaf"
DATA = Path(__file__).parents[1] / "data" / "hashrate"

pytestmark = pytest.mark.integration


def read(name: str, **options: object) -> Records:
    return read_hashrate(CCAF / name, today=TODAY, **options)


def run(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def row(table: pd.DataFrame, month: str, country: str, region: str | None = None) -> pd.Series:
    hit = table[(table["month"] == month) & (table["country"] == country)
                & (table["region"].isna() if region is None else table["region"] == region)]
    assert len(hit) == 1, (month, country, region)
    return hit.iloc[0]


# --- every CCAF download format -------------------------------------------------------------------


def test_countries_v111_with_other_and_absolute_ehs() -> None:
    frame = read("mining_countries_v111.csv").frame
    assert len(frame) == 20 and set(frame["pool"]) == {"CCAF"} and set(frame["share_of"]) == {"global"}
    april = frame[frame["month"] == "2020-04"].set_index("country")
    assert april.loc["CN", "share"] == pytest.approx(0.6481) and april.loc["CN", "hashrate_ehs"] == 72.19
    # CCAF's 'Other' is the country ZZ: kept, never rejected.
    assert april.loc["ZZ", "share"] == pytest.approx(0.0535)
    # Ireland's 0.0 EH/s beside a 0.0% share is a zero, not "unknown".
    assert april.loc["IE", "hashrate_ehs"] == 0.0 and set(april.index) >= {"DE", "IR", "RU"}


@pytest.mark.parametrize(("name", "share", "ehs"), [
    ("mining_countries_v110.csv", 0.6481, math.nan),
    ("absolute_mining_countries.csv", math.nan, 72.19),
])
def test_older_and_absolute_country_downloads(name: str, share: float, ehs: float) -> None:
    china = read(name).frame.set_index("country").loc["CN"]
    for got, want in ((china["share"], share), (china["hashrate_ehs"], ehs)):
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)


def test_absolute_download_gives_shares_of_the_network() -> None:
    result = estimate_hashrate(read("absolute_mining_countries.csv").frame)
    assert row(result.table, "2020-04", "CN")["share"] == pytest.approx(72.19 / (72.19 + 8.07 + 31.13))


def test_china_provinces_other_shanxi_nei_mongol() -> None:
    frame = read("china_provinces.csv").frame
    april = frame[frame["month"] == "2020-04"].set_index("region")
    assert april.loc["CN-SX", "share"] == pytest.approx(0.0103)  # CCAF's Shanxi, not Shaanxi
    assert april.loc["CN-NM", "share"] == pytest.approx(0.1245)  # Nei Mongol
    assert april.loc["CN-ZZ", "share"] == pytest.approx(0.0421)  # 'Other': the unallocated rest of China
    assert set(frame["share_of"]) == {"country"} and len(frame) == 14


def test_us_states_with_other() -> None:
    frame = read("us_states.csv").frame.set_index("region")
    assert frame.loc["US-GA", "share"] == pytest.approx(0.3076) and frame.loc["US-ZZ", "share"] == pytest.approx(0.2942)


# --- a region download alone, and with a countries file ---------------------------------------------


def test_region_download_alone_maps_shares_of_the_country(admin1, admin0) -> None:  # noqa: ANN001
    result = estimate_hashrate(read("china_provinces.csv").frame, level="admin1")
    assert result.metadata["scope"] == "country" and result.metadata["within_country"] == ("CN",)
    xj = row(result.table, "2020-04", "CN", "CN-XJ")
    assert xj["share_of_country"] == pytest.approx(0.5518) and math.isnan(xj["share"])
    values = to_region_values(result.table, level="admin1", value="share_of_country")
    assert "CN-ZZ" not in set(values["iso_3166_2"])  # 'Other' is never drawn
    layers = hashrate_layers(result, admin1=admin1, admin0=admin0.assign(geometry=None), level="admin1", value="share_of_country")
    assert layers.value_label == "share of China's hashrate"
    assert layers.values.attrs["other"]["2020-04"] == {"CN-ZZ": pytest.approx(0.0421)}
    assert "'Other' in China" in layers.coverage_note and "CCAF" in layers.credit


def test_region_download_with_countries_gives_shares_of_global() -> None:
    records = read_hashrate([CCAF / "mining_countries_v111.csv", CCAF / "china_provinces.csv"], today=TODAY).frame
    result = estimate_hashrate(records, level="admin1", month="2020-04")
    assert result.metadata["scope"] == "global"
    xj = row(result.table, "2020-04", "CN", "CN-XJ")
    assert xj["share"] == pytest.approx(0.5518 * 0.6481) and round(xj["share"] * 100, 2) == 35.76
    assert xj["share_of_country"] == pytest.approx(0.5518)
    # EH/s: CCAF's own figure on the country row, share x the network it implies on the region rows.
    april = records[(records["month"] == "2020-04") & records["region"].isna()]
    network = april["hashrate_ehs"].sum() / april["share"].sum()  # 108.40 EH/s / 100.00%
    assert row(result.table, "2020-04", "CN")["hashrate_ehs"] == 72.19
    assert xj["hashrate_ehs"] == pytest.approx(0.5518 * 0.6481 * network)


def test_map_files_region_download_alone(tmp_path: Path) -> None:
    made = api.map_files([CCAF / "china_provinces.csv"], MapSpec(preset="china", metric="share"), today=TODAY)
    assert made.layers.value_label == "share of China's hashrate"
    april = made.layers.values[made.layers.values["month"] == "2020-04"].set_index("iso_3166_2")
    assert april.loc["CN-XJ", "value"] == pytest.approx(0.5518)


# --- the absolute column is used ----------------------------------------------------------------------


def test_hashrate_ehs_map_and_weighted_average() -> None:
    made = api.map_files([CCAF / "mining_countries_v111.csv"], MapSpec(preset="world", metric="hashrate_ehs"),
                         metric="hashrate_ehs", today=TODAY)
    april = made.layers.values[made.layers.values["month"] == "2020-04"].set_index("iso_a2")
    assert april.loc["CN", "value"] == 72.19 and april["value"].notna().all()
    result = api.estimate_from_files(CCAF / "mining_countries_v111.csv", today=TODAY,
                                     options=api.HashrateOptions(months=api.MonthRange("2020-03", "2020-04"), average="weighted"))
    china = row(result.table, "2020-03:2020-04", "CN")
    # Each month's shares sum to 100.00% here, so the network is the sum of CCAF's EH/s.
    march_network = sum([71.64, 5.79, 7.55, 6.38, 6.0, 4.39, 3.77, 0.84, 0.46, 0.0])
    april_network = sum([72.19, 8.07, 7.69, 6.88, 5.96, 4.82, 4.25, 0.91, 0.63, 0.0])
    assert china["share"] == pytest.approx((march_network * 0.6706 + april_network * 0.6481) / (march_network + april_network))
    assert china["hashrate_ehs"] == pytest.approx((71.64 + 72.19) / 2)
    assert result.metadata["network_hashrate"].startswith("from CCAF")


# --- files that went through a spreadsheet ------------------------------------------------------------


def test_spreadsheet_dates_names_percent_and_extra_columns() -> None:
    records = read("spreadsheet_countries.csv")
    frame = records.frame
    assert frame["month"].tolist() == ["2019-09"] * 4 + ["2019-10"] * 4  # 9/1/19: month/day/year, from the column
    assert frame["country"].tolist() == ["CN", "US", "RU", "IR"] * 2
    assert frame["share"].iloc[0] == pytest.approx(0.7553)  # 75.53 without its % sign
    assert any("columns not read: ['Notes']" in n.message for n in records.notes)


def test_day_first_dates_detected_from_the_whole_column() -> None:
    assert read("day_first_dates.csv").frame["month"].tolist() == ["2019-09", "2019-10", "2020-04"]


def test_ambiguous_dates_fail_once_with_one_located_message() -> None:
    with pytest.raises(DataError) as info:
        read("ambiguous_dates.csv")
    assert len(info.value.problems) == 1
    problem = info.value.problems[0]
    assert (problem.line, problem.column) == (2, "Date") and "'4/5/20'" in problem.message and "YYYY-MM-DD" in problem.message


def test_unresolved_name_reported_by_name_with_a_suggestion() -> None:
    with pytest.raises(DataError) as info:
        read("misspelt_country.csv")
    assert [p.line for p in info.value.problems] == [3, 5]
    assert all("'Untied States'" in p.message and "did you mean 'United States" in p.message for p in info.value.problems)


def test_skip_invalid_lists_and_counts_on_stderr_and_in_metadata() -> None:
    result = CliRunner().invoke(main, ["hashrate", str(CCAF / "misspelt_country.csv"), "--skip-invalid", "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["metadata"]["rejected_rows"] == 2 and doc["metadata"]["rows_read"] == 4
    assert len(doc["metadata"]["rejected"]) == 2 and "Untied States" in doc["metadata"]["rejected"][0]
    assert "misspelt_country.csv:3:Country:" in result.stderr and "left out 2 invalid row(s) of 4 read" in result.stderr
    assert [r["country"] for r in doc["rows"] if r["month"] == "2020-04"] == ["CN", "ZZ"]


# --- gaps, notes, validate ----------------------------------------------------------------------------


def test_month_with_figures_for_only_some_places_gets_a_caption(admin1, admin0) -> None:  # noqa: ANN001
    result = estimate_hashrate(read("partial_month.csv").frame)
    layers = hashrate_layers(result, admin1=admin1, admin0=admin0.assign(geometry=None), level="country")
    assert layers.captions == {"2021-07": "2021-07: figures published for China only"}
    july = layers.values[layers.values["month"] == "2021-07"].set_index("iso_a2")["value"]
    assert july["CN"] == 0.0 and math.isnan(july["US"]) and math.isnan(july["KZ"])  # no data, never a colour


def test_coverage_note_fits_the_months_shown(admin1, admin0) -> None:  # noqa: ANN001
    records = read_hashrate(DATA / "mining_countries.csv", today=TODAY).frame
    a0 = admin0.assign(geometry=None)
    early = hashrate_layers(estimate_hashrate(records, month="2019-09"), admin1=admin1, admin0=a0, level="country").coverage_note
    late = hashrate_layers(estimate_hashrate(records, month="2022-01"), admin1=admin1, admin0=a0, level="country").coverage_note
    assert "about 37%" in early and "Foundry" not in early
    assert "Foundry" in late and "37%" not in late
    assert "'Other'" in late and "not drawn" in late


def test_validate_checks_what_render_needs(tmp_path: Path) -> None:
    pools = CCAF / "two_pools_no_hashrate.csv"
    result = run("validate", pools)
    assert result.exit_code == 1 and "--pool-weighting equal" in result.output
    refused = run("render", pools, "--preset", "world", "-o", tmp_path / "map.html")
    assert refused.exit_code == 1 and "--pool-weighting equal" in refused.output
    assert run("render", pools, "--preset", "world", "-o", tmp_path / "map.html", "--pool-weighting", "equal").exit_code == 0


def test_readme_hashrate_example_runs_as_written() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in readme.splitlines() if ln.startswith("capacitymap hashrate "))
    args = line.split("#")[0].split()[1:]
    root = Path(__file__).parents[1]
    args = [str(root / a) if a.startswith("data/") else a for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "[window] 2020-01:2020-03 (weighted average): months weighted by network hashrate" in result.output
    assert "CN-XJ" in result.output


def test_skip_invalid_counts_each_unresolved_name_once() -> None:
    result = CliRunner().invoke(main, ["hashrate", str(CCAF / "misspelt_country.csv"), "--skip-invalid"])
    assert result.exit_code == 0
    summary = [line for line in result.stderr.splitlines() if line.startswith("  2 x Country: unknown country: 'Untied States'")]
    assert len(summary) == 1 and "did you mean 'United States" in summary[0]


def test_render_with_skip_invalid_lists_the_rows_and_says_so_on_the_page(tmp_path: Path) -> None:
    out = tmp_path / "world.html"
    result = CliRunner().invoke(main, ["render", str(CCAF / "misspelt_country.csv"), "--preset", "world", "-o", str(out), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "misspelt_country.csv:3:Country: unknown country: 'Untied States'" in result.stderr
    assert "Left out as invalid (--skip-invalid): 2 row(s)" in out.read_text(encoding="utf-8")


def test_hashrate_csv_neutralises_formula_cells() -> None:
    result = CliRunner().invoke(main, ["hashrate", str(CCAF / "formula_pool.csv"), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(pd.read_csv(__import__("io").StringIO(result.stdout))["pools"])
    assert rows and all(str(p).startswith("'=HYPERLINK") for p in rows)


@pytest.mark.parametrize(("name", "method", "credit"), [
    ("cambridge_2025_survey_countries.csv", "a survey of 49 mining firms", "Digital Mining Industry Report"),
    ("hashrate_index_countries.csv", "quarterly estimates", "Hashrate Index (Luxor)"),
])
def test_newer_sources_are_labelled_with_their_method(name: str, method: str, credit: str) -> None:
    made = api.map_files([DATA / name], MapSpec(preset="world", metric="share"), today=TODAY)
    note = made.layers.coverage_note
    assert method in note and "CCAF's sample" not in note and credit in made.layers.credit
    assert made.layers.value_label == "share of global hashrate"


def test_xlsx_download_with_percent_cells_kept_as_fractions(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["date", "country", "monthly_hashrate_%", "monthly_absolute_hashrate_EH/S"])
    import datetime as dt

    for name, share, ehs in (("Mainland China", 0.6481, 72.19), ("United States", 0.0724, 8.07), ("Other", 0.2795, 31.13)):
        ws.append([dt.datetime(2020, 4, 1), name, share, ehs])  # Excel keeps 64.81% as 0.6481 and dates as dates
    path = tmp_path / "export.xlsx"
    wb.save(path)
    records = read_hashrate(path, today=TODAY)
    china = records.frame.set_index("country").loc["CN"]
    assert china["share"] == pytest.approx(0.6481) and china["month"] == "2020-04" and china["hashrate_ehs"] == 72.19
    assert any("read as fractions" in n.message for n in records.notes)


def test_rendered_region_download_says_what_it_shows(tmp_path: Path) -> None:
    out = tmp_path / "china.html"
    result = run("render", CCAF / "china_provinces.csv", "--preset", "china", "-o", out)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Share of China&#x27;s hashrate by state or province" in html or "Share of China's hashrate by state or province" in html
    assert "CCAF (Cambridge Centre for Alternative Finance)" in html
    mine = run("render", CCAF / "china_provinces.csv", "--preset", "china", "-o", tmp_path / "own.html", "--credit", "My desk")
    assert mine.exit_code == 0 and "My desk" in (tmp_path / "own.html").read_text(encoding="utf-8")


def test_one_quarter_renders_as_a_single_date_map(tmp_path: Path) -> None:
    out = tmp_path / "q2.html"
    result = run("render", DATA / "hashrate_index_countries.csv", "--preset", "world", "-o", out)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "2025-Q2" in html and "Hashrate Index (Luxor)" in html
