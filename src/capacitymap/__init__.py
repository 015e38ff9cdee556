"""capacitymap: maps of bitcoin mining power capacity and pool hashrate by state, province and country.

The public API, in the order data flows: read → resolve regions → join → method → layers → render.
"""

from capacitymap.api import (
    Boundaries,
    HashrateOptions,
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
from capacitymap.io import read_admin0, read_admin1, read_boundaries, read_facilities, read_hashrate, read_network_hashrate
from capacitymap.join import assign_regions
from capacitymap.maps import MapLayers, capacity_layers, hashrate_layers, make_map, make_still
from capacitymap.method import estimate_hashrate
from capacitymap.pipeline import MappedFacilities, Reconciliation, map_facilities
from capacitymap.regions import Gazetteer, default_gazetteer
from capacitymap.render import BBox, MapSpec, build_map, describe, render_html
from capacitymap.summary import summarize

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
    "make_still",
    "build_map",
    "render_html",
    "describe",
    # from files, as the CLI runs them
    "Boundaries",
    "HashrateOptions",
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
