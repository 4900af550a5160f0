"""Eligibility rules (config/eligibility.yml), table-driven: each group, each boundary."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from bot.services.eligibility import check_eligibility, load_rules, parse_rules


@dataclass(frozen=True)
class C:
    id: str
    enroll_deadline: date
    label: str = "测试期"


OPEN = C("any-cohort", date(2027, 12, 31))
NOV = date(2026, 11, 28)  # autumn: final-year students graduate in 2027
MAR = date(2027, 3, 10)  # spring: final-year students graduate this summer (2027)
JUL = date(2027, 7, 15)  # after graduation month: 2027 graduates have left school


CASES = [
    # identity, graduation_year, age, employed, today, eligible, reason fragment
    ("在校生", 2027, None, None, NOV, True, ""),
    ("在校生", 2028, None, None, NOV, False, "2027年毕业"),
    ("在校生", 2026, None, None, NOV, False, "2027年毕业"),
    ("在校生", None, None, None, NOV, False, "毕业年份"),
    ("在校生", 2027, None, None, MAR, True, ""),
    ("在校生", 2028, None, None, MAR, False, "2027年毕业"),
    ("应届毕业生", 2027, None, None, NOV, True, ""),  # the 2027 class counts as final-year
    ("应届毕业生", 2026, None, None, NOV, True, ""),  # graduated this summer, not employed
    ("离校未就业毕业生", 2026, None, None, NOV, True, ""),
    ("离校未就业毕业生", 2024, None, None, NOV, True, ""),  # exactly 2 years: in
    ("离校未就业毕业生", 2023, None, None, NOV, False, "毕业2年内"),  # 3 years: out
    ("离校未就业毕业生", 2025, None, None, MAR, True, ""),
    ("离校未就业毕业生", 2027, None, None, MAR, False, "尚未离校"),
    ("离校未就业毕业生", 2027, None, None, JUL, True, ""),
    ("离校未就业毕业生", 2025, None, "是", NOV, False, "已就业"),
    ("离校未就业毕业生", None, None, None, NOV, False, "毕业年份"),
    ("失业青年", None, 15, None, NOV, False, "年满16"),
    ("失业青年", None, 16, None, NOV, True, ""),
    ("失业青年", None, 24, None, NOV, True, ""),
    ("失业青年", None, 25, None, NOV, False, "24周岁及以下"),
    ("失业青年", None, None, None, NOV, False, "年龄"),
    ("在职人员", 2025, 23, None, NOV, False, "不在招收范围"),
    ("其他", None, 20, None, NOV, False, "不在招收范围"),
    ("", None, 20, None, NOV, False, "身份"),
]


@pytest.mark.parametrize("identity,grad,age,employed,today,eligible,why", CASES)
def test_groups_and_boundaries(identity, grad, age, employed, today, eligible, why):
    profile = {"identity": identity, "graduation_year": grad, "age": age, "employed": employed}
    decision = check_eligibility(profile, OPEN, today)
    assert decision.eligible is eligible, decision
    if eligible:
        assert decision.reasons == () and decision.group
    else:
        assert any(why in r for r in decision.reasons), decision.reasons
        # a refusal always offers something else (workshops, courses, a counsellor)
        assert any("转人工" in a for a in decision.alternatives)
        assert "您可以考虑" in decision.message()


# Per-cohort limits from the real config: qd-2026-12 takes graduates and unemployed youth up to 29;
# online-2026-12 takes everyone up to 35 and graduates within 3 years.
LIMIT_CASES = [
    ("qd-2026-12", {"identity": "失业青年", "age": 29}, True),
    ("qd-2026-12", {"identity": "失业青年", "age": 30}, False),
    ("qd-2026-12", {"identity": "在校生", "graduation_year": 2027}, False),
    ("online-2026-12", {"identity": "失业青年", "age": 35}, True),
    ("online-2026-12", {"identity": "失业青年", "age": 36}, False),
    ("online-2026-12", {"identity": "离校未就业毕业生", "graduation_year": 2023}, True),
    ("online-2026-12", {"identity": "离校未就业毕业生", "graduation_year": 2022}, False),
    ("jn-2026-12", {"identity": "失业青年", "age": 25}, False),  # default 24 applies
]


@pytest.mark.parametrize("cohort_id,profile,eligible", LIMIT_CASES)
def test_per_cohort_limits_from_config(cohort_id, profile, eligible):
    decision = check_eligibility(profile, C(cohort_id, date(2026, 12, 31)), NOV)
    assert decision.eligible is eligible, decision


def test_deadline_passed_refuses_and_suggests_cohorts_that_fit():
    closed = C("jn-2026-12", date(2026, 11, 20), "济南第12期")
    other = C("online-2026-12", date(2026, 12, 13), "线上第4期")
    decision = check_eligibility({"identity": "失业青年", "age": 30}, closed, NOV, other_cohorts=[closed, other])
    assert not decision.eligible
    assert any("11月20日截止" in r for r in decision.reasons)
    assert any("24周岁" in r for r in decision.reasons)
    assert decision.alternatives[0] == "线上第4期（可报名）"  # 30 ≤ the online cohort's 35


def test_rules_are_configuration(tmp_path):
    rules = parse_rules(
        {
            "identities": ["失业青年"],
            "groups": {"y": {"label": "失业青年", "identities": ["失业青年"], "min_age": 16, "max_age": 30}},
            "alternatives": ["转人工"],
        }
    )
    assert check_eligibility({"identity": "失业青年", "age": 30}, OPEN, NOV, rules=rules).eligible
    assert not check_eligibility({"identity": "失业青年", "age": 31}, OPEN, NOV, rules=rules).eligible
    with pytest.raises(ValueError):
        parse_rules({"groups": {}, "cohorts": {"x": {"groups": ["nope"]}}})
    assert "失业青年" in load_rules().describe()
