"""Step 4: the pools' shares -> the sample's shares, weighted by pool hashrate."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from capacitymap.errors import MethodError
from capacitymap.method._frames import frame_from_rows, fsum, join_pools, region_key, require_columns
from capacitymap.method._types import MONTHLY_COLUMNS, POOL_SHARE_COLUMNS, POOL_WEIGHT_COLUMNS


def aggregate_pools(shares: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """The sample's distribution per month: ``S = sum_p (w_p / sum_q w_q) x s_p`` for every row.

    ``shares`` is a pool-shares frame, ``weights`` a pool-weights frame (``derive_pool_weights``).
    A pool without a row for a country or region contributes 0 to it. Country rows, region rows
    and the unreported remainder are aggregated alike, so each month's country rows still add
    up to 1. ``pools`` names the pools with a row, ``extrapolated`` / ``vpn_corrected`` are
    True when any pool's row was.

    Returns the columns ``MONTHLY_COLUMNS``, sorted by month, country, unreported, region.
    """
    require_columns(shares, POOL_SHARE_COLUMNS, "pool shares")
    require_columns(weights, POOL_WEIGHT_COLUMNS, "pool weights")
    weight = {(r.month, r.pool): float(r.weight) for r in weights.itertuples()}
    missing = sorted({f"{m} {p}" for m, p in zip(shares["month"], shares["pool"]) if (m, p) not in weight})
    if missing:
        raise MethodError(f"expected a weight for every pool and month, got none for {missing!r}; derive them with derive_pool_weights from the same records")
    bad = sorted(f"{m} {p}: {w!r}" for (m, p), w in weight.items() if not (w > 0 and w < float("inf")))
    if bad:
        raise MethodError(f"expected positive finite pool weights, got {bad!r}; give each pool's hashrate in EH/s")
    pools_in_month: dict[str, set[str]] = defaultdict(set)
    for m, p in zip(shares["month"], shares["pool"]):
        pools_in_month[m].add(p)
    fraction = {}
    for month, pools in pools_in_month.items():
        total = fsum(weight[(month, p)] for p in pools)
        for p in pools:
            fraction[(month, p)] = weight[(month, p)] / total
    cells: dict[tuple, list] = defaultdict(list)
    for r in shares.itertuples():
        region = None if pd.isna(r.region) else r.region
        cells[(r.month, r.country, bool(r.unreported), region)].append(r)
    rows = []
    for (month, country, unreported, region), found in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], region_key(kv[0][3]))):
        rows.append({
            "month": month, "country": country, "region": region,
            "share": fsum(fraction[(month, r.pool)] * r.share for r in found),
            "pools": join_pools(r.pool for r in found),
            "extrapolated": any(r.extrapolated for r in found),
            "vpn_corrected": any(r.vpn_corrected for r in found),
            "unreported": unreported,
        })
    return frame_from_rows(rows, MONTHLY_COLUMNS, text=("month", "country", "region", "pools"),
                           flags=("extrapolated", "vpn_corrected", "unreported"))
