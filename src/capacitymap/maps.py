"""From results to what a map draws: region values, markers and the coverage note.

``capacity_layers`` turns mapped facilities into a capacity choropleth plus markers;
``hashrate_layers`` turns a hashrate method result into a share (or EH/s) choropleth with one
slider step per month. ``make_map`` builds the map once: its page (``built.html()``), its still
(``built.still()``) and its alt text (``built.alt``) all come from that one object.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from capacitymap.filters import PIPELINE_STATUSES
from capacitymap.method import HashrateResult, describe_sample, source_credit, to_region_values
from capacitymap.pipeline import CapacityChange, CapacitySteps, MappedFacilities
from capacitymap.render import BuiltMap, MapSpec, build_map
from capacitymap.render.spec import BBox, resolve_preset
from capacitymap.schema import SHARE_TOLERANCE
from capacitymap.summary import summarize
from capacitymap.vocab import HashrateValue, Level

__all__ = ["MapLayers", "capacity_layers", "hashrate_layers", "make_map"]


@dataclass(frozen=True)
class MapLayers:
    """What one map draws: the boundary layer, region values (or None) and facility points (or None).

    ``pipeline``: sites not counted in the choropleth, drawn as hollow circles in their own layer.
    ``statuses``: the statuses the choropleth counts (titles, legends and tables say them).
    ``captions``: step -> caption; a step with a caption is marked incomplete on the slider.
    ``as_of``: the date a single-date map shows. ``value_label``: what the value means when the
    metric alone does not say it. ``credit``: who published the data (a user's ``--credit`` wins).
    ``period``: the two dates a change map compares.
    """

    regions: gpd.GeoDataFrame
    values: pd.DataFrame | None
    facilities: gpd.GeoDataFrame | None
    coverage_note: str
    pipeline: gpd.GeoDataFrame | None = None
    statuses: tuple[str, ...] = ()
    captions: Mapping[str, str] = field(default_factory=dict)
    as_of: str | None = None
    value_label: str = ""
    credit: str = ""
    period: tuple[str, str] | None = None


def capacity_layers(
    mapped: MappedFacilities,
    admin1: gpd.GeoDataFrame,
    *,
    steps: CapacitySteps | None = None,
    change: CapacityChange | None = None,
) -> MapLayers:
    """Total MW per state/province of the counted facilities, the facilities as markers, the pipeline apart.

    ``steps`` (from :func:`~capacitymap.pipeline.capacity_steps`) turns the map into a slider of capacity over
    time: values and the long facilities/pipeline frames carry ``month`` steps. ``change`` (from
    :func:`~capacitymap.pipeline.capacity_change`) draws the change between two dates (metric
    ``capacity_change_mw``): signed values, and the sites added, removed, grown or shrunk.
    """
    statuses = mapped.statuses
    if change is not None:
        values = change.values.rename(columns={
            "capacity_mw_start": f"MW as of {change.start}", "capacity_mw_end": f"MW as of {change.end}",
            "sites_added": "sites added", "sites_removed": "sites removed"})
        return MapLayers(admin1, values, change.facilities, _change_note(change), None, statuses, {}, None, "", _credit(mapped.facilities),
                         period=(change.start, change.end))
    if steps is not None:
        note = _capacity_note(steps.last, steps=steps)
        return MapLayers(admin1, steps.values, steps.facilities, note, steps.pipeline, statuses, {}, None, "",
                         _credit(steps.facilities))
    totals = summarize(mapped.facilities, by="region")
    values = pd.DataFrame({"iso_3166_2": totals["iso_3166_2"].astype(str), "value": totals["capacity_mw"].astype(float)})
    return MapLayers(admin1, values, mapped.facilities, _capacity_note(mapped), mapped.pipeline, statuses, {}, mapped.as_of, "",
                     _credit(mapped.facilities))


def hashrate_layers(
    result: HashrateResult,
    *,
    admin1: gpd.GeoDataFrame,
    admin0: gpd.GeoDataFrame,
    level: Level,
    value: HashrateValue = "share",
    facilities: gpd.GeoDataFrame | None = None,
) -> MapLayers:
    """The method's result as region values: countries on admin-0, or states/provinces on admin-1.

    ``value``: ``share`` (of global hashrate), ``share_of_country`` or ``hashrate_ehs``. A month in which
    the source gives figures for only some of the places the other months have gets a caption, and the
    missing places are NaN (no data) that month. The unallocated remainders (CCAF's ``Other``) are never
    drawn: the coverage note and ``values.attrs["other"]`` (``{month: {key: value}}``) carry them.
    """
    values = _with_provenance(to_region_values(result.table, level=level, value=value), result.table, level=level, value=value)  # type: ignore[arg-type]
    regions = admin0 if level == "country" else admin1
    names = _names(admin0, admin1)
    values, captions = _with_gaps(values, names)
    values.attrs["other"] = _other_values(result.table, level=level, value=value)
    months = tuple(result.metadata.get("months") or ())
    as_of = months[0] if len(months) == 1 else (result.table["month"].iloc[0] if len(result.table) and result.metadata.get("average") else None)
    if len(months) == 1 and "Q" in months[0] and "month" in values:
        values = values.drop(columns="month")  # one quarter: a single-date map (as_of says which), no slider step
    return MapLayers(regions, values, facilities, _hashrate_note(result, value=value, names=names), captions=captions, as_of=as_of,
                     value_label=_value_label(result, value, names), credit=source_credit(result.metadata.get("pools") or ()))


def make_map(spec: MapSpec, layers: MapLayers) -> BuiltMap:
    """The map, built: the one entry from layers + spec to a page (``built.html()``) and a still (``built.still()``).

    Blanks in the spec (title, subtitle, credit, coverage note) are filled from the layers.
    """
    spec = complete_layers_spec(spec, layers)
    return build_map(
        spec, regions=layers.regions, values=layers.values, facilities=layers.facilities, pipeline=layers.pipeline,
        statuses=tuple(layers.statuses), captions=dict(layers.captions), as_of=layers.as_of,
        value_label=layers.value_label, credit=layers.credit, coverage_note=layers.coverage_note,
    )


def preset_level(preset: str | BBox) -> Level:
    """The level a preset draws: ``country`` for the world preset, ``admin1`` for the others and a custom area."""
    return resolve_preset(preset).level or "admin1"


def complete_layers_spec(spec: MapSpec, layers: MapLayers) -> MapSpec:
    """Title, subtitle, credit and coverage note defaults for ``layers`` (the user's text wins)."""
    from capacitymap.render.data import prepare_facilities
    from capacitymap.render.describe import complete_spec, value_publishers
    from capacitymap.render.geometry import key_of, select_regions

    preset = resolve_preset(spec.preset)
    drawn, level = select_regions(layers.regions, preset)
    keys = list(drawn[key_of(level)])
    domains = value_publishers(layers.values)
    steps: list[str] = []
    for frame in (layers.facilities, layers.pipeline):
        fac = prepare_facilities(frame, level=level, preset=preset, drawn_keys=keys)
        domains += fac.domains
        steps = steps or fac.steps
    if layers.values is not None and "month" in layers.values.columns:
        steps = sorted({str(m) for m in layers.values["month"].dropna().astype(str)})
    return complete_spec(spec, steps=steps, as_of=layers.as_of, period=layers.period, statuses=tuple(layers.statuses),
                         value_label=layers.value_label, credit=layers.credit, domains=domains,
                         coverage_note=layers.coverage_note)


def _capacity_note(mapped: MappedFacilities, *, steps: CapacitySteps | None = None) -> str:
    f = mapped.facilities
    rec = mapped.reconciliation
    dates = sorted(d for d in f["as_of"].dropna()) if len(f) else []
    span = f"figures dated {dates[0]} to {dates[-1]}" if dates else "undated figures"
    sources = f["source_url"].dropna().nunique() if len(f) else 0
    counted = mapped.status_label
    when = f" as of {mapped.as_of}" if mapped.as_of else ""
    parts = []
    if steps is not None:
        parts.append(f"Capacity at each of {len(steps.steps)} steps, {steps.steps[0]} to {steps.steps[-1]}: at each, the newest "
                     "figure of every site up to that date; a region with no site reported yet is shown as no data.")
        parts.append(f"At {steps.steps[-1]}:")
    parts.append(f"{_plural(rec.rows_mapped, 'facility', 'facilities')}, {rec.mw_mapped:,.1f} MW {counted} capacity mapped{when} "
                 f"({span}; {_plural(sources, 'source', 'sources')}).")
    not_counted = [s for s in PIPELINE_STATUSES if s not in mapped.statuses]
    for r in rec.filtered.itertuples(index=False):
        if r.filter.startswith("status "):
            status = r.filter[len("status "):]
            shown = "; shown apart as the pipeline" if status in not_counted else ""
            parts.append(f"Not counted ({status.replace('_', ' ')}{shown}): {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
        elif r.filter == "outside this map":
            where = f" ({mapped.area.label})" if mapped.area is not None else ""
            parts.append(f"Outside this map{where}: {_rows(r.rows)}, {r.capacity_mw:,.1f} MW, not drawn.")
        elif r.filter == "superseded by a newer figure":
            parts.append(f"Older figures of the same sites (history, not added): {_rows(r.rows)}.")
        elif r.filter.startswith("dated after"):
            parts.append(f"Dated after {r.filter[len('dated after '):]}: {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
        elif r.filter.startswith("undated"):
            parts.append(f"Undated, so not placed in time: {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
        else:
            parts.append(f"Left out by choice ({r.filter}): {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
    if len(rec.rejected):
        parts.append(f"Rejected as invalid: {_rows(len(rec.rejected))}, {math.fsum(rec.rejected['capacity_mw'].fillna(0)):,.1f} MW.")
    precise = f["location_precision"].fillna("").isin(["", "site"]).all() if "location_precision" in f else True
    if not precise:
        parts.append("Markers are placed at the town, county seat or region given, not the exact site.")
    return " ".join(parts)


def _change_note(change: CapacityChange) -> str:
    rec = change.mapped.reconciliation
    a = math.fsum(change.at_start["capacity_mw"])
    b = math.fsum(change.at_end["capacity_mw"])
    counts = change.facilities["change"].value_counts() if len(change.facilities) else {}
    label = change.mapped.status_label
    parts = [
        f"Change in {label} capacity from {change.start} to {change.end}: {a:,.1f} MW to {b:,.1f} MW ({b - a:+,.1f} MW).",
        "Sites " + ", ".join(f"{what} {int(counts.get(what, 0))}" for what in ("added", "removed", "grown", "shrunk"))
        + f"; unchanged {change.unchanged}.",
        f"Each date counts the newest figure of every site up to then; {rec.rows_mapped} rows used of {rec.rows_read} read.",
    ]
    for r in rec.filtered.itertuples(index=False):
        if r.filter == "outside this map":
            parts.append(f"Outside this map: {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
        elif r.filter.startswith("status "):
            parts.append(f"Not counted ({r.filter[len('status '):].replace('_', ' ')}): {_rows(r.rows)}, {r.capacity_mw:,.1f} MW.")
    if len(rec.rejected):
        parts.append(f"Rejected as invalid: {_rows(len(rec.rejected))}.")
    return " ".join(parts)


def _credit(facilities: pd.DataFrame) -> str:
    """The publishers of a facility file: the source sites' domains (a few), or a generic line for many."""
    from urllib.parse import urlsplit

    if facilities is None or not len(facilities) or "source_url" not in facilities:
        return ""
    hosts = sorted({(urlsplit(u).hostname or "").removeprefix("www.") for u in facilities["source_url"].dropna()} - {""})
    if not hosts:
        return ""
    if len(hosts) > 4:
        return "company filings and press reports"
    return ", ".join(hosts)


def _rows(n: int) -> str:
    return _plural(n, "row", "rows")


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _hashrate_note(result: HashrateResult, *, value: str = "share", names: Mapping[str, str] | None = None) -> str:
    """What the reader should know about the months shown: sample, remainder, method choices, rejections."""
    meta = result.metadata
    names = names or {}
    table = result.table
    months = tuple(meta.get("months") or sorted(set(table["month"])))
    pools = tuple(meta.get("pools") or sorted({p for cell in table["pools"].dropna() for p in str(cell).split("|") if p}))
    parts = [f"Window: {meta.get('window')}."]
    parts += describe_sample(pools, months)
    other = [p for p in pools if p not in _DESCRIBED]
    if other:
        parts.append(f"Pools: {', '.join(other)}.")
    parts.append(f"Assumption: {meta.get('assumption')}.")
    within = tuple(meta.get("within_country") or ())
    if within:
        where = ", ".join(names.get(c, c) for c in within)
        parts.append(f"Regions of {where} are shares of that country's hashrate: the input gives no share of global hashrate for it "
                     "(add CCAF's countries download to get shares of global).")
    parts += _other_sentences(table, names)
    if table["extrapolated"].any():
        parts.append(f"Extrapolated: {meta.get('extrapolation')}.")
    corrections = meta.get("vpn_corrections") or ()
    parts.append(f"VPN correction: {', '.join(corrections)}." if corrections else "No VPN correction.")
    if (table.loc[table["unreported"], "share"].astype(float) > SHARE_TOLERANCE).any():
        parts.append("Where sources list less than 100%, the rest is shown as unreported, never rescaled.")
    parts += _coverage_of_regions(table, names)
    network = str(meta.get("network_hashrate") or "")
    if value == "hashrate_ehs" or network.startswith("from CCAF"):
        if network.startswith("from CCAF"):
            parts.append("EH/s: CCAF's own absolute figures (the network's hashrate implied by them for other rows).")
        elif network.startswith("given"):
            parts.append("EH/s: share x the network hashrate series given.")
    rejected = meta.get("rejected") or ()
    if rejected:
        parts.append(f"Left out as invalid (--skip-invalid): {len(rejected)} row(s): {'; '.join(str(r) for r in rejected[:5])}"
                     + (" ..." if len(rejected) > 5 else "") + ".")
    return " ".join(parts)


#: Pools whose sample the coverage note describes in its own sentence (method._sources).
_DESCRIBED = ("CCAF", "Cambridge 2025 survey", "Hashrate Index")


#: Country names as a sentence says them ("share of US hashrate", not "of United States of America's").
_SHORT_NAMES = {"US": "the US", "GB": "the UK", "CN": "China", "RU": "Russia", "IR": "Iran"}


def _names(admin0: gpd.GeoDataFrame, admin1: gpd.GeoDataFrame) -> dict[str, str]:
    names = {str(k): str(v) for k, v in zip(admin0["iso_a2"], admin0["name"])} if "name" in admin0 else {}
    names.update(_SHORT_NAMES)
    if "name" in admin1:
        names.update({str(k): str(v) for k, v in zip(admin1["iso_3166_2"], admin1["name"])})
    return names


def _value_label(result: HashrateResult, value: str, names: Mapping[str, str]) -> str:
    within = tuple(result.metadata.get("within_country") or ())
    if value == "share_of_country":
        countries = within or tuple(sorted(set(result.table.loc[result.table["region"].notna(), "country"].astype(str))))
        if len(countries) == 1:
            name = names.get(countries[0], countries[0])
            return f"share of {name.removeprefix('the ')} hashrate" if name.startswith("the ") else f"share of {name}'s hashrate"
        return "share of the country's hashrate"
    if value == "share":
        return "share of global hashrate"
    return "hashrate (EH/s)"


#: Provenance columns the page shows beside the value (tooltip, data table, "Get the data" CSV).
EHS_COLUMN = "hashrate (EH/s)"
SHARE_OF_COUNTRY_COLUMN = "share of its country's hashrate"
SHARE_OF_GLOBAL_COLUMN = "share of global hashrate"


def _with_provenance(values: pd.DataFrame, table: pd.DataFrame, *, level: str, value: str) -> pd.DataFrame:
    """The other figures of each drawn row, as text: CCAF's EH/s, the share of the country or of global."""
    from capacitymap.render.classify import format_value

    if level == "country":
        rows = table[table["region"].isna() & ~table["unreported"]]
        keys = rows["country"]
    else:
        rows = table[table["region"].notna()]
        keys = rows["region"]
    extra = pd.DataFrame({"_key": keys.astype(str).to_numpy(), "_month": rows["month"].astype(str).to_numpy()})
    added = []
    for column, source, metric in ((EHS_COLUMN, "hashrate_ehs", "hashrate_ehs"),
                                   (SHARE_OF_COUNTRY_COLUMN, "share_of_country", "share"),
                                   (SHARE_OF_GLOBAL_COLUMN, "share", "share")):
        if source == value or (column == SHARE_OF_COUNTRY_COLUMN and level == "country"):
            continue
        figures = rows[source].astype(float).to_numpy()
        if not pd.notna(figures).any():
            continue
        # EH/s at CCAF's two decimals (the column name carries the unit); shares as the map shows them.
        text = ["" if f != f else (f"{f:.2f}" if metric == "hashrate_ehs" else format_value(f, metric)) for f in figures]
        extra[column] = text
        added.append(column)
    if not added or not len(values):
        return values
    key = values.columns[0]
    merged = values.merge(extra, how="left", left_on=[key, "month"], right_on=["_key", "_month"]).drop(columns=["_key", "_month"])
    for column in added:
        merged[column] = merged[column].fillna("")
    return merged


def _with_gaps(values: pd.DataFrame, names: Mapping[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Captions for months with figures for only some places (those places' others are NaN that month)."""
    if "month" not in values or values["month"].nunique() < 2:
        return values, {}
    key = values.columns[0]
    shown = values[values["value"].notna()]
    everywhere = sorted(set(shown[key].astype(str)))
    captions: dict[str, str] = {}
    extra = []
    for month in sorted(set(values["month"].astype(str))):
        here = sorted(set(shown.loc[shown["month"] == month, key].astype(str)))
        if len(here) < len(everywhere):
            listed = " and ".join(names.get(k, k) for k in here) if 0 < len(here) <= 3 else f"{len(here)} of the {len(everywhere)} places"
            captions[month] = f"{month}: figures published for {listed} only" if here else f"{month}: no figures published"
            missing = [k for k in everywhere if k not in here and not ((values["month"] == month) & (values[key] == k)).any()]
            extra += [{key: k, "value": float("nan"), "month": month} for k in missing]
        elif here and (shown.loc[shown["month"] == month, "value"] == 0).all():
            captions[month] = f"{month}: the source gives 0 for every place shown"
    if extra:
        values = pd.concat([values, pd.DataFrame(extra).astype({key: "string", "month": "string"})], ignore_index=True)
        values = values.sort_values(["month", key], kind="mergesort", ignore_index=True)
    return values, captions


def _other_values(table: pd.DataFrame, *, level: str, value: str) -> dict[str, dict[str, float]]:
    """``{month: {key: value}}`` of the unallocated remainders (``ZZ``, ``CN-ZZ``) that are not drawn."""
    from capacitymap.schema import OTHER_COUNTRY, OTHER_REGION_SUFFIX

    if level == "country":
        rows = table[table["region"].isna() & ~table["unreported"] & (table["country"] == OTHER_COUNTRY)]
        keys = rows["country"]
    else:
        rows = table[table["region"].fillna("").str.endswith(OTHER_REGION_SUFFIX)]
        keys = rows["region"]
    out: dict[str, dict[str, float]] = {}
    for m, k, v in zip(rows["month"].astype(str), keys.astype(str), rows[value].astype(float)):
        out.setdefault(m, {})[k] = v
    return out


def _other_sentences(table: pd.DataFrame, names: Mapping[str, str]) -> list[str]:
    from capacitymap.render.classify import format_value
    from capacitymap.schema import OTHER_COUNTRY, OTHER_REGION_SUFFIX

    out = []
    countries = table[table["region"].isna() & ~table["unreported"] & (table["country"] == OTHER_COUNTRY)]
    if len(countries):
        out.append("'Other' (the countries the source does not name) is kept in the totals and the data table, not drawn: "
                   + _range_text(countries["share"], format_value) + " of global hashrate.")
    regions = table[table["region"].fillna("").str.endswith(OTHER_REGION_SUFFIX)]
    for country in sorted(set(regions["country"].astype(str))):
        part = regions[regions["country"] == country]
        out.append(f"'Other' in {names.get(country, country)} (regions the source does not name) is kept in the totals, not drawn: "
                   + _range_text(part["share_of_country"], format_value) + f" of {names.get(country, country)}'s hashrate.")
    return out


def _coverage_of_regions(table: pd.DataFrame, names: Mapping[str, str]) -> list[str]:
    """A sentence per country whose listed regions (with its 'Other') cover less than all of it in some month."""
    from capacitymap.render.classify import format_value

    regions = table[table["region"].notna()]
    out = []
    for country, part in regions.groupby(regions["country"].astype(str), sort=True):
        sums = part.groupby(part["month"].astype(str))["share_of_country"].apply(lambda s: math.fsum(s.dropna().astype(float)))
        short = sums[(sums < 1 - SHARE_TOLERANCE) & (sums > 0)]
        if len(short):
            name = names.get(country, country)
            out.append(f"The regions listed cover {_range_text(short, format_value)} of {name}'s hashrate in {len(short)} month(s)"
                       " (the source's other regions were not found): the rest is not allocated to any region here.")
    return out


def _range_text(series: pd.Series, format_value) -> str:  # noqa: ANN001
    vals = series.dropna().astype(float)
    if not len(vals):
        return "no figure"
    lo, hi = float(vals.min()), float(vals.max())
    return format_value(lo, "share") if lo == hi else f"{format_value(lo, 'share')} to {format_value(hi, 'share')}"
