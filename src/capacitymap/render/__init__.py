"""Publication-grade map pages on Leaflet alone: presets, classification, layers, deterministic HTML.

Names load on first use (PEP 562): ``render.spec``'s vocabulary is importable without folium.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from capacitymap._lazy import lazy_names

_HOME = {
    "BuiltMap": "capacitymap.render.build",
    "build_map": "capacitymap.render.build",
    "render_html": "capacitymap.render.build",
    "Classes": "capacitymap.render.classify",
    "classify": "capacitymap.render.classify",
    "format_value": "capacitymap.render.classify",
    "describe": "capacitymap.render.describe",
    "PRESETS": "capacitymap.render.spec",
    "BBox": "capacitymap.render.spec",
    "MapSpec": "capacitymap.render.spec",
    "MapSpecError": "capacitymap.render.spec",
    "Preset": "capacitymap.render.spec",
}

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
    "Classes",
    "classify",
    "format_value",
]


__getattr__, __dir__ = lazy_names(__name__, _HOME)


class _Package(types.ModuleType):
    # Importing the submodule ``render.describe`` binds it over the function of the same name; keep the function.
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOME and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
