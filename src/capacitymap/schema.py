"""Canonical columns of the record kinds, and the vocabulary they use.

Units are in the names: ``capacity_mw`` (megawatts), ``hashrate_ehs`` (exahashes per second).
``share`` is always a **fraction** in [0, 1]; percentages exist only in files people write and in
what the maps show.
"""

from __future__ import annotations

from typing import Final

from capacitymap.vocab import STATUSES, ShareOf, Status

__all__ = [
    "FACILITY_COLUMNS",
    "HASHRATE_COLUMNS",
    "ADMIN1_COLUMNS",
    "ADMIN0_COLUMNS",
    "STATUSES",
    "Status",
    "ShareOf",
    "OTHER_COUNTRY",
    "OTHER_REGION_SUFFIX",
    "SHARE_TOLERANCE",
    "LINE",
    "SOURCE_FILE",
]

#: Shares of one denominator may sum to at most 100 % plus this much (a fraction: 0.5 percentage points),
#: for the rounding in published lists.
SHARE_TOLERANCE: Final = 0.005

#: ISO 3166 user-assigned code for CCAF's "Other" country bucket.
OTHER_COUNTRY: Final = "ZZ"

#: The rest of a country that a source did not allocate to a named region (CCAF's "Other" province or
#: state) is the region ``<country>-ZZ`` ("CN-ZZ"): kept in every total, never drawn as a shape.
OTHER_REGION_SUFFIX: Final = "-" + OTHER_COUNTRY

#: Bookkeeping columns every record frame carries: where the row came from.
SOURCE_FILE: Final = "source_file"
LINE: Final = "line"

#: Facility capacity records, after reading and normalising (the join adds ``iso_3166_2``,
#: ``region_name``, ``placement`` and a point ``geometry``).
FACILITY_COLUMNS: Final[tuple[str, ...]] = (
    "facility_id",  # str or <NA>
    "operator",  # str
    "site",  # str
    "country",  # ISO 3166-1 alpha-2, e.g. "US"
    "region",  # the region as written in the file (any form the gazetteer knows), or <NA>
    "latitude",  # float degrees WGS84, or NaN
    "longitude",  # float degrees WGS84, or NaN
    "capacity_mw",  # float megawatts
    "status",  # one of STATUSES
    "as_of",  # ISO date text: "2024", "2024-12" or "2024-12-31"
    "source_url",  # http(s) URL or <NA>
    "hashrate_ehs",  # float or NaN
    "location_precision",  # "site", "city", "county", "region", or <NA>
    "history",  # bool: an older figure kept for a capacity-over-time view, not counted as current
    "notes",  # str or <NA>
    SOURCE_FILE,
    LINE,
)

#: Pool hashrate (geolocation share) records, after reading and normalising.
#: ``share`` is a fraction of the denominator named by ``share_of``: ``"global"`` = the pool's
#: worldwide hashrate that month, ``"country"`` = the pool's hashrate in ``country`` that month.
#: A row with ``region`` <NA> is a country-level row.
HASHRATE_COLUMNS: Final[tuple[str, ...]] = (
    "month",  # "YYYY-MM"
    "pool",  # str; CCAF's published exports use pool "CCAF" (already pool-weighted)
    "country",  # ISO 3166-1 alpha-2, or OTHER_COUNTRY
    "region",  # ISO 3166-2 code, or <NA> for a country-level row
    "share",  # fraction in [0, 1], or NaN where only hashrate_ehs is given
    "share_of",  # ShareOf
    "hashrate_ehs",  # float or NaN (a CCAF "0" absolute hashrate is read as NaN)
    "source_url",  # str or <NA>
    SOURCE_FILE,
    LINE,
)

#: Admin-1 boundary layer (``shapefiles/admin1.shp``), EPSG:4326.
ADMIN1_COLUMNS: Final[tuple[str, ...]] = (
    "iso_3166_2",  # canonical key, unique: "US-TX", "CA-QC", "CN-XJ"
    "iso_a2",  # country, ISO 3166-1 alpha-2
    "name",  # Natural Earth name
    "name_alt",  # "|"-separated alternate names, or ""
    "name_local",  # "|"-separated local names (Chinese kept as UTF-8), or ""
    "postal",  # Natural Earth postal letters, or ""
    "type_en",  # "State", "Province", "Autonomous Region", ...
    "code_hasc",  # "CN.XJ"
    "alias_code",  # "|"-separated older codes still accepted ("CN-65"), or ""
    "geometry",
)

#: Admin-0 boundary layer (``shapefiles/admin0.shp``), EPSG:4326.
ADMIN0_COLUMNS: Final[tuple[str, ...]] = (
    "iso_a2",  # ISO 3166-1 alpha-2, unique where assigned
    "iso_a3",
    "iso_n3",  # ISO 3166-1 numeric, zero-padded text
    "name",
    "geometry",
)
