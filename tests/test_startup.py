"""The command line loads only what a command uses (issue 15): help never imports the map stack.

Each check runs in a fresh interpreter, since this test process has imported everything already.
Timings are measured by benchmarks/startup.py, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import capacitymap

#: This checkout's package, wherever the test runs (a relative PYTHONPATH=src would not reach it from tmp_path).
ENV = {**os.environ, "PYTHONPATH": str(Path(capacitymap.__file__).parents[1])}

MAP_STACK = ("folium", "branca", "mapclassify", "matplotlib", "dask", "scipy")


def _imported_after(argv: list[str], cwd: Path) -> set[str]:
    code = (
        "import sys\nfrom capacitymap.cli import main\n"
        f"try:\n    main({argv!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print('MODULES=' + ','.join(sorted(m for m in sys.modules if '.' not in m)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=ENV, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("MODULES="))
    return set(line.removeprefix("MODULES=").split(","))


@pytest.mark.parametrize("argv", [["--help"], ["render", "--help"], ["aggregate", "--help"], ["hashrate", "--help"]])
def test_help_imports_neither_geopandas_nor_the_map_stack(argv: list[str], tmp_path: Path) -> None:
    loaded = _imported_after(argv, tmp_path)
    assert "capacitymap" in loaded
    assert loaded.isdisjoint({*MAP_STACK, "geopandas", "pandas", "shapely"}), loaded & {*MAP_STACK, "geopandas", "pandas"}


@pytest.mark.parametrize("command", ["validate", "summary"])
def test_validate_and_summary_of_a_small_csv_skip_the_map_stack(command: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("operator,site,region,country,capacity_mw,status,as_of,source_url\n"
                     "Riot,Rockdale,TX,US,700,operational,2024-12,https://example.org/riot\n", encoding="utf-8")
    loaded = _imported_after([command, str(sites)], tmp_path)
    assert "geopandas" in loaded  # the command really ran the join
    assert loaded.isdisjoint(MAP_STACK), loaded & set(MAP_STACK)


def test_the_public_api_resolves_every_name_it_lists() -> None:
    import capacitymap

    for name in capacitymap.__all__:
        assert getattr(capacitymap, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = capacitymap.nope
