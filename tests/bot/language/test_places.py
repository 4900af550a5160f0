import pytest

from bot.language.places import Coordinates, all_place_surface_forms, divisions, normalize_place, place_coordinates


def test_table_has_all_cities_and_counties():
    ds = divisions()
    assert sum(d.level == "prefecture" for d in ds) == 16
    assert sum(d.level == "county" for d in ds) == 136


@pytest.mark.parametrize(
    "text, expected",
    [
        ("济南市中区有没有能帮忙改简历的地方", ("济南市", "市中区")),
        ("枣庄市中区", ("枣庄市", "市中区")),
        ("市中区", (None, "市中区")),
        ("济南", ("济南市", None)),
        ("历下", ("济南市", "历下区")),
        ("我在莱芜", ("济南市", "莱芜区")),
        ("即墨市", ("青岛市", "即墨区")),
        ("胶南", ("青岛市", "黄岛区")),
        ("济宁市中区", ("济宁市", "任城区")),
        ("菏泽单县", ("菏泽市", "单县")),
        ("东营区", ("东营市", "东营区")),
        ("东营", ("东营市", None)),
        ("济南的黄岛区", ("青岛市", "黄岛区")),
        ("北京朝阳区", (None, None)),
        ("", (None, None)),
    ],
)
def test_normalize_place(text, expected):
    assert normalize_place(text) == expected


def test_ambiguous_district_uses_city_hint():
    assert normalize_place("市中区", city_hint="枣庄") == ("枣庄市", "市中区")
    assert normalize_place("市中区", city_hint="济南市") == ("济南市", "市中区")
    assert normalize_place("市中区", city_hint="青岛") == (None, "市中区")


def test_coordinates():
    c = place_coordinates("济南", "历下")
    assert isinstance(c, Coordinates) and 36 < c.lat < 37.5 and 116.5 < c.lon < 117.5
    zz = place_coordinates("枣庄市", "市中区")
    jn = place_coordinates("济南市", "市中区")
    assert zz and jn and zz != jn and zz.lat < 35.5 < jn.lat
    assert place_coordinates(None, "市中区") is None
    assert place_coordinates("莱芜") == place_coordinates("济南市", "莱芜区")
    assert place_coordinates("青岛市") is not None
    assert place_coordinates("火星") is None


def test_surface_forms_cover_every_official_name():
    forms = all_place_surface_forms()
    names = {d.name for d in divisions()}
    assert names <= set(forms["city"]) | set(forms["district"])
    assert "莱芜" in forms["district"] and "济南" in forms["city"]
