"""Assign facility records to admin-1 regions.

The rule, in order (deterministic, documented in the README):

1. A facility with coordinates goes to the region whose polygon contains or touches its point;
   a point on a shared border goes to the region whose code sorts first.
2. A point in no region (just offshore, or a border drawn coarsely) goes to the nearest region if it
   lies within ``tolerance_km`` (geodesic distance on the WGS84 ellipsoid to that region's edge, exact in
   metres at every latitude: :class:`NearestRule`, for ``aggregate`` too); ties go to the code that
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
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from capacitymap.errors import Problem
from capacitymap.records.facilities import REGION_COLUMN, REGION_UNRESOLVED
from capacitymap.schema import LINE, SOURCE_FILE

__all__ = ["JoinResult", "assign_regions", "TOLERANCE_KM", "locate_points", "NearestRule", "nearest_region", "nearest_regions"]

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


#: Search for the nearest region this far (a multiple of the tolerance), so that a rejected point's message gives
#: its exact distance to the nearest covered region up to there.
SEARCH_FACTOR = 2.0
#: Boundary edges are measured in sub-segments no longer than this (degrees; about 2 km): over so short a
#: stretch the edge and the straight line between its ends' azimuthal-equidistant images differ by centimetres.
_SUBSEGMENT_DEG = 0.02
#: Kilometres per degree, bounds that only err low: a meridian degree is at least 110.574 km (at the equator),
#: a degree of a parallel at latitude phi at least 111.319 * cos(phi) km.
_KM_PER_DEG_LAT_MIN = 110.5
_KM_PER_DEG_LON_MIN = 111.3
#: Distances equal to this many km (1 mm) are ties, which go to the target that ranks first.
_TIE_KM = 1e-6


#: Segments per boundary piece of a :class:`NearestRule`.
_PIECE: Final = 16


class NearestRule:
    """The nearest-region rule over target polygons, exact in metres (:func:`nearest_regions`).

    The polygons' boundaries are cut into pieces of 16 segments, each with its target's rank, in an STRtree.
    ``parts`` are polygons (a target's multipolygon given as its parts, each with the target's rank in
    ``part_target``). Placing facilities (:func:`assign_regions`) and points (``aggregate``) use this one rule.
    """

    def __init__(self, parts: np.ndarray, part_target: np.ndarray, tolerance_km: float):
        self.tolerance_km = float(tolerance_km)
        parts = np.asarray(parts, dtype=object)
        rings, ring_part = shapely.get_rings(parts, return_index=True) if len(parts) else (np.zeros(0, object), np.zeros(0, np.int64))
        coords, ring_of = shapely.get_coordinates(rings, return_index=True) if len(rings) else (np.zeros((0, 2)), np.zeros(0, np.int64))
        per_ring = np.bincount(ring_of, minlength=len(rings)).astype(np.int64)
        first = np.r_[0, np.cumsum(per_ring)[:-1]].astype(np.int64)
        segments = np.maximum(per_ring - 1, 0)
        n_pieces = (segments + _PIECE - 1) // _PIECE
        piece_ring = np.repeat(np.arange(len(rings)), n_pieces)
        k = ramp(n_pieces)
        start = first[piece_ring] + k * _PIECE
        stop = first[piece_ring] + np.minimum((k + 1) * _PIECE, segments[piece_ring])  # the piece's last vertex
        lengths = stop - start + 1
        vertex = np.repeat(start, lengths) + ramp(lengths)
        piece_of = np.repeat(np.arange(len(start)), lengths)
        self.pieces = shapely.linestrings(coords[vertex], indices=piece_of) if len(vertex) else np.zeros(0, object)
        self.piece_target = np.asarray(part_target, np.int64)[ring_part[piece_ring]] if len(piece_ring) else np.zeros(0, np.int64)
        self.tree = shapely.STRtree(self.pieces)

    def nearest(self, x: np.ndarray, y: np.ndarray, *, search_km: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per point (in no polygon): the target within the tolerance (-1 if none) and the distance in km.

        See :func:`nearest_regions`.
        """
        return nearest_regions(self, x, y, search_km=search_km)


def nearest_regions(index: NearestRule, lon: np.ndarray, lat: np.ndarray, *, search_km: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The nearest target of each point and its geodesic distance, exact in metres.

    ``index`` holds the targets' boundary pieces (``pieces``, ``piece_target``, ``tree``, ``tolerance_km``:
    a :class:`NearestRule`). Picking each target's nearest point in degrees first, then measuring it, is
    wrong wherever a degree of longitude is not a degree of latitude (a point 20 km off a coast at 69N
    measured 33 km, or put in a region 22 km away instead of one 19 km away). Here the distance from a point to an edge
    (straight in longitude/latitude, as the layers draw it) is the geodesic distance on the WGS84
    ellipsoid to the edge's nearest point: every edge near the point is cut to the point's search box and
    into sub-segments of at most 0.02 degree, each is mapped to the azimuthal-equidistant plane around
    the point (``Geod.inv``: distances from the point exact), its nearest point found there and measured
    again with ``Geod.inv``. Edges whose lower bound on the distance (a planar metric with the smallest
    scale of the search box) exceeds a distance already found are skipped. Points near the antimeridian
    are searched on both sides.

    Returns per point the target (its rank in the index) within ``index.tolerance_km``, else -1; and the
    distance in km to the nearest target within ``search_km`` (default: the tolerance), else ``inf``.
    Equal distances (to the millimetre) go to the target that ranks first.
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    n = len(x)
    target = np.full(n, -1, np.int64)
    km = np.full(n, np.inf)
    radius = max(float(search_km if search_km is not None else index.tolerance_km), index.tolerance_km)
    if n == 0 or len(index.pieces) == 0:
        return target, km
    of, qx, qy, qlon, dlat, qband = _search_frames(x, y, radius)
    q, piece = index.tree.query(shapely.box(qx - qlon, qy - dlat, qx + qlon, qy + dlat))
    if len(q) == 0:
        return target, km
    q, piece = _near_pieces(index.pieces, q, piece, qx, qy, qband, radius)
    coords, which = shapely.get_coordinates(index.pieces[piece], return_index=True)
    same = np.flatnonzero(which[1:] == which[:-1])
    ax, ay = coords[same, 0], coords[same, 1]
    dx, dy = coords[same + 1, 0] - ax, coords[same + 1, 1] - ay
    seg_q = q[which[same]]
    seg_target = index.piece_target[piece[which[same]]]
    px, py = qx[seg_q], qy[seg_q]
    # Each edge cut to its point's search box (Liang-Barsky): t0..t1 along it.
    t0, t1 = _clip(ax, ay, dx, dy, px - qlon[seg_q], px + qlon[seg_q], py - dlat, py + dlat)
    keep = t0 <= t1
    if not keep.any():
        return target, km
    ax, ay, dx, dy, t0, t1, seg_q, seg_target, px, py = (
        v[keep] for v in (ax, ay, dx, dy, t0, t1, seg_q, seg_target, px, py))
    # A lower bound on each edge's distance: the plane with the box's smallest km per degree.
    kx = _KM_PER_DEG_LON_MIN * np.cos(np.radians(qband[seg_q]))
    ky = _KM_PER_DEG_LAT_MIN
    sx, sy = (ax + t0 * dx - px) * kx, (ay + t0 * dy - py) * ky
    ex, ey = (ax + t1 * dx - px) * kx, (ay + t1 * dy - py) * ky
    u = _closest_on_chord(sx, sy, ex, ey)
    lower = np.hypot(sx + u * (ex - sx), sy + u * (ey - sy))
    # An upper bound per point: the true distance of the planar-nearest spot of its lowest-bound edge.
    order = np.lexsort((lower, seg_q))
    first = order[np.r_[True, seg_q[order][1:] != seg_q[order][:-1]]]
    t_best = t0[first] + u[first] * (t1[first] - t0[first])
    upper = np.full(len(qx), np.inf)
    upper[seg_q[first]] = _geodesic_km(px[first], py[first], ax[first] + t_best * dx[first], ay[first] + t_best * dy[first])
    keep = lower <= np.minimum(upper[seg_q], radius) + _TIE_KM
    if not keep.any():
        return target, km
    ax, ay, dx, dy, t0, t1, seg_q, seg_target, px, py = (
        v[keep] for v in (ax, ay, dx, dy, t0, t1, seg_q, seg_target, px, py))
    # The remaining edges, in sub-segments of at most _SUBSEGMENT_DEG, measured exactly.
    span = (t1 - t0) * np.maximum(np.abs(dx), np.abs(dy))
    parts = np.maximum(np.ceil(span / _SUBSEGMENT_DEG), 1).astype(np.int64)
    rep = np.repeat(np.arange(len(parts)), parts)
    k = ramp(parts)
    step = (t1 - t0) / parts
    s0 = t0[rep] + k * step[rep]
    s1 = np.where(k + 1 == parts[rep], t1[rep], s0 + step[rep])
    dist = _edge_km(px[rep], py[rep], ax[rep], ay[rep], dx[rep], dy[rep], s0, s1)
    seg_q, seg_target = seg_q[rep], seg_target[rep]
    # Per point (over both sides of the antimeridian): the smallest distance, ties to the first-ranked target.
    point = of[seg_q]
    order = np.lexsort((seg_target, np.round(dist / _TIE_KM), point))
    point, seg_target, dist = point[order], seg_target[order], dist[order]
    first = np.r_[True, point[1:] != point[:-1]]
    point, seg_target, dist = point[first], seg_target[first], dist[first]
    near = dist <= radius
    km[point[near]] = dist[near]
    ok = dist <= index.tolerance_km
    target[point[ok]] = seg_target[ok]
    return target, km


def _search_frames(x: np.ndarray, y: np.ndarray, radius: float):  # noqa: ANN202 - arrays
    """Search boxes holding every spot within ``radius`` km (geodesic) of each point.

    Per box: its point (``of``), centre (qx, qy), half-widths (dlon per box, dlat for all) and the highest
    latitude it reaches (``band``). A box across the antimeridian is given again around the point shifted by
    360 degrees, to meet the edges on the other side.
    """
    dlat = radius / _KM_PER_DEG_LAT_MIN * 1.01 + 1e-9
    band = np.minimum(np.abs(y) + dlat, 89.9)
    dlon = np.minimum(dlat * _KM_PER_DEG_LAT_MIN / (_KM_PER_DEG_LON_MIN * np.cos(np.radians(band))), 180.0)
    west, east = np.flatnonzero(x - dlon < -180.0), np.flatnonzero(x + dlon > 180.0)
    of = np.concatenate([np.arange(len(x)), west, east])
    qx = np.concatenate([x, x[west] + 360.0, x[east] - 360.0])
    return of, qx, y[of], dlon[of], dlat, band[of]


def _search_boxes(x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
    _, qx, qy, qlon, dlat, _ = _search_frames(x, y, radius)
    return shapely.box(qx - qlon, qy - dlat, qx + qlon, qy + dlat)


def _near_pieces(pieces, q, piece, qx, qy, qband, radius):  # noqa: ANN001, ANN202 - arrays
    """The (box, piece) pairs whose piece may hold the box point's nearest spot within ``radius``.

    A lower bound on a piece's distance: to its bounding box, in the plane with the search box's smallest km
    per degree. An upper bound per point: the true distance to the nearest vertex (in that plane) of its piece
    with the lowest bound. Pieces whose lower bound exceeds it (or the radius) cannot hold the nearest spot.
    """
    bounds = shapely.bounds(pieces[piece])
    kx = _KM_PER_DEG_LON_MIN * np.cos(np.radians(qband[q]))
    px, py = qx[q], qy[q]
    gx = np.maximum(np.maximum(bounds[:, 0] - px, px - bounds[:, 2]), 0.0) * kx
    gy = np.maximum(np.maximum(bounds[:, 1] - py, py - bounds[:, 3]), 0.0) * _KM_PER_DEG_LAT_MIN
    lower = np.hypot(gx, gy)
    order = np.lexsort((lower, q))
    best = order[np.r_[True, q[order][1:] != q[order][:-1]]]
    xy, which = shapely.get_coordinates(pieces[piece[best]], return_index=True)
    bq = q[best][which]
    planar = np.hypot((xy[:, 0] - qx[bq]) * kx[best][which], (xy[:, 1] - qy[bq]) * _KM_PER_DEG_LAT_MIN)
    order = np.lexsort((planar, which))
    nearest_vertex = order[np.r_[True, which[order][1:] != which[order][:-1]]]
    upper = np.full(len(qx), np.inf)
    upper[bq[nearest_vertex]] = _geodesic_km(qx[bq[nearest_vertex]], qy[bq[nearest_vertex]], xy[nearest_vertex, 0], xy[nearest_vertex, 1])
    keep = lower <= np.minimum(upper[q], radius) + _TIE_KM
    return q[keep], piece[keep]


def _clip(ax, ay, dx, dy, x0, x1, y0, y1):  # noqa: ANN001, ANN202 - arrays
    """The part t0..t1 (within 0..1) of each segment a + t*d inside its box; t0 > t1 where it misses the box."""
    t0, t1 = np.zeros(len(ax)), np.ones(len(ax))
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, r in ((-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)):
            ratio = r / p
            t0 = np.where(p < 0, np.maximum(t0, ratio), t0)
            t1 = np.where(p > 0, np.minimum(t1, ratio), t1)
            t1 = np.where((p == 0) & (r < 0), -1.0, t1)
    return t0, t1


def _closest_on_chord(sx, sy, ex, ey):  # noqa: ANN001, ANN202 - arrays
    """The fraction (0..1) along each segment s-e of its point nearest to the origin."""
    vx, vy = ex - sx, ey - sy
    length2 = vx * vx + vy * vy
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(length2 > 0, -(sx * vx + sy * vy) / length2, 0.0)
    return np.clip(np.nan_to_num(u), 0.0, 1.0)


def _geodesic_km(x0, y0, x1, y1):  # noqa: ANN001, ANN202 - arrays
    return np.asarray(_GEOD.inv(x0, y0, x1, y1)[2], np.float64) / 1000.0


def _edge_km(px, py, ax, ay, dx, dy, s0, s1):  # noqa: ANN001, ANN202 - arrays
    """Geodesic km from each point to the stretch s0..s1 of its edge a + t*d (a short one)."""
    x0, y0, x1, y1 = ax + s0 * dx, ay + s0 * dy, ax + s1 * dx, ay + s1 * dy
    az0, _, m0 = _GEOD.inv(px, py, x0, y0)
    az1, _, m1 = _GEOD.inv(px, py, x1, y1)
    # Azimuthal-equidistant images of the ends around the point (distances from the point exact).
    m0, m1 = np.asarray(m0, np.float64), np.asarray(m1, np.float64)
    a0, a1 = np.radians(np.asarray(az0, np.float64)), np.radians(np.asarray(az1, np.float64))
    u = _closest_on_chord(m0 * np.sin(a0), m0 * np.cos(a0), m1 * np.sin(a1), m1 * np.cos(a1))
    s = s0 + u * (s1 - s0)
    mid = _geodesic_km(px, py, ax + s * dx, ay + s * dy)
    return np.minimum(mid, np.minimum(m0, m1) / 1000.0)


def nearest_region(lon: np.ndarray, lat: np.ndarray, admin1: gpd.GeoDataFrame, *, tolerance_km: float = TOLERANCE_KM) -> tuple[np.ndarray, np.ndarray]:
    """The nearest region of each point (in no region), by :func:`nearest_regions`.

    Returns the region within ``tolerance_km`` (position in ``admin1`` sorted by code, -1 if none) and the
    exact geodesic distance in km to the nearest region (``inf`` beyond ``SEARCH_FACTOR`` times the tolerance).
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    regions = admin1.sort_values("iso_3166_2", ignore_index=True)
    geoms = regions.geometry.to_numpy()
    search_km = SEARCH_FACTOR * tolerance_km
    # Only the regions near the points are cut into the index's boundary pieces.
    boxes = _search_boxes(x, y, max(search_km, tolerance_km))
    candidates = np.unique(shapely.STRtree(geoms).query(boxes)[1]) if len(x) else np.zeros(0, np.int64)
    parts, owner = shapely.get_parts(geoms[candidates], return_index=True)
    return NearestRule(parts, candidates[owner], tolerance_km).nearest(x, y, search_km=search_km)


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
    by_code = {c: i for i, c in enumerate(codes)}
    problems: dict[int, list[Problem]] = {}
    warnings: list[Problem] = []

    def report(i: int, column: str | None, message: str, *, hard: bool) -> None:
        p = Problem(str(frame.at[i, SOURCE_FILE]), int(frame.at[i, LINE]), column, message, "error" if hard else "warning")
        (problems.setdefault(i, []).append(p) if hard else warnings.append(p))

    given = _text_or_none(frame["region_code"]) if "region_code" in frame else np.full(len(frame), None, dtype=object)
    unresolved = _text_or_none(frame[REGION_UNRESOLVED]) if REGION_UNRESOLVED in frame else np.full(len(frame), None, dtype=object)
    region_column = _text_or_none(frame[REGION_COLUMN]) if REGION_COLUMN in frame else np.full(len(frame), None, dtype=object)
    outside = np.flatnonzero(has_point & (located < 0))
    near, near_km = nearest_region(lon[outside], lat[outside], regions, tolerance_km=tolerance_km)
    for i, idx, km in zip(outside.tolist(), near.tolist(), near_km.tolist(), strict=True):
        if idx >= 0:
            located[i], placement[i] = idx, "nearest"
        elif given[i] is None:
            report(i, "latitude", _outside_message(lon[i], lat[i], km, tolerance_km), hard=True)

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


def ramp(lengths: np.ndarray) -> np.ndarray:
    """0..len-1 for each length, concatenated (``np.arange`` per run, vectorised; aggregate/ uses it too)."""
    lengths = np.asarray(lengths, np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)


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
