"""Camp actions with rasa_sdk Trackers on real Redis: prefill after a push, the form, submit."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.camp as camp_actions
from actions import runtime
from actions.booking.manage import ActionBookingFollowup, ActionCancelBooking, ActionMyBookings
from actions.fallback import ActionCoreFallback
from actions.camp import (
    STOPPED,
    ActionCampEnrollStart,
    ValidateCampEnrollmentForm,
)
from actions.camp_info import ActionCampInfo
from actions.camp_questions import ActionAskCampCohort
from actions.camp_submit import ActionCampEnrollSubmit
from bot.clock import SHANGHAI, FrozenClock
from bot.services.camp import EnrollmentStore, remember_pushed_cohort
from bot.services.profiles import ProfileStore
from bot.settings import PROJECT_ROOT

FORM = "camp_enrollment_form"
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
ALL_SLOTS = {name: None for name in DOMAIN["slots"]}


@pytest.fixture(autouse=True)
def frozen(monkeypatch, action_runtime):
    monkeypatch.setattr(camp_actions, "clock", FrozenClock(datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)))
    yield


def tracker(
    sender: str,
    slots: Optional[Dict[str, Any]] = None,
    *,
    text: str = "",
    intent: str = "inform",
    candidates: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    active: bool = True,
) -> Tracker:
    """A tracker as Rasa sends it to the validation action: slot candidates after the user turn."""
    candidates = candidates or {}
    events = [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in candidates.items()]
    return Tracker(
        sender_id=sender,
        slots={**ALL_SLOTS, **(slots or {}), **candidates},
        latest_message={"text": text, "intent": {"name": intent}, "entities": entities or []},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": FORM} if active else {},
        latest_action_name="action_listen",
    )


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


async def validate(slots: Dict[str, Any], requested: str, value: Any, text: str = "", intent: str = "inform", sender: str = "o-user"):
    dispatcher = CollectingDispatcher()
    t = tracker(sender, {**slots, "requested_slot": requested}, text=text or str(value), intent=intent, candidates={requested: value})
    events = await ValidateCampEnrollmentForm().run(dispatcher, t, DOMAIN)
    return slot_events(events), texts(dispatcher)


async def test_reply_baoming_after_push_prefills_cohort_and_profile():
    redis, settings = runtime.redis(), runtime.settings()
    await remember_pushed_cohort(redis, settings, "o-push", "qd-2026-12")
    await ProfileStore(redis, settings).update("o-push", {"name": "张三", "phone": "13800138000", "identity": "失业青年", "age": "27"})
    dispatcher = CollectingDispatcher()
    events = await ActionCampEnrollStart().run(dispatcher, tracker("o-push", text="报名", intent="enroll_camp", active=False), DOMAIN)
    slots = slot_events(events)
    assert slots["camp_cohort"] == "qd-2026-12"
    assert slots["camp_name"] == "张三" and slots["camp_mobile"] == "13800138000" and slots["camp_age"] == "27"
    said = texts(dispatcher)
    assert "青岛第8期" in said and "保存到职引档案" in said and "138****8000" in said
    # the form's validation (as Rasa calls it on activation with the prefilled slots) accepts it
    dispatcher = CollectingDispatcher()
    t = tracker("o-push", {}, text="报名", intent="enroll_camp", candidates={k: v for k, v in slots.items() if v})
    result = slot_events(await ValidateCampEnrollmentForm().run(dispatcher, t, DOMAIN))
    assert result["camp_cohort"] == "qd-2026-12"
    assert result["requested_slot"] == "camp_city"  # only the city is still missing


async def test_without_push_no_cohort_prefilled():
    events = await ActionCampEnrollStart().run(CollectingDispatcher(), tracker("o-new", active=False), DOMAIN)
    assert slot_events(events)["camp_cohort"] is None


@pytest.mark.parametrize(
    "slot,value,ok",
    [
        ("camp_name", "我叫李雷", "李雷"),
        ("camp_name", "12345", None),
        ("camp_mobile", "138 0013 8000", "13800138000"),
        ("camp_mobile", "1380013", None),
        ("camp_identity", "3", "离校未就业毕业生"),
        ("camp_identity", "我在待业", "失业青年"),
        ("camp_identity", "9", None),
        ("camp_grad_year", "2025年", "2025"),
        ("camp_grad_year", "26届", "2026"),
        ("camp_grad_year", "去年", "2025"),  # the frozen clock's year is 2026
        ("camp_grad_year", "明年毕业", "2027"),
        ("camp_grad_year", "还不确定", None),
        ("camp_age", "22岁", "22"),
        ("camp_age", "很年轻", None),
        ("camp_city", "济南市历下区", "济南"),
        ("camp_city", "北京", None),
    ],
)
async def test_field_validation_with_reasons(slot, value, ok):
    # grad year is asked of students/graduates, age of the others (required_slots decides)
    known = {"camp_identity": "失业青年" if slot == "camp_age" else "在校生"}
    slots, said = await validate(known, slot, value)
    assert slots[slot] == ok
    if ok is None:
        assert said  # the user is told why


async def test_walkthrough_student_numbered_cohort_then_duplicates_refused():
    s: Dict[str, Any] = {}
    steps = [
        ("camp_name", "王小明", "camp_mobile"),
        ("camp_mobile", "13912345678", "camp_identity"),
        ("camp_identity", "1", "camp_grad_year"),
        ("camp_grad_year", "2027", "camp_school"),
        ("camp_school", "山东大学", "camp_major"),  # the school's city (济南) is taken, not asked
        ("camp_major", "计算机科学与技术", "camp_cohort"),
    ]
    for slot, value, expected_next in steps:
        result, _ = await validate(s, slot, value, sender="o-stu")
        s.update({k: v for k, v in result.items() if k != "requested_slot"})
        assert result["requested_slot"] == expected_next, (slot, result)
    assert s["camp_city"] == "济南"
    # the numbered choice lists only cohorts that fit (Jinan + online for a 2027 student)
    dispatcher = CollectingDispatcher()
    await ActionAskCampCohort().run(dispatcher, tracker("o-stu", s), DOMAIN)
    menu = texts(dispatcher)
    assert "1. 济南第12期" in menu and "2. 线上第4期" in menu and "青岛" not in menu
    result, _ = await validate(s, "camp_cohort", "1", sender="o-stu")
    assert result["camp_cohort"] == "jn-2026-12" and result["requested_slot"] is None
    s.update(camp_cohort="jn-2026-12")
    dispatcher = CollectingDispatcher()
    await ActionCampEnrollSubmit().run(dispatcher, tracker("o-stu", s, active=False), DOMAIN)
    said = texts(dispatcher)
    assert "报名成功" in said and "报名编号：JN" in said
    record = await EnrollmentStore(runtime.redis(), runtime.settings()).find("o-stu", "jn-2026-12")
    assert record["school"] == "山东大学" and record["status"] == "enrolled"
    profile = await ProfileStore(runtime.redis(), runtime.settings()).get("o-stu")
    assert profile["graduation_year"] == "2027" and profile["major"] == "计算机科学与技术" and profile["consent_at"]
    # same OpenID again: the joined cohort is no longer offered, and refused when named
    dispatcher = CollectingDispatcher()
    await ActionAskCampCohort().run(dispatcher, tracker("o-stu", s), DOMAIN)
    said, menu = texts(dispatcher).split("\n", 1)
    assert "1. 线上第4期" in menu and "济南" not in menu
    assert "您已报名济南第12期" in said  # "还想再报一期": what is held is said, not offered again
    result, said = await validate(s, "camp_cohort", "济南第12期", sender="o-stu")
    assert result["camp_cohort"] is None and "已报名" in said
    # same phone from another OpenID: refused at submit (atomic check)
    dispatcher = CollectingDispatcher()
    await ActionCampEnrollSubmit().run(dispatcher, tracker("o-other", s, active=False), DOMAIN)
    assert "同一手机号每期只能报名一次" in texts(dispatcher)
    assert (await EnrollmentStore(runtime.redis(), runtime.settings()).counts("jn-2026-12"))["enrolled"] == 1


async def test_unemployed_youth_asks_age_not_school_and_refuses_with_alternatives():
    base = {"camp_name": "赵六", "camp_mobile": "13700001111", "camp_identity": "失业青年"}
    result, _ = await validate(base, "camp_age", "40")
    assert result["requested_slot"] == "camp_city"  # age is asked, school/major are not
    result, _ = await validate({**base, "camp_age": "40"}, "camp_city", "济南")
    assert "camp_refusal" in result and result["requested_slot"] is None  # no cohort fits: form ends
    dispatcher = CollectingDispatcher()
    await ActionCampEnrollSubmit().run(dispatcher, tracker("o-old", {**base, "camp_age": "40", **result}, active=False), DOMAIN)
    said = texts(dispatcher)
    assert "暂不符合" in said and "周岁" in said and "转人工" in said


async def test_identity_outside_every_group_ends_the_form():
    result, _ = await validate({"camp_name": "钱七", "camp_mobile": "13700002222"}, "camp_identity", "5")
    assert result["camp_identity"] == "在职人员" and result["requested_slot"] is None
    assert "不在招收范围" in result["camp_refusal"]


async def test_stop_leaves_the_form():
    dispatcher = CollectingDispatcher()
    t = tracker("o-stop", {"requested_slot": "camp_mobile", "camp_name": "孙八"}, text="算了", intent="stop")
    result = slot_events(await ValidateCampEnrollmentForm().run(dispatcher, t, DOMAIN))
    assert result == {"camp_refusal": STOPPED, "requested_slot": None}
    dispatcher = CollectingDispatcher()
    await ActionCampEnrollSubmit().run(dispatcher, tracker("o-stop", {"camp_refusal": STOPPED}, active=False), DOMAIN)
    assert "已退出" in texts(dispatcher)


async def test_camp_info_uses_profile_city_and_fits():
    await ProfileStore(runtime.redis(), runtime.settings()).update("o-info", {"city": "临沂"})
    dispatcher = CollectingDispatcher()
    await ActionCampInfo().run(dispatcher, tracker("o-info", active=False, intent="ask_camp_info"), DOMAIN)
    said = texts(dispatcher)
    assert "北京路9号" in said and "免费" in said and len(said.encode("utf-8")) <= 2048


async def run_action(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, DOMAIN)
    return slot_events(events), texts(dispatcher)


async def enrol_full_cohort(store: EnrollmentStore):
    """o-me takes the only seat of the Weifang cohort; o-wait is first on its waitlist."""
    cohort = replace(camp_actions.current_catalogue().get("wf-2027-01"), capacity=1)
    mine = await store.enroll("o-me", cohort, {"name": "张三", "phone": "13800000001"})
    waiting = await store.enroll("o-wait", cohort, {"name": "李四", "phone": "13900000001"})
    assert (mine.status, waiting.status) == ("enrolled", "waitlisted")
    return mine, waiting


async def test_my_things_lists_camp_enrolments_and_cancel_by_number_promotes_the_waitlist():
    store = EnrollmentStore(runtime.redis(), runtime.settings(), camp_actions.clock)  # the frozen day
    mine, waiting = await enrol_full_cohort(store)
    _, listed = await run_action(ActionMyBookings(), tracker("o-me", text="我的报名", intent="my_bookings", active=False))
    assert "1. 【实训营】潍坊" in listed and mine.code in listed and "已报名" in listed
    _, theirs = await run_action(ActionMyBookings(), tracker("o-wait", text="我报了哪些", intent="my_bookings", active=False))
    assert "候补第1位" in theirs and waiting.code in theirs
    slots, said = await run_action(ActionCancelBooking(), tracker("o-me", text="取消报名", intent="cancel_booking", active=False))
    # the only thing held: said back and confirmed before cancelling (a place freed goes to the waitlist)
    assert slots["booking_pending"] == "cancel_pick" and "【实训营】潍坊" in said and "确定取消" in said
    assert await store.find("o-me", "wf-2027-01") is not None
    pick = tracker("o-me", slots, text="1", entities=[{"entity": "number", "value": "1"}], active=False)
    slots, said = await run_action(ActionBookingFollowup(), pick)
    assert "已取消实训营报名" in said and mine.code in said and slots["booking_pending"] is None
    assert await store.find("o-me", "wf-2027-01") is None
    assert (await store.find("o-wait", "wf-2027-01"))["status"] == "enrolled"
    _, listed = await run_action(ActionMyBookings(), tracker("o-me", text="我的报名", intent="my_bookings", active=False))
    assert "没有预约或实训营报名" in listed


@pytest.mark.parametrize("yes, intent, action", [
    ("确定", "affirm", ActionBookingFollowup), ("嗯 退了吧", "affirm", ActionBookingFollowup),
    ("对 取消", "cancel_booking", ActionCancelBooking),
    ("确定", "affirm", ActionCoreFallback),  # no rule placed the yes: the fallback asks the holdings first
])
async def test_the_only_enrolment_named_by_words_is_cancelled_on_a_yes(yes, intent, action):
    store = EnrollmentStore(runtime.redis(), runtime.settings(), camp_actions.clock)
    mine, _ = await enrol_full_cohort(store)
    slots, said = await run_action(ActionCancelBooking(), tracker("o-me", text="实训营报名给俺取消了吧", intent="cancel_booking", active=False))
    assert "确定取消" in said and await store.find("o-me", "wf-2027-01") is not None
    slots, said = await run_action(action(), tracker("o-me", slots, text=yes, intent=intent, active=False))
    assert "已取消实训营报名" in said and await store.find("o-me", "wf-2027-01") is None


async def test_cancel_an_enrolment_by_its_code_and_not_once_the_cohort_started(monkeypatch):
    store = EnrollmentStore(runtime.redis(), runtime.settings(), camp_actions.clock)  # the frozen day
    mine, waiting = await enrol_full_cohort(store)
    catalogue = camp_actions.current_catalogue()
    # the sample catalogue moves with the calendar: keep the one as of the fixture's day
    monkeypatch.setattr(camp_actions, "current_catalogue", lambda: catalogue)
    start = catalogue.get("wf-2027-01").start
    monkeypatch.setattr(camp_actions, "clock", FrozenClock(datetime.combine(start, datetime.min.time(), SHANGHAI) + timedelta(hours=9)))
    _, said = await run_action(ActionCancelBooking(), tracker("o-me", text=f"取消{mine.code.lower()}", intent="cancel_booking", active=False))
    assert "已开营" in said and "0536-88000004" in said  # the cohort's contact
    assert (await store.find("o-me", "wf-2027-01"))["status"] == "enrolled"
    monkeypatch.setattr(camp_actions, "clock", FrozenClock(datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)))
    _, said = await run_action(ActionCancelBooking(), tracker("o-wait", text=f"取消实训营 {waiting.code}", intent="cancel_booking", active=False))
    assert "已取消实训营报名" in said and await store.find("o-wait", "wf-2027-01") is None
    assert (await store.counts("wf-2027-01")) == {"enrolled": 1, "waitlisted": 0}


@pytest.mark.parametrize("identity, said, filled, city", [
    ("应届毕业生", "临沂大学", {}, "临沂"),  # still at school: the school's city, not asked again
    ("在校生", "聊城大学", {"camp_city": "济南"}, "济南"),  # a city the user gave stays
    ("离校未就业毕业生", "临沂大学", {}, None),  # left school, maybe gone home: the city is asked
])
async def test_a_school_named_in_the_form_gives_the_city_of_a_student_unless_one_was_said(identity, said, filled, city):
    from tests.helpers.form_validation import CAMP, form_tracker, validate

    answers = {"camp_name": "屈文静", "camp_mobile": "13800138000", "camp_identity": identity, "camp_grad_year": 2025}
    t = form_tracker(CAMP, "camp_school", said, "inform", extracted={"camp_school": said}, filled={**answers, **filled})
    _, slots, _ = await validate(CAMP, t)
    assert slots["camp_school"] == said and slots.get("camp_city", filled.get("camp_city")) == city


@pytest.mark.parametrize("text, school, major", [
    ("临沂大学 物流管理", "临沂大学", "物流管理"),
    ("聊城大学，学的是新闻专业", "聊城大学", "新闻"),
    ("山东大学", "山东大学", None),
    ("济南大学 还没毕业呢", "济南大学 还没毕业呢", None),  # a sentence, not a major: the school answer as before
])
def test_a_school_answer_with_the_major_after_it_gives_both(text: str, school: str, major: str) -> None:
    from actions.camp_answers import school_and_major
    assert school_and_major(text) == (school, major)


async def test_the_one_cohort_that_fits_is_taken_without_a_one_line_list():
    base = {"camp_name": "许诺", "camp_mobile": "13700003333", "camp_identity": "失业青年", "camp_age": "22"}
    result, said = await validate(base, "camp_city", "淄博", sender="o-sole")  # only the online cohort fits
    assert result["camp_cohort"] == "online-2026-12" and result["requested_slot"] is None
    assert "只有线上第4期" in said
    # two fit (Qingdao and online): the user chooses
    result, _ = await validate(base, "camp_city", "青岛", sender="o-two")
    assert result["requested_slot"] == "camp_cohort" and not result.get("camp_cohort")
    # a wrong answer to the cohort question is asked again, not answered for the user
    result, said = await validate({**base, "camp_city": "淄博"}, "camp_cohort", "随便", sender="o-sole")
    assert result["camp_cohort"] is None and "序号" in said


