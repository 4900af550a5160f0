"""The 48-hour customer-service window and quota, on real Redis with a frozen clock."""
from __future__ import annotations

import asyncio

from bot.clock import FrozenClock
from bot.services.profiles import ProfileStore
from bot.gateway.wechat.window import CustomerServiceWindow


async def test_never_interacted_is_closed(redis, settings) -> None:
    w = CustomerServiceWindow(redis, settings, FrozenClock())
    assert await w.may_send("oU") == (False, "window_closed")
    assert await w.consume("oU") is False


async def test_user_message_gives_five_in_48_hours(redis, settings) -> None:
    clock = FrozenClock()
    w = CustomerServiceWindow(redis, settings, clock)
    await w.record_user_message("oU")
    assert [await w.consume("oU") for _ in range(6)] == [True] * 5 + [False]
    assert await w.may_send("oU") == (False, "quota_exhausted")
    await w.record_user_message("oU")  # a new message renews the allowance
    assert await w.remaining("oU") == 5
    clock.advance(hours=47, minutes=59)
    assert await w.may_send("oU") == (True, "message_window")
    clock.advance(minutes=2)
    assert await w.may_send("oU") == (False, "window_closed")
    assert await w.consume("oU") is False


async def test_event_gives_three_in_one_minute(redis, settings) -> None:
    clock = FrozenClock()
    w = CustomerServiceWindow(redis, settings, clock)
    await w.record_event("oU")
    assert await w.may_send("oU") == (True, "event_window")
    assert [await w.consume("oU") for _ in range(4)] == [True, True, True, False]
    await w.record_event("oU")
    clock.advance(seconds=61)
    assert await w.consume("oU") is False


async def test_event_allowance_spent_before_message_allowance(redis, settings) -> None:
    clock = FrozenClock()
    w = CustomerServiceWindow(redis, settings, clock)
    await w.record_user_message("oU")
    await w.record_event("oU")
    assert await w.remaining("oU") == 8
    for _ in range(3):
        assert await w.consume("oU")
    assert await w.remaining("oU") == 5
    clock.advance(minutes=5)
    assert await w.may_send("oU") == (True, "message_window")


async def test_consume_is_atomic_under_concurrency(redis, settings) -> None:
    w = CustomerServiceWindow(redis, settings, FrozenClock())
    await w.record_user_message("oU")
    results = await asyncio.gather(*(w.consume("oU") for _ in range(50)))
    assert sum(results) == 5


async def test_api_refusals_close_the_record(redis, settings) -> None:
    clock = FrozenClock()
    w = CustomerServiceWindow(redis, settings, clock)
    await w.record_user_message("oA")
    await w.record_api_refusal("oA", 45015)
    assert await w.may_send("oA") == (False, "window_closed")
    await w.record_user_message("oB")
    await w.record_api_refusal("oB", 45047)
    assert await w.may_send("oB") == (False, "blocked")
    await w.record_event("oB")  # WeChat said no: an event does not lift it
    assert await w.consume("oB") is False
    await w.record_user_message("oB")  # a new user message does
    assert await w.consume("oB") is True


async def test_window_is_personal_data(redis, settings) -> None:
    w = CustomerServiceWindow(redis, settings, FrozenClock())
    await w.record_user_message("oU")
    assert await ProfileStore(redis, settings).delete_personal_data("oU") >= 1
    assert await w.may_send("oU") == (False, "window_closed")
