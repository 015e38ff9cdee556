"""The gazetteer: what people write → canonical codes."""

from __future__ import annotations

import re

import pytest

from capacitymap.errors import AmbiguousRegionError, UnknownRegionError
from capacitymap.regions import (
    AP_ABBREVIATIONS,
    Gazetteer,
    _chinese_short_forms,
    default_gazetteer,
    normalize_name,
    strip_designators,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [(" texas ", "texas"), ("Québec", "quebec"), ("Germany *", "germany"), ("Iran, Islamic Rep.", "iran islamic rep"),
     ("内蒙古", "内蒙古"), ("Nei-Mongol", "nei mongol")],
)
def test_normalize_name_folds_case_accents_and_punctuation(text: str, folded: str) -> None:
    assert normalize_name(text) == folded


@pytest.mark.parametrize(
    ("text", "code"),
    [("Texas", "US-TX"), ("TX", "US-TX"), ("US-TX", "US-TX"), (" texas ", "US-TX"), ("us-tx", "US-TX"),
     ("Quebec", "CA-QC"), ("Québec", "CA-QC"), ("QC", "CA-QC"), ("CA-QC", "CA-QC"),
     ("Inner Mongolia", "CN-NM"), ("Nei Mongol", "CN-NM"), ("内蒙古", "CN-NM"), ("內蒙古自治區", "CN-NM"),
     ("CN-NM", "CN-NM"), ("CN-15", "CN-NM"), ("CN.NM", "CN-NM")],
)
def test_region_spellings_resolve(gazetteer: Gazetteer, text: str, code: str) -> None:
    assert gazetteer.region(text).code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("Mainland China", "CN"), ("Iran, Islamic Rep.", "IR"), ("Russian Federation", "RU"), ("Germany *", "DE"),
     ("Ireland *", "IE"), ("United States", "US"), ("USA", "US"), ("Other", "ZZ"), ("CHN", "CN")],
)
def test_ccaf_country_spellings_resolve(gazetteer: Gazetteer, text: str, code: str) -> None:
    assert gazetteer.country(text).code == code


def test_georgia_is_ambiguous_without_context(gazetteer: Gazetteer) -> None:
    with pytest.raises(AmbiguousRegionError, match=r"'Georgia' could be US-GA \(Georgia, admin1\), GE \(Georgia, country\)") as err:
        gazetteer.resolve("Georgia")
    assert err.value.candidates == ("US-GA", "GE")


def test_georgia_resolves_by_context(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve("Georgia", level="admin1").code == "US-GA"
    assert gazetteer.resolve("Georgia", level="country").code == "GE"
    assert gazetteer.resolve("Georgia", country="US").code == "US-GA"
    assert gazetteer.resolve("Georgia", country="United States").code == "US-GA"


def test_bare_letters_need_their_country(gazetteer: Gazetteer) -> None:
    # "CA" is Canada's ISO code and California's postal code: the level decides.
    assert gazetteer.region("LA").code == "US-LA"
    assert gazetteer.country("CA").code == "CA"
    with pytest.raises(UnknownRegionError, match="unknown region in CA: 'TX'"):
        gazetteer.region("TX", country="CA")


def test_unknown_name_suggests_close_spellings(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownRegionError, match=r"unknown region: 'Texsa'; did you mean 'Texas \(US-TX\)'\?") as err:
        gazetteer.region("Texsa")
    assert err.value.candidates == ("Texas (US-TX)",)


def test_empty_name_is_an_error(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownRegionError, match="expected a region or country name, got '  '"):
        gazetteer.resolve("  ")


def test_chinese_short_forms_strip_administrative_suffixes() -> None:
    assert _chinese_short_forms("新疆维吾尔自治区") == ["新疆"]
    assert _chinese_short_forms("黑龙江省") == ["黑龙江"]
    assert _chinese_short_forms("北京市") == ["北京"]
    assert _chinese_short_forms("省") == []


# -- the real layers ------------------------------------------------------------------------------

def _resolves_to(g: Gazetteer, text: str, code: str, country: str) -> bool:
    """A name resolves to its region, or is honestly ambiguous with that region among the candidates."""
    try:
        return g.region(text, country=country).code == code
    except AmbiguousRegionError as exc:
        return code in exc.candidates


@pytest.mark.integration
def test_every_natural_earth_name_and_code_of_the_layer_resolves() -> None:
    from capacitymap.io import read_admin1

    g = default_gazetteer()
    failures = []
    for row in read_admin1().itertuples(index=False):
        names = [row.name, row.iso_3166_2, *row.name_alt.split("|"), *row.name_local.split("|"), *row.alias_code.split("|")]
        for name in filter(None, (n.strip() for n in names)):
            if not _resolves_to(g, name, row.iso_3166_2, row.iso_a2):
                failures.append((name, row.iso_3166_2))
        # Without a country, the name itself (not an alias shared with another place) must still resolve.
        try:
            found = g.region(row.name).code
        except AmbiguousRegionError as exc:
            found = row.iso_3166_2 if row.iso_3166_2 in exc.candidates else exc.candidates
        if found != row.iso_3166_2:
            failures.append((row.name, row.iso_3166_2, found))
    assert failures == []


@pytest.mark.integration
def test_postal_codes_resolve_in_us_canada_mexico() -> None:
    from capacitymap.io import read_admin1

    g = default_gazetteer()
    layer = read_admin1()
    checked = 0
    for row in layer[layer["iso_a2"].isin(["US", "CA", "MX"])].itertuples(index=False):
        for letters in {row.postal, row.iso_3166_2.split("-")[1]} - {""}:
            assert g.region(letters, country=row.iso_a2).code == row.iso_3166_2, (letters, row.iso_3166_2)
            checked += 1
    assert checked >= 51 + 13 + 32


@pytest.mark.integration
def test_chinese_postal_letters_never_resolve_bare() -> None:
    g = default_gazetteer()
    # Natural Earth's postal "HE" is Henan; ISO's CN-HE is Hebei. Only full codes resolve.
    assert g.region("CN-HE").name == "Hebei"
    assert g.region("CN-HA").name == "Henan"
    assert g.region("CN-41").name == "Henan"
    with pytest.raises(UnknownRegionError):
        g.region("HE", country="CN")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "code"),
    [("Texas", "US-TX"), ("TX", "US-TX"), (" texas ", "US-TX"), ("Quebec", "CA-QC"), ("Québec", "CA-QC"),
     ("QC", "CA-QC"), ("Inner Mongolia", "CN-NM"), ("Nei Mongol", "CN-NM"), ("内蒙古", "CN-NM"), ("CN-15", "CN-NM"),
     ("Xinjiang", "CN-XJ"), ("Xinjiang Uygur", "CN-XJ"), ("新疆", "CN-XJ"), ("CN-65", "CN-XJ"), ("Sichuan", "CN-SC"),
     ("四川", "CN-SC"), ("Tibet", "CN-XZ")],
)
def test_real_layer_resolves_what_people_write(text: str, code: str) -> None:
    assert default_gazetteer().region(text).code == code


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "code"),
    [("Mainland China", "CN"), ("Iran, Islamic Rep.", "IR"), ("Russian Federation", "RU"), ("Germany *", "DE"),
     ("Ireland *", "IE"), ("United States", "US"), ("Kazakhstan", "KZ"), ("Malaysia", "MY"), ("Canada", "CA"),
     ("Norway", "NO"), ("Sweden", "SE"), ("Iceland", "IS"), ("Paraguay", "PY"), ("Ethiopia", "ET"), ("Other", "ZZ")],
)
def test_real_layer_resolves_ccaf_countries(text: str, code: str) -> None:
    assert default_gazetteer().country(text).code == code


@pytest.mark.integration
def test_real_layer_georgia_ambiguity() -> None:
    with pytest.raises(AmbiguousRegionError, match="GE .*US-GA|US-GA.*GE"):
        default_gazetteer().resolve("Georgia")


@pytest.mark.integration
@pytest.mark.parametrize(("text", "code"), [("Shanxi", "CN-SX"), ("Shaanxi", "CN-SN"), ("Nei Mongol", "CN-NM")])
def test_a_primary_name_beats_another_regions_alternate(text: str, code: str) -> None:
    # Natural Earth lists "Shanxi" among Shaanxi's alternates; CCAF's "Shanxi" is CN-SX.
    assert default_gazetteer().region(text, country="CN").code == code


# -- what people and geolocation databases write (issue 14) -----------------------------------------

@pytest.mark.parametrize(
    ("text", "folded"),
    [("Møre og Romsdal", "more og romsdal"), ("Höfuðborgarsvæði", "hofudborgarsvaedi"), ("K'akheti", "kakheti"),
     ("Arkhangel’skaya oblast'", "arkhangelskaya oblast"), ("Dalarnas län [SE-20]", "dalarnas lan se 20"),
     ("Khorāsān-e Raẕavī", "khorasan e razavi")],
)
def test_normalize_name_folds_letters_and_apostrophes(text: str, folded: str) -> None:
    assert normalize_name(text) == folded


@pytest.mark.parametrize(
    ("text", "bare"),
    [("Khakasiya, Respublika", "khakasiya"), ("Republic of Tatarstan", "tatarstan"), ("Almaty oblysy", "almaty"),
     ("Sverdlovskaya oblast'", "sverdlovskaya"), ("Krasnodar Krai", "krasnodar"), ("Altayskiy kray", "altayskiy"),
     ("Yamalo-Nenetskiy avtonomnyy okrug", "yamalo nenetskiy"), ("Yevreyskaya avtonomnaya oblast'", "yevreyskaya"),
     ("Dalarnas län", "dalarnas"), ("Wilayah Persekutuan Putrajaya", "putrajaya"), ("Republic", "republic"),
     ("Texas", "texas"), ("Oblasti Hill", "hill")],
)
def test_strip_designators(text: str, bare: str) -> None:
    assert strip_designators(normalize_name(text)) == bare


def test_designator_forms_resolve_on_a_small_gazetteer(gazetteer: Gazetteer) -> None:
    # The synthetic layer knows only "Inner Mongol"/"Nei Mongol": designators around it are generic.
    assert gazetteer.region("Nei Mongol Zizhiqu").code == "CN-NM"
    assert gazetteer.region("Inner Mongol Autonomous Region").code == "CN-NM"
    assert gazetteer.region("State of Texas").code == "US-TX"
    with pytest.raises(UnknownRegionError):
        gazetteer.region("Autonomous Region")


@pytest.mark.parametrize("text", ["Tex.", "Tex", "tex."])
def test_ap_abbreviation_on_a_small_gazetteer(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.region(text).code == "US-TX"
    assert gazetteer.region("La.", country="US").code == "US-LA"
    with pytest.raises(UnknownRegionError):
        gazetteer.region("Tex.", country="CA")  # AP's list is for US states only


def test_suggestions_rank_by_whole_word_similarity(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownRegionError) as err:
        gazetteer.region("Lousiana")
    assert err.value.candidates[0] == "Louisiana (US-LA)"
    assert gazetteer.suggest("Quebek", country="US") == []  # only the stated country's regions are offered
    assert gazetteer.suggest("Quebek", country="CA") == ["Québec (CA-QC)"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "country", "code"),
    [("Khakasiya, Respublika", "RU", "RU-KK"), ("Sankt-Peterburg", "RU", "RU-SPE"), ("Saha, Respublika", "RU", "RU-SA"),
     ("Vologodskaya oblast'", "RU", "RU-VLG"), ("Arkhangel'skaya oblast'", "RU", "RU-ARK"), ("Moskva", "RU", "RU-MOW"),
     ("Moskovskaya oblast'", "RU", "RU-MOS"), ("Moscow Oblast", "RU", "RU-MOS"), ("Moscow", "RU", "RU-MOW"),
     ("Yamalo-Nenetskiy avtonomnyy okrug", "RU", "RU-YAN"), ("Zabaykal'skiy kray", "RU", "RU-ZAB"),
     ("Tatarstan Republic", "RU", "RU-TA"), ("Republic of Khakasiya", "RU", "RU-KK"), ("Sverdlovsk Oblast", "RU", "RU-SVE"),
     ("Krasnodar Krai", "RU", "RU-KDA"), ("Республика Татарстан", "RU", "RU-TA"),
     ("Almaty oblysy", "KZ", "KZ-19"), ("Almaty", "KZ", "KZ-75"), ("Almaty Oblast", "KZ", "KZ-19"),
     ("Ongtustik Qazaqstan oblysy", "KZ", "KZ-61"), ("Türkistan oblysy", "KZ", "KZ-61"), ("Batys Qazaqstan oblysy", "KZ", "KZ-27"),
     ("Terengganu", "MY", "MY-11"), ("Wilayah Persekutuan Kuala Lumpur", "MY", "MY-14"),
     ("Khorasan-e Razavi", "IR", "IR-09"), ("Azarbayjan-e Sharqi", "IR", "IR-03"), ("Sistan va Baluchestan", "IR", "IR-11"),
     ("Veracruz de Ignacio de la Llave", "MX", "MX-VER"), ("Coahuila de Zaragoza", "MX", "MX-COA"), ("Ciudad de Mexico", "MX", "MX-CMX"),
     ("Dalarnas lan", "SE", "SE-W"), ("Västra Götalands län", "SE", "SE-O"), ("More og Romsdal", "NO", "NO-15"),
     ("Sor-Trondelag", "NO", "NO-16"), ("Hofudborgarsvaedi", "IS", "IS-1"), ("K'akheti", "GE", "GE-KA"),
     ("Rach'a-Lechkhumi-Kvemo Svaneti", "GE", "GE-RL"), ("Nouvelle-Écosse", "CA", "CA-NS"), ("Colombie-Britannique", "CA", "CA-BC"),
     ("Adis Abeba", "ET", "ET-AA"), ("Téhéran", "IR", "IR-23")],
)
def test_real_layer_resolves_iso_names_and_database_forms(text: str, country: str, code: str) -> None:
    assert default_gazetteer().region(text, country=country).code == code


@pytest.mark.integration
@pytest.mark.parametrize("abbreviation", sorted(AP_ABBREVIATIONS))
def test_real_layer_resolves_every_ap_abbreviation(abbreviation: str) -> None:
    assert default_gazetteer().region(abbreviation).code == AP_ABBREVIATIONS[abbreviation]
    assert default_gazetteer().region(abbreviation, country="US").code == AP_ABBREVIATIONS[abbreviation]


@pytest.mark.integration
@pytest.mark.parametrize(("text", "first"), [("Pensilvania", "Pennsylvania (US-PA)"), ("Misissippi", "Mississippi (US-MS)"),
                                             ("Sverdlovskya oblast", "Sverdlovsk (RU-SVE)"), ("Kalifornia", "California (US-CA)")])
def test_real_layer_suggests_the_region_a_misspelling_resembles(text: str, first: str) -> None:
    country = first.split("(")[1][:2]
    with pytest.raises(UnknownRegionError, match=rf"did you mean '{re.escape(first)}'") as err:
        default_gazetteer().region(text, country=country)
    assert err.value.candidates[0] == first
    with pytest.raises(UnknownRegionError) as err:
        default_gazetteer().region(text)
    assert err.value.candidates[0] == first


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "code"),
    [("Beijing", "CN-BJ"), ("Gansu", "CN-GS"), ("Nei Mongol", "CN-NM"), ("Qinghai", "CN-QH"), ("Shanxi", "CN-SX"),
     ("Sichuan", "CN-SC"), ("Xinjiang", "CN-XJ"), ("Yunnan", "CN-YN"), ("Inner Mongolia", "CN-NM")],
)
def test_real_layer_resolves_ccaf_province_names(text: str, code: str) -> None:
    assert default_gazetteer().region(text, country="CN").code == code


@pytest.mark.integration
def test_names_benchmark_checks_names_against_the_regions_holding_their_points() -> None:
    import importlib.util
    from pathlib import Path

    import pandas as pd

    repo = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("names_benchmark", repo / "benchmarks" / "names.py")
    names = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(names)
    frame = pd.read_csv(repo / "tests" / "fixtures" / "messy" / "geolocated_points.csv", keep_default_na=False, na_values=[""])
    out = names.measure(frame, "Avg Hashrate")
    # Kota Kinabalu's point is 2 km off Sabah's coast: the join's 25 km rule puts it in Sabah.
    assert sorted((iso3, name) for iso3, name, *_ in out["right"]) == [
        ("KAZ", "Almaty"), ("KAZ", "Almaty oblysy"), ("MYS", "Sabah"), ("RUS", "Khakasiya, Respublika"), ("RUS", "Vologodskaya oblast'")]
    assert [(w[0], w[1], w[2], w[3]) for w in out["wrong"]] == [("GEO", "Guria", "GE-TB", "GE-GU")]  # Tbilisi's coordinates
    # The miss is listed with its heaviest point and that point's geodesic distance to the region named.
    assert out["wrong"][0][6] == (41.69278, 44.80154) and out["wrong"][0][7] == pytest.approx(179.6, abs=0.1)
    assert [(u[0], u[1], u[2], u[3]) for u in out["unknown"]] == [("USA", "Pensilvania", "US-PA", "Pennsylvania (US-PA)")]
    assert out["ambiguous"] == []
    assert out["out_of_scope"] == [("FRA", "Ile-de-France", 1)]
    assert out["no_name"] == [("USA", "-", 1)]


@pytest.mark.integration
def test_names_benchmark_places_points_as_aggregate_does() -> None:
    import importlib.util
    from pathlib import Path

    import pandas as pd

    from capacitymap.io import read_admin0, read_admin1

    spec = importlib.util.spec_from_file_location("names_benchmark", Path(__file__).resolve().parent.parent / "benchmarks" / "names.py")
    names = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(names)
    points = pd.DataFrame({"latitude": [22.5455, 22.2793, 5.9749, 40.3], "longitude": [114.0683, 114.1628, 116.0724, -73.6]})
    # Shenzhen; Hong Kong (a country without admin-1 regions in the layer); Kota Kinabalu, 2 km off Sabah;
    # 31 km off Long Island (placed nowhere).
    got = names.containing_region(points, read_admin1(), read_admin0()).tolist()
    assert got == ["CN-GD", "HK", "MY-12", ""]
