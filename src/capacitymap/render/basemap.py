"""A basemap made for thematic maps, from the shipped Natural Earth layers (no tile server).

:func:`basemap_payload` returns JSON-ready data for ``js/basemap.js``'s ``capacitymapBasemap(map, payload)``:

* ``sea``: a GeoJSON polygon painted in the sea colour below everything;
* ``land``: the countries around the drawn regions (not drawn by the choropleth), muted, as GeoJSON;
* ``borders``: the outlines of the drawn countries (admin-1 maps: where one country's states meet
  another's, and the coasts), drawn above the choropleth as GeoJSON lines;
* ``labels``: one per drawn region, ``{"key", "text", "short", "lon", "lat", "size", "priority"}``: the
  name and a short form (postal or ISO code) at the centre of the largest circle inside the region
  (``size`` is that circle's radius in degrees of longitude, so the page can tell at each zoom whether
  the text fits); ``priority`` 1 is the largest region (placed first when labels collide);
* ``colours``: sea, land, land border, country border and label colours.

Coordinates are simplified and rounded so the payload stays small; the result is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Final

import geopandas as gpd
import numpy as np
import shapely

from capacitymap.errors import BoundaryError
from capacitymap.render.geometry import VIEW_PIXELS, key_of, one_side_of_antimeridian
from capacitymap.render.spec import BBox

__all__ = ["basemap_payload", "basemap_js", "label_points", "BASEMAP_COLOURS"]

BASEMAP_COLOURS: Final[dict[str, str]] = {
    "sea": "#dce8f0",
    "land": "#f1efe9",
    "landBorder": "#c9c5bb",
    "border": "#3d3d3d",
    "label": "#222222",
    "halo": "#ffffff",
}
#: Neighbouring land: simplification tolerance (degrees) and decimals kept.
_LAND_TOLERANCE: Final = {"admin1": 0.1, "country": 0.1}
#: How the page's basemap config has always spelt the level (no script reads it; kept so that pages stay byte-identical).
_PAGE_LEVEL: Final = {"admin1": "admin1", "country": "admin0"}
_DECIMALS: Final = 2
#: The land drawn reaches this far (degrees, at least; a quarter of the view's width for wide views) east
#: and west of the view, and from pole to pole: a phone held upright sees far north and south of the view.
_MARGIN: Final = 12.0
#: Labels: coordinates to 3 decimals, sizes to 3.
_LABEL_DECIMALS: Final = 3


def basemap_payload(regions_drawn: gpd.GeoDataFrame, level: str, bounds: BBox | Sequence[Any]) -> dict[str, Any]:
    """What ``capacitymapBasemap(map, payload)`` draws around and over the choropleth of ``regions_drawn``.

    ``regions_drawn`` are the regions the choropleth draws (``select_regions``' result: the key column,
    ``iso_a2``, ``name``, geometry in EPSG:4326); ``level`` is ``"admin1"`` or ``"country"``; ``bounds``
    is the view, a :class:`BBox` or Leaflet's ``[[south, west], [north, east]]``.
    """
    if level not in ("admin1", "country"):
        raise BoundaryError(f"basemap: expected level 'admin1' or 'country', got {level!r}")
    key = key_of(level)  # type: ignore[arg-type]
    for col in (key, "name"):
        if col not in regions_drawn.columns:
            raise BoundaryError(
                f"basemap: expected the drawn regions to have a {col!r} column, got {list(regions_drawn.columns)!r}; "
                "pass the regions select_regions() returns"
            )
    west, south, east, north = _bounds(bounds)
    countries = tuple(sorted(set(_countries(regions_drawn, key))))
    drawn_keys = tuple(sorted(regions_drawn[key].astype(str))) if level == "country" else ()
    land = _land(level, countries if level == "admin1" else (), drawn_keys, round(west), round(south), round(east), round(north))
    return {
        "sea": _SEA,
        "land": land,
        "borders": _borders(countries) if level == "admin1" else _EMPTY_LINES,
        "labels": label_points(regions_drawn, level),
        "colours": dict(BASEMAP_COLOURS),
        "level": _PAGE_LEVEL[level],
    }


def label_points(regions_drawn: gpd.GeoDataFrame, level: str) -> list[dict[str, Any]]:
    """One label per region: text, short form, the centre of the largest inscribed circle and its radius."""
    key = key_of(level)  # type: ignore[arg-type]
    rows = []
    geoms = np.asarray(regions_drawn.geometry.values)
    for code, name, geom in zip(regions_drawn[key].astype(str), regions_drawn["name"].fillna("").astype(str), geoms):
        if geom is None or geom.is_empty:
            continue
        part = _largest_part(geom)
        lon, lat, radius = _inscribed(part)
        rows.append({
            "key": code,
            "text": name or code,
            "short": _short(code, level),
            "lon": round(lon, _LABEL_DECIMALS),
            "lat": round(lat, _LABEL_DECIMALS),
            "size": round(radius, _LABEL_DECIMALS),
            "area": float(shapely.area(geom) * np.cos(np.radians(lat))),
        })
    rows.sort(key=lambda r: (-r["area"], r["key"]))
    out = []
    for i, r in enumerate(rows, start=1):
        r.pop("area")
        out.append({**r, "priority": i})
    return sorted(out, key=lambda r: r["key"])


# --- helpers -------------------------------------------------------------------------------------

_SEA: Final = {"type": "Feature", "properties": {},
               "geometry": {"type": "Polygon", "coordinates": [[[-540, -85], [540, -85], [540, 85], [-540, 85], [-540, -85]]]}}
_EMPTY_LINES: Final = {"type": "FeatureCollection", "features": []}


def _bounds(bounds: BBox | Sequence[Any]) -> tuple[float, float, float, float]:
    if isinstance(bounds, BBox):
        return bounds.west, bounds.south, bounds.east, bounds.north
    try:
        (south, west), (north, east) = bounds  # type: ignore[misc]
        values = tuple(float(v) for v in (west, south, east, north))
    except (TypeError, ValueError) as exc:
        raise BoundaryError(
            f"basemap: expected bounds as a BBox or [[south, west], [north, east]], got {bounds!r}"
        ) from exc
    if not all(np.isfinite(values)):
        raise BoundaryError(f"basemap: expected finite bounds, got {bounds!r}")
    return values  # type: ignore[return-value]


def _countries(regions: gpd.GeoDataFrame, key: str) -> list[str]:
    if "iso_a2" in regions.columns:
        return [str(c) for c in regions["iso_a2"]]
    return [str(k).split("-")[0] for k in regions[key]]


def _short(code: str, level: str) -> str:
    if level == "admin1" and "-" in code:
        return code.split("-", 1)[1]
    return code


def _largest_part(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    if not parts:
        return geom
    areas = shapely.area(np.array(parts, dtype=object))
    bounds = shapely.bounds(np.array(parts, dtype=object))
    weight = areas * np.cos(np.radians((bounds[:, 1] + bounds[:, 3]) / 2))  # area on the ground, roughly
    return parts[int(np.argmax(weight))]


def _inscribed(part: shapely.Geometry) -> tuple[float, float, float]:
    """Centre and radius of the largest circle inside ``part``, computed with longitudes scaled by cos(lat)."""
    lat0 = (part.bounds[1] + part.bounds[3]) / 2
    k = max(np.cos(np.radians(lat0)), 0.05)
    squeezed = shapely.transform(part, lambda c: c * [k, 1.0])
    extent = min(squeezed.bounds[2] - squeezed.bounds[0], squeezed.bounds[3] - squeezed.bounds[1])
    tolerance = max(extent / 40, 1e-4)
    try:
        line = shapely.maximum_inscribed_circle(squeezed, tolerance)
        (x, y), (x2, y2) = shapely.get_coordinates(line)[:2]
        radius = float(np.hypot(x2 - x, y2 - y))
    except shapely.errors.GEOSException:  # degenerate sliver
        p = squeezed.representative_point()
        x, y, radius = p.x, p.y, 0.0
    # back to degrees of longitude: the radius was measured in "degrees of latitude"
    return float(x / k), float(y), float(radius / k)


@lru_cache(maxsize=16)
def _land(level: str, countries: tuple[str, ...], drawn: tuple[str, ...],
          west: int, south: int, east: int, north: int) -> dict[str, Any]:
    from capacitymap.io.boundaries import read_admin0_web

    admin0 = read_admin0_web()
    margin = max(_MARGIN, (east - west) / 4)
    view = shapely.box(max(west - margin, -540), -85, min(east + margin, 540), 85)
    tolerance = max(_LAND_TOLERANCE[level], 3 * (east - west) / VIEW_PIXELS)  # muted land: coarser than the regions
    # admin-0 maps: the countries the choropleth does not draw (those without an ISO code among them)
    frame = admin0[~admin0["iso_a2"].isin(drawn if level == "country" else countries)]
    geoms = one_side_of_antimeridian(np.asarray(frame.geometry.values))
    near = shapely.intersects(shapely.envelope(geoms), view)  # cheap: most of the world is far from the view
    frame, geoms = frame[near], geoms[near]
    invalid = ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid])
    geoms = shapely.intersection(geoms, view)
    features = []
    for code, name, g in zip(frame["iso_a2"], frame["name"], geoms):
        if g is None or g.is_empty:
            continue
        g = shapely.simplify(g, tolerance, preserve_topology=True)
        if shapely.area(g) < tolerance * tolerance:
            continue  # an islet smaller than a pixel
        g = _polygons(_rounded(shapely.set_precision(g, 10.0 ** -_DECIMALS), _DECIMALS))
        if g.is_empty:
            continue
        features.append({"type": "Feature", "properties": {"name": str(name), "iso_a2": str(code)},
                         "geometry": _geojson(g)})
    return {"type": "FeatureCollection", "features": features}


@lru_cache(maxsize=16)
def _borders(countries: tuple[str, ...]) -> dict[str, Any]:
    """Borders between the drawn countries (from admin-0, a coverage: neighbours share their edges exactly).

    Coasts are the choropleth's own outlines; states of different countries come from different
    sources and do not share edges, so admin-0's borders are drawn over them.
    """
    if len(countries) < 2:
        return _EMPTY_LINES
    from capacitymap.io.boundaries import read_admin0_web

    admin0 = read_admin0_web()
    frame = admin0[admin0["iso_a2"].isin(countries)].sort_values("iso_a2")
    codes = frame["iso_a2"].astype(str).tolist()
    outlines = shapely.boundary(shapely.make_valid(np.asarray(frame.geometry.values)))
    features = []
    for i, a in enumerate(codes):
        for j in range(i + 1, len(codes)):
            if not shapely.intersects(shapely.envelope(outlines[i]), shapely.envelope(outlines[j])):
                continue
            shared = shapely.line_merge(shapely.intersection(outlines[i], outlines[j]))
            lines = [p for p in shapely.get_parts(shared) if p.geom_type == "LineString"]
            if not lines:
                continue
            line = _rounded(shapely.MultiLineString(lines), 3)
            features.append({"type": "Feature", "properties": {"between": f"{a}|{codes[j]}"}, "geometry": _geojson(line)})
    return {"type": "FeatureCollection", "features": features}


def _rounded(geom: shapely.Geometry, decimals: int) -> shapely.Geometry:
    # np.round gives the double nearest the decimal, which JSON writes short ("12.34", not "12.340000000000002")
    return shapely.transform(geom, lambda c: np.round(c, decimals))


def _polygons(geom: shapely.Geometry) -> shapely.Geometry:
    polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    polys += [q for p in shapely.get_parts(geom) if p.geom_type == "MultiPolygon" for q in shapely.get_parts(p)]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _geojson(geom: shapely.Geometry) -> dict[str, Any]:
    import json

    return json.loads(shapely.to_geojson(geom))


def basemap_js() -> str:
    """The text of ``js/basemap.js`` (defines ``capacitymapBasemap(map, payload)``), for the page to inline."""
    return _js("basemap.js")


def _js(name: str) -> str:
    from importlib import resources

    return (resources.files("capacitymap.render") / "js" / name).read_text(encoding="utf-8")
