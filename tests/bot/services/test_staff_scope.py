"""Staff scopes: what staff type (province, cities, counties) and what each covers."""
from __future__ import annotations

import pytest

from bot.services.staff_scope import StaffScope, area_of, parse_scope


def test_province_and_accounts_without_a_scope_cover_everyone():
    for text in ("province", "", None, "全省"):
        scope = parse_scope(text)
        assert scope.is_province and scope.covers("青岛市") and scope.covers("")
        assert scope.label() == "全省" and scope.areas() == ("province",)


def test_cities_are_normalised_and_cover_only_themselves():
    scope = parse_scope("青岛，烟台市")
    assert scope.cities == {"青岛市", "烟台市"}
    assert scope.covers("青岛市", "黄岛区") and scope.covers("烟台市")
    assert not scope.covers("济南市") and not scope.covers("")  # unknown city: the province's
    assert scope.covers_all(["青岛"]) and not scope.covers_all(["青岛市", "济南市"])
    assert not scope.covers_all([])  # no city named = the whole province
    assert parse_scope(scope.text()) == scope


def test_counties_narrow_their_city_only():
    scope = parse_scope("青岛市/黄岛区,烟台市")
    assert scope.covers("青岛市", "黄岛区") and not scope.covers("青岛市", "市南区")
    assert not scope.covers("青岛市")  # a Qingdao user of unknown county is the city's business
    assert scope.covers("烟台市", "莱山区")
    assert not scope.covers_all(["青岛市"])  # a county supervisor cannot address the whole city
    assert scope.label() == "烟台市、青岛市黄岛区"
    assert set(scope.areas()) == {"烟台市", "青岛市/黄岛区"}
    assert area_of("青岛市", "黄岛区") == ("青岛市", "青岛市/黄岛区") and area_of("", "") == ()


@pytest.mark.parametrize("text, says", [("北京市", "不是山东省的地级市"), ("青岛市/历下区", "不是青岛市的区县")])
def test_places_outside_shandong_or_the_city_are_refused(text, says):
    with pytest.raises(ValueError, match=says):
        parse_scope(text)


def test_an_empty_scope_object_is_the_province():
    assert StaffScope().is_province
