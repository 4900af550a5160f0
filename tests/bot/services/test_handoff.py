"""The handoff queue on real Redis: ordering, the atomic claim, ownership rules, office hours."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from bot.clock import SHANGHAI, FrozenClock
from bot.services.handoff.config import HandoffConfig, parse_office_hours
from bot.services.handoff.gate import request_handoff
from bot.services.handoff.model import (
    PRIORITY_COMPLAINT,
    PRIORITY_NORMAL,
    PRIORITY_REPEATED_FAILURE,
    HandoffError,
)
from bot.services.handoff.service import HandoffService
from tests.helpers.moments import upcoming

# Wednesday 2025-06-04 10:00 Shanghai: inside 周一至周五 08:30–17:30
WEDNESDAY_10 = datetime(2025, 6, 4, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(WEDNESDAY_10)


@pytest.fixture
def service(redis, settings, clock) -> HandoffService:
    return HandoffService(redis, settings, clock, HandoffConfig(no_staff_minutes=5, overdue_minutes=10))


async def test_priority_then_arrival(service, clock):
    a = await service.request("u-a", priority=PRIORITY_NORMAL, first_message="a")
    clock.advance(seconds=1)
    b = await service.request("u-b", reason="repeated_fallback", priority=PRIORITY_REPEATED_FAILURE)
    clock.advance(seconds=1)
    c = await service.request("u-c", priority=PRIORITY_NORMAL)
    clock.advance(seconds=1)
    d = await service.request("u-d", reason="complaint", priority=PRIORITY_COMPLAINT)
    order = [s["openid"] for s in await service.snapshot()]
    assert order == ["u-d", "u-b", "u-a", "u-c"]
    assert await service.position(a.item_id) == 3
    assert (await service.summary(d.item_id))["priority_label"] == "高"


async def test_request_is_idempotent_and_raises_priority(service):
    first = await service.request("u-1", first_message="转人工")
    again = await service.request("u-1", reason="complaint", priority=PRIORITY_COMPLAINT)
    assert again.item_id == first.item_id and again.created is False
    other = await service.request("u-2")
    snap = await service.snapshot()
    assert [s["openid"] for s in snap] == ["u-1", "u-2"]
    assert snap[0]["reason"] == "complaint"
    assert other.position == 2


async def test_fifty_concurrent_claims_have_exactly_one_winner(service):
    item = await service.request("u-race", first_message="转人工")

    async def attempt(n: int):
        try:
            await service.claim(item.item_id, f"counsellor{n}")
            return f"counsellor{n}"
        except HandoffError as exc:
            assert exc.code == "taken"
            return None

    results = await asyncio.gather(*(attempt(n) for n in range(50)))
    winners = [r for r in results if r]
    assert len(winners) == 1
    stored = await service.get(item.item_id)
    assert stored["status"] == "claimed" and stored["holder"] == winners[0]
    assert await service.queue_length() == 0


async def test_transfer_release_close_respect_the_holder(service):
    item_id = (await service.request("u-x")).item_id
    await service.claim(item_id, "li")
    with pytest.raises(HandoffError) as exc:
        await service.claim(item_id, "wang")
    assert exc.value.code == "taken" and exc.value.holder == "li"
    with pytest.raises(HandoffError):
        await service.transfer(item_id, "wang", "zhao")
    await service.transfer(item_id, "li", "wang", note="政策问题")
    assert (await service.get(item_id))["holder"] == "wang"
    with pytest.raises(HandoffError):
        await service.release(item_id, "li")
    await service.release(item_id, "wang")
    assert (await service.get(item_id))["status"] == "queued"
    assert await service.position(item_id) == 1
    await service.claim(item_id, "zhao")
    with pytest.raises(HandoffError):
        await service.close(item_id, "li", "resolved")
    await service.close(item_id, "li", "resolved", supervisor=True)
    assert (await service.get(item_id))["outcome"] == "resolved"
    assert await service.active_item("u-x") is None
    kinds = [e["kind"] for e in await service.transcript(item_id)]
    assert kinds.count("system") >= 5


async def test_office_hours_and_presence(redis, settings):
    clock = FrozenClock(datetime(2025, 6, 7, 10, 0, tzinfo=SHANGHAI))  # Saturday
    service = HandoffService(redis, settings, clock, HandoffConfig(no_staff_minutes=5))
    await service.heartbeat("li")
    avail = await service.availability()
    assert (avail.available, avail.reason) == (False, "off_hours")
    text = await request_handoff(service, "u-sat", reason="request_human", priority=0, first_message="转人工")
    assert "不在人工服务时间" in text and "周一至周五 08:30–17:30" in text and "手机号" in text
    assert await service.active_item("u-sat") is None  # the bot keeps serving the user
    assert await service.memory.has_offer("u-sat")

    clock.set(datetime(2025, 6, 9, 8, 29))  # Monday, one minute before opening
    assert (await service.availability()).reason == "off_hours"
    clock.set(datetime(2025, 6, 9, 8, 30))
    assert (await service.availability()).reason == "no_staff"  # last heartbeat was Saturday
    await service.heartbeat("li")
    assert (await service.availability()).available
    clock.advance(minutes=4, seconds=59)
    assert (await service.availability()).available
    clock.advance(seconds=2)
    assert (await service.availability()).reason == "no_staff"
    clock.set(datetime(2025, 6, 9, 17, 30))
    await service.heartbeat("li")
    assert (await service.availability()).reason == "off_hours"


async def test_queued_user_is_told_position_and_wait(service, clock):
    await service.heartbeat("li")
    await service.request("u-first")
    text = await request_handoff(service, "u-second", reason="request_human", priority=0, first_message="转人工")
    assert "第 2 位" in text and "预计等待约 10 分钟" in text  # 2 ahead-or-equal x 5 min default


async def test_complaint_text_raises_priority(service):
    await service.heartbeat("li")
    await service.request("u-early")
    await request_handoff(service, "u-angry", reason="request_human", priority=0, first_message="我要投诉你们的服务")
    first = (await service.snapshot())[0]
    assert first["openid"] == "u-angry" and first["reason"] == "complaint"


async def test_overdue_flag(service, clock):
    item_id = (await service.request("u-slow")).item_id
    assert not (await service.summary(item_id))["overdue"]
    clock.advance(minutes=10, seconds=1)
    assert (await service.summary(item_id))["overdue"]


def test_parse_office_hours():
    spans = parse_office_hours("mon-fri 08:30-17:30; 6 09:00-12:00")
    assert spans[0].days == (1, 2, 3, 4, 5) and spans[1].days == (6,)
    config = HandoffConfig(office_hours=spans)
    assert config.in_office_hours(datetime(2025, 6, 7, 11, 0, tzinfo=SHANGHAI))
    assert not config.in_office_hours(datetime(2025, 6, 7, 12, 0, tzinfo=SHANGHAI))
    assert config.describe_hours() == "周一至周五 08:30–17:30；周六 09:00–12:00"


async def test_reports_for_the_dashboard_the_live_stream_and_metrics(service, clock):
    assert await service.latest_event_id() == "0-0"
    first = await service.request("u-r1", first_message="转人工")
    clock.advance(seconds=30)
    await service.request("u-r2", first_message="转人工")
    clock.advance(seconds=90)
    assert await service.oldest_wait_s() == 120.0
    since = clock().timestamp() - 3600
    await service.claim(first.item_id, "li")
    assert await service.held_count() == 1
    assert await service.oldest_wait_s() == 90.0
    await service.close(first.item_id, "li", "resolved")
    assert await service.held_count() == 0
    assert [wait for _at, wait in await service.claim_waits(since)] == [120.0]
    assert await service.closed_since(since) == [("li", "resolved")]
    samples = await service.queue_length_samples(clock().strftime("%Y-%m-%d"))
    assert samples == [["10:00", 2], ["10:02", 1]]  # HH:MM -> length after each change
    events = await service.read_events("0-0", count=100, block_ms=1)
    assert events and events[-1][0] == await service.latest_event_id()


async def test_queue_length_history_is_kept_in_beijing_days_and_hours_on_a_utc_clock(redis, settings):
    moment = upcoming(2, 1, 30)  # a Tuesday 01:30 in Beijing is still Monday 17:30 in UTC
    service = HandoffService(redis, settings, FrozenClock(moment.astimezone(timezone.utc)), HandoffConfig())
    await service.request("u-utc", first_message="转人工")
    assert await service.queue_length_samples(moment.strftime("%Y-%m-%d")) == [["01:30", 1]]
