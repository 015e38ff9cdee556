"""Step 2: VPN / proxy correction, and the admin-1 adjacency its ``neighbours`` variant needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import pandas as pd

from capacitymap.errors import BoundaryError, MethodError
from capacitymap.method._frames import frame_from_rows, fsum, require_columns
from capacitymap.method._shares import _sorted
from capacitymap.method._types import POOL_SHARE_COLUMNS, VpnCorrection

#: Columns of the moves frame ``correct_vpn`` returns next to the corrected shares.
VPN_MOVE_COLUMNS = ("month", "pool", "from_region", "to_region", "share", "variant")


def admin1_adjacency(admin1: gpd.GeoDataFrame) -> dict[str, tuple[str, ...]]:
    """Which admin-1 regions border which: ``{iso_3166_2: (neighbour, ...)}``, sorted, same country only.

    Two regions are neighbours when their boundaries share a stretch of border (the
    intersection has a length): regions meeting at a single corner point are not (rook, not
    queen, contiguity). Candidates come from a spatial-index ``intersects`` query.
    Neighbours across a national border are left out, so a correction never moves hashrate
    from one country to another.
    """
    if not isinstance(admin1, gpd.GeoDataFrame):
        raise BoundaryError(f"expected the admin-1 layer as a GeoDataFrame, got {type(admin1).__name__!r}; load it with capacitymap's boundary readers")
    missing = [c for c in ("iso_3166_2", "iso_a2") if c not in admin1.columns]
    if missing:
        raise BoundaryError(f"expected admin-1 columns 'iso_3166_2' and 'iso_a2', missing {missing!r}; load the layer with capacitymap's boundary readers")
    layer = admin1[["iso_3166_2", "iso_a2", "geometry"]].copy()
    layer["iso_3166_2"] = layer["iso_3166_2"].astype(str)
    layer = layer.sort_values("iso_3166_2", kind="mergesort").reset_index(drop=True)
    duplicated = sorted(set(layer.loc[layer["iso_3166_2"].duplicated(), "iso_3166_2"]))
    if duplicated:
        raise BoundaryError(f"expected one admin-1 row per iso_3166_2, got duplicates {duplicated!r}; dissolve the layer by iso_3166_2")
    codes = layer["iso_3166_2"].tolist()
    countries = layer["iso_a2"].astype(str).tolist()
    geoms = layer.geometry.values
    left, right = layer.sindex.query(geoms, predicate="intersects")
    neighbours: dict[str, set[str]] = {code: set() for code in codes}
    for i, j in zip(left.tolist(), right.tolist()):
        if i >= j or countries[i] != countries[j]:
            continue
        if geoms[i].intersection(geoms[j]).length > 0:
            neighbours[codes[i]].add(codes[j])
            neighbours[codes[j]].add(codes[i])
    return {code: tuple(sorted(found)) for code, found in sorted(neighbours.items())}


def correct_vpn(
    shares: pd.DataFrame,
    corrections: Iterable[VpnCorrection],
    *,
    admin1: gpd.GeoDataFrame | None = None,
    adjacency: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move each named pool's share out of the named region, in every month the pool lists it.

    ``shares`` is a pool-shares frame (``normalise_pool_shares``). For each correction, in the
    order given: ``proportional`` adds the region's share to the other regions of the same
    country listed in that pool's data that month, in proportion to their shares;
    ``neighbours`` adds it in equal parts to the region's admin-1 neighbours in the same country
    (``adjacency``, else computed from ``admin1``), adding rows for neighbours the pool did not
    list. The region keeps a row with share 0. Country shares are unchanged, so the pool's total
    is conserved. Changed rows get ``vpn_corrected`` True.

    Returns the corrected shares and the moves (columns ``VPN_MOVE_COLUMNS``).
    """
    require_columns(shares, POOL_SHARE_COLUMNS, "pool shares")
    corrections = tuple(corrections)
    for c in corrections:
        if not isinstance(c, VpnCorrection):
            raise MethodError(f"expected VpnCorrection values, got {c!r}; build them as VpnCorrection(pool, region, variant)")
    pairs = [(c.pool, c.region) for c in corrections]
    twice = sorted({f"{p}:{r}" for p, r in pairs if pairs.count((p, r)) > 1})
    if twice:
        raise MethodError(f"expected each pool and region corrected once, got {twice!r} more than once; keep one --vpn-correct per pool and region")
    if any(c.variant == "neighbours" for c in corrections) and adjacency is None:
        if admin1 is None:
            raise MethodError("the 'neighbours' VPN correction needs the admin-1 layer for adjacency, got none; "
                              "pass admin1= (the boundary layer) or use 'proportional'")
        adjacency = admin1_adjacency(admin1)
    records = [dict(r) for r in shares.loc[:, list(POOL_SHARE_COLUMNS)].to_dict("records")]
    for r in records:
        r["region"] = None if pd.isna(r["region"]) else r["region"]
    moves: list[dict] = []
    for correction in corrections:
        _apply(records, correction, adjacency or {}, moves)
    out = frame_from_rows(records, POOL_SHARE_COLUMNS, text=("month", "pool", "country", "region"),
                          flags=("unreported", "extrapolated", "vpn_corrected"))
    return _sorted(out), frame_from_rows(moves, VPN_MOVE_COLUMNS, text=("month", "pool", "from_region", "to_region", "variant"), flags=())


def _apply(records: list[dict], c: VpnCorrection, adjacency: Mapping[str, tuple[str, ...]], moves: list[dict]) -> None:
    pools = sorted({r["pool"] for r in records})
    if c.pool not in pools:
        raise MethodError(f"VPN correction {str(c)!r}: expected a pool in the records {pools!r}, got {c.pool!r}; name the pool as the records do")
    mine = [r for r in records if r["pool"] == c.pool]
    targets = [r for r in mine if r["region"] == c.region]
    if not targets:
        listed = sorted({r["region"] for r in mine if r["region"]})
        raise MethodError(f"VPN correction {str(c)!r}: expected pool {c.pool!r} to list region {c.region!r} in some month, "
                          f"got its regions {listed!r}; name a region the pool lists (corrections apply to a pool's own region data)")
    if c.variant == "neighbours":
        if c.region not in adjacency:
            raise MethodError(f"VPN correction {str(c)!r}: expected region {c.region!r} in the admin-1 layer, got no such region; check the code or the layer")
        if not _neighbours(adjacency, c):
            raise MethodError(f"VPN correction {str(c)!r}: expected region {c.region!r} to have admin-1 neighbours in {c.country!r}, got none "
                              "(an island, or a gap in the layer); use the 'proportional' variant for it")
    for target in sorted(targets, key=lambda r: r["month"]):
        amount = target["share"]
        month = target["month"]
        if amount <= 0:
            continue
        same = [r for r in mine if r["month"] == month and r["country"] == c.country and r["region"] not in (None, c.region)]
        if c.variant == "proportional":
            base = fsum(r["share"] for r in same)
            if base <= 0:
                raise MethodError(f"VPN correction {str(c)!r}: expected pool {c.pool!r} to list other regions of {c.country!r} "
                                  f"with a share in {month!r}, got {sorted(r['region'] for r in same)!r}; "
                                  "use the 'neighbours' variant, or drop this correction")
            parts = [(r, amount * r["share"] / base) for r in sorted(same, key=lambda r: r["region"])]
        else:
            by_region = {r["region"]: r for r in same}
            parts = []
            around = _neighbours(adjacency, c)
            for region in around:
                if region not in by_region:
                    new = {"month": month, "pool": c.pool, "country": c.country, "region": region, "share": 0.0,
                           "unreported": False, "extrapolated": False, "vpn_corrected": True}
                    records.append(new)
                    by_region[region] = new
                parts.append((by_region[region], amount / len(around)))
        for row, part in parts:
            row["share"] += part
            row["vpn_corrected"] = True
            moves.append({"month": month, "pool": c.pool, "from_region": c.region, "to_region": row["region"],
                          "share": part, "variant": c.variant})
        target["share"] = 0.0
        target["vpn_corrected"] = True


def _neighbours(adjacency: Mapping[str, tuple[str, ...]], c: VpnCorrection) -> tuple[str, ...]:
    """The region's neighbours in its own country (a correction never crosses a border)."""
    return tuple(sorted(n for n in adjacency.get(c.region, ()) if n.startswith(c.country + "-") and n != c.region))
