"""The whole method in one call, its ``--explain`` log, and the hand-over to the map layers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from capacitymap.errors import MethodError
from capacitymap.method._aggregate import aggregate_pools
from capacitymap.method._extrapolate import extrapolate_regions, regional_distributions
from capacitymap.method._frames import fsum, pct, require_columns
from capacitymap.method._shares import derive_pool_weights, normalise_pool_shares
from capacitymap.method._types import (
    LEVELS,
    POOL_WEIGHTINGS,
    RESULT_COLUMNS,
    Average,
    ExplainStep,
    HashrateResult,
    Level,
    PoolWeighting,
    VpnCorrection,
    Window,
)
from capacitymap.method._vpn import correct_vpn
from capacitymap.method._window import apply_window, network_by_month, resolve_window
from capacitymap.schema import OTHER_COUNTRY

#: The assumption every result rests on, stated in its metadata and its explain log.
REPRESENTATIVE_SAMPLE = (
    "the pools' combined geographic distribution is taken to be the distribution of the whole "
    "network's hashrate (representative-sample assumption; CCAF's three pools were about 37% of "
    "the network's hashrate, September 2019 to April 2020)"
)

EXTRAPOLATION_RULE = (
    "a pool that gives a country's share but not its regions gets the plain (unweighted) average of the "
    "within-country distributions of the pools that list that country's regions, same month"
)


def estimate_hashrate(
    records: pd.DataFrame,
    *,
    pool_hashrate: pd.DataFrame | None = None,
    network_hashrate: pd.DataFrame | None = None,
    admin1: gpd.GeoDataFrame | None = None,
    vpn_corrections: Iterable[VpnCorrection] = (),
    month: str | None = None,
    months: str | tuple[str, str] | None = None,
    average: Average | None = None,
    level: Level = "country",
    pool_weighting: PoolWeighting = "hashrate",
) -> HashrateResult:
    """Estimate where the network's hashrate is, from pools' geolocation records (CCAF's method).

    Steps, each a public function: ``normalise_pool_shares`` -> ``derive_pool_weights`` ->
    ``correct_vpn`` (only when ``vpn_corrections`` are given) -> ``extrapolate_regions`` ->
    ``aggregate_pools`` -> ``apply_window`` (window from ``resolve_window``: ``month``, or
    ``months`` averaged ``plain``/``weighted``, else every month).

    ``records``: columns ``schema.HASHRATE_COLUMNS``. ``pool_hashrate``: ``month, pool, hashrate_ehs``
    (the pools' weights). ``network_hashrate``: ``month, hashrate_ehs`` (turns shares into EH/s).
    ``admin1``: the admin-1 layer, for ``neighbours`` corrections. ``level``: ``country`` rows only,
    or ``admin1`` (country rows and region rows).

    Returns a ``HashrateResult``: the table (``RESULT_COLUMNS``), the explain log and the metadata.
    """
    if level not in LEVELS:
        raise MethodError(f"expected level in {LEVELS!r}, got {level!r}; use 'country' or 'admin1'")
    if pool_weighting not in POOL_WEIGHTINGS:
        raise MethodError(f"expected pool weighting in {POOL_WEIGHTINGS!r}, got {pool_weighting!r}; use 'hashrate' (CCAF) or 'equal'")
    corrections = tuple(vpn_corrections)
    log: list[ExplainStep] = [ExplainStep("assumption", None, REPRESENTATIVE_SAMPLE)]

    shares = normalise_pool_shares(records, pool_hashrate=pool_hashrate)
    network = network_by_month(network_hashrate) if network_hashrate is not None else None
    window = resolve_window(shares["month"], month=month, months=months, average=average, has_network=network is not None)
    shares = shares[shares["month"].isin(list(window.months))].reset_index(drop=True)
    log.append(ExplainStep("input", None, f"{len(records)} records from pools {sorted(set(shares['pool']))!r}; window {window.description}"))
    log += _explain_shares(shares)

    weights = derive_pool_weights(records, pool_hashrate=pool_hashrate, weighting=pool_weighting, months=window.months)
    log += _explain_weights(weights)

    moves = None
    if corrections:
        shares, moves = correct_vpn(shares, corrections, admin1=admin1)
        log += _explain_vpn(corrections, moves)
    else:
        log.append(ExplainStep("vpn", None, "no VPN correction (off unless asked for)"))

    before = shares
    shares = extrapolate_regions(shares)
    log += _explain_extrapolation(before, shares)

    monthly = aggregate_pools(shares, weights)
    log += _explain_aggregate(monthly)

    table = _finish(apply_window(monthly, window, network_hashrate=network_hashrate), level)
    log += _explain_window(window, network, table)

    metadata = {
        "assumption": REPRESENTATIVE_SAMPLE,
        "level": level,
        "window": window.description,
        "months": window.months,
        "average": window.average,
        "network_hashrate": "given: hashrate_ehs = share x network EH/s" if network is not None else "none: shares only, hashrate_ehs is NaN",
        "pool_weighting": pool_weighting,
        "pool_weights": tuple(weights.itertuples(index=False, name=None)),
        "extrapolation": EXTRAPOLATION_RULE,
        "vpn_corrections": tuple(str(c) for c in corrections),
        "unreported": "where a pool locates less than all of its hashrate, the rest is a row country 'ZZ', unreported True (never rescaled)",
    }
    return HashrateResult(table=table, explain=tuple(log), metadata=MappingProxyType(metadata), vpn_moves=moves)


def _finish(windowed: pd.DataFrame, level: Level) -> pd.DataFrame:
    """Add ``share_of_country``, keep the rows of ``level``, order rows and columns."""
    table = windowed.copy()
    country_rows = table[table["region"].isna() & ~table["unreported"]]
    country_share = {(m, c): s for m, c, s in zip(country_rows["month"], country_rows["country"], country_rows["share"])}
    of_country = []
    for m, c, r, s in zip(table["month"], table["country"], table["region"], table["share"]):
        total = country_share.get((m, c), math.nan)
        of_country.append(s / total if not pd.isna(r) and total > 0 else math.nan)
    table["share_of_country"] = pd.Series(of_country, index=table.index, dtype=float)
    if level == "country":
        table = table[table["region"].isna()]
    key = pd.DataFrame({"month": table["month"], "country": table["country"], "unreported": table["unreported"],
                        "region": table["region"].fillna("")})
    order = key.sort_values(list(key.columns), kind="mergesort").index
    return table.loc[order, list(RESULT_COLUMNS)].reset_index(drop=True)


def format_explain(result: HashrateResult) -> str:
    """The explain log as text, one step per line (what ``--explain`` prints)."""
    return "\n".join(str(step) for step in result.explain) + "\n"


def to_region_values(table: pd.DataFrame, *, level: Level = "country", value: str = "share") -> pd.DataFrame:
    """The result table as the region values a choropleth draws: key, ``value``, ``month``.

    ``level="country"``: ``iso_a2`` from the country rows (the unreported remainder and ``ZZ``
    are left out: no shape to draw them on). ``level="admin1"``: ``iso_3166_2`` from the region
    rows. ``value`` names the column drawn: ``share``, ``share_of_country`` or ``hashrate_ehs``.
    """
    require_columns(table, RESULT_COLUMNS, "hashrate result")
    choices = ("share", "share_of_country", "hashrate_ehs")
    if value not in choices:
        raise MethodError(f"expected value in {choices!r}, got {value!r}; choose the column the map should draw")
    if level == "country":
        rows = table[table["region"].isna() & ~table["unreported"] & (table["country"] != OTHER_COUNTRY)]
        key = "iso_a2"
        keys = rows["country"]
    elif level == "admin1":
        rows = table[table["region"].notna()]
        key = "iso_3166_2"
        keys = rows["region"]
    else:
        raise MethodError(f"expected level in {LEVELS!r}, got {level!r}; use 'country' or 'admin1'")
    return pd.DataFrame({key: keys.to_numpy(), "value": rows[value].astype(float).to_numpy(),
                         "month": rows["month"].to_numpy()}).astype({key: "string", "month": "string"})


# --- explain helpers: each turns one step's frames into lines with numbers -------------------

def _explain_shares(shares: pd.DataFrame) -> list[ExplainStep]:
    out = []
    for (month, pool), g in shares.groupby(["month", "pool"], sort=True):
        countries = g[g["region"].isna() & ~g["unreported"]].sort_values(["share", "country"], ascending=[False, True])
        listed = ", ".join(f"{c} {pct(s)}" for c, s in zip(countries["country"], countries["share"]))
        regions = g[g["region"].notna()]
        located = sorted(set(regions["country"]))
        text = f"pool {pool}: {listed}"
        if located:
            counts = ", ".join(f"{c} ({int((regions['country'] == c).sum())})" for c in located)
            text += f"; regions listed for {counts}"
        unreported = g.loc[g["unreported"], "share"]
        if len(unreported):
            text += f"; located {pct(1 - float(unreported.iloc[0]))}, the other {pct(float(unreported.iloc[0]))} kept as unreported ({OTHER_COUNTRY})"
        out.append(ExplainStep("pool shares", month, text))
    return out


def _explain_weights(weights: pd.DataFrame) -> list[ExplainStep]:
    out = []
    for month, g in weights.groupby("month", sort=True):
        total = fsum(g["weight"])
        parts = ", ".join(_weight_text(p, w, src, total) for p, w, src in zip(g["pool"], g["weight"], g["weight_source"]))
        out.append(ExplainStep("weights", month, parts))
    return out


def _weight_text(pool: str, weight: float, source: str, total: float) -> str:
    if source.startswith("only pool"):
        return f"{pool}: the only pool this month, no weighting"
    if source.startswith("equal"):
        return f"{pool} weight 1, equal weights assumed = {pct(weight / total)}"
    return f"{pool} {weight:.6g} EH/s ({source}) = {pct(weight / total)}"


def _explain_vpn(corrections: tuple[VpnCorrection, ...], moves: pd.DataFrame) -> list[ExplainStep]:
    out = []
    for c in corrections:
        mine = moves[(moves["pool"] == c.pool) & (moves["from_region"] == c.region) & (moves["variant"] == c.variant)]
        if mine.empty:
            out.append(ExplainStep("vpn", None, f"{c}: pool {c.pool} had no share in {c.region} in the window; nothing moved"))
        for month, g in mine.groupby("month", sort=True):
            parts = ", ".join(f"{r} +{pct(s)}" for r, s in zip(g["to_region"], g["share"]))
            out.append(ExplainStep("vpn", month, f"{c}: moved {pct(fsum(g['share']))} of pool {c.pool}'s hashrate out of {c.region}: {parts}"))
    return out


def _explain_extrapolation(before: pd.DataFrame, after: pd.DataFrame) -> list[ExplainStep]:
    out = []
    dist = regional_distributions(before)
    new = after[after["extrapolated"]]
    with_regions = {(r.month, r.pool, r.country) for r in before[before["region"].notna()].itertuples()}
    countries = before[before["region"].isna() & ~before["unreported"] & (before["share"] > 0)]
    for r in countries.itertuples():
        if (r.month, r.pool, r.country) in with_regions:
            continue
        donors = sorted(set(dist.loc[(dist["month"] == r.month) & (dist["country"] == r.country), "pool"]))
        if not donors:
            if (dist["country"] == r.country).any():
                out.append(ExplainStep("extrapolation", r.month, f"pool {r.pool} gives {r.country} {pct(r.share)} but no regions, and no pool lists {r.country}'s regions this month: left without regions"))
            continue
        rows = new[(new["month"] == r.month) & (new["pool"] == r.pool) & (new["country"] == r.country)]
        parts = ", ".join(f"{reg} {pct(s / r.share)}" for reg, s in zip(rows["region"], rows["share"]))
        gives = ", ".join(f"{reg} {pct(s)}" for reg, s in zip(rows["region"], rows["share"]))
        out.append(ExplainStep("extrapolation", r.month, f"pool {r.pool} gives {r.country} {pct(r.share)} but no regions: "
                               f"plain average of the distributions of {', '.join(donors)} within {r.country}: {parts}; "
                               f"times {pct(r.share)} = {gives} of pool {r.pool}'s hashrate"))
    if not out:
        out.append(ExplainStep("extrapolation", None, "nothing to extrapolate (every pool that gives a country with listed regions lists them)"))
    return out


def _explain_aggregate(monthly: pd.DataFrame) -> list[ExplainStep]:
    out = []
    for month, g in monthly.groupby("month", sort=True):
        countries = g[g["region"].isna()].sort_values(["share", "country"], ascending=[False, True])
        parts = ", ".join(f"{c}{' (unreported)' if u else ''} {pct(s)}" for c, u, s in zip(countries["country"], countries["unreported"], countries["share"]))
        text = f"weighted sum of the pools: {parts}; total {pct(fsum(countries['share']))}"
        for country in sorted(set(g.loc[g["region"].notna(), "country"])):
            cs = countries.loc[(countries["country"] == country) & ~countries["unreported"], "share"]
            placed = fsum(g.loc[(g["country"] == country) & g["region"].notna(), "share"])
            if len(cs) and float(cs.iloc[0]) - placed > 1e-9:
                text += f"; {country}: {pct(float(cs.iloc[0]) - placed)} of the network not placed in any region"
        out.append(ExplainStep("aggregate", month, text))
    return out


def _explain_window(window: Window, network: dict[str, float] | None, table: pd.DataFrame) -> list[ExplainStep]:
    if window.average is None or len(window.months) == 1:
        text = f"{window.description}: {'each month on its own' if len(window.months) > 1 else 'one month'}"
    elif window.average == "plain":
        text = f"{window.description}: each of the {len(window.months)} months counts once"
    else:
        weights = network or {}
        text = (f"{window.description}: months weighted by network hashrate "
                + ", ".join(f"{m} {weights[m]:.6g} EH/s" for m in window.months))
    out = [ExplainStep("window", None, text)]
    if network is None:
        out.append(ExplainStep("hashrate", None, "no network hashrate series: shares only (hashrate_ehs is NaN)"))
    else:
        used = ", ".join(f"{m} {network[m]:.6g} EH/s" for m in window.months)
        out.append(ExplainStep("hashrate", None, f"hashrate_ehs = share x network hashrate ({used}); averaged windows give the mean of the monthly EH/s"))
    return out
