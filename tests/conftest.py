"""Shared fixtures: small synthetic regions built in code, and the hostile string."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from capacitymap.regions import Gazetteer

HOSTILE = "O'Brien <b>&amp; ${1+1} ` </script>"
TODAY = dt.date(2026, 11, 21)

# Four squares: two US states side by side sharing the border x=-96, a Canadian province and a
# Chinese province. Codes and names are real; geometry is synthetic.
SQUARES = [
    ("US-TX", "US", "Texas", "", "", "TX", box(-100, 28, -96, 32)),
    ("US-LA", "US", "Louisiana", "", "", "LA", box(-96, 28, -92, 32)),
    ("US-GA", "US", "Georgia", "", "", "GA", box(-86, 31, -82, 35)),
    ("CA-QC", "CA", "Québec", "Quebec", "", "QC", box(-78, 45, -70, 52)),
    ("CN-NM", "CN", "Inner Mongol", "Nei Mongol", "內蒙古自治區|内蒙古自治区", "NM", box(100, 38, 120, 50)),
]


@pytest.fixture
def admin1() -> gpd.GeoDataFrame:
    rows = [
        {"iso_3166_2": c, "iso_a2": a2, "name": n, "name_alt": alt, "name_local": loc, "postal": p,
         "type_en": "", "code_hasc": c.replace("-", "."), "alias_code": "CN-15" if c == "CN-NM" else "", "geometry": g}
        for c, a2, n, alt, loc, p, g in SQUARES
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


@pytest.fixture
def admin0() -> pd.DataFrame:
    return pd.DataFrame(
        [("US", "USA", "840", "United States of America"), ("CA", "CAN", "124", "Canada"),
         ("CN", "CHN", "156", "China"), ("GE", "GEO", "268", "Georgia"), ("RU", "RUS", "643", "Russia"),
         ("IR", "IRN", "364", "Iran"), ("DE", "DEU", "276", "Germany"), ("IE", "IRL", "372", "Ireland")],
        columns=["iso_a2", "iso_a3", "iso_n3", "name"],
    )


@pytest.fixture
def gazetteer(admin1: gpd.GeoDataFrame, admin0: pd.DataFrame) -> Gazetteer:
    return Gazetteer(admin1.drop(columns="geometry"), admin0)


@pytest.fixture
def today() -> dt.date:
    return TODAY
