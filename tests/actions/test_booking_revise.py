"""A change of an earlier booking answer at a later question (actions/booking/revise.py and
`ValidateWorkshopBookingForm.revise`): a new time or topic replaces the old one and the sessions are
offered again; a name stays a name; and leaving the form keeps its answers for "继续"."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.booking import revise
from actions.booking.form import ActionBookingSubmit, ValidateWorkshopBookingForm
from actions.form_pause import PAUSE_SLOT, PAUSED_FLAG
from bot.clock import SHANGHAI
from tests.actions.test_booking import DOMAIN, FORM, make_tracker, run

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)  # for the readers only; the form runs on T0's FrozenClock




@pytest.mark.parametrize("text, said", [
    ("时间换成周五下午吧", "周五下午"),
    ("哎说错了 不是周二 是周四", "周四"),
    ("下周二俺有事 改下周四吧", "下周四"),
    ("周五下午", "周五下午"),
])
def test_a_new_time_is_read_from_the_words_after_the_change(text, said):
    assert revise.new_time(text, NOW) == said


@pytest.mark.parametrize("text", ["周一鸣", "李文博", "13912345678", "对", "不对 名字写错了 应该是李文博", "下午3点以后再打电话吧"])
def test_names_numbers_and_yes_name_no_new_time(text):
    assert revise.new_time(text, NOW) is None


@pytest.mark.parametrize("text, topic", [
    ("等会 俺不弄简历了 换成面试的吧", "面试技巧"),  # the topic after the change, not the one left
    ("面试技巧", "面试技巧"),
    ("还是做个职业规划吧", "职业规划"),
    ("面适的吧", "面试技巧"),  # typed with a pinyin slip
    ("说错了 俺想约的是面试辅导 不是简历", "面试技巧"),  # the topic turned down comes last
    ("不对不对 不是改简历 是练面试", "面试技巧"),
])
def test_a_new_topic_is_the_one_after_the_change(text, topic):
    assert revise.new_topic(text, "简历指导") == topic


@pytest.mark.parametrize("text", ["简历要带打印的吗", "简历指导", "俺面试老紧张 俺叫刘洋 手机号一会儿给你", "13912345678"])
def test_the_same_topic_a_long_aside_or_a_number_change_nothing(text):
    assert revise.new_topic(text, "简历指导") is None


def test_the_time_said_before_comes_from_the_users_texts_of_this_run():
    events = [
        {"event": "user", "text": "上次问的招聘会"}, {"event": "user", "text": "约个简历指导 下周四"},
        {"event": "active_loop", "name": FORM}, {"event": "user", "text": "1"}, {"event": "user", "text": "换成面试的吧"},
    ]
    texts = revise.user_texts_of_run(events, FORM)
    assert texts == ["约个简历指导 下周四", "1"]
    assert revise.time_said_before(texts, NOW) == "约个简历指导 下周四"


async def test_a_new_time_at_the_name_question_offers_that_times_sessions(env):
    state: Dict[str, Any] = {"booking_topic": "简历指导", "booking_when": "12月1日 14:00-16:00",
                             "booking_slot_id": "x", "booking_offered": ["x"], "requested_slot": "booking_name"}
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker(
        "时间改到下周三吧", slots=state, extracted={"booking_name": "时间改到下周三吧"}))
    assert slots["booking_name"] is None and "下周三" in texts[0]
    found = [await env.catalogue.get_slot(s) for s in slots["booking_offered"]]
    assert found and all(s.start.astimezone(SHANGHAI).date().isoformat() == "2026-12-09" for s in found)
    assert slots["booking_slot_id"] is None and slots["requested_slot"] == "booking_slot_id"


async def test_a_new_topic_at_the_time_question_is_no_quit_and_asks_the_time(env):
    state = {"booking_topic": "简历指导", "requested_slot": "booking_when"}
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker("简历先不弄了 换成面试辅导吧", "stop", slots=state))
    assert slots["booking_topic"] == "面试技巧" and "面试技巧" in texts[0]
    assert slots["booking_when"] is None and slots["requested_slot"] == "booking_when"


async def test_the_topic_nlu_already_put_in_the_slot_is_still_a_change(env):
    state = {"booking_topic": "简历指导", "requested_slot": "booking_when"}
    tracker = make_tracker("简历先不弄了 换成面试辅导吧", "stop", slots=state, extracted={"booking_topic": "面试技巧"})
    tracker.events[:0] = [{"event": "slot", "name": "booking_topic", "value": "简历指导"}]
    slots, texts = await run(ValidateWorkshopBookingForm(), tracker)
    assert slots["booking_topic"] == "面试技巧" and "面试技巧" in texts[0]
    assert revise.topic_before(tracker.events) == "简历指导"


async def test_a_session_number_with_the_name_takes_both(env):
    state: Dict[str, Any] = {"booking_topic": "简历指导", "requested_slot": "booking_when"}
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker("最近的就中", slots=state, extracted={"booking_when": "最近的就中"}))
    state.update(slots)
    state["requested_slot"] = "booking_name"
    text = "第二个吧 俺叫门立强"
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker(
        text, slots=state, extracted={"booking_name": text}, entities=[{"entity": "number", "value": "2"}]))
    assert slots["booking_slot_id"] == state["booking_offered"][1] and slots["booking_name"] == "门立强"


async def test_a_bare_name_at_the_name_question_stays_the_name(env):
    state = {"booking_topic": "简历指导", "booking_when": "近期", "booking_slot_id": "x", "requested_slot": "booking_name"}
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker("周一鸣", slots=state, extracted={"booking_name": "周一鸣"}))
    assert slots["booking_name"] == "周一鸣" and "booking_when" not in slots


async def test_a_new_topic_at_the_phone_question_offers_its_sessions_at_the_time_said(env):
    state = {"booking_topic": "简历指导", "booking_when": "12月3日", "booking_slot_id": "x", "booking_offered": ["x"],
             "booking_name": "任晓峰", "requested_slot": "booking_phone"}
    tracker = make_tracker("等会 俺不弄简历了 换成面试的吧", "ask_policy", slots=state)
    tracker.events[:0] = [{"event": "user", "text": "约个简历指导"}, {"event": "active_loop", "name": FORM},
                          {"event": "user", "text": "周四吧"}, {"event": "user", "text": "任晓峰"}]
    slots, texts = await run(ValidateWorkshopBookingForm(), tracker)
    assert slots["booking_topic"] == "面试技巧" and "面试技巧" in texts[0]
    found = [await env.catalogue.get_slot(s) for s in slots["booking_offered"]]
    workshops = [await env.catalogue.get_workshop(s.workshop_id) for s in found]
    assert found and all(w.topic == "面试技巧" for w in workshops)
    assert all(s.start.astimezone(SHANGHAI).date().isoformat() == "2026-12-03" for s in found)  # Thursday
    assert "booking_name" not in slots and slots["booking_phone"] is None  # the name stays, the phone is asked


async def test_leaving_the_booking_keeps_its_answers_for_jixu(env):
    state = {"booking_topic": "简历指导", "booking_confirm": False}
    events = await ActionBookingSubmit().run(*_dispatcher_tracker("算了不约了", state))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots[PAUSE_SLOT]["slots"] == {"booking_topic": "简历指导"} and slots[PAUSED_FLAG] is True
    assert slots["booking_topic"] is None  # the form itself starts clean


async def test_leaving_after_saying_so_to_the_quit_question_keeps_nothing(env):
    tracker = make_tracker("放弃", slots={"booking_topic": "简历指导", "booking_confirm": False}, active=False)
    tracker.events[:0] = [{"event": "active_loop", "name": FORM},
                          {"event": "slot", "name": "requested_slot", "value": "form_quit_confirm"}]
    events = await ActionBookingSubmit().run(CollectingDispatcher(), tracker, DOMAIN)
    assert PAUSE_SLOT not in {e["name"] for e in events if e.get("event") == "slot"}


async def test_leaving_before_any_answer_keeps_nothing(env):
    events = await ActionBookingSubmit().run(*_dispatcher_tracker("算了", {"booking_confirm": False}))
    assert PAUSE_SLOT not in {e["name"] for e in events if e.get("event") == "slot"}


def _dispatcher_tracker(text: str, state: Dict[str, Any]):
    return CollectingDispatcher(), make_tracker(text, slots=state, active=False), DOMAIN
