"""A form left for another flow and "继续" back to it (actions/form_pause.py through actions/forms.py),
the same in the booking and the camp form: the validation rejects a message that starts another
flow, the pause keeps the answers for a bounded time and says how to come back, the resume restores
them and makes the form active again; starting the same form with words that point back restores too."""
from __future__ import annotations

from typing import Any, Dict

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.form_pause import (
    PAUSE_SLOT,
    PAUSED_FLAG,
    RESUME_DAYS,
    ActionPauseForm,
    ActionResumeForm,
    continue_interrupted,
    form_slots,
    paused_record,
    resume_asked,
    switches_for,
)
from bot.clock import system_clock
from tests.helpers.form_validation import BOOKING, CAMP, DOMAIN, form_tracker, validate

BOOKED_SO_FAR = {"booking_topic": "简历指导", "booking_when": "近期", "booking_slot_id": "jn-resume-1"}
CAMP_SO_FAR = {"camp_facts_confirm": True, "camp_name": "吴思远", "camp_mobile": "13800138000"}


def with_slots(slots: Dict[str, Any], active_form: str = "", text: str = "继续", intent: str = "more") -> Tracker:
    values = {name: None for name in DOMAIN["slots"]}
    values.update(slots)
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    events = [{"event": "user", "text": text, "parse_data": latest}]
    loop = {"name": active_form} if active_form else {}
    return Tracker("oPause01", values, latest, events, False, None, loop, "action_listen")


async def run(action: Any, tracker: Tracker, domain: Any = DOMAIN):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return [m.get("text") or "" for m in dispatcher.messages], events


@pytest.mark.parametrize("form, requested, text, intent, answers", [
    (BOOKING, "booking_name", "我还是先报个实训营吧", "enroll_camp", BOOKED_SO_FAR),
    (CAMP, "camp_identity", "帮我约一下模拟面试", "book_workshop", CAMP_SO_FAR),
    (BOOKING, "booking_phone", "先做个职业测评", "career_assessment", BOOKED_SO_FAR),
])
async def test_a_message_that_starts_another_flow_is_no_answer(form, requested, text, intent, answers):
    tracker = form_tracker(form, requested, text, intent, filled=answers)
    messages, slots, events = await validate(form, tracker)
    assert events == [] and messages == []  # rejected: the generated rule pauses the form next


async def test_a_quit_word_read_as_another_flow_still_quits():
    # "取消" inside the enrolment may be read as cancel_booking: it leaves the form, it starts nothing
    tracker = form_tracker(CAMP, "camp_name", "取消", "cancel_booking", filled={"camp_facts_confirm": True})
    _, slots, events = await validate(CAMP, tracker)
    assert events and slots.get("requested_slot") is None


async def test_a_plain_answer_stays_an_answer_whatever_nlu_made_of_it(action_runtime):  # the booking reads the profile
    tracker = form_tracker(BOOKING, "booking_phone", "13912345678", "enroll_camp", filled=BOOKED_SO_FAR)
    _, slots, _ = await validate(BOOKING, tracker)
    assert slots.get("booking_phone") == "13912345678"


def test_a_form_is_not_left_for_its_own_flow():
    assert "enroll_camp" in switches_for(BOOKING) and "book_workshop" not in switches_for(BOOKING)
    assert "book_workshop" in switches_for(CAMP) and "enroll_camp" not in switches_for(CAMP)


def test_the_pause_keeps_the_forms_own_slots_only():
    names = form_slots(BOOKING, DOMAIN)
    assert {"booking_topic", "booking_name", "booking_offered"} <= set(names)
    assert "booking_pending" not in names and not any(n.startswith("camp_") for n in names)


@pytest.mark.parametrize("domain", [DOMAIN, {}], ids=["domain sent", "selective domain: none sent"])
async def test_pausing_keeps_the_answers_empties_the_form_and_says_how_to_come_back(domain):
    tracker = with_slots({**BOOKED_SO_FAR, "requested_slot": "booking_name"}, active_form=BOOKING, text="报实训营", intent="enroll_camp")
    messages, events = await run(ActionPauseForm(), tracker, domain)
    assert "预约" in messages[0] and "“继续”" in messages[0]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert all(slots[name] is None for name in BOOKED_SO_FAR)  # the next flow starts clean
    assert slots[PAUSED_FLAG] is True and slots[PAUSE_SLOT]["form"] == BOOKING
    assert slots[PAUSE_SLOT]["slots"] == BOOKED_SO_FAR
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)


async def test_a_form_left_before_any_answer_keeps_nothing_and_says_nothing():
    messages, events = await run(ActionPauseForm(), with_slots({"requested_slot": "booking_topic"}, active_form=BOOKING))
    assert messages == [] and not any(e.get("name") == PAUSED_FLAG for e in events)


async def test_resuming_restores_the_answers_and_the_form():
    record = {"form": CAMP, "slots": CAMP_SO_FAR, "requested": "camp_identity", "at": system_clock().timestamp()}
    messages, events = await run(ActionResumeForm(), with_slots({PAUSE_SLOT: record, PAUSED_FLAG: True}))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert {k: slots[k] for k in CAMP_SO_FAR} == CAMP_SO_FAR
    assert slots[PAUSE_SLOT] is None and slots[PAUSED_FLAG] is None
    assert events[-1]["event"] == "active_loop" and events[-1]["name"] == CAMP
    assert "实训营报名" in messages[0]


async def test_a_pause_older_than_its_bound_is_not_resumed():
    old = system_clock().timestamp() - RESUME_DAYS * 86400 - 5
    record = {"form": BOOKING, "slots": BOOKED_SO_FAR, "requested": "booking_name", "at": old}
    tracker = with_slots({PAUSE_SLOT: record, PAUSED_FLAG: True})
    assert paused_record(tracker) is None
    messages, events = await run(ActionResumeForm(), tracker)
    assert not any(e["event"] == "active_loop" for e in events) and "重新开始" in messages[0]


async def test_jixu_the_next_day_keeps_the_answers_about_the_person_and_asks_the_date_again():
    yesterday = system_clock().timestamp() - 20 * 3600  # past the 120-minute session, within the days kept
    answers = {**BOOKED_SO_FAR, "booking_name": "吴思远", "booking_phone": "13800138000"}
    record = {"form": BOOKING, "slots": answers, "requested": "booking_confirm", "at": yesterday}
    tracker = with_slots({PAUSE_SLOT: record, PAUSED_FLAG: True})
    assert paused_record(tracker) is None  # no longer "刚才": "接着约刚才那个" does not bring it back
    messages, events = await run(ActionResumeForm(), tracker)
    slots: Dict[str, Any] = {}
    for e in events:
        if e["event"] == "slot":
            slots[e["name"]] = e["value"]
    assert slots["booking_name"] == "吴思远" and slots["booking_topic"] == "简历指导"
    assert slots["booking_when"] is None and slots["booking_slot_id"] is None
    assert events[-1]["event"] == "active_loop" and events[-1]["name"] == BOOKING
    assert "上次" in messages[0] and "重新选" in messages[0]


async def test_jixu_after_the_session_expired_inside_a_form_brings_the_form_back():
    # Rasa's new session carried the slots over, the form itself is gone
    carried = {**CAMP_SO_FAR, "camp_identity": "失业青年", "requested_slot": "camp_age"}
    tracker = with_slots(carried)
    assert continue_interrupted(tracker)[0]["name"] == "action_resume_form"
    messages, events = await run(ActionResumeForm(), tracker)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["camp_name"] == "吴思远" and slots["camp_identity"] == "失业青年"
    assert events[-1]["event"] == "active_loop" and events[-1]["name"] == CAMP
    assert with_slots({"requested_slot": None}) and continue_interrupted(with_slots({})) is None


async def test_starting_the_same_form_with_words_that_point_back_restores_it(action_runtime):
    record = {"form": BOOKING, "slots": BOOKED_SO_FAR, "requested": "booking_name", "at": system_clock().timestamp()}
    values = {name: None for name in DOMAIN["slots"]}
    values.update({PAUSE_SLOT: record, PAUSED_FLAG: True})
    latest = {"text": "接着约刚才那个", "intent": {"name": "book_workshop", "confidence": 0.9}, "entities": []}
    events = [{"event": "user", "text": latest["text"], "parse_data": latest}, {"event": "action", "name": BOOKING}]
    activation = Tracker("oPause02", values, latest, events, False, None, {}, BOOKING)
    _, slots, _ = await validate(BOOKING, activation)
    assert slots["booking_topic"] == "简历指导" and slots[PAUSED_FLAG] is None
    # a fresh start in other words keeps the pause as it is
    latest["text"] = "约个模拟面试"
    fresh = Tracker("oPause03", dict(values), latest, events, False, None, {}, BOOKING)
    _, slots, _ = await validate(BOOKING, fresh)
    assert PAUSED_FLAG not in slots


def test_a_short_message_nlu_could_not_place_that_points_back_resumes_a_paused_form():
    record = {"form": CAMP, "slots": CAMP_SO_FAR, "requested": "camp_mobile", "at": system_clock().timestamp()}
    asked = with_slots({PAUSE_SLOT: record, PAUSED_FLAG: True}, text="继续报名", intent="nlu_fallback")
    assert resume_asked(asked) == [{"event": "followup", "name": "action_resume_form", "timestamp": None}]
    # nothing paused, a long message about something else, or a form already active: no resume
    assert resume_asked(with_slots({}, text="继续报名", intent="nlu_fallback")) is None
    long = with_slots({PAUSE_SLOT: record, PAUSED_FLAG: True}, text="刚才那个政策说的补贴到底是多少钱，去哪里申请", intent="nlu_fallback")
    assert resume_asked(long) is None
    active = with_slots({PAUSE_SLOT: record, PAUSED_FLAG: True}, active_form=BOOKING, text="继续报名", intent="nlu_fallback")
    assert resume_asked(active) is None


async def test_continue_after_a_side_question_inside_the_assessment_goes_back_to_it():
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.service_points import ActionMoreServicePoints
    latest = {"text": "继续", "intent": {"name": "more", "confidence": 0.9}, "entities": []}
    tracker = Tracker("oAssessMore01", {"assessment_active": True}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ActionMoreServicePoints().run(dispatcher, tracker, {})
    assert events == [{"event": "followup", "timestamp": None, "name": "action_career_assessment"}]
    assert dispatcher.messages == []
    tracker.slots["assessment_active"] = False  # nothing interrupted: there is just nothing more
    events = await ActionMoreServicePoints().run(dispatcher, tracker, {})
    assert dispatcher.messages and all(e.get("event") != "followup" for e in events)
