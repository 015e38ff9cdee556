"""The region gazetteer: what people write ("Texas", "TX", "内蒙古", "Iran, Islamic Rep.") → canonical codes.

Admin-1 regions resolve to ISO 3166-2 (``US-TX``); countries to ISO 3166-1 alpha-2 (``US``).
Names are matched after folding case, accents, punctuation and white space. A name that fits more
than one place raises :class:`AmbiguousRegionError` listing them; context (a country, or the level
being joined) decides. An unknown name raises :class:`UnknownRegionError` with "did you mean"
suggestions.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import pandas as pd
from rapidfuzz import fuzz, process

from capacitymap.errors import AmbiguousRegionError, UnknownRegionError
from capacitymap.schema import OTHER_COUNTRY

__all__ = ["Gazetteer", "Place", "Level", "normalize_name", "default_gazetteer"]

Level = Literal["admin1", "country"]

#: Countries whose Natural Earth postal letters are the everyday abbreviations people write.
#: China's are not (NE's ``HE`` is Henan, ISO's ``CN-HE`` is Hebei), so bare letters never resolve there.
POSTAL_COUNTRIES = frozenset({"US", "CA", "MX"})

#: Countries where bare letters mean different regions in different conventions, so only full codes resolve.
BARE_LETTERS_UNRELIABLE = frozenset({"CN"})

#: Country spellings seen in the field (CCAF exports, news copy) beyond Natural Earth's names.
COUNTRY_ALIASES: Mapping[str, str] = {
    "Mainland China": "CN",
    "China (Mainland)": "CN",
    "PRC": "CN",
    "People's Republic of China": "CN",
    "Iran, Islamic Rep.": "IR",
    "Iran (Islamic Republic of)": "IR",
    "Islamic Republic of Iran": "IR",
    "Russian Federation": "RU",
    "United States": "US",
    "United States of America": "US",
    "USA": "US",
    "U.S.": "US",
    "U.S.A.": "US",
    "America": "US",
    "UK": "GB",
    "United Kingdom": "GB",
    "Great Britain": "GB",
    "South Korea": "KR",
    "Korea, Rep.": "KR",
    "Venezuela, RB": "VE",
    "Hong Kong SAR, China": "HK",
    "Hong Kong SAR": "HK",
    "Taiwan, China": "TW",
    "Kyrgyz Republic": "KG",
    "Czech Republic": "CZ",
    "Other": OTHER_COUNTRY,
    "Others": OTHER_COUNTRY,
    "Rest of world": OTHER_COUNTRY,
}

#: Admin-1 spellings beyond Natural Earth's name / name_alt / name_local.
REGION_ALIASES: Mapping[str, str] = {
    "Inner Mongolia": "CN-NM",
    "Inner Mongolia Autonomous Region": "CN-NM",
    "Xinjiang Uyghur": "CN-XJ",
    "Xinjiang Uyghur Autonomous Region": "CN-XJ",
    "Xinjiang Uygur Autonomous Region": "CN-XJ",
    "Tibet Autonomous Region": "CN-XZ",
    "Guangxi Zhuang Autonomous Region": "CN-GX",
    "Ningxia Hui Autonomous Region": "CN-NX",
    "Quebec": "CA-QC",
    "Washington State": "US-WA",
    "Washington D.C.": "US-DC",
    "Washington, D.C.": "US-DC",
    "D.C.": "US-DC",
    "Mexico City": "MX-CMX",
    "Ciudad de México": "MX-CMX",
    "CDMX": "MX-CMX",
}

# Chinese administrative suffixes, longest first: 新疆维吾尔自治区 → 新疆, 黑龙江省 → 黑龙江.
_CHINESE_SUFFIXES = (
    "维吾尔自治区", "維吾爾自治區", "壮族自治区", "壯族自治區", "回族自治区", "回族自治區",
    "自治区", "自治區", "省", "市",
)
_PUNCT = re.compile(r"[\s\-_.,'’()*/]+")


def normalize_name(text: str) -> str:
    """Fold a name for matching: NFKC, case-fold, strip accents, drop punctuation and CCAF's ``*``.

    >>> normalize_name("  Québec ")
    'quebec'
    >>> normalize_name("Germany *")
    'germany'
    """
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text)
    return _PUNCT.sub(" ", text).strip()


def _as_written(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


@dataclass(frozen=True, slots=True)
class Place:
    """A resolved place: its level, canonical code, country and display name."""

    level: Level
    code: str
    country: str
    name: str


def _split(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return [part.strip() for part in str(value).split("|") if part.strip()]


def _chinese_short_forms(name: str) -> list[str]:
    for suffix in _CHINESE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return [name[: -len(suffix)]]
    return []


class Gazetteer:
    """Resolve names and codes to places, built from the admin-1 and admin-0 layers."""

    def __init__(self, admin1: pd.DataFrame, admin0: pd.DataFrame):
        self._places: dict[tuple[Level, str], Place] = {}
        self._index: dict[str, set[tuple[Level, str]]] = defaultdict(set)
        # A canonical ISO 3166-2 code always means its own region, whatever names it shares spelling with.
        self._codes: dict[str, tuple[Level, str]] = {}
        # A place's own primary name beats another place's alternate spelling of it ("Shanxi" is CN-SX's
        # name and, folded, Natural Earth's alternate for Shaanxi).
        self._primary: dict[str, set[tuple[Level, str]]] = defaultdict(set)
        # Names as written (case-folded, accents kept): pinyin tones tell Shǎnxī (Shaanxi) from Shānxī (Shanxi).
        self._written: dict[str, set[tuple[Level, str]]] = defaultdict(set)
        # Bare letters ("TX", "QC") and ISO suffixes resolve only inside their own country
        # or when they are unique across the countries that use postal letters.
        self._local: dict[tuple[str, str], set[str]] = defaultdict(set)
        for row in admin0.itertuples(index=False):
            if row.iso_a2:
                self._add_country(row.iso_a2, row.name, [row.iso_a3])
        self._add_country(OTHER_COUNTRY, "Other", [])
        for alias, code in COUNTRY_ALIASES.items():
            self._index[normalize_name(alias)].add(("country", code))
        for row in admin1.itertuples(index=False):
            self._add_region(row)
        for alias, code in REGION_ALIASES.items():
            if ("admin1", code) in self._places:
                self._index[normalize_name(alias)].add(("admin1", code))
        self._keys = sorted(self._index)

    # -- building -------------------------------------------------------------------------------
    def _add_country(self, code: str, name: str, extra: Iterable[str]) -> None:
        self._places[("country", code)] = Place("country", code, code, name)
        self._codes[normalize_name(code)] = ("country", code)
        self._primary[normalize_name(name)].add(("country", code))
        for key in (code, name, *extra):
            if key:
                self._index[normalize_name(key)].add(("country", code))
                self._written[_as_written(key)].add(("country", code))

    def _add_region(self, row: object) -> None:
        code: str = row.iso_3166_2  # type: ignore[attr-defined]
        country: str = row.iso_a2  # type: ignore[attr-defined]
        self._places[("admin1", code)] = Place("admin1", code, country, row.name)  # type: ignore[attr-defined]
        self._codes[normalize_name(code)] = ("admin1", code)
        self._primary[normalize_name(row.name)].add(("admin1", code))  # type: ignore[attr-defined]
        names = [row.name, *_split(row.name_alt), *_split(row.alias_code), code]  # type: ignore[attr-defined]
        local = _split(row.name_local)  # type: ignore[attr-defined]
        names += local + [short for n in local for short in _chinese_short_forms(n)]
        # code_hasc is not indexed: Natural Earth's HASC letters for China are its postal letters
        # (CN.HE is Henan), which clash with ISO codes (CN-HE is Hebei).
        for name in names:
            self._index[normalize_name(name)].add(("admin1", code))
            self._written[_as_written(name)].add(("admin1", code))
        suffix = code.split("-", 1)[1]
        if country not in BARE_LETTERS_UNRELIABLE:
            self._local[(country, normalize_name(suffix))].add(code)
        if country in POSTAL_COUNTRIES:
            postal = str(row.postal or "")  # type: ignore[attr-defined]
            for letters in {suffix, postal} - {""}:
                self._local[(country, normalize_name(letters))].add(code)
                self._index[normalize_name(letters)].add(("admin1", code))

    # -- resolving ------------------------------------------------------------------------------
    def place(self, level: Level, code: str) -> Place:
        """The place with this canonical code (``KeyError`` if unknown)."""
        return self._places[(level, code)]

    def codes(self, level: Level, country: str | None = None) -> list[Place]:
        """All places of a level, optionally of one country, sorted by code."""
        return sorted(
            (p for (lvl, _), p in self._places.items() if lvl == level and (country is None or p.country == country)),
            key=lambda p: p.code,
        )

    def resolve(self, text: str, *, level: Level | None = None, country: str | None = None) -> Place:
        """Resolve ``text`` to one place.

        ``level`` restricts the search to admin-1 regions or countries (the layer being joined);
        ``country`` (alpha-2, or anything :meth:`country` resolves) restricts admin-1 regions to one
        country and lets bare ISO/postal letters resolve ("TX" with country "US").
        """
        key = normalize_name(text)
        if not key:
            raise UnknownRegionError(f"expected a region or country name, got {text!r}", query=str(text))
        country_code = self.resolve(country, level="country").code if country else None
        exact = self._codes.get(key)
        if exact and exact[0] == "admin1" and level != "country" and (country_code is None or self._places[exact].country == country_code):
            return self._places[exact]
        hits = set(self._index.get(key, ()))
        if country_code and level != "country":
            hits |= {("admin1", c) for c in self._local.get((country_code, key), ())}
        if level is not None:
            hits = {h for h in hits if h[0] == level}
        if country_code is not None:
            hits = {h for h in hits if h[0] == "country" or self._places[h].country == country_code}
            if level is None and any(h[0] == "admin1" for h in hits):
                hits = {h for h in hits if h[0] == "admin1"}
        if len(hits) > 1:
            for narrower in (self._written.get(_as_written(text), set()), self._primary.get(key, set())):
                if len(hits & narrower) == 1:
                    hits = hits & narrower
                    break
        if len(hits) == 1:
            return self._places[hits.pop()]
        where = self._describe_scope(level, country_code)
        if not hits:
            suggestions = self.suggest(text, level=level, country=country_code)
            hint = f"; did you mean {' or '.join(repr(s) for s in suggestions)}?" if suggestions else ""
            raise UnknownRegionError(
                f"unknown {where}: {text!r}{hint} Run 'capacitymap regions' to list the known codes.",
                query=str(text),
                candidates=tuple(suggestions),
            )
        candidates = sorted(hits)
        listed = ", ".join(f"{self._places[h].code} ({self._places[h].name}, {h[0]})" for h in candidates)
        raise AmbiguousRegionError(
            f"ambiguous {where}: {text!r} could be {listed}; give a country column or use the code",
            query=str(text),
            candidates=tuple(self._places[h].code for h in candidates),
        )

    def region(self, text: str, *, country: str | None = None) -> Place:
        """Resolve an admin-1 region (state, province)."""
        return self.resolve(text, level="admin1", country=country)

    def country(self, text: str) -> Place:
        """Resolve a country."""
        return self.resolve(text, level="country")

    def suggest(self, text: str, *, level: Level | None = None, country: str | None = None, limit: int = 3) -> list[str]:
        """Up to ``limit`` close spellings of known names (for "did you mean")."""
        key = normalize_name(text)
        found: list[str] = []
        for candidate, score, _ in process.extract(key, self._keys, scorer=fuzz.WRatio, limit=25):
            if score < 80:
                break
            hits = self._index[candidate]
            ok = [
                h for h in hits
                if (level is None or h[0] == level) and (country is None or self._places[h].country == country or h[0] == "country")
            ]
            if ok:
                name = self._places[sorted(ok)[0]].name
                label = f"{name} ({self._places[sorted(ok)[0]].code})"
                if label not in found:
                    found.append(label)
            if len(found) == limit:
                break
        return found

    @staticmethod
    def _describe_scope(level: Level | None, country: str | None) -> str:
        what = {"admin1": "region", "country": "country", None: "region or country"}[level]
        return f"{what} in {country}" if country and level != "country" else what


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The gazetteer of the shipped boundary layers (built once per process)."""
    from capacitymap.io.boundaries import read_admin0, read_admin1

    return Gazetteer(read_admin1().drop(columns="geometry"), read_admin0().drop(columns="geometry"))
