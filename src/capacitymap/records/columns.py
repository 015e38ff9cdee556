"""Map the column names people write onto canonical ones."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rapidfuzz import fuzz, process

from capacitymap.errors import Problem, SchemaError

__all__ = ["normalize_header", "map_columns", "FACILITY_ALIASES", "HASHRATE_ALIASES"]


def normalize_header(name: str) -> str:
    """``" Capacity (MW) "`` → ``"capacity_mw"``; ``"monthly_hashrate_%"`` keeps its ``%``."""
    t = name.strip().lstrip("\ufeff").lower()
    t = t.replace("(%)", "_%").replace("(", "_").replace(")", "")
    t = re.sub(r"[\s\-./]+", "_", t)
    return re.sub(r"_+", "_", t).strip("_")


#: canonical name → accepted spellings (already normalised).
FACILITY_ALIASES: Mapping[str, tuple[str, ...]] = {
    "facility_id": ("facility_id", "id", "site_id"),
    "operator": ("operator", "company", "miner", "owner", "operator_name"),
    "site": ("site", "site_name", "facility", "facility_name", "location_name"),
    "country": ("country", "country_code", "iso_a2"),
    "region": ("region", "state", "province", "state_province", "state_or_province", "admin1", "iso_3166_2"),
    "latitude": ("latitude", "lat", "y"),
    "longitude": ("longitude", "lon", "lng", "long", "x"),
    "capacity_mw": ("capacity_mw", "mw", "capacity", "power_mw", "power", "capacity_megawatts"),
    "capacity_gw": ("capacity_gw", "gw", "power_gw"),
    "status": ("status", "state_of_operation", "operational_status"),
    "as_of": ("as_of", "asof", "as_of_date", "date", "updated", "date_as_of"),
    "source_url": ("source_url", "source", "url", "link", "source_link"),
    "hashrate_ehs": ("hashrate_ehs", "hashrate_eh_s", "hashrate"),
    "location_precision": ("location_precision", "precision"),
    "history": ("history", "is_history", "historical"),
    "notes": ("notes", "note", "comment", "comments"),
    "city": ("city", "town", "municipality"),
}

HASHRATE_ALIASES: Mapping[str, tuple[str, ...]] = {
    "month": ("month", "date"),
    "pool": ("pool", "mining_pool", "pool_name"),
    "country": ("country", "country_code", "iso_a2"),
    "region": ("region", "state", "province", "iso_3166_2", "admin1"),
    "share": ("share", "share_fraction", "fraction"),
    "share_%": ("share_%", "share_pct", "share_percent", "percent", "pct", "share_of_hashrate_%"),
    "share_of": ("share_of",),
    "hashrate": ("hashrate",),
    "hashrate_ehs": ("hashrate_ehs", "hashrate_eh_s"),
    "hashrate_phs": ("hashrate_phs", "hashrate_ph_s"),
    "hashrate_ths": ("hashrate_ths", "hashrate_th_s"),
    "source_url": ("source_url", "source", "url", "link"),
}


#: canonical columns that say the same thing in different units: a file may have one of each group, not two.
_ONE_OF: tuple[tuple[str, ...], ...] = (("capacity_mw", "capacity_gw"),)


def map_columns(header: list[str], aliases: Mapping[str, tuple[str, ...]], *, file: str) -> dict[str, str]:
    """Canonical → the file's own column name, for every canonical column the file has.

    Two file columns meaning the same canonical one is an error, and so are two columns giving the same
    quantity in different units (``capacity_mw`` and ``capacity_gw``): which one is right cannot be guessed.
    """
    found: dict[str, str] = {}
    problems: list[Problem] = []
    by_spelling = {spelling: canon for canon, spellings in aliases.items() for spelling in spellings}
    for col in header:
        canon = by_spelling.get(normalize_header(col))
        if canon is None:
            continue
        if canon in found:
            problems.append(
                Problem(file, 1, col, f"expected one column for {canon!r}, got {found[canon]!r} and {col!r}; rename or remove one")
            )
            continue
        found[canon] = col
    for group in _ONE_OF:
        both = [found[c] for c in group if c in found]
        if len(both) > 1:
            problems.append(Problem(
                file, 1, both[-1],
                f"expected one capacity column, got {both[0]!r} and {both[-1]!r} (the same quantity in two units); "
                "keep one and delete the other",
            ))
    if problems:
        raise SchemaError(problems)
    return found


def suggest_column(name: str, aliases: Mapping[str, tuple[str, ...]]) -> str | None:
    """The canonical column a misspelt header most likely meant, if any."""
    spellings = {s: c for c, ss in aliases.items() for s in ss}
    hit = process.extractOne(normalize_header(name), list(spellings), scorer=fuzz.ratio, score_cutoff=80)
    return spellings[hit[0]] if hit else None
