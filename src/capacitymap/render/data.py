"""Validate the frames given to :func:`build_map` and derive what the map shows from them."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd

from capacitymap.render.escape import safe_url, to_text
from capacitymap.render.spec import Level, MapSpecError, Preset
from capacitymap.schema import OTHER_COUNTRY

__all__ = ["RegionValues", "prepare_values", "Facilities", "prepare_facilities", "csv_data_uri", "FACILITY_REQUIRED"]

#: Slider steps: months "YYYY-MM" or quarters "YYYY-Qn" (sorting them as text sorts them in time).
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$")
#: Columns never shown as provenance.
_NOT_PROVENANCE = {"value", "month", "geometry", "source_file", "line", "name", "region_name", "iso_a2",
                   "iso_3166_2", "country", "region"}
FACILITY_REQUIRED = ("operator", "site", "capacity_mw", "status", "as_of", "source_url", "geometry")
SINGLE = ""  # the month label of data without months


@dataclass
class RegionValues:
    """Values by month and region key, over the drawn regions only."""

    key: str
    months: list[str]  # sorted; [SINGLE] without a month column
    values: dict[str, dict[str, float | None]]  # month -> key -> value (None = no data)
    provenance: dict[str, dict[str, list[list[str]]]]  # month -> key -> [[label, text], ...]
    provenance_columns: list[str]
    table: pd.DataFrame  # rows drawn, sorted by month then key: key, month?, value, provenance...

    @property
    def has_months(self) -> bool:
        """Whether the values have months (a slider), rather than one single step."""
        return self.months != [SINGLE]

    def finite(self) -> list[float]:
        """Every value that is not no-data, all months together."""
        return [v for m in self.values.values() for v in m.values() if v is not None]

    def totals(self) -> dict[str, float]:
        """The sum of the values of each month (no-data left out)."""
        return {m: float(sum(v for v in d.values() if v is not None)) for m, d in self.values.items()}


def prepare_values(values: pd.DataFrame | None, *, level: Level, layer_keys: set[str], drawn_keys: list[str]) -> RegionValues:
    """The checked values of the drawn regions, by month and key; MapSpecError names what is wrong."""
    key = "iso_3166_2" if level == "admin1" else "iso_a2"
    if values is None:
        return RegionValues(key, [SINGLE], {SINGLE: {}}, {SINGLE: {}}, [], pd.DataFrame({key: [], "value": []}))
    if not isinstance(values, pd.DataFrame):
        raise MapSpecError(f"values: expected a DataFrame with columns {key!r} and 'value', got {type(values).__name__!r}")
    missing = [c for c in (key, "value") if c not in values.columns]
    if missing:
        raise MapSpecError(
            f"values: expected columns {[key, 'value']!r} for {'an admin-1' if level == 'admin1' else 'a country'} map, missing "
            f"{missing!r} in {list(values.columns)!r}; rename the region code column to {key!r}"
        )
    frame = pd.DataFrame(values.drop(columns=[c for c in ("geometry",) if c in values.columns]))
    frame[key] = frame[key].astype("string").str.strip()
    numbers = pd.to_numeric(frame["value"], errors="coerce")
    bad = frame["value"].notna() & numbers.isna()
    if bad.any():
        first = frame.loc[bad, "value"].iloc[0]
        raise MapSpecError(f"values: expected numbers (or NaN for no data) in 'value', got {first!r}; convert them first")
    if np.isinf(numbers.to_numpy(dtype="float64", na_value=np.nan)).any():
        raise MapSpecError("values: expected finite numbers in 'value', got infinity; use NaN for no data")
    frame["value"] = numbers.astype("float64")
    if "month" in frame.columns:
        months_text = frame["month"].map(lambda v: to_text(v) or "")
        badm = ~months_text.str.match(_MONTH)
        if badm.any():
            raise MapSpecError(
                f"values: expected months as 'YYYY-MM' (or quarters as 'YYYY-Qn') text, got {frame.loc[badm, 'month'].iloc[0]!r}; "
                "format them with .dt.strftime('%Y-%m')"
            )
        frame["month"] = months_text
    else:
        frame["month"] = SINGLE
    unknown = sorted(set(frame[key].dropna()) - layer_keys - {OTHER_COUNTRY})
    if unknown:
        raise MapSpecError(
            f"values: expected region codes of the boundary layer in {key!r}, got unknown {unknown[:5]!r}; "
            "resolve names with capacitymap.regions.Gazetteer first"
        )
    frame = frame[frame[key].isin(drawn_keys)]
    dup = frame.duplicated([key, "month"])
    if dup.any():
        row = frame.loc[dup].iloc[0]
        where = f" in month {row['month']!r}" if row["month"] else ""
        raise MapSpecError(
            f"values: expected one row per region{' and month' if row['month'] else ''}, got {row[key]!r} twice{where}; "
            "aggregate the rows first"
        )
    prov_cols = sorted(c for c in frame.columns if c not in _NOT_PROVENANCE and c != key)
    frame = frame.sort_values(["month", key], kind="stable").reset_index(drop=True)
    months = sorted(set(frame["month"])) or [SINGLE]
    vals: dict[str, dict[str, float | None]] = {m: {} for m in months}
    prov: dict[str, dict[str, list[list[str]]]] = {m: {} for m in months}
    for row in frame.itertuples(index=False):
        d = row._asdict()
        v = d["value"]
        vals[d["month"]][d[key]] = None if v is None or math.isnan(v) else float(v)
        items = []
        for c in prov_cols:
            text = to_text(d.get(c))
            if text is not None and text != "":
                items.append([c.replace("_", " "), text])
        if items:
            prov[d["month"]][d[key]] = items
    table = frame[[key] + (["month"] if months != [SINGLE] else []) + ["value"] + prov_cols]
    for c in prov_cols:
        table = table.assign(**{c: table[c].map(lambda v: to_text(v) or "")})
    return RegionValues(key, months, vals, prov, prov_cols, table)


@dataclass
class Facilities:
    """Facilities drawn as markers (sorted largest first), and per-region summaries.

    Each record: ``lat``, ``lon``, ``operator``, ``site``, ``mw`` (the figure at the last step), ``status``,
    ``as_of``, ``url`` | ``url_text``, ``key`` (the region drawn, or ""), and, when the frame is long
    (a ``month`` column: one row per site per step), ``steps`` {step: MW}; on a change map ``change``
    ("added", "removed", "grown", "shrunk") and ``delta`` (signed MW). ``unplaced`` holds the rows
    without a location that still count in their region (same fields, no lat/lon).
    """

    records: list[dict]
    operators: list[str]  # by total MW, descending, then name
    statuses: list[str]
    count_by_region: dict[str, int] = field(default_factory=dict)
    top_by_region: dict[str, list[list]] = field(default_factory=dict)  # key -> [[operator, mw], ...]
    max_mw: float = 0.0
    unplaced: list[dict] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # the steps facilities carry (empty: not over time)
    domains: list[str] = field(default_factory=list)  # source URL hosts, most sites first


def prepare_facilities(facilities: gpd.GeoDataFrame | None, *, level: Level, preset: Preset, drawn_keys: list[str]) -> Facilities:
    """The checked facilities to draw as markers in the preset's area; MapSpecError names what is wrong."""
    if facilities is None:
        return Facilities([], [], [])
    if not isinstance(facilities, gpd.GeoDataFrame):
        raise MapSpecError(
            f"facilities: expected a GeoDataFrame of points (EPSG:4326), got {type(facilities).__name__!r}; "
            "run capacitymap.join.assign_regions first"
        )
    missing = [c for c in FACILITY_REQUIRED if c not in facilities.columns]
    if missing:
        raise MapSpecError(
            f"facilities: expected columns {list(FACILITY_REQUIRED)!r}, missing {missing!r}; "
            "read them with capacitymap.read_facilities and place them with capacitymap.join.assign_regions"
        )
    frame = facilities
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    if "history" in frame.columns:
        frame = frame[~frame["history"].fillna(False).astype(bool)]
    geom = frame.geometry
    located = geom.notna() & ~geom.is_empty
    if located.any() and not (geom[located].geom_type == "Point").all():
        raise MapSpecError(
            f"facilities: expected Point geometries, got {sorted(set(geom[located].geom_type))!r}; use facility locations"
        )
    mw = pd.to_numeric(frame["capacity_mw"], errors="coerce").astype("float64")
    lon = geom.x.where(located) if len(frame) else pd.Series([], dtype="float64")
    lat = geom.y.where(located) if len(frame) else pd.Series([], dtype="float64")
    if ((lat.abs() > 90) | (lon.abs() > 180)).any():
        raise MapSpecError("facilities: expected WGS84 degrees, got coordinates outside ±90/±180; is the data in EPSG:4326?")
    region = frame["iso_3166_2"].astype("string") if "iso_3166_2" in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")
    if level == "country":
        country = frame["country"].astype("string") if "country" in frame.columns else region.str.split("-").str[0]
        region = country
    region = region.fillna("")
    drawn = set(drawn_keys)
    if preset.countries is not None or preset.name == "world":
        keep = region.isin(drawn)
    else:
        b = preset.bbox
        keep = located & lon.between(b.west, b.east) & lat.between(b.south, b.north)
    long = "month" in frame.columns
    df = pd.DataFrame({
        "operator": frame["operator"].map(lambda v: to_text(v) or "unknown"),
        "site": frame["site"].map(lambda v: to_text(v) or ""),
        "mw": mw, "status": frame["status"].map(lambda v: to_text(v) or "unknown"),
        "as_of": frame["as_of"].map(lambda v: to_text(v) or ""),
        "url": frame["source_url"].map(lambda v: to_text(v) or ""),
        "lat": lat, "lon": lon, "key": region, "located": located,
        "step": frame["month"].map(lambda v: to_text(v) or "") if long else "",
        "change": frame["change"].map(lambda v: to_text(v) or "") if "change" in frame.columns else "",
        "delta": pd.to_numeric(frame["capacity_change_mw"], errors="coerce").astype("float64")
        if "capacity_change_mw" in frame.columns else np.nan,
    })[keep.to_numpy()]
    if long:
        bad = df.loc[~df["step"].str.match(_MONTH), "step"]
        if len(bad):
            raise MapSpecError(
                f"facilities: expected steps as 'YYYY-MM' or 'YYYY-Qn' text in 'month', got {bad.iloc[0]!r}; "
                "give one row per site per step"
            )
    steps = sorted(set(df["step"])) if long else []
    last = steps[-1] if steps else ""
    site_cols = ["operator", "site", "status", "key", "lat", "lon"]
    records: list[dict] = []
    unplaced: list[dict] = []
    # one record per site (over time: its figure at each step, the latest row's as_of and source)
    groups = df.sort_values(["step"], kind="stable").groupby(site_cols, sort=False, dropna=False) if long else None
    rows = ([(g.iloc[-1].to_dict(), g) for _, g in groups] if groups is not None
            else [(r, None) for r in df.to_dict("records")])
    for r, g in rows:
        rec: dict = {"operator": r["operator"], "site": r["site"], "status": r["status"], "as_of": r["as_of"], "key": r["key"]}
        if g is not None:
            rec["steps"] = {str(st): (None if math.isnan(v) else round(float(v), 3)) for st, v in zip(g["step"], g["mw"])}
            v = rec["steps"].get(last)
        else:
            v = None if math.isnan(r["mw"]) else round(float(r["mw"]), 3)
        rec["mw"] = v
        if r["change"]:
            rec["change"] = r["change"]
            rec["delta"] = None if math.isnan(r["delta"]) else round(float(r["delta"]), 3)
        url = safe_url(r["url"])
        if url is not None:
            rec["url"] = url
        elif r["url"]:
            rec["url_text"] = r["url"]
        if bool(r["located"]):
            records.append({"lat": round(float(r["lat"]), 5), "lon": round(float(r["lon"]), 5), **rec})
        elif r["key"] in drawn:
            unplaced.append(rec)
    biggest = [max([v for v in (rec.get("steps") or {"": rec["mw"]}).values() if v is not None], default=-1.0)
               for rec in records]
    order = sorted(range(len(records)), key=lambda i: (-biggest[i], records[i]["operator"], records[i]["site"], i))
    records = [records[i] for i in order]
    in_region = df[df["key"].isin(drawn) & (df["step"] == last)]
    count = {k: int(n) for k, n in in_region.groupby("key", sort=True).size().items()}
    top: dict[str, list[list]] = {}
    for k, grp in in_region.groupby("key", sort=True):
        sums = grp.groupby("operator", sort=True)["mw"].sum(min_count=1).fillna(0.0)
        ordered = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        top[str(k)] = [[op, round(float(v), 3)] for op, v in ordered]
    op_mw = df[df["step"] == last].groupby("operator", sort=True)["mw"].sum(min_count=1).fillna(0.0)
    operators = [op for op, _ in sorted(op_mw.items(), key=lambda kv: (-kv[1], kv[0]))]
    operators += sorted(set(df["operator"]) - set(operators))
    statuses = sorted(set(df["status"]))
    max_mw = float(np.nanmax(df["mw"].to_numpy())) if df["mw"].notna().any() else 0.0
    hosts = df["url"].map(_host)
    hosts = hosts[hosts != ""]
    domains = [h for h, _ in sorted(hosts.value_counts().items(), key=lambda kv: (-kv[1], kv[0]))]
    return Facilities(records, operators, statuses, count, top, max_mw, unplaced, steps, domains)


def _host(url: str) -> str:
    u = safe_url(url)
    if u is None:
        return ""
    host = urlsplit(u).hostname or ""
    return host.removeprefix("www.")


def csv_text(table: pd.DataFrame) -> str:
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, float_format="%.10g")
    return buf.getvalue()


def csv_data_uri(table: pd.DataFrame) -> str:
    """The table as a ``data:text/csv`` URI (UTF-8, percent-encoded): a download with no server."""
    return "data:text/csv;charset=utf-8," + quote(csv_text(table), safe="")
