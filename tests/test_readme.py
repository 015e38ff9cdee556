"""Every command the README shows runs as written against the shipped data (issue 15).

The README uses placeholder file names a reader replaces with their own; this test replaces them with
shipped files (or files it makes from them) as :data:`SUBSTITUTES` documents, runs each command in a
temporary folder and expects exit 0. The usage-error promise (exit 2) is checked too.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from capacitymap.cli import main

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.integration

#: placeholder in the README -> how the test provides it (a shipped file, or one made from one).
SUBSTITUTES = {
    "my_sites.csv": "data/facilities/north_america.csv",
    "my_sites.xlsx": "data/facilities/north_america.csv, saved as .xlsx",
    "pools.csv": "data/hashrate/mining_countries.csv (CCAF's shares, read as the pool 'CCAF')",
    "ccaf_mining_countries.csv": "data/hashrate/mining_countries.csv",
    "hashers.parquet": "points made in the test (month, pool, latitude, longitude, hashrate_ths)",
    "map.html": "the page an earlier README command wrote",
}


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            # Quick start lines chain pip with the command: keep the capacitymap part.
            line = line.split("&&")[-1].strip()
            if line.startswith("capacitymap "):
                commands.append(line)
    return commands


def _materialise(name: str, work: Path) -> Path:
    target = work / name
    if target.exists():
        return target
    if name == "my_sites.xlsx":
        pd.read_csv(ROOT / "data/facilities/north_america.csv", dtype=str, keep_default_na=False).to_excel(target, index=False)
    elif name == "hashers.parquet":
        pd.DataFrame({
            "month": ["2024-01"] * 4, "pool": ["A", "A", "B", "B"],
            "latitude": [31.0, 47.5, 31.0, 44.0], "longitude": [-97.0, -100.5, -97.0, 87.0],
            "hashrate_ths": [10.0, 5.0, 7.0, 3.0],
        }).to_parquet(target, index=False)
    elif name == "map.html":
        raise FileNotFoundError("map.html is written by an earlier README command")
    else:
        target.write_bytes((ROOT / SUBSTITUTES[name].split(" ")[0]).read_bytes())
    return target


def test_the_readme_shows_commands() -> None:
    commands = readme_commands()
    assert len(commands) >= 8
    assert any(c.startswith("capacitymap demo") for c in commands)


def test_every_readme_command_exits_0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    failures = []
    for command in readme_commands():
        # Shipped files the README names by their path in the checkout are read from the checkout.
        argv = [str(ROOT / a) if a.startswith("data/") else a for a in shlex.split(command)[1:]]
        for arg in argv:
            if arg in SUBSTITUTES and arg != "map.html":
                _materialise(arg, tmp_path)
        result = runner.invoke(main, argv, catch_exceptions=True)
        if result.exit_code != 0:
            failures.append(f"{command}\n  exit {result.exit_code}: {result.output[-600:]}{result.exception or ''}")
    assert not failures, "\n".join(failures)


def test_the_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # it reads data/ from the checkout, as a reader following the README would
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks
    scope: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), scope)  # noqa: S102 - the README's own example
    assert scope["mapped"].reconciliation.balanced  # type: ignore[attr-defined]
    assert str(scope["html"]).startswith("<!DOCTYPE html>") and bytes(scope["png"])[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv", [
    ["render", "--preset", "us"],                                   # no file, no -o
    ["aggregate", "x.parquet", "--weight", "w", "-o", "o.csv", "--scheduler", "tcp://h:1"],  # scheduler without dask
    ["summary", "--by", "planet", "x.csv"],
])
def test_usage_errors_exit_2_as_the_readme_promises(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert "usage errors" in README.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output
