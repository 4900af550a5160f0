"""A name and a phone said before a form starts — in a side question, a handoff request, a form left
for another — are given to the new form, never asked again (actions/form_early_answers.py `said_before`)."""
from __future__ import annotations

import re

import pytest

from actions.form_early_answers import answered_name, said_before
from tests.helpers.action_tracker import bot_said, make_tracker

BOOKING_OPEN = ["booking_name", "booking_phone"]


def test_a_name_said_in_a_policy_question_goes_to_the_booking():
    earlier = bot_said("action_knowledge_answer", "俺叫赵德明 在日照开货车的 想问问跑运输的有啥补贴")
    tracker = make_tracker("那帮俺约个老师聊聊吧", "book_workshop", events=earlier)
    assert said_before(tracker, BOOKING_OPEN) == {"booking_name": "赵德明"}


def test_a_callback_number_left_with_the_handoff_goes_to_the_booking():
    earlier = bot_said("action_request_human", "找人工 俺手机13912345678 下午都在")
    tracker = make_tracker("先约个简历指导 越快越好", "book_workshop", events=earlier)
    assert said_before(tracker, BOOKING_OPEN) == {"booking_phone": "13912345678"}


def test_the_paused_form_lends_its_name_and_phone():
    paused = {"form": "camp_enrollment_form", "requested": "camp_school", "at": 0,
              "slots": {"camp_name": "林晓雪", "camp_phone": "13787654321", "camp_identity": "在校生"}}
    tracker = make_tracker("先约个面试辅导", "book_workshop", slots={"paused_form": paused})
    assert said_before(tracker, BOOKING_OPEN) == {"booking_name": "林晓雪", "booking_phone": "13787654321"}


def test_nothing_said_before_or_before_the_session_began_is_given():
    assert said_before(make_tracker("约个面试辅导", "book_workshop"), BOOKING_OPEN) == {}
    old_session = bot_said("action_request_human", "转人工 电话13912345678") + [{"event": "session_started"}]
    assert said_before(make_tracker("约个面试辅导", "book_workshop", events=old_session), BOOKING_OPEN) == {}
    # only the name and phone: a city or an age said before is for the forms' own readers
    earlier = bot_said("action_knowledge_answer", "俺在潍坊 今年23")
    assert said_before(make_tracker("报实训营", "enroll_camp", events=earlier), ["camp_city", "camp_age"]) == {}


@pytest.mark.parametrize("typed", ["确认", "对的", "好的", "可以"])
def test_a_yes_typed_at_the_name_question_is_no_name(typed):
    tracker = make_tracker(typed, "affirm", slots={"requested_slot": "booking_name"})
    assert answered_name(typed, tracker, "booking_name", re.compile(r"^[\u4e00-\u9fa5A-Za-z·•\s]{2,20}$")) is None
    said = make_tracker("宋雨桐", "inform", slots={"requested_slot": "booking_name"})
    assert answered_name("宋雨桐", said, "booking_name", re.compile(r"^[\u4e00-\u9fa5]{2,20}$")) == "宋雨桐"
