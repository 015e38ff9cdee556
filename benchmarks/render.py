"""Benchmark: the north-america map, ours (build_map + render_html) against GeoDataFrame.explore().

One run measures, on the shipped admin-1 layer and the default facilities
(``data/facilities/north_america.csv``, or ``--synthetic N`` random facilities):

* HTML size in bytes, without inlined assets (CDN mode), of
  - our page (choropleth with a monthly slider, facility markers, legend, table, CSV link),
  - ``explore()`` on the same data (regions coloured by the latest month, facilities on top),
  - the full-resolution regions alone as GeoJSON (what an unsimplified page must carry at least);
* build time (build + render to text), median of ``--runs`` interleaved runs after one warm-up, ours vs explore().

Prints both ratios against the targets: <= 1.0 MB of HTML and >= 3x faster than explore().

    python benchmarks/render.py [--runs 5] [--months 12] [--synthetic N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from capacitymap._resources import data_dir
from capacitymap.io.boundaries import read_admin1, read_admin1_web
from capacitymap.render import MapSpec, build_map, render_html
from capacitymap.render.spec import PRESETS

TARGET_BYTES = 1_000_000
TARGET_SPEEDUP = 3.0


def _facilities(admin1: gpd.GeoDataFrame, synthetic: int | None) -> gpd.GeoDataFrame:
    if synthetic is None:
        from capacitymap.api import load_facilities

        return load_facilities(data_dir() / "facilities" / "north_america.csv", skip_invalid=True).facilities
    rng = np.random.default_rng(42)
    regions = admin1[admin1["iso_a2"].isin(PRESETS["north-america"].countries or ())].reset_index(drop=True)
    picks = regions.sample(n=synthetic, replace=True, random_state=42).reset_index(drop=True)
    points = picks.geometry.representative_point()
    operators = [f"Operator {i}" for i in range(12)]
    statuses = ["operational", "under_construction", "planned", "curtailed"]
    return gpd.GeoDataFrame(
        {
            "operator": rng.choice(operators, synthetic),
            "site": [f"Site {i}" for i in range(synthetic)],
            "capacity_mw": rng.lognormal(3.5, 1.2, synthetic).round(1),
            "status": rng.choice(statuses, synthetic),
            "as_of": "2024-12",
            "source_url": [f"https://example.org/site/{i}" for i in range(synthetic)],
            "iso_3166_2": picks["iso_3166_2"],
            "country": picks["iso_a2"],
            "history": False,
        },
        geometry=points.values,
        crs=4326,
    )


def _monthly_values(facilities: gpd.GeoDataFrame, months: int) -> pd.DataFrame:
    """Capacity by region for ``months`` months (the latest = today's facilities, earlier months ramp up)."""
    current = facilities[~facilities.get("history", pd.Series(False, index=facilities.index)).fillna(False).astype(bool)]
    totals = current.groupby("iso_3166_2")["capacity_mw"].sum()
    frames = []
    for i in range(months):
        month = pd.Period("2024-12", "M") - (months - 1 - i)
        frames.append(pd.DataFrame({"iso_3166_2": totals.index, "value": (totals.values * (0.6 + 0.4 * (i + 1) / months)).round(1),
                                    "month": str(month)}))
    return pd.concat(frames, ignore_index=True)


def _ours(spec: MapSpec, regions: gpd.GeoDataFrame, values: pd.DataFrame, facilities: gpd.GeoDataFrame) -> str:
    return render_html(build_map(spec, regions=regions, values=values, facilities=facilities), assets="cdn")


def _explore(regions: gpd.GeoDataFrame, latest: pd.DataFrame, facilities: gpd.GeoDataFrame) -> str:
    joined = regions.merge(latest[["iso_3166_2", "value"]], on="iso_3166_2", how="left")
    m = joined.explore(column="value", scheme="quantiles", k=5, cmap="YlOrRd", tooltip=["name", "value"],
                       legend=True, missing_kwds={"color": "#bdbdbd"}, name="Capacity")
    facilities[["operator", "site", "capacity_mw", "status", "as_of", "source_url", "geometry"]].explore(
        m=m, column="operator", marker_type="circle_marker", marker_kwds={"radius": 6}, name="Facilities",
        legend=False,
    )
    return m.get_root().render()


def _timed(fns: dict[str, object], runs: int) -> dict[str, list[float]]:
    """Seconds per run for each function; runs interleave (A, B, A, B, ...) so load on a shared
    machine hits both alike. One untimed warm-up each first (imports, caches)."""
    for fn in fns.values():
        fn()  # type: ignore[operator]
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            times[name].append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per method (median reported)")
    parser.add_argument("--months", type=int, default=12, help="months on our time slider")
    parser.add_argument("--synthetic", type=int, default=None, metavar="N", help="N random facilities instead of the default file")
    args = parser.parse_args(argv)

    admin1 = read_admin1()
    # Ours draws the shipped display layer (simplified once, at build time, by scripts/build_shapefiles.py);
    # explore() is timed on the full layer (what a user hands it) and, for a like-for-like view, on the
    # display layer too.
    display = read_admin1_web()
    preset = PRESETS["north-america"]
    facilities = _facilities(admin1, args.synthetic)
    values = _monthly_values(facilities, args.months)
    latest = values[values["month"] == values["month"].max()]
    na_regions = admin1[admin1["iso_a2"].isin(preset.countries or ())].reset_index(drop=True)
    na_display = display[display["iso_a2"].isin(preset.countries or ())].reset_index(drop=True)
    spec = MapSpec(preset="north-america", title="Bitcoin mining power capacity", subtitle="By state and province",
                   credit="Benchmark", assets="cdn")

    ours_html = _ours(spec, display, values, facilities)
    explore_html = _explore(na_regions, latest, facilities)
    full_geojson = na_regions.to_json()
    ours_b, explore_b, full_b = (len(s.encode("utf-8")) for s in (ours_html, explore_html, full_geojson))

    times = _timed({"ours": lambda: _ours(spec, display, values, facilities),
                    "explore": lambda: _explore(na_regions, latest, facilities),
                    "explore_display": lambda: _explore(na_display, latest, facilities),
                    "ours_full": lambda: _ours(spec, admin1, values, facilities)}, args.runs)
    t_ours, t_explore = statistics.median(times["ours"]), statistics.median(times["explore"])
    t_explore_display, t_ours_full = statistics.median(times["explore_display"]), statistics.median(times["ours_full"])
    best_ours, best_explore = min(times["ours"]), min(times["explore"])

    size_ok = ours_b <= TARGET_BYTES
    speedup = t_explore / t_ours
    speed_ok = speedup >= TARGET_SPEEDUP
    print(f"north-america: {len(na_regions)} regions, {len(facilities)} facilities, {args.months} months, "
          f"median of {args.runs} runs")
    print(f"HTML size (no inlined assets): ours {ours_b:,} B | explore() {explore_b:,} B | "
          f"full-resolution regions GeoJSON {full_b:,} B")
    print(f"size ratio ours/explore(): {ours_b / explore_b:.3f} (explore is {explore_b / ours_b:.1f}x larger); "
          f"ours/full-resolution: {ours_b / full_b:.3f}")
    print(f"build+render time: ours {t_ours * 1000:.0f} ms | explore() {t_explore * 1000:.0f} ms")
    print(f"speed ratio explore()/ours: {speedup:.2f}x (median); best runs {best_ours * 1000:.0f} vs "
          f"{best_explore * 1000:.0f} ms: {best_explore / best_ours:.2f}x")
    print(f"for reference: explore() on the display layer {t_explore_display * 1000:.0f} ms "
          f"({t_explore_display / t_ours:.2f}x ours); ours simplifying the full layer at run time "
          f"{t_ours_full * 1000:.0f} ms ({t_explore / t_ours_full:.2f}x faster than explore())")
    print(f"targets: size <= {TARGET_BYTES:,} B: {'PASS' if size_ok else 'FAIL'}; "
          f">= {TARGET_SPEEDUP:.0f}x faster than explore(): {'PASS' if speed_ok else 'FAIL'}")
    return 0 if size_ok and speed_ok else 1


if __name__ == "__main__":
    sys.exit(main())
