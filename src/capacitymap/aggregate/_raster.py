"""A raster of cells over the target polygons: most points are placed by one array lookup.

Each cell of a regular longitude/latitude grid is one of:

* a target (``>= 0``): no polygon boundary touches the cell, so every point in it (its edges
  included) lies in the same polygons; the target is the first-ranked of them;
* :data:`FAR`: in no polygon and farther than the nearest-region tolerance from every polygon, so
  a point there is unplaced;
* :data:`BOUNDARY`: a polygon boundary touches the cell: its points get the exact point-in-polygon test;
* :data:`NEAR`: in no polygon but within the tolerance of one: its points get the nearest-region rule.

Built with numpy only: the cells a boundary touches come from the boundary's vertices and its
crossings of the grid lines (a "supercover", widened by a hair so that rounding never misses a
cell), and which polygons hold a cell from the even-odd rule along the row through the cell
centres. Two cells that share an edge and are both free of boundaries lie in the same polygons, so
rounding a point into its neighbouring cell cannot change its answer.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import numpy as np
import shapely

from capacitymap.join import ramp

__all__ = ["Raster", "build_raster", "FAR", "BOUNDARY", "NEAR"]

FAR: Final = -1
BOUNDARY: Final = -2
NEAR: Final = -3
#: A hair, in cells: a vertex or crossing this close to a grid line marks the cells on both sides.
_HAIR: Final = 1e-6
#: Edges handled at once while building (bounds the temporary arrays).
_CHUNK: Final = 1 << 17
#: The most cells a raster has (int16 or int32 each).
DEFAULT_MAX_CELLS: Final = 1 << 22
#: The shortest degree of latitude (at the equator) is 110.574 km: a bound that only errs generously.
_KM_PER_DEGREE_MIN: Final = 110.0


def search_radius_deg(lat: np.ndarray, tolerance_km: float) -> np.ndarray:
    """A planar radius in degrees that holds every point within ``tolerance_km`` (geodesic) of (lon, lat).

    The band the raster marks around every boundary, so that exactly the points that may be within reach
    of a region get the nearest rule (:class:`capacitymap.join.NearestRule`).
    """
    dlat = tolerance_km / _KM_PER_DEGREE_MIN * 1.05
    cos = np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.9)))
    return dlat * (1.0 + 1.0 / np.maximum(cos, 1e-3)) + 1e-9


@dataclass(frozen=True)
class Raster:
    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    cells: np.ndarray  # (ny * nx,) int16/int32 labels

    def classify(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The cell label of each point (finite x, y); points off the grid are :data:`BOUNDARY`."""
        fx = x - self.x0
        fx *= 1.0 / self.dx
        fy = y - self.y0
        fy *= 1.0 / self.dy
        small = self.nx * self.ny < (1 << 31)
        if small and len(x) and fx.min() >= 0 and fy.min() >= 0 and fx.max() < self.nx and fy.max() < self.ny:
            # int32 indices: half the memory traffic of int64.
            cell = fy.astype(np.int32)
            cell *= self.nx
            cell += fx.astype(np.int32)
            return self.cells.take(cell)
        on = (fx >= 0) & (fy >= 0) & (fx < self.nx) & (fy < self.ny)
        out = np.full(len(x), BOUNDARY, self.cells.dtype)
        out[on] = self.cells[fy[on].astype(np.int64) * self.nx + fx[on].astype(np.int64)]
        return out

    @property
    def nbytes(self) -> int:
        return int(self.cells.nbytes)


def build_raster(parts: np.ndarray, part_target: np.ndarray, n_targets: int, tolerance_km: float,
                 *, max_cells: int = DEFAULT_MAX_CELLS, far: int = FAR) -> Raster:
    """The raster of the polygon ``parts`` (each with its target rank; lower ranks win overlaps).

    Cells far from every polygon hold ``far`` (default :data:`FAR`; the index stores its "outside" target there).
    """
    dtype = np.int16 if max(n_targets, far) < (1 << 15) - 1 else np.int32
    bounds = shapely.bounds(parts) if len(parts) else np.zeros((0, 4))
    ok = np.isfinite(bounds).all(axis=1)
    if not ok.any():
        return Raster(0.0, 0.0, 1.0, 1.0, 1, 1, np.full(1, BOUNDARY, dtype))
    b = bounds[ok]
    pad_y = float(search_radius_deg(np.zeros(1), tolerance_km)[0]) / 2
    top = float(max(abs(b[:, 1].min()), abs(b[:, 3].max())))
    pad_x = float(search_radius_deg(np.array([top]), tolerance_km)[0])
    x0, x1 = max(-180.0, float(b[:, 0].min()) - pad_x), min(180.0, float(b[:, 2].max()) + pad_x)
    y0, y1 = max(-90.0, float(b[:, 1].min()) - pad_y), min(90.0, float(b[:, 3].max()) + pad_y)
    width, height = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
    d = math.sqrt(width * height / max_cells)
    nx, ny = max(1, math.ceil(width / d)), max(1, math.ceil(height / d))
    dx, dy = width / nx, height / ny

    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    xa, ya, xb, yb = coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]
    edge_part = ring_part[ring_of[:-1][same]]

    grid = (x0, y0, dx, dy, nx, ny)
    # The targets are painted in a second thread while the boundary cells are marked (numpy
    # releases the GIL for most of both).
    with ThreadPoolExecutor(max_workers=1) as pool:
        painting = pool.submit(_painted, xa, ya, xb, yb, edge_part, np.asarray(part_target, np.int64), dtype, grid)
        boundary = np.zeros(nx * ny, bool)
        _mark(boundary, coords[:, 0], coords[:, 1], *grid)
        for a in range(0, len(xa), _CHUNK):
            _mark_crossings(boundary, xa[a:a + _CHUNK], ya[a:a + _CHUNK], xb[a:a + _CHUNK], yb[a:a + _CHUNK], *grid)
        near = _dilate(boundary.reshape(ny, nx), y0, dy, dx, tolerance_km).ravel()
        cells = painting.result()
    sentinel = np.iinfo(dtype).max
    unpainted = cells == sentinel
    np.copyto(cells, far, where=unpainted)
    unpainted &= near
    np.copyto(cells, NEAR, where=unpainted)
    del near, unpainted
    np.copyto(cells, BOUNDARY, where=boundary)
    return Raster(x0, y0, dx, dy, nx, ny, cells)


def _painted(xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray, edge_part: np.ndarray, part_target: np.ndarray,
             dtype: type, grid: tuple[float, float, float, float, int, int]) -> np.ndarray:
    """Each cell's target (the lowest of the parts holding its centre), or the dtype's largest value where none does."""
    x0, y0, dx, dy, nx, ny = grid
    cells = np.full(nx * ny, np.iinfo(dtype).max, dtype)
    # Parts are painted in chunks of whole parts (a part's crossings must be paired together).
    cuts = np.flatnonzero(np.diff(edge_part)) + 1
    at = np.searchsorted(cuts, np.arange(_CHUNK, len(xa), _CHUNK))
    cut_at = np.unique(np.r_[0, cuts[at[at < len(cuts)]], len(xa)]).tolist()
    for a, b in zip(cut_at[:-1], cut_at[1:]):
        if b > a:
            _paint(cells, xa[a:b], ya[a:b], xb[a:b], yb[a:b], edge_part[a:b], part_target, x0, y0, dx, dy, nx, ny)
    return cells


def _mark_crossings(boundary: np.ndarray, xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray,
                    x0: float, y0: float, dx: float, dy: float, nx: int, ny: int) -> None:
    """Mark the cells on both sides of every crossing of an edge with a grid line (the supercover)."""
    for xs, ys, xe, ye, flip in ((xa, ya, xb, yb, False), (ya, xa, yb, xb, True)):
        # Crossings of the lines y = y0 + j * dy (then, flipped, of x = x0 + i * dx).
        s, ds = (y0, dy) if not flip else (x0, dx)
        lo, hi = np.minimum(ys, ye), np.maximum(ys, ye)
        j0 = np.ceil((lo - s) / ds).astype(np.int64)
        j1 = np.floor((hi - s) / ds).astype(np.int64)
        k = np.maximum(j1 - j0 + 1, 0)
        e = np.repeat(np.arange(len(k)), k)
        line = s + (np.repeat(j0, k) + ramp(k)) * ds
        span = ye[e] - ys[e]
        t = np.divide(line - ys[e], span, out=np.zeros(len(e)), where=span != 0)
        cross = xs[e] + t * (xe[e] - xs[e])
        if not flip:
            _mark(boundary, cross, line, x0, y0, dx, dy, nx, ny)
        else:
            _mark(boundary, line, cross, x0, y0, dx, dy, nx, ny)


def _mark(boundary: np.ndarray, x: np.ndarray, y: np.ndarray, x0: float, y0: float, dx: float, dy: float, nx: int, ny: int) -> None:
    fx, fy = (x - x0) / dx, (y - y0) / dy
    # The cells at +-HAIR around each point: usually one; two or four near a grid line.
    c0 = np.clip(np.floor(fx - _HAIR), 0, nx - 1).astype(np.int64)
    c1 = np.clip(np.floor(fx + _HAIR), 0, nx - 1).astype(np.int64)
    r0 = np.clip(np.floor(fy - _HAIR), 0, ny - 1).astype(np.int64)
    r1 = np.clip(np.floor(fy + _HAIR), 0, ny - 1).astype(np.int64)
    boundary[r0 * nx + c0] = True
    dc, dr = c1 != c0, r1 != r0
    boundary[r0[dc] * nx + c1[dc]] = True
    boundary[r1[dr] * nx + c0[dr]] = True
    both = dc & dr
    boundary[r1[both] * nx + c1[both]] = True


def _paint(label: np.ndarray, xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray, edge_part: np.ndarray,
           part_target: np.ndarray, x0: float, y0: float, dx: float, dy: float, nx: int, ny: int) -> None:
    """Lower ``label`` to each part's target in the cells whose centre it holds (even-odd rule per part and row)."""
    lo, hi = np.minimum(ya, yb), np.maximum(ya, yb)
    # Rows whose centre y0 + (j + 0.5) dy lies in [lo, hi): half-open, so a vertex counts once.
    j0 = np.ceil((lo - y0) / dy - 0.5).astype(np.int64)
    j1 = np.ceil((hi - y0) / dy - 0.5).astype(np.int64)
    k = np.maximum(j1 - j0, 0)
    e = np.repeat(np.arange(len(k)), k)
    row = np.repeat(j0, k) + ramp(k)
    yc = y0 + (row + 0.5) * dy
    x = xa[e] + (yc - ya[e]) * ((xb[e] - xa[e]) / (yb[e] - ya[e]))
    part = edge_part[e]
    order = np.lexsort((x, row, part))
    x, row, part = x[order], row[order], part[order]
    # Each ring crosses a row an even number of times: pair them up (in, out).
    first_in = np.clip(np.floor((x[0::2] - x0) / dx - 0.5).astype(np.int64) + 1, 0, nx)
    first_out = np.clip(np.floor((x[1::2] - x0) / dx - 0.5).astype(np.int64) + 1, 0, nx)
    span_row, span_target = row[0::2], part_target[part[0::2]]
    length = np.maximum(first_out - first_in, 0)
    keep = (length > 0) & (span_row >= 0) & (span_row < ny)
    first_in, length, span_row, span_target = first_in[keep], length[keep], span_row[keep], span_target[keep]
    cell = np.repeat(span_row * nx + first_in, length) + ramp(length)
    np.minimum.at(label, cell, np.repeat(span_target.astype(label.dtype), length))


def _dilate(boundary: np.ndarray, y0: float, dy: float, dx: float, tolerance_km: float) -> np.ndarray:
    """Cells within the tolerance of a boundary cell (generously: by rows, then by each row's width)."""
    ny, nx = boundary.shape
    rad_y = float(search_radius_deg(np.zeros(1), tolerance_km)[0]) / 2
    ky = int(math.ceil(rad_y / dy)) + 1
    near_y = _window_any(boundary, ky)
    r = np.arange(ny)
    lat = np.maximum(np.abs(y0 + r * dy), np.abs(y0 + (r + 1) * dy))
    cos = np.cos(np.radians(np.minimum(lat + rad_y, 89.9)))
    kx = np.ceil(rad_y / np.maximum(cos, 1e-3) / dx).astype(np.int64) + 1
    out = np.empty((ny, nx), bool)
    # Rows of equal width at once (the width grows with the latitude: a few dozen distinct values).
    order = np.argsort(kx, kind="stable")
    cuts = np.flatnonzero(np.diff(kx[order])) + 1
    for rows in np.split(order, cuts):
        lo, hi = int(rows.min()), int(rows.max()) + 1
        if hi - lo == len(rows):  # contiguous (bands of latitude): slices, no copies
            out[lo:hi] = _window_any(near_y[lo:hi].T, int(kx[lo])).T
        else:
            out[rows] = _window_any(near_y[rows].T, int(kx[rows[0]])).T
    return out


def _window_any(a: np.ndarray, k: int) -> np.ndarray:
    """``out[i] = a[i - k : i + k + 1].any(axis=0)`` (clipped at the ends), by doubling: log2(2k + 1) passes."""
    n = a.shape[0]
    length = min(2 * k + 1, 2 * n)
    w = a.copy()  # w[i] = a[i : i + span].any()
    span = 1
    while 2 * span <= length:
        if span < n:
            w[: n - span] |= w[span:]
        span *= 2
    # a[i-k : i+k+1] = a[i-k : i-k+span] and a[i+k+1-span : i+k+1] (span <= length <= 2 span).
    out = np.zeros_like(a)
    _or_shifted(out, w, -k)
    _or_shifted(out, w, k + 1 - span)
    return out


def _or_shifted(out: np.ndarray, w: np.ndarray, shift: int) -> None:
    """``out[i] |= w[i + shift]`` where ``i + shift`` is in range; before the start, ``w[0]`` (windows clipped there)."""
    n = w.shape[0]
    if shift >= 0:
        if shift < n:
            out[: n - shift] |= w[shift:]
    else:
        s = min(-shift, n)
        out[s:] |= w[: n - s]
        out[:s] |= w[0]
