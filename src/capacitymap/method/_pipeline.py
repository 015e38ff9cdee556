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
from capacitymap.method._sources import describe_sample
from capacitymap.method._types import (
    LEVELS,
    NETWORK_POOLS,
    POOL_WEIGHT_COLUMNS,
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
from capacitymap.method._window import MonthRange, apply_window, network_by_month, resolve_window
from capacitymap.schema import HASHRATE_COLUMNS, OTHER_COUNTRY, OTHER_REGION_SUFFIX
from capacitymap.vocab import HASHRATE_VALUES, HashrateValue

#: The assumption every result rests on, stated in its metadata and its explain log.
REPRESENTATIVE_SAMPLE = (
    "the pools' combined geographic distribution is taken to be the distribution of the whole "
    "network's hashrate (representative-sample assumption)"
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
    months: MonthRange | tuple[str, str] | None = None,
    average: Average | None = None,
    level: Level = "country",
    pool_weighting: PoolWeighting = "hashrate",
    validated: bool = False,
) -> HashrateResult:
    """Estimate where the network's hashrate is, from pools' geolocation records (CCAF's method).

    Steps, each a public function: ``normalise_pool_shares`` -> ``derive_pool_weights`` ->
    ``correct_vpn`` (only when ``vpn_corrections`` are given) -> ``extrapolate_regions`` ->
    ``aggregate_pools`` -> ``apply_window`` (window from ``resolve_window``: ``month``, or
    ``months`` averaged ``plain``/``weighted``, else every month).

    ``records``: columns ``schema.HASHRATE_COLUMNS``. ``pool_hashrate``: ``month, pool, hashrate_ehs``
    (the pools' weights). ``network_hashrate``: ``month, hashrate_ehs`` (turns shares into EH/s);
    without one, CCAF's own absolute figures (its countries download's EH/s column) give it, and
    the country rows keep CCAF's EH/s. ``admin1``: the admin-1 layer, for ``neighbours``
    corrections. ``level``: ``country`` rows only, or ``admin1`` (country rows and region rows).

    Region shares of a country for which the same pool gives no country share that month (a CCAF
    China-provinces or US-states download on its own) are shares of the country only: their rows
    carry ``share_of_country`` and a NaN ``share`` (of global), and the metadata's ``scope`` says so.

    ``validated``: the records came from :func:`capacitymap.records.read_hashrate`, which checked every row as
    it read it; the method then checks only what a reader cannot know. A frame built by hand (the default)
    gets the reader's record checks too.

    Returns a ``HashrateResult``: the table (``RESULT_COLUMNS``), the explain log and the metadata.
    """
    if level not in LEVELS:
        raise MethodError(f"expected level in {LEVELS!r}, got {level!r}; use 'country' or 'admin1'")
    if pool_weighting not in POOL_WEIGHTINGS:
        raise MethodError(f"expected pool weighting in {POOL_WEIGHTINGS!r}, got {pool_weighting!r}; use 'hashrate' (CCAF) or 'equal'")
    require_columns(records, HASHRATE_COLUMNS, "hashrate records")
    corrections = tuple(vpn_corrections)
    log: list[ExplainStep] = [ExplainStep("assumption", None, REPRESENTATIVE_SAMPLE)]

    placed, within = split_within_country(records)
    shares = normalise_pool_shares(placed, pool_hashrate=pool_hashrate, validated=validated)
    local = {country: normalise_pool_shares(part, pool_hashrate=pool_hashrate, validated=validated) for country, part in within}
    available = list(shares["month"]) + [m for part in local.values() for m in part["month"]]
    implied, given_ehs = implied_network_hashrate(records) if network_hashrate is None else (None, {})
    have_network = network_hashrate is not None or (implied is not None and len(implied) > 0)
    window = resolve_window(available, month=month, months=months, average=average, has_network=have_network)
    network_frame, network_text = _network_for(window, network_hashrate, implied)
    if network_frame is None:
        given_ehs = {}
    network = network_by_month(network_frame) if network_frame is not None else None
    pools = sorted(set(shares["pool"]) | {p for part in local.values() for p in part["pool"]})
    log.append(ExplainStep("input", None, f"{len(records)} records from pools {pools!r}; window {window.description}"))
    log += [ExplainStep("sample", None, text.rstrip(".")) for text in describe_sample(pools, window.months)]

    parts: list[pd.DataFrame] = []
    weights, moves = pd.DataFrame(columns=list(POOL_WEIGHT_COLUMNS)), None
    if len(shares):
        table, weights, moves = _run(placed, shares, window, log, pool_hashrate=pool_hashrate, pool_weighting=pool_weighting, validated=validated,
                                     corrections=corrections, admin1=admin1, network_frame=network_frame, given_ehs=given_ehs)
        parts.append(_finish(table, level))
    for country, part in within:
        log.append(ExplainStep("within country", None, _within_text(country, part)))
        sub, sub_weights, sub_moves = _run(part, local[country], window, log, pool_hashrate=pool_hashrate, pool_weighting=pool_weighting, validated=validated,
                                           corrections=corrections, admin1=admin1, network_frame=None, given_ehs={})
        parts.append(_as_within_country(sub, level))
        weights = pd.concat([weights, sub_weights], ignore_index=True) if len(weights) else sub_weights
        if sub_moves is not None:
            moves = sub_moves if moves is None else pd.concat([moves, sub_moves], ignore_index=True)
    table = _order(pd.concat(parts, ignore_index=True))
    log += _explain_window(window, network, table, network_text)

    scope = "global" if not within else ("country" if not len(shares) else "mixed")
    metadata = {
        "assumption": REPRESENTATIVE_SAMPLE,
        "level": level,
        "window": window.description,
        "months": window.months,
        "average": window.average,
        "scope": scope,
        "within_country": tuple(country for country, _ in within),
        "network_hashrate": network_text,
        "pool_weighting": pool_weighting,
        "pool_weights": tuple(weights.itertuples(index=False, name=None)),
        "pools": tuple(pools),
        "extrapolation": EXTRAPOLATION_RULE,
        "vpn_corrections": tuple(str(c) for c in corrections),
        "unreported": "where a pool locates less than all of its hashrate, the rest is a row country 'ZZ', unreported True (never rescaled)",
    }
    return HashrateResult(table=table, explain=tuple(log), metadata=MappingProxyType(metadata), vpn_moves=moves)


def _run(records: pd.DataFrame, shares: pd.DataFrame, window: Window, log: list[ExplainStep], *, pool_hashrate, pool_weighting,  # noqa: ANN001
         validated, corrections, admin1, network_frame, given_ehs) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:  # noqa: ANN001
    """Weights, VPN correction, extrapolation, aggregation and the window for one set of records."""
    shares = shares[shares["month"].isin(list(window.months))].reset_index(drop=True)
    log += _explain_shares(shares)
    weights = derive_pool_weights(records, pool_hashrate=pool_hashrate, weighting=pool_weighting, months=window.months, validated=validated)
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
    months = [m for m in window.months if m in set(monthly["month"])]
    sub_window = Window(tuple(months), window.average) if window.average is None else window
    table = apply_window(monthly, sub_window, network_hashrate=network_frame, given_ehs=given_ehs) if months else _empty_windowed()
    return table, weights, moves


def _empty_windowed() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RESULT_COLUMNS if c != "share_of_country"}).astype(
        {"share": float, "hashrate_ehs": float, "extrapolated": bool, "vpn_corrected": bool, "unreported": bool})


def split_within_country(records: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, pd.DataFrame]]]:
    """Split off the region shares that are only shares of their country.

    A region row given as a share of its country (``share_of == "country"``) whose pool gives no
    country row for that country and month cannot be scaled to a share of global hashrate. Those
    rows are returned per country, each with a country row of share 1 added (the pool's hashrate in
    that country is the whole), so the same steps run on them and give shares of the country.
    Returns (the other records, [(country, its within-country records), ...]).
    """
    require_columns(records, HASHRATE_COLUMNS, "hashrate records")
    text = records.astype({"month": object, "pool": object, "country": object, "region": object, "share_of": object})
    region = text["region"].where(text["region"].notna(), None)
    has_country_row = {(m, p, c) for m, p, c, r in zip(text["month"], text["pool"], text["country"], region) if r is None}
    local = [r is not None and so == "country" and not pd.isna(s) and (m, p, c) not in has_country_row
             for m, p, c, r, so, s in zip(text["month"], text["pool"], text["country"], region, text["share_of"], text["share"])]
    mask = pd.Series(local, index=records.index, dtype=bool)
    if not mask.any():
        return records, []
    out = []
    chosen = records[mask]
    for country in sorted(set(chosen["country"].astype(str))):
        part = chosen[chosen["country"].astype(str) == country]
        heads = part.drop_duplicates(subset=["month", "pool"]).copy()
        heads["region"] = None
        heads["share"] = 1.0
        heads["share_of"] = "global"
        heads["hashrate_ehs"] = math.nan
        out.append((country, pd.concat([heads, part], ignore_index=True)))
    return records[~mask].reset_index(drop=True), out


def implied_network_hashrate(records: pd.DataFrame) -> tuple[pd.DataFrame | None, dict[tuple, float]]:
    """The network's hashrate per month implied by CCAF's own absolute figures, and those figures.

    In a month whose records all come from a pool in ``NETWORK_POOLS`` (CCAF's published exports,
    already the whole network's distribution), network EH/s = sum of the country rows' EH/s / sum of
    their shares. Returns (``month, hashrate_ehs`` frame or None, ``{(month, country, region): EH/s}``
    of the country rows that carry one).
    """
    require_columns(records, HASHRATE_COLUMNS, "hashrate records")
    rows, given = [], {}
    for month, group in records.groupby(records["month"].astype(str), sort=True):
        if not set(group["pool"].astype(str)) <= set(NETWORK_POOLS):
            continue
        countries = group[group["region"].isna() & (group["share_of"].astype(str) == "global")]
        both = countries[countries["share"].notna() & countries["hashrate_ehs"].notna()]
        share_sum = fsum(both["share"].astype(float))
        if not len(both) or share_sum <= 0:
            continue
        rows.append({"month": month, "hashrate_ehs": fsum(both["hashrate_ehs"].astype(float)) / share_sum})
        for c, e in zip(countries["country"].astype(str), countries["hashrate_ehs"].astype(float)):
            if math.isfinite(e):
                given[(month, c, None)] = e
    if not rows:
        return None, {}
    return pd.DataFrame(rows, columns=["month", "hashrate_ehs"]), given


def _network_for(window: Window, given: pd.DataFrame | None, implied: pd.DataFrame | None) -> tuple[pd.DataFrame | None, str]:
    if given is not None:
        return given, "given: hashrate_ehs = share x network EH/s"
    if implied is None:
        return None, "none: shares only, hashrate_ehs is NaN"
    have = set(implied["month"])
    lacking = [m for m in window.months if m not in have]
    if lacking:
        return None, (f"none: CCAF's absolute hashrate column lacks {lacking!r}, so shares only (hashrate_ehs is NaN); "
                      "give a network hashrate series for every month")
    return implied, ("from CCAF's absolute hashrate column: network EH/s = sum of the countries' EH/s / sum of their shares; "
                     "country rows carry CCAF's own EH/s, other rows share x network EH/s")


def _within_text(country: str, part: pd.DataFrame) -> str:
    months = sorted(set(part["month"].astype(str)))
    span = months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"
    return (f"{country}: regions given as shares of {country}'s hashrate with no {country} share of global hashrate "
            f"from the same pool ({span}): mapped as shares of {country}'s hashrate only (share of global unknown)")


def _as_within_country(windowed: pd.DataFrame, level: Level) -> pd.DataFrame:
    """A within-country run: its shares are of the country; the country's share of global is unknown."""
    table = windowed[windowed["region"].notna()].copy()
    table["share_of_country"] = table["share"].astype(float)
    table["share"] = math.nan
    table["hashrate_ehs"] = math.nan
    if level == "country":
        table = table.iloc[0:0]
    return table.loc[:, list(RESULT_COLUMNS)].reset_index(drop=True)


def _finish(windowed: pd.DataFrame, level: Level) -> pd.DataFrame:
    """Add ``share_of_country``, keep the rows of ``level``, order rows and columns."""
    if not len(windowed):
        return pd.DataFrame({c: pd.Series(dtype=float if c in ("share", "share_of_country", "hashrate_ehs") else object) for c in RESULT_COLUMNS})
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
    return _order(table)


def _order(table: pd.DataFrame) -> pd.DataFrame:
    key = pd.DataFrame({"month": table["month"], "country": table["country"], "unreported": table["unreported"],
                        "region": table["region"].fillna("")})
    order = key.sort_values(list(key.columns), kind="mergesort").index
    return table.loc[order, list(RESULT_COLUMNS)].reset_index(drop=True)


def format_explain(result: HashrateResult) -> str:
    """The explain log as text, one step per line (what ``--explain`` prints)."""
    return "\n".join(str(step) for step in result.explain) + "\n"


def to_region_values(table: pd.DataFrame, *, level: Level = "country", value: HashrateValue = "share") -> pd.DataFrame:
    """The result table as the region values a choropleth draws: key, ``value``, ``month``.

    ``level="country"``: ``iso_a2`` from the country rows (the unreported remainder and ``ZZ``
    are left out: no shape to draw them on). ``level="admin1"``: ``iso_3166_2`` from the region
    rows (a country's unallocated ``<country>-ZZ`` remainder is left out the same way). ``value``
    names the column drawn: ``share``, ``share_of_country`` or ``hashrate_ehs``.
    """
    require_columns(table, RESULT_COLUMNS, "hashrate result")
    if value not in HASHRATE_VALUES:
        raise MethodError(f"expected value in {HASHRATE_VALUES!r}, got {value!r}; choose the column the map should draw")
    if level == "country":
        rows = table[table["region"].isna() & ~table["unreported"] & (table["country"] != OTHER_COUNTRY)]
        key = "iso_a2"
        keys = rows["country"]
    elif level == "admin1":
        rows = table[table["region"].notna() & ~table["region"].fillna("").str.endswith(OTHER_REGION_SUFFIX)]
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
                out.append(ExplainStep("extrapolation", r.month, f"pool {r.pool} gives {r.country} {pct(r.share)} but no regions, "
                                                                 f"and no pool lists {r.country}'s regions this month: left without regions"))
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


def _explain_window(window: Window, network: dict[str, float] | None, table: pd.DataFrame, network_text: str = "") -> list[ExplainStep]:
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
        out.append(ExplainStep("hashrate", None, "no network hashrate series: shares only (hashrate_ehs is NaN)"
                               + (f"; {network_text}" if network_text.startswith("none: CCAF") else "")))
    else:
        used = ", ".join(f"{m} {network[m]:.6g} EH/s" for m in window.months)
        source = "CCAF's absolute column, " if network_text.startswith("from CCAF") else ""
        out.append(ExplainStep("hashrate", None, f"hashrate_ehs = share x network hashrate ({source}{used}); "
                               + ("country rows keep CCAF's own EH/s; " if source else "") + "averaged windows give the mean of the monthly EH/s"))
    return out
