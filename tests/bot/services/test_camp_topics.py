"""Camp questions with an answer of their own (bot/services/camp_topics.py)."""
from __future__ import annotations


import pytest

from bot.services.camp_topics import camp_topic_answer


class FakeCohort:
    title, capacity, contact = "青岛第8期", 30, "0532-85000002"


@pytest.mark.parametrize("text, needles", [
    ("要是人满了咋整 能候补不", ["候补", "递补", "青岛第8期：30人"]),
    ("青岛那期满员了木", ["候补"]),
    ("去的时候要带啥东西不 身份证要不要", ["开营前", "通知", "0532-85000002"]),
])
def test_a_full_cohort_or_what_to_bring_has_an_answer_of_its_own(text, needles):
    answer = camp_topic_answer(text, [FakeCohort()])
    assert answer is not None and all(n in answer for n in needles)


@pytest.mark.parametrize("text", ["实训营在哪上课 一共几天", "收费不", "实训营是干啥的"])
def test_other_camp_questions_get_the_camp_text(text):
    assert camp_topic_answer(text, [FakeCohort()]) is None


def test_the_answers_never_invent_what_to_bring():
    answer = camp_topic_answer("要带啥", [])
    assert "以开营前的通知为准" in answer and "咨询电话" in answer  # no list of documents of our own


def test_the_fee_has_an_answer_of_its_own_only_where_asked_for():
    class Paid(FakeCohort):
        fee = "免费"

    assert camp_topic_answer("收费不 要钱的话俺就不去了", [Paid()]) is None  # the camp text says it
    assert "免费" in camp_topic_answer("收费不 要钱的话俺就不去了", [Paid()], fee=True)
