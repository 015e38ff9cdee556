"""One floor per step of the pipeline, imports only pointing down (issue 15, item 2).

Every module under ``src/capacitymap`` is parsed with ``ast``; every ``import`` and ``from ... import``
counts, at module level and inside functions and ``if TYPE_CHECKING:`` blocks alike, and so do the
lazy-name tables (``_HOME = {"name": "capacitymap.module"}``) the packages load on first use. A module may
import its own floor or a floor below, never one above. ``FLOORS`` is the one table: docs/design.md draws
the same floors.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import capacitymap

PACKAGE = Path(capacitymap.__file__).parent

#: The floors, bottom up. A key is a module file or a package folder (``io/``: every module in it),
#: relative to ``src/capacitymap``. A new module must be placed here before the suite passes.
FLOORS: dict[str, int] = {
    # 0: below everything: errors, canonical columns, the shipped files' places, the lazy-name helper, the vocabulary
    "errors.py": 0,
    "schema.py": 0,
    "_resources.py": 0,
    "_lazy.py": 0,
    "vocab.py": 0,
    "urls.py": 0,
    # 1: file access and nothing else: tables within limits, boundary layers, point batches, atomic writes
    "io/": 1,
    # 2: region names → ISO codes (loads the shipped layers through io)
    "regions.py": 2,
    # 3: record validation: columns, cells, rows, each record kind, the composing readers
    "records/": 3,
    # 4: records → regions, the user's filters
    "join.py": 4,
    "filters.py": 4,
    # 5: the facility pipeline and its totals; CCAF's method; points → regional totals
    "pipeline.py": 5,
    "summary.py": 5,
    "method/": 5,
    "aggregate/": 5,
    # 6: drawing: frames and a spec → a page (render/) or a still and an embed (export/)
    "render/": 6,
    "export/": 6,
    # 7: what a map draws (MapLayers) and the one way to build it (make_map → BuiltMap)
    "maps.py": 7,
    # 8: the steps from files, as the CLI and notebooks run them; the default maps
    "api.py": 8,
    "demo.py": 8,
    # 9: the shells: the command line and the public package
    "cli.py": 9,
    "__main__.py": 9,
    "__init__.py": 9,
}


def module_name(path: Path) -> str:
    """``capacitymap.io.tables`` for ``src/capacitymap/io/tables.py``, ``capacitymap.io`` for its ``__init__``."""
    parts = ["capacitymap", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def place(path: Path) -> str | None:
    """The key of ``FLOORS`` that places a module file (its own file name, else its top folder), or None."""
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:
        return rel.name if rel.name in FLOORS else None
    folder = rel.parts[0] + "/"
    return folder if folder in FLOORS else None


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def target_path(name: str) -> Path | None:
    """The file of the module ``name`` (or of the package holding it), None outside capacitymap."""
    while name.startswith("capacitymap"):
        if name in MODULES:
            return MODULES[name]
        name = name.rpartition(".")[0]
    return None


def imports_of(path: Path, source: str) -> list[tuple[int, str, str]]:
    """(line, imported module, statement text) for every capacitymap import in ``source``."""
    tree = ast.parse(source, filename=str(path))
    here = module_name(path)
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str, str]] = []
    lines = source.splitlines()
    for node in ast.walk(tree):
        text = lines[node.lineno - 1].strip() if isinstance(node, (ast.Import, ast.ImportFrom)) else ""
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, text) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package holding this module, ``level - 1`` folders up
                base = here.split(".") if is_package else here.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            for alias in node.names:  # ``from capacitymap import io`` imports the module capacitymap.io
                sub = f"{origin}.{alias.name}"
                found.append((node.lineno, sub if sub in MODULES else origin, text))
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(isinstance(t, ast.Name) and t.id == "_HOME" for t in node.targets):
            for key, value in zip(node.value.keys, node.value.values):  # a lazy-name table: each value a module loaded on first use
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.append((value.lineno, value.value, f"_HOME[{ast.literal_eval(key)!r}] = {value.value!r}"))
    return [(line, name, text) for line, name, text in found if name == "capacitymap" or name.startswith("capacitymap.")]


def upward_imports(path: Path, source: str) -> list[str]:
    """One message per import in ``source`` (the module at ``path``) that reaches a floor above its own."""
    own = place(path)
    if own is None:
        return [f"{path.relative_to(PACKAGE.parent)} is on no floor: add it to FLOORS in tests/test_layers.py"]
    messages = []
    for line, name, text in imports_of(path, source):
        target = target_path(name)
        key = place(target) if target is not None else None
        if key is None:
            messages.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}, which is on no floor: {text}")
        elif FLOORS[key] > FLOORS[own]:
            messages.append(f"{path.relative_to(PACKAGE.parent)}:{line} (floor {FLOORS[own]}, {own}) imports {name} "
                            f"(floor {FLOORS[key]}, {key}), a floor above: {text}")
    return messages


def test_every_module_is_on_a_floor() -> None:
    unplaced = [str(p.relative_to(PACKAGE.parent)) for p in MODULES.values() if place(p) is None]
    assert not unplaced, f"modules on no floor (add each to FLOORS in tests/test_layers.py and docs/design.md): {unplaced}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    path = MODULES[name]
    problems = upward_imports(path, path.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


# -- the check itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "source", "reported"),
    [
        ("io/tables.py", "from capacitymap.regions import Gazetteer\n", "io/tables.py:1 (floor 1, io/) imports capacitymap.regions (floor 2"),
        ("io/tables.py", "def f():\n    if True:\n        import capacitymap.records.cells\n",
         "io/tables.py:3 (floor 1, io/) imports capacitymap.records.cells (floor 3"),
        ("render/basemap.py", "from capacitymap import maps\n", "render/basemap.py:1 (floor 6, render/) imports capacitymap.maps (floor 7"),
        ("render/basemap.py", "import folium\nfrom pandas import api\n", None),  # not ours
        ("method/_vpn.py", "from .. import cli\n", "method/_vpn.py:1 (floor 5, method/) imports capacitymap.cli (floor 9"),
        ("regions.py", "_HOME = {'x': 'capacitymap.records'}\n", "regions.py:1 (floor 2, regions.py) imports capacitymap.records (floor 3"),
        ("join.py", "from capacitymap.records.facilities import REGION_COLUMN\nfrom capacitymap import io, schema\n", None),
        ("workflows.py", "import capacitymap.io\n", "workflows.py is on no floor"),
    ],
)
def test_the_check_finds_an_upward_import_wherever_it_is(where: str, source: str, reported: str | None) -> None:
    messages = upward_imports(PACKAGE / where, source)
    if reported is None:
        assert messages == []
    else:
        assert len(messages) == 1 and reported in messages[0], messages


def test_the_design_document_draws_the_same_floors() -> None:
    """docs/design.md's module table gives each module the floor ``FLOORS`` gives it, and names every entry."""
    design = PACKAGE.parents[1] / "docs" / "design.md"
    drawn: dict[str, int] = {}
    for row in design.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].isdigit():
            continue
        for name in re.findall(r"`([^`]+)`", cells[1]):
            key = name.split("/")[0] + "/" if "/" in name else name
            assert drawn.setdefault(key, int(cells[0])) == int(cells[0]), f"docs/design.md puts {key} on two floors"
    differ = {k: (drawn.get(k), FLOORS.get(k)) for k in drawn.keys() | FLOORS.keys() if drawn.get(k) != FLOORS.get(k)}
    assert not differ, f"(floor in docs/design.md, floor in FLOORS) differ: {differ}"
