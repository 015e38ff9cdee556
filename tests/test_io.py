"""File access (``capacitymap.io``): tables read with their lines located, and nothing above files imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from capacitymap import io
from capacitymap.errors import DataError, SchemaError
from capacitymap.io.tables import read_table


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="expected a file, got a directory"):
        read_table(tmp_path)


def test_ragged_row_is_located(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ragged.csv:3: expected 3 cells like the header, got 2"):
        read_table(path)


def test_duplicate_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("operator,operator,capacity_mw\na,b,1\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="the column name is used twice"):
        read_table(path)


def test_every_public_name_resolves() -> None:
    for name in io.__all__:
        assert getattr(io, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'read_facilities'"):
        _ = io.read_facilities  # record validation lives in capacitymap.records, a floor above


def test_reading_a_table_loads_no_floor_above_files(tmp_path: Path) -> None:
    """A fresh interpreter reads a CSV through ``io`` without importing regions, records or geopandas."""
    sites = tmp_path / "sites.csv"
    sites.write_text("operator,site\nRiot,Rockdale\n", encoding="utf-8")
    code = (
        "import sys\nfrom capacitymap.io import read_table\n"
        f"table = read_table({str(sites)!r})\nprint(table.header)\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(('capacitymap', 'geopandas', 'shapely')))))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(io.__file__).parents[2])}  # this checkout's package, wherever the test runs
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, check=True).stdout.splitlines()
    assert out[0] == "['operator', 'site']"
    loaded = set(out[1].split(","))
    assert "capacitymap.io.tables" in loaded
    assert loaded.isdisjoint({"capacitymap.regions", "capacitymap.records", "geopandas", "shapely"}), loaded
