"""Form answers in the words people type (issue #21): an age in hanzi or as a birth year, a city
with its district or a district alone, an identity described instead of picked from the list, a
name inside a sentence or after its surname — read by the form whatever intent NLU gave them."""
from __future__ import annotations

from datetime import date

import pytest

from actions.camp_answers import only_a_place, parse_age, parse_city_answer
from tests.helpers.form_validation import CAMP, form_tracker, validate

AUTUMN = date(2026, 11, 28)
EARLIER = {"camp_name": "王磊", "camp_mobile": "13800138000", "camp_identity": "失业青年", "camp_age": "22"}
SPRING = date(2027, 3, 10)


@pytest.mark.parametrize("said,age", [
    ("22", 22), ("二十二", 22), ("22岁了", 22), ("俺今年22", 22), ("今年二十一", 21), ("周岁23", 23),
    ("刚满18", 18), ("二十四了", 24), ("19岁", 19), ("俺22 在青岛", 22),
])
def test_an_age_in_everyday_words(said, age):
    assert parse_age(said, AUTUMN) == age
    assert parse_age(said, SPRING) == age


@pytest.mark.parametrize("said,today,age", [
    ("00年的", AUTUMN, 26), ("俺是04年的", AUTUMN, 22), ("2003年出生", SPRING, 24), ("03年生人", AUTUMN, 23),
])
def test_a_birth_year_is_the_age_reached_this_year(said, today, age):
    assert parse_age(said, today) == age


@pytest.mark.parametrize("said", ["100", "5", "不知道", "不想说", "2050年的"])
def test_no_age(said):
    assert parse_age(said, AUTUMN) is None


@pytest.mark.parametrize("said,city", [
    ("俺在淄博张店", "淄博"), ("青岛黄岛区这边", "青岛"), ("济南市历下", "济南"), ("黄岛区这边", "青岛"),
    ("俺在章丘", "济南"), ("寿光", "潍坊"), ("在济南", "济南"), ("西海岸新区", "青岛"), ("临沂兰山", "临沂"),
])
def test_a_city_answer_with_or_without_the_city(said, city):
    assert parse_city_answer(said) == city


@pytest.mark.parametrize("said", ["北京", "不知道", "市中区", "随便"])
def test_no_shandong_city(said):
    assert parse_city_answer(said) is None


@pytest.mark.parametrize("said,place", [
    ("俺在淄博张店", True), ("青岛黄岛区这边", True), ("济南历下区这边儿", True), ("俺家是莱芜的", True),
    ("济南附近有服务点吗", False), ("济南附近的服务点", False), ("济南的招聘会", False), ("俺在家", False),
])
def test_a_longer_city_answer_says_a_place_and_nothing_else(said, place):
    assert only_a_place(said) is place


@pytest.mark.parametrize("requested,text,intent,slot,value", [
    ("camp_identity", "在家闲着 木干啥", "ask_policy", "camp_identity", "失业青年"),
    ("camp_identity", "刚辞职", "nlu_fallback", "camp_identity", "失业青年"),
    ("camp_identity", "在家待着呢 没活干", "find_job", "camp_identity", "失业青年"),
    ("camp_identity", "毕业了还木就业", "ask_policy", "camp_identity", "离校未就业毕业生"),
    ("camp_identity", "去年毕业的 木找着工作", "find_job", "camp_identity", "离校未就业毕业生"),
    ("camp_age", "二十二", "inform", "camp_age", "22"),
    ("camp_age", "俺今年二十三了", "inform", "camp_age", "23"),
    ("camp_city", "青岛黄岛区这边", "inform", "camp_city", "青岛"),
    ("camp_city", "俺在章丘", "inform", "camp_city", "济南"),
    ("camp_city", "俺在淄博张店", "find_service_point", "camp_city", "淄博"),
    ("camp_name", "免贵姓王 王磊", "inform", "camp_name", "王磊"),
    ("camp_name", "我姓徐，叫徐明", "inform", "camp_name", "徐明"),
    ("camp_name", "名字叫石磊", "inform", "camp_name", "石磊"),
    ("camp_name", "就叫我韩雪吧", "inform", "camp_name", "韩雪"),
    ("camp_name", "姓名是张三", "inform", "camp_name", "张三"),
    ("camp_mobile", "138 0013 8000", "inform", "camp_mobile", "13800138000"),
    ("camp_mobile", "13800138000 这个", "inform", "camp_mobile", "13800138000"),
    ("camp_mobile", "手机号13800138000", "inform", "camp_mobile", "13800138000"),
])
async def test_the_form_takes_the_answer_in_everyday_words(requested, text, intent, slot, value, action_runtime):
    # the text mapping hands the form the whole message, whatever the intent; the questions before
    # this one are answered (on the test Redis: with the city known, the form looks up the cohorts held)
    order = ["camp_name", "camp_mobile", "camp_identity", "camp_age"]
    before = order[:order.index(requested)] if requested in order else order
    filled = {k: v for k, v in EARLIER.items() if k in before}
    tracker = form_tracker(CAMP, requested, text, intent, extracted={requested: text}, filled=filled)
    messages, slots, _ = await validate(CAMP, tracker)
    assert slots.get(slot) == value, (text, messages)


async def test_a_spaced_number_is_taken_whole_when_the_phone_entity_took_only_part_of_it(action_runtime):
    # the entity extractor may tag "2559 1477" of "139 2559 1477": the message holds the whole number
    filled = {"camp_name": "王磊"}
    tracker = form_tracker(CAMP, "camp_mobile", "139 2559 1477", "inform", extracted={"camp_mobile": "2559 1477"}, filled=filled)
    _, slots, _ = await validate(CAMP, tracker)
    assert slots.get("camp_mobile") == "13925591477"
