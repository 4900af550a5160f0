"""Booking service on real Redis: the rules, the races, the waitlist, reminders, staff side."""
from __future__ import annotations

import asyncio
import csv
import io
import statistics
import time
from datetime import timedelta

import pytest

from bot.jobs.scheduler import JobScheduler
from bot.services.booking.codes import find_codes
from bot.services.booking.service import BookingService
from bot.services.workshops import WorkshopCatalogue

from .booking_helpers import T0, RecordingNotifier, add_slot, frozen


@pytest.fixture
def clock():
    return frozen()


@pytest.fixture
def notifier():
    return RecordingNotifier()


@pytest.fixture
def service(redis, settings, clock, notifier):
    catalogue = WorkshopCatalogue(redis, settings, clock)
    scheduler = JobScheduler(redis, settings)
    svc = BookingService(
        redis, settings, catalogue=catalogue, scheduler=scheduler, notifier=notifier, clock=clock,
        max_active=2, cancel_cutoff=timedelta(hours=2),
    )
    svc.register_jobs()
    return svc


async def test_book_confirm_duplicate_limit_and_closed(service, clock):
    day = T0 + timedelta(days=3)
    for i in range(3):
        await add_slot(service.catalogue, f"s{i}", day + timedelta(hours=i * 3), 5)
    first = await service.book("u1", "s0", "张三", "13800138000", "m1")
    assert first.status == "confirmed" and len(first.code) == 6
    again = await service.book("u1", "s0", "张三", "13800138000", "m2")
    assert again.status == "duplicate" and again.code == first.code
    assert (await service.book("u1", "s1", "张三", "13800138000", "m3")).status == "confirmed"
    limit = await service.book("u1", "s2", "张三", "13800138000", "m4")
    assert limit.status == "limit" and limit.active == 2
    assert (await service.book("u1", "nope", "张三", "13800138000", "m5")).status == "no_slot"
    record = await service.get(first.code)
    assert record.openid == "u1" and record.phone == "13800138000" and record.status == "confirmed"
    mine = await service.my_bookings("u1")
    assert len(mine) == 2 and mine[0].booking.code == first.code and mine[0].slot.id == "s0"
    assert mine[0].workshop.title == "简历诊断工作坊"
    # A started slot takes no bookings, and no longer counts against the limit.
    clock.set(day + timedelta(minutes=1))
    assert (await service.book("u2", "s0", "李四", "13900139000", "x")).status == "closed"
    assert (await service.book("u1", "s2", "张三", "13800138000", "m6")).status == "confirmed"


async def test_codes_are_unique_and_well_formed(service):
    await add_slot(service.catalogue, "big", T0 + timedelta(days=2), 300)
    codes = [
        (await service.book(f"u{i}", "big", "王五", "13700137000", f"r{i}")).code for i in range(300)
    ]
    assert len(set(codes)) == 300
    assert all(len(c) == 6 and not set(c) & set("01IO") for c in codes)
    assert find_codes(f"取消 {codes[0].lower()} 谢谢") == [codes[0]]


@pytest.mark.slow
async def test_race_1000_users_10_seats(service, redis):
    await add_slot(service.catalogue, "hot", T0 + timedelta(days=2), 10)
    latencies = []

    async def attempt(i: int):
        started = time.perf_counter()
        try:
            return await service.book(f"user{i}", "hot", "求职者", "13800138000", f"req{i}")
        finally:
            latencies.append(time.perf_counter() - started)

    results = await asyncio.gather(*(attempt(i) for i in range(1000)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    statuses = [r.status for r in results]
    assert statuses.count("confirmed") == 10
    assert statuses.count("full") == 990
    assert await service.seats_taken("hot") == 10
    assert len(await service.slot_bookings("hot")) == 10
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"\nbooking race 1000 users / 10 seats: p50={p50:.1f} ms p99={p99:.1f} ms max={latencies[-1]*1000:.1f} ms")


async def test_one_user_50_identical_attempts(service):
    await add_slot(service.catalogue, "s", T0 + timedelta(days=2), 10)
    same = await asyncio.gather(
        *(service.book("u1", "s", "张三", "13800138000", "wechat-msg-1") for _ in range(50))
    )
    assert {r.status for r in same} == {"confirmed"}  # the retried message: the same answer
    assert len({r.code for r in same}) == 1
    # Fifty different confirmations of the same choice: still one seat, same code.
    different = await asyncio.gather(
        *(service.book("u1", "s", "张三", "13800138000", f"msg-{i}") for i in range(50))
    )
    assert {r.status for r in different} == {"duplicate"}
    assert {r.code for r in different} == {same[0].code}
    assert await service.seats_taken("s") == 1
    assert len(await service.slot_bookings("s")) == 1


async def test_cancel_promotes_first_waiting_user_once(service, clock, notifier):
    await add_slot(service.catalogue, "s", T0 + timedelta(days=2), 1)
    booked = await service.book("u1", "s", "张三", "13800138000", "a")
    assert (await service.book("u2", "s", "李四", "13900139000", "b")).status == "full"
    assert (await service.join_waitlist("u2", "s", "李四", "13900139000")).position == 1
    assert (await service.join_waitlist("u3", "s", "王五", "13700137000")).position == 2
    again = await service.join_waitlist("u2", "s", "李四", "13900139000")
    assert again.status == "waiting" and again.position == 1
    assert (await service.book("u2", "s", "李四", "13900139000", "c")).waiting == 1

    result = await service.cancel("u1", booked.code)
    assert result.status == "cancelled"
    assert [openid for openid, _ in result.promoted] == ["u2"]
    promoted_code = result.promoted[0][1]
    record = await service.get(promoted_code)
    assert record.openid == "u2" and record.source == "waitlist" and record.name == "李四"
    assert await service.waitlist("s") == ["u3"]
    # The notice went out once, and running the scheduler again sends nothing more.
    assert len(notifier.to("u2")) == 1 and promoted_code in notifier.to("u2")[0]["text"]
    await service.scheduler.run_due(clock())
    assert len(notifier.to("u2")) == 1
    # Cancelling twice does nothing the second time.
    assert (await service.cancel("u1", booked.code)).status == "not_active"
    assert (await service.cancel("u3", promoted_code)).status == "not_found"
    assert await service.seats_taken("s") == 1


async def test_concurrent_cancels_promote_each_waiter_exactly_once(service, notifier):
    await add_slot(service.catalogue, "s", T0 + timedelta(days=2), 10)
    codes = {}
    for i in range(10):
        codes[f"b{i}"] = (await service.book(f"b{i}", "s", "甲", "13800138000", "r")).code
    for i in range(30):
        assert (await service.join_waitlist(f"w{i}", "s", "乙", "13900139000")).status == "waiting"
    # Every booker cancels at once, and each cancel is also sent three times (retries).
    calls = [service.cancel(openid, code) for openid, code in codes.items() for _ in range(3)]
    results = await asyncio.gather(*calls)
    assert sum(r.status == "cancelled" for r in results) == 10
    assert sum(r.status == "not_active" for r in results) == 20
    promoted = [p for r in results for p in r.promoted]
    assert sorted(o for o, _ in promoted) == sorted(f"w{i}" for i in range(10))
    assert await service.seats_taken("s") == 10
    assert await service.waitlist("s") == [f"w{i}" for i in range(10, 30)]
    assert sorted(m["openid"] for m in notifier.sent) == sorted(f"w{i}" for i in range(10))


async def test_cancel_cutoff_follows_the_clock(service, clock):
    start = T0 + timedelta(days=1)
    await add_slot(service.catalogue, "s", start, 3)
    code = (await service.book("u1", "s", "张三", "13800138000", "r")).code
    clock.set(start - timedelta(hours=1, minutes=59))
    assert (await service.cancel("u1", code)).status == "too_late"
    clock.set(start - timedelta(hours=2, minutes=1))
    assert (await service.cancel("u1", code)).status == "cancelled"
    # Staff may cancel after the cut-off.
    code2 = (await service.book("u2", "s", "李四", "13900139000", "r")).code
    clock.set(start - timedelta(minutes=10))
    assert (await service.staff_cancel(code2)).status == "cancelled"


async def test_reminders_fire_once_each_at_the_right_time(service, clock, notifier):
    start = T0 + timedelta(days=3, hours=4)
    await add_slot(service.catalogue, "s", start, 3)
    code = (await service.book("u1", "s", "张三", "13800138000", "r")).code
    other = (await service.book("u2", "s", "李四", "13900139000", "r")).code
    await service.cancel("u2", other)  # its reminders must never fire

    async def tick(moment):
        clock.set(moment)
        await service.scheduler.run_due(moment)
        return [m for m in notifier.sent if m["kind"] == "reminder"]

    assert await tick(start - timedelta(days=1, seconds=1)) == []
    day = await tick(start - timedelta(days=1))
    assert len(day) == 1 and "明天" in day[0]["text"] and code in day[0]["text"]
    assert len(await tick(start - timedelta(hours=2))) == 1
    # A second runner (another process, after a restart) finds nothing to do twice.
    restarted = JobScheduler(service.scheduler._redis, service.scheduler._settings)
    restarted.register("booking_reminder", service._send_reminder)
    await restarted.run_due(start - timedelta(hours=3))
    hour = await tick(start - timedelta(hours=1))
    assert len(hour) == 2 and "1小时后" in hour[1]["text"]
    assert len(await tick(start + timedelta(hours=1))) == 2
    assert all(m["openid"] == "u1" for m in hour)


async def test_no_reminder_in_the_past(service, clock, notifier):
    start = T0 + timedelta(minutes=150)  # books 2.5 h ahead: no "day before" reminder
    await add_slot(service.catalogue, "s", start, 3)
    await service.book("u1", "s", "张三", "13800138000", "r")
    await service.scheduler.run_due(start)
    assert [m["text"][:6] for m in notifier.sent] == ["【预约提醒】"]


async def test_staff_list_mark_export(service, clock):
    await add_slot(service.catalogue, "s", T0 + timedelta(days=2), 3)
    a = await service.book("u1", "s", "张三", "13800138000", "r")
    b = await service.book("u2", "s", "=HYPERLINK(\"x\")", "13900139000", "r")
    await service.cancel("u2", b.code)
    listed = await service.slot_bookings("s")
    assert [(x.code, x.status) for x in listed] == [(a.code, "confirmed"), (b.code, "cancelled")]
    assert await service.mark_attendance(a.code, attended=False, staff="li")
    assert (await service.get(a.code)).status == "no_show"
    assert await service.mark_attendance(a.code, attended=True, staff="li")
    assert (await service.get(a.code)).status == "attended"
    assert not await service.mark_attendance(b.code, attended=True)
    data = await service.export_csv(["s"])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "预约码" and len(rows) == 3
    assert rows[1][0] == a.code and rows[1][8] == "已到场" and rows[1][6] == "张三"
    assert rows[2][6].startswith("'=")  # formula neutralised for Excel


async def test_capacity_increase_fills_from_waitlist(service, notifier):
    slot = await add_slot(service.catalogue, "s", T0 + timedelta(days=2), 1)
    await service.book("u1", "s", "张三", "13800138000", "r")
    await service.join_waitlist("u2", "s", "李四", "13900139000")
    await service.join_waitlist("u3", "s", "王五", "13700137000")
    from dataclasses import replace

    result = await service.update_slot(replace(slot, capacity=2))
    assert [o for o, _ in result.promoted] == ["u2"]
    assert await service.seats_taken("s") == 2
    assert [m["openid"] for m in notifier.sent] == ["u2"]


async def test_waitlist_skips_users_at_their_limit(service):
    for i in range(3):
        await add_slot(service.catalogue, f"s{i}", T0 + timedelta(days=2 + i), 1)
    await service.book("x", "s0", "甲", "13800138000", "r")
    await service.join_waitlist("u", "s0", "乙", "13900139000")
    await service.join_waitlist("v", "s0", "丙", "13700137000")
    assert (await service.book("u", "s1", "乙", "13900139000", "r1")).status == "confirmed"
    assert (await service.book("u", "s2", "乙", "13900139000", "r2")).status == "confirmed"
    # u is now at max_active=2: the freed seat goes to the next in line.
    result = await service.cancel("x", (await service.my_bookings("x"))[0].booking.code)
    assert [o for o, _ in result.promoted] == ["v"]
    assert await service.waitlist("s0") == []


async def test_same_request_id_replays_the_first_answer(service):
    await add_slot(service.catalogue, "a", T0 + timedelta(days=2), 5)
    await add_slot(service.catalogue, "b", T0 + timedelta(days=3), 5)
    first = await service.book("u", "a", "乙", "13900139000", "msg-7")
    replay = await service.book("u", "b", "乙", "13900139000", "msg-7")
    assert replay == first and await service.seats_taken("b") == 0
    # Another user's identical message id is a different request.
    assert (await service.book("v", "a", "丙", "13700137000", "msg-7")).code != first.code


@pytest.mark.slow
async def test_race_through_a_bounded_pool(settings, clock):
    """The same race with a 32-connection pool, as a gateway process would run it."""
    import redis.asyncio as aioredis

    from tests.conftest import TEST_REDIS_URL

    pool = aioredis.BlockingConnectionPool.from_url(TEST_REDIS_URL, max_connections=32, decode_responses=True)
    client = aioredis.Redis(connection_pool=pool)
    try:
        svc = BookingService(client, settings, clock=clock)
        await add_slot(svc.catalogue, "hot2", T0 + timedelta(days=2), 10)
        latencies = []

        async def attempt(i: int):
            started = time.perf_counter()
            result = await svc.book(f"p{i}", "hot2", "求职者", "13800138000", f"q{i}")
            latencies.append(time.perf_counter() - started)
            return result.status

        statuses = await asyncio.gather(*(attempt(i) for i in range(1000)))
        assert statuses.count("confirmed") == 10 and statuses.count("full") == 990
        latencies.sort()
        print(f"\nbooking race via 32-connection pool: p50={statistics.median(latencies)*1000:.1f} ms "
              f"p99={latencies[989]*1000:.1f} ms")
    finally:
        await client.close()
        await pool.disconnect()


async def test_bookings_per_day_counts_the_records_of_each_day(service):
    await add_slot(service.catalogue, "s0", T0 + timedelta(days=3), 5)
    for openid in ("u1", "u2"):
        assert (await service.book(openid, "s0", "张三", "13800138000", f"r-{openid}")).status == "confirmed"
    days = [(T0 - timedelta(days=1)).strftime("%Y-%m-%d"), T0.strftime("%Y-%m-%d")]
    assert await service.bookings_per_day(days) == {"per_day": [0, 2], "per_city": {"未知": 2}}


async def test_the_owner_corrects_the_phone_of_a_confirmed_booking_only(service):
    await add_slot(service.catalogue, "p0", T0 + timedelta(days=2), 5)
    booked = await service.book("u1", "p0", "张三", "13953358812", "mp1")
    assert await service.change_phone("u1", booked.code.lower(), "13900001234") is True
    assert (await service.get(booked.code)).phone == "13900001234"
    assert await service.change_phone("u2", booked.code, "13700000000") is False  # not theirs
    assert await service.change_phone("u1", "NOPE99", "13700000000") is False
    await service.cancel("u1", booked.code)
    assert await service.change_phone("u1", booked.code, "13700000000") is False  # cancelled: not changed
    assert (await service.get(booked.code)).phone == "13900001234"
