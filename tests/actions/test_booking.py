"""Booking actions run directly with rasa_sdk Trackers on real Redis (the action_runtime fixture)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.booking.common import contact_said, parse_when
from actions.booking.form import ActionAskBookingSlotId, ActionBookingSubmit, ValidateWorkshopBookingForm
from actions.booking.manage import (
    ActionBookingFollowup,
    ActionBookingRebook,
    ActionCancelBooking,
    ActionMyBookings,
    answer_named_holding,
)
from bot.clock import SHANGHAI
from bot.services.profiles import ProfileStore
from bot.settings import PROJECT_ROOT

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)  # Tuesday
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
FORM = "workshop_booking_form"




def make_tracker(
    text: str,
    intent: str = "inform",
    *,
    slots: Optional[Dict[str, Any]] = None,
    extracted: Optional[Dict[str, Any]] = None,
    entities: Optional[List[dict]] = None,
    sender: str = "u1",
    message_id: str = "m1",
    active: bool = True,
) -> Tracker:
    values = {name: None for name in DOMAIN["slots"]}
    values.update(slots or {})
    values.update(extracted or {})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "message_id": message_id,
    }
    events = [{"event": "user", "text": text, "parse_data": latest, "message_id": message_id}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (extracted or {}).items()]
    return Tracker(sender, values, latest, events, False, None,
                   {"name": FORM} if active else {}, "action_listen")


async def run(action, tracker) -> tuple[Dict[str, Any], List[str]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return slots, [m.get("text") or "" for m in dispatcher.messages]


async def test_full_booking_conversation(env):
    form = ValidateWorkshopBookingForm()
    state: Dict[str, Any] = {}

    async def step(text, extracted, intent="inform", **kw):
        slots, texts = await run(form, make_tracker(text, intent, slots=state, extracted=extracted, **kw))
        state.update(slots)
        return slots, texts

    # "我想约个老师改简历": the topic comes from the NLU entity at activation.
    slots, _ = await step("我想约个老师改简历", {"booking_topic": "简历指导"}, "book_workshop")
    assert slots["booking_topic"] == "简历指导"
    state["requested_slot"] = "booking_when"
    slots, texts = await step("下周三", {"booking_when": "下周三"})
    offered = slots["booking_offered"]
    assert offered and slots["booking_when"].startswith("12月9日")
    found = [await env.catalogue.get_slot(s) for s in offered]
    assert all(s.start.date().isoformat() == "2026-12-09" for s in found)
    topics = [(await env.catalogue.get_workshop(s.workshop_id)).topic for s in found]
    assert topics and set(topics) == {"简历指导"}
    _, listing = await run(ActionAskBookingSlotId(), make_tracker("", slots=state))
    assert listing[0].count("\n1. ") == 1 and "余8席" in listing[0]
    state["requested_slot"] = "booking_slot_id"
    slots, texts = await step("9", {"booking_slot_id": "9"})
    assert slots["booking_slot_id"] is None and "序号" in texts[0]
    slots, _ = await step("1", {"booking_slot_id": "1"}, entities=[{"entity": "number", "value": "1"}])
    assert slots["booking_slot_id"] == offered[0]
    state["requested_slot"] = "booking_name"
    slots, texts = await step("张3", {"booking_name": "张3"})
    assert slots["booking_name"] is None and "姓名" in texts[0]
    slots, _ = await step("我叫张三", {"booking_name": "我叫张三"})
    assert slots["booking_name"] == "张三"
    state["requested_slot"] = "booking_phone"
    slots, texts = await step("1234567", {"booking_phone": "1234567"})
    assert slots["booking_phone"] is None and "11位" in texts[0]
    slots, _ = await step("138 0013 8000", {"booking_phone": "138 0013 8000"})
    assert slots["booking_phone"] == "13800138000"
    state["requested_slot"] = "booking_confirm"
    slots, _ = await step("确认", {"booking_confirm": True}, "affirm")
    assert slots["booking_confirm"] is True

    slots, texts = await run(ActionBookingSubmit(), make_tracker("确认", "affirm", slots=state, message_id="m9", active=False))
    assert "预约成功" in texts[0]
    code = texts[0].split("预约码：")[1][:6]
    record = await env.get(code)
    assert record.openid == "u1" and record.slot_id == offered[0] and record.phone == "13800138000"
    assert all(v is None for k, v in slots.items() if k != "booking_pending")
    profile = await ProfileStore(runtime.redis(), runtime.settings()).get("u1")
    assert profile["name"] == "张三" and profile["phone"] == "13800138000"
    # The same confirmation delivered twice: one booking, the same code.
    _, again = await run(ActionBookingSubmit(), make_tracker("确认", "affirm", slots=state, message_id="m10", active=False))
    assert code in again[0] and await env.seats_taken(offered[0]) == 1

    # My bookings, then cancel by number, then rebook on the same topic.
    _, mine = await run(ActionMyBookings(), make_tracker("我的预约", "my_bookings", active=False))
    assert code in mine[0] and "1个预约" in mine[0]
    slots, texts = await run(ActionCancelBooking(), make_tracker("取消预约", "cancel_booking", active=False))
    # the only booking: said back, "确定取消吗"; a number picks it too
    assert slots["booking_pending"] == "cancel_pick" and code in texts[0] and "确定取消" in texts[0]
    slots, texts = await run(
        ActionBookingFollowup(), make_tracker("1", slots=slots, entities=[{"entity": "number", "value": "1"}], active=False)
    )
    assert "已取消预约" in texts[0] and slots["booking_pending"] == "rebook"
    assert (await env.get(code)).status == "cancelled"
    slots, _ = await run(ActionBookingRebook(), make_tracker("是", "affirm", slots=slots, active=False))
    assert slots["booking_topic"] == "简历指导" and slots["booking_pending"] is None


async def test_a_time_in_the_opening_message_is_not_asked_again(env):
    """"约简历指导 下周三": the sessions of that day are offered at once; a time said ahead of an
    unclear topic waits for the topic."""
    form = ValidateWorkshopBookingForm()
    slots, _ = await run(form, make_tracker("约简历指导 下周三", "book_workshop", extracted={"booking_topic": "简历指导"}, active=False))
    assert slots["booking_when"].startswith("12月9日") and slots["booking_offered"]
    slots, _ = await run(form, make_tracker("下周三有空", "book_workshop", active=False))
    assert slots.get("booking_when") is None and not slots.get("booking_offered")


async def test_profile_prefills_name_and_phone(env):
    await ProfileStore(runtime.redis(), runtime.settings()).update("u7", {"name": "李四", "phone": "13900139000"})
    slots, _ = await run(
        ValidateWorkshopBookingForm(),
        make_tracker("模拟面试", "book_workshop", extracted={"booking_topic": "模拟面试"}, sender="u7"),
    )
    assert slots["booking_topic"] == "面试技巧"
    assert slots["booking_name"] == "李四" and slots["booking_phone"] == "13900139000"


async def test_topic_by_number_and_unclear(env):
    form = ValidateWorkshopBookingForm()
    slots, _ = await run(form, make_tracker("4", slots={"requested_slot": "booking_topic"}, extracted={"booking_topic": "4"}))
    assert slots["booking_topic"] == "一对一咨询"
    slots, _ = await run(form, make_tracker("一对一咨询", slots={"requested_slot": "booking_topic"}, extracted={"booking_topic": "一对一咨询"}))
    assert slots["booking_topic"] == "一对一咨询"
    slots, texts = await run(form, make_tracker("嗯嗯", slots={"requested_slot": "booking_topic"}, extracted={"booking_topic": "嗯嗯"}))
    assert slots["booking_topic"] is None and "1. 简历指导" in texts[0]


@pytest.mark.parametrize("text,intent,requested", [
    ("算了", "stop", "booking_when"),
    ("不约了", "stop", "booking_slot_id"),
    ("算了", "inform", "booking_phone"),  # even if the NLU misses the intent
    ("不是", "deny", "booking_name"),
])
async def test_leaving_the_form_at_any_step(env, text, intent, requested):
    state = {"booking_topic": "简历指导", "requested_slot": requested}
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker(text, intent, slots=state))
    assert slots == {"booking_confirm": False, "requested_slot": None}
    state.update(slots)
    _, texts = await run(ActionBookingSubmit(), make_tracker(text, intent, slots=state, active=False))
    assert "已退出预约" in texts[0]
    assert await env.my_bookings("u1") == []


async def test_deny_at_confirmation_books_nothing(env):
    form = ValidateWorkshopBookingForm()
    state = {"requested_slot": "booking_confirm", "booking_slot_id": "x"}
    slots, _ = await run(form, make_tracker("不", "deny", slots=state, extracted={"booking_confirm": False}))
    assert slots["booking_confirm"] is False
    slots, _ = await run(form, make_tracker("换成13700137000", slots=state, extracted={"booking_confirm": "换成13700137000"}))
    assert slots == {"booking_phone": "13700137000", "booking_confirm": None}


async def test_when_not_understood_or_empty_window(env):
    form = ValidateWorkshopBookingForm()
    state = {"booking_topic": "创业指导", "requested_slot": "booking_when"}
    slots, texts = await run(form, make_tracker("呃", slots=state, extracted={"booking_when": "呃"}))
    assert slots["booking_when"] is None and "明天下午" in texts[0]
    # 创业指导 only runs on Fridays in the sample: a Monday gets the nearest slots instead.
    slots, texts = await run(form, make_tracker("下周一", slots=state, extracted={"booking_when": "下周一"}))
    assert slots["booking_offered"] and "最近的场次" in texts[0]
    first = await env.catalogue.get_slot(slots["booking_offered"][0])
    assert first.start.isoweekday() == 5


async def test_full_slot_offers_the_waitlist(env):
    slot = (await env.open_slots("一对一咨询", city="青岛"))[0][0]
    assert slot.capacity == 1
    assert (await env.book("other", slot.id, "王五", "13700137000", "r")).status == "confirmed"
    state = {"booking_slot_id": slot.id, "booking_name": "张三", "booking_phone": "13800138000", "booking_confirm": True}
    slots, texts = await run(ActionBookingSubmit(), make_tracker("确认", "affirm", slots=state, active=False))
    assert "约满" in texts[0] and slots["booking_pending"] == "waitlist"
    slots, texts = await run(ActionBookingFollowup(), make_tracker("是", "affirm", slots=slots, active=False))
    assert "第1位" in texts[0]
    assert await env.waitlist(slot.id) == ["u1"]
    # The other user cancels: u1 gets the seat.
    code = (await env.my_bookings("other"))[0].booking.code
    result = await env.cancel("other", code)
    assert [o for o, _ in result.promoted] == ["u1"]


async def test_cancel_by_code_and_nothing_to_cancel(env):
    _, texts = await run(ActionCancelBooking(), make_tracker("取消预约", "cancel_booking", active=False))
    assert "没有可以取消" in texts[0]
    slot = (await env.open_slots("职业规划"))[0][0]
    code = (await env.book("u1", slot.id, "张三", "13800138000", "r")).code
    slots, texts = await run(ActionCancelBooking(), make_tracker(f"取消预约 {code.lower()}", "cancel_booking", active=False))
    assert "已取消预约" in texts[0] and slots["booking_pending"] == "rebook"


async def test_cancel_by_list_number_or_by_naming_it(env):
    resume = (await env.open_slots("简历指导"))[0][0]
    interview = (await env.open_slots("面试技巧"))[0][0]
    first = (await env.book("u1", resume.id, "张三", "13800138000", "r1")).code
    second = (await env.book("u1", interview.id, "张三", "13800138000", "r2")).code
    _, texts = await run(ActionMyBookings(), make_tracker("查一下我报的", "my_bookings", active=False))
    assert "1. 【指导预约】" in texts[0] and "2. 【指导预约】" in texts[0]
    assert "开始前2小时" in texts[0] and "回复“取消1”" in texts[0]  # the cut-off and how to cancel
    _, texts = await run(ActionCancelBooking(), make_tracker("取消第2个", "cancel_booking", active=False))
    assert "已取消预约" in texts[0] and second in texts[0]
    second = (await env.book("u1", interview.id, "张三", "13800138000", "r3")).code
    _, texts = await run(ActionCancelBooking(), make_tracker("把面试那个讲座退了", "cancel_booking", active=False))
    assert "已取消预约" in texts[0] and second in texts[0]
    assert [v.booking.code for v in await env.my_bookings("u1")] == [first]


async def test_a_number_picks_from_the_list_just_offered(env):
    """After a list of only some holdings ("取消简历的"), "取消第1个" means its first line."""
    resume = (await env.open_slots("简历指导"))[0][0]
    plan = (await env.open_slots("职业规划"))[0][0]
    await env.book("u1", plan.id, "张三", "13800138000", "r1")
    kept = (await env.book("u1", resume.id, "张三", "13800138000", "r2")).code
    listed = sorted([v.booking for v in await env.my_bookings("u1")], key=lambda b: b.code != kept)
    options = [f"booking:{b.slot_id}:{b.code}" for b in listed]
    state = {"booking_pending": "cancel_pick", "booking_cancel_options": options[::-1]}
    _, texts = await run(ActionCancelBooking(), make_tracker("取消第1个", "cancel_booking", slots=state, active=False))
    assert options[::-1][0].split(":")[2] in texts[0] and "已取消预约" in texts[0]


async def test_a_cancel_nlu_did_not_place_picks_by_number_or_name_but_not_a_question(env):
    """The fallback and the knowledge answer ask `answer_named_holding` first: "取消第2个" read as
    nlu_fallback still cancels; a question about cancelling or a course subscription does not."""
    resume = (await env.open_slots("简历指导"))[0][0]
    interview = (await env.open_slots("面试技巧"))[0][0]
    await env.book("u1", resume.id, "张三", "13800138000", "r1")
    await env.book("u1", interview.id, "张三", "13800138000", "r2")
    for text in ("简历那个能取消吗", "取消订阅简历的课", "第2个怎么取消？", "取消"):
        dispatcher = CollectingDispatcher()
        assert await answer_named_holding(dispatcher, make_tracker(text, "nlu_fallback", active=False)) is None, text
    dispatcher = CollectingDispatcher()
    await answer_named_holding(dispatcher, make_tracker("帮我取消第2个", "nlu_fallback", active=False))
    assert "已取消预约" in dispatcher.messages[0]["text"]
    assert len(await env.my_bookings("u1")) == 1
    dispatcher = CollectingDispatcher()
    events = await answer_named_holding(dispatcher, make_tracker("改简历那个不去了", "nlu_fallback", active=False))
    # words that fit the only booking left: said back and confirmed first
    assert "确定取消" in dispatcher.messages[0]["text"] and len(await env.my_bookings("u1")) == 1
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    dispatcher = CollectingDispatcher()
    await answer_named_holding(dispatcher, make_tracker("对 取消", "nlu_fallback", slots=slots, active=False))
    assert "已取消预约" in dispatcher.messages[0]["text"] and await env.my_bookings("u1") == []


async def test_a_list_instruction_copied_with_its_quotes_picks_by_number(env):
    resume = (await env.open_slots("简历指导"))[0][0]
    await env.book("u1", resume.id, "张三", "13800138000", "r1")
    dispatcher = CollectingDispatcher()
    await answer_named_holding(dispatcher, make_tracker("“取消1”", "nlu_fallback", active=False))
    assert "已取消预约" in dispatcher.messages[0]["text"] and await env.my_bookings("u1") == []


def test_parse_when_in_shanghai():
    start, end = parse_when("明天下午", T0)
    assert start.date().isoformat() == "2026-12-02" and 12 <= start.hour <= 14 and end.hour >= 17
    start, _ = parse_when("3月5号", T0)
    assert start.date().isoformat() == "2027-03-05"  # the next 5 March, not the past one
    start, end = parse_when("最近", T0)
    assert start == T0 and end - start == timedelta(weeks=4)
    assert parse_when("呃", T0) is None


async def test_a_partial_name_entity_falls_back_to_the_whole_message(env):
    """The model may tag only "赵" of "赵一" (一 read as a numeral): the text is the name."""
    validator = ValidateWorkshopBookingForm()
    tracker = make_tracker("赵一", slots={"requested_slot": "booking_name"},
                           entities=[{"entity": "person_name", "value": "赵"}])
    result = await validator.validate_booking_name("赵", CollectingDispatcher(), tracker, DOMAIN)
    assert result == {"booking_name": "赵一"}
    bad = make_tracker("12", slots={"requested_slot": "booking_name"})
    dispatcher = CollectingDispatcher()
    assert await validator.validate_booking_name("12", dispatcher, bad, DOMAIN) == {"booking_name": None}
    assert "姓名" in dispatcher.messages[0]["text"]


async def test_a_bare_number_right_after_the_list_picks_that_item_and_asks_before_cancelling(env):
    resume = (await env.open_slots("简历指导"))[0][0]
    interview = (await env.open_slots("面试技巧"))[0][0]
    await env.book("u1", resume.id, "张三", "13800138000", "r1")
    await env.book("u1", interview.id, "张三", "13800138000", "r2")
    listed = [{"event": "user", "text": "我的预约"}, {"event": "action", "name": "action_my_bookings"},
              {"event": "bot", "text": "您有2个预约/报名：…"}, {"event": "action", "name": "action_listen"}]
    after_list = make_tracker("2", "inform", entities=[{"entity": "number", "value": "2"}], active=False)
    after_list.events[:0] = listed
    slots, texts = await run(ActionBookingFollowup(), after_list)
    assert "确定取消" in texts[0] and "面试" in texts[0] and len(await env.my_bookings("u1")) == 2
    slots, texts = await run(ActionBookingFollowup(), make_tracker("确定", "affirm", slots=slots, active=False))
    assert "已取消预约" in texts[0] and len(await env.my_bookings("u1")) == 1
    # the same "2" with no list just shown picks nothing
    _, texts = await run(ActionBookingFollowup(), make_tracker("2", "inform", active=False))
    assert texts == []


async def test_a_code_named_without_a_cancel_is_shown_and_with_one_cancelled(env):
    """A code in passing ("我的预约码是…") shows the booking with how to cancel it; only a cancel word
    ("…有事去不了") cancels it."""
    resume = (await env.open_slots("简历指导"))[0][0]
    code = (await env.book("u1", resume.id, "张三", "13800138000", "r1")).code
    dispatcher = CollectingDispatcher()
    await answer_named_holding(dispatcher, make_tracker(f"我的预约码是{code}", "nlu_fallback", active=False))
    assert f"取消 {code}" in dispatcher.messages[0]["text"] and len(await env.my_bookings("u1")) == 1
    dispatcher = CollectingDispatcher()
    await answer_named_holding(dispatcher, make_tracker(f"{code} 有事去不了", "nlu_fallback", active=False))
    assert "已取消预约" in dispatcher.messages[0]["text"] and await env.my_bookings("u1") == []


async def test_a_name_said_before_the_booking_is_not_asked_again(env):
    earlier = [{"event": "user", "text": "俺叫孙德胜 想问问农民工返乡创业有啥扶持"}, {"event": "action", "name": "action_knowledge_answer"}]
    tracker = make_tracker("那帮俺约个一对一咨询", "book_workshop", extracted={"booking_topic": "一对一咨询"}, sender="u-said")
    tracker.events[:0] = earlier
    slots, _ = await run(ValidateWorkshopBookingForm(), tracker)
    assert slots["booking_topic"] == "一对一咨询" and slots["booking_name"] == "孙德胜"
    assert slots.get("booking_phone") is None  # never said: asked


async def test_the_number_left_for_a_callback_is_not_asked_again_by_the_booking(env):
    from actions.handoff import _service

    await _service().request("u-callback", kind="callback", phone="13906351234", first_message="转人工 俺电话13906351234")
    tracker = make_tracker("帮俺闺女约个职业规划", "book_workshop", extracted={"booking_topic": "职业规划"}, sender="u-callback")
    slots, _ = await run(ValidateWorkshopBookingForm(), tracker)
    assert slots["booking_phone"] == "13906351234"
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker(
        "帮俺约个职业规划", "book_workshop", extracted={"booking_topic": "职业规划"}, sender="u-nocallback"))
    assert slots.get("booking_phone") is None


async def test_the_name_and_phone_the_user_gave_are_taken_when_the_form_would_ask_them(env):
    """Enrolled in the camp since the booking started (the profile holds name and phone): the
    session chosen, the confirmation comes next, showing them; nothing is asked again."""
    await ProfileStore(runtime.redis(), runtime.settings()).update("u8", {"name": "吕思远", "phone": "13900139001"})
    offered = [s.id for s, _, _ in await env.open_slots("职业规划", T0, None, None, limit=3)]
    state = {"booking_topic": "职业规划", "booking_when": "下周", "booking_offered": offered, "requested_slot": "booking_slot_id"}
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker(
        "1", slots=state, extracted={"booking_slot_id": "1"}, entities=[{"entity": "number", "value": "1"}], sender="u8"))
    assert slots["booking_slot_id"] == offered[0]
    assert slots["booking_name"] == "吕思远" and slots["booking_phone"] == "13900139001"
    assert slots["requested_slot"] == "booking_confirm"
    # Rasa asks the FIRST requested_slot a validation returns: the name question must not be among them
    events = await ValidateWorkshopBookingForm().run(CollectingDispatcher(), make_tracker(
        "1", slots=state, extracted={"booking_slot_id": "1"}, entities=[{"entity": "number", "value": "1"}], sender="u8"), DOMAIN)
    assert [e["value"] for e in events if e.get("event") == "slot" and e["name"] == "requested_slot"] == ["booking_confirm"]


async def test_a_name_and_phone_typed_in_a_booking_left_earlier_are_not_asked_again(env):
    earlier = [
        {"event": "slot", "name": "booking_name", "value": "邢志强"},
        {"event": "slot", "name": "requested_slot", "value": "booking_phone"},
        {"event": "slot", "name": "booking_phone", "value": "13900139002"},
        {"event": "slot", "name": "requested_slot", "value": "booking_when"},
        {"event": "slot", "name": "booking_name", "value": None},  # the form left: reset
        {"event": "slot", "name": "booking_phone", "value": None},
        {"event": "slot", "name": "requested_slot", "value": None},
    ]
    tracker = make_tracker("下周四", slots={"booking_topic": "简历指导", "requested_slot": "booking_when"},
                           extracted={"booking_when": "下周四"}, sender="u9")
    tracker.events = earlier + tracker.events
    slots, _ = await run(ValidateWorkshopBookingForm(), tracker)
    assert slots["booking_offered"] and "booking_name" not in slots  # the session list comes first
    offered = slots["booking_offered"]
    state = {"booking_topic": "简历指导", "booking_when": slots["booking_when"], "booking_offered": offered,
             "requested_slot": "booking_slot_id"}
    tracker = make_tracker("1", slots=state, extracted={"booking_slot_id": "1"},
                           entities=[{"entity": "number", "value": "1"}], sender="u9")
    tracker.events = earlier + tracker.events
    slots, _ = await run(ValidateWorkshopBookingForm(), tracker)
    assert slots["booking_name"] == "邢志强" and slots["booking_phone"] == "13900139002"
    assert slots["requested_slot"] == "booking_confirm"


async def test_leaving_at_the_name_question_is_not_undone_by_what_is_known(env):
    await ProfileStore(runtime.redis(), runtime.settings()).update("u10", {"name": "曹文静", "phone": "13900139003"})
    state = {"booking_topic": "简历指导", "booking_slot_id": "x", "requested_slot": "booking_name"}
    slots, _ = await run(ValidateWorkshopBookingForm(), make_tracker("算了", "stop", slots=state, sender="u10"))
    assert slots.get("requested_slot") in (None, "form_quit_confirm") and "booking_phone" not in slots


@pytest.mark.parametrize("text, said", [
    ("俺叫邢志强 手机号13996217773 有啥实训营能报的不", {"booking_name": "邢志强", "booking_phone": "13996217773"}),
    ("我叫唐宁", {"booking_name": "唐宁"}),
    ("他叫孙浩然 手机号13900001111", {}),  # someone else's
    ("俺闺女叫孟楠", {}),
])
def test_the_users_own_name_said_in_a_message_is_known_to_the_booking(text, said):
    assert contact_said(text) == said
