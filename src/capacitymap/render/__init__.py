"""Publication-grade layered Folium maps: presets, classification, layers, deterministic HTML."""

from capacitymap.render.classify import Classes, classify, format_value
from capacitymap.render.spec import PRESETS, BBox, MapSpec, MapSpecError, Preset

__all__ = ["MapSpec", "BBox", "Preset", "PRESETS", "MapSpecError", "Classes", "classify", "format_value"]
