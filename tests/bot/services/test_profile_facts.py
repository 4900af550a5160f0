"""Facts from any message as entities (bot/services/profile_facts.py), read as users write them,
typos included; relative years on fixed days (1 January, 31 December, mid-year)."""
from __future__ import annotations

from datetime import date
from typing import Dict

import pytest

from bot.services.eligibility import load_rules
from bot.services.profile_facts import fact_entities, graduation_year_answer, speaks_of_self
from bot.services.schools import find_school, load_schools, school_by_name

RULES = load_rules()
DAYS = (date(2026, 1, 1), date(2026, 6, 15), date(2026, 12, 31), date(2027, 3, 8))


def facts(text: str, day: date) -> Dict[str, str]:
    return {e["entity"]: e["value"] for e in fact_entities(text, day, RULES)}


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize(
    "text,offset",
    [
        ("我去年毕业的，一直没找到工作", -1),
        ("俺是前年毕的业", -2),
        ("今年刚毕业 啥也不会", 0),
        ("明年毕业，想先了解一下", 1),
        ("我去年就毕业了", -1),
        ("我是前年本科毕业的，到现在还没上班", -2),  # the 学历 between the year and 毕业
        ("去年大专毕业，在家待着", -1),
    ],
)
def test_relative_graduation_years_move_with_the_day(text, offset, day):
    assert facts(text, day)["graduation_year"] == str(day.year + offset)


@pytest.mark.parametrize("day", DAYS)
def test_cohort_years_are_the_same_on_any_day(day):
    assert facts("我是25届的", day)["graduation_year"] == "2025"
    assert facts("2024届毕业生，还在找工作", day)["graduation_year"] == "2024"


def test_a_grade_counts_from_the_academic_year():
    # 大三 in December 2026 graduates in summer 2028; in March 2027 (same academic year) too;
    # in September 2027 the same words mean a year later
    assert facts("我大三，山师的", date(2026, 12, 31))["graduation_year"] == "2028"
    assert facts("我大三，山师的", date(2027, 3, 8))["graduation_year"] == "2028"
    assert facts("我大三，山师的", date(2027, 9, 10))["graduation_year"] == "2029"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("我今年24了", {"age": "24"}),
        ("俺35岁 大专学历", {"age": "35", "education": "大专"}),
        ("本人二十三周岁，本科", {"age": "23", "education": "本科"}),
        ("我是应届生，想报个班", {"identity": "应届毕业生"}),
        ("我失业半年了，失业金怎么领", {"identity": "失业青年"}),
        ("我是在校生哈", {"identity": "在校生"}),
    ],
)
def test_age_identity_education_as_users_write_them(text, expected):
    found = facts(text, date(2026, 12, 4))
    assert {k: found.get(k) for k in expected} == expected


def test_an_identity_guessed_from_a_year_is_not_stated():
    found = facts("去年毕业的", date(2026, 12, 4))
    assert found == {"graduation_year": "2025"}  # the form still asks which identity


@pytest.mark.parametrize(
    "text",
    ["失业金怎么领", "2025届毕业生有什么政策", "我儿子去年毕业，他能报名吗", "我同学25岁，也想参加"],
)
def test_facts_about_a_topic_or_someone_else_are_not_the_users(text):
    assert not speaks_of_self(text)
    assert not set(facts(text, date(2026, 12, 4))) & {"age", "graduation_year", "identity"}


@pytest.mark.parametrize(
    "text,school,city",
    [
        ("我是山东师范大学的", "山东师范大学", "济南市"),
        ("山师大三的学生", "山东师范大学", "济南市"),
        ("我青科大的", "青岛科技大学", "青岛市"),
        ("我是山大威海的", "山东大学（威海）", "威海市"),
        ("我在哈尔滨工业大学(威海)读研", "哈尔滨工业大学（威海）", "威海市"),
        ("我在曲师大上学", "曲阜师范大学", "济宁市"),
        ("我是中国石油大学的", "中国石油大学（华东）", "青岛市"),
        # common short names, and a campus in another city as its own entry
        ("我是山东大学青岛校区的", "山东大学（青岛）", "青岛市"),
        ("山大青岛的 今年毕业", "山东大学（青岛）", "青岛市"),
        ("中海大毕业的", "中国海洋大学", "青岛市"),
        ("我在青科读大四", "青岛科技大学", "青岛市"),
        ("我是济职的", "济南职业学院", "济南市"),
        ("齐工大的", "齐鲁工业大学", "济南市"),
    ],
)
def test_a_school_sets_school_and_its_city(text, school, city):
    found = facts(text, date(2026, 12, 4))
    assert found["school"] == school and found["city"] == city


def test_a_city_the_user_names_wins_over_the_schools():
    entities = [{"entity": "city", "value": "临沂市", "start": 5, "end": 7}]
    found = {e["entity"]: e["value"] for e in fact_entities("我是山大的，在临沂", date(2026, 12, 4), RULES, entities)}
    assert found["school"] == "山东大学" and found["city"] == "临沂市"


def test_short_names_inside_other_schools_names_are_not_schools():
    assert find_school("我在中山大学读书") is None
    assert find_school("上海大学的") is None
    assert school_by_name("青岛大学") is not None and school_by_name("青岛大学").city == "青岛市"


def test_a_place_near_a_school_gives_the_city_but_no_school_fact():
    found = facts("山大附近有服务点吗", date(2026, 12, 4))
    assert found == {"city": "济南市"}


def test_the_gazetteer_is_complete_and_marked_as_sample():
    schools = load_schools()
    assert len(schools) >= 50 and len({s.city for s in schools}) == 16  # every city of Shandong
    text = open("data/shandong_schools.csv", encoding="utf-8").read()
    assert "示例" in text.splitlines()[1]
    assert all(34 < s.latitude < 38.5 and 114.5 < s.longitude < 123 for s in schools)


@pytest.mark.parametrize(
    "answer,expected",
    [("去年", 2025), ("前年", 2024), ("今年", 2026), ("明年", 2027), ("25届", 2025), ("2023", 2023),
     ("大四", 2027), ("还没想好", None), ("", None)],
)
def test_graduation_year_answers(answer, expected):
    assert graduation_year_answer(answer, date(2026, 12, 4), RULES) == expected


def test_another_extractors_span_is_kept_and_its_year_read_as_age_dropped():
    diet = [{"entity": "identity", "value": "应届毕业生", "start": 2, "end": 5, "extractor": "DIETClassifier"}]
    found = fact_entities("我是应届生，想报名实训营", date(2026, 12, 4), RULES, diet)
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in found] == [("identity", "应届毕业生", 2, 5)]
    diet = [{"entity": "age", "value": "24", "start": 9, "end": 11, "extractor": "DIETClassifier"}]
    found = {e["entity"]: e["value"] for e in fact_entities("不对，我是往届的，24届", date(2026, 12, 4), RULES, diet)}
    assert found == {"identity": "离校未就业毕业生", "graduation_year": "2024"}


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize(
    "text,offset",
    [
        ("我今年6月份刚毕业，到现在还没找着工作", 0),  # the month between the year and 毕业
        ("今年六月毕业的", 0),
        ("我去年夏天毕业的", -1),
        ("嗯 那个 去年从青科大毕业的 一直没找着工作", -1),  # the school left between them
    ],
)
def test_when_in_the_year_and_the_school_left_between_year_and_graduation(text, offset, day):
    assert facts(text, day)["graduation_year"] == str(day.year + offset)


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("text,born", [("我95年的", 1995), ("我是2003年出生的", 2003), ("俺00年生人", 2000)])
def test_a_birth_year_gives_the_age_reached_this_year(text, born, day):
    assert facts(text, day)["age"] == str(day.year - born)


def test_a_birth_year_is_no_graduation_year_and_a_recent_year_no_birth_year():
    day = date(2026, 12, 5)
    assert facts("我00年的 大专毕业两年了 一直在家待业", day) == {
        "age": "26", "graduation_year": "2024", "education": "大专", "identity": "离校未就业毕业生"}
    assert facts("我24年的大专毕业", day) == {"graduation_year": "2024", "education": "大专"}


@pytest.mark.parametrize("text", ["一直没找着工作", "到现在也没找着活", "找不着工作", "年后就没活干了"])
def test_colloquial_no_job_is_unemployed(text):
    assert facts(text, date(2026, 12, 5))["identity"] == "失业青年"


def test_a_voice_typed_run_on_gives_every_fact():
    text = "嗯 那个 我就是说 我今年二十二了 去年从青科大毕业的 一直没找着工作 那个实训营我想报一下"
    assert facts(text, date(2026, 12, 5)) == {
        "age": "22", "graduation_year": "2025", "identity": "离校未就业毕业生",
        "school": "青岛科技大学", "city": "青岛市"}
