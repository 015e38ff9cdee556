"""What a map shows: :class:`MapSpec` (frozen) and the named view :data:`PRESETS`.

A spec holds only presentation choices; data travels separately into :func:`build_map`.
``share`` values are fractions in [0, 1] in code and shown as percentages on the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from capacitymap.errors import MapSpecError
from capacitymap.vocab import (
    ASSETS,
    MARKER_COLOURS,
    METRIC_LABELS,
    METRIC_UNITS,
    METRICS,
    PRESET_NAMES,
    SCHEMES,
    Assets,
    Level,
    MarkerColour,
    Metric,
    PresetName,
    Scheme,
)

__all__ = [
    "MapSpec",
    "BBox",
    "Preset",
    "PRESETS",
    "PresetName",
    "PRESET_NAMES",
    "Level",
    "Metric",
    "METRICS",
    "METRIC_UNITS",
    "METRIC_LABELS",
    "Scheme",
    "SCHEMES",
    "MarkerColour",
    "MARKER_COLOURS",
    "Assets",
    "ASSETS",
    "TILES",
    "ADDITIVE_METRICS",
    "tile_source",
    "MapSpecError",
    "resolve_preset",
]

#: Metrics whose region values add up to a meaningful map total ("share of map total" makes sense).
ADDITIVE_METRICS: Final[frozenset[str]] = frozenset({"capacity_mw", "hashrate_ehs"})

#: Named background tile layers (CDN mode only; the default background is drawn from Natural Earth).
TILES: Final[dict[str, tuple[str, str]]] = {
    "carto-light": (
        "https://{s}.basemaps.cartocdn.com/light_nolabels/{z}/{x}/{y}{r}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors '
        '&copy; <a href="https://carto.com/attributions">CARTO</a>',
    ),
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    ),
}


@dataclass(frozen=True, slots=True)
class BBox:
    """A custom view: longitudes ``west``..``east`` and latitudes ``south``..``north`` in degrees WGS84."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        vals = (self.west, self.south, self.east, self.north)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals):
            raise MapSpecError(f"BBox: expected four finite numbers (west, south, east, north), got {vals!r}")
        if not (-180 <= self.west < self.east <= 180):
            raise MapSpecError(
                f"BBox: expected -180 <= west < east <= 180 (degrees longitude), got west={self.west!r}, "
                f"east={self.east!r}; give longitudes in WGS84 with west first"
            )
        if not (-90 <= self.south < self.north <= 90):
            raise MapSpecError(
                f"BBox: expected -90 <= south < north <= 90 (degrees latitude), got south={self.south!r}, "
                f"north={self.north!r}; give latitudes in WGS84 with south first"
            )

    @property
    def bounds(self) -> list[list[float]]:
        """Leaflet ``[[south, west], [north, east]]``."""
        return [[self.south, self.west], [self.north, self.east]]


@dataclass(frozen=True, slots=True)
class Preset:
    """A named view: which regions to keep and where to look."""

    name: str
    label: str
    level: Level | None  # None: whatever layer is given (custom bbox)
    countries: tuple[str, ...] | None  # ISO alpha-2 kept; None = all
    bbox: BBox
    min_zoom: int = 1


PRESETS: Final[dict[str, Preset]] = {
    "north-america": Preset(
        "north-america", "United States, Canada and Mexico", "admin1", ("CA", "MX", "US"),
        BBox(-168.0, 14.0, -52.0, 72.0),
    ),
    "us": Preset("us", "United States", "admin1", ("US",), BBox(-125.0, 24.0, -66.5, 49.5)),
    "canada": Preset("canada", "Canada", "admin1", ("CA",), BBox(-141.0, 41.5, -52.5, 70.0)),
    "china": Preset("china", "China", "admin1", ("CN",), BBox(73.5, 18.0, 135.0, 53.5)),
    "world": Preset("world", "World", "country", None, BBox(-170.0, -56.0, 180.0, 78.0)),
}


def resolve_preset(preset: str | BBox) -> Preset:
    """The :class:`Preset` for a name or a custom :class:`BBox`."""
    if isinstance(preset, BBox):
        return Preset("custom", "Custom area", None, None, preset)
    if isinstance(preset, str) and preset in PRESETS:
        return PRESETS[preset]
    raise MapSpecError(
        f"preset: expected one of {list(PRESETS)!r} or a BBox(west, south, east, north), got {preset!r}"
    )


@dataclass(frozen=True, slots=True)
class MapSpec:
    """Presentation choices for one map. Frozen; validated on construction.

    ``bins`` (upper class bounds, strictly increasing) are required by ``scheme="user_bins"`` and
    refused by the other schemes. ``k`` is the number of classes (2..9) for the other schemes.
    """

    preset: str | BBox = "north-america"
    title: str = ""
    subtitle: str = ""
    credit: str = ""
    coverage_note: str = ""
    metric: Metric = "capacity_mw"
    scheme: Scheme = "quantiles"
    k: int = 5
    bins: tuple[float, ...] | None = None
    marker_colour: MarkerColour = "operator"
    assets: Assets = "inline"
    tiles: str | None = None  # None: no tiles; a TILES name or an https URL template (CDN mode only)
    step: str | None = None  # the slider step the page opens on (default: the last)

    def __post_init__(self) -> None:
        resolve_preset(self.preset)
        if self.step is not None and not isinstance(self.step, str):
            raise MapSpecError(f"MapSpec.step: expected a step such as '2020-04', got {self.step!r}")
        for name in ("title", "subtitle", "credit", "coverage_note"):
            if not isinstance(getattr(self, name), str):
                raise MapSpecError(f"MapSpec.{name}: expected text, got {getattr(self, name)!r}")
        _choice("metric", self.metric, METRICS)
        _choice("scheme", self.scheme, SCHEMES)
        _choice("marker_colour", self.marker_colour, MARKER_COLOURS)
        _choice("assets", self.assets, ASSETS)
        if self.tiles is not None:
            _check_tiles(self.tiles, self.assets)
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 2 <= self.k <= 9:
            raise MapSpecError(f"MapSpec.k: expected a whole number of classes from 2 to 9, got {self.k!r}")
        if self.scheme == "user_bins":
            if self.bins is None or len(self.bins) == 0:
                raise MapSpecError(
                    f"MapSpec.bins: scheme 'user_bins' needs bins (upper class bounds), got {self.bins!r}; "
                    "give e.g. bins=(10, 100, 500)"
                )
            bins = tuple(self.bins)
            if not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bins):
                raise MapSpecError(f"MapSpec.bins: expected finite numbers, got {bins!r}")
            if any(b >= c for b, c in zip(bins, bins[1:])) or len(bins) > 9:
                raise MapSpecError(
                    f"MapSpec.bins: expected 1 to 9 strictly increasing upper bounds, got {bins!r}; sort them and drop repeats"
                )
            object.__setattr__(self, "bins", tuple(float(b) for b in bins))
        elif self.bins is not None:
            raise MapSpecError(
                f"MapSpec.bins: bins are used only with scheme='user_bins', got scheme={self.scheme!r} and "
                f"bins={self.bins!r}; set scheme='user_bins' or drop bins"
            )

    @property
    def unit(self) -> str:
        """The unit of the map's metric: ``MW``, ``EH/s``, ``%`` or ``+/- MW``."""
        return METRIC_UNITS[self.metric]


def tile_source(tiles: str) -> tuple[str, str]:
    """``(url_template, attribution_html)`` of a :data:`TILES` name or a user's https URL template."""
    if tiles in TILES:
        return TILES[tiles]
    return tiles, "Tiles: " + tiles.split("/")[2].replace("&", "&amp;").replace("<", "&lt;")


def _check_tiles(tiles: object, assets: str) -> None:
    if not isinstance(tiles, str) or not (
        tiles in TILES or (tiles.startswith("https://") and "{z}" in tiles and "{x}" in tiles and "{y}" in tiles
                           and not any(c in tiles for c in "\"'<>` "))
    ):
        raise MapSpecError(
            f"MapSpec.tiles: expected one of {list(TILES)!r} or an https URL template with {{z}}, {{x}} and {{y}}, "
            f"got {tiles!r}"
        )
    if assets != "cdn":
        raise MapSpecError(
            f"MapSpec.tiles: tiles are fetched from a server, so they need assets='cdn', got assets={assets!r}; "
            "use --cdn with --tiles, or drop --tiles for a self-contained page"
        )


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise MapSpecError(f"MapSpec.{name}: expected one of {list(choices)!r}, got {value!r}")
