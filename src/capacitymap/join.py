"""Assign facility records to admin-1 regions.

The rule, in order (deterministic, documented in the README):

1. A facility with coordinates goes to the region whose polygon contains or touches its point;
   a point on a shared border goes to the region whose code sorts first.
2. A point in no region (just offshore, or a border drawn coarsely) goes to the nearest region if it
   lies within ``tolerance_km`` (geodesic distance to that region's edge); ties go to the code that
   sorts first. ``placement`` says ``"nearest"``.
3. A facility with only a region is drawn at the region's representative point (``"region"``).
4. Given both, they are cross-checked. A mismatch (wrong state, swapped latitude/longitude) is a
   warning that names both answers; the coordinates win when they fall in a covered region, the
   region wins when they fall in none. ``strict=True`` makes every mismatch a problem of the row.
5. Region text the gazetteer does not know, on a row with coordinates: the coordinates settle it. The row is
   placed by rules 1-2 and the text is a warning naming the region it was placed in (``strict=True``: a
   problem of the row); if the coordinates fall in no region either, the row is rejected with the
   gazetteer's suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import Geod

from capacitymap.errors import Problem
from capacitymap.records.facilities import REGION_COLUMN, REGION_UNRESOLVED
from capacitymap.schema import LINE, SOURCE_FILE

__all__ = ["JoinResult", "assign_regions", "TOLERANCE_KM", "locate_points"]

#: Points this close to a covered region (but in none) go to the nearest one.
TOLERANCE_KM = 25.0

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class JoinResult:
    """Facilities placed on the map, and the rows that could not be."""

    facilities: gpd.GeoDataFrame
    problems: dict[int, list[Problem]] = field(default_factory=dict)  # by input row, for rows that cannot be placed
    warnings: list[Problem] = field(default_factory=list)


def locate_points(lon: np.ndarray, lat: np.ndarray, admin1: gpd.GeoDataFrame) -> np.ndarray:
    """The index (position in ``admin1`` sorted by code) of the region each point falls in, or -1.

    Border points go to the region whose code sorts first.
    """
    regions = admin1.sort_values("iso_3166_2", ignore_index=True)
    points = shapely.points(lon, lat)
    tree = shapely.STRtree(regions.geometry.to_numpy())
    point_idx, region_idx = tree.query(points, predicate="intersects")
    out = np.full(len(points), -1, dtype="int64")
    # Regions are sorted by code: the smallest region index per point is the first code.
    order = np.lexsort((region_idx, point_idx))
    point_idx, region_idx = point_idx[order], region_idx[order]
    first = np.ones(len(point_idx), dtype=bool)
    first[1:] = point_idx[1:] != point_idx[:-1]
    out[point_idx[first]] = region_idx[first]
    return out


def _nearest(lon: float, lat: float, regions: gpd.GeoDataFrame, tree: shapely.STRtree, tolerance_km: float) -> tuple[int, float]:
    """The nearest region within tolerance (position in ``regions``) and its distance in km, or (-1, km)."""
    point = shapely.Point(lon, lat)
    # A generous box in degrees around the point, then exact geodesic distances to the candidates' edges.
    pad = tolerance_km / 111.0 / max(np.cos(np.radians(min(abs(lat), 89.0))), 0.05) + 0.5
    candidates = tree.query(shapely.box(lon - pad, lat - pad, lon + pad, lat + pad))
    best, best_km = -1, float("inf")
    for idx in sorted(int(c) for c in candidates):
        edge_point = shapely.ops.nearest_points(regions.geometry.iloc[idx], point)[0]
        _, _, metres = _GEOD.inv(lon, lat, edge_point.x, edge_point.y)
        km = metres / 1000.0
        if km < best_km - 1e-9:
            best, best_km = idx, km
    return (best, best_km) if best_km <= tolerance_km else (-1, best_km)


def assign_regions(
    facilities: pd.DataFrame,
    admin1: gpd.GeoDataFrame,
    *,
    strict: bool = False,
    tolerance_km: float = TOLERANCE_KM,
) -> JoinResult:
    """Place each facility in an admin-1 region: adds ``iso_3166_2``, ``region_name``, ``placement``, ``geometry``.

    ``facilities`` are canonical records (with ``region_code`` resolved by the reader). Rows that cannot
    be placed are returned in ``problems`` keyed by row position, never dropped silently.
    """
    regions = admin1.sort_values("iso_3166_2", ignore_index=True)
    codes = regions["iso_3166_2"].to_numpy()
    frame = facilities.reset_index(drop=True)
    lon = frame["longitude"].to_numpy(dtype="float64")
    lat = frame["latitude"].to_numpy(dtype="float64")
    has_point = ~(np.isnan(lon) | np.isnan(lat))
    located = np.full(len(frame), -1, dtype="int64")
    if has_point.any():
        located[has_point] = locate_points(lon[has_point], lat[has_point], regions)
    placement = np.where(located >= 0, "point", "").astype(object)
    tree = shapely.STRtree(regions.geometry.to_numpy())
    by_code = {c: i for i, c in enumerate(codes)}
    problems: dict[int, list[Problem]] = {}
    warnings: list[Problem] = []

    def report(i: int, column: str | None, message: str, *, hard: bool) -> None:
        p = Problem(str(frame.at[i, SOURCE_FILE]), int(frame.at[i, LINE]), column, message, "error" if hard else "warning")
        (problems.setdefault(i, []).append(p) if hard else warnings.append(p))

    given = _text_or_none(frame["region_code"]) if "region_code" in frame else np.full(len(frame), None, dtype=object)
    unresolved = _text_or_none(frame[REGION_UNRESOLVED]) if REGION_UNRESOLVED in frame else np.full(len(frame), None, dtype=object)
    region_column = _text_or_none(frame[REGION_COLUMN]) if REGION_COLUMN in frame else np.full(len(frame), None, dtype=object)
    for i in np.flatnonzero(has_point & (located < 0)):
        idx, km = _nearest(lon[i], lat[i], regions, tree, tolerance_km)
        if idx >= 0:
            located[i], placement[i] = idx, "nearest"
        elif given[i] is None:
            report(int(i), "latitude", _outside_message(lon[i], lat[i], km, tolerance_km), hard=True)

    for i in range(len(frame)):
        code = given[i]
        if code is None:
            continue
        if code not in by_code:
            report(i, "region", f"expected a region of the boundary layer, got {code!r}, which it does not cover; "
                   "use --boundaries with a layer that has it", hard=True)
            continue
        if located[i] < 0:
            if has_point[i]:
                hint = _swap_hint(lon[i], lat[i], code, regions, by_code)
                report(i, "latitude", f"the coordinates ({lat[i]:g}, {lon[i]:g}) fall in no covered region{hint}; "
                       f"the facility is drawn in the given region {code} — correct the coordinates", hard=strict)
            located[i], placement[i] = by_code[code], "region"
            continue
        found = codes[located[i]]
        if found != code:
            hint = _swap_hint(lon[i], lat[i], code, regions, by_code)
            report(i, "region", f"the region says {code} but the coordinates ({lat[i]:g}, {lon[i]:g}) fall in {found}{hint}; "
                   f"the facility is placed in {found} by its coordinates — correct the region or the coordinates", hard=strict)

    for i in np.flatnonzero(unresolved != None):  # noqa: E711
        column = region_column[i] or "region"
        if located[i] < 0:
            report(int(i), column, f"{unresolved[i]} The coordinates ({lat[i]:g}, {lon[i]:g}) do not settle it: they fall in no covered region.", hard=True)
        else:
            report(int(i), column, f"{unresolved[i]} The coordinates ({lat[i]:g}, {lon[i]:g}) place the facility in "
                   f"{codes[located[i]]} ({regions['name'].iat[located[i]]}), where it is kept; correct the region text or leave it empty", hard=strict)

    country = _text_or_none(frame["country"])
    region_country = regions["iso_a2"].to_numpy(dtype=object)
    placed = located >= 0
    found_country = np.where(placed, region_country[np.maximum(located, 0)], None)
    for i in np.flatnonzero(placed & (country != None) & (country != found_country)):  # noqa: E711
        if i not in problems:
            report(int(i), "country", f"the country says {country[i]} but the facility falls in {codes[located[i]]} ({found_country[i]}); "
                   "correct the country or the coordinates", hard=strict)

    at_point = placed & np.isin(placement, ["point", "nearest"])
    rep_points = shapely.get_coordinates(regions.geometry.representative_point().to_numpy())
    x = np.where(at_point, lon, rep_points[np.maximum(located, 0), 0])
    y = np.where(at_point, lat, rep_points[np.maximum(located, 0), 1])
    geometry = np.where(placed, shapely.points(x, y), None)
    names = regions["name"].to_numpy(dtype=object)
    out = frame.drop(columns=[c for c in (REGION_UNRESOLVED, REGION_COLUMN) if c in frame])
    out["iso_3166_2"] = np.where(placed, codes[np.maximum(located, 0)], None)
    out["region_name"] = np.where(placed, names[np.maximum(located, 0)], None)
    out["country"] = np.where(placed, found_country, country)
    out["placement"] = np.where(placement != "", placement, None)
    gdf = gpd.GeoDataFrame(out, geometry=list(geometry), crs="EPSG:4326")
    return JoinResult(facilities=gdf, problems=problems, warnings=warnings)


def _text_or_none(column: pd.Series) -> np.ndarray:
    """Text cells as an object array, with every kind of missing (None, NaN, <NA>) as None."""
    return np.array([v if isinstance(v, str) and v else None for v in column], dtype=object)


def _outside_message(lon: float, lat: float, km: float, tolerance_km: float) -> str:
    nearest = f"the nearest covered region is {km:,.0f} km away" if np.isfinite(km) else "no covered region is near"
    return (
        f"the coordinates ({lat:g}, {lon:g}) fall in no covered region and {nearest} (more than {tolerance_km:g} km); "
        "check the coordinates (swapped latitude and longitude?) or give the region"
    )


def _swap_hint(lon: float, lat: float, code: str, regions: gpd.GeoDataFrame, by_code: dict[str, int]) -> str:
    if -90 <= lon <= 90 and regions.geometry.iloc[by_code[code]].intersects(shapely.Point(lat, lon)):
        return " (latitude and longitude look swapped)"
    return ""
