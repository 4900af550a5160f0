"""Facts read from how people ask ("俺35了还能报不", "大专毕业两年了"), relative to the day given."""
from __future__ import annotations

from datetime import date

import pytest

from bot.services.eligibility import load_rules
from bot.services.eligibility_facts import Facts, facts_from_profile, identity_in_text, parse_facts

AUTUMN = date(2026, 11, 28)  # final-year students graduate next summer (2027)
SPRING = date(2027, 3, 10)  # final-year students graduate this summer (2027)

CASES = [
    # text, today, expected fields (anything not listed must stay None/False)
    # someone else's age, dialect for having no job, a school named without 从
    ("帮俺弟报个名 他19 在临沂", AUTUMN, {"age": 19}),
    ("俺闺女24了", AUTUMN, {"age": 24}),
    ("俺21 木有工作", AUTUMN, {"age": 21, "identity": "失业青年", "employed": False}),
    ("俺去年潍坊学院毕业的", AUTUMN, {"graduation_year": 2025, "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("俺35了还能报实训营不", AUTUMN, {"age": 35}),
    ("我三十五岁能报吗", AUTUMN, {"age": 35}),
    ("今年24", AUTUMN, {"age": 24}),
    ("虚岁二十三 能参加吗", AUTUMN, {"age": 23}),
    ("我X岁能报吗", AUTUMN, {}),
    ("我这种情况符合条件吗", AUTUMN, {}),
    ("实训营有3期吗", AUTUMN, {}),  # a number that is no age
    ("我24届的能报吗", AUTUMN, {"graduation_year": 2024, "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("2023年毕业的本科生", AUTUMN, {"graduation_year": 2023, "education": "本科", "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("2023年6月毕业的本科生", AUTUMN, {"graduation_year": 2023, "education": "本科", "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("我2023年夏天毕业", AUTUMN, {"graduation_year": 2023, "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("12月毕业答辩", AUTUMN, {}),  # a month is no year
    ("大专毕业两年了能参加不", AUTUMN, {"graduation_year": 2024, "education": "大专", "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("大专毕业两年了能参加不", SPRING, {"graduation_year": 2025, "education": "大专", "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("去年毕业的能报吗", AUTUMN, {"graduation_year": 2025, "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("刚毕业能报吗", AUTUMN, {"graduation_year": 2026, "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("刚毕业能报吗", SPRING, {"graduation_year": 2026, "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("研究生明年毕业", AUTUMN, {"graduation_year": 2027, "education": "硕士", "identity": "在校生", "identity_inferred": True}),
    ("我大四 能参加吗", AUTUMN, {"graduation_year": 2027, "identity": "在校生"}),
    ("我大四 能参加吗", SPRING, {"graduation_year": 2027, "identity": "在校生"}),
    ("我是大三的", AUTUMN, {"graduation_year": 2028, "identity": "在校生"}),
    ("大专大三", AUTUMN, {"graduation_year": 2027, "education": "大专", "identity": "在校生"}),
    ("毕业两年了还没找到工作", AUTUMN, {"graduation_year": 2024, "identity": "离校未就业毕业生", "employed": False}),
    ("大四了还没工作", AUTUMN, {"graduation_year": 2027, "identity": "在校生", "employed": False}),
    ("我是失业青年 30岁", AUTUMN, {"identity": "失业青年", "age": 30, "employed": False}),
    ("中专毕业，22岁，没工作", AUTUMN, {"identity": "失业青年", "age": 22, "education": "中专", "employed": False}),
    ("我在职能报吗", AUTUMN, {"identity": "在职人员", "employed": True}),
    ("工作了三年 能参加吗", AUTUMN, {"identity": "在职人员", "employed": True}),
    ("俺在厂里上着班呢 能去不", AUTUMN, {"identity": "在职人员", "employed": True}),
    ("上个月刚入职 还能报吗", AUTUMN, {"identity": "在职人员", "employed": True}),
    ("我想找份工作 能参加实训营吗", AUTUMN, {}),  # looking for work is no job, and no identity
    # a range of years is read as its lower end; longer ago than any cohort takes graduates: a 失业青年
    ("俺毕业五六年了，训练营还收人不", AUTUMN, {"graduation_year": 2021, "identity": "失业青年", "identity_inferred": True}),
    ("毕业了都三四年了", AUTUMN, {"graduation_year": 2023, "identity": "离校未就业毕业生", "identity_inferred": True}),
    ("毕业都4年多了，现在27，还没工作", AUTUMN, {"graduation_year": 2022, "age": 27, "identity": "失业青年", "employed": False}),
    ("我2019年大专毕业 一直没找到工作", AUTUMN, {"graduation_year": 2019, "education": "大专", "identity": "失业青年", "employed": False}),
    # no job said in everyday words: idle at home, a job left, 木 for 没 in dialect
    ("在家闲着 木干啥", AUTUMN, {"identity": "失业青年", "employed": False}),
    ("俺在家待着呢", AUTUMN, {"identity": "失业青年", "employed": False}),
    ("刚辞职", AUTUMN, {"identity": "失业青年", "employed": False}),
    ("上个月被裁了", AUTUMN, {"identity": "失业青年", "employed": False}),
    ("厂子黄了 俺22", AUTUMN, {"identity": "失业青年", "age": 22, "employed": False}),
    ("俺还木找着活", AUTUMN, {"identity": "失业青年", "employed": False}),
    ("我想辞职 能报吗", AUTUMN, {}),  # a job not left yet
    # a graduate without a year, a 高校 one unless a lower 学历 is said
    ("毕业了还木就业", AUTUMN, {"identity": "离校未就业毕业生", "employed": False}),
    ("本科毕业后一直没找着工作", AUTUMN, {"identity": "离校未就业毕业生", "education": "本科", "employed": False}),
    ("离校了没找到工作", AUTUMN, {"identity": "离校未就业毕业生", "employed": False}),
    ("高中毕业 木活干了", AUTUMN, {"identity": "失业青年", "education": "高中", "employed": False}),
    ("快毕业了 还没找到工作", AUTUMN, {"identity": "失业青年", "employed": False}),
    ("毕业好多年了 没工作", AUTUMN, {"identity": "失业青年", "employed": False}),
    ("去年毕业的 木找着工作", AUTUMN, {"graduation_year": 2025, "identity": "离校未就业毕业生", "employed": False}),
]


@pytest.mark.parametrize("text,today,expected", CASES)
def test_facts_from_questions(text, today, expected):
    facts = parse_facts(text, today, load_rules())
    assert facts == Facts(**expected), text


def test_entities_fill_in_what_the_text_patterns_miss():
    entities = [{"entity": "age", "value": "27"}, {"entity": "identity", "value": "待业"}, {"entity": "education", "value": "专科"}]
    facts = parse_facts("这样的能报吗", AUTUMN, load_rules(), entities)
    assert (facts.age, facts.identity, facts.education) == (27, "失业青年", "大专")


def test_identity_words_read_the_negation_first():
    identities = load_rules().identities
    assert identity_in_text("没工作", identities) == "失业青年"
    assert identity_in_text("还没上班", identities) == "失业青年"
    assert identity_in_text("上班了", identities) == "在职人员"
    assert identity_in_text("离校未就业毕业生", identities) == "离校未就业毕业生"
    assert identity_in_text("找工作", identities) is None


def test_the_message_wins_over_the_profile_and_the_profile_fills_the_rest():
    profile = {"identity": "离校未就业毕业生", "graduation_year": "2025", "age": "23", "employed": "否"}
    facts = parse_facts("我24岁", AUTUMN, load_rules()).over(profile)
    assert facts == Facts(identity="离校未就业毕业生", age=24, graduation_year=2025, employed=False)
    assert facts_from_profile({}) == Facts()
    assert Facts(age=24, graduation_year=2025).as_profile() == {"age": "24", "graduation_year": "2025"}
    assert parse_facts("大专毕业两年了", AUTUMN, load_rules()).summary(AUTUMN) == "大专、2024年毕业"



@pytest.mark.parametrize("text", ["毕业好多年了，能参加不", "俺都毕业十来年了", "我早就毕业了"])
def test_graduated_long_ago_is_a_presumed_young_unemployed_person_without_a_year(text):
    facts = parse_facts(text, AUTUMN, load_rules())
    assert facts.identity == "失业青年" and facts.identity_inferred and facts.graduation_year is None
    assert parse_facts(text + "，现在在上班", AUTUMN, load_rules()).identity == "在职人员"


@pytest.mark.parametrize("text", ["俺就是离校没就业的", "离校到现在还没工作", "俺离校后没找着工作"])
def test_left_school_without_a_job_is_a_graduate_not_an_unemployed_youth(text: str) -> None:
    assert identity_in_text(text) == "离校未就业毕业生"



@pytest.mark.parametrize("text", [
    "俺去年大专毕业的 到现在还木有找着活",
    "前年本科毕业 一直没找到合适的工作",
    "25年毕业的 一直木有稳定工作",
])
def test_no_job_is_read_with_the_kind_of_job_between(text: str) -> None:
    facts = parse_facts(text, AUTUMN, load_rules())
    assert facts.employed is False and facts.identity == "离校未就业毕业生"
