"""Regions for the web: keep the preset's regions, simplify as a coverage, round, serialise."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity

from capacitymap.errors import BoundaryError
from capacitymap.render.escape import script_json
from capacitymap.render.spec import Level, MapSpecError, Preset

__all__ = [
    "level_of", "key_of", "select_regions", "web_geometry", "features_json", "cut_antimeridian", "one_side_of_antimeridian", "web_mercator", "view_tolerance",
]

#: Coverage simplification tolerance in degrees, and decimals kept, per level.
TOLERANCE = {"admin1": 0.03, "country": 0.05}
#: A layer with this column was simplified as a coverage at that tolerance already (the shipped
#: ``shapefiles/*_web.shp``, made by ``scripts/build_shapefiles.py`` with this module's ``web_geometry``).
WEB_TOLERANCE_COLUMN = "web_tol"
#: ``select_regions`` records here the detail the preset's view needs (degrees): the view's width spread
#: over :data:`VIEW_PIXELS` pixels. ``web_geometry`` simplifies that far (never finer than :data:`TOLERANCE`),
#: so a continent or the world is not sent at the detail of one province (page size).
VIEW_TOLERANCE_COLUMN = "view_tol"
VIEW_PIXELS = 1600
DECIMALS = 4
#: Web Mercator's latitude limit used by the stills.
MERCATOR_MAX_LAT = 85.0


def level_of(regions: gpd.GeoDataFrame) -> Level:
    """``admin1`` if the layer has ``iso_3166_2``, ``country`` if it has ``iso_a2`` only."""
    if "iso_3166_2" in regions.columns:
        return "admin1"
    if "iso_a2" in regions.columns:
        return "country"
    raise BoundaryError(
        f"regions: expected an admin-1 layer (column 'iso_3166_2') or an admin-0 layer (column 'iso_a2'), "
        f"got columns {[c for c in regions.columns if c != 'geometry']!r}; read it with "
        "capacitymap.io.boundaries.read_admin1() or read_admin0()"
    )


def key_of(level: Level) -> str:
    """The key column of a level: ``iso_3166_2`` for admin-1, ``iso_a2`` for admin-0."""
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
        layer = {"admin1": "admin-1", "country": "admin-0"}
        raise MapSpecError(
            f"preset {preset.name!r}: expected an {layer[preset.level]} layer, got an "
            f"{layer[level]} layer; pass capacitymap.io.boundaries.{want}"
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
    columns[VIEW_TOLERANCE_COLUMN] = view_tolerance(preset, level)
    geometry = one_side_of_antimeridian(np.asarray(frame.geometry.values))
    out = gpd.GeoDataFrame(columns, geometry=geometry, crs=4326)
    return out.sort_values(key, kind="stable").reset_index(drop=True), level


def view_tolerance(preset: Preset, level: Level) -> float:
    """The simplification the preset's view needs: its width over :data:`VIEW_PIXELS`, at least the level's."""
    b = preset.bbox
    return round(max(TOLERANCE[level], (b.east - b.west) / VIEW_PIXELS), 3)


def web_geometry(regions: gpd.GeoDataFrame, level: Level) -> gpd.GeoSeries:
    """Simplify the borders together (shared edges stay shared: no slivers), then round coordinates.

    Regions from :func:`select_regions` carry the tolerance their view needs (``view_tol``): a wide view
    is simplified further, islands smaller than that tolerance squared are left out (each region keeps
    its largest part), and coordinates keep 3 decimals once the tolerance is 0.05 degrees or more.
    """
    base = _web_geometry(regions, level)
    if VIEW_TOLERANCE_COLUMN not in regions.columns or not len(regions):
        return base
    wanted = float(pd.to_numeric(regions[VIEW_TOLERANCE_COLUMN], errors="coerce").max())
    if not np.isfinite(wanted) or wanted <= TOLERANCE[level]:
        return base
    return _for_view(base, wanted)


def _for_view(geometry: gpd.GeoSeries, tolerance: float) -> gpd.GeoSeries:
    try:
        simple = geometry.simplify_coverage(tolerance)
    except Exception:  # not a clean coverage (a user's layer): simplify each region on its own
        simple = geometry.simplify(tolerance, preserve_topology=True)
    decimals = 3 if tolerance >= 0.05 else DECIMALS
    out = []
    for geom in np.asarray(simple.values):
        if geom is None or geom.is_empty:
            out.append(geom)
            continue
        parts = [p for p in shapely.get_parts(_polygonal(geom)) if not p.is_empty]
        if not parts:
            out.append(shapely.Polygon())
            continue
        largest = max(parts, key=lambda p: (p.area, p.bounds))
        kept = [p for p in parts if p is largest or p.area >= tolerance * tolerance]
        merged = kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)
        rounded = shapely.make_valid(shapely.transform(merged, lambda c: np.round(c, decimals)))
        out.append(_polygonal(rounded))
    return gpd.GeoSeries(out, index=geometry.index, crs=4326)


def _web_geometry(regions: gpd.GeoDataFrame, level: Level) -> gpd.GeoSeries:
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


def cut_antimeridian(geometries: gpd.GeoSeries) -> gpd.GeoSeries:
    """Polygons whose rings cross the antimeridian cut into parts within -180..180; others unchanged.

    A ring crosses when an edge jumps more than 180° of longitude, as in world-atlas' spherical TopoJSON.
    Read planar, such a ring is a band across the whole map (Russia, Fiji) or, once made valid, a
    stripe. Each ring is unwrapped (longitudes made continuous), a ring around a pole (Antarctica) is
    closed along it, and the polygon is cut at ±180° and folded back. For a boundary layer's build,
    before ``make_valid``.
    """
    values = [_cut(g) for g in np.asarray(geometries.values)]
    return gpd.GeoSeries(values, index=geometries.index, crs=geometries.crs)


def one_side_of_antimeridian(geometries: np.ndarray) -> np.ndarray:
    """Regions with parts on both sides of the antimeridian drawn in one piece, on their larger side.

    The smaller side's parts move by 360° to sit beside the larger side (Alaska's western Aleutians west
    of -180°, Chukotka's eastern tip east of 180°), so no outline spans the map. Regions around a pole
    are left as they are.
    """
    out = np.array(geometries, dtype=object)
    bounds = shapely.bounds(out)
    with np.errstate(invalid="ignore"):
        wide = np.flatnonzero(bounds[:, 2] - bounds[:, 0] > 180)  # NaN (no geometry) is not wide
    for i in wide:
        out[i] = _one_side(out[i])
    return out


def web_mercator(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` (EPSG:4326) in Web Mercator (EPSG:3857) metres, longitudes past ±180° kept where they are.

    pyproj folds longitudes into -180..180, which would send a part drawn east of 180° back to the far
    west and draw a band between; this is the same spherical Mercator without the fold. Latitudes
    are clipped to ±85°.
    """
    radius = 6378137.0
    clipped = frame.clip(shapely.box(-540, -MERCATOR_MAX_LAT, 540, MERCATOR_MAX_LAT))

    def project(c: np.ndarray) -> np.ndarray:
        lon, lat = np.radians(c[:, 0]), np.radians(c[:, 1])
        return np.column_stack([radius * lon, radius * np.log(np.tan(np.pi / 4 + lat / 2))])

    out = clipped.set_geometry(shapely.transform(np.asarray(clipped.geometry.values), project), crs=3857)
    return out


def _jumps(coords: np.ndarray) -> np.ndarray:
    dx = np.diff(coords[:, 0])
    return np.concatenate([[0.0], np.cumsum(np.where(dx > 180, -360.0, np.where(dx < -180, 360.0, 0.0)))])


def _crosses(geom: shapely.Geometry) -> bool:
    for ring in shapely.get_rings(shapely.get_parts(geom)):
        x = shapely.get_coordinates(ring)[:, 0]
        if len(x) > 1 and (np.abs(np.diff(x)) > 180).any():
            return True
    return False


def _unwrapped_ring(coords: np.ndarray) -> np.ndarray:
    out = coords.copy()
    out[:, 0] += _jumps(coords)
    turn = out[-1, 0] - out[0, 0]
    if abs(turn) > 180:  # goes round a pole: close the ring along it
        pole = -90.0 if coords[:, 1].mean() < 0 else 90.0
        out = np.vstack([out, [[out[-1, 0], pole], [out[0, 0], pole]], out[:1]])
    return out


def _cut(geom: shapely.Geometry) -> shapely.Geometry:
    if geom is None or geom.is_empty or not _crosses(geom):
        return geom
    pieces: list[shapely.Geometry] = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon":
            pieces.append(poly)
            continue
        shell = _unwrapped_ring(shapely.get_coordinates(poly.exterior))
        lo, hi = shell[:, 0].min(), shell[:, 0].max()
        holes = []
        for ring in poly.interiors:
            h = _unwrapped_ring(shapely.get_coordinates(ring))
            shift = 360.0 * np.round((((lo + hi) / 2) - h[:, 0].mean()) / 360.0)
            holes.append(h + [shift, 0.0])
        unwrapped = shapely.make_valid(shapely.Polygon(shell, holes))
        for k in range(int(np.floor((lo + 180) / 360)), int(np.floor((hi + 180) / 360)) + 1):
            part = shapely.intersection(unwrapped, shapely.box(360.0 * k - 180, -90, 360.0 * k + 180, 90))
            if not part.is_empty:
                pieces.extend(p for p in shapely.get_parts(shapely.affinity.translate(part, -360.0 * k))
                              if p.geom_type == "Polygon" and p.area > 0)
    return shapely.MultiPolygon(pieces) if len(pieces) > 1 else (pieces[0] if pieces else shapely.Polygon())


def _one_side(geom: shapely.Geometry) -> shapely.Geometry:
    if geom is None or geom.is_empty:
        return geom
    west, _, east, _ = geom.bounds
    if east - west <= 180:
        return geom
    parts = list(shapely.get_parts(geom))
    if any(p.bounds[2] - p.bounds[0] > 180 for p in parts):
        return geom  # round a pole (Antarctica), or a band: nothing to move
    centres = np.array([(p.bounds[0] + p.bounds[2]) / 2 for p in parts])
    areas = shapely.area(np.array(parts, dtype=object))
    east_side = areas[centres > 0].sum() >= areas[centres <= 0].sum()
    moved = []
    for p, c in zip(parts, centres):
        if east_side and c <= 0:
            p = shapely.affinity.translate(p, 360.0)
        elif not east_side and c > 0:
            p = shapely.affinity.translate(p, -360.0)
        moved.append(p)
    # parts cut at ±180° meet again along the seam: merge them (a MultiPolygon's parts may not share edges)
    return _polygonal(shapely.union_all(np.array(moved, dtype=object)))


def features_json(regions: gpd.GeoDataFrame, geometry: gpd.GeoSeries, key: str) -> str:
    """A GeoJSON FeatureCollection with ``id`` = the region key and only ``name`` as a property."""
    geo = shapely.to_geojson(np.asarray(geometry.values))
    parts = []
    for k, name, g in zip(regions[key], regions["name"], geo):
        if g is None:
            continue
        parts.append(f'{{"type":"Feature","id":{script_json(k)},"properties":{{"name":{script_json(name)}}},"geometry":{g}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
