"""Regions for the web: keep the preset's regions, simplify as a coverage, round, serialise."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capacitymap.errors import BoundaryError
from capacitymap.render.escape import script_json
from capacitymap.render.spec import Level, MapSpecError, Preset

__all__ = ["level_of", "key_of", "select_regions", "web_geometry", "features_json"]

#: Coverage simplification tolerance in degrees, and decimals kept, per level.
TOLERANCE = {"admin1": 0.03, "admin0": 0.05}
#: A layer with this column was simplified as a coverage at that tolerance already (the shipped
#: ``shapefiles/*_web.shp``, made by ``scripts/build_shapefiles.py`` with this module's ``web_geometry``).
WEB_TOLERANCE_COLUMN = "web_tol"
DECIMALS = 4


def level_of(regions: gpd.GeoDataFrame) -> Level:
    """``admin1`` if the layer has ``iso_3166_2``, ``admin0`` if it has ``iso_a2`` only."""
    if "iso_3166_2" in regions.columns:
        return "admin1"
    if "iso_a2" in regions.columns:
        return "admin0"
    raise BoundaryError(
        f"regions: expected an admin-1 layer (column 'iso_3166_2') or an admin-0 layer (column 'iso_a2'), "
        f"got columns {[c for c in regions.columns if c != 'geometry']!r}; read it with "
        "capacitymap.io.boundaries.read_admin1() or read_admin0()"
    )


def key_of(level: Level) -> str:
    return "iso_3166_2" if level == "admin1" else "iso_a2"


def select_regions(regions: gpd.GeoDataFrame, preset: Preset) -> tuple[gpd.GeoDataFrame, Level]:
    """The regions the preset draws, sorted by key, in EPSG:4326, with columns key, ``iso_a2``, ``name`` (and ``web_tol``)."""
    if not isinstance(regions, gpd.GeoDataFrame):
        raise BoundaryError(
            f"regions: expected a GeoDataFrame, got {type(regions).__name__!r}; read the layer with "
            "capacitymap.io.boundaries.read_admin1() or read_admin0()"
        )
    level = level_of(regions)
    if preset.level is not None and preset.level != level:
        want = "read_admin1()" if preset.level == "admin1" else "read_admin0()"
        raise MapSpecError(
            f"preset {preset.name!r}: expected an {preset.level.replace('admin', 'admin-')} layer, got an "
            f"{level.replace('admin', 'admin-')} layer; pass capacitymap.io.boundaries.{want}"
        )
    key = key_of(level)
    for col in (key, "name"):
        if col not in regions.columns:
            raise BoundaryError(f"regions: expected a {col!r} column, got {list(regions.columns)!r}")
    if regions.crs is None:
        raise BoundaryError("regions: the layer has no coordinate reference system; set it (EPSG:4326) before mapping")
    frame = regions.to_crs(4326) if regions.crs.to_epsg() != 4326 else regions
    if "iso_a2" not in frame.columns:
        frame = frame.assign(iso_a2=frame[key].astype(str).str.split("-").str[0])
    if preset.countries is not None:
        frame = frame[frame["iso_a2"].isin(preset.countries)]
    else:
        b = preset.bbox
        frame = frame[frame.intersects(shapely.box(b.west, b.south, b.east, b.north))]
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    frame = frame[frame[key].astype(str).str.len() > 0]
    if frame.empty:
        raise MapSpecError(
            f"preset {preset.name!r}: expected regions of {preset.countries or 'the bounding box'!r} in the layer, "
            f"got none of its {len(regions)} regions; pass the shipped layer or choose another preset"
        )
    keys = frame[key].astype(str)
    if keys.duplicated().any():
        dup = sorted(set(keys[keys.duplicated()]))
        raise BoundaryError(f"regions: expected unique {key!r} codes, got duplicates {dup[:5]!r}; dissolve them first")
    columns = {key: keys, "iso_a2": frame["iso_a2"].astype(str), "name": frame["name"].fillna("").astype(str)}
    if WEB_TOLERANCE_COLUMN in frame.columns:
        columns[WEB_TOLERANCE_COLUMN] = frame[WEB_TOLERANCE_COLUMN]
    out = gpd.GeoDataFrame(columns, geometry=frame.geometry.values, crs=4326)
    return out.sort_values(key, kind="stable").reset_index(drop=True), level


def web_geometry(regions: gpd.GeoDataFrame, level: Level) -> gpd.GeoSeries:
    """Simplify the borders together (shared edges stay shared: no slivers), then round coordinates."""
    if _simplified_already(regions, level):
        # Made by this same function at build time: simplified, rounded, valid and unwrapped already.
        return gpd.GeoSeries(regions.geometry.values, index=regions.index, crs=4326)
    simple = _simplify(regions.geometry.make_valid(), level)
    rounded = shapely.transform(np.asarray(simple.values), lambda c: np.round(c, DECIMALS))
    rounded = shapely.make_valid(rounded)
    # Parts moved east of 180° can overlap their neighbours at the seam: make the result valid again.
    unwrapped = shapely.make_valid(np.array([_unwrap(g) for g in rounded], dtype=object))
    return gpd.GeoSeries([_polygonal(g) for g in unwrapped], index=regions.index, crs=4326)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygons of what make_valid returned (it may add stray lines or points at a seam)."""
    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polygons = [p for part in shapely.get_parts(geom) for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(polygons) if polygons else shapely.Polygon()


def _simplified_already(regions: gpd.GeoDataFrame, level: Level) -> bool:
    if WEB_TOLERANCE_COLUMN not in regions.columns or not len(regions):
        return False
    tolerances = pd.to_numeric(regions[WEB_TOLERANCE_COLUMN], errors="coerce")
    return bool((tolerances >= TOLERANCE[level]).all())


def _simplify(geoms: gpd.GeoSeries, level: Level) -> gpd.GeoSeries:
    try:
        return geoms.simplify_coverage(TOLERANCE[level])
    except Exception as exc:  # GEOS raises on inputs that are not a valid coverage
        raise BoundaryError(
            f"regions: expected a polygon coverage (no overlaps) to simplify, got an error {exc!s}; "
            "clean the layer (e.g. make_valid and remove overlaps) first"
        ) from exc


def _unwrap(geom: shapely.Geometry) -> shapely.Geometry:
    """Parts that cross the antimeridian (wider than 180°, not polar) are drawn east of 180° instead of as a band."""
    if geom is None or geom.is_empty or (geom.bounds[2] - geom.bounds[0]) <= 180:
        return geom
    parts = list(shapely.get_parts(geom))
    changed = False
    for i, part in enumerate(parts):
        west, south, east, _ = part.bounds
        if east - west > 180 and south > -80:
            parts[i] = shapely.transform(part, lambda c: np.where(c[:, :1] < 0, c + [360.0, 0.0], c))
            changed = True
    if not changed:
        return geom
    if len(parts) == 1:
        return parts[0]
    if all(p.geom_type == "Polygon" for p in parts):
        return shapely.MultiPolygon(parts)
    return shapely.GeometryCollection(parts)


def features_json(regions: gpd.GeoDataFrame, geometry: gpd.GeoSeries, key: str) -> str:
    """A GeoJSON FeatureCollection with ``id`` = the region key and only ``name`` as a property."""
    geo = shapely.to_geojson(np.asarray(geometry.values))
    parts = []
    for k, name, g in zip(regions[key], regions["name"], geo):
        if g is None:
            continue
        parts.append('{"type":"Feature","id":%s,"properties":{"name":%s},"geometry":%s}' % (script_json(k), script_json(name), g))
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
