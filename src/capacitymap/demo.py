"""The default maps, from the datasets shipped in ``data/`` (what ``capacitymap demo`` renders)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capacitymap import api, io
from capacitymap._resources import data_dir
from capacitymap.filters import Filters
from capacitymap.maps import MapLayers, capacity_layers, hashrate_layers
from capacitymap.method import estimate_hashrate
from capacitymap.render import MapSpec

__all__ = ["DemoMap", "demo_maps", "DEMO_NAMES"]

DEMO_NAMES = ("north-america", "china", "world")


@dataclass(frozen=True)
class DemoMap:
    name: str
    spec: MapSpec
    layers: MapLayers


def demo_maps(folder: Path | None = None, *, assets: str = "inline") -> list[DemoMap]:
    """The three default maps: North American capacity, Chinese provinces' and countries' hashrate share."""
    data = folder or data_dir()
    b = api.Boundaries.shipped()
    facilities = api.load_facilities(data / "facilities" / "north_america.csv", boundaries=b,
                                     filters=Filters(statuses=("operational",)))
    north_america = MapSpec(
        preset="north-america",
        title="Operational bitcoin mining power capacity of public miners",
        subtitle="Megawatts by state and province; circles sized by site capacity, coloured by operator",
        metric="capacity_mw", marker_colour="operator", assets=assets,  # type: ignore[arg-type]
    )
    hashrate = data / "hashrate"
    records = io.read_hashrate([hashrate / "mining_countries.csv", hashrate / "mining_provinces_china.csv"], gazetteer=b.gazetteer).frame
    china_result = estimate_hashrate(records[records["month"].isin(_months_with_regions(records, "CN"))], level="admin1")
    world_result = estimate_hashrate(records[records["region"].isna()], level="country")
    credit = "Data: CCAF (Cambridge Centre for Alternative Finance), Bitcoin Mining Map"
    china = MapSpec(
        preset="china", title="Share of global bitcoin hashrate by Chinese province",
        subtitle="CCAF Bitcoin Mining Map, from pool geolocation data (BTC.com, Poolin, ViaBTC; about 37% of hashrate)",
        credit=credit, metric="share", assets=assets,  # type: ignore[arg-type]
    )
    world = MapSpec(
        preset="world", title="Share of global bitcoin hashrate by country",
        subtitle="CCAF Bitcoin Mining Map, monthly; only the months with published figures",
        credit=credit, metric="share", assets=assets,  # type: ignore[arg-type]
    )
    return [
        DemoMap("north-america", north_america, capacity_layers(facilities, b.display1)),
        DemoMap("china", china, hashrate_layers(china_result, admin1=b.display1, admin0=b.display0, level="admin1")),
        DemoMap("world", world, hashrate_layers(world_result, admin1=b.display1, admin0=b.display0, level="country")),
    ]


def _months_with_regions(frame, country: str) -> list[str]:  # noqa: ANN001
    return sorted(set(frame.loc[frame["region"].notna() & (frame["country"] == country), "month"]))
