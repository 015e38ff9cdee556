"""The steps a user runs, from files to results: what the CLI calls and what a notebook uses.

Each function is a few lines of orchestration over the modules that do the work:
``io`` (read) → ``regions`` (resolve) → ``join`` → ``filters`` → ``summary`` / ``method`` → ``render``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from capacitymap import io
from capacitymap.errors import DataError, OptionError, Problem
from capacitymap.filters import NO_FILTERS, Area, Filters
from capacitymap.join import assign_regions
from capacitymap.method import MonthRange, VpnCorrection
from capacitymap.pipeline import (
    CapacityChange,
    Every,
    MappedFacilities,
    StepError,
    capacity_change,
    capacity_steps,
    map_facilities,
)
from capacitymap.records import Kind, Records, each_file_once, read_facilities, read_hashrate, read_network_hashrate, read_records
from capacitymap.records.facilities import duplicates_across_files
from capacitymap.regions import Gazetteer, default_gazetteer
from capacitymap.summary import By, summarize, summarize_change
from capacitymap.vocab import AVERAGES, POOL_WEIGHTINGS, Assets, Average, Engine, Level, Metric, PoolWeighting, WeightUnit

if TYPE_CHECKING:  # pragma: no cover - names in annotations only
    from capacitymap.demo import DemoMap
    from capacitymap.maps import MapLayers
    from capacitymap.pipeline import Reconciliation
    from capacitymap.render import BuiltMap, MapSpec

__all__ = [
    "HashrateOptions",
    "MonthRange",
    "VpnCorrection",
    "MadeMap",
    "map_files",
    "estimate_from_files",
    "aggregate_files",
    "Boundaries",
    "FacilitySummary",
    "ValidationReport",
    "load_facilities",
    "summarize_facilities",
    "preset_area",
    "validate",
    "list_regions",
    "demo_maps",
    "embed",
]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Boundaries:
    """The admin-1 layer to join to, the gazetteer that knows its names, and the layers maps draw.

    ``display1``/``display0`` are what maps draw: for the shipped layers, copies simplified at build time
    (joins always use the full-resolution ``admin1``).
    """

    admin1: gpd.GeoDataFrame
    gazetteer: Gazetteer
    display1: gpd.GeoDataFrame
    display0: gpd.GeoDataFrame

    @classmethod
    def shipped(cls) -> Boundaries:
        """The boundaries shipped with the package: Natural Earth admin-1 and admin-0, and their gazetteer."""
        return cls(io.read_admin1(), default_gazetteer(), io.read_admin1_web(), io.read_admin0_web())

    @classmethod
    def from_file(cls, path: PathLike, *, code_column: str, name_column: str, country: str | None = None) -> Boundaries:
        """A user's own admin-1 layer (anything GDAL reads); countries still come from the shipped admin-0."""
        admin1 = io.read_boundaries(path, code_column=code_column, name_column=name_column, country=country)
        admin0 = io.read_admin0()
        return cls(admin1, Gazetteer(admin1.drop(columns="geometry"), admin0.drop(columns="geometry")), admin1, io.read_admin0_web())


@dataclass(frozen=True)
class FacilitySummary:
    """The table, the mapped facilities it sums (with the reconciliation), and the change when one was asked for."""

    table: pd.DataFrame
    mapped: MappedFacilities
    change: CapacityChange | None = None


@dataclass(frozen=True)
class ValidationReport:
    """What checking files found: rows read, and the problems, warnings and notes, each located."""

    rows: int
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def load_facilities(
    files: PathLike | Iterable[PathLike],
    *,
    filters: Filters = NO_FILTERS,
    area: Area | None = None,
    strict: bool = False,
    skip_invalid: bool = False,
    boundaries: Boundaries | None = None,
    today: dt.date | None = None,
) -> MappedFacilities:
    """Read facility files, place them in regions, apply filters (and a map's ``area``); every row accounted for.

    Counted are the statuses in ``filters.statuses`` (operational by default) at ``filters.as_of`` (the
    newest figure of each site by default); the other statuses' rows are in ``others``, never summed.
    """
    b = boundaries or Boundaries.shipped()
    records = read_facilities(files, skip_invalid=skip_invalid, gazetteer=b.gazetteer, today=today)
    return map_facilities(records, b.admin1, gazetteer=b.gazetteer, filters=filters, area=area, strict=strict, skip_invalid=skip_invalid)


def summarize_facilities(
    files: PathLike | Iterable[PathLike],
    *,
    by: By = "region",
    change: tuple[str, str] | None = None,
    filters: Filters = NO_FILTERS,
    strict: bool = False,
    skip_invalid: bool = False,
    boundaries: Boundaries | None = None,
    today: dt.date | None = None,
) -> FacilitySummary:
    """Totals by region, operator or country of the counted facilities, one column per status.

    With ``change=(FROM, TO)``: the change in counted capacity between the two dates instead.
    """
    b = boundaries or Boundaries.shipped()
    mapped = load_facilities(files, filters=filters, strict=strict, skip_invalid=skip_invalid, boundaries=b, today=today)
    if change is not None:
        result = capacity_change(mapped, *change, gazetteer=b.gazetteer)
        return FacilitySummary(summarize_change(result.at_start, result.at_end, result.facilities, by=by), result.mapped, result)
    return FacilitySummary(summarize(mapped.facilities, by=by, others=mapped.others), mapped)


def preset_area(preset: object) -> Area | None:
    """What a preset covers, as the facilities filter ``outside this map`` applies it (None: everything)."""
    from capacitymap.render.spec import resolve_preset

    p = resolve_preset(preset)  # type: ignore[arg-type]
    if p.countries is not None:
        return Area(p.label, countries=p.countries)
    if p.name == "world":
        return None
    return Area(p.label, bbox=(p.bbox.west, p.bbox.south, p.bbox.east, p.bbox.north))


def validate(
    files: Iterable[PathLike], *, kind: Kind | None = None, strict: bool = False, boundaries: Boundaries | None = None,
    today: dt.date | None = None,
) -> ValidationReport:
    """Every problem in every file (reading, resolving and placing), without stopping at the first."""
    b = boundaries or Boundaries.shipped()
    warnings: list[Problem] = []
    notes: list[Problem] = []
    rows = 0
    facility_files: list[Records] = []
    unique, problems = each_file_once(files)
    for path in unique:
        try:
            parsed = read_records([path], kind=kind, skip_invalid=True, gazetteer=b.gazetteer, today=today)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        for this_kind, records in parsed.items():
            rows += records.rows_read
            problems.extend(records.problems)
            notes.extend(records.notes)
            if this_kind == "facilities" and len(records.frame):
                facility_files.append(records)
                joined = assign_regions(records.frame, b.admin1, strict=strict)
                problems.extend(p for ps in joined.problems.values() for p in ps)
                warnings.extend(joined.warnings)
            if this_kind == "hashrate" and len(records.frame):
                problems.extend(_method_problems(records.frame, b, path))
    try:  # the same site in two files would be counted twice when they are mapped together
        duplicates_across_files(facility_files)
    except DataError as exc:
        problems.extend(exc.problems)
    problems.sort(key=lambda p: (p.file, p.line or 0, p.column or ""))
    return ValidationReport(rows=rows, problems=problems, warnings=warnings, notes=notes)


def _method_problems(frame: pd.DataFrame, b: Boundaries, path: PathLike) -> list[Problem]:
    """What ``render``/``hashrate`` would refuse in readable records: the method run with default options."""
    from capacitymap.errors import CapacityMapError

    try:
        _estimate(frame, HashrateOptions(), b, level="admin1", today=None)
    except DataError as exc:
        return list(exc.problems)
    except CapacityMapError as exc:
        return [Problem(str(path), None, None, f"{exc} (render and hashrate would stop here)")]
    return []


def list_regions(country: str | None = None, *, boundaries: Boundaries | None = None) -> pd.DataFrame:
    """Canonical admin-1 codes and names (of one country, if given)."""
    b = boundaries or Boundaries.shipped()
    code = b.gazetteer.country(country).code if country else None
    frame = b.admin1.drop(columns="geometry")
    if code:
        frame = frame[frame["iso_a2"] == code]
    cols = ["iso_3166_2", "iso_a2", "name", "name_local", "alias_code"]
    return frame[cols].sort_values("iso_3166_2", ignore_index=True)


@dataclass(frozen=True)
class HashrateOptions:
    """The hashrate method's choices, typed: the command line parses its strings into these.

    ``vpn_corrections``: :class:`~capacitymap.method.VpnCorrection` values (the region as any code the
    gazetteer knows); ``months``: a :class:`~capacitymap.method.MonthRange` (or ``(first, last)``);
    ``average``: ``plain`` or ``weighted``; ``pool_weighting``: ``hashrate`` (CCAF) or ``equal`` (an
    explicit assumption, recorded in the result).
    """

    network_hashrate: PathLike | None = None
    vpn_corrections: tuple[VpnCorrection, ...] = ()
    month: str | None = None
    months: MonthRange | tuple[str, str] | None = None
    average: Average | None = None
    pool_weighting: PoolWeighting = "hashrate"

    def __post_init__(self) -> None:
        bad = [c for c in self.vpn_corrections if not isinstance(c, VpnCorrection)]
        if isinstance(self.vpn_corrections, str) or bad:
            raise OptionError(f"HashrateOptions.vpn_corrections: expected VpnCorrection values, got {self.vpn_corrections!r}; "
                              "write e.g. (VpnCorrection('BTC.com', 'CN-ZJ'),)")
        if self.months is not None and not isinstance(self.months, MonthRange):
            if isinstance(self.months, str) or len(tuple(self.months)) != 2:
                raise OptionError(f"HashrateOptions.months: expected MonthRange(first, last), got {self.months!r}; "
                                  "write e.g. MonthRange('2020-01', '2020-03')")
            object.__setattr__(self, "months", MonthRange(*self.months))
        object.__setattr__(self, "vpn_corrections", tuple(self.vpn_corrections))
        if self.average is not None and self.average not in AVERAGES:
            raise OptionError(f"HashrateOptions.average: expected one of {AVERAGES!r} or None, got {self.average!r}")
        if self.pool_weighting not in POOL_WEIGHTINGS:
            raise OptionError(f"HashrateOptions.pool_weighting: expected one of {POOL_WEIGHTINGS!r}, got {self.pool_weighting!r}")


def estimate_from_files(
    files: PathLike | Iterable[PathLike],
    *,
    level: Level = "country",
    options: HashrateOptions = HashrateOptions(),
    skip_invalid: bool = False,
    boundaries: Boundaries | None = None,
    today: dt.date | None = None,
):  # noqa: ANN201 - HashrateResult
    """Read pool hashrate files and run the method (aggregation, extrapolation, VPN correction, window).

    With ``skip_invalid`` the rows left out are listed in the result's metadata (``rows_read``,
    ``rejected``: one ``FILE:LINE:COLUMN: message`` per problem), never dropped silently.
    """
    b = boundaries or Boundaries.shipped()
    records = read_hashrate(files, skip_invalid=skip_invalid, gazetteer=b.gazetteer, today=today)
    return _with_rejections(_estimate(records.frame, options, b, level=level, today=today), records)


def _with_rejections(result, records: Records):  # noqa: ANN001, ANN202
    """The result with the rows read and the rows left out (``--skip-invalid``) in its metadata."""
    from dataclasses import replace
    from types import MappingProxyType

    meta = dict(result.metadata)
    meta["rows_read"] = records.rows_read
    meta["rejected"] = tuple(str(p) for p in records.problems)
    meta["rejected_rows"] = len(records.rejected)
    by_reason: dict[str, int] = {}
    for p in records.problems:  # e.g. one misspelt name on every month's row: counted once, by name
        reason = f"{p.column}: {p.message}" if p.column else p.message
        by_reason[reason] = by_reason.get(reason, 0) + 1
    meta["rejected_by_reason"] = by_reason
    meta["notes"] = tuple(str(n) for n in records.notes)
    return replace(result, metadata=MappingProxyType(meta))


def _estimate(records: pd.DataFrame, options: HashrateOptions, b: Boundaries, *, level: Level, today: dt.date | None):  # noqa: ANN202
    """Run the method with ``options`` (the regions of VPN corrections resolved by the gazetteer)."""
    from dataclasses import replace

    from capacitymap.method import estimate_hashrate

    network = read_network_hashrate(options.network_hashrate, today=today) if options.network_hashrate else None
    corrections = [replace(c, region=b.gazetteer.region(c.region).code) for c in options.vpn_corrections]
    return estimate_hashrate(
        records, network_hashrate=network, admin1=b.admin1, vpn_corrections=corrections,
        month=options.month, months=options.months, average=options.average, level=level,
        pool_weighting=options.pool_weighting, validated=True,
    )


@dataclass(frozen=True)
class MadeMap:
    """A map made from files: its spec and layers, what to tell the reader, and the map built from them.

    ``built`` (built on first use by :func:`capacitymap.maps.make_map`) gives the page, the still and the
    alt text from one object: ``built.html()``, ``built.still(fmt="png")``, ``built.alt``.
    """

    spec: MapSpec
    layers: MapLayers
    warnings: list[Problem]
    reconciliation: Reconciliation | None

    @cached_property
    def built(self) -> BuiltMap:
        """The map, built once (its spec's blanks filled from the layers)."""
        from capacitymap.maps import make_map

        return make_map(self.spec, self.layers)


def map_files(
    files: Iterable[PathLike],
    spec: MapSpec,
    *,
    kind: Kind | None = None,
    metric: Metric | None = None,
    filters: Filters = NO_FILTERS,
    strict: bool = False,
    skip_invalid: bool = False,
    boundaries: Boundaries | None = None,
    hashrate: HashrateOptions = HashrateOptions(),
    every: Every | None = None,
    change: tuple[str, str] | None = None,
    today: dt.date | None = None,
) -> MadeMap:
    """Make the map of FILES: a capacity map, a hashrate map, or a hashrate map with facility markers.

    Facility files make a capacity map with markers; hashrate files a share (or EH/s) map; both, a
    hashrate map with the facilities as markers.

    A capacity map counts ``filters.statuses`` (operational by default) and shows the other pipeline
    statuses apart; facilities outside the preset's area are left out under their own reconciliation line.
    ``every`` (``"month"`` or ``"quarter"``) gives it a slider of capacity at every step from the first to the
    last dated figure; ``change=(FROM, TO)`` draws the change between two dates; ``hashrate.month`` on a
    capacity map draws that date. The map is built once (:func:`capacitymap.maps.make_map`): its page, its
    still and its alt text all come from ``MadeMap.built``.
    """
    return MadeMap(*_map_layers(files, spec, kind=kind, metric=metric, filters=filters, strict=strict, skip_invalid=skip_invalid,
                                boundaries=boundaries, hashrate=hashrate, every=every, change=change, today=today))


def _map_layers(files: Iterable[PathLike], spec: MapSpec, *, kind: Kind | None, metric: Metric | None, filters: Filters, strict: bool,
                skip_invalid: bool, boundaries: Boundaries | None, hashrate: HashrateOptions, every: Every | None,
                change: tuple[str, str] | None, today: dt.date | None) -> tuple[MapSpec, MapLayers, list[Problem], Reconciliation | None]:
    """The spec (its metric settled), the layers, the warnings and the reconciliation of :func:`map_files`."""
    from dataclasses import replace

    from capacitymap.maps import capacity_layers, hashrate_layers, preset_level

    b = boundaries or Boundaries.shipped()
    parsed = read_records(files, kind=kind, skip_invalid=skip_invalid, gazetteer=b.gazetteer, today=today)
    mapped = None
    warnings: list[Problem] = []
    capacity_only = "hashrate" not in parsed
    if capacity_only and hashrate.month:
        if filters.as_of and filters.as_of != hashrate.month:
            raise DataError(Problem("<options>", None, None, f"expected one date, got --month {hashrate.month} and --as-of {filters.as_of}; give one"))
        filters = replace(filters, as_of=hashrate.month)
    if "facilities" in parsed:
        mapped = map_facilities(parsed["facilities"], b.admin1, gazetteer=b.gazetteer, filters=filters, area=preset_area(spec.preset),
                                strict=strict, skip_invalid=skip_invalid)
        warnings = mapped.warnings
    if capacity_only:
        if mapped is None:
            raise DataError(Problem("<files>", None, None, "expected at least one facility or hashrate file, got none"))
        if change is not None:
            result = capacity_change(mapped, *change, gazetteer=b.gazetteer)
            layers = capacity_layers(mapped, b.display1, change=result)
            return replace(spec, metric=metric or "capacity_change_mw"), layers, warnings, result.mapped.reconciliation
        if every is not None:
            steps = capacity_steps(mapped, gazetteer=b.gazetteer, every=every)
            return (replace(spec, metric=metric or "capacity_mw"), capacity_layers(mapped, b.display1, steps=steps),
                    warnings, steps.last.reconciliation)
        return replace(spec, metric=metric or "capacity_mw"), capacity_layers(mapped, b.display1), warnings, mapped.reconciliation
    if every is not None or change is not None:
        raise StepError("expected facility files only with --by-month, --by-quarter or --change (capacity over time), got "
                        "hashrate files too; hashrate maps step by the months of their records: use --month/--months")
    level = preset_level(spec.preset)
    result = _with_rejections(_estimate(parsed["hashrate"].frame, hashrate, b, level=level, today=today), parsed["hashrate"])
    warnings = warnings + list(parsed["hashrate"].problems)
    chosen = metric or ("hashrate_ehs" if hashrate.network_hashrate else "share")
    value = chosen
    if chosen == "share" and result.metadata.get("scope") == "country":
        value = "share_of_country"  # a region download alone: shares of the country, labelled so
    layers = hashrate_layers(result, admin1=b.display1, admin0=b.display0, level=level, value=value,
                             facilities=mapped.facilities if mapped is not None else None)
    return replace(spec, metric=chosen), layers, warnings, mapped.reconciliation if mapped is not None else None


def aggregate_files(
    points: Iterable[PathLike],
    *,
    weight: str,
    weight_unit: WeightUnit = "TH/s",
    level: Level = "admin1",
    by: tuple[str, ...] = (),
    engine: Engine = "incore",
    scheduler: str | None = None,
    quiet: bool = True,
):  # noqa: ANN201 - (DataFrame, AggregateReport)
    """Sum point records to regions with the in-core or Dask engine.

    The options are checked before any file is read (:class:`~capacitymap.errors.OptionError`);
    file and row problems are :class:`~capacitymap.errors.DataError` s naming file, line and column.
    """
    from capacitymap.aggregate import aggregate, check_options
    from capacitymap.io.points import open_points

    check_options(weight, by, weight_unit)
    source = open_points(list(points), weight=weight, by=by)
    return aggregate(source, io.read_admin1(), io.read_admin0(), level=level, engine=engine,
                     weight_unit=weight_unit, scheduler=scheduler, quiet=quiet)


def demo_maps(*, assets: Assets = "inline") -> list[DemoMap]:
    """The default maps from the shipped ``data/`` (what ``capacitymap demo`` writes), each built on first use.

    ``item.built.html()`` is a map's page and ``item.built.still(fmt="png")`` its still.
    """
    from capacitymap.demo import demo_maps as default_maps

    return default_maps(assets=assets)


def embed(page_url: str, *, title: str, height_px: int = 600) -> str:
    """A responsive snippet that embeds the page at ``page_url`` (http(s) or a relative path) in an article."""
    from capacitymap.export.embed import responsive_embed

    return responsive_embed(page_url, title=title, height_px=height_px)
