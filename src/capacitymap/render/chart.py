"""The chart beside the map: a ranked bar chart of the step shown and one place's series over time.

:func:`chart_payload` turns region values into JSON-ready data for ``js/chart.js``'s
``capacitymapChart(container, payload)``, which draws inline SVG (no library), follows the page's
``capacitymap:step`` event and shows a region's series on ``capacitymap:region``. Values are
formatted here, as the map formats them (:func:`capacitymap.render.classify.format_value`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import pandas as pd

from capacitymap.errors import MapSpecError
from capacitymap.render.classify import format_value
from capacitymap.render.spec import METRIC_LABELS

__all__ = ["chart_payload", "chart_js", "TOP_PLACES", "OTHER_LABEL"]

#: Places with their own bar; the rest are summed into one bar ("12 other places").
TOP_PLACES: Final = 10
#: CCAF's unallocated remainder, as the bar chart names it.
OTHER_LABEL: Final = "Other (unallocated)"
_UNITS: Final[dict[str, str]] = {"capacity_mw": "MW", "capacity_change_mw": "MW", "hashrate_ehs": "EH/s", "share": "%"}
#: Metrics whose values add up across places (a "rest" bar is their sum).
_ADDITIVE: Final = frozenset({"capacity_mw", "capacity_change_mw", "hashrate_ehs", "share"})


def chart_payload(
    values: pd.DataFrame | None,
    names: Mapping[str, str],
    metric: str,
    *,
    other: Mapping[str, float] | Mapping[str, Mapping[str, float]] | None = None,
    value_label: str = "",
    top: int = TOP_PLACES,
) -> dict[str, Any] | None:
    """Ranked bars per step and each place's series, or ``None`` when there is no value to chart.

    ``values`` has a key column (``iso_3166_2`` or ``iso_a2``), ``value`` (float, NaN = no data) and
    optionally ``month`` (step labels sorting in time, "YYYY-MM" or "YYYY-Qn"); ``names`` maps keys to
    the names shown; ``other`` maps a step to CCAF's unallocated remainder (same unit as ``value``),
    drawn as its own bar "Other (unallocated)": ``{step: value}``, or ``{step: {key: value}}`` as
    ``hashrate_layers`` leaves it in ``values.attrs["other"]`` (read from there when ``other`` is None).
    """
    if values is None or len(values) == 0:
        return None
    key = _key_column(values)
    if "value" not in values.columns:
        raise MapSpecError(f"chart: expected a 'value' column, got {list(values.columns)!r}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise MapSpecError(f"chart: expected top as a whole number of at least 1, got {top!r}")
    frame = pd.DataFrame({
        "key": values[key].astype(str),
        "value": pd.to_numeric(values["value"], errors="coerce").astype(float),
        "step": values["month"].fillna("").astype(str) if "month" in values.columns else "",
    })
    frame = frame[frame["value"].map(math.isfinite)]
    other = _other_by_step(other if other is not None else values.attrs.get("other"))
    if frame.empty and not other:
        return None
    steps = sorted(set(frame["step"]) | set(other))
    keys = sorted(set(frame["key"]))
    cell = {(s, k): v for s, k, v in zip(frame["step"], frame["key"], frame["value"])}
    fmt = _formatter(metric)
    ranked = {}
    for step in steps:
        rows = sorted(((k, cell[(step, k)]) for k in keys if (step, k) in cell), key=lambda kv: (-kv[1], kv[0]))
        shown, rest = rows[:top], rows[top:]
        entry: dict[str, Any] = {"rows": [[k, _num(v), fmt(v)] for k, v in shown], "count": len(rows)}
        if rest and metric in _ADDITIVE:
            total = sum(v for _, v in rest)
            entry["rest"] = [len(rest), _num(total), fmt(total)]
        if step in other:
            entry["other"] = [_num(other[step]), fmt(other[step])]
        ranked[step] = entry
    series = {
        k: {"v": [_num(cell[(s, k)]) if (s, k) in cell else None for s in steps],
            "t": [fmt(cell[(s, k)]) if (s, k) in cell else "no data" for s in steps]}
        for k in keys
    }
    label = METRIC_LABELS.get(metric, metric.replace("_", " ").capitalize())
    return {
        "metric": metric,
        "label": label,
        "valueLabel": value_label or label,
        "unit": _UNITS.get(metric, ""),
        "steps": steps,
        "names": {k: str(names.get(k, k)) for k in keys},
        "ranked": ranked,
        "series": series,
        "otherLabel": OTHER_LABEL,
        "top": top,
    }


def chart_js() -> str:
    """The text of ``js/chart.js`` (defines ``capacitymapChart(container, payload)``), for the page to inline."""
    from importlib import resources

    return (resources.files("capacitymap.render") / "js" / "chart.js").read_text(encoding="utf-8")


def _other_by_step(other: object) -> dict[str, float]:
    if not isinstance(other, Mapping):
        return {}
    out = {}
    for step, v in other.items():
        cells = v.values() if isinstance(v, Mapping) else [v]
        finite = [float(c) for c in cells if isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(float(c))]
        if finite:
            out[str(step)] = sum(finite)
    return out


def _key_column(values: pd.DataFrame) -> str:
    for key in ("iso_3166_2", "iso_a2"):
        if key in values.columns:
            return key
    raise MapSpecError(
        f"chart: expected a key column 'iso_3166_2' or 'iso_a2' in the values, got {list(values.columns)!r}"
    )


def _num(v: float) -> float:
    return float(f"{v:.6g}")


def _formatter(metric: str):  # noqa: ANN202
    if metric == "capacity_change_mw":
        def signed(v: float) -> str:
            text = format_value(abs(v), "capacity_mw")
            return ("+" if v > 0 else "\u2212" if v < 0 else "") + text
        return signed
    return lambda v: format_value(v, metric)
