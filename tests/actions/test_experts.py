"""The expert actions on real Redis with the shipped sample pool: a search in the user's words, the
choice by number or name, and the booking form offering only the chosen expert's consultations."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.experts as experts_actions
from actions import runtime
from actions.booking import common as booking_common
from actions.booking.form import ValidateWorkshopBookingForm
from bot.clock import FrozenClock, system_clock
from bot.services.experts.files import load_sample_if_empty
from bot.services.profiles import ProfileStore
from bot.settings import PROJECT_ROOT
from tests.helpers.action_tracker import SENDER, entities, make_tracker, run_action

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
async def pool(action_runtime, monkeypatch):
    clock = FrozenClock(system_clock() + timedelta(days=1))  # any day: the sessions follow the clock
    monkeypatch.setattr(booking_common, "CLOCK", clock)
    service = booking_common.booking_service()
    store = experts_actions.expert_store()
    await load_sample_if_empty(store)
    await store.sync_sessions(service.catalogue)
    yield store
    await runtime.redis().close()


def text_of(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


async def test_internet_experts_listed_with_the_next_free_slot(pool):
    messages, slots = await run_action(experts_actions.ActionFindExpert(), make_tracker("有没有懂互联网行业的专家", "find_expert"))
    reply = text_of(messages)
    offered = slots["expert_offered"]
    assert offered[0] == "sd-01"  # without a known place the province's expert comes first
    listed = [await pool.get(i) for i in offered]
    assert all("互联网" in expert.industries for expert in listed)
    assert "王老师（示例）｜省级｜互联网" in reply and "最近可约：" in reply and "约第1个" in reply


async def test_a_city_named_or_in_the_profile_puts_its_experts_first(pool):
    _, slots = await run_action(experts_actions.ActionFindExpert(), make_tracker("青岛有没有面试辅导的专家", "find_expert",
                                                                                 entities(city="青岛")))
    assert slots["expert_offered"][:2] == ["qd-01", "qd-03"]  # 市级 青岛, then 县级 黄岛区
    await ProfileStore(runtime.redis(), runtime.settings()).update(SENDER, {"city": "烟台市"})
    messages, slots = await run_action(experts_actions.ActionFindExpert(), make_tracker("想找个创业方面的老师", "find_expert"))
    assert slots["expert_offered"][0] == "yt-02" and "离烟台市由近到远" in text_of(messages)


async def test_a_city_given_after_the_list_searches_the_earlier_topic_there(pool):
    earlier = [{"event": "user", "text": "有没有懂农业的专家"}, {"event": "action", "name": "action_find_expert"}]
    messages, slots = await run_action(experts_actions.ActionFindExpert(),
                                       make_tracker("潍坊的呢", "inform", entities(city="潍坊"), events=earlier))
    assert slots["expert_offered"][:2] == ["wf-01", "wf-02"] and "现代农业方面的专家" in text_of(messages)


async def test_no_specialty_gets_the_menu_of_what_the_pool_covers(pool):
    messages, slots = await run_action(experts_actions.ActionFindExpert(), make_tracker("你们有专家吗", "find_expert"))
    assert "行业：互联网" in text_of(messages) and slots["expert_offered"] is None


def form_tracker(text: str, slots: Dict[str, Any], extracted: Dict[str, Any], intent: str = "book_workshop") -> Tracker:
    values: Dict[str, Optional[Any]] = {name: None for name in DOMAIN["slots"]}
    values.update(slots)
    values.update(extracted)
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": [], "message_id": "m1"}
    events = [{"event": "user", "text": text, "parse_data": latest, "message_id": "m1"}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in extracted.items()]
    return Tracker(SENDER, values, latest, events, False, None, {"name": "workshop_booking_form"}, "action_listen")


@pytest.mark.parametrize("text, number", [("约第2个", None), ("就约第二个吧", None), ("2", "2"), ("预约李老师", None)])
async def test_choosing_an_expert_opens_the_form_on_their_consultations_only(pool, text, number):
    listed = ["sd-01", "jn-01", "qd-01"]
    found = entities(number=number) if number else []
    messages, slots = await run_action(experts_actions.ActionBookExpert(),
                                       make_tracker(text, "book_workshop", found, slots={"expert_offered": listed}))
    assert slots["booking_expert"] == "expert-jn-01" and slots["booking_when"] == "最近"
    assert "李老师（示例）（市级·济南市）" in text_of(messages)
    # the form's activation validates the prefilled topic and time: offers are that expert's sessions
    dispatcher = CollectingDispatcher()
    prefilled = {name: value for name, value in slots.items() if value is not None}
    events = await ValidateWorkshopBookingForm().run(dispatcher, form_tracker(text, {}, prefilled), DOMAIN)
    offered = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}["booking_offered"]
    catalogue = booking_common.booking_service().catalogue
    assert offered and {(await catalogue.get_slot(s)).workshop_id for s in offered} == {"expert-jn-01"}


async def test_an_unknown_choice_falls_back_to_a_counsellor_booking(pool):
    messages, slots = await run_action(experts_actions.ActionBookExpert(),
                                       make_tracker("约第9个", "book_workshop", slots={"expert_offered": ["sd-01"]}))
    assert slots["booking_topic"] == "一对一咨询" and slots.get("booking_expert") is None
    assert "没找到您说的是哪位专家" in text_of(messages)


async def test_a_workshop_named_after_the_list_books_that_workshop(pool):
    messages, slots = await run_action(experts_actions.ActionBookExpert(),
                                       make_tracker("还是约个简历指导吧", "book_workshop", slots={"expert_offered": ["sd-01"]}))
    assert slots["booking_topic"] == "简历指导" and slots.get("booking_expert") is None and messages == []
