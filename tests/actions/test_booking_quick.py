"""The booking as people expect it (actions/booking/quick.py): "最近的就中" takes the soonest session,
a number at the next question picks another, and the booking is made on the phone number typed in
this run without a confirmation step (asked only for details the profile filled in)."""
from __future__ import annotations

from typing import Any, Dict

from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.booking.form import ActionBookingSubmit, ValidateWorkshopBookingForm
from actions.done_already import BOOKED_RE, done_already_text
from actions.fallback import ActionCoreFallback
from bot.services.profiles import ProfileStore
from tests.actions.test_booking import DOMAIN, make_tracker, run
from tests.helpers.action_tracker import make_tracker as helper_tracker




async def _soonest_taken(state: Dict[str, Any]) -> Dict[str, Any]:
    state.update({"booking_topic": "简历指导", "requested_slot": "booking_when"})
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker("最近的就中", slots=state, extracted={"booking_when": "最近的就中"}))
    state.update(slots)
    assert "最近的一场" in texts[0], texts
    return slots


async def test_the_soonest_is_taken_when_the_user_leaves_the_time_to_the_bot(env):
    slots = await _soonest_taken({})
    assert slots["booking_slot_id"] == slots["booking_offered"][0]


async def test_a_number_at_the_name_question_picks_another_of_the_sessions_listed(env):
    state: Dict[str, Any] = {}
    offered = (await _soonest_taken(state))["booking_offered"]
    assert len(offered) >= 2
    state["requested_slot"] = "booking_name"
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker(
        "2", slots=state, extracted={"booking_name": "2"}, entities=[{"entity": "number", "value": "2"}]))
    assert slots["booking_slot_id"] == offered[1] and slots["booking_name"] is None
    assert "第2场" in texts[0]


async def test_a_phone_typed_in_the_form_books_without_a_confirmation_step(env):
    state: Dict[str, Any] = {}
    await _soonest_taken(state)
    state.update({"booking_name": "赵小满", "requested_slot": "booking_phone"})
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker(
        "俺手机 13812345678", slots=state, extracted={"booking_phone": "俺手机 13812345678"}))
    assert slots["booking_phone"] == "13812345678" and slots["requested_slot"] is None
    state.update(slots)
    _, texts = await run(ActionBookingSubmit(), make_tracker("俺手机 13812345678", slots=state, active=False))
    assert "预约成功" in texts[0]
    assert done_already_text(make_tracker("确认", "affirm"), texts[0]).startswith("已经为您预约成功了")
    assert done_already_text(make_tracker("我的预约", "my_bookings"), texts[0]) is None


async def test_details_from_the_profile_are_confirmed_before_booking(env):
    await ProfileStore(runtime.redis(), runtime.settings()).update("u1", {"name": "钱多多", "phone": "13900001111"})
    state: Dict[str, Any] = {}
    await _soonest_taken(state)
    state.update({"booking_name": "钱多多", "booking_phone": "13900001111", "requested_slot": "booking_name"})
    form = ValidateWorkshopBookingForm()
    tracker = make_tracker("钱多多", slots=state, extracted={"booking_name": "钱多多"})
    assert "booking_confirm" in await form.required_slots(form.domain_slots(DOMAIN), CollectingDispatcher(), tracker, DOMAIN)
    _, texts = await run(ActionBookingSubmit(), make_tracker("钱多多", slots=state, active=False))
    assert "已退出预约" in texts[0]  # not confirmed: nothing booked


async def test_say_it_again_after_the_soonest_was_taken_lists_the_sessions_again(env):
    state: Dict[str, Any] = {}
    await _soonest_taken(state)
    state["requested_slot"] = "booking_name"
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker("恁再说一遍 没看清", slots=state, extracted={"booking_name": "恁再说一遍 没看清"}))
    assert "1. " in texts[0] and "序号" in texts[0]
    assert slots == {"booking_name": None, "requested_slot": "booking_name"}


async def test_a_cancel_that_says_it_is_sure_cancels_without_asking_again(env):
    from actions.booking.manage import ActionCancelBooking
    state: Dict[str, Any] = {}
    await _soonest_taken(state)
    state.update({"booking_name": "孙小北", "booking_phone": "13812340000"})
    _, booked = await run(ActionBookingSubmit(), make_tracker("13812340000", slots=state, active=False))
    assert "预约成功" in booked[0]
    _, asked = await run(ActionCancelBooking(), make_tracker("简历那个俺不去了 给退了吧", "cancel_booking", active=False))
    assert "确定取消吗" in asked[0]
    _, done = await run(ActionCancelBooking(), make_tracker("简历那个俺不去了 帮俺取消了吧 确定", "cancel_booking", active=False))
    assert "已取消" in done[0], done
    state.update({"booking_slot_id": state["booking_offered"][1]})
    _, booked = await run(ActionBookingSubmit(), make_tracker("13812340000", slots=state, active=False, message_id="m2"))
    _, done = await run(ActionCancelBooking(), make_tracker("给俺取消了 那天有事 确定不去了", "cancel_booking", active=False))
    assert "已取消" in done[0], done


async def test_a_cancel_nlu_read_into_a_message_asking_for_the_camp_starts_the_camp(env):
    from actions.booking.manage import ActionCancelBooking
    events = await ActionCancelBooking().run(CollectingDispatcher(), make_tracker(
        "对了 俺上个月搬到日照去了 今年22 没上大学 在家待着 想报那个实训营", "cancel_booking", active=False), DOMAIN)
    assert {"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"} in events


async def _listed(state: Dict[str, Any]) -> list:
    state.update({"booking_topic": "简历指导", "requested_slot": "booking_when"})
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker("下周", slots=state, extracted={"booking_when": "下周"}))
    state.update(slots)
    state["requested_slot"] = "booking_slot_id"
    assert slots.get("booking_slot_id") is None and slots["booking_offered"]
    return slots["booking_offered"]


async def test_a_name_given_at_the_session_list_takes_the_first_session(env):
    state: Dict[str, Any] = {}
    offered = await _listed(state)
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker("周晓梅", slots=state, extracted={"booking_slot_id": "周晓梅"}))
    assert slots["booking_slot_id"] == offered[0] and slots["booking_name"] == "周晓梅"
    assert "第1场" in texts[0]


async def test_a_time_given_at_the_session_list_lists_the_sessions_of_that_time(env):
    state: Dict[str, Any] = {}
    await _listed(state)
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker("下下周吧", slots=state, extracted={"booking_slot_id": "下下周吧"}))
    assert slots["booking_slot_id"] is None and slots["booking_offered"] and slots.get("booking_name") is None


async def test_words_at_the_session_list_that_are_no_name_ask_for_the_number(env):
    state: Dict[str, Any] = {}
    await _listed(state)
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker("换个好点的", slots=state, extracted={"booking_slot_id": "换个好点的"}))
    assert slots["booking_slot_id"] is None and "序号" in texts[0]


async def test_a_number_at_the_confirmation_picks_another_session_and_shows_it_again(env):
    state: Dict[str, Any] = {}
    offered = (await _soonest_taken(state))["booking_offered"]
    state.update({"booking_name": "钱多多", "booking_phone": "13900001111", "requested_slot": "booking_confirm"})
    slots, texts = await run(ValidateWorkshopBookingForm(), make_tracker(
        "2", slots=state, extracted={"booking_confirm": "2"}, entities=[{"entity": "number", "value": "2"}]))
    assert slots["booking_slot_id"] == offered[1] and slots["booking_confirm"] is None and "第2场" in texts[0]


async def test_a_phone_corrected_right_after_the_booking_changes_the_booking_not_the_flow(env):
    state: Dict[str, Any] = {}
    await _soonest_taken(state)
    state.update({"booking_name": "韦晓光", "booking_phone": "13953358812"})
    _, texts = await run(ActionBookingSubmit(), make_tracker("13953358812", slots=state, active=False))
    code = BOOKED_RE.search(texts[0]).group(1)
    dispatcher = CollectingDispatcher()
    corrected = helper_tracker("不对 手机号输错了 是13900001234", "inform", events=[{"event": "bot", "text": texts[0]}], sender="u1")
    events = await ActionCoreFallback().run(dispatcher, corrected, DOMAIN)
    said = dispatcher.messages[0]["text"]
    assert code in said and "1234" in said and events == [UserUtteranceReverted()]
    assert (await env.get(code)).phone == "13900001234"
    assert (await ProfileStore(runtime.redis(), runtime.settings()).get("u1"))["phone"] == "13900001234"
    # the same words with no booking just made: not a correction of anything held
    later = helper_tracker("不对 手机号输错了 是13700001234", "inform", events=[{"event": "bot", "text": said}], sender="u1")
    await ActionCoreFallback().run(CollectingDispatcher(), later, DOMAIN)
    assert (await env.get(code)).phone == "13900001234"
