"""capacitymap: maps of bitcoin mining power capacity and pool hashrate by state, province and country.

The public API, in the order data flows: read → resolve regions → join → method → layers → render.
Names load on first use (PEP 562), so ``capacitymap --help`` and ``validate`` never import the map stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from capacitymap._lazy import lazy_names

#: Where each public name lives.
_HOME = {
    "Boundaries": "capacitymap.api",
    "HashrateOptions": "capacitymap.api",
    "MonthRange": "capacitymap.api",
    "VpnCorrection": "capacitymap.api",
    "aggregate_files": "capacitymap.api",
    "estimate_from_files": "capacitymap.api",
    "list_regions": "capacitymap.api",
    "load_facilities": "capacitymap.api",
    "map_files": "capacitymap.api",
    "summarize_facilities": "capacitymap.api",
    "validate": "capacitymap.api",
    "AmbiguousRegionError": "capacitymap.errors",
    "CapacityMapError": "capacitymap.errors",
    "DataError": "capacitymap.errors",
    "Problem": "capacitymap.errors",
    "RegionError": "capacitymap.errors",
    "UnknownRegionError": "capacitymap.errors",
    "Filters": "capacitymap.filters",
    "read_admin0": "capacitymap.io",
    "read_admin1": "capacitymap.io",
    "read_boundaries": "capacitymap.io",
    "assign_regions": "capacitymap.join",
    "MapLayers": "capacitymap.maps",
    "capacity_layers": "capacitymap.maps",
    "hashrate_layers": "capacitymap.maps",
    "make_map": "capacitymap.maps",
    "estimate_hashrate": "capacitymap.method",
    "MappedFacilities": "capacitymap.pipeline",
    "Reconciliation": "capacitymap.pipeline",
    "map_facilities": "capacitymap.pipeline",
    "read_facilities": "capacitymap.records",
    "read_hashrate": "capacitymap.records",
    "read_network_hashrate": "capacitymap.records",
    "Gazetteer": "capacitymap.regions",
    "default_gazetteer": "capacitymap.regions",
    "BBox": "capacitymap.render",
    "MapSpec": "capacitymap.render",
    "build_map": "capacitymap.render",
    "describe": "capacitymap.render",
    "render_html": "capacitymap.render",
    "summarize": "capacitymap.summary",
}

__all__ = [
    # read
    "read_facilities",
    "read_hashrate",
    "read_network_hashrate",
    "read_admin1",
    "read_admin0",
    "read_boundaries",
    # resolve and join
    "Gazetteer",
    "default_gazetteer",
    "assign_regions",
    "map_facilities",
    "MappedFacilities",
    "Reconciliation",
    "Filters",
    "summarize",
    # method
    "estimate_hashrate",
    # layers and render
    "MapSpec",
    "BBox",
    "MapLayers",
    "capacity_layers",
    "hashrate_layers",
    "make_map",
    "build_map",
    "render_html",
    "describe",
    # from files, as the CLI runs them
    "Boundaries",
    "HashrateOptions",
    "MonthRange",
    "VpnCorrection",
    "load_facilities",
    "summarize_facilities",
    "validate",
    "list_regions",
    "map_files",
    "estimate_from_files",
    "aggregate_files",
    # errors
    "CapacityMapError",
    "DataError",
    "Problem",
    "RegionError",
    "UnknownRegionError",
    "AmbiguousRegionError",
]


__getattr__, __dir__ = lazy_names(__name__, _HOME)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from capacitymap.api import (
        Boundaries,
        HashrateOptions,
        MonthRange,
        VpnCorrection,
        aggregate_files,
        estimate_from_files,
        list_regions,
        load_facilities,
        map_files,
        summarize_facilities,
        validate,
    )
    from capacitymap.errors import (
        AmbiguousRegionError,
        CapacityMapError,
        DataError,
        Problem,
        RegionError,
        UnknownRegionError,
    )
    from capacitymap.filters import Filters
    from capacitymap.io import read_admin0, read_admin1, read_boundaries
    from capacitymap.join import assign_regions
    from capacitymap.maps import MapLayers, capacity_layers, hashrate_layers, make_map
    from capacitymap.method import estimate_hashrate
    from capacitymap.pipeline import MappedFacilities, Reconciliation, map_facilities
    from capacitymap.records import read_facilities, read_hashrate, read_network_hashrate
    from capacitymap.regions import Gazetteer, default_gazetteer
    from capacitymap.render import BBox, MapSpec, build_map, describe, render_html
    from capacitymap.summary import summarize
