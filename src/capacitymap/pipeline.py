"""Facility records → placed, filtered facilities, with a reconciliation that accounts for every row."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import pandas as pd

from capacitymap.errors import Problem
from capacitymap.filters import Filters, apply_filters
from capacitymap.io.rows import Records, empty_rejected, finish
from capacitymap.join import TOLERANCE_KM, assign_regions
from capacitymap.regions import Gazetteer
from capacitymap.schema import LINE, SOURCE_FILE

__all__ = ["Reconciliation", "MappedFacilities", "map_facilities", "capacity_by_month"]


@dataclass(frozen=True)
class Reconciliation:
    """Every row read is mapped, filtered by the user's own choice, or rejected with a reason.

    ``filtered`` has one row per filter (``filter``, ``rows``, ``capacity_mw``); ``rejected`` one row per
    rejected record (``source_file``, ``line``, ``capacity_mw``, ``reason``). Capacity that did not
    parse counts as a row but adds no megawatts.
    """

    rows_read: int
    mw_read: float
    rows_mapped: int
    mw_mapped: float
    filtered: pd.DataFrame
    rejected: pd.DataFrame

    @property
    def balanced(self) -> bool:
        rows = self.rows_mapped + int(self.filtered["rows"].sum()) + len(self.rejected)
        mw = self.mw_mapped + float(self.filtered["capacity_mw"].sum()) + float(self.rejected["capacity_mw"].fillna(0).sum())
        return rows == self.rows_read and abs(mw - self.mw_read) <= 1e-6 * max(1.0, abs(self.mw_read))

    def to_dict(self) -> dict[str, object]:
        return {
            "rows_read": self.rows_read,
            "capacity_mw_read": round(self.mw_read, 6),
            "rows_mapped": self.rows_mapped,
            "capacity_mw_mapped": round(self.mw_mapped, 6),
            "filtered": [
                {"filter": r.filter, "rows": int(r.rows), "capacity_mw": round(float(r.capacity_mw), 6)}
                for r in self.filtered.itertuples(index=False)
            ],
            "rejected": [
                {"file": r.source_file, "line": int(r.line), "capacity_mw": None if pd.isna(r.capacity_mw) else float(r.capacity_mw), "reason": r.reason}
                for r in self.rejected.itertuples(index=False)
            ],
            "balanced": self.balanced,
        }


@dataclass(frozen=True)
class MappedFacilities:
    """The facilities the map draws, every row accounted for, and (for a capacity-over-time view) every
    placed row before the filters, with the filters that were asked for."""

    facilities: gpd.GeoDataFrame
    reconciliation: Reconciliation
    warnings: list[Problem] = field(default_factory=list)
    placed: gpd.GeoDataFrame | None = None
    filters: Filters = Filters()


def map_facilities(
    records: Records,
    admin1: gpd.GeoDataFrame,
    *,
    gazetteer: Gazetteer,
    filters: Filters = Filters(),
    strict: bool = False,
    skip_invalid: bool = False,
    tolerance_km: float = TOLERANCE_KM,
) -> MappedFacilities:
    """Place records in regions, apply the user's filters, and account for every row."""
    joined = assign_regions(records.frame, admin1, strict=strict, tolerance_km=tolerance_km)
    placed = finish(joined.facilities, joined.problems, skip_invalid=skip_invalid)  # raises unless skip_invalid
    kept, removed = apply_filters(placed.frame, filters, gazetteer=gazetteer)
    filtered = (
        removed.groupby("filter", sort=False).agg(rows=(LINE, "size"), capacity_mw=("capacity_mw", "sum")).reset_index()
        if len(removed) else pd.DataFrame({"filter": pd.Series(dtype=object), "rows": pd.Series(dtype="int64"), "capacity_mw": pd.Series(dtype="float64")})
    )
    rejected = pd.concat([df for df in (records.rejected, placed.rejected) if len(df)] or [empty_rejected()], ignore_index=True)
    mw_read = float(records.frame["capacity_mw"].sum()) + float(records.rejected["capacity_mw"].fillna(0).sum())
    rec = Reconciliation(
        rows_read=records.rows_read,
        mw_read=mw_read,
        rows_mapped=len(kept),
        mw_mapped=float(kept["capacity_mw"].sum()),
        filtered=filtered,
        rejected=rejected.sort_values([SOURCE_FILE, LINE], ignore_index=True),
    )
    return MappedFacilities(
        facilities=gpd.GeoDataFrame(kept.reset_index(drop=True), crs="EPSG:4326"),
        reconciliation=rec,
        warnings=joined.warnings,
        placed=gpd.GeoDataFrame(placed.frame, crs="EPSG:4326"),
        filters=filters,
    )


def capacity_by_month(mapped: MappedFacilities, *, gazetteer: Gazetteer) -> pd.DataFrame:
    """Total MW per region as of each month in which a figure is dated: ``iso_3166_2``, ``value``, ``month``.

    Each month is the map the user's filters give with ``as_of`` set to that month: of every operator,
    site and status, the newest figure dated up to then (history rows included). A year-only date
    counts from January of that year. Regions with no capacity in a month have no row (no data).
    """
    if mapped.placed is None or not len(mapped.placed):
        return pd.DataFrame({"iso_3166_2": pd.Series(dtype=object), "value": pd.Series(dtype=float), "month": pd.Series(dtype=object)})
    dated = mapped.placed["as_of"].dropna()
    months = sorted({d[:7] if len(d) >= 7 else f"{d}-01" for d in dated})
    frames = []
    for month in months:
        kept, _ = apply_filters(mapped.placed, replace(mapped.filters, as_of=month), gazetteer=gazetteer)
        totals = kept.groupby("iso_3166_2", sort=True)["capacity_mw"].sum()
        frames.append(pd.DataFrame({"iso_3166_2": totals.index, "value": totals.to_numpy(dtype=float), "month": month}))
    return pd.concat(frames, ignore_index=True)
