"""Repairing a form in progress (actions/form_repair.py through actions/forms.py), the same in the
booking and the camp form: "算了" asks first when something was answered, "继续" goes on where the
form was with every answer kept, "不对，是…" corrects an earlier answer, "跳过" skips an optional
question, a short free-text answer NLU could not place stays the answer."""
from __future__ import annotations

from typing import Any, Dict

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.camp import STOPPED
from bot.clock import system_clock
from actions.form_repair import (
    OPTIONAL_SLOTS,
    QUIT_SLOT,
    SKIPPED,
    ActionAskFormQuitConfirm,
    corrected_values,
    quit_answer,
)
from tests.helpers.form_validation import BOOKING, CAMP, DOMAIN, earlier_turns, form_tracker, validate

BOOKED_SO_FAR = {"booking_topic": "简历指导", "booking_when": "近期", "booking_slot_id": "jn-resume-1"}
CAMP_SO_FAR = {"camp_facts_confirm": True, "camp_name": "吴思远", "camp_mobile": "13800138000", "camp_identity": "失业青年"}


def in_form(form: str, requested: str, text: str, intent: str, answers: Dict[str, Any], **kwargs: Any) -> Tracker:
    return form_tracker(form, requested, text, intent, filled=answers, before=earlier_turns(form, answers), **kwargs)


async def test_quitting_with_answers_given_asks_before_discarding_them():
    messages, slots, _ = await validate(BOOKING, in_form(BOOKING, "booking_name", "算了", "stop", BOOKED_SO_FAR))
    assert slots == {"booking_name": None, QUIT_SLOT: None, "requested_slot": QUIT_SLOT}  # nothing discarded, the form stays
    question = messages[0]["text"]
    assert "简历指导" in question and "确定放弃吗" in question and "“继续”" in question
    # the form's "ask" for the quit slot adds nothing: the question was asked once
    dispatcher = CollectingDispatcher()
    await ActionAskFormQuitConfirm().run(dispatcher, in_form(BOOKING, QUIT_SLOT, "算了", "stop", BOOKED_SO_FAR), DOMAIN)
    assert dispatcher.messages == []


@pytest.mark.parametrize("form, requested, text", [(BOOKING, "booking_topic", "不约了"), (CAMP, "camp_name", "不弄了")])
async def test_quitting_before_any_answer_just_stops(form, requested, text):
    # the opening message or the profile may have filled something in: that is not progress
    prefilled = {"booking_topic": "简历指导"} if requested != "booking_topic" else {}
    tracker = form_tracker(form, requested, text, "stop", filled=prefilled, before=[{"event": "active_loop", "name": form}])
    _, slots, _ = await validate(form, tracker)
    assert slots["requested_slot"] is None
    assert slots.get("booking_confirm") is False or slots.get("camp_refusal") == STOPPED


@pytest.mark.parametrize("text", ["取消", "算了"])
async def test_a_quit_the_pending_free_text_question_took_as_its_answer_is_no_progress(text):
    # the name question maps any text: "取消" arrives as the name candidate too, and is not an answer
    tracker = form_tracker(CAMP, "camp_name", text, "stop", extracted={"camp_name": text},
                           before=[{"event": "active_loop", "name": CAMP}])
    messages, slots, _ = await validate(CAMP, tracker)
    assert slots["requested_slot"] is None and slots.get("camp_refusal") == STOPPED
    assert not any("确定放弃" in (m.get("text") or "") for m in messages)


@pytest.mark.parametrize("text, intent", [("继续", "more"), ("不，我还要约", "deny"), ("接着来吧", "nlu_fallback")])
async def test_going_on_after_the_quit_question_asks_the_pending_question_with_the_answers_kept(text, intent, action_runtime):
    messages, slots, _ = await validate(BOOKING, in_form(BOOKING, QUIT_SLOT, text, intent, BOOKED_SO_FAR))
    assert slots == {QUIT_SLOT: None, "requested_slot": "booking_name"}  # no answer reset


async def test_going_on_in_the_camp_form_follows_its_own_question_order():
    _, slots, _ = await validate(CAMP, in_form(CAMP, QUIT_SLOT, "继续", "more", CAMP_SO_FAR))
    assert slots["requested_slot"] == "camp_age"  # a 失业青年 is asked the age next


@pytest.mark.parametrize("form, answers", [(BOOKING, BOOKED_SO_FAR), (CAMP, CAMP_SO_FAR)])
async def test_giving_up_after_the_quit_question_ends_the_form(form, answers):
    _, slots, _ = await validate(form, in_form(form, QUIT_SLOT, "放弃", "stop", answers))
    assert slots["requested_slot"] is None


async def test_an_unclear_reply_to_the_quit_question_asks_it_again():
    nothing_close = {"decision": "none", "options": []}
    tracker = form_tracker(BOOKING, QUIT_SLOT, "嗯？", "nlu_fallback", knowledge_decision=nothing_close,
                           filled=BOOKED_SO_FAR, before=earlier_turns(BOOKING, BOOKED_SO_FAR))
    messages, slots, _ = await validate(BOOKING, tracker)
    assert slots == {QUIT_SLOT: None, "requested_slot": QUIT_SLOT} and "确定放弃吗" in messages[0]["text"]


@pytest.mark.parametrize("text, intent", [("济南这两天有招聘会没", "find_job_fair"), ("你们几点下班", "ask_policy")])
async def test_a_side_question_at_the_quit_question_is_answered_not_taken_as_a_reply(text, intent):
    # the form rejects the turn: the digression rules answer it, and the form asks where it stopped
    messages, slots, events = await validate(BOOKING, in_form(BOOKING, QUIT_SLOT, text, intent, BOOKED_SO_FAR))
    assert events == [] and messages == []


@pytest.mark.parametrize("text", ["嗯放弃吧", "对 不要了", "还是放弃吧"])
def test_giving_up_said_with_a_yes_or_a_filler(text):
    assert quit_answer(text, "nlu_fallback") is True


@pytest.mark.parametrize("text", ["等等 还是约吧", "哎 等等 还是报吧", "再想想", "算了还是接着填吧"])
def test_a_mind_changed_after_the_quit_question_goes_on(text):
    assert quit_answer(text, "nlu_fallback") is False


@pytest.mark.parametrize("text", ["算了算了", "算了不报了", "不弄了，不填了", "拉倒吧", "先不报了"])
async def test_quit_words_in_a_row_are_a_quit(text):
    messages, slots, _ = await validate(CAMP, in_form(CAMP, "camp_age", text, "nlu_fallback", CAMP_SO_FAR))
    assert slots["requested_slot"] == QUIT_SLOT and "确定放弃吗" in messages[0]["text"]


@pytest.mark.parametrize("text", ["这个俺不想说", "那就跳过吧", "专业不想填", "木有", "俺没专业", "不填行不行"])
async def test_skip_said_with_fillers_skips_the_optional_question(text):
    answers = {**CAMP_SO_FAR, "camp_identity": "应届毕业生", "camp_grad_year": "2026", "camp_school": "济南大学"}
    messages, slots, _ = await validate(CAMP, in_form(CAMP, "camp_major", text, "nlu_fallback", answers, extracted={"camp_major": text}))
    assert slots["camp_major"] == SKIPPED and slots["requested_slot"] == "camp_city"


@pytest.mark.parametrize("form, requested, text, why", [
    (CAMP, "camp_name", "那俺不想说", "utter_why_camp_name"),
    (BOOKING, "booking_phone", "手机号就跳过吧", "utter_why_booking_phone"),
    (BOOKING, "booking_phone", "不给行不行", "utter_why_booking_phone"),
    (CAMP, "camp_mobile", "能不能不填", "utter_why_camp_mobile"),
])
async def test_a_required_question_refused_says_it_is_required_and_why(form, requested, text, why):
    answers = BOOKED_SO_FAR if form == BOOKING else {}
    messages, slots, _ = await validate(form, in_form(form, requested, text, "nlu_fallback", answers, extracted={requested: text}))
    assert slots == {requested: None, "requested_slot": requested}
    assert "必填" in messages[0]["text"] and messages[1].get("response") == why


async def test_skip_read_as_quitting_still_skips_the_optional_question():
    answers = {**CAMP_SO_FAR, "camp_identity": "应届毕业生", "camp_grad_year": "2026", "camp_school": "济南大学"}
    _, slots, _ = await validate(CAMP, in_form(CAMP, "camp_major", "跳过", "stop", answers))
    assert slots["camp_major"] == SKIPPED and slots["requested_slot"] == "camp_city"


@pytest.mark.parametrize("text, intent, expected", [
    ("放弃", "stop", True), ("确定", "affirm", True), ("继续", "more", False), ("不，接着约", "deny", False),
    ("不放弃", "stop", False), ("嗯？", "nlu_fallback", None),
])
def test_quit_answers(text, intent, expected):
    assert quit_answer(text, intent) is expected


async def test_skipping_an_optional_question_moves_to_the_next_one():
    answers = {**CAMP_SO_FAR, "camp_identity": "应届毕业生", "camp_grad_year": "2026", "camp_school": "济南大学"}
    messages, slots, _ = await validate(CAMP, in_form(CAMP, "camp_major", "跳过", "nlu_fallback", answers))
    assert slots["camp_major"] == SKIPPED and slots["requested_slot"] == "camp_city"
    assert "格式" not in str(messages)


async def test_a_required_question_cannot_be_skipped():
    assert "camp_name" not in OPTIONAL_SLOTS
    messages, slots, _ = await validate(CAMP, in_form(CAMP, "camp_name", "跳过", "nlu_fallback", {}, extracted={"camp_name": "跳过"}))
    assert slots == {"camp_name": None, "requested_slot": "camp_name"} and "必填" in messages[0]["text"]


async def test_a_correction_replaces_an_earlier_answer_and_the_form_goes_on_from_there():
    messages, slots, _ = await validate(CAMP, in_form(CAMP, "camp_age", "不对，我是离校未就业的", "ask_policy", CAMP_SO_FAR))
    assert slots["camp_identity"] == "离校未就业毕业生"
    assert slots["requested_slot"] == "camp_grad_year"  # the new identity's next question
    assert "已改为" in messages[0]["text"]


async def test_a_mistyped_phone_is_corrected_while_the_form_asks_something_else():
    answers = {**BOOKED_SO_FAR, "booking_phone": "13800138000"}
    messages, slots, _ = await validate(BOOKING, in_form(BOOKING, "booking_name", "手机号填错了，是13912345678", "inform", answers))
    assert slots["booking_phone"] == "13912345678" and slots["requested_slot"] == "booking_name"
    assert "1391234" not in messages[0]["text"]  # shown masked


async def test_redo_an_answer_without_the_new_value_asks_it_again(action_runtime):
    answers = {**BOOKED_SO_FAR, "booking_name": "黄一鸣"}
    _, slots, _ = await validate(BOOKING, in_form(BOOKING, "booking_phone", "改一下名字", "nlu_fallback", answers))
    assert slots == {"booking_phone": None, "booking_name": None, "requested_slot": "booking_name"}


def test_a_correction_of_the_pending_question_is_just_its_answer():
    required = DOMAIN["forms"][CAMP]["required_slots"]
    assert corrected_values("不对，是13912345678", required, "camp_mobile", __import__("datetime").date(2026, 12, 4)) == {}


async def test_a_short_free_text_answer_nlu_could_not_place_is_the_answer():
    somewhat_close = {"decision": "answer", "options": [{"id": "x", "score": 0.5}]}
    student = {**CAMP_SO_FAR, "camp_identity": "应届毕业生", "camp_grad_year": "2026", "camp_school": "济南大学"}
    tracker = form_tracker(CAMP, "camp_major", "土木工程", "nlu_fallback", knowledge_decision=somewhat_close, filled=student)
    _, slots, _ = await validate(CAMP, tracker)
    assert slots["camp_major"] == "土木工程"


@pytest.mark.parametrize("text, intent", [("不弄了", "inform"), ("手机号填错了，是13912345678", "inform")])
async def test_what_a_text_mapping_took_from_a_repair_is_not_the_pending_answer(text, intent):
    answers = {**BOOKED_SO_FAR, "booking_phone": "13800138000"}
    tracker = in_form(BOOKING, "booking_name", text, intent, answers, extracted={"booking_name": text})
    _, slots, _ = await validate(BOOKING, tracker)
    assert slots["booking_name"] is None and slots["requested_slot"] in (QUIT_SLOT, "booking_name")


@pytest.mark.parametrize("whole, part", [("钱多多", "钱"), ("黄一鸣", "一鸣")])  # too short / a valid name itself
async def test_a_name_the_entity_covers_only_in_part_is_read_from_the_whole_answer(whole, part, action_runtime):
    tracker = form_tracker(CAMP, "camp_name", whole, "inform", extracted={"camp_name": part}, filled={"camp_facts_confirm": True})
    messages, slots, _ = await validate(CAMP, tracker)
    assert slots["camp_name"] == whole and messages == []
    tracker = in_form(BOOKING, "booking_name", whole, "inform", BOOKED_SO_FAR, extracted={"booking_name": part})
    messages, slots, _ = await validate(BOOKING, tracker)
    assert slots["booking_name"] == whole and messages == []


async def test_a_city_corrected_at_the_cohort_list_replaces_the_city_and_asks_the_cohort_again():
    answers = {**CAMP_SO_FAR, "camp_age": "23", "camp_city": "烟台"}
    messages, slots, _ = await validate(CAMP, in_form(CAMP, "camp_cohort", "不对不对 俺在威海 不在烟台", "deny", answers))
    assert slots["camp_city"] == "威海" and slots["requested_slot"] == "camp_cohort"
    assert "已改为：威海" in messages[0]["text"]


async def test_a_quit_with_another_request_is_answered_then_the_form_without_progress_ends():
    # "算了" and a side question in one message: the side question's rule answers it first
    text = "算了 俺还是先看看济南有啥活干吧"
    _, slots, events = await validate(BOOKING, in_form(BOOKING, "booking_when", text, "find_job", {"booking_topic": "简历指导"}))
    assert events == []
    answered_by = [{"event": "action", "name": "action_find_job"}, {"event": "bot", "text": "…"}]
    tracker = form_tracker(BOOKING, "booking_when", text, "find_job", filled={"booking_topic": "简历指导"},
                           before=[{"event": "active_loop", "name": BOOKING}], after_user=answered_by)
    _, slots, _ = await validate(BOOKING, tracker)
    assert slots["requested_slot"] is None and slots["booking_confirm"] is False


async def test_a_quit_with_another_request_after_answers_asks_before_discarding_them():
    answered_by = [{"event": "action", "name": "action_find_job_fair"}, {"event": "bot", "text": "…"}]
    tracker = form_tracker(BOOKING, "booking_name", "算了，济南有招聘会吗", "find_job_fair", filled=BOOKED_SO_FAR,
                           before=earlier_turns(BOOKING, BOOKED_SO_FAR), after_user=answered_by)
    messages, slots, _ = await validate(BOOKING, tracker)
    assert slots["requested_slot"] == QUIT_SLOT and "确定放弃吗" in messages[0]["text"]


async def test_a_fact_said_up_front_is_corrected_while_no_question_asks_it_and_is_no_name():
    # "我是去年毕业的 想报个实训营" put 2025 in the form before the identity that makes it a question
    answers = {"camp_facts_confirm": True, "camp_name": "邹一鸣", "camp_mobile": "13800138000"}
    tracker = in_form(CAMP, "camp_identity", "不对 我是前年毕业的", "inform", answers)
    tracker.slots["camp_grad_year"] = "2025"
    messages, slots, _ = await validate(CAMP, tracker)
    assert slots["camp_grad_year"] == str(system_clock().year - 2)  # the forms read "前年" on Beijing time
    assert "camp_name" not in slots and "姓名" not in messages[0]["text"]
    assert slots["requested_slot"] == "camp_identity"  # the form goes on where it was


async def test_a_name_followed_by_facts_about_oneself_is_the_name_alone(action_runtime):  # the phone comes next: the profile is read
    said = "苗雨涵 我是青岛大学的 去年毕业"  # the person_name entity holds only "雨涵"
    tracker = in_form(BOOKING, "booking_name", said, "inform", BOOKED_SO_FAR, extracted={"booking_name": "雨涵"})
    _, slots, _ = await validate(BOOKING, tracker)
    assert slots["booking_name"] == "苗雨涵"
    tracker = in_form(BOOKING, "booking_name", "王 强", "inform", BOOKED_SO_FAR, extracted={"booking_name": "王 强"})
    _, slots, _ = await validate(BOOKING, tracker)
    assert slots["booking_name"] == "王 强"  # a space inside a name is no sentence


@pytest.mark.parametrize("text, name", [
    ("不对不对 名字打错了 是王晓燕 晓是拂晓的晓", "王晓燕"),  # the character spelled out after the name
    ("名字输错了，应该是赵倩，倩是倩影的倩", "赵倩"),
    ("名字打错了 是孙丽", "孙丽"),
])
def test_a_name_corrected_with_a_character_spelled_out_keeps_the_name(text: str, name: str) -> None:
    fixes = corrected_values(text, ["booking_name", "booking_phone"], "booking_phone", system_clock().date())
    assert fixes == {"booking_name": name}
