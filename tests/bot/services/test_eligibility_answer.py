"""Eligibility questions answered from partial facts: verdicts, reasons, alternatives, and the same
decisions as `check_eligibility` whenever the facts are complete."""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from bot.services.camp import load_catalogue
from bot.services.eligibility import check_eligibility, load_rules, parse_rules
from bot.services.eligibility_answer import NO, OPEN, THEN_ENROL, YES, assess, eligibility_answer, ruled_out
from bot.services.eligibility_facts import Facts, parse_facts
from bot.services.reply_size import byte_len
from bot.settings import DEFAULT_CAMP_COHORTS_FILE


@dataclass(frozen=True)
class C:
    id: str
    title: str
    enroll_deadline: date = date.max


TODAY = date(2026, 11, 28)
RULES = parse_rules(
    {
        "identities": ["在校生", "离校未就业毕业生", "失业青年", "在职人员"],
        "groups": {
            "student": {"label": "毕业年级在校生", "identities": ["在校生"], "final_year_only": True},
            "graduate": {"label": "离校未就业毕业生", "identities": ["离校未就业毕业生"], "max_years_since_graduation": 2, "must_be_unemployed": True},
            "youth": {"label": "失业青年", "identities": ["失业青年"], "min_age": 16, "max_age": 24},
        },
        "cohorts": {"b": {"groups": ["graduate", "youth"], "max_age": 30}},
        "alternatives": ["一对一职业指导师咨询，说“转人工”即可"],
    }
)
A, B = C("a", "甲期"), C("b", "乙期")


def answer(**facts) -> str:
    return eligibility_answer(Facts(**facts), [A, B], TODAY, RULES)


def test_an_age_alone_names_the_cohorts_it_fits_and_asks_for_the_identity():
    assessment = assess(Facts(age=28), [A, B], TODAY, RULES)
    assert assessment.verdict == OPEN and assessment.needs()[0] == "identity"
    text = answer(age=28)
    head, *lines = text.splitlines()
    assert head.startswith("按您的情况（28岁）：能报，但要看您的身份")
    youth = next(line for line in lines if line.startswith("· 失业青年"))
    assert "乙期可报（16–30周岁）" in youth and "甲期不行：需在24周岁及以下（您28岁）" in youth
    student = next(line for line in lines if line.startswith("· 毕业年级在校生"))
    assert "甲期可报（不限年龄，2027年毕业）" in student and "乙期不招" in student
    # one question, the enrolment form's own, with the identities that can be taken (在职人员 never is)
    asked = lines.index("请选择您的身份（回复序号或直接说）：")
    assert lines[asked + 1:asked + 4] == ["1. 在校生", "2. 离校未就业毕业生", "3. 失业青年"]
    assert "告诉我" not in text and lines[asked + 4].startswith("也可以直接回复“报名”")


def test_complete_facts_say_yes_with_the_cohorts_and_no_form_question():
    text = answer(identity="失业青年", age=28)
    assert text.startswith("按您的情况（28岁、失业青年）：可以报名。")
    assert "乙期可报（16–30周岁）" in text and "回复“报名”" in text
    assert "姓名" not in text and "手机" not in text


def test_a_refusal_gives_every_reason_and_the_alternatives():
    text = answer(identity="失业青年", age=31)
    assert "很抱歉，暂不能报名" in text
    assert "甲期不行：需在24周岁及以下（您31岁）" in text and "乙期不行：需在30周岁及以下（您31岁）" in text
    assert "您可以考虑" in text and "转人工" in text
    text = answer(identity="在职人员", employed=True)
    assert "“在职人员”不在招收范围" in text and "转人工" in text


def test_a_graduate_presumed_without_a_job_is_told_so():
    text = answer(identity="离校未就业毕业生", graduation_year=2025, identity_inferred=True)
    assert "可以报名（按离校未就业毕业生算），前提是您目前未就业" in text
    assert "各期可报（毕业2年内）" in text
    assert "暂不能报名" in answer(identity="离校未就业毕业生", graduation_year=2025, employed=True)
    # presumed, not said: a graduate too long ago may still come in another way
    text = answer(identity="离校未就业毕业生", graduation_year=2021, identity_inferred=True)
    assert text.startswith("按您的情况（2021年毕业）：能报，但要看您的身份") and "乙期可报（16–30周岁）" in text
    assert "各期不行：需在毕业2年内（2024年及以后毕业），您于2021年毕业" in text


def test_no_open_cohort_says_so_and_offers_the_alternatives():
    text = eligibility_answer(Facts(age=20), [], TODAY, RULES)
    assert "没有正在报名" in text and "转人工" in text


PROFILES = [
    {"identity": i, "age": a, "graduation_year": g, "employed": e}
    for i, a, g, e in itertools.product(
        ("在校生", "应届毕业生", "离校未就业毕业生", "失业青年", "在职人员", "其他"),
        (15, 16, 24, 25, 29, 30, 35, 36),
        (None, 2021, 2023, 2024, 2025, 2026, 2027, 2028),
        (None, "是"),
    )
]


@pytest.mark.parametrize("days", [0, 120, 240])
def test_with_complete_facts_the_answer_decides_as_the_enrolment_check(days):
    """Every profile the form could submit, on three days of the year: a yes names exactly the
    cohorts `check_eligibility` accepts, and a no is a no there too."""
    today = date.today() + timedelta(days=days)
    rules = load_rules()
    cohorts = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, today).open_cohorts(today)
    for profile in PROFILES:
        if profile["identity"] in ("失业青年", "在职人员", "其他") and profile["graduation_year"]:
            continue  # not asked for these identities by the form
        facts = Facts(profile["identity"], profile["age"], profile["graduation_year"], None, profile["employed"] == "是" or None)
        accepted = [c.id for c in cohorts if check_eligibility(profile, c, today, rules=rules).eligible]
        assessment = assess(facts, cohorts, today, rules)
        if assessment.verdict == YES:
            assert [c.id for c in assessment.accepting()] == accepted, profile
        else:
            assert accepted == [], (profile, assessment.verdict)
            # open only when a fact is missing, which check_eligibility would ask for
            assert assessment.verdict == NO or None in (profile["age"], profile["graduation_year"]), profile


def test_the_answer_to_an_age_question_agrees_with_the_rules_for_every_cohort():
    today = date.today()
    rules = load_rules()
    cohorts = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, today).open_cohorts(today)
    youth = next(g for g in rules.groups.values() if g.max_age is not None)
    for age in (18, 25, 30, 35, 40):
        text = eligibility_answer(Facts(age=age), cohorts, today, rules)
        assert byte_len(text) <= 2048
        line = next(line for line in text.splitlines() if line.startswith(f"· {youth.label}："))
        for cohort in cohorts:
            fits = check_eligibility({"identity": youth.identities[0], "age": age}, cohort, today, rules=rules).eligible
            takes = youth.key in {g.key for g in rules.groups_for(cohort.id)}
            said_yes = re.search(rf"(各期|{cohort.title}[^；]*)可报", line) is not None
            assert said_yes == (fits and takes), (age, cohort.id, line)


def test_graduated_long_ago_is_answered_by_the_one_group_left_not_the_students_rules():
    rules = load_rules()
    day = date.today()
    cohorts = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, day).open_cohorts(day)
    reply = eligibility_answer(parse_facts("俺都毕业好多年了，实训营还收不", day, rules), cohorts, day, rules)
    assert "年龄" in reply and "失业青年" in reply and "在校生：" not in reply


def test_graduated_years_ago_hears_why_the_graduates_group_is_closed_and_what_else_there_is():
    rules = load_rules()
    day = date.today()
    cohorts = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, day).open_cohorts(day)
    reply = eligibility_answer(parse_facts("俺毕业五六年了，训练营还收人不", day, rules), cohorts, day, rules)
    head, *lines = reply.splitlines()
    assert "能报，但要看您的年龄" in head
    graduates = next(line for line in lines if line.startswith("· 离校未就业高校毕业生"))
    assert f"您于{day.year - 5}年毕业" in graduates and "不行" in graduates
    assert "转人工" in reply and "课程" in reply  # the alternatives, should the age not fit either
    assert byte_len(reply) <= 2048


def test_an_open_answer_without_facts_lists_the_conditions_only():
    assert "也可以考虑" not in answer()
    assert "也可以考虑" in answer(age=28)


def test_what_the_rules_do_not_decide_is_said_as_such_not_guessed():
    """A question about residence or a special identity: the verdict from the rules, and the
    matter they do not settle referred to 人社 / 12333 (no condition invented)."""
    text = "我不是山东的 老家河北的 在青岛待业 实训营能报吗"
    reply = eligibility_answer(parse_facts(text, TODAY, RULES), [A, B], TODAY, RULES, text)
    assert "没有列户籍要求" in reply and "12333" in reply and "能报，但要看您的年龄" in reply
    veteran = "我是退役军人 今年24 一直找不到工作 实训营让报吗"
    reply = eligibility_answer(parse_facts(veteran, TODAY, RULES), [A, B], TODAY, RULES, veteran)
    assert "可以报名" in reply and "退役军人" in reply and "户籍" not in reply
    assert "12333" not in answer(age=20, identity="失业青年")  # nothing to refer: no note


def test_an_answer_followed_by_the_enrolment_says_so_and_a_plain_no_is_ruled_out():
    rules, day = load_rules(), date(2026, 11, 28)
    cohorts = load_catalogue(DEFAULT_CAMP_COHORTS_FILE, day).open_cohorts(day)
    young = Facts(identity="失业青年", age=22)
    assert THEN_ENROL in eligibility_answer(young, cohorts, day, rules, enrolling=True)
    assert "回复“报名”" not in eligibility_answer(young, cohorts, day, rules, enrolling=True)
    assert not ruled_out(young, cohorts, day, rules)
    assert ruled_out(Facts(identity="失业青年", age=38), cohorts, day, rules)
    assert ruled_out(Facts(identity="在职人员"), cohorts, day, rules)
    assert ruled_out(young, [], day, rules)  # nothing open


def test_an_open_answer_ends_with_one_question_the_simulated_user_would_read():
    # the graduation year decides for a student: asked as the form asks it, on the last line
    text = answer(identity="在校生")
    assert text.splitlines()[-1].startswith("请问您哪一年毕业") and "告诉我" not in text
    assert answer(identity="失业青年").splitlines()[-1].startswith("请问您今年多少周岁？")


def test_a_yes_reached_by_answering_that_question_asks_whether_to_enrol_now():
    offered = eligibility_answer(Facts(identity="失业青年", age=22), [A, B], TODAY, RULES, offer=True)
    assert offered.endswith("现在就为您报名吗？回复“是”开始报名（回复“报名”也可以）。")
    assert "现在就为您报名吗" not in answer(identity="失业青年", age=22)  # a first answer says how, asks nothing
    assert "现在就为您报名吗" not in eligibility_answer(Facts(identity="失业青年", age=31), [A, B], TODAY, RULES, offer=True)
