"""One vocabulary: every choice spelled once (capacitymap.vocab), the command line's choices built from it,
one link policy, typed options."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from capacitymap import vocab
from capacitymap.urls import http_url, link_or_path

SRC = Path(__file__).parents[1] / "src" / "capacitymap"

def _literal_definitions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript):
            target = node.value.value
            if isinstance(target, ast.Name) and target.id == "Literal":
                found.append(", ".join(t.id for t in node.targets if isinstance(t, ast.Name)))
    return found


def test_every_literal_is_defined_in_vocab_alone() -> None:
    defined = {str(p.relative_to(SRC)): names for p in SRC.rglob("*.py") if (names := _literal_definitions(p))}
    assert set(defined) == {"vocab.py"}, defined
    assert len(defined["vocab.py"]) == len([n for n in vocab.__all__ if n[0].isupper() and not n.isupper()])


def test_vocab_imports_only_typing() -> None:
    tree = ast.parse((SRC / "vocab.py").read_text(encoding="utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert modules <= {"__future__", "typing"}
    out = subprocess.run([sys.executable, "-c", "import sys, capacitymap.vocab, capacitymap.urls; "
                          "print(sorted(m for m in ('pandas', 'numpy', 'geopandas', 'click') if m in sys.modules))"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_click_choice_comes_from_vocab() -> None:
    text = (SRC / "cli.py").read_text(encoding="utf-8")
    choices = re.findall(r"click\.Choice\(([^)]*)\)", text)
    assert choices and all(re.fullmatch(r"vocab\.[A-Z_]+", c) for c in choices), choices


def test_the_command_line_offers_exactly_the_vocabulary() -> None:
    import click

    from capacitymap.cli import main

    offered = {}
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param.type, click.Choice):
                offered[(name, param.name)] = tuple(param.type.choices)
    assert offered[("render", "metric")] == vocab.METRICS and offered[("render", "statuses")] == vocab.STATUSES
    assert offered[("hashrate", "level")] == offered[("aggregate", "level")] == vocab.LEVELS
    assert offered[("summary", "by")] == vocab.BY and offered[("render", "fmt")] == vocab.MAP_FORMATS


def test_one_spelling_of_a_level_everywhere() -> None:
    from capacitymap import method
    from capacitymap.render.spec import PRESETS, Level

    assert vocab.LEVELS == ("country", "admin1") and get_args(Level) == vocab.LEVELS
    assert method.LEVELS is vocab.LEVELS
    assert {p.level for p in PRESETS.values()} == set(vocab.LEVELS)
    assert set(PRESETS) == set(vocab.PRESET_NAMES)


def test_labels_cover_their_choices() -> None:
    assert set(vocab.METRIC_LABELS) == set(vocab.METRICS) == set(vocab.METRIC_UNITS)
    assert set(vocab.STATUS_LABELS) == set(vocab.STATUSES)
    assert vocab.status_phrase(("operational", "under_construction")) == "operational + under construction"


@pytest.mark.parametrize(
    ("url", "link", "frame"),
    [
        ("https://example.com/a?b=1", True, True),
        ("  HTTP://EXAMPLE.COM  ", True, True),
        ("maps/north america.html", False, True),
        ("javascript:alert(1)", False, False),
        ("//evil.example/x", False, False),
        ("https:/example.com", False, False),
        ("https://:80/x", False, False),
        ("https://exa mple.com", False, False),
        ('https://example.com/"onmouseover=alert(1)', False, False),
        ("https://example.com/\x85x", False, False),
        ("https://example.com/<x>", False, False),
        ("C:\\maps\\na.html", False, False),
        ("ftp://example.org/x", False, False),
        ("", False, False),
        (None, False, False),
    ],
)
def test_one_link_policy_for_readers_pages_and_embeds(url: object, link: bool, frame: bool) -> None:
    from capacitymap.errors import ExportError
    from capacitymap.export.embed import embed_snippet
    from capacitymap.render.escape import safe_url

    assert (http_url(url) is not None) is link and (safe_url(url) is not None) is link
    assert (link_or_path(url) is not None) is frame
    if frame:
        assert f'src="{url.strip()}"'.replace("&", "&amp;") in embed_snippet(url, title="t")  # type: ignore[union-attr]
    else:
        with pytest.raises(ExportError, match="expected"):
            embed_snippet(url, title="t")  # type: ignore[arg-type]


def test_hashrate_options_take_typed_values() -> None:
    from capacitymap.api import HashrateOptions, MonthRange, VpnCorrection
    from capacitymap.errors import OptionError

    options = HashrateOptions(months=("2020-01", "2020-03"), vpn_corrections=[VpnCorrection("P", "CN-ZJ")])  # type: ignore[arg-type]
    assert options.months == MonthRange("2020-01", "2020-03") and options.vpn_corrections == (VpnCorrection("P", "CN-ZJ"),)
    with pytest.raises(OptionError, match=r"expected MonthRange\(first, last\), got '2020-01:2020-03'"):
        HashrateOptions(months="2020-01:2020-03")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"expected VpnCorrection values, got \('P:CN-ZJ',\)"):
        HashrateOptions(vpn_corrections=("P:CN-ZJ",))  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"average: expected one of \('plain', 'weighted'\) or None, got 'median'"):
        HashrateOptions(average="median")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"pool_weighting: expected one of \('hashrate', 'equal'\), got 'none'"):
        HashrateOptions(pool_weighting="none")  # type: ignore[arg-type]
