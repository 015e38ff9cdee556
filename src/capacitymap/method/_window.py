"""Step 5: time windows (one month, every month, or a multi-month average) and absolute EH/s."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pandas as pd

from capacitymap.errors import MethodError, Problem
from capacitymap.method._frames import frame_from_rows, fsum, join_pools, problem, raise_problems, region_key, require_columns, text_or_na
from capacitymap.method._types import AVERAGES, MONTHLY_COLUMNS, Average, Window, is_month

_NETWORK_COLUMNS = ("month", "hashrate_ehs")


@dataclass(frozen=True, slots=True)
class MonthRange:
    """A range of months (or of quarters), ``first`` to ``last`` inclusive: ``MonthRange("2020-01", "2020-03")``.

    Checked on construction (each a step ``"YYYY-MM"`` or ``"YYYY-Qn"``, both of one kind, in order);
    ``first, last = r`` unpacks it.
    """

    first: str
    last: str

    def __post_init__(self) -> None:
        month_range(self.first, self.last)

    def __iter__(self) -> Iterator[str]:
        return iter((self.first, self.last))

    def __str__(self) -> str:
        return f"{self.first}:{self.last}"


def month_range(start: str, end: str) -> tuple[str, ...]:
    """Every step from ``start`` to ``end`` inclusive: ``("2020-01", "2020-02", "2020-03")``.

    Quarters when both ends are quarters: ``("2024-Q4", "2025-Q1")``.
    """
    for value in (start, end):
        if not is_month(value):
            raise MethodError(f"expected a month 'YYYY-MM', got {value!r}; write it like '2020-04'")
    quarters = ("Q" in start, "Q" in end)
    if quarters[0] != quarters[1]:
        raise MethodError(f"expected both ends of a range as months or both as quarters, got {start!r}:{end!r}; write e.g. '2024-Q1:2024-Q4'")
    if start > end:
        raise MethodError(f"expected a range from an earlier to a later month, got {start!r}:{end!r}; write it as {end!r}:{start!r}")
    last = 4 if quarters[0] else 12
    y, m = int(start[:4]), int(start[-1] if quarters[0] else start[5:])
    out = []
    while True:
        step = f"{y:04d}-Q{m}" if quarters[0] else f"{y:04d}-{m:02d}"
        out.append(step)
        if step == end:
            return tuple(out)
        y, m = (y + 1, 1) if m == last else (y, m + 1)


def network_by_month(network_hashrate: pd.DataFrame) -> dict[str, float]:
    """``{month: EH/s}`` from a network series frame (``month, hashrate_ehs``), every problem located."""
    require_columns(network_hashrate, _NETWORK_COLUMNS, "network hashrate")
    out: dict[str, float] = {}
    problems: list[Problem] = []
    for _, row in network_hashrate.iterrows():
        month = text_or_na(row["month"])
        try:
            ehs = float(row["hashrate_ehs"])
        except (TypeError, ValueError):
            ehs = math.nan
        if not is_month(month):
            problems.append(problem(row, "network hashrate", "month", f"expected a month 'YYYY-MM', got {row['month']!r}; write it like '2020-04'"))
        elif not (math.isfinite(ehs) and ehs > 0):
            problems.append(problem(row, "network hashrate", "hashrate_ehs", f"expected a positive number of EH/s, got {row['hashrate_ehs']!r}; "
                                                                                     "give the network's monthly average hashrate"))
        elif month in out:
            problems.append(problem(row, "network hashrate", "month", f"expected one value per month, got a second one for {month!r}; keep one row"))
        else:
            out[month] = ehs
    raise_problems(problems)
    return out


def resolve_window(
    available: Iterable[str],
    *,
    month: str | None = None,
    months: MonthRange | tuple[str, str] | None = None,
    average: Average | None = None,
    has_network: bool = False,
) -> Window:
    """Turn ``--month`` / ``--months A:B`` / ``--average`` into a ``Window`` over the data's months.

    No month and no range: every month in the data, each with its own rows (a time slider).
    ``month``: that month. ``months`` (a :class:`MonthRange` or ``(A, B)``): the months averaged, ``plain``
    (each month counts once) or ``weighted`` (each month by its network hashrate); the default
    is ``weighted`` when a network series is given, else ``plain``. A month of the range the data
    does not have is a ``MethodError`` listing every missing month: it is never treated as zero.
    """
    have = sorted(set(available))
    if month is not None and months is not None:
        raise MethodError(f"expected one month or one range, got month {month!r} and months {months!r}; give one of them")
    if average is not None and average not in AVERAGES:
        raise MethodError(f"expected an average in {AVERAGES!r}, got {average!r}; use 'plain' or 'weighted'")
    if average is not None and months is None:
        raise MethodError(f"expected a range of months to average, got average {average!r} without one; add months 'YYYY-MM:YYYY-MM'")
    if not have:
        raise MethodError("expected records for at least one month, got none; check the input files")
    if month is not None:
        if not is_month(month):
            raise MethodError(f"expected a month 'YYYY-MM', got {month!r}; write it like '2020-04'")
        if month not in have:
            raise MethodError(f"expected a month the records cover ({have[0]} to {have[-1]}), got {month!r}; choose one of {have!r}")
        return Window((month,), None)
    if months is None:
        return Window(tuple(have), None)
    if isinstance(months, str) or len(tuple(months)) != 2:
        raise MethodError(f"expected a range of months MonthRange(first, last), got {months!r}; "
                          "write it like MonthRange('2020-01', '2020-03')")
    start, end = months
    wanted = month_range(start, end)
    gaps = [m for m in wanted if m not in have]
    if gaps:
        raise MethodError(f"expected records for every month of {start}:{end}, got none for {gaps!r}; "
                          "add those months' records or choose a range without gaps (a missing month is never counted as zero)")
    if average is None:
        average = "weighted" if has_network else "plain"
    if average == "weighted" and not has_network:
        raise MethodError("expected a network hashrate series to weight the months by, got none; give one, or use average 'plain'")
    return Window(wanted, average)


def apply_window(monthly: pd.DataFrame, window: Window, *, network_hashrate: pd.DataFrame | None = None,
                 given_ehs: Mapping[tuple, float] | None = None) -> pd.DataFrame:
    """The monthly aggregate over ``window``, with absolute ``hashrate_ehs`` and the ``window`` label.

    Per month (``window.average`` None): the months' rows, ``hashrate_ehs = share x H_m``.
    Averaged: ``plain`` ``S = (1/n) sum_m S_m``; ``weighted`` ``S = sum_m H_m S_m / sum_m H_m``;
    ``hashrate_ehs = (1/n) sum_m H_m S_m`` in both (the average of the monthly hashrates).
    A row absent in a month the window covers counts as 0 that month (the month has data, the
    pools just did not list that place). ``hashrate_ehs`` is NaN without a network series.
    ``given_ehs`` (``{(month, country, region or None): EH/s}``, e.g. CCAF's own figures) replaces
    ``share x H_m`` for the located rows it names, month by month.
    """
    given = given_ehs or {}
    require_columns(monthly, MONTHLY_COLUMNS, "monthly shares")
    network = network_by_month(network_hashrate) if network_hashrate is not None else None
    if network is not None:
        lacking = [m for m in window.months if m not in network]
        if lacking:
            raise MethodError(f"expected the network hashrate series to cover {window.label}, got none for {lacking!r}; "
                              "add those months to the series, or leave it out to get shares only")
    chosen = monthly[monthly["month"].isin(list(window.months))]
    rows = []
    if window.average is None or len(window.months) == 1:
        for r in chosen.itertuples():
            h = network[r.month] if network is not None else math.nan
            ehs = r.share * h if r.unreported else given.get((r.month, r.country, None if pd.isna(r.region) else r.region), r.share * h)
            rows.append(_out(r, r.month, r.share, ehs, r.pools, r.extrapolated, r.vpn_corrected, window.description if len(window.months) == 1 else r.month))
    else:
        n = len(window.months)
        cells: dict[tuple, dict[str, object]] = defaultdict(dict)
        for r in chosen.itertuples():
            cells[(r.country, bool(r.unreported), None if pd.isna(r.region) else r.region)][r.month] = r
        for (country, unreported, region), by_month in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], region_key(kv[0][2]))):
            s = {m: by_month[m].share if m in by_month else 0.0 for m in window.months}
            if window.average == "plain":
                share = fsum(s.values()) / n
            else:
                share = fsum(network[m] * s[m] for m in window.months) / fsum(network[m] for m in window.months)
            if network is not None:
                ehs = fsum(network[m] * s[m] if unreported else given.get((m, country, region), network[m] * s[m]) for m in window.months) / n
            else:
                ehs = math.nan
            found = list(by_month.values())
            rows.append({
                "month": window.label, "country": country, "region": region, "share": share, "hashrate_ehs": ehs,
                "pools": join_pools(p for r in found for p in r.pools.split("|") if p),
                "extrapolated": any(r.extrapolated for r in found), "vpn_corrected": any(r.vpn_corrected for r in found),
                "unreported": unreported, "window": window.description,
            })
    return frame_from_rows(rows, _WINDOW_COLUMNS, text=("month", "country", "region", "pools", "window"),
                           flags=("extrapolated", "vpn_corrected", "unreported"))


_WINDOW_COLUMNS = ("month", "country", "region", "share", "hashrate_ehs", "pools", "extrapolated", "vpn_corrected", "unreported", "window")


def _out(r, month, share, ehs, pools, extrapolated, corrected, label) -> dict:
    return {"month": month, "country": r.country, "region": None if pd.isna(r.region) else r.region, "share": share,
            "hashrate_ehs": ehs, "pools": pools, "extrapolated": extrapolated, "vpn_corrected": corrected,
            "unreported": r.unreported, "window": label}
