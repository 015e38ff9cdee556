"""Step 6: power <-> hashrate. EH/s x J/TH = MW, because 1 EH/s = 10^6 TH/s and J/s = W."""

from __future__ import annotations

import math
from typing import Final, TypeVar

import numpy as np
import pandas as pd

from capacitymap.errors import MethodError

#: Default fleet efficiency in joules per terahash: the hashrate-weighted fleet efficiency of
#: the miners surveyed by the Cambridge Digital Mining Industry Report (CCAF, April 2025; 49
#: firms, about 48% of network hashrate, data for 2024). It describes the 2024 fleet: for 2019-2021
#: pool data the fleet was far less efficient, so pass the efficiency of the period you map.
DEFAULT_J_PER_TH: Final = 28.2
DEFAULT_J_PER_TH_SOURCE: Final = (
    "Cambridge Digital Mining Industry Report (CCAF, 2025): 28.2 J/TH, "
    "https://www.jbs.cam.ac.uk/faculty-research/centres/alternative-finance/publications/cambridge-digital-mining-industry-report/"
)

T = TypeVar("T", float, np.ndarray, pd.Series)


def _check(values: object, name: str, unit: str) -> None:
    try:
        array = np.atleast_1d(np.asarray(values, dtype=float))
    except (TypeError, ValueError):
        raise MethodError(f"expected {name} as numbers of {unit}, got {values!r}; convert the values to numbers first") from None
    bad = array[(array < 0) | np.isinf(array)]
    if bad.size:
        raise MethodError(f"expected {name} as non-negative {unit} (NaN for unknown), got {float(bad[0])!r}"
                          f"{f' and {bad.size - 1} more' if bad.size > 1 else ''}; check the values")


def _efficiency(j_per_th: float) -> float:
    try:
        value = float(j_per_th)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise MethodError(f"expected a fleet efficiency in J/TH above 0, got {j_per_th!r}; use e.g. {DEFAULT_J_PER_TH} ({DEFAULT_J_PER_TH_SOURCE})")
    return value


def ehs_to_mw(ehs: T, j_per_th: float = DEFAULT_J_PER_TH) -> T:
    """Power in MW drawn by ``ehs`` EH/s of miners at ``j_per_th`` J/TH: ``MW = EH/s x J/TH``.

    1 EH/s at 20 J/TH is 20 MW. Works on a number, a numpy array or a pandas Series (NaN stays NaN).
    """
    efficiency = _efficiency(j_per_th)
    _check(ehs, "hashrate", "EH/s")
    return ehs * efficiency  # type: ignore[return-value]


def mw_to_ehs(mw: T, j_per_th: float = DEFAULT_J_PER_TH) -> T:
    """Hashrate in EH/s that ``mw`` MW of miners at ``j_per_th`` J/TH deliver: ``EH/s = MW / (J/TH)``."""
    efficiency = _efficiency(j_per_th)
    _check(mw, "power", "MW")
    return mw / efficiency  # type: ignore[return-value]
