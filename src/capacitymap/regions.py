"""The region gazetteer: what people write ("Texas", "TX", "内蒙古", "Iran, Islamic Rep.") → canonical codes.

Admin-1 regions resolve to ISO 3166-2 (``US-TX``); countries to ISO 3166-1 alpha-2 (``US``).
Names are matched after folding case, accents, letters such as ø/æ/ð, apostrophes, punctuation and white
space. The shipped layer carries Natural Earth's names and alternates, ISO 3166-2's names as pycountry ships
them and their translations into each country's official languages (added at build time, so geolocation
databases' "Khakasiya, Respublika" or "Almaty oblysy" are known as written); this module adds CCAF's and
news spellings and AP's state abbreviations ("Tex.", "Calif.", "N.Y."). A name not known as written is
looked up again without its generic designators ("Tatarstan Republic", "Krasnodar Krai").

A name that fits more than one place raises :class:`AmbiguousRegionError` listing them; context (a country,
or the level being joined) decides, and a place's own primary name (or its exact written form) beats another
place's alternate. An unknown name raises :class:`UnknownRegionError` with "did you mean" suggestions of the
asked country, ranked by whole-word similarity ("Pensilvania" -> Pennsylvania).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from rapidfuzz import fuzz, process

from capacitymap.errors import AmbiguousRegionError, UnknownRegionError
from capacitymap.schema import OTHER_COUNTRY
from capacitymap.vocab import Level

__all__ = ["Gazetteer", "Place", "Level", "normalize_name", "strip_designators", "default_gazetteer", "AP_ABBREVIATIONS", "DESIGNATORS"]

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

#: The Associated Press's state abbreviations (AP Stylebook; the eight states AP never abbreviates are left
#: out), with the older forms still common in news copy ("Tex.", "Calif.", "Penn.").
AP_ABBREVIATIONS: Mapping[str, str] = {
    "Ala.": "US-AL", "Ariz.": "US-AZ", "Ark.": "US-AR", "Calif.": "US-CA", "Cal.": "US-CA", "Colo.": "US-CO",
    "Conn.": "US-CT", "Del.": "US-DE", "D.C.": "US-DC", "Fla.": "US-FL", "Ga.": "US-GA", "Ill.": "US-IL",
    "Ind.": "US-IN", "Kan.": "US-KS", "Kans.": "US-KS", "Ky.": "US-KY", "La.": "US-LA", "Md.": "US-MD",
    "Mass.": "US-MA", "Mich.": "US-MI", "Minn.": "US-MN", "Miss.": "US-MS", "Mo.": "US-MO", "Mont.": "US-MT",
    "Neb.": "US-NE", "Nebr.": "US-NE", "Nev.": "US-NV", "N.H.": "US-NH", "N.J.": "US-NJ", "N.M.": "US-NM",
    "N.Mex.": "US-NM", "N.Y.": "US-NY", "N.C.": "US-NC", "N.D.": "US-ND", "N.Dak.": "US-ND", "Okla.": "US-OK",
    "Ore.": "US-OR", "Oreg.": "US-OR", "Pa.": "US-PA", "Penn.": "US-PA", "Penna.": "US-PA", "R.I.": "US-RI",
    "S.C.": "US-SC", "S.D.": "US-SD", "S.Dak.": "US-SD", "Tenn.": "US-TN", "Tex.": "US-TX", "Vt.": "US-VT",
    "Va.": "US-VA", "Wash.": "US-WA", "W.Va.": "US-WV", "Wis.": "US-WI", "Wisc.": "US-WI", "Wyo.": "US-WY",
}

#: Generic designators that say what kind of region a name is, not which one ("Tatarstan, Respublika",
#: "Almaty oblysy", "Sverdlovskaya oblast'", "Krasnodar Krai", "Dalarnas län"), folded, longest first.
#: A name not known as written is looked up again without them.
DESIGNATORS: tuple[str, ...] = tuple(sorted({
    "avtonomnyy okrug", "avtonomnyj okrug", "avtonomnaya oblast", "autonomous okrug", "autonomous oblast",
    "autonomous region", "autonomous republic", "autonomous province", "avtonomnyy", "okrug", "ao",
    "respublika", "republic of", "republic", "oblast", "oblasti", "oblysy", "oblys", "obl", "kray", "krai",
    "province of", "province", "provincia de", "provincia", "provinz", "state of", "state", "estado de", "estado",
    "lan", "laen", "county", "fylke", "region", "territory", "federal territory", "wilayah persekutuan",
    "sheng", "zizhiqu", "ostan e", "ostan", "mkhare", "departamento de", "departamento", "land", "bundesland",
}, key=lambda d: (-len(d), d)))
_DESIGNATOR = re.compile(r"(?:^| )(?:" + "|".join(re.escape(d) for d in DESIGNATORS) + r")(?= |$)")

# Chinese administrative suffixes, longest first: 新疆维吾尔自治区 → 新疆, 黑龙江省 → 黑龙江.
_CHINESE_SUFFIXES = (
    "维吾尔自治区", "維吾爾自治區", "壮族自治区", "壯族自治區", "回族自治区", "回族自治區",
    "自治区", "自治區", "省", "市",
)
_PUNCT = re.compile(r"[\s\-_.,()*/\[\]]+")
#: Apostrophes and soft signs vanish inside a word: "K'akheti" is "Kakheti", "Arkhangel'sk" is "Arkhangelsk".
_APOSTROPHES = re.compile(r"['’ʼʻ`´‘]")
#: Letters that carry no combining accent but are written without it in ASCII ("Møre", "Höfuðborgarsvæði").
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "ð": "d", "þ": "th", "ł": "l", "đ": "d", "œ": "oe", "ı": "i", "ħ": "h"})


def normalize_name(text: str) -> str:
    """Fold a name for matching: NFKC, case-fold, strip accents, drop apostrophes, punctuation and CCAF's ``*``.

    >>> normalize_name("  Québec ")
    'quebec'
    >>> normalize_name("Germany *")
    'germany'
    >>> normalize_name("Møre og Romsdal")
    'more og romsdal'
    """
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text).translate(_LETTERS)
    text = _APOSTROPHES.sub("", text)
    return _PUNCT.sub(" ", text).strip()


def strip_designators(key: str) -> str:
    """A folded name without its generic designators ("respublika", "oblysy", "oblast", "kray", "län"...).

    >>> strip_designators(normalize_name("Khakasiya, Respublika"))
    'khakasiya'
    >>> strip_designators(normalize_name("Yamalo-Nenetskiy avtonomnyy okrug"))
    'yamalo nenetskiy'

    A name that is nothing but designators ("Republic") is kept as it is.
    """
    stripped = " ".join(_DESIGNATOR.sub(" ", f" {key} ").split())
    return stripped or key


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
        # Names that carried a generic designator, by their key without it ("khakasiya" from "Khakasiya,
        # Respublika"): asked when a name is not known as written.
        self._designated: dict[str, set[tuple[Level, str]]] = defaultdict(set)
        for row in admin0.itertuples(index=False):
            if row.iso_a2:
                self._add_country(row.iso_a2, row.name, [row.iso_a3])
        self._add_country(OTHER_COUNTRY, "Other", [])
        for alias, code in COUNTRY_ALIASES.items():
            self._index[normalize_name(alias)].add(("country", code))
        for row in admin1.itertuples(index=False):
            self._add_region(row)
        for alias, code in (*REGION_ALIASES.items(), *AP_ABBREVIATIONS.items()):
            if ("admin1", code) in self._places:
                self._index[normalize_name(alias)].add(("admin1", code))
                # As written, with its periods, an AP abbreviation is AP's: "Mo." is Missouri, "MO" also Morelos.
                self._written[_as_written(alias)].add(("admin1", code))
        for key, hits in list(self._index.items()):
            stripped = strip_designators(key)
            if stripped != key:
                self._designated[stripped] |= {h for h in hits if h[0] == "admin1"}
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
        hits = self._within(hits, level, country_code)
        if not hits and level != "country":
            # Not known as written: without generic designators, first among names that had one
            # ("Tatarstan Republic" -> "Tatarstan, Respublika"), then among all ("Krasnodar Krai" -> "Krasnodar").
            bare = strip_designators(key)
            hits = self._within(set(self._designated.get(bare, ())), level, country_code) or (
                self._within(set(self._index.get(bare, ())), "admin1", country_code) if bare != key else set()
            )
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

    def _within(self, hits: set[tuple[Level, str]], level: Level | None, country_code: str | None) -> set[tuple[Level, str]]:
        """The hits of the asked level and country (a country given: its regions before the country itself)."""
        if level is not None:
            hits = {h for h in hits if h[0] == level}
        if country_code is not None:
            hits = {h for h in hits if h[0] == "country" or self._places[h].country == country_code}
            if level is None and any(h[0] == "admin1" for h in hits):
                hits = {h for h in hits if h[0] == "admin1"}
        return hits

    def region(self, text: str, *, country: str | None = None) -> Place:
        """Resolve an admin-1 region (state, province)."""
        return self.resolve(text, level="admin1", country=country)

    def country(self, text: str) -> Place:
        """Resolve a country."""
        return self.resolve(text, level="country")

    def suggest(self, text: str, *, level: Level | None = None, country: str | None = None, limit: int = 3) -> list[str]:
        """Up to ``limit`` close spellings of known names (for "did you mean"), best first.

        Only names of the asked level and country are candidates. The score fits single words: the edit
        similarity of the whole names (so "Pensilvania" gets Pennsylvania, not the Iowa, Illinois or Virginia
        that share a fragment with it), or of their words in any order, with and without designators.
        """
        return list(self._suggest(normalize_name(text), level, country, limit))

    @lru_cache(maxsize=4096)  # noqa: B019 - the gazetteer lives as long as the process; rows repeat names
    def _suggest(self, key: str, level: Level | None, country: str | None, limit: int) -> tuple[str, ...]:
        if not key:
            return ()
        keys, bare_keys = self._candidates(level, country)
        bare = strip_designators(key)
        scored: dict[str, float] = {}
        searches = [(key, keys, fuzz.ratio), (key, keys, fuzz.token_sort_ratio), (bare, bare_keys, fuzz.ratio)]
        for query, choices, scorer in searches:
            for _, score, i in process.extract(query, choices, scorer=scorer, limit=25, score_cutoff=_SUGGEST_CUTOFF):
                candidate = keys[i]
                scored[candidate] = max(scored.get(candidate, 0.0), score)
        found: list[str] = []
        for candidate in sorted(scored, key=lambda k: (-scored[k], k)):
            hit = sorted(self._scoped(candidate, level, country))[0]
            label = f"{self._places[hit].name} ({self._places[hit].code})"
            if label not in found:
                found.append(label)
            if len(found) == limit:
                break
        return tuple(found)

    @lru_cache(maxsize=64)  # noqa: B019
    def _candidates(self, level: Level | None, country: str | None) -> tuple[list[str], list[str]]:
        """The keys of the asked level and country, and the same keys without designators."""
        keys = [k for k in self._keys if self._scoped(k, level, country)]
        return keys, [strip_designators(k) for k in keys]

    def _scoped(self, key: str, level: Level | None, country: str | None) -> list[tuple[Level, str]]:
        return [
            h for h in self._index[key]
            if (level is None or h[0] == level) and (country is None or h[0] == "country" or self._places[h].country == country)
        ]

    @staticmethod
    def _describe_scope(level: Level | None, country: str | None) -> str:
        what = {"admin1": "region", "country": "country", None: "region or country"}[level]
        return f"{what} in {country}" if country and level != "country" else what


#: Suggestions score at least this (0-100) to be offered.
_SUGGEST_CUTOFF = 70.0


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The gazetteer of the shipped boundary layers (built once per process)."""
    from capacitymap.io.boundaries import read_admin0, read_admin1

    return Gazetteer(read_admin1().drop(columns="geometry"), read_admin0().drop(columns="geometry"))
