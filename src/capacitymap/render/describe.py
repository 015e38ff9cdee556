"""Alt text: what a map shows, in words, with its top regions and their values."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import pandas as pd

from capacitymap.render.classify import format_value
from capacitymap.render.data import Facilities, RegionValues, prepare_facilities, prepare_values
from capacitymap.render.geometry import key_of, select_regions
from capacitymap.render.spec import ADDITIVE_METRICS, METRIC_LABELS, MapSpec, resolve_preset
from capacitymap.vocab import status_phrase

__all__ = [
    "describe", "describe_prepared", "METRIC_LABELS", "DISPLAY_NAMES", "display_names", "complete_spec",
    "default_title", "default_subtitle", "default_credit", "status_phrase", "step_span", "count", "value_publishers",
]

_METRIC_PHRASE = {
    "capacity_mw": "bitcoin mining power capacity in megawatts (MW)",
    "hashrate_ehs": "bitcoin mining hashrate in exahashes per second (EH/s)",
    "share": "share of bitcoin mining hashrate (percent)",
    "capacity_change_mw": "the change in bitcoin mining power capacity in megawatts (+/- MW)",
}
#: What a map title calls the metric.
_TITLE_METRIC = {
    "capacity_mw": "bitcoin mining power capacity",
    "hashrate_ehs": "Bitcoin mining hashrate",
    "share": "Share of bitcoin mining hashrate",
    "capacity_change_mw": "Change in bitcoin mining power capacity",
}
#: Names readers know, where Natural Earth's display name differs (the gazetteer keeps its own names).
DISPLAY_NAMES: dict[str, str] = {
    "CN-NM": "Inner Mongolia",
    "CN-XZ": "Tibet (Xizang)",
    "US": "United States",
    "CD": "DR Congo",
    "CF": "Central African Republic",
    "DO": "Dominican Republic",
    "BA": "Bosnia and Herzegovina",
    "AG": "Antigua and Barbuda",
    "SS": "South Sudan",
    "GQ": "Equatorial Guinea",
    "KN": "Saint Kitts and Nevis",
    "VC": "Saint Vincent and the Grenadines",
    "EH": "Western Sahara",
}
#: Publishers named for well-known source domains (others are named by their domain).
_PUBLISHERS = {"ccaf.io": "CCAF (Cambridge Centre for Alternative Finance)",
               "jbs.cam.ac.uk": "CCAF (Cambridge Centre for Alternative Finance)",
               "sec.gov": "SEC filings", "theminermag.com": "TheMinerMag"}
#: More source domains than this are summarised.
_MAX_DOMAINS = 3
NATURAL_EARTH_TEXT = "Boundaries: Natural Earth"


def display_names(names: dict[str, str]) -> dict[str, str]:
    """Region key -> the name a reader knows (``DISPLAY_NAMES`` over Natural Earth's)."""
    return {k: DISPLAY_NAMES.get(k, v) for k, v in names.items()}


def count(n: int, one: str, many: str | None = None) -> str:
    """``"1 month"``, ``"3 months"``: plural-aware wording."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def step_span(steps: list[str]) -> str:
    """``"2019-09 to 2022-01 (29 months)"`` or the one step; "" for none."""
    steps = [s for s in steps if s]
    if not steps:
        return ""
    if len(steps) == 1:
        return steps[0]
    word = ("quarter", "quarters") if "Q" in steps[0] else ("month", "months")
    return f"{steps[0]} to {steps[-1]} ({count(len(steps), *word)})"


def default_title(metric: str, area: str, *, statuses: tuple[str, ...] = (), value_label: str = "", level: str = "admin1") -> str:
    """What the map shows: metric, statuses counted, area ("Share of China's hashrate by province, China")."""
    what = _TITLE_METRIC.get(metric, metric)
    if metric in ("capacity_mw", "capacity_change_mw"):
        phrase = status_phrase(statuses or ("operational",)) if statuses else ""
        if metric == "capacity_mw":
            what = (phrase[0].upper() + phrase[1:] + " " + what) if phrase else what[0].upper() + what[1:]
        elif phrase:
            what = f"{what} ({phrase})"
    if value_label:
        what = f"{what}: {value_label}" if metric != "share" else value_label[0].upper() + value_label[1:]
        what = f"{what} by {'country' if level == 'country' else 'state or province'}"
    return f"{what}, {area}" if area != "Custom area" else what


def default_subtitle(steps: list[str], as_of: str | None, period: tuple[str, str] | None = None) -> str:
    """The as-of date of a single-date map, the range of steps a slider covers, or the dates a change map compares."""
    if period:
        return f"From {period[0]} to {period[1]}"
    steps = [s for s in steps if s]
    if len(steps) > 1:
        return f"{step_span(steps)}; move the slider to see each"
    if steps:
        return f"As of {steps[0]}"
    return f"As of {as_of}" if as_of else ""


def default_credit(domains: list[str]) -> str:
    """Who published the figures: named publishers, the source domains, or a summary when there are many."""
    names = list(dict.fromkeys(_PUBLISHERS.get(d, d) for d in domains))
    if not names:
        return ""
    if len(names) > _MAX_DOMAINS:
        return "Data: company filings and press reports (" + count(len(domains), "source site") + ")"
    return "Data: " + ", ".join(names)


def value_publishers(values: pd.DataFrame | None) -> list[str]:
    """Who published region values, from their ``pools`` provenance: CCAF, or the pools named."""
    if values is None or "pools" not in values.columns:
        return []
    pools = sorted({p for cell in values["pools"].dropna().astype(str) for p in cell.split("|") if p})
    return ["ccaf.io" if p.upper() == "CCAF" else f"{p} (pool data)" for p in pools]


def complete_spec(spec: MapSpec, *, steps: list[str], as_of: str | None = None, period: tuple[str, str] | None = None, statuses: tuple[str, ...] = (),
                  value_label: str = "", credit: str = "", domains: list[str] | None = None,
                  coverage_note: str = "") -> MapSpec:
    """The spec with every blank of title, subtitle, credit and coverage note filled in (the user's text wins).

    HTML and stills both run this before drawing, so a map always says what, when and whose.
    """
    preset = resolve_preset(spec.preset)
    title = spec.title or default_title(spec.metric, preset.label, statuses=statuses, value_label=value_label,
                                        level=preset.level)
    subtitle = spec.subtitle or default_subtitle(steps, as_of, period)
    given = spec.credit or (("Data: " + credit) if credit and not credit.startswith("Data") else credit)
    return replace(spec, title=title, subtitle=subtitle, credit=given or default_credit(domains or []),
                   coverage_note=spec.coverage_note or coverage_note)


def describe(
    spec: MapSpec,
    values: pd.DataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    *,
    regions: gpd.GeoDataFrame | None = None,
    top: int = 5,
) -> str:
    """Alt text for the map :func:`build_map` would draw: what it shows, the top regions with values.

    Without ``regions`` the text names regions by code (the key column of ``values``) and keeps
    every code; with them, names and the preset's selection are used, as on the map.
    """
    preset = resolve_preset(spec.preset)
    if regions is not None:
        drawn, level = select_regions(regions, preset)
        key = key_of(level)
        names = dict(zip(drawn[key], drawn["name"]))
        layer_keys = set(regions[key].astype(str))
    else:
        level = preset.level or ("admin1" if values is not None and "iso_3166_2" in values.columns else "country")
        key = key_of(level)
        codes = [] if values is None or key not in values.columns else sorted(set(values[key].dropna().astype(str)))
        names = {c: c for c in codes}
        layer_keys = set(codes)
    rv = prepare_values(values, level=level, layer_keys=layer_keys, drawn_keys=list(names))
    fac = prepare_facilities(facilities, level=level, preset=preset, drawn_keys=list(names))
    return describe_prepared(spec, rv, fac, names=names, level=level, top=top)


def describe_prepared(
    spec: MapSpec, rv: RegionValues, fac: Facilities, *, names: dict[str, str], level: str, top: int = 5
) -> str:
    """Alt text as :func:`describe` gives it, from values and facilities already prepared for the page."""
    preset = resolve_preset(spec.preset)
    unit_word = "state or province" if level == "admin1" else "country"
    parts: list[str] = []
    head = f"{spec.title}. " if spec.title else ""
    parts.append(
        f"{head}Map of {preset.label} showing {_METRIC_PHRASE[spec.metric]} by {unit_word}."
    )
    month = rv.months[-1]
    if len(rv.months) > 1:
        word = ("quarter", "quarters") if "Q" in rv.months[0] else ("month", "months")
        parts.append(
            f"A slider steps through {count(len(rv.months), *word)} from {rv.months[0]} to {rv.months[-1]}; "
            f"figures below are for {month}."
        )
    elif rv.has_months:
        parts.append(f"Figures for {month}.")
    current = rv.values.get(month, {})
    with_data = {k: v for k, v in current.items() if v is not None}
    total = sum(with_data.values())
    n_none = len(names) - len(with_data)
    if with_data:
        ranked = sorted(with_data.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        items = []
        for k, v in ranked:
            share = f", {v / total:.0%} of the map total" if total > 0 and spec.metric in ADDITIVE_METRICS else ""
            items.append(f"{names.get(k, k)} ({k}) {format_value(v, spec.metric)}{share}")
        has = "has" if len(with_data) == 1 else "have"
        total_text = f"; map total {format_value(total, spec.metric)}" if spec.metric in ADDITIVE_METRICS else ""
        parts.append(
            f"{len(with_data)} of {count(len(names), 'region')} {has} data ({n_none} without, drawn grey and dashed)"
            f"{total_text}. Highest: " + "; ".join(items) + "."
        )
    else:
        parts.append(f"None of the {count(len(names), 'region')} has data.")
    if fac.records:
        colour = "operator" if spec.marker_colour == "operator" else "status"
        biggest = [
            f"{r['operator']} {r['site']} ({format_value(r['mw'], 'capacity_mw')})".replace("  ", " ")
            for r in fac.records[:3]
        ]
        parts.append(
            f"{_count(len(fac.records), 'current facility', 'current facilities')} from "
            f"{_count(len(fac.operators), 'operator', 'operators')} {'is' if len(fac.records) == 1 else 'are'} drawn as circles "
            f"with area proportional to MW, coloured by {colour}; largest: " + "; ".join(biggest) + "."
        )
    if spec.coverage_note:
        parts.append(spec.coverage_note.strip())
    return " ".join(parts)


def _count(n: int, one: str, many: str) -> str:
    return count(n, one, many)
