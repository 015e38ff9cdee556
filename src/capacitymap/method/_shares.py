"""Step 1a: records -> each pool's shares of its worldwide hashrate; step 1b: each pool's weight."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

import pandas as pd

from capacitymap.errors import MethodError, Problem
from capacitymap.method._frames import (
    frame_from_rows,
    fsum,
    problem,
    raise_problems,
    region_key,
    require_columns,
    text_or_na,
)
from capacitymap.method._types import (
    EPSILON,
    POOL_SHARE_COLUMNS,
    POOL_WEIGHT_COLUMNS,
    POOL_WEIGHTINGS,
    SHARE_TOLERANCE,
    PoolWeighting,
    is_month,
)
from capacitymap.schema import HASHRATE_COLUMNS, OTHER_COUNTRY
from capacitymap.vocab import SHARE_OFS

_WHAT = "hashrate records"
_POOL_HASHRATE_COLUMNS = ("month", "pool", "hashrate_ehs")


def _number(value: object) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return x


def _read_pool_hashrate(pool_hashrate: pd.DataFrame | None) -> dict[tuple[str, str], float]:
    """``{(month, pool): EH/s}`` from the optional pool hashrate frame, every problem located."""
    if pool_hashrate is None:
        return {}
    require_columns(pool_hashrate, _POOL_HASHRATE_COLUMNS, "pool hashrate")
    out: dict[tuple[str, str], float] = {}
    problems: list[Problem] = []
    for _, row in pool_hashrate.iterrows():
        month, pool, ehs = text_or_na(row["month"]), text_or_na(row["pool"]), _number(row["hashrate_ehs"])
        if not is_month(month):
            problems.append(problem(row, "pool hashrate", "month", f"expected a month 'YYYY-MM', got {row['month']!r}; write it like '2020-04'"))
            continue
        if pool is None:
            problems.append(problem(row, "pool hashrate", "pool", f"expected a pool name, got {row['pool']!r}; name the pool as in the records"))
            continue
        if not (math.isfinite(ehs) and ehs > 0):
            problems.append(problem(row, "pool hashrate", "hashrate_ehs", f"expected a positive number of EH/s, got {row['hashrate_ehs']!r}; "
                                                                                 "give the pool's monthly average hashrate"))
            continue
        if (month, pool) in out:
            problems.append(problem(row, "pool hashrate", "pool", f"expected one hashrate per pool and month, "
                                                                 f"got a second one for {pool!r} in {month!r}; keep one row"))
            continue
        out[(month, pool)] = ehs
    raise_problems(problems)
    return out


def _pool_totals(rec: pd.DataFrame, given: dict[tuple[str, str], float]) -> dict[tuple[str, str], tuple[float, str]]:
    """Each pool's worldwide hashrate per month and where it came from, or NaN when unknown.

    The pool hashrate frame wins; else, when every country row of the pool that month carries
    ``hashrate_ehs``, the pool's hashrate is their sum divided by the sum of their shares (the
    sum itself where no shares are given).
    """
    totals: dict[tuple[str, str], tuple[float, str]] = {}
    for (month, pool), group in rec.groupby(["month", "pool"], sort=True):
        if (month, pool) in given:
            totals[(month, pool)] = (given[(month, pool)], "pool hashrate series")
            continue
        countries = group[group["region"].isna()]
        ehs = [_number(v) for v in countries["hashrate_ehs"]]
        if not ehs or not all(math.isfinite(x) and x >= 0 for x in ehs):
            totals[(month, pool)] = (math.nan, "unknown")
            continue
        shares = [_number(v) for v in countries["share"]]
        with_share = [(h, s) for h, s in zip(ehs, shares) if math.isfinite(s)]
        located = fsum(h for h, _ in with_share)
        share_sum = fsum(s for _, s in with_share)
        total = located / share_sum if with_share and share_sum > 0 else fsum(ehs)
        totals[(month, pool)] = (total, "sum of the pool's country rows") if total > 0 else (math.nan, "unknown")
    return totals


def _clean_records(records: pd.DataFrame, *, validated: bool = False) -> tuple[pd.DataFrame, list[Problem]]:
    """Text columns stripped, rows sorted by their key so that row order never matters.

    Records from :func:`capacitymap.records.read_hashrate` (``validated``) were checked row by row as they were
    read; only what the reader cannot know is checked again here (a country row given as a share of its
    own country; one row per month, pool and place whatever each says its share is of). A frame handed
    in directly gets every check the reader makes on a record (:func:`_record_problems`).
    """
    require_columns(records, HASHRATE_COLUMNS, _WHAT)
    rec = records.loc[:, list(HASHRATE_COLUMNS)].reset_index(drop=True)  # a new frame: the caller's is untouched
    for col in ("month", "pool", "country", "region", "share_of"):
        cleaned = [text_or_na(v) for v in rec[col]]
        if col in ("country", "region"):
            cleaned = [v.upper() if v else None for v in cleaned]
        rec[col] = pd.Series(cleaned, index=rec.index, dtype=object)
    problems: list[Problem] = []
    keep = []
    seen: dict[tuple, int] = {}
    for i, row in rec.iterrows():
        bad = False if validated else _record_problems(row, problems)
        if row["region"] is None and row["share_of"] == "country":
            problems.append(problem(row, _WHAT, "share_of", "expected 'global' on a country row (a country is all of itself), got 'country'; "
                                    "give the country's share of the pool's worldwide hashrate"))
            bad = True
        key = (row["month"], row["pool"], row["country"], row["region"])
        if not bad and key in seen:
            problems.append(problem(row, _WHAT, "region" if row["region"] else "country",
                                    f"expected one row per month, pool, country and region, got a second row for {key!r}; keep one"))
            bad = True
        if not bad:
            seen[key] = i
            keep.append(i)
    rec = rec.loc[keep]
    order = sorted(rec.index, key=lambda i: (rec.at[i, "month"], rec.at[i, "pool"], rec.at[i, "country"], region_key(rec.at[i, "region"])))
    return rec.loc[order].reset_index(drop=True), problems


def _record_problems(row: pd.Series, problems: list[Problem]) -> bool:
    """What :func:`capacitymap.records.read_hashrate` checks as it reads a record, for a frame handed in directly.

    Appends each problem; True when the row has any.
    """
    before = len(problems)
    if not is_month(row["month"]):
        problems.append(problem(row, _WHAT, "month", f"expected a month 'YYYY-MM', got {row['month']!r}; write it like '2020-04'"))
    if row["pool"] is None:
        problems.append(problem(row, _WHAT, "pool", f"expected a pool name, got {row['pool']!r}; name the pool (CCAF exports use 'CCAF')"))
    if row["country"] is None or len(row["country"]) != 2:
        problems.append(problem(row, _WHAT, "country", f"expected an ISO alpha-2 country code or {OTHER_COUNTRY!r}, "
                                                              f"got {row['country']!r}; resolve the country first"))
    elif row["region"] is not None and not row["region"].startswith(row["country"] + "-"):
        problems.append(problem(row, _WHAT, "region", f"expected a region of country {row['country']!r} (a code starting {row['country'] + '-'!r}), "
                                                             f"got {row['region']!r}; fix the country or the region"))
    if row["share_of"] not in SHARE_OFS:
        problems.append(problem(row, _WHAT, "share_of", f"expected 'global' or 'country', got {row['share_of']!r}; say what the share is a fraction of"))
    share, ehs = _number(row["share"]), _number(row["hashrate_ehs"])
    if math.isnan(share) and not math.isfinite(ehs):
        problems.append(problem(row, _WHAT, "share", f"expected a share or a hashrate_ehs, "
                                                            f"got share {row['share']!r} and hashrate_ehs {row['hashrate_ehs']!r}; give one of them"))
    elif not math.isnan(share) and not (0 <= share <= 1 + SHARE_TOLERANCE):
        problems.append(problem(row, _WHAT, "share", f"expected a fraction between 0 and 1, got {row['share']!r}; "
                                                            "write shares as fractions (0.6508 for 65.08%)"))
    return len(problems) > before


def normalise_pool_shares(
    records: pd.DataFrame,
    *,
    pool_hashrate: pd.DataFrame | None = None,
    tolerance: float = SHARE_TOLERANCE,
    validated: bool = False,
) -> pd.DataFrame:
    """Each pool's monthly distribution as fractions of the pool's **worldwide** hashrate.

    ``records`` has the columns ``schema.HASHRATE_COLUMNS``. A region row given as a share of its
    country (``share_of == "country"``) is multiplied by the pool's country share; a share given
    only as ``hashrate_ehs`` is divided by the pool's hashrate (``pool_hashrate`` frame
    ``month, pool, hashrate_ehs``, else the sum of the pool's country rows). A country with
    region rows but no country row gets the sum of its (global) region shares.

    Where a pool locates less than all of its hashrate in a month, the remainder is kept as a
    row with country ``"ZZ"``, region <NA> and ``unreported`` True: never rescaled away.
    Shares that add up to more than ``1 + tolerance`` (per pool and month, or per country's
    regions) are a ``DataError`` naming the rows.

    ``validated``: the records came from :func:`capacitymap.records.read_hashrate`, which checked each row.

    Returns the columns ``POOL_SHARE_COLUMNS``, sorted by month, pool, country, region.
    """
    rec, problems = _clean_records(records, validated=validated)
    totals = _pool_totals(rec, _read_pool_hashrate(pool_hashrate))
    rows: list[dict] = []
    for (month, pool), group in rec.groupby(["month", "pool"], sort=True):
        total, _ = totals[(month, pool)]
        country_share: dict[str, float] = {}
        first_row: dict[str, pd.Series] = {}
        for _, row in group[group["region"].isna()].iterrows():
            share = _row_share(row, total, pool, month, problems)
            if share is None:
                continue
            country_share[row["country"]] = share
            first_row[row["country"]] = row
        regions: dict[str, list[tuple[str, float, pd.Series]]] = defaultdict(list)
        for _, row in group[group["region"].notna()].iterrows():
            share, country = _row_share(row, total, pool, month, problems), row["country"]
            if share is None:
                continue
            # A share derived from hashrate_ehs is of the pool's worldwide hashrate already.
            if row["share_of"] == "country" and not math.isnan(_number(row["share"])):
                if country not in country_share:
                    problems.append(problem(row, _WHAT, "share_of", f"expected a country row for {country!r} (pool {pool!r}, {month!r}) "
                                            "to scale a share of the country, got none; "
                                            "add the country's share of the pool's worldwide hashrate, or give region shares as 'global'"))
                    continue
                share = share * country_share[country]
            regions[country].append((row["region"], share, row))
        for country, listed in regions.items():
            located = fsum(s for _, s, _ in listed)
            if country not in country_share:
                country_share[country] = located
                first_row[country] = listed[0][2]
            elif located > country_share[country] + tolerance:
                problems.append(problem(listed[0][2], _WHAT, "share",
                                        f"expected the regions of {country!r} to add up to at most the country's share {country_share[country]!r} "
                                        f"(pool {pool!r}, {month!r}), got {located!r}; check the regions' shares and what they are a share of"))
        pool_sum = fsum(country_share.values())
        if pool_sum > 1 + tolerance:
            problems.append(problem(first_row[min(first_row)], _WHAT, "share",
                                    f"expected pool {pool!r}'s country shares in {month!r} to add up to at most 1, got {pool_sum!r}; "
                                    "write shares as fractions of the pool's worldwide hashrate"))
            continue
        for country in sorted(country_share):
            rows.append(_row(month, pool, country, None, country_share[country]))
            for region, share, _ in sorted(regions.get(country, []), key=lambda t: t[0]):
                rows.append(_row(month, pool, country, region, share))
        remainder = 1.0 - pool_sum
        if remainder > EPSILON:
            rows.append(_row(month, pool, OTHER_COUNTRY, None, remainder, unreported=True))
    raise_problems(problems)
    return _sorted(frame_from_rows(rows, POOL_SHARE_COLUMNS, text=("month", "pool", "country", "region"),
                                   flags=("unreported", "extrapolated", "vpn_corrected")))


def _row(month: str, pool: str, country: str, region: str | None, share: float, *, unreported: bool = False) -> dict:
    return {"month": month, "pool": pool, "country": country, "region": region, "share": share,
            "unreported": unreported, "extrapolated": False, "vpn_corrected": False}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort a pool-shares frame by month, pool, country, unreported, region (country row first)."""
    key = pd.DataFrame({
        "month": frame["month"], "pool": frame["pool"], "country": frame["country"],
        "unreported": frame["unreported"], "region": frame["region"].fillna(""),
    })
    order = key.sort_values(list(key.columns), kind="mergesort").index
    return frame.loc[order].reset_index(drop=True)


def derive_pool_weights(
    records: pd.DataFrame,
    *,
    pool_hashrate: pd.DataFrame | None = None,
    weighting: PoolWeighting = "hashrate",
    months: Iterable[str] | None = None,
    validated: bool = False,
) -> pd.DataFrame:
    """Each pool's weight in each month's aggregate: its worldwide hashrate in EH/s.

    The pool's hashrate comes from ``pool_hashrate`` (``month, pool, hashrate_ehs``), else from
    the sum of its country rows' ``hashrate_ehs`` (divided by the sum of their shares when the
    pool did not locate all of its hashrate). A month with a single pool needs no weight.
    Where several pools share a month and one's hashrate is unknown, this is a ``MethodError``
    unless ``weighting="equal"``: every pool then weighs 1, an assumption the result records.

    ``months`` limits the weights (and their errors) to those months.

    Returns the columns ``POOL_WEIGHT_COLUMNS`` (``weight_source`` says where each weight came from).
    """
    if weighting not in POOL_WEIGHTINGS:
        raise MethodError(f"expected pool weighting in {POOL_WEIGHTINGS!r}, got {weighting!r}; use 'hashrate' (CCAF) or 'equal'")
    rec, problems = _clean_records(records, validated=validated)
    raise_problems(problems)
    if months is not None:
        rec = rec[rec["month"].isin(list(months))]
    totals = _pool_totals(rec, _read_pool_hashrate(pool_hashrate))
    pools_by_month: dict[str, list[str]] = defaultdict(list)
    for month, pool in totals:
        pools_by_month[month].append(pool)
    rows, unknown = [], []
    for (month, pool), (total, source) in sorted(totals.items()):
        if weighting == "equal":
            rows.append({"month": month, "pool": pool, "weight": 1.0, "weight_source": "equal (assumed)"})
        elif len(pools_by_month[month]) == 1:
            weight = total if math.isfinite(total) else 1.0
            rows.append({"month": month, "pool": pool, "weight": weight, "weight_source": "only pool this month (weight not needed)"})
        elif math.isfinite(total):
            rows.append({"month": month, "pool": pool, "weight": total, "weight_source": source})
        else:
            unknown.append(f"{pool} {month}")
    if unknown:
        raise MethodError(
            f"expected each pool's hashrate to weight the pools, got none for {unknown!r}; "
            "give a pool hashrate series (month, pool, hashrate_ehs), hashrate_ehs on every country row, "
            "or choose equal weights and say so (command line: --pool-weighting equal; Python: pool_weighting='equal')"
        )
    return frame_from_rows(rows, POOL_WEIGHT_COLUMNS, text=("month", "pool", "weight_source"), flags=())


def _row_share(row: pd.Series, total: float, pool: str, month: str, problems: list) -> float | None:
    """The row's share, or its hashrate over the pool's total; None (and a problem) when it has neither."""
    share = _number(row["share"])
    if not math.isnan(share):
        return share
    if math.isnan(total):
        problems.append(problem(row, _WHAT, "share", f"expected a share, or a pool hashrate to divide hashrate_ehs by; pool {pool!r} has none in {month!r}; "
                                "give the share, or the pool's hashrate (pool hashrate frame)"))
        return None
    return _number(row["hashrate_ehs"]) / total
