"""Parse single cells written by people: capacities with units, dates, shares, hashrates, URLs.

Each parser returns the value or raises :class:`CellError` with a message that says what was
expected, what came, and what to write instead. Readers turn a ``CellError`` into a located
:class:`~capacitymap.errors.Problem`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

from capacitymap.schema import STATUSES
from capacitymap.urls import http_url

__all__ = [
    "CellError",
    "parse_capacity_mw",
    "parse_float",
    "parse_date",
    "parse_month",
    "parse_share",
    "parse_hashrate_ehs",
    "parse_status",
    "parse_url",
    "parse_bool",
    "MAX_SITE_MW",
]

#: The largest single-site capacity that is plausible in megawatts (the largest campuses are ~1-2 GW).
#: Larger values are almost always kW or W written in a MW column.
MAX_SITE_MW = 10_000.0


class CellError(ValueError):
    """A cell could not be parsed; the message is ready for a Problem."""


_NUMBER = {
    ".": re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$"),  # 1,200.5
    ",": re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)?(,\d+)?$"),  # 1.200,5 (semicolon-separated files)
}
_WITH_UNIT = re.compile(r"^\s*([+-]?[\d.,]+)\s*([A-Za-z/%]*)\s*$")


def parse_float(text: str, *, what: str = "a number", decimal: str = ".") -> float:
    """``"1,200.5"`` → 1200.5; with ``decimal=","`` (semicolon-separated files) ``"1.200,5"`` → 1200.5."""
    t = text.strip().replace("\u00a0", "").replace(" ", "")
    if not t or not _NUMBER[decimal].match(t) or t in {"+", "-", ".", ","}:
        raise CellError(f"expected {what}, got {text!r}")
    thousands = "," if decimal == "." else "."
    value = float(t.replace(thousands, "").replace(",", "."))
    if not math.isfinite(value):
        raise CellError(f"expected {what}, got {text!r}")
    return value


_POWER_UNITS = {"": None, "w": 1e-6, "kw": 1e-3, "mw": 1.0, "gw": 1e3}


def parse_capacity_mw(text: str, *, column_unit: str = "mw", decimal: str = ".") -> float:
    """A power capacity in megawatts: ``"300"``, ``"300 MW"``, ``"1.2 GW"``, ``"1,200"``.

    ``column_unit`` is the unit the column name implies (``"gw"`` for a ``capacity_gw`` column);
    a unit written in the cell wins.
    """
    m = _WITH_UNIT.match(text.replace("\u00a0", " "))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _POWER_UNITS:
        raise CellError(
            f"expected a capacity in megawatts such as 120 or '120 MW' or '1.2 GW', got {text!r}"
        )
    value = parse_float(m.group(1), what="a capacity in megawatts such as 120 or '1.2 GW'", decimal=decimal)
    factor = _POWER_UNITS[unit] if unit else _POWER_UNITS[column_unit]
    mw = value * float(factor or 1.0)
    if mw < 0:
        raise CellError(f"expected a capacity of zero or more megawatts, got {text!r}")
    if mw > MAX_SITE_MW:
        raise CellError(
            f"expected a site capacity in megawatts, got {text!r} = {mw:,.0f} MW, more than any mining site "
            f"(> {MAX_SITE_MW:,.0f} MW); is it in kW? Divide by 1000 or write the unit, e.g. '300 MW'"
        )
    return mw


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_SLASH_MONTH = re.compile(r"^(\d{1,2})/(\d{4})$")
_NAMED_MONTH = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{4})$")


def parse_date(text: str, *, today: dt.date, what: str = "a date") -> str:
    """A date at the precision given: ``"2024"``, ``"2024-12"``, ``"2024-12-31"``, ``"Dec 2024"``, ``"12/2024"``.

    Returns ISO text of the same precision. Dates after ``today`` are errors.
    """
    t = text.strip()
    year = month = day = None
    if m := _ISO.match(t):
        year, month, day = int(m.group(1)), m.group(2) and int(m.group(2)), m.group(3) and int(m.group(3))
    elif m := _SLASH_MONTH.match(t):
        year, month = int(m.group(2)), int(m.group(1))
    elif (m := _NAMED_MONTH.match(t)) and m.group(1)[:3].lower() in _MONTHS:
        year, month = int(m.group(2)), _MONTHS[m.group(1)[:3].lower()]
    else:
        raise CellError(f"expected {what} as YYYY-MM or YYYY-MM-DD (or YYYY), got {text!r}")
    try:
        first = dt.date(year, month or 1, day or 1)
    except ValueError:
        raise CellError(f"expected {what} that exists on the calendar, got {text!r}") from None
    if first > today:
        raise CellError(f"expected {what} not after today ({today.isoformat()}), got {text!r}; a future date is a typo or a plan, not data")
    if day:
        return first.isoformat()
    if month:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


def parse_month(text: str, *, today: dt.date) -> str:
    """A month as ``"YYYY-MM"``; CCAF writes the first of the month (``2020-04-01``)."""
    iso = parse_date(text, today=today, what="a month")
    if len(iso) == 4:
        raise CellError(f"expected a month as YYYY-MM, got a year only {text!r}")
    return iso[:7]


def parse_share(text: str, *, percent_column: bool, decimal: str = ".") -> float:
    """A share as a fraction: ``"65.08%"`` → 0.6508; in a percent column ``"65.08"`` → 0.6508.

    In a fraction column (``share``) a bare number must lie in [0, 1]: ``"65.08"`` there is an
    error, because 0.65 and 65 % cannot be told apart safely.
    """
    t = text.strip()
    is_pct = t.endswith("%")
    number = parse_float(t.rstrip("%").strip(), what="a share such as 0.6508 or '65.08%'", decimal=decimal)
    # Divide in decimal so that "65.08%" is exactly the float 0.6508, as a person reads it.
    value = float(Decimal(repr(number)) / 100) if (is_pct or percent_column) else number
    if value < 0 or value > 1.0 + 1e-9:
        if not (is_pct or percent_column) and 1 < number <= 100:
            raise CellError(
                f"expected a share as a fraction in [0, 1], got {text!r}; write '{t}%' or name the column 'share_%'"
            )
        raise CellError(f"expected a share between 0% and 100%, got {text!r}")
    return value


_HASH_UNITS = {"h/s": 1e-18, "kh/s": 1e-15, "mh/s": 1e-12, "gh/s": 1e-9, "th/s": 1e-6, "ph/s": 1e-3, "eh/s": 1.0, "zh/s": 1e3}
_HASH = re.compile(r"^\s*([+-]?[\d.,]+)\s*([kmgtpez]?h/s)?\s*$", re.IGNORECASE)


def parse_hashrate_ehs(text: str, *, column_unit: str | None, decimal: str = ".") -> float:
    """A hashrate in EH/s: ``"12.5 EH/s"``, ``"350 PH/s"``; a bare number takes the column's unit."""
    m = _HASH.match(text)
    if not m:
        raise CellError(f"expected a hashrate such as '12.5 EH/s' or '350 PH/s', got {text!r}")
    unit = (m.group(2) or column_unit or "").lower()
    if unit not in _HASH_UNITS:
        raise CellError(f"expected a hashrate with a unit (EH/s, PH/s, TH/s), got {text!r}; write e.g. '12.5 EH/s' or name the column hashrate_ehs")
    value = parse_float(m.group(1), what="a hashrate", decimal=decimal) * _HASH_UNITS[unit]
    if value < 0:
        raise CellError(f"expected a hashrate of zero or more, got {text!r}")
    return value


_STATUS_WORDS = {
    "operational": "operational", "operating": "operational", "online": "operational", "active": "operational",
    "energized": "operational", "energised": "operational", "live": "operational", "running": "operational",
    "under construction": "under_construction", "construction": "under_construction", "building": "under_construction",
    "in construction": "under_construction", "under development": "under_construction",
    "planned": "planned", "plan": "planned", "pipeline": "planned", "announced": "planned", "proposed": "planned",
    "development": "planned",
    "curtailed": "curtailed", "paused": "curtailed", "idle": "curtailed", "suspended": "curtailed",
    "closed": "closed", "decommissioned": "closed", "shut down": "closed", "shutdown": "closed", "retired": "closed",
}


def parse_status(text: str) -> str:
    """One of :data:`~capacitymap.schema.STATUSES`; common synonyms ("online", "energized") accepted."""
    key = re.sub(r"[\s_\-]+", " ", text.strip().lower())
    if key in _STATUS_WORDS:
        return _STATUS_WORDS[key]
    raise CellError(f"expected a status, one of {', '.join(STATUSES)}, got {text!r}")


def parse_url(text: str) -> str:
    """An http(s) URL by the one link policy (:func:`capacitymap.urls.http_url`); anything else is an error."""
    url = http_url(text)
    if url is not None:
        return url
    raise CellError(f"expected an http(s) link such as 'https://example.com/report', got {text!r}")


def parse_bool(text: str) -> bool:
    """The boolean a cell spells (true/yes/y/1, false/no/n/0 or empty); CellError otherwise."""
    key = text.strip().lower()
    if key in {"true", "yes", "y", "1"}:
        return True
    if key in {"false", "no", "n", "0", ""}:
        return False
    raise CellError(f"expected true or false, got {text!r}")
