"""The command line on statuses, history, steps and change: what it prints and writes, against hand sums.

The hand-made file and its sums are described in tests/test_pipeline.py.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacitymap.cli import main

pytestmark = pytest.mark.integration

FILE = Path(__file__).parent / "fixtures" / "statuses" / "every_status.csv"


def run(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_summary_counts_only_operational_by_default_and_says_so() -> None:
    result = run("summary", FILE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.splitlines()[0] == "Counted: operational capacity (MW); other statuses in their own columns, not in the total."
    head = out.splitlines()[1].split()
    assert head[:6] == ["iso_3166_2", "region_name", "country", "capacity_mw", "facilities", "share"]
    assert head[6:] == ["operational_mw", "under_construction_mw", "planned_mw", "curtailed_mw", "closed_mw"]
    assert "read 10 row(s), 917.0 MW; mapped 3 row(s), 290.0 MW" in out
    assert "filtered (status planned): 1 row(s), 42.0 MW" in out and "filtered (superseded by a newer figure): 3 row(s), 170.0 MW" in out
    assert "nan" not in out  # a region with no counted site shows an empty cell, not nan


def test_summary_two_statuses_are_labelled_and_added_json() -> None:
    result = run("summary", FILE, "--status", "under_construction", "--status", "operational", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["statuses"] == ["operational", "under_construction"]
    rows = {r["iso_3166_2"]: r for r in doc["rows"]}
    assert rows["US-TX"]["capacity_mw"] == 650.0 and rows["US-TX"]["operational_mw"] == 250.0 and rows["US-TX"]["under_construction_mw"] == 400.0
    assert rows["US-NY"]["capacity_mw"] is None  # only a closed site: none reported
    rec = doc["reconciliation"]
    assert rec["capacity_mw_mapped"] == 690.0 and rec["balanced"] is True
    assert sum(r["capacity_mw"] or 0.0 for r in doc["rows"]) == rec["capacity_mw_mapped"]
    table = run("summary", FILE, "--status", "operational", "--status", "under_construction").output
    assert table.startswith("Counted: operational + under construction capacity (MW)")


def test_summary_as_of_a_past_date() -> None:
    result = run("summary", FILE, "--as-of", "2022-03", "--format", "csv")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.output)).set_index("iso_3166_2")
    assert frame["capacity_mw"].dropna().to_dict() == {"US-TX": 100.0, "US-GA": 50.0, "US-NY": 20.0, "CA-AB": 10.0}


def test_summary_change_against_hand_sums() -> None:
    result = run("summary", FILE, "--change", "2022-01:2023-02", "--format", "csv")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.output)).set_index("iso_3166_2")
    assert frame["capacity_change_mw"].to_dict() == {"US-TX": 150.0, "US-GA": 30.0, "CA-AB": 10.0, "US-NY": -20.0}
    assert frame.loc["US-TX", ["capacity_mw_start", "capacity_mw_end", "sites_grown"]].tolist() == [100.0, 250.0, 1]
    assert frame.loc["US-NY", "sites_removed"] == 1
    table = run("summary", FILE, "--change", "2022-01:2023-02")
    assert table.output.startswith("Change in operational capacity (MW) from 2022-01 to 2023-02:")
    assert "read 10 row(s), 917.0 MW; mapped 5 row(s), 410.0 MW" in table.output
    by_operator = pd.read_csv(io.StringIO(run("summary", FILE, "--change", "2022-01:2023-02", "--by", "operator", "--format", "csv").output))
    assert by_operator["capacity_change_mw"].sum() == 170.0


@pytest.mark.parametrize("text", ["2023-12", "2025-03:2023-13", "soon:later", "2023-12:2025-03:2026-01"])
def test_change_needs_two_real_dates(text: str) -> None:
    result = CliRunner().invoke(main, ["summary", str(FILE), "--change", text])
    assert result.exit_code == 2 and "expected two dates FROM:TO" in result.output


def test_change_backwards_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["summary", str(FILE), "--change", "2023-02:2022-01"])
    assert result.exit_code == 1 and "FROM before TO" in result.output


def test_render_default_reports_what_is_drawn(tmp_path: Path) -> None:
    out = tmp_path / "us.html"
    result = run("render", FILE, "--preset", "us", "-o", out, "--alt-text")
    assert result.exit_code == 0, result.output
    assert "filtered (outside this map): 2 row(s), 52.0 MW" in result.output
    assert "mapped 2 row(s), 280.0 MW" in result.output
    assert "map total 280 MW" in result.output  # the alt text says what the stderr says
    html = out.read_text(encoding="utf-8")
    assert "280.0 MW operational capacity mapped" in html and "Outside this map (United States): 2 rows, 52.0 MW" in html


def test_render_png_counts_only_operational(tmp_path: Path) -> None:
    out = tmp_path / "na.png"
    result = run("render", FILE, "--preset", "north-america", "-o", out, "--format", "png")
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG") and "mapped 3 row(s), 290.0 MW" in result.output


def test_render_month_on_a_capacity_map_draws_that_date(tmp_path: Path) -> None:
    out = tmp_path / "m.png"
    result = run("render", FILE, "--preset", "north-america", "-o", out, "--format", "png", "--month", "2022-03")
    assert result.exit_code == 0, result.output
    assert "mapped 4 row(s), 180.0 MW" in result.output and "filtered (dated after 2022-03): 6 row(s), 737.0 MW" in result.output


def test_render_by_month_and_change(tmp_path: Path) -> None:
    result = run("render", FILE, "--preset", "north-america", "-o", tmp_path / "m.html", "--by-month")
    assert result.exit_code == 0, result.output
    assert "mapped 3 row(s), 290.0 MW" in result.output  # the last step, 2023-02
    result = run("render", FILE, "--preset", "north-america", "-o", tmp_path / "c.html", "--change", "2022-01:2023-02")
    assert result.exit_code == 0, result.output
    assert "mapped 5 row(s), 410.0 MW" in result.output
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "+170.0 MW" in page
    assert '<p class="cm-subtitle">From 2022-01 to 2023-02</p>' in page  # a change map says which dates it compares
    both = CliRunner().invoke(main, ["render", str(FILE), "--preset", "us", "-o", str(tmp_path / "x.html"), "--by-month", "--change", "2022-01:2023-02"])
    assert both.exit_code == 2


def test_the_same_site_in_two_files_is_located_in_both(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b_copy.csv"
    shutil.copy(FILE, a)
    shutil.copy(FILE, b)
    result = CliRunner().invoke(main, ["summary", str(a), str(b)])
    assert result.exit_code == 1
    assert (f"{b}:2:site: expected each operator, site, status and date once, got 'Alpha Mining' / 'Rockdale' / 'operational' "
            f"dated 2022-01 again (first in {a}:2)") in result.output
    assert "10 problem(s); nothing was written." in result.output
    twice = CliRunner().invoke(main, ["summary", str(a), str(a)])
    assert twice.exit_code == 1 and f"{a}: expected each file once, got it again" in twice.output


def test_validate_sees_what_summary_would_refuse(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    shutil.copy(FILE, a)
    b.write_text("operator,site,region,country,latitude,longitude,capacity_mw,status,as_of\n"
                 "Zeta Compute,Calgary,AB,CA,51.0447,-114.0719,11,operational,2022-02\n", encoding="utf-8")
    result = run("validate", a, b)
    assert result.exit_code == 1
    assert f"{b}:2:site: expected one figure per operator, site, status and date, got 11 MW here and 10 MW in {a}:10" in result.output
    assert run("validate", a).exit_code == 0  # history rows in one file are fine
    twice = run("validate", a, a)
    assert twice.exit_code == 1 and "expected each file once" in twice.output


def test_change_with_another_date_is_a_usage_error(tmp_path: Path) -> None:
    summary = CliRunner().invoke(main, ["summary", str(FILE), "--change", "2022-01:2023-02", "--as-of", "2022-06"])
    assert summary.exit_code == 2 and "gives its own dates" in summary.output
    render = CliRunner().invoke(main, ["render", str(FILE), "--preset", "us", "-o", str(tmp_path / "x.html"),
                                       "--change", "2022-01:2023-02", "--month", "2022-06"])
    assert render.exit_code == 2 and "gives its own dates" in render.output


def test_render_by_quarter_and_the_change_metric_reach_the_page(tmp_path: Path) -> None:
    from capacitymap import api
    from capacitymap.render import MapSpec

    out = tmp_path / "q.html"
    result = run("render", FILE, "--preset", "north-america", "-o", out, "--by-quarter")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "2021-Q4" in html and "2023-Q1" in html  # the slider steps are the quarters
    made = api.map_files([FILE], MapSpec(preset="north-america"), change=("2022-01", "2023-02"))
    assert made.spec.metric == "capacity_change_mw"


def test_a_change_map_renders_as_a_still_too(tmp_path: Path) -> None:
    out = tmp_path / "change.png"
    result = run("render", FILE, "--preset", "north-america", "-o", out, "--change", "2022-01:2023-02")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
