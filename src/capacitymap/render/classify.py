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
        """The fill colour of ``value``'s class; the no-data colour for NaN/None."""
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

    No class holds a single value because there were fewer distinct values than classes: with few
    distinct values, fewer classes are made (two distinct values or more each). Labels are rounded to
    the data's precision and never share an end point ("18-29", "30-103"). ``capacity_change_mw``
    is classified on each side of zero (a diverging palette centred on zero, "no change" in the middle).
    """
    y = np.asarray([float(v) for v in values], dtype="float64")
    y = y[np.isfinite(y)]
    if metric == "capacity_change_mw" and scheme != "user_bins":
        return _diverging(y, scheme, k)
    if scheme == "user_bins":
        if not bins:
            raise MapSpecError(f"classify: scheme 'user_bins' needs bins (upper class bounds), got {bins!r}")
        upper = [float(b) for b in bins]
        if y.size and y.max() > upper[-1]:
            upper.append(float(y.max()))
        lower_first = float(min(y.min(), upper[0])) if y.size else min(0.0, upper[0])
        lower = [lower_first] + upper[:-1]
        labels = _bin_labels(lower, upper, metric)
        return Classes(tuple(lower), tuple(upper), _ramp(len(upper)), labels, scheme, metric)
    if y.size == 0:
        return Classes((), (), (), (), scheme, metric)
    upper = _snap(y, _upper_bounds(y, scheme, k))
    lower = [float(y.min())] + upper[:-1]
    labels = _data_labels(y, lower, upper, metric)
    return Classes(tuple(lower), tuple(upper), _ramp(len(upper)), labels, scheme, metric)


def _upper_bounds(y: np.ndarray, scheme: str, k: int) -> list[float]:
    distinct = np.unique(y)
    if distinct.size == 1:
        return [float(distinct[0])]
    k = max(1, min(k, distinct.size // 2))  # at least two distinct values per class
    upper = [float(distinct[-1])] if k == 1 else _mapclassify(y, scheme, k)
    # merge a class holding a single distinct value into its upper neighbour (or the last into the one below)
    while len(upper) > 1:
        counts = [len(c) for c in _members(distinct, upper)]
        single = [i for i, n in enumerate(counts) if n < 2]
        if not single:
            break
        i = single[0]
        del upper[i if i < len(upper) - 1 else i - 1]
    return upper


def _members(distinct: np.ndarray, upper: list[float]) -> list[np.ndarray]:
    idx = np.searchsorted(np.asarray(upper), distinct, side="left")
    return [distinct[idx == i] for i in range(len(upper))]


def _snap(y: np.ndarray, upper: list[float]) -> list[float]:
    """Each upper bound moved down to the largest value its class holds (same members, exact labels)."""
    groups = _members(np.unique(y), upper)
    return [float(g.max()) for g in groups if g.size]


def _decimals(y: np.ndarray, metric: str) -> int:
    """The data's precision: decimals its values are written with, at most what its smallest value needs."""
    v = np.abs(y[y != 0]) * (100.0 if metric == "share" else 1.0)
    if v.size == 0:
        return 0
    smallest = float(v.min())
    cap = 0 if smallest >= 10 else 1 if smallest >= 1 else 2 if smallest >= 0.1 else 3
    for d in range(cap + 1):
        if np.allclose(np.round(v, d), v, rtol=0, atol=1e-9 * max(1.0, float(v.max()))):
            return d
    return cap


def _data_labels(y: np.ndarray, lower: list[float], upper: list[float], metric: str) -> tuple[str, ...]:
    """Class i holds (upper[i-1], upper[i]]: labelled from the next value at the data's precision to upper[i]."""
    return _range_labels([float(y.min())] + list(upper[:-1]), upper, metric, _decimals(y, metric), first_exact=True)


def _bin_labels(lower: list[float], upper: list[float], metric: str) -> tuple[str, ...]:
    return _range_labels(lower, upper, metric, None, first_exact=True)


def _range_labels(lower: list[float], upper: list[float], metric: str, d: int | None, *, first_exact: bool) -> tuple[str, ...]:
    scale = 100.0 if metric == "share" else 1.0
    unit = {"share": "%", "capacity_mw": " MW", "hashrate_ehs": " EH/s", "capacity_change_mw": " MW"}.get(metric, "")
    signed = metric == "capacity_change_mw"
    lo_s = [v * scale for v in lower]
    hi_s = [v * scale for v in upper]
    if d is None:  # user bins: as many decimals as the bins are written with (at most 3)
        d = next((n for n in range(4) if all(abs(round(b, n) - b) < 1e-9 for b in lo_s + hi_s)), 3)
    step = 10.0 ** -d
    out = []
    for i, (lo, hi) in enumerate(zip(lo_s, hi_s)):
        start = lo if (i == 0 and first_exact) else lo + step
        if round(start, d) >= round(hi, d):
            out.append(f"{_num(hi, d, signed)}{unit}")
        else:
            sep = " to " if signed else "\u2013"
            out.append(f"{_num(start, d, signed)}{sep}{_num(hi, d, signed)}{unit}")
    return tuple(out)


def _num(v: float, d: int, signed: bool) -> str:
    text = f"{abs(v):,.{d}f}"
    if round(v, d) < 0:
        return "\u2212" + text
    return ("+" + text) if signed and round(v, d) > 0 else text


#: ColorBrewer RdBu (diverging, colour-blind safe): reds for losses, blues for gains, grey-white for none.
DIVERGING_NEG: Final[tuple[str, ...]] = ("#b2182b", "#d6604d", "#f4a582", "#fddbc7")
DIVERGING_POS: Final[tuple[str, ...]] = ("#d1e5f0", "#92c5de", "#4393c3", "#2166ac")
ZERO_COLOUR: Final = "#f7f7f7"


def _diverging(y: np.ndarray, scheme: str, k: int) -> Classes:
    """Classes on each side of zero: losses (red), no change, gains (blue); zero is always the middle."""
    if y.size == 0:
        return Classes((), (), (), (), scheme, "capacity_change_mw")
    side_k = max(1, min(4, k // 2))
    neg, pos = y[y < 0], y[y > 0]
    spans: list[tuple[float, float]] = []
    colours: list[str] = []
    upper: list[float] = []
    if neg.size:
        mags = -neg
        groups = [-g for g in reversed(_members(np.unique(mags), _upper_bounds(mags, scheme, side_k))) if g.size]
        spans += [(float(g.min()), float(g.max())) for g in groups]
        upper += [float(g.max()) for g in groups]
        colours += _pick(DIVERGING_NEG, len(groups))
    if (y == 0).any():
        spans.append((0.0, 0.0))
        upper.append(0.0)
        colours.append(ZERO_COLOUR)
    if pos.size:
        groups = [g for g in _members(np.unique(pos), _upper_bounds(pos, scheme, side_k)) if g.size]
        spans += [(float(g.min()), float(g.max())) for g in groups]
        upper += [float(g.max()) for g in groups]
        colours += _pick(DIVERGING_POS, len(groups), reverse=True)
    lower = [spans[0][0]] + upper[:-1]
    d = _decimals(y, "capacity_change_mw")
    labels = []
    for i, (lo, hi) in enumerate(spans):
        if (lo, hi) == (0.0, 0.0):
            labels.append("no change")
            continue
        first_of_side = i == 0 or (lo > 0 and spans[i - 1][1] <= 0)
        prev = lo if first_of_side else upper[i - 1]
        labels.append(_range_labels([prev], [hi], "capacity_change_mw", d, first_exact=first_of_side)[0])
    return Classes(tuple(lower), tuple(upper), tuple(colours), tuple(labels), scheme, "capacity_change_mw")


def _pick(palette: tuple[str, ...], n: int, *, reverse: bool = False) -> list[str]:
    """``n`` colours spread over ``palette`` (dark end first for losses, light end first for gains)."""
    if n == 1:
        return [palette[2] if reverse else palette[1]]
    idx = np.linspace(0, len(palette) - 1, n).round().astype(int)
    return [palette[i] for i in idx]


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


def format_value(value: float | None, metric: str, *, unit: bool = True) -> str:
    """A value as the map shows it: ``"1,234 MW"``, ``"12.5 EH/s"``, ``"65.08%"`` (shares are fractions)."""
    if value is None or not math.isfinite(float(value)):
        return "no data"
    v = float(value)
    if metric == "capacity_change_mw":
        text = ("+" if v > 0 else "\u2212" if v < 0 else "") + _number(abs(v))
        return text + " MW" if unit else text
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
