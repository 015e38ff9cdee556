"""Hostile and malformed inputs, outputs that must not destroy anything, options that must be refused.

Every hostile file is generated here (stale- and bomb-dimension workbooks, a FIFO, links to devices); each case
asserts the located message a user would read. The CLI cases re-open what was (or was not) written.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacitymap.errors import DataError, OutputError
from capacitymap.io.tables import Limits, read_header, read_table
from capacitymap.io.write import (
    TEMPORARY_PATTERN,
    OutputLedger,
    check_output,
    frame_to_csv,
    neutralize_formulas,
    sweep_stale_temporaries,
    write_bytes_atomic,
)
from capacitymap.records import kinds_of, read_records

SRC = Path(__file__).parents[1] / "src"
SITES = "operator,site,state,capacity_mw,status\nRiot,Rockdale,Texas,700,operational\nBitfarms,Sherbrooke,QC,96,operational\n"


def problems_of(exc: pytest.ExceptionInfo[DataError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# --- spreadsheets read as they are ---------------------------------------------------------------

def _workbook(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _rewrite_sheet(path: Path, edit) -> None:  # noqa: ANN001 - str -> str on the first sheet's XML
    """Edit the first sheet's XML inside the .xlsx, as some export tools write it."""
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info.filename) for info in zf.infolist()}
    name = "xl/worksheets/sheet1.xml"
    members[name] = edit(members[name].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)


def _ten_sites(tmp_path: Path) -> Path:
    rows = [["operator", "site", "state", "capacity_mw", "status"]]
    rows += [[f"Op{i}", f"Site{i}", "Texas", 10 + i, "operational"] for i in range(10)]
    return _workbook(tmp_path / "sites.xlsx", rows)


def test_stale_dimension_does_not_hide_rows(tmp_path: Path) -> None:
    path = _ten_sites(tmp_path)
    _rewrite_sheet(path, lambda xml: re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:K3"/>', xml))
    assert '<dimension ref="A1:K3"/>' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    table = read_table(path)
    assert len(table) == 10 and table.lines == list(range(2, 12))
    assert table.cells["site"].tolist()[-1] == "Site9"


def test_huge_declared_dimension_reads_only_what_is_there(tmp_path: Path) -> None:
    path = _ten_sites(tmp_path)
    _rewrite_sheet(path, lambda xml: re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD3000000"/>', xml))
    started = time.monotonic()
    table = read_table(path)
    assert len(table) == 10 and table.header == ["operator", "site", "state", "capacity_mw", "status"]
    assert time.monotonic() - started < 30  # unbounded padding took minutes and gigabytes


def test_a_row_numbered_past_the_limit_is_refused_with_the_limit_and_how_to_raise_it(tmp_path: Path) -> None:
    path = _ten_sites(tmp_path)
    # a sheet that jumps to row 3,000,000 (the 1.7 MB workbook that ran out of memory declared as many)
    _rewrite_sheet(path, lambda xml: xml.replace(
        "</sheetData>", '<row r="3000000"><c r="A3000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    with pytest.raises(DataError) as err:
        read_table(path, limits=Limits(max_rows=1000))
    (problem,) = err.value.problems
    assert problem.file == str(path) and problem.line == 1002
    assert "expected sheet rows numbered up to 1,001 (a header and 1,000 records), got more" in problem.message
    assert "CAPACITYMAP_MAX_ROWS=2000" in problem.message


def test_the_row_limit_is_raised_by_its_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("a,b\n" + "1,2\n" * 30, encoding="utf-8")
    monkeypatch.setenv("CAPACITYMAP_MAX_ROWS", "20")
    with pytest.raises(DataError, match=r"rows.csv:22: expected at most 20 records, got more .*CAPACITYMAP_MAX_ROWS=40"):
        read_table(path)
    monkeypatch.setenv("CAPACITYMAP_MAX_ROWS", "30")
    assert len(read_table(path)) == 30


def test_too_many_columns_is_refused(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "wide.xlsx", [[f"c{i}" for i in range(30)], list(range(30))])
    with pytest.raises(DataError, match=r"wide.xlsx:1: expected at most 20 columns, got 30; .*CAPACITYMAP_MAX_COLUMNS=30"):
        read_table(path, limits=Limits(max_columns=20))


def test_a_workbook_that_unzips_too_large_is_refused_before_parsing(tmp_path: Path) -> None:
    path = _ten_sites(tmp_path)
    with pytest.raises(DataError, match=r"expected a workbook of at most 0 MB once unzipped, got .* CAPACITYMAP_MAX_UNPACKED_MB=1"):
        read_table(path, limits=Limits(max_unpacked_bytes=1000))


def test_formula_without_a_saved_result_is_reported_as_such(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "formulas.xlsx", [
        ["operator", "site", "state", "capacity_mw", "status", "notes"],
        ["Riot", "Rockdale", "Texas", "=350*2", "operational", None],
        ["Bitfarms", "Sherbrooke", "QC", 96, "operational", None],
    ])
    with pytest.raises(DataError) as err:
        read_table(path)
    assert problems_of(err) == [
        f"{path}:2:capacity_mw: expected a value, got a formula with no saved result ('=350*2'); open the file in "
        "Excel or LibreOffice and save it so the results are stored, or paste the values"
    ]


def test_cells_beyond_the_header_are_reported_like_a_ragged_row(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "ragged.xlsx", [
        ["operator", "site", "state", "capacity_mw", "status"],
        ["Riot", "Rockdale", "Texas", 700, "operational"],
        ["Bitfarms", "Sherbrooke", "QC", 96, "operational", None, "30 MW more"],
    ])
    with pytest.raises(DataError) as err:
        read_table(path)
    assert problems_of(err) == [
        f"{path}:3: expected 5 cells like the header, got a value in column G beyond it ('30 MW more'); "
        "give that column a header or delete the value"
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_text_with_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "excel_unicode.csv"
    text = "operator\tsite\tstate\tcapacity_mw\tstatus\nBitmain\t大同\tQC\t96,5\toperational\n"
    data = text.encode(encoding)
    if encoding != "utf-16":  # the -be/-le codecs write no BOM: add it as Excel does
        data = ("\ufeff" + text).encode(encoding)
    path.write_bytes(data)
    table = read_table(path)
    assert table.header == ["operator", "site", "state", "capacity_mw", "status"]
    assert table.cells.loc[0, "site"] == "大同"
    assert read_header(path) == table.header


def test_utf16_without_a_byte_order_mark_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nobom.csv"
    path.write_bytes("operator,site\nA,B\n".encode("utf-16-le"))
    with pytest.raises(DataError, match=r"got a binary file \(it looks like UTF-16 text without a byte-order mark\)"):
        read_table(path)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError) as err:
        read_table(fifo)
    assert problems_of(err) == [f"{fifo}: expected an ordinary file, got a pipe (FIFO); save the data to a file first and pass that file"]


@pytest.mark.parametrize("through_link", [False, True])
def test_dev_zero_is_refused(tmp_path: Path, through_link: bool) -> None:
    path: Path = Path("/dev/zero")
    if through_link:
        path = tmp_path / "zeros.csv"
        path.symlink_to("/dev/zero")
    with pytest.raises(DataError, match=r"expected an ordinary file, got a character device" + (r" \(through a link\)" if through_link else "")):
        read_records(path)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 600_000)  # 2.4 MB
    monkeypatch.setenv("CAPACITYMAP_MAX_INPUT_MB", "1")
    with pytest.raises(DataError, match=r"big.csv: expected a file of at most 1 MB, got 2.3 MB; split the file, or .*CAPACITYMAP_MAX_INPUT_MB=3"):
        read_table(path)


def test_a_proc_file_that_claims_size_zero_is_still_bounded(tmp_path: Path) -> None:
    # /proc files report size 0 and are regular files: the reader reads at most the limit + 1 byte.
    with pytest.raises(DataError, match=r"expected a file of at most 0 MB, got more"):
        read_table("/proc/self/maps", limits=Limits(max_bytes=10))


def test_state_and_region_columns_are_named_in_the_files_own_name(tmp_path: Path) -> None:
    path = tmp_path / "both.csv"
    path.write_text("operator,site,state,region,capacity_mw,status\nRiot,Rockdale,Texas,US-TX,700,operational\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_records(path)
    assert all(p.file == str(path) for p in err.value.problems), problems_of(err)
    assert any("expected one column for 'region', got 'state' and 'region'" in p.message for p in err.value.problems)


def test_capacity_in_mw_and_gw_is_an_error_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text("operator,site,state,capacity_mw,capacity_gw,status\nRiot,Rockdale,Texas,700,0.7,operational\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_records(path)
    assert problems_of(err) == [
        f"{path}:1:capacity_gw: expected one capacity column, got 'capacity_mw' and 'capacity_gw' (the same quantity "
        "in two units); keep one and delete the other"
    ]


def test_kinds_are_told_from_headers_alone(tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text(SITES, encoding="utf-8")
    pools = tmp_path / "pools.csv"
    pools.write_text("month,pool,country,share\n2020-04,P,CN,0.5\n", encoding="utf-8")
    junk = tmp_path / "junk.csv"
    junk.write_text("x,y\n1,2\n", encoding="utf-8")
    assert kinds_of([sites, pools, junk]) == {str(sites): "facilities", str(pools): "hashrate", str(junk): None}


# --- writing: atomic, nothing left behind, nothing replaced that should not be --------------------

_WRITER = textwrap.dedent("""
    import sys, time
    from capacitymap.cli import _exit_cleanly_on_sigterm
    from capacitymap.io.write import open_atomic
    _exit_cleanly_on_sigterm()
    with open_atomic(sys.argv[1], unnamed=sys.argv[2] == "unnamed") as fh:
        fh.write(b"partial" * 1000)
        fh.flush()
        print("writing", flush=True)
        time.sleep(60)
""")


def _start_writer(target: Path, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), mode], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    return proc


@pytest.mark.parametrize("mode", ["unnamed", "named"])
def test_kill_9_mid_write_leaves_the_old_file_and_no_visible_temporary(tmp_path: Path, mode: str) -> None:
    target = tmp_path / "map.html"
    target.write_text("the last good map", encoding="utf-8")
    proc = _start_writer(target, mode)
    during = sorted(p.name for p in tmp_path.iterdir())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert target.read_text(encoding="utf-8") == "the last good map"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "map.html")
    if mode == "unnamed":
        assert during == ["map.html"] and left == []  # the data never had a name
    else:
        # a hidden file named for its output and process, swept by the next write in that folder
        assert len(left) == 1 and TEMPORARY_PATTERN.match(left[0]).group("name") == "map.html"
        assert TEMPORARY_PATTERN.match(left[0]).group("pid") == str(proc.pid)
        write_bytes_atomic(tmp_path / "other.png", b"png")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html", "other.png"]


def test_where_a_nameless_file_cannot_be_named_it_is_copied_through_a_named_one(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Systems that refuse linkat(AT_EMPTY_PATH) and /proc/self/fd links to unprivileged users cannot be made here
    # (the tests run as root); the refusal is stood in for, the copy that follows is real.
    from capacitymap.io import write as write_module

    monkeypatch.setattr(write_module, "_link_into_place", lambda fd, target: False)
    target = tmp_path / "map.html"
    write_bytes_atomic(target, b"x" * 3_000_000)
    assert target.read_bytes() == b"x" * 3_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_sigterm_mid_write_removes_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "map.html"
    proc = _start_writer(target, "named")
    assert any(TEMPORARY_PATTERN.match(p.name) for p in tmp_path.iterdir())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_the_sweep_leaves_temporaries_of_live_processes(tmp_path: Path) -> None:
    mine = tmp_path / f".map.html.capacitymap-{os.getpid()}-0123abcd.tmp"
    mine.write_bytes(b"")
    dead = tmp_path / ".map.html.capacitymap-999999999-0123abcd.tmp"
    dead.write_bytes(b"")
    someone_elses = tmp_path / ".map.html.tmp"
    someone_elses.write_bytes(b"")
    assert sweep_stale_temporaries(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, someone_elses.name])


def test_check_output_refuses_inputs_folders_and_existing_files(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(SITES, encoding="utf-8")
    with pytest.raises(OutputError, match=r"is also an input file; writing it would destroy the input"):
        check_output(tmp_path / "." / "in.csv", inputs=[src])
    link = tmp_path / "link.csv"
    link.symlink_to(src)
    with pytest.raises(OutputError, match="is also an input file"):
        check_output(link, inputs=[src], overwrite=True)
    with pytest.raises(OutputError, match="is a folder"):
        check_output(tmp_path)
    with pytest.raises(OutputError, match=r"exists; pass --overwrite to replace it"):
        check_output(src)
    assert check_output(src, overwrite=True) == src
    assert check_output(tmp_path / "new.html") == tmp_path / "new.html"


def test_the_ledger_rewrites_its_own_files_only(tmp_path: Path) -> None:
    ledger = OutputLedger(tmp_path, ".ledger.json")
    ledger.check(["a.html"], overwrite=False)
    ledger.write("a.html", b"one")
    again = OutputLedger(tmp_path, ".ledger.json")
    again.check(["a.html"], overwrite=False)  # written by us, unchanged: fine
    (tmp_path / "a.html").write_bytes(b"edited by hand")
    (tmp_path / "b.html").write_bytes(b"someone else's")
    with pytest.raises(OutputError, match=r"'.*a.html', '.*b.html' exist\(s\) and were not written by this command"):
        again.check(["a.html", "b.html"], overwrite=False)
    again.check(["a.html", "b.html"], overwrite=True)


# --- CSV for spreadsheets -----------------------------------------------------------------------

def test_formula_leading_text_is_neutralised_but_negative_numbers_stay_numbers() -> None:
    frame = pd.DataFrame({"operator": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "Riot", "a=b"],
                          "change_mw": [-5.0, 1.0, -2.5, 0.0, 3.0, 4.0, 5.0, 6.0]})
    out = neutralize_formulas(frame)
    assert out["operator"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "Riot", "a=b"]
    assert out["change_mw"].tolist() == frame["change_mw"].tolist()
    assert frame["operator"].iloc[0].startswith("=")  # the caller's frame is not changed
    text = frame_to_csv(frame)
    assert "\n\"'=HYPERLINK" in text and ",-5.0\n" in text


# --- the command line -----------------------------------------------------------------------------

def cli(*args: object, env: dict[str, str] | None = None):  # noqa: ANN201 - click Result
    from capacitymap.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture
def sites(tmp_path: Path) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text(SITES, encoding="utf-8")
    return path


@pytest.mark.integration
@pytest.mark.parametrize("command", [["render", "--preset", "us"], ["aggregate", "--weight", "capacity_mw"]])
def test_an_output_equal_to_an_input_is_refused(sites: Path, command: list[str]) -> None:
    before = sites.read_bytes()
    result = cli(command[0], sites, *command[1:], "-o", sites.parent / "." / sites.name, "--overwrite")
    assert result.exit_code == 2, result.output
    assert "is also an input file; writing it would destroy the input" in result.output
    assert sites.read_bytes() == before


@pytest.mark.integration
@pytest.mark.parametrize(("out", "fmt", "magic"), [("map.png", None, b"\x89PNG"), ("map.svg", None, b"<?xml"),
                                                   ("map.html", None, b"<!DOCTYPE html>"), ("map.png", "png", b"\x89PNG")])
def test_the_output_follows_its_name(sites: Path, tmp_path: Path, out: str, fmt: str | None, magic: bytes) -> None:
    target = tmp_path / out
    result = cli("render", sites, "--preset", "us", "-o", target, *(["--format", fmt] if fmt else []), "--width", 400, "--height", 300)
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(magic)


@pytest.mark.integration
@pytest.mark.parametrize(("out", "fmt", "message"), [
    ("x.csv", "png", r"expected -o to end in .html, .png or .svg \(the suffix picks the format\), got 'x.csv'; write e.g. -o x.png"),
    ("map.jpg", None, r"got 'map.jpg'; write e.g. -o map.html"),
    ("map.html", "png", r"--format png contradicts -o 'map.html', which names a HTML file; write -o map.png, or leave --format out"),
    ("map", None, r"got 'map'"),
])
def test_an_unknown_or_contradicting_suffix_is_a_usage_error(sites: Path, tmp_path: Path, out: str, fmt: str | None, message: str) -> None:
    result = cli("render", sites, "--preset", "us", "-o", tmp_path / out, *(["--format", fmt] if fmt else []))
    assert result.exit_code == 2, result.output
    assert re.search(message, " ".join(result.output.split())), result.output
    assert not (tmp_path / out).exists()


@pytest.mark.integration
def test_an_existing_output_needs_overwrite(sites: Path, tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    out.write_text("mine", encoding="utf-8")
    refused = cli("render", sites, "--preset", "us", "-o", out)
    assert refused.exit_code == 2 and "exists; pass --overwrite to replace it" in refused.output
    assert out.read_text(encoding="utf-8") == "mine"
    replaced = cli("render", sites, "--preset", "us", "-o", out, "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.integration
def test_aggregate_refuses_an_existing_output(tmp_path: Path) -> None:
    points = tmp_path / "points.csv"
    points.write_text("latitude,longitude,hashrate_ths\n31,-99,1000\n", encoding="utf-8")
    out = tmp_path / "shares.csv"
    out.write_text("keep me", encoding="utf-8")
    refused = cli("aggregate", points, "--weight", "hashrate_ths", "-o", out, "--quiet")
    assert refused.exit_code == 2 and "exists; pass --overwrite" in refused.output
    assert out.read_text(encoding="utf-8") == "keep me"
    assert cli("aggregate", points, "--weight", "hashrate_ths", "-o", out, "--quiet", "--overwrite").exit_code == 0


@pytest.mark.integration
def test_demo_twice_rewrites_its_own_files_and_refuses_others(tmp_path: Path) -> None:
    first = cli("demo", "--out", tmp_path, "--no-stills")
    assert first.exit_code == 0, first.output
    second = cli("demo", "--out", tmp_path, "--no-stills")
    assert second.exit_code == 0, second.output
    (tmp_path / "china.html").write_text("my own china map", encoding="utf-8")
    third = cli("demo", "--out", tmp_path, "--no-stills")
    assert third.exit_code == 2 and "china.html' exist(s) and was not written by this command" in " ".join(third.output.split())
    assert (tmp_path / "china.html").read_text(encoding="utf-8") == "my own china map"


@pytest.mark.integration
@pytest.mark.parametrize(("option", "value", "message"), [
    ("--as-of", "yesterday", "expected a date as YYYY-MM or YYYY-MM-DD"),
    ("--as-of", "2024-13", "expected a date that exists on the calendar, got '2024-13'"),
    ("--as-of", "2024-99-99", "expected a date that exists on the calendar, got '2024-99-99'"),
    ("--as-of", "2999-01", "not after today"),
    ("--min-mw", "nan", "expected a number of megawatts, zero or more"),
    ("--min-mw", "inf", "expected a number of megawatts, zero or more"),
    ("--min-mw", "-3", "expected a number of megawatts, zero or more"),
])
def test_bad_option_values_are_usage_errors(sites: Path, option: str, value: str, message: str) -> None:
    result = cli("summary", sites, option, value)
    assert result.exit_code == 2, result.output
    assert message in result.output


@pytest.mark.integration
@pytest.mark.parametrize("bins", ["10,nan,100", "100,50", "10,inf"])
def test_bad_bins_are_usage_errors(sites: Path, tmp_path: Path, bins: str) -> None:
    result = cli("render", sites, "--preset", "us", "-o", tmp_path / "m.html", "--scheme", "user_bins", "--bins", bins)
    assert result.exit_code == 2, result.output
    assert "expected finite class bounds in increasing order" in result.output


@pytest.mark.integration
def test_a_good_as_of_is_accepted(sites: Path) -> None:
    assert cli("summary", sites, "--as-of", "2024-06").exit_code == 0


@pytest.mark.integration
def test_hashrate_options_on_a_facility_map_are_refused(sites: Path, tmp_path: Path) -> None:
    result = cli("render", sites, "--preset", "us", "-o", tmp_path / "m.html", "--vpn-correct", "BTC.com:CN-SC", "--average", "plain")
    assert result.exit_code == 2, result.output
    assert "--vpn-correct, --average apply to hashrate files, and the input has only facility files" in " ".join(result.output.split())
    pools = tmp_path / "pools.csv"
    pools.write_text("month,pool,country,share\n2020-04,P,CN,0.5\n", encoding="utf-8")
    result = cli("render", pools, "--preset", "world", "-o", tmp_path / "m.html", "--operator", "Riot")
    assert result.exit_code == 2, result.output
    assert "--operator apply to facility files, and the input has only hashrate files" in " ".join(result.output.split())
    assert not (tmp_path / "m.html").exists()


@pytest.mark.integration
def test_summary_csv_neutralises_formulas_and_the_table_strips_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "evil.csv"
    path.write_text('operator,site,state,capacity_mw,status\n"=HYPERLINK(""http://x"")",A,Texas,10,operational\n'
                    "\x1b[2J\x1b[31mRed\u202eCorp,B,QC,5,operational\n", encoding="utf-8")
    csv_out = cli("summary", path, "--by", "operator", "--format", "csv")
    assert csv_out.exit_code == 0, csv_out.output
    assert "'=HYPERLINK" in csv_out.output
    table = cli("summary", path, "--by", "operator")
    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.output and "\u202e" not in table.output and "[31mRed" in table.output


@pytest.mark.integration
def test_hashrate_csv_neutralises_formula_leading_pool_names(tmp_path: Path) -> None:
    pools = tmp_path / "pools.csv"
    pools.write_text('month,pool,country,share\n2020-04,"=cmd|\' /C calc\'!A0",CN,0.6\n2020-04,"=cmd|\' /C calc\'!A0",US,0.4\n',
                     encoding="utf-8")
    result = cli("hashrate", pools, "--pool-weighting", "equal", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "=cmd" in result.output and not re.search(r"(^|,)=cmd", result.output, re.MULTILINE)


@pytest.mark.integration
def test_thousands_of_problems_print_as_fifty_lines_and_one_line_per_kind(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    rows = [f"Op{i},Site{i},Texas,{'abc' if i % 2 else '-5'},operational" for i in range(3000)]
    path.write_text("operator,site,state,capacity_mw,status\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = cli("validate", path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) < 60, lines[-6:]
    assert "... and 2,950 more problem(s) of 2 kind(s), one line each:" in lines
    assert any(line.startswith("  1,475 like ") and "(lines 53-3,001)" in line for line in lines), lines[-3:]
    assert lines[-1] == "3000 problem(s) in 1 file(s)."


@pytest.mark.integration
def test_a_page_over_the_budget_is_refused_with_the_remedy(sites: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.html"
    result = cli("render", sites, "--preset", "us", "-o", out, env={"CAPACITYMAP_MAX_PAGE_MB": "0.01"})
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "over the 0.01 MB a browser opens comfortably; nothing was written" in text
    assert "--min-mw" in text and "-o m.png" in text
    assert not out.exists()


@pytest.mark.integration
def test_long_steps_say_what_they_are_doing(sites: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "CAPACITYMAP_PROGRESS_AFTER": "0"}
    command = [sys.executable, "-c", "from capacitymap.cli import main; main()", "render", str(sites), "--preset", "us", "-o"]
    done = subprocess.run([*command, str(tmp_path / "m.html")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "reading and mapping 1 file(s)" in done.stderr and "drawing the page: done in" in done.stderr
    quiet = subprocess.run([*command, str(tmp_path / "n.html")], capture_output=True, text=True,
                           env={**env, "CAPACITYMAP_PROGRESS_AFTER": "60"}, timeout=300)
    assert quiet.returncode == 0 and "drawing the page" not in quiet.stderr
