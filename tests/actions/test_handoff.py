"""Handoff actions on real Redis: request_human queues, a complaint goes first, off hours."""
from __future__ import annotations

from datetime import datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff as handoff_action
from actions import runtime
from bot.clock import SHANGHAI, FrozenClock
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.service import HandoffService
from tests.helpers.moments import upcoming


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock(datetime(2025, 6, 4, 10, 0, tzinfo=SHANGHAI))  # Wednesday
    monkeypatch.setattr(handoff_action, "CLOCK", frozen)
    return frozen


def service(clock) -> HandoffService:
    return HandoffService(runtime.redis(), runtime.settings(), clock, HandoffConfig())


def user(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.3}}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


async def run(action_cls, openid: str, text: str, intent: str, events=None):
    tracker = Tracker(openid, {}, {"text": text, "intent": {"name": intent}, "entities": []},
                      events or [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    await action_cls().run(dispatcher, tracker, {})
    return dispatcher.messages


async def test_request_human_queues_with_position(action_runtime, clock):
    await service(clock).heartbeat("li")
    messages = await run(handoff_action.ActionRequestHuman, "oUserA", "我要找真人", "request_human")
    assert "第 1 位" in messages[0]["text"]
    item = await service(clock).active_item("oUserA")
    assert item["reason"] == "request_human" and item["first_message"] == "我要找真人"


async def test_complaint_is_high_priority(action_runtime, clock):
    svc = service(clock)
    await svc.heartbeat("li")
    await run(handoff_action.ActionRequestHuman, "oUserB", "转人工", "request_human")
    await run(handoff_action.ActionRequestHuman, "oUserC", "我要投诉 转人工", "request_human")
    assert [i["openid"] for i in await svc.snapshot()] == ["oUserC", "oUserB"]


async def test_off_hours_offers_callback(action_runtime, clock):
    clock.set(datetime(2025, 6, 8, 15, 0))  # Sunday
    messages = await run(handoff_action.ActionRequestHuman, "oUserD", "转人工", "request_human")
    assert "不在人工服务时间" in messages[0]["text"]
    assert await service(clock).active_item("oUserD") is None


async def test_off_hours_request_is_left_with_the_conversation(action_runtime, clock):
    clock.set(upcoming(6, 11, 0))  # a Saturday
    events = [
        user("我是2025届毕业生", "tell_profile"),
        {"event": "bot", "text": "好的，已记下您是2025届毕业生。", "timestamp": 1.0},
        user("转人工", "request_human"),
    ]
    messages = await run(handoff_action.ActionRequestHuman, "oUserE", "转人工", "request_human", events)
    assert "下周一 8:30后" in messages[0]["text"]
    [item] = await service(clock).snapshot()
    assert (item["openid"], item["kind"]) == ("oUserE", "callback")
    said = [(e["kind"], e["text"]) for e in await service(clock).transcript(item["id"]) if e["kind"] != "system"]
    assert said == [("user", "我是2025届毕业生"), ("bot", "好的，已记下您是2025届毕业生。"), ("user", "转人工")]
