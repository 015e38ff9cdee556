"""The gazetteer: what people write → canonical codes."""

from __future__ import annotations

import pytest

from capacitymap.errors import AmbiguousRegionError, UnknownRegionError
from capacitymap.regions import Gazetteer, _chinese_short_forms, default_gazetteer, normalize_name


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
