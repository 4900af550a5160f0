"""Callback items on real Redis: a request while nobody is on duty is always left for staff
(with the conversation so far, phone or not) and the user learns when to expect contact; a
counsellor's message on a callback item makes it a live conversation until close or timeout."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from bot.clock import FrozenClock
from bot.gateway.conversation import UserTurn
from bot.services.handoff.callbacks import turns_from_events
from bot.services.handoff.config import HandoffConfig, parse_office_hours
from bot.services.handoff.gate import HandoffInterceptor, request_handoff
from bot.services.handoff.service import HandoffService
from tests.helpers.moments import upcoming

EARLIER = [
    {"kind": "user", "text": "我去年毕业，还没找到工作", "at": 1.0},
    {"kind": "bot", "text": "可以看看见习岗位……", "at": 2.0},
]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(upcoming(5, 20, 0))  # a Friday evening: off hours until Monday 08:30


@pytest.fixture
def service(redis, settings, clock) -> HandoffService:
    return HandoffService(redis, settings, clock, HandoffConfig(live_idle_minutes=30))


async def _earlier() -> list:
    return EARLIER


@pytest.mark.parametrize(
    "weekday, hour, minute, expected",
    [
        (5, 20, 0, "下周一 8:30"),  # Friday evening
        (6, 10, 0, "下周一 8:30"),  # Saturday
        (7, 23, 0, "明天 8:30"),  # Sunday night
        (3, 18, 0, "明天 8:30"),  # Wednesday evening
        (1, 7, 15, "今天 8:30"),  # Monday early morning
        (2, 12, 0, "今天 12:00"),  # inside office hours: now
    ],
)
def test_next_opening_in_beijing_time(weekday, hour, minute, expected):
    config = HandoffConfig()  # 周一至周五 08:30–17:30
    assert config.describe_next_opening(upcoming(weekday, hour, minute)) == expected


def test_next_opening_later_this_week_and_from_another_time_zone():
    config = HandoffConfig(office_hours=parse_office_hours("4 09:00-12:00"))  # Thursdays only
    monday = upcoming(1, 10, 0)
    assert config.describe_next_opening(monday) == "周四 9:00"
    assert config.describe_next_opening(monday + timedelta(days=4)) == "下周四 9:00"  # Friday
    # the same instant seen from UTC (the servers' zone) is still described in Beijing time
    sunday_utc = upcoming(1, 1, 0).astimezone(timezone.utc)
    assert HandoffConfig().describe_next_opening(sunday_utc) == "今天 8:30"
    assert HandoffConfig(office_hours=()).describe_next_opening(monday) == ""


async def test_off_hours_request_leaves_an_item_with_the_conversation(service, clock):
    text = await request_handoff(
        service, "u-night", reason="request_human", priority=0, first_message="转人工", history=_earlier,
    )
    assert "不在人工服务时间" in text and "下周一 8:30后" in text and "手机号" in text
    assert await service.active_item("u-night") is None  # the bot keeps serving the user
    [item] = await service.snapshot()
    assert (item["openid"], item["kind"], item["phone"], item["status"]) == ("u-night", "callback", "", "queued")
    transcript = await service.transcript(item["id"])
    texts = [(e["kind"], e["text"]) for e in transcript]
    assert ("user", "我去年毕业，还没找到工作") in texts and ("bot", "可以看看见习岗位……") in texts
    assert texts[-1] == ("user", "转人工")  # the request itself comes after what led to it
    assert [e["at"] for e in transcript if e["kind"] == "bot"] == [2.0]  # each turn keeps its time

    clock.advance(hours=2)  # asking again the same night leaves no second item
    again = await request_handoff(service, "u-night", reason="request_human", priority=0, first_message="人工")
    assert "下周一 8:30后" in again
    assert [i["id"] for i in await service.snapshot()] == [item["id"]]


async def test_a_phone_number_goes_onto_the_item_already_left(service, clock):
    gate = HandoffInterceptor(service, history_of=lambda openid: _earlier())
    [offer] = await gate.intercept(UserTurn("u-phone", "转人工"))
    assert "下周一 8:30后" in offer
    [noted] = await gate.intercept(UserTurn("u-phone", "13812345678"))
    assert "138****5678" in noted and "下周一 8:30后" in noted
    [item] = await service.snapshot()
    assert item["phone"] == "13812345678"
    assert "可以看看见习岗位……" in [e["text"] for e in await service.transcript(item["id"])]
    assert await gate.intercept(UserTurn("u-phone", "谢谢")) is None  # a callback does not hold the chat


async def test_the_phone_step_answers_why_then_takes_the_number_and_a_corrected_one(service, clock):
    gate = HandoffInterceptor(service, history_of=lambda openid: _earlier())
    await gate.intercept(UserTurn("u-why", "转人工"))
    [why] = await gate.intercept(UserTurn("u-why", "要俺手机号弄啥"))
    assert "回电" in why and "不想留也可以" in why
    [noted] = await gate.intercept(UserTurn("u-why", "13812345678"))
    assert "138****5678" in noted
    assert await gate.intercept(UserTurn("u-why", "13900001111")) is None  # a number without a correction: for the bot
    [fixed] = await gate.intercept(UserTurn("u-why", "不对 号码输错了 是13905318826"))
    assert "139****8826" in fixed
    [item] = await service.snapshot()
    assert item["phone"] == "13905318826"


async def test_the_phone_step_says_when_the_call_would_come_and_the_offer_stands(service, clock):
    gate = HandoffInterceptor(service, history_of=lambda openid: _earlier())
    await gate.intercept(UserTurn("u-when", "转人工"))
    [when] = await gate.intercept(UserTurn("u-when", "大概啥时候能给俺回电话"))
    assert "周一 8:30后" in when and "回复手机号" in when  # Friday evening: Monday morning
    [noted] = await gate.intercept(UserTurn("u-when", "13812345678"))
    assert "138****5678" in noted


async def test_the_phone_step_withdrawn_or_skipped(service, clock):
    gate = HandoffInterceptor(service, history_of=lambda openid: _earlier())
    await gate.intercept(UserTurn("u-off", "转人工"))
    [withdrawn] = await gate.intercept(UserTurn("u-off", "算了 不用回电了"))
    assert "撤回" in withdrawn and await service.snapshot() == []
    assert not await service.memory.has_offer("u-off")
    await gate.intercept(UserTurn("u-skip", "转人工"))
    [skipped] = await gate.intercept(UserTurn("u-skip", "电话不想留"))
    assert "公众号消息" in skipped and len(await service.snapshot()) == 1  # the message left stays


async def test_after_the_talk_moved_on_a_why_is_no_longer_about_the_callback(service, clock):
    gate = HandoffInterceptor(service, history_of=lambda openid: _earlier())
    await gate.intercept(UserTurn("u-moved", "转人工"))
    assert await gate.intercept(UserTurn("u-moved", "报名实训营")) is None
    assert await gate.intercept(UserTurn("u-moved", "为什么要手机号")) is None  # the camp form's question now
    # the number answers the form's question (the bot gets it) and still goes onto the item, said once
    assert await gate.intercept(UserTurn("u-moved", "13812345678")) is None
    [item] = await service.snapshot()
    assert item["phone"] == "13812345678"


async def test_a_booking_started_after_the_offer_gets_its_phone_number(service, clock):
    gate = HandoffInterceptor(service, history_of=lambda openid: _earlier())
    await gate.intercept(UserTurn("u-book", "找个真人吧"))
    assert await gate.intercept(UserTurn("u-book", "那先约个面试辅导 越快越好")) is None
    assert await gate.intercept(UserTurn("u-book", "刘海燕")) is None  # the booking's name question
    assert await gate.intercept(UserTurn("u-book", "139 0531 2468")) is None  # and its phone question
    [item] = await service.snapshot()
    assert item["phone"] == "13905312468"
    [corrected] = await gate.intercept(UserTurn("u-book", "不对 回电打这个13905319999"))
    assert "139****9999" in corrected  # a number said for the callback is still the callback's


@pytest.mark.parametrize("moment", [(5, 20, 0), (2, 10, 0)])  # off hours; office hours, nobody online
async def test_a_number_in_the_request_itself_is_the_callback_number(service, clock, moment):
    clock.set(upcoming(*moment))
    said = "嗯那个我就是说我电话是13812345678你让人工给我打过来吧我打字说不清楚"
    text = await request_handoff(service, "u-runon", reason="request_human", priority=0, first_message=said)
    assert "138****5678" in text and "给您回电" in text and "直接回复您的手机号码" not in text
    assert ("下周一 8:30后" if moment[0] == 5 else "上线后") in text  # when to expect contact
    [item] = await service.snapshot()
    assert (item["kind"], item["phone"]) == ("callback", "13812345678")
    assert not await service.memory.has_offer("u-runon")  # nothing left to ask for


async def test_a_history_that_cannot_be_read_still_leaves_the_item(service):
    async def broken() -> list:
        raise ConnectionError("rasa down")

    await request_handoff(service, "u-nohist", reason="request_human", priority=0, first_message="转人工", history=broken)
    [item] = await service.snapshot()
    assert [e["text"] for e in await service.transcript(item["id"]) if e["kind"] == "user"] == ["转人工"]


async def test_no_staff_online_in_office_hours_also_leaves_an_item(service, clock):
    clock.set(upcoming(2, 10, 0))  # Tuesday morning, nobody's console open
    text = await request_handoff(service, "u-nostaff", reason="request_human", priority=0, first_message="转人工")
    assert "没有职业指导师在线" in text and "上线后" in text
    assert [i["kind"] for i in await service.snapshot()] == ["callback"]


async def test_counsellor_message_makes_a_callback_live_until_timeout(service, clock):
    gate = HandoffInterceptor(service)
    await gate.intercept(UserTurn("u-live", "转人工"))
    [item] = await service.snapshot()
    clock.set(upcoming(1, 8, 40))  # Monday morning
    await service.claim(item["id"], "li")
    assert await gate.intercept(UserTurn("u-live", "在吗")) is None  # claimed alone: still the bot's

    await service.counsellor_wrote(item["id"], "li", "您好，我是李老师，看到您的留言了")
    assert await gate.intercept(UserTurn("u-live", "李老师好，我想问见习")) == []
    clock.advance(minutes=29)
    assert await gate.intercept(UserTurn("u-live", "还在吗")) == []
    user_lines = [e["text"] for e in await service.transcript(item["id"]) if e["kind"] == "user"]
    assert user_lines[-2:] == ["李老师好，我想问见习", "还在吗"]

    clock.advance(minutes=2)  # 31 minutes after the counsellor's last message
    assert await gate.intercept(UserTurn("u-live", "算了")) is None
    notes = [e["text"] for e in await service.transcript(item["id"]) if e["kind"] == "system"]
    assert any("30 分钟未回复" in n for n in notes)
    assert (await service.get(item["id"]))["status"] == "claimed"  # still the counsellor's to close

    await service.counsellor_wrote(item["id"], "li", "抱歉刚才在忙")  # live again
    assert await gate.intercept(UserTurn("u-live", "好的")) == []
    await service.close(item["id"], "li", "resolved")
    assert await gate.intercept(UserTurn("u-live", "谢谢")) is None


async def test_release_ends_a_live_callback_and_an_open_chat_is_not_taken_over(service, clock):
    gate = HandoffInterceptor(service)
    clock.set(upcoming(2, 10, 0))
    await request_handoff(service, "u-two", reason="request_human", priority=0, first_message="转人工")
    [callback] = await service.snapshot()
    await service.claim(callback["id"], "li")
    await service.counsellor_wrote(callback["id"], "li", "您好")
    assert await gate.intercept(UserTurn("u-two", "您好老师")) == []
    await service.release(callback["id"], "li")
    assert await gate.intercept(UserTurn("u-two", "人呢")) is None

    await service.heartbeat("wang")
    chat = await service.request("u-two", first_message="转人工")  # a live chat of its own
    await service.claim(callback["id"], "li")
    await service.counsellor_wrote(callback["id"], "li", "我来回电")
    assert (await service.active_item("u-two"))["id"] == chat.item_id


def test_turns_from_events_keeps_texts_and_drops_the_message_being_handled():
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "你好", "timestamp": 10},
        {"event": "bot", "text": "您好！我是职引", "timestamp": 11},
        {"event": "user", "text": "/greet", "timestamp": 12},
        {"event": "bot", "text": None, "timestamp": 13},
        {"event": "user", "text": "转人工", "timestamp": 20},
    ]
    turns = turns_from_events(events, drop_latest_user=True)
    assert [(t["kind"], t["text"], t["at"]) for t in turns] == [
        ("user", "你好", 10.0), ("bot", "您好！我是职引", 11.0), ("user", "[非文字消息] /greet", 12.0),
    ]
    assert [t["text"] for t in turns_from_events(events, limit=2)] == ["[非文字消息] /greet", "转人工"]
