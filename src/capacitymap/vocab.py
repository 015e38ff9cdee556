"""The project's vocabulary: every choice spelled one way, and the words maps and tables show.

Each ``Literal`` here is the one definition of a choice; its tuple (``typing.get_args``) is what the
command line offers and what the library checks against. Modules import from here and re-export
where their public API names a choice. This module imports nothing but ``typing``: the command line
loads it at start-up.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = [
    "Level", "LEVELS",
    "Status", "STATUSES", "STATUS_LABELS", "status_phrase",
    "ShareOf", "SHARE_OFS",
    "Metric", "METRICS", "METRIC_UNITS", "METRIC_LABELS",
    "HashrateValue", "HASHRATE_VALUES",
    "Scheme", "SCHEMES",
    "PresetName", "PRESET_NAMES",
    "MarkerColour", "MARKER_COLOURS",
    "Assets", "ASSETS",
    "MapFormat", "MAP_FORMATS", "StillFormat", "STILL_FORMATS", "TableFormat", "TABLE_FORMATS",
    "By", "BY",
    "Every", "EVERY",
    "Average", "AVERAGES",
    "VpnVariant", "VPN_VARIANTS",
    "PoolWeighting", "POOL_WEIGHTINGS",
    "Engine", "ENGINES",
    "WeightUnit", "WEIGHT_UNITS",
    "Kind", "KINDS",
    "PointFormat", "POINT_FORMATS",
]

# --- places -----------------------------------------------------------------------------------------

#: ``country``: countries keyed by ISO alpha-2 (``iso_a2``, the admin-0 layer); ``admin1``: states and
#: provinces keyed by ``iso_3166_2``. The method's ``--level``, aggregation's and the maps' level alike.
Level = Literal["country", "admin1"]
LEVELS: Final[tuple[str, ...]] = get_args(Level)

#: Named map views (``render.spec.PRESETS`` holds what each shows).
PresetName = Literal["north-america", "china", "world", "us", "canada"]
PRESET_NAMES: Final[tuple[str, ...]] = get_args(PresetName)

# --- records ----------------------------------------------------------------------------------------

#: A facility's status; ``operational`` is what maps and summaries count by default.
Status = Literal["operational", "under_construction", "planned", "curtailed", "closed"]
STATUSES: Final[tuple[str, ...]] = get_args(Status)
#: How titles, legends and notes write each status.
STATUS_LABELS: Final[dict[str, str]] = {"operational": "operational", "under_construction": "under construction",
                                        "planned": "planned", "curtailed": "curtailed", "closed": "closed"}


def status_phrase(statuses: tuple[str, ...] | list[str]) -> str:
    """``("operational", "under_construction")`` -> ``"operational + under construction"``.

    How titles, legends and tables name the statuses counted.
    """
    return " + ".join(STATUS_LABELS.get(s, s.replace("_", " ")) for s in statuses)


#: What a hashrate record's ``share`` is a fraction of: the pool's worldwide hashrate, or its hashrate in that country.
ShareOf = Literal["global", "country"]
SHARE_OFS: Final[tuple[str, ...]] = get_args(ShareOf)

#: The kinds of record file (``--kind``).
Kind = Literal["facilities", "hashrate"]
KINDS: Final[tuple[str, ...]] = get_args(Kind)

#: Point files ``aggregate`` reads.
PointFormat = Literal["parquet", "csv"]
POINT_FORMATS: Final[tuple[str, ...]] = get_args(PointFormat)

# --- what a map shows -------------------------------------------------------------------------------

Metric = Literal["capacity_mw", "hashrate_ehs", "share", "capacity_change_mw"]
METRICS: Final[tuple[str, ...]] = get_args(Metric)
#: Units as the map shows them (``share`` is a fraction in code, a percentage on the map).
METRIC_UNITS: Final[dict[str, str]] = {"capacity_mw": "MW", "hashrate_ehs": "EH/s", "share": "%",
                                       "capacity_change_mw": "+/- MW"}
#: What each metric is called in legends, tables, charts and stills (one wording everywhere).
METRIC_LABELS: Final[dict[str, str]] = {"capacity_mw": "Capacity", "hashrate_ehs": "Hashrate", "share": "Share of hashrate",
                                        "capacity_change_mw": "Change in capacity"}

#: The column of the hashrate method's result a map draws: the share of global hashrate, the share of the
#: country's hashrate, or EH/s.
HashrateValue = Literal["share", "share_of_country", "hashrate_ehs"]
HASHRATE_VALUES: Final[tuple[str, ...]] = get_args(HashrateValue)

#: Classification schemes (mapclassify): Quantiles, FisherJenks, EqualInterval, UserDefined (``bins``).
Scheme = Literal["quantiles", "natural_breaks", "equal_interval", "user_bins"]
SCHEMES: Final[tuple[str, ...]] = get_args(Scheme)

#: What colours the facility markers.
MarkerColour = Literal["operator", "status"]
MARKER_COLOURS: Final[tuple[str, ...]] = get_args(MarkerColour)

#: ``inline`` (default): everything inlined, no network at all; ``cdn``: Leaflet linked from a CDN.
Assets = Literal["cdn", "inline"]
ASSETS: Final[tuple[str, ...]] = get_args(Assets)

# --- outputs ----------------------------------------------------------------------------------------

#: A map's output: the page, or a still.
MapFormat = Literal["html", "png", "svg"]
MAP_FORMATS: Final[tuple[str, ...]] = get_args(MapFormat)
#: A still image (matplotlib).
StillFormat = Literal["png", "svg"]
STILL_FORMATS: Final[tuple[str, ...]] = get_args(StillFormat)
#: How ``summary`` and ``hashrate`` print their table.
TableFormat = Literal["table", "csv", "json"]
TABLE_FORMATS: Final[tuple[str, ...]] = get_args(TableFormat)

# --- steps ------------------------------------------------------------------------------------------

#: What a facility summary is totalled by.
By = Literal["region", "operator", "country"]
BY: Final[tuple[str, ...]] = get_args(By)

#: The steps of a capacity slider.
Every = Literal["month", "quarter"]
EVERY: Final[tuple[str, ...]] = get_args(Every)

#: How the hashrate method averages a range of months (weighted by network hashrate).
Average = Literal["plain", "weighted"]
AVERAGES: Final[tuple[str, ...]] = get_args(Average)

#: VPN-correction variants: CCAF's later method (``proportional``) and its first (``neighbours``).
VpnVariant = Literal["proportional", "neighbours"]
VPN_VARIANTS: Final[tuple[str, ...]] = get_args(VpnVariant)

#: How pools are weighted when aggregated: by their hashrate (CCAF), or equally (an explicit
#: assumption for when pool hashrates are unknown; recorded in the result's metadata).
PoolWeighting = Literal["hashrate", "equal"]
POOL_WEIGHTINGS: Final[tuple[str, ...]] = get_args(PoolWeighting)

#: Where ``aggregate`` sums points: in this process, or on Dask.
Engine = Literal["incore", "dask"]
ENGINES: Final[tuple[str, ...]] = get_args(Engine)

#: The unit of a point's weight column.
WeightUnit = Literal["H/s", "TH/s", "PH/s", "EH/s"]
WEIGHT_UNITS: Final[tuple[str, ...]] = get_args(WeightUnit)
