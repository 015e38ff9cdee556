"""Where the shipped boundary layers and default datasets are, installed or in a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shapefiles_dir", "data_dir"]

_CHECKOUT = Path(__file__).resolve().parents[2]


def _find(packaged: str, checkout: str) -> Path:
    # A wheel carries the folders inside the package (see pyproject's force-include);
    # an editable install or a checkout finds them at the repository root.
    inside = Path(str(resources.files("capacitymap") / packaged))
    if inside.is_dir():
        return inside
    return _CHECKOUT / checkout


def shapefiles_dir() -> Path:
    """The folder holding ``admin0.shp`` and ``admin1.shp``."""
    return _find("_shapefiles", "shapefiles")


def data_dir() -> Path:
    """The folder holding the embedded default datasets."""
    return _find("_data", "data")
