"""action_courses on real Redis: listing by day and topic, subscribe, my subscriptions, cancel."""
from __future__ import annotations

from datetime import datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.courses as courses_action
from bot.clock import SHANGHAI, FrozenClock
from bot.services.courses import CourseService

OPENID = "oCourseUser01"


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock(datetime(2026, 6, 3, 10, 0, tzinfo=SHANGHAI))  # Wednesday
    monkeypatch.setattr(courses_action, "CLOCK", frozen)
    return frozen


async def ask(text: str, entities=None) -> str:
    tracker = Tracker(
        OPENID, {}, {"text": text, "intent": {"name": "ask_courses"}, "entities": entities or []},
        [], False, None, {}, "action_listen",
    )
    dispatcher = CollectingDispatcher()
    await courses_action.ActionCourses().run(dispatcher, tracker, {})
    assert len(dispatcher.messages) == 1
    reply = dispatcher.messages[0]["text"]
    assert len(reply.encode("utf-8")) <= 2048
    return reply


async def test_today_live(action_runtime, clock):
    reply = await ask("今天有什么直播")
    assert reply.startswith("今天直播课")
    assert "6月3日（周三）19:30直播" in reply and "6月3日（周三）20:30直播" in reply
    assert "6月4日" not in reply and "录播" not in reply


async def test_this_week_and_tomorrow(action_runtime, clock):
    week = await ask("这周的课")
    assert "6月3日" in week and "6月5日" in week and "6月8日" not in week  # Wed–Sun
    tomorrow = await ask("明天有课吗")
    assert "6月4日（周四）19:00直播" in tomorrow and "6月3日" not in tomorrow


async def test_by_topic(action_runtime, clock):
    reply = await ask("面试的课")
    lines = [l for l in reply.splitlines() if l[:1].isdigit()]
    assert lines and all("【面试】" in l for l in lines)
    assert any("录播" in l for l in lines)
    recorded = await ask("有简历的回放吗")
    assert "【简历】" in recorded and "直播" not in recorded.split("：", 1)[1].split("想有新课")[0]


async def test_time_entity_interval(action_runtime, clock):
    reply = await ask("那天的课", entities=[{"entity": "time", "value": "2026-06-06T00:00:00+08:00/2026-06-06T23:59:59+08:00"}])
    assert "6月6日" in reply and "6月3日" not in reply


async def test_subscribe_mine_cancel(action_runtime, clock, redis):
    assert "想订阅哪类" in await ask("我要订阅课程")
    reply = await ask("订阅面试的课")
    assert "已为您订阅“面试”" in reply
    assert "已经订阅过" in await ask("订阅面试")
    await ask("有简历的新课提醒我")
    service = CourseService(redis, action_runtime)
    assert await service.subscriptions(OPENID) == ["简历", "面试"]
    mine = await ask("我的订阅")
    assert "简历、面试" in mine
    assert "要取消哪个" in await ask("取消订阅")
    assert "已取消订阅：面试" in await ask("取消订阅面试")
    assert await service.subscriptions(OPENID) == ["简历"]
    assert "已取消订阅：简历" in await ask("取消全部课程订阅")
    assert "还没有订阅" in await ask("我的订阅")


async def test_a_trade_the_user_wants_to_do_suggests_skill_courses_first(action_runtime, clock):
    # "我想学电工" earlier in the conversation (entity `trade`, bot/services/profile_facts.py)
    earlier = {"text": "我想学电工", "intent": {"name": "inform"}, "entities": [{"entity": "trade", "value": "电工"}]}
    tracker = Tracker(
        OPENID, {}, {"text": "有啥课能听听", "intent": {"name": "ask_courses"}, "entities": []},
        [{"event": "user", "text": earlier["text"], "parse_data": earlier}], False, None, {}, "action_listen",
    )
    dispatcher = CollectingDispatcher()
    await courses_action.ActionCourses().run(dispatcher, tracker, {})
    reply = dispatcher.messages[0]["text"]
    assert reply.startswith("您想做电工")
    lines = [l for l in reply.splitlines() if l[:1].isdigit()]
    assert lines and all("【技能】" in l for l in lines)
    # a topic the user names wins over the trade
    assert not (await ask("面试的课")).startswith("您想做")
