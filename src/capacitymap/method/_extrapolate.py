"""Step 3: give pools without regional data the average regional distribution of those with it."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from capacitymap.method._frames import frame_from_rows, fsum, require_columns
from capacitymap.method._shares import _sorted
from capacitymap.method._types import POOL_SHARE_COLUMNS


def regional_distributions(shares: pd.DataFrame) -> pd.DataFrame:
    """Each pool's distribution **within** each country: region share / country share.

    Columns ``month, pool, country, region, share_of_country``; only pools with region rows for
    that country and a country share above 0. What a pool did not place in any region is left
    out, so a pool's row sum can be below 1.
    """
    require_columns(shares, POOL_SHARE_COLUMNS, "pool shares")
    rows = []
    country = shares[shares["region"].isna() & ~shares["unreported"]]
    country_share = {(r.month, r.pool, r.country): r.share for r in country.itertuples()}
    for r in shares[shares["region"].notna()].itertuples():
        total = country_share.get((r.month, r.pool, r.country), 0.0)
        if total > 0:
            rows.append({"month": r.month, "pool": r.pool, "country": r.country, "region": r.region,
                         "share_of_country": r.share / total})
    return frame_from_rows(rows, ("month", "pool", "country", "region", "share_of_country"),
                           text=("month", "pool", "country", "region"), flags=())


def extrapolate_regions(shares: pd.DataFrame) -> pd.DataFrame:
    """Fill in regions for pools that give a country's share but not its regions.

    For each month and country, the donors are the pools that list regions of that country;
    their within-country distributions are averaged **plainly** (each donor counts once, as
    CCAF's "an average of these distributions" reads; a region a donor does not list counts as
    0 for that donor). A pool with a share of the country but no region rows gets
    ``country share x average distribution`` for each region, flagged ``extrapolated``; where a
    donor's row for that region was VPN-corrected, the new row is flagged ``vpn_corrected`` too.
    What the donors left unplaced stays unplaced in the same proportion, so country totals and
    the pool's total are unchanged. Without donors the country stays without regions.
    """
    require_columns(shares, POOL_SHARE_COLUMNS, "pool shares")
    dist = regional_distributions(shares)
    corrected = {(r.month, r.pool, r.region) for r in shares[shares["vpn_corrected"] & shares["region"].notna()].itertuples()}
    donors: dict[tuple[str, str], dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in dist.itertuples():
        donors[(r.month, r.country)][r.pool][r.region] = r.share_of_country
    with_regions = {(r.month, r.pool, r.country) for r in shares[shares["region"].notna()].itertuples()}
    new_rows = []
    countries = shares[shares["region"].isna() & ~shares["unreported"]]
    for r in countries.itertuples():
        if (r.month, r.pool, r.country) in with_regions or r.share <= 0:
            continue
        pools = donors.get((r.month, r.country))
        if not pools:
            continue
        regions = sorted({region for d in pools.values() for region in d})
        for region in regions:
            average = fsum(pools[p].get(region, 0.0) for p in sorted(pools)) / len(pools)
            new_rows.append({
                "month": r.month, "pool": r.pool, "country": r.country, "region": region,
                "share": r.share * average, "unreported": False, "extrapolated": True,
                "vpn_corrected": any((r.month, p, region) in corrected for p in pools),
            })
    if not new_rows:
        return shares.loc[:, list(POOL_SHARE_COLUMNS)].copy()
    added = frame_from_rows(new_rows, POOL_SHARE_COLUMNS, text=("month", "pool", "country", "region"),
                            flags=("unreported", "extrapolated", "vpn_corrected"))
    return _sorted(pd.concat([shares.loc[:, list(POOL_SHARE_COLUMNS)], added], ignore_index=True))
