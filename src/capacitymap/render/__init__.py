"""Publication-grade layered Folium maps: presets, classification, layers, deterministic HTML."""

from capacitymap.render.build import BuiltMap, build_map, render_html
from capacitymap.render.classify import Classes, classify, format_value
from capacitymap.render.describe import describe
from capacitymap.render.ids import deterministic_ids
from capacitymap.render.spec import PRESETS, BBox, MapSpec, MapSpecError, Preset

__all__ = [
    "MapSpec",
    "BBox",
    "Preset",
    "PRESETS",
    "MapSpecError",
    "BuiltMap",
    "build_map",
    "render_html",
    "describe",
    "deterministic_ids",
    "Classes",
    "classify",
    "format_value",
]
