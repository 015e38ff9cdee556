"""Classes and colours: mapclassify schemes, colour-blind-safe palettes, value formatting.

Shared by the HTML maps and the static export, so both draw the same classes in the same colours.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import mapclassify
import numpy as np

from capacitymap.render.spec import MapSpecError, Metric, Scheme

__all__ = [
    "Classes",
    "classify",
    "SEQUENTIAL",
    "NO_DATA_COLOUR",
    "OKABE_ITO",
    "OTHER_COLOUR",
    "STATUS_COLOURS",
    "category_colours",
    "format_value",
]

#: ColorBrewer YlOrRd (9 classes), colour-blind safe; k classes take evenly spaced entries.
SEQUENTIAL: Final[tuple[str, ...]] = (
    "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026",
)
#: Regions without data: mid grey, drawn with a dashed outline, never a class colour (zero is a class).
NO_DATA_COLOUR: Final = "#bdbdbd"
#: Okabe–Ito, without black (kept for outlines); the first operators by MW get these in order.
OKABE_ITO: Final[tuple[str, ...]] = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
)
#: Operators beyond the palette share this colour (they stay separately filterable).
OTHER_COLOUR: Final = "#7f7f7f"
STATUS_COLOURS: Final[dict[str, str]] = {
    "operational": "#0072B2",
    "under_construction": "#E69F00",
    "planned": "#56B4E9",
    "curtailed": "#CC79A7",
    "closed": "#000000",
}


@dataclass(frozen=True, slots=True)
class Classes:
    """Ordered classes: class ``i`` holds ``lower[i] < v <= upper[i]`` (class 0 also ``v == lower[0]``).

    Empty (no classes) when no value is finite: everything is "no data".
    """

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...]
    scheme: str
    metric: str

    def index(self, value: float | None) -> int | None:
        """The class of ``value``; ``None`` for NaN/None (no data)."""
        if value is None or not math.isfinite(float(value)) or not self.upper:
            return None
        i = int(np.searchsorted(np.asarray(self.upper), float(value), side="left"))
        return min(i, len(self.upper) - 1)

    def colour(self, value: float | None) -> str:
        i = self.index(value)
        return NO_DATA_COLOUR if i is None else self.colours[i]

    def __len__(self) -> int:
        return len(self.upper)


def classify(
    values: Iterable[float],
    *,
    scheme: Scheme = "quantiles",
    k: int = 5,
    bins: Sequence[float] | None = None,
    metric: Metric = "capacity_mw",
) -> Classes:
    """Classify finite ``values`` (NaN = no data, ignored) with a mapclassify scheme.

    Fewer distinct values than ``k`` gives one class per distinct value.
    """
    y = np.asarray([float(v) for v in values], dtype="float64")
    y = y[np.isfinite(y)]
    if scheme == "user_bins":
        if not bins:
            raise MapSpecError(f"classify: scheme 'user_bins' needs bins (upper class bounds), got {bins!r}")
        upper = [float(b) for b in bins]
        if y.size and y.max() > upper[-1]:
            upper.append(float(y.max()))
        lower_first = float(min(y.min(), upper[0])) if y.size else min(0.0, upper[0])
    else:
        if y.size == 0:
            return Classes((), (), (), (), scheme, metric)
        distinct = np.unique(y)
        if distinct.size <= k:
            upper = [float(v) for v in distinct]
        else:
            upper = _mapclassify(y, scheme, k)
        lower_first = float(y.min())
    lower = [lower_first] + upper[:-1]
    colours = _ramp(len(upper))
    labels = tuple(_label(lo, hi, i, metric) for i, (lo, hi) in enumerate(zip(lower, upper)))
    return Classes(tuple(lower), tuple(upper), colours, labels, scheme, metric)


def _mapclassify(y: np.ndarray, scheme: str, k: int) -> list[float]:
    cls = {
        "quantiles": mapclassify.Quantiles,
        "natural_breaks": mapclassify.FisherJenks,
        "equal_interval": mapclassify.EqualInterval,
    }.get(scheme)
    if cls is None:
        raise MapSpecError(
            f"classify: expected scheme one of ['quantiles', 'natural_breaks', 'equal_interval', 'user_bins'], got {scheme!r}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mapclassify warns on repeated values; we drop repeated edges below
        bins = cls(y, k=k).bins
    out: list[float] = []
    for b in (float(v) for v in bins):
        if not out or b > out[-1]:
            out.append(b)
    out[-1] = max(out[-1], float(y.max()))
    return out


def _ramp(n: int) -> tuple[str, ...]:
    if n == 0:
        return ()
    if n == 1:
        return (SEQUENTIAL[4],)
    idx = np.linspace(0, len(SEQUENTIAL) - 1, n).round().astype(int)
    return tuple(SEQUENTIAL[i] for i in idx)


def _label(lo: float, hi: float, i: int, metric: str) -> str:
    if lo == hi or (i == 0 and lo >= hi):
        return format_value(hi, metric)
    return f"{format_value(lo, metric, unit=False)} – {format_value(hi, metric)}"


def format_value(value: float | None, metric: str, *, unit: bool = True) -> str:
    """A value as the map shows it: ``"1,234 MW"``, ``"12.5 EH/s"``, ``"65.08%"`` (shares are fractions)."""
    if value is None or not math.isfinite(float(value)):
        return "no data"
    v = float(value)
    if metric == "share":
        # Percentages keep the two decimals CCAF publishes (65.08%), trailing zeros dropped (11%).
        v *= 100.0
        text = f"{v:,.2f}".rstrip("0").rstrip(".") if v else "0"
        return text + "%" if unit else text
    text = _number(v)
    suffix = {"capacity_mw": " MW", "hashrate_ehs": " EH/s"}.get(metric, "")
    return text + suffix if unit else text


def _number(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:,.1f}".removesuffix(".0")
    if a >= 1:
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


def category_colours(categories: Sequence[str], *, by: str) -> dict[str, str]:
    """Colours for operators (Okabe–Ito in the given order, then grey) or statuses (fixed)."""
    if by == "status":
        return {c: STATUS_COLOURS.get(c, OTHER_COLOUR) for c in categories}
    return {c: (OKABE_ITO[i] if i < len(OKABE_ITO) else OTHER_COLOUR) for i, c in enumerate(categories)}
