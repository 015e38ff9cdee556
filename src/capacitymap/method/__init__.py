"""The hashrate method: pool aggregation, regional extrapolation, VPN correction, windows, power.

CCAF-style pool aggregation, regional extrapolation, VPN correction, time windows, and
power <-> hashrate. Frames in, frames out; see ``docs/methodology.md``.

``estimate_hashrate`` runs every step; each step is also public so that it can be checked alone.
"""

from capacitymap.method._aggregate import aggregate_pools
from capacitymap.method._extrapolate import extrapolate_regions, regional_distributions
from capacitymap.method._pipeline import (
    EXTRAPOLATION_RULE,
    REPRESENTATIVE_SAMPLE,
    estimate_hashrate,
    format_explain,
    implied_network_hashrate,
    split_within_country,
    to_region_values,
)
from capacitymap.method._power import DEFAULT_J_PER_TH, DEFAULT_J_PER_TH_SOURCE, ehs_to_mw, mw_to_ehs
from capacitymap.method._shares import derive_pool_weights, normalise_pool_shares
from capacitymap.method._sources import CCAF_SAMPLES, SOURCE_CREDITS, SOURCE_METHODS, describe_sample, source_credit
from capacitymap.method._types import (
    AVERAGES,
    LEVELS,
    MONTHLY_COLUMNS,
    NETWORK_POOLS,
    POOL_SHARE_COLUMNS,
    POOL_WEIGHT_COLUMNS,
    POOL_WEIGHTINGS,
    RESULT_COLUMNS,
    SHARE_TOLERANCE,
    VPN_VARIANTS,
    Average,
    ExplainStep,
    HashrateResult,
    Level,
    PoolWeighting,
    VpnCorrection,
    VpnVariant,
    Window,
)
from capacitymap.method._vpn import VPN_MOVE_COLUMNS, admin1_adjacency, correct_vpn
from capacitymap.method._window import MonthRange, apply_window, month_range, network_by_month, resolve_window

__all__ = [
    "estimate_hashrate",
    "format_explain",
    "to_region_values",
    "split_within_country",
    "implied_network_hashrate",
    "NETWORK_POOLS",
    "describe_sample",
    "source_credit",
    "CCAF_SAMPLES",
    "SOURCE_METHODS",
    "SOURCE_CREDITS",
    "normalise_pool_shares",
    "derive_pool_weights",
    "correct_vpn",
    "admin1_adjacency",
    "extrapolate_regions",
    "regional_distributions",
    "aggregate_pools",
    "resolve_window",
    "apply_window",
    "month_range",
    "network_by_month",
    "ehs_to_mw",
    "mw_to_ehs",
    "MonthRange",
    "VpnCorrection",
    "Window",
    "ExplainStep",
    "HashrateResult",
    "Level",
    "Average",
    "VpnVariant",
    "PoolWeighting",
    "LEVELS",
    "AVERAGES",
    "VPN_VARIANTS",
    "POOL_WEIGHTINGS",
    "DEFAULT_J_PER_TH",
    "DEFAULT_J_PER_TH_SOURCE",
    "SHARE_TOLERANCE",
    "REPRESENTATIVE_SAMPLE",
    "EXTRAPOLATION_RULE",
    "POOL_SHARE_COLUMNS",
    "POOL_WEIGHT_COLUMNS",
    "MONTHLY_COLUMNS",
    "RESULT_COLUMNS",
    "VPN_MOVE_COLUMNS",
]
