"""How people talk inside and around forms (issue #21, the dialogue corpus's failures of kinds a–f),
through the forms' real validation actions and the actions around them, the same in every form:
answers given ahead are kept for their question, the form's own request said again is no answer,
"取消预约"/"取消报名" inside the form it names quits that form, "继续报名" inside the assessment goes
back to the paused form, and typed slips still name the flow."""
from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.assessment import ActionCareerAssessment
from actions.booking.form import ValidateWorkshopBookingForm
from actions.camp import CAMP_NAME
from actions.fallback import ActionCoreFallback
from actions.flow_start import named_flow
from actions.form_early_answers import answers_ahead, name_in_parts
from actions.form_pause import PAUSE_SLOT, PAUSED_FLAG, ActionResumeForm
from actions.form_repair import QUIT_SLOT, is_quit
from bot.clock import system_clock
from tests.helpers.action_tracker import make_tracker
from tests.helpers.form_validation import BOOKING, CAMP, DOMAIN, earlier_turns, form_tracker, validate

BOOKED_SO_FAR = {"booking_topic": "简历指导", "booking_when": "近期", "booking_slot_id": "jn-resume-1", "booking_name": "周婷婷"}
CAMP_SO_FAR = {"camp_facts_confirm": True, "camp_name": "姜涛", "camp_mobile": "13800138000"}
PHONE = "13912345678"


def with_entities(tracker: Tracker, found: List[Dict[str, Any]]) -> Tracker:
    tracker.latest_message["entities"] = found
    return tracker


# ---------------------------------------------------------------- answers given ahead (f)

@pytest.mark.parametrize("text, expected", [
    ("叫我于洋就行，电话13812345678", "于洋"),
    ("栾晓光，我人在烟台", "栾晓光"),
    ("我在烟台，叫栾晓光", "栾晓光"),
    ("13812345678", None),
])
def test_the_name_part_of_a_message_that_says_more(text, expected):
    assert name_in_parts(text, CAMP_NAME) == expected


def test_a_phone_a_name_and_a_city_said_in_passing_go_to_their_empty_questions():
    city = [{"entity": "city", "value": "淄博"}]
    found = answers_ahead("你好我叫吕佳琪，在淄博，想报名参加实训营", city, ["camp_name", "camp_mobile", "camp_city"])
    assert found == {"camp_name": "吕佳琪", "camp_city": "淄博"}
    assert answers_ahead(f"好的{PHONE}", [], ["booking_phone"]) == {"booking_phone": PHONE}
    # a school's city is where the school is, not said to be where the user lives
    school = [{"entity": "school", "value": "青岛大学"}, {"entity": "city", "value": "青岛"}]
    assert answers_ahead("青岛大学", school, ["camp_city"]) == {}
    assert answers_ahead("我是青岛大学的", [], ["camp_name"]) == {}  # "我是…" names no name here


def test_a_bare_name_written_before_the_phone_number_is_the_name():
    slots = ["booking_name", "booking_phone"]
    assert answers_ahead(f"韩雪 {PHONE} 想约个面试指导", [], slots) == {"booking_name": "韩雪", "booking_phone": PHONE}
    assert answers_ahead(f"王强，电话：{PHONE}", [], slots) == {"booking_name": "王强", "booking_phone": PHONE}
    for request in ("报名", "预约一下", "你好", "转人工", "换成", "改成"):  # words of a request before the number are no name
        assert answers_ahead(f"{request} {PHONE}", [], slots) == {"booking_phone": PHONE}
    assert answers_ahead(f"{PHONE} 王强", [], slots) == {"booking_phone": PHONE}  # only a name that comes first
    assert answers_ahead(f"张三{PHONE}", [], slots) == {"booking_phone": PHONE}  # written apart from the number


async def test_the_phone_said_with_the_name_is_kept_and_not_asked(action_runtime):
    tracker = form_tracker(CAMP, "camp_name", f"叫我于洋就行，电话{PHONE}", "inform",
                           extracted={"camp_name": f"叫我于洋就行，电话{PHONE}"}, filled={"camp_facts_confirm": True})
    messages, slots, _ = await validate(CAMP, tracker)
    assert slots["camp_name"] == "于洋" and slots["camp_mobile"] == PHONE, messages
    assert slots.get("requested_slot") == "camp_identity"


async def test_a_city_said_with_the_phone_is_kept_for_the_city_question(action_runtime):
    tracker = form_tracker(CAMP, "camp_mobile", f"{PHONE}，我在德州", "inform", extracted={"camp_mobile": PHONE},
                           filled={"camp_facts_confirm": True, "camp_name": "付强"})
    with_entities(tracker, [{"entity": "city", "value": "德州"}])
    _, slots, _ = await validate(CAMP, tracker)
    assert slots["camp_mobile"] == PHONE and slots["camp_city"] == "德州"


async def test_the_major_said_after_the_school_is_kept_for_the_major_question(action_runtime):
    # NLU's school entity covers only the school: the rest of the answer is the major
    tracker = form_tracker(CAMP, "camp_school", "临沂大学 物流管理", "inform", extracted={"camp_school": "临沂大学"},
                           filled={"camp_facts_confirm": True, "camp_name": "付强", "camp_mobile": PHONE,
                                   "camp_identity": "离校未就业毕业生", "camp_grad_year": "2025"})
    _, slots, _ = await validate(CAMP, tracker)
    assert slots["camp_school"] == "临沂大学" and slots["camp_major"] == "物流管理"


# ---------------------------------------------------------------- the request said again (a, c)

@pytest.mark.parametrize("form, requested, text, intent, filled", [
    (CAMP, "camp_name", "我要报名实训营", "enroll_camp", {"camp_facts_confirm": True}),
    (BOOKING, "booking_when", "就是约个简历指导", "book_workshop", {"booking_topic": "简历指导"}),
])
async def test_the_forms_own_request_said_again_is_no_answer_and_the_question_comes_again(
    action_runtime, form, requested, text, intent, filled
):
    tracker = form_tracker(form, requested, text, intent, extracted={requested: text}, filled=filled)
    messages, slots, _ = await validate(form, tracker)
    assert slots[requested] is None and slots["requested_slot"] == requested
    assert messages == []  # no "格式不对"


# ---------------------------------------------------------------- "取消预约" inside the booking (e)

@pytest.mark.parametrize("text, form, quits", [
    ("取消预约", BOOKING, True),
    ("取消预约吧，不约了", BOOKING, True),
    ("取消这次预约", BOOKING, True),
    ("取消预约 TS9LFC", BOOKING, False),  # a booking made earlier: another flow
    ("取消报名", BOOKING, False),  # the camp enrolment: another flow
    ("取消报名", CAMP, True),
    ("取消预约", CAMP, False),
])
def test_cancelling_the_forms_own_task_is_quitting_it(text, form, quits):
    assert is_quit(text, "cancel_booking", form) == quits


async def test_quxiao_yuyue_with_answers_given_asks_before_discarding_instead_of_pausing(action_runtime):
    tracker = form_tracker(BOOKING, "booking_phone", "取消预约", "cancel_booking", filled=BOOKED_SO_FAR,
                           before=earlier_turns(BOOKING, BOOKED_SO_FAR))
    messages, slots, _ = await validate(BOOKING, tracker)
    assert slots["requested_slot"] == QUIT_SLOT and "确定放弃吗" in messages[0]["text"]


async def test_quxiao_yuyue_before_any_answer_leaves_the_booking(action_runtime):
    tracker = form_tracker(BOOKING, "booking_when", "取消预约吧，不约了", "cancel_booking", filled={"booking_topic": "一对一咨询"})
    _, slots, events = await validate(BOOKING, tracker)
    assert events and slots["requested_slot"] is None and slots["booking_confirm"] is False


# ---------------------------------------------------------------- "继续报名" inside the assessment (d)

def paused(form: str, answers: Dict[str, Any]) -> Dict[str, Any]:
    record = {"form": form, "slots": answers, "requested": "camp_mobile", "at": system_clock().timestamp()}
    return {PAUSE_SLOT: record, PAUSED_FLAG: True, "assessment_active": True}


async def test_jixu_baoming_inside_the_assessment_goes_back_to_the_paused_enrolment(action_runtime, redis):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("继续报名吧", "nlu_fallback", slots=paused(CAMP, {"camp_name": "蔡文静"}))
    events = await ActionCareerAssessment().run(dispatcher, tracker, {})
    assert {"event": "slot", "timestamp": None, "name": "assessment_active", "value": False} in events
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_resume_form"}
    assert "进度" in dispatcher.messages[0]["text"]


async def test_a_bare_jixu_inside_the_assessment_stays_with_the_assessment(action_runtime, redis):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("继续", "nlu_fallback", slots=paused(CAMP, {"camp_name": "蔡文静"}))
    events = await ActionCareerAssessment().run(dispatcher, tracker, {})
    assert not any(e.get("name") == "action_resume_form" for e in events)


async def test_resuming_a_form_ends_the_assessment_that_interrupted_it():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("继续", "more", slots=paused(CAMP, CAMP_SO_FAR))
    events = await ActionResumeForm().run(dispatcher, tracker, DOMAIN)
    assert {"event": "slot", "timestamp": None, "name": "assessment_active", "value": False} in events
    assert events[-1]["event"] == "active_loop" and events[-1]["name"] == CAMP


# ---------------------------------------------------------------- slips, 训练营, and a yes to enrol (a, b, c)

@pytest.mark.parametrize("text, start", [
    ("我想预越个老师帮我看看简立", "workshop_booking_form"),
    ("能帮我约个面是辅导么", "workshop_booking_form"),
    ("面试辅导 预约一下", "workshop_booking_form"),
    ("俺想找个老师资询下职业规化咋弄", "workshop_booking_form"),
    ("俺毕业五六年了，你们那个训练营还收人不", "action_camp_info"),
    ("俺23，待业在家，训练营收不收俺", "action_camp_info"),
    ("我想报个训练营", "action_camp_enroll_start"),
])
def test_slips_and_the_camps_other_name_still_name_the_flow(text, start):
    assert named_flow(text, "nlu_fallback") == start


@pytest.mark.parametrize("text", ["对面是人还是机器", "简历怎么写", "训练营是干啥的"])
def test_words_that_only_look_like_slips_name_no_flow(text):
    assert named_flow(text, "nlu_fallback") is None


@pytest.mark.parametrize("said, after, starts", [
    ("按您的情况（23岁、失业青年）：可以报名。\n回复“报名”即可报名。", "action_camp_info", True),
    ("按您的情况（23岁、失业青年）：可以报名。\n回复“报名”即可报名。", "action_camp_enroll_start", True),
    ("实训营介绍……", "action_camp_info", False),  # no 回复“报名” said: a bare yes is no enrolment
])
async def test_a_bare_yes_after_the_answer_that_said_reply_baoming_starts_the_enrolment(said, after, starts):
    earlier = [{"event": "user", "text": "我23待业能报吗"}, {"event": "action", "name": after},
               {"event": "bot", "text": said}, {"event": "action", "name": "action_listen"}]
    dispatcher = CollectingDispatcher()
    events = await ActionCoreFallback().run(dispatcher, make_tracker("中", "affirm", events=earlier), {})
    followup = {"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"}
    assert (followup in events) == starts


async def test_the_booking_reads_the_topic_its_opening_message_names_without_a_topic_entity():
    tracker = form_tracker(BOOKING, None, "约个面试指导", "book_workshop")
    ahead = await ValidateWorkshopBookingForm().said_ahead(None, CollectingDispatcher(), tracker, DOMAIN)
    assert {"event": "slot", "timestamp": None, "name": "booking_topic", "value": "面试技巧"} in ahead
    said_later = form_tracker(BOOKING, "booking_name", "面试那个我再想想", "inform", filled={"booking_topic": "简历指导"})
    assert await ValidateWorkshopBookingForm().said_ahead("booking_name", CollectingDispatcher(), said_later, DOMAIN) == []
