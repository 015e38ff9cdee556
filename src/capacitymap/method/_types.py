"""Choices, small value types and constants of the hashrate method (shared with the CLI)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import pandas as pd

from capacitymap.errors import MethodError
from capacitymap.schema import SHARE_TOLERANCE  # noqa: F401 - re-exported: one rounding slack for readers and method
from capacitymap.vocab import (  # noqa: F401 - re-exported: the method's choices (one vocabulary)
    AVERAGES,
    LEVELS,
    POOL_WEIGHTINGS,
    VPN_VARIANTS,
    Average,
    Level,
    PoolWeighting,
    VpnVariant,
)

#: Pools whose records are already the whole network's distribution (CCAF's published exports are read
#: as pool "CCAF"): their absolute EH/s figures give the network's hashrate for the months they alone cover.
NETWORK_POOLS: Final[tuple[str, ...]] = ("CCAF",)

#: Remainders smaller than this are float noise, not an unreported part of a pool's hashrate.
EPSILON: Final = 1e-12

#: The columns of the per-pool shares frame passed between the steps.
#: ``share`` is always a fraction of the pool's worldwide hashrate that month.
POOL_SHARE_COLUMNS: Final[tuple[str, ...]] = (
    "month",
    "pool",
    "country",
    "region",  # ISO 3166-2, or <NA> for a country row
    "share",
    "unreported",  # bool: the part of the pool's hashrate it did not locate (country "ZZ")
    "extrapolated",  # bool: produced by extrapolate_regions
    "vpn_corrected",  # bool: changed by correct_vpn
)

#: The columns of the pool-weights frame (``derive_pool_weights``).
POOL_WEIGHT_COLUMNS: Final[tuple[str, ...]] = ("month", "pool", "weight", "weight_source")

#: The columns of the monthly aggregate frame (``aggregate_pools``).
MONTHLY_COLUMNS: Final[tuple[str, ...]] = (
    "month",
    "country",
    "region",
    "share",
    "pools",
    "extrapolated",
    "vpn_corrected",
    "unreported",
)

#: The columns of the result table (``estimate_hashrate(...).table``), in order.
RESULT_COLUMNS: Final[tuple[str, ...]] = (
    "month",  # "YYYY-MM", or "YYYY-MM:YYYY-MM" for an averaged window
    "country",  # ISO alpha-2, or "ZZ" (CCAF's "Other", or the unreported remainder)
    "region",  # ISO 3166-2, or <NA> for a country row
    "share",  # fraction of the network's hashrate
    "share_of_country",  # fraction of the country's hashrate (admin-1 rows), NaN on country rows
    "hashrate_ehs",  # EH/s, NaN without a network series
    "pools",  # "|"-separated pools that contributed
    "extrapolated",  # bool
    "vpn_corrected",  # bool
    "unreported",  # bool: the part of the pools' hashrate they did not locate
    "window",  # "2020-04" or "2020-01:2020-03 (weighted average)"
)

_REGION_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2]|Q[1-4])$")


def is_month(text: object) -> bool:
    """Whether ``text`` is a step label: a month ``"YYYY-MM"`` or a quarter ``"YYYY-Qn"`` (sorting as text sorts in time)."""
    return isinstance(text, str) and _MONTH_RE.match(text) is not None


@dataclass(frozen=True, slots=True)
class VpnCorrection:
    """Move one pool's hashrate out of one region that VPN/proxy exits inflate.

    ``proportional`` spreads it over the other regions of the same country listed in that
    pool's data that month, in proportion to their shares (CCAF's later method);
    ``neighbours`` spreads it equally over the region's admin-1 neighbours in the same country
    (CCAF's first method; needs the admin-1 layer).
    """

    pool: str
    region: str
    variant: VpnVariant = "proportional"

    def __post_init__(self) -> None:
        if not isinstance(self.pool, str) or not self.pool.strip():
            raise MethodError(
                f"VPN correction: expected a pool name, got {self.pool!r}; name the pool as in the records, e.g. 'BTC.com'"
            )
        if not isinstance(self.region, str) or _REGION_RE.match(self.region) is None:
            raise MethodError(
                f"VPN correction: expected an ISO 3166-2 region code such as 'CN-ZJ', got {self.region!r}; "
                "write the region as its ISO 3166-2 code"
            )
        if self.variant not in VPN_VARIANTS:
            raise MethodError(
                f"VPN correction: expected a variant in {VPN_VARIANTS!r}, got {self.variant!r}; "
                "use 'proportional' (CCAF's later method) or 'neighbours' (its first)"
            )

    @property
    def country(self) -> str:
        """The ISO alpha-2 country the region belongs to."""
        return self.region.split("-", 1)[0]

    def __str__(self) -> str:
        return f"{self.pool}:{self.region}:{self.variant}"


@dataclass(frozen=True, slots=True)
class Window:
    """The months a result covers, and how they were combined.

    ``average`` is ``None`` when every month gets its own rows (one month, or all months for a
    time slider), else ``"plain"`` or ``"weighted"`` (by network hashrate).
    """

    months: tuple[str, ...]
    average: Average | None

    @property
    def label(self) -> str:
        """What the result's ``month`` column holds for an averaged window (``"2020-01:2020-03"``)."""
        if len(self.months) == 1:
            return self.months[0]
        return f"{self.months[0]}:{self.months[-1]}"

    @property
    def description(self) -> str:
        """What the result's ``window`` column holds for an averaged window."""
        if self.average is None or len(self.months) == 1:
            return self.label
        return f"{self.label} ({self.average} average)"


@dataclass(frozen=True, slots=True)
class ExplainStep:
    """One line of the ``--explain`` log: which step, which month (or None for all), what happened."""

    step: str
    month: str | None
    text: str

    def __str__(self) -> str:
        where = f" {self.month}" if self.month else ""
        return f"[{self.step}{where}] {self.text}"


@dataclass(frozen=True)
class HashrateResult:
    """What ``estimate_hashrate`` returns.

    ``table``: one row per month (or window), country and region, columns ``RESULT_COLUMNS``.
    ``explain``: the steps with their numbers, in the order they ran (``format_explain`` prints them).
    ``metadata``: the assumptions and choices that produced the table (read-only mapping).
    ``vpn_moves``: each VPN correction's moves (``month, pool, from_region, to_region, share, variant``).
    """

    table: pd.DataFrame
    explain: tuple[ExplainStep, ...]
    metadata: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    vpn_moves: pd.DataFrame | None = None
