"""The default maps, from the datasets shipped in ``data/`` (what ``capacitymap demo`` renders)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from capacitymap import api
from capacitymap._resources import data_dir
from capacitymap.filters import Filters
from capacitymap.maps import MapLayers, capacity_layers, hashrate_layers, make_map
from capacitymap.method import estimate_hashrate
from capacitymap.records import read_hashrate
from capacitymap.render import BuiltMap, MapSpec

__all__ = ["DemoMap", "demo_maps", "DEMO_NAMES"]

DEMO_NAMES = ("north-america", "china", "china-global", "world", "us-states")


@dataclass(frozen=True)
class DemoMap:
    """One demo map: its file name, spec and layers; ``built`` (made on first use) gives its page and still."""

    name: str
    spec: MapSpec
    layers: MapLayers

    @cached_property
    def built(self) -> BuiltMap:
        """The map built once (:func:`capacitymap.maps.make_map`): ``built.html()``, ``built.still()``, ``built.alt``."""
        return make_map(self.spec, self.layers)


def demo_maps(folder: Path | None = None, *, assets: str = "inline") -> list[DemoMap]:
    """The default maps: North American capacity, and CCAF's hashrate series.

    China by province as shares of China's and of global hashrate, every country each month, US states.
    """
    data = folder or data_dir()
    b = api.Boundaries.shipped()
    # operational capacity as of the newest figures; under-construction and planned sites as the pipeline layer
    facilities = api.load_facilities(data / "facilities" / "north_america.csv", boundaries=b,
                                     filters=Filters(statuses=("operational",)), area=api.preset_area("north-america"))
    latest = max(facilities.facilities["as_of"].dropna().astype(str), default="")
    north_america = MapSpec(
        preset="north-america",
        title="Operational bitcoin mining power capacity of public miners",
        subtitle=f"Megawatts by state and province, each site's newest sourced figure (the latest dated {latest}); "
                 "circles sized by site capacity, coloured by operator; sites under construction and planned shown apart, not counted",
        metric="capacity_mw", marker_colour="operator", assets=assets,  # type: ignore[arg-type]
    )
    layers = capacity_layers(facilities, b.display1)
    layers = replace(layers, coverage_note=f"{layers.coverage_note} {_anchor_share(data, facilities.reconciliation.mw_mapped)}")
    return [DemoMap("north-america", north_america, layers), *_hashrate_maps(data, b, assets)]


def _anchor_share(data: Path, mapped_mw: float) -> str:
    """What share of TheMinerMag's newest North American total (public miners' operational capacity) the map holds."""
    totals = pd.read_csv(data / "facilities" / "region_totals.csv", dtype={"as_of": str})
    anchors = totals[(totals["region"] == "TOTAL") & (totals["country"] == "US+CA") & totals["notes"].str.contains("TheMinerMag")]
    newest = anchors.sort_values("as_of").iloc[-1]
    return (f"The map holds {mapped_mw / 1000:,.1f} GW, {mapped_mw / newest['capacity_mw']:.0%} of TheMinerMag's "
            f"{newest['capacity_mw'] / 1000:,.1f} GW for public miners ({newest['as_of']}); data/README.md names the operators "
            "whose sites have no public per-site figure.")


def _hashrate_maps(data: Path, b: api.Boundaries, assets: str) -> list[DemoMap]:
    """CCAF's whole series: China by province (of China, and of global), every country each month, US states."""
    hashrate = data / "hashrate"
    countries = read_hashrate(hashrate / "mining_countries.csv", gazetteer=b.gazetteer).frame
    provinces = read_hashrate(hashrate / "mining_provinces_china.csv", gazetteer=b.gazetteer).frame
    states = read_hashrate(hashrate / "us_states.csv", gazetteer=b.gazetteer).frame
    months = _months_with_regions(provinces, "CN")
    china_result = estimate_hashrate(provinces, level="admin1")
    china_global = estimate_hashrate(pd.concat([countries[countries["month"].isin(months)], provinces], ignore_index=True), level="admin1")
    world_result = estimate_hashrate(countries, level="country")
    us_result = estimate_hashrate(states, level="admin1")
    layers = {
        "china": hashrate_layers(china_result, admin1=b.display1, admin0=b.display0, level="admin1", value="share_of_country"),
        "china-global": hashrate_layers(china_global, admin1=b.display1, admin0=b.display0, level="admin1", value="share"),
        "world": hashrate_layers(world_result, admin1=b.display1, admin0=b.display0, level="country", value="share"),
        "us-states": hashrate_layers(us_result, admin1=b.display1, admin0=b.display0, level="admin1", value="share_of_country"),
    }
    span = f"{months[0]} to {months[-1]}"
    specs = {
        "china": MapSpec(
            preset="china", title="Share of China's bitcoin hashrate by province",
            subtitle=f"CCAF Bitcoin Mining Map, monthly, {span}; from mining pools' geolocation data",
            credit=layers["china"].credit, metric="share", assets=assets, step=_last_step_with_figures(layers["china"]),  # type: ignore[arg-type]
        ),
        "china-global": MapSpec(
            preset="china", title="Share of global bitcoin hashrate by Chinese province",
            subtitle=f"CCAF Bitcoin Mining Map, monthly, {span}: each province's share of China x China's share of global hashrate",
            credit=layers["china-global"].credit, metric="share", assets=assets,  # type: ignore[arg-type]
            step=_last_step_with_figures(layers["china-global"]),
        ),
        "world": MapSpec(
            preset="world", title="Share of global bitcoin hashrate by country",
            subtitle=f"CCAF Bitcoin Mining Map, every month {min(countries['month'])} to {max(countries['month'])}; "
                     "CCAF's own EH/s in the data",
            credit=layers["world"].credit, metric="share", assets=assets,  # type: ignore[arg-type]
        ),
        "us-states": MapSpec(
            preset="us", title="Share of US bitcoin hashrate by state, December 2021",
            subtitle="CCAF Bitcoin Mining Map, first US map (December 2021); states CCAF published whose figures were found",
            credit=layers["us-states"].credit, metric="share", assets=assets,  # type: ignore[arg-type]
        ),
    }
    return [DemoMap(name, specs[name], layers[name]) for name in ("china", "china-global", "world", "us-states")]


def _last_step_with_figures(layers: MapLayers) -> str | None:
    """The newest month in which some place has a share above zero: where a page opens.

    CCAF's China series ends in July 2021 with zero everywhere, after the ban; a reader should first see
    the last month mining was there.
    """
    values = layers.values
    if values is None or "month" not in values:
        return None
    shown = values[values["value"].fillna(0) > 0]
    return str(shown["month"].max()) if len(shown) else None


def _months_with_regions(frame, country: str) -> list[str]:  # noqa: ANN001
    return sorted(set(frame.loc[frame["region"].notna() & (frame["country"] == country), "month"]))
