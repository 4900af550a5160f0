"""What the camp enrolment reads ahead from any message (actions/camp_ahead.py)."""
from __future__ import annotations

import pytest

from actions.camp import current_catalogue, today
from actions.camp_ahead import camp_answers_ahead, major_in_text


@pytest.mark.parametrize("text, major", [
    ("俺前年从临沂大学毕业的 学护理 一直没找着活", "护理"),
    ("人在德州 学的电子商务 想报个名", "电子商务"),
    ("我是聊城大学汉语言文学专业的", "汉语言文学"),
    ("俺是曲阜师范大学大四的 学数学的 能报不", "数学"),
    ("俺是25届的 学的会计 还木上班", "会计"),
])
def test_a_major_said_in_passing_is_found(text: str, major: str) -> None:
    assert major_in_text(text) == major


@pytest.mark.parametrize("text", ["想学点东西 找个活干", "俺初中毕业 没上过学", "上学那会儿没好好学", "学习一下面试"])
def test_no_major_is_read_from_words_that_are_not_one(text: str) -> None:
    assert major_in_text(text) is None


def test_an_online_cohort_named_in_words_is_kept_for_the_cohort_question(action_runtime) -> None:
    online = [c for c in current_catalogue().open_cohorts(today()) if c.online]
    found = camp_answers_ahead("那就给俺报线上那期吧", ["camp_name", "camp_cohort"], current_catalogue(), today())
    assert found == ({"camp_cohort": online[0].id} if len(online) == 1 else {})
    assert camp_answers_ahead("那就给俺报线上那期吧", ["camp_name"], current_catalogue(), today()) == {}


def test_the_city_one_lives_in_names_no_cohort(action_runtime) -> None:
    said = "行 实训营俺也想报一个 俺就是离校没就业的 人就在济南 学的会计"
    assert "camp_cohort" not in camp_answers_ahead(said, ["camp_name", "camp_cohort"], current_catalogue(), today())


def test_school_and_major_said_in_passing_are_kept_as_the_form_slots() -> None:
    from actions.camp_ahead import studies_in_passing

    assert studies_in_passing("俺去年鲁东大学毕业的 学数学的 人在烟台 还木工作") == {"camp_school": "鲁东大学", "camp_major": "数学"}
    assert studies_in_passing("俺在烟台 还木工作") == {}


def test_facts_stated_at_another_question_keep_the_school_and_major_said_with_them(action_runtime) -> None:
    from actions.camp import ValidateCampEnrollmentForm
    from tests.helpers.action_tracker import make_tracker

    tracker = make_tracker("俺去年鲁东大学毕业的 学数学的 人在烟台 还木工作", "nlu_fallback", slots={"requested_slot": "camp_identity"})
    stated = ValidateCampEnrollmentForm().facts_stated("camp_identity", tracker)
    assert stated["camp_school"] == "鲁东大学" and stated["camp_major"] == "数学"
