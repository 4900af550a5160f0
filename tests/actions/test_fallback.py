"""The dialogue fallback: a yes/no/stop or a bare answer with nothing pending is answered as such, never "没太明白";
anything else still gets utter_default; the user's turn is reverted either way."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import NOTHING_PENDING, ActionCoreFallback
from tests.helpers.action_tracker import make_tracker


async def fallback(text: str, intent: str):
    dispatcher = CollectingDispatcher()
    events = await ActionCoreFallback().run(dispatcher, make_tracker(text, intent), {})
    return dispatcher.messages, events


@pytest.mark.parametrize("text,intent", [("是", "affirm"), ("确认", "affirm"), ("否", "deny"), ("算了", "stop"), ("最近", "inform")])
async def test_a_bare_answer_with_nothing_pending_is_answered(text, intent):
    messages, events = await fallback(text, intent)
    assert [m["text"] for m in messages] == [NOTHING_PENDING[intent]]
    assert "没太明白" not in NOTHING_PENDING[intent] and "“转人工”" in NOTHING_PENDING[intent]
    assert [e["event"] for e in events] == ["rewind"]


async def test_anything_else_gets_the_default_response():
    messages, events = await fallback("嗯哼哈", "find_job")
    assert [m.get("response") for m in messages] == ["utter_default"]
    assert [e["event"] for e in events] == ["rewind"]


async def test_facts_stated_with_nothing_pending_are_noted_and_survive_the_revert():
    t = make_tracker("我是青岛科技大学的学生", "inform")
    # the slots Rasa's action_extract_slots filled from the message, after the user event
    t.events += [
        {"event": "slot", "name": "camp_school", "value": "青岛科技大学"},
        {"event": "slot", "name": "city", "value": "青岛市"},
        {"event": "slot", "name": "point_type", "value": None},
    ]
    dispatcher = CollectingDispatcher()
    events = await ActionCoreFallback().run(dispatcher, t, {})
    assert [e["event"] for e in events] == ["rewind", "slot", "slot"]  # set again after the revert
    assert {e["name"]: e["value"] for e in events[1:]} == {"camp_school": "青岛科技大学", "city": "青岛市"}
    text = dispatcher.messages[0]["text"]
    assert "记下了" in text and "青岛科技大学" in text and "没太明白" not in text


async def test_a_bare_mobile_number_with_nothing_asking_for_it_says_where_numbers_are_asked(action_runtime):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("13912345678", "inform", entities=[{"entity": "phone", "value": "13912345678"}])
    events = await ActionCoreFallback().run(dispatcher, tracker, {})
    text = dispatcher.messages[0]["text"]
    assert "手机号码" in text and "预约" in text and "“转人工”" in text and "没太明白" not in text
    assert [e["event"] for e in events] == ["rewind"]
