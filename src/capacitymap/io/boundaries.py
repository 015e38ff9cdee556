"""Read boundary layers: the shipped Natural Earth layers or a user's own file (anything GDAL reads)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import geopandas as gpd

from capacitymap._resources import shapefiles_dir
from capacitymap.errors import BoundaryError
from capacitymap.schema import ADMIN0_COLUMNS, ADMIN1_COLUMNS

__all__ = ["read_admin1", "read_admin0", "read_admin1_web", "read_admin0_web", "read_boundaries"]


def read_admin1() -> gpd.GeoDataFrame:
    """The shipped admin-1 layer (states and provinces), EPSG:4326, one row per ``iso_3166_2``."""
    return _read_shipped("admin1.shp", ADMIN1_COLUMNS).copy()


def read_admin0() -> gpd.GeoDataFrame:
    """The shipped admin-0 layer (countries of the world), EPSG:4326."""
    return _read_shipped("admin0.shp", ADMIN0_COLUMNS).copy()


def read_admin1_web() -> gpd.GeoDataFrame:
    """The admin-1 layer for display: simplified once as a coverage at build time (``web_tol`` says how much).

    Same features and columns as :func:`read_admin1`; use the full layer for joins, this one for maps.
    """
    return _read_shipped("admin1_web.shp", (*ADMIN1_COLUMNS[:-1], "web_tol", "geometry")).copy()


def read_admin0_web() -> gpd.GeoDataFrame:
    """The admin-0 layer for display, simplified at build time like :func:`read_admin1_web`."""
    return _read_shipped("admin0_web.shp", (*ADMIN0_COLUMNS[:-1], "web_tol", "geometry")).copy()


@lru_cache(maxsize=8)
def _read_shipped(name: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    path = shapefiles_dir() / name
    if not path.exists():
        raise BoundaryError(
            f"boundary layer {str(path)!r} is missing; rebuild it with "
            "'python scripts/build_shapefiles.py' or reinstall capacitymap"
        )
    frame = gpd.read_file(path, engine="pyogrio")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BoundaryError(f"{str(path)!r}: expected columns {missing!r}; rebuild the layer")
    for col in columns:
        if col != "geometry":
            frame[col] = frame[col].fillna("").astype(str)
    return frame[list(columns)]


def read_boundaries(
    path: str | os.PathLike[str], *, code_column: str, name_column: str, country: str | None = None
) -> gpd.GeoDataFrame:
    """Read a user's own admin-1 boundary file and map it onto the admin-1 columns.

    ``code_column`` holds the region codes (ideally ISO 3166-2 such as ``US-TX``), ``name_column``
    the names people write. ``country`` (ISO alpha-2) fills ``iso_a2`` where codes lack a prefix.
    """
    p = Path(path)
    try:
        frame = gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        raise BoundaryError(f"{str(p)!r}: cannot read as a boundary layer ({exc}); give a file GDAL reads (.shp, .gpkg, .geojson)") from exc
    for col, what in ((code_column, "code"), (name_column, "name")):
        if col not in frame.columns:
            raise BoundaryError(
                f"{str(p)!r}: the {what} column {col!r} is not in the file; its columns are "
                f"{[c for c in frame.columns if c != 'geometry']!r}: name one with --{what}-column"
            )
    if frame.crs is None:
        raise BoundaryError(f"{str(p)!r}: the layer has no coordinate reference system; add a .prj (EPSG:4326)")
    frame = frame.to_crs(4326)
    codes = frame[code_column].astype(str).str.strip()
    if codes.duplicated().any():
        dup = sorted(set(codes[codes.duplicated()]))
        raise BoundaryError(f"{str(p)!r}: codes in {code_column!r} must be unique, got duplicates {dup[:5]!r}; dissolve them first")
    if country:
        codes = codes.where(codes.str.contains("-"), country.upper() + "-" + codes)
    out = gpd.GeoDataFrame(
        {
            "iso_3166_2": codes,
            "iso_a2": codes.str.split("-").str[0] if country is None else country.upper(),
            "name": frame[name_column].astype(str),
            "name_alt": "",
            "name_local": "",
            "postal": "",
            "type_en": "",
            "code_hasc": "",
            "alias_code": "",
        },
        geometry=frame.geometry.make_valid(),
        crs=4326,
    )
    return out[list(ADMIN1_COLUMNS)]


