"""The command line: thin shells over the library, checked by re-opening what they write."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacitymap.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
DATA = Path(__file__).parents[1] / "data"
FACILITIES = DATA / "facilities" / "north_america.csv"

pytestmark = pytest.mark.integration


def run(*args: str) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("command", ["demo", "render", "validate", "summary", "regions", "hashrate", "aggregate", "embed"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_validate_prints_every_problem_located_and_exits_1() -> None:
    result = run("validate", FIXTURES / "broken" / "bad_capacity.csv", FIXTURES / "broken" / "bad_dates.csv")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith(f"{FIXTURES / 'broken' / 'bad_capacity.csv'}:3:capacity_mw: expected a capacity") for line in lines)
    assert any(":4:capacity_mw:" in line for line in lines)
    assert any("bad_dates.csv:2:as_of:" in line for line in lines) and any("bad_dates.csv:3:as_of:" in line for line in lines)
    assert "4 problem(s) in 2 file(s)." in result.output


def test_validate_clean_files() -> None:
    countries = DATA / "hashrate" / "mining_countries.csv"
    result = run("validate", FACILITIES, countries)
    assert result.exit_code == 0, result.output
    rows = len(pd.read_csv(FACILITIES)) + len(pd.read_csv(countries))  # the shipped data grows
    assert f"OK: {rows} row(s) in 2 file(s), no problems." in result.output


def test_validate_reports_placement_problems(tmp_path: Path) -> None:
    path = tmp_path / "mid_ocean.csv"
    path.write_text("operator,site,latitude,longitude,capacity_mw,status\nSeaMine,Atlantis,30.0,-40.0,10,operational\n", encoding="utf-8")
    result = run("validate", path)
    assert result.exit_code == 1
    assert f"{path}:2:latitude: the coordinates (30, -40) fall in no covered region" in result.output


def test_summary_json_conserves_capacity() -> None:
    result = run("summary", FACILITIES, "--by", "region", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    rec = doc["reconciliation"]
    total = sum(r["capacity_mw"] or 0.0 for r in doc["rows"])  # None: a region with only other statuses
    assert total == pytest.approx(rec["capacity_mw_mapped"])
    filtered = sum(f["capacity_mw"] for f in rec["filtered"])
    assert rec["capacity_mw_read"] == pytest.approx(rec["capacity_mw_mapped"] + filtered)
    assert rec["capacity_mw_read"] == pytest.approx(pd.read_csv(FACILITIES)["capacity_mw"].sum())
    assert rec["balanced"] is True


def test_summary_filters_and_csv() -> None:
    result = run("summary", FACILITIES, "--by", "operator", "--format", "csv", "--status", "operational", "--operator", "riot")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(__import__("io").StringIO(result.output))
    assert frame["operator"].tolist() == ["Riot Platforms"]


def test_unknown_operator_is_a_data_error_with_suggestion() -> None:
    result = CliRunner().invoke(main, ["summary", str(FACILITIES), "--operator", "Riot Platfroms Inc"])
    assert result.exit_code == 1
    assert "did you mean 'Riot Platforms'" in result.output


def test_usage_error_exits_2() -> None:
    assert CliRunner().invoke(main, ["summary", str(FACILITIES), "--by", "planet"]).exit_code == 2
    assert CliRunner().invoke(main, ["render", str(FACILITIES), "--preset", "mars", "-o", "x.html"]).exit_code == 2


def test_regions_lists_codes() -> None:
    result = run("regions", "--country", "China")
    assert result.exit_code == 0
    assert "CN-XJ" in result.output and "新疆" in result.output and "CN-65" in result.output
    assert "US-TX" not in result.output


def test_render_writes_html_atomically_and_prints_alt_text(tmp_path: Path) -> None:
    out = tmp_path / "na.html"
    result = run("render", FACILITIES, "--preset", "north-america", "-o", out, "--status", "operational", "--alt-text")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Texas" in html
    assert "Texas" in result.output  # the alt text names the top region
    assert [p.name for p in tmp_path.iterdir()] == ["na.html"]  # no temporary file left behind


def test_render_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    run("render", FACILITIES, "--preset", "us", "-o", a)
    run("render", FACILITIES, "--preset", "us", "-o", b)
    assert a.read_bytes() == b.read_bytes()


def test_render_by_month_gives_capacity_a_slider(tmp_path: Path) -> None:
    import re

    out = tmp_path / "na.html"
    result = run("render", FACILITIES, "--preset", "north-america", "-o", out, "--status", "operational", "--by-month")
    assert result.exit_code == 0, result.output
    cfg = json.loads(re.search(r"var cfg = (\{.*?\});\n", out.read_text(encoding="utf-8")).group(1))
    sites = pd.read_csv(FACILITIES)
    assert cfg["months"][0] == min(sites["as_of"].astype(str))[:7] and len(cfg["months"]) > 10


def test_render_png_still(tmp_path: Path) -> None:
    out = tmp_path / "na.png"
    result = run("render", FACILITIES, "--preset", "north-america", "--format", "png", "-o", out, "--width", "800", "--height", "500")
    assert result.exit_code == 0, result.output
    from PIL import Image

    with Image.open(out) as img:
        assert img.size == (800, 500)


def test_render_refuses_invalid_input_unless_skip_invalid(tmp_path: Path) -> None:
    out = tmp_path / "x.html"
    bad = FIXTURES / "broken" / "bad_capacity.csv"
    refused = CliRunner().invoke(main, ["render", str(bad), "--preset", "us", "-o", str(out)])
    assert refused.exit_code == 1 and not out.exists()
    assert "bad_capacity.csv:3:capacity_mw" in refused.output
    allowed = CliRunner().invoke(main, ["render", str(bad), "--preset", "us", "-o", str(out), "--skip-invalid"])
    assert allowed.exit_code == 0, allowed.output
    assert "rejected" in allowed.output and "bad_capacity.csv:3" in allowed.output and out.exists()


def test_render_hashrate_world(tmp_path: Path) -> None:
    out = tmp_path / "world.html"
    result = run("render", DATA / "hashrate" / "mining_countries.csv", "--preset", "world", "-o", out)
    assert result.exit_code == 0, result.output
    import re
    import urllib.parse

    html = out.read_text(encoding="utf-8")
    # The embedded "Get the data" CSV carries every month's figures: China's April 2020 share among them.
    csv_text = urllib.parse.unquote(re.search(r'data:text/csv[^"]*', html).group(0))
    # CCAF's download (the launch figure 65.08% is in data/hashrate/ccaf_errata.csv), with CCAF's own EH/s
    assert "\nCN,China,2020-04,0.6481,72.19\n" in csv_text


def test_hashrate_command_reproduces_ccaf_figures() -> None:
    result = run("hashrate", DATA / "hashrate" / "mining_countries.csv", "--month", "2020-04", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    china = [r for r in rows if r["country"] == "CN"]
    assert china[0]["share"] == pytest.approx(0.6481) and china[0]["hashrate_ehs"] == pytest.approx(72.19)


def test_hashrate_vpn_correction_with_equal_pool_weights() -> None:
    pools = FIXTURES / "messy" / "pool_shares.csv"
    refused = CliRunner().invoke(main, ["hashrate", str(pools), "--level", "admin1"])
    assert refused.exit_code == 1 and "choose equal weights" in refused.output
    result = run("hashrate", pools, "--level", "admin1", "--vpn-correct", "BTC.com:CN-SC", "--pool-weighting", "equal",
                 "--format", "json", "--explain")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output[result.output.index("{"):])
    assert doc["metadata"]["pool_weighting"] == "equal" and doc["metadata"]["vpn_corrections"] == ["BTC.com:CN-SC:proportional"]
    sichuan = next(r for r in doc["rows"] if r["region"] == "CN-SC")
    assert sichuan["share"] == 0.0 and sichuan["vpn_corrected"] is True


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--vpn-correct", "CN-ZJ", "expected POOL:REGION[:VARIANT], got 'CN-ZJ'"),
        ("--vpn-correct", "BTC.com:Zhejiang", "expected an ISO 3166-2 region code such as 'CN-ZJ', got 'Zhejiang'"),
        ("--months", "2020-01", "expected a range YYYY-MM:YYYY-MM such as 2020-01:2020-03, got '2020-01'"),
        ("--months", "2020-03:2020-01", "expected a range from an earlier to a later month"),
    ],
)
def test_hashrate_option_strings_are_usage_errors_before_any_reading(option: str, value: str, message: str) -> None:
    # The files do not exist: the option is refused while parsing, before anything is read.
    for command in (["hashrate", "nowhere.csv"], ["render", "nowhere.csv", "--preset", "world", "-o", "never.html"]):
        result = CliRunner().invoke(main, [*command, option, value])
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split())


def test_the_vpn_correction_text_is_parsed_by_the_command_line() -> None:
    from capacitymap.method import VpnCorrection

    ctx = main.make_context("capacitymap", ["hashrate", "x.csv"], resilient_parsing=True)
    parsed = main.commands["hashrate"].make_context(
        "hashrate", ["x.csv", "--vpn-correct", "a:b:CN-ZJ", "--vpn-correct", "P:CN-SC:neighbours", "--months", "2020-01:2020-03"], parent=ctx)
    assert parsed.params["vpn_correct"] == (VpnCorrection("a:b", "CN-ZJ"), VpnCorrection("P", "CN-SC", "neighbours"))
    assert tuple(parsed.params["months"]) == ("2020-01", "2020-03")


def test_embed_snippet() -> None:
    result = run("embed", "map.html", "--url", "https://example.org/m.html", "--height", "640")
    assert result.exit_code == 0
    assert '<iframe' in result.output and 'src="https://example.org/m.html"' in result.output and "640" in result.output
    bad = CliRunner().invoke(main, ["embed", "map.html", "--url", "javascript:alert(1)"])
    assert bad.exit_code == 1
    spaced = run("embed", "my maps/north america.html")  # a relative path may hold spaces (file names do)
    assert spaced.exit_code == 0 and 'src="north america.html"' in spaced.output


def test_aggregate_points_to_csv(tmp_path: Path) -> None:
    points = pd.DataFrame({"latitude": [31.0, 31.0, 45.0, 0.0, float("nan")], "longitude": [-99.0, -99.0, -72.0, -30.0, 1.0],
                           "hashrate_ths": [1e6, 1e6, 2e6, 5e5, 5e5], "month": ["2024-01"] * 5, "pool": ["P"] * 5})
    src = tmp_path / "points.parquet"
    points.to_parquet(src)
    out = tmp_path / "shares.csv"
    result = run("aggregate", src, "--weight", "hashrate_ths", "--by", "month,pool", "-o", out, "--quiet")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    tx = table[table["region"] == "US-TX"]
    assert tx["hashrate_ehs"].tolist() == pytest.approx([2.0]) and tx["share"].tolist() == pytest.approx([2 / 5])
    # The written table is read back by the hashrate reader.
    from capacitymap.records import read_hashrate

    assert len(read_hashrate(out).frame) == len(table)


def test_demo_writes_the_default_maps(tmp_path: Path) -> None:
    result = run("demo", "--out", tmp_path, "--no-stills")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "china-global.html", "china.html", "north-america.html", "us-states.html", "world.html"]


def test_the_north_america_demo_says_what_share_of_theminermags_total_it_holds(tmp_path: Path) -> None:
    from capacitymap.demo import demo_maps

    north_america = demo_maps()[0]
    mapped = json.loads(run("summary", FACILITIES, "--format", "json").output)["reconciliation"]["capacity_mw_mapped"]
    anchor = pd.read_csv(DATA / "facilities" / "region_totals.csv", dtype={"as_of": str}).query("region == 'TOTAL' and as_of == '2025-03'")
    share = f"{mapped / float(anchor['capacity_mw'].iloc[0]):.0%}"
    assert f"The map holds {mapped / 1000:,.1f} GW, {share} of TheMinerMag's 7.4 GW" in north_america.layers.coverage_note
