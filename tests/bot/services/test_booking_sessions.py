"""The staff side of a workshop session: whose it is (scope), from when marks are taken, the
day range staff type, and the session list with seats and waitlist (real Redis)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FrozenClock, system_clock
from bot.services.booking.service import BookingService
from bot.services.booking.sessions import day_range, in_scope, may_check_in, parse_days, session_city
from bot.services.phone import phone_tail
from bot.services.staff_scope import parse_scope
from bot.services.workshops import Slot
from tests.bot.gateway.console.test_sessions_console import JN, ONLINE, QD, today_at


def test_whose_session_it_is():
    assert (session_city(QD), session_city(JN), session_city(ONLINE)) == ("青岛市", "济南市", "")
    qingdao, province, county = parse_scope("青岛"), parse_scope("province"), parse_scope("青岛市/黄岛区")
    assert in_scope(qingdao, QD) and not in_scope(qingdao, JN) and not in_scope(qingdao, ONLINE)
    assert in_scope(province, QD) and in_scope(province, ONLINE)
    assert not in_scope(county, QD)  # a workshop names its city, not its county


def test_marks_from_the_sessions_day_in_beijing():
    start = today_at(0, 30)  # just after midnight in Beijing: the day before in UTC
    slot = Slot("s", "w", start, start + timedelta(hours=1), 3)
    assert may_check_in(slot, start - timedelta(minutes=20))  # same Beijing day, before the start
    assert not may_check_in(slot, start - timedelta(minutes=40))  # the evening before
    assert may_check_in(slot, start + timedelta(days=3))  # a late correction


def test_day_range_and_what_staff_type():
    today = system_clock().date()
    earlier = today - timedelta(days=14)
    assert parse_days("", "", today) == (today, 8)
    assert parse_days(earlier.isoformat(), "3", today) == (earlier, 3)
    for first, days in (("6月1日", ""), ("", "0"), ("", "63"), ("", "两天")):
        with pytest.raises(ValueError):
            parse_days(first, days, today)
    start, end = day_range(today, 2)
    assert (start.hour, end - start, start.utcoffset()) == (0, timedelta(days=2), timedelta(hours=8))


def test_phone_tail_shows_the_last_four_digits_only():
    assert phone_tail("13812345678") == "*******5678"
    assert phone_tail("5678") == "***" and phone_tail("") == ""


async def test_the_list_holds_todays_started_sessions_and_the_waitlist(redis, settings):
    clock = FrozenClock(today_at(8))
    booking = BookingService(redis, settings, clock=clock)
    await booking.catalogue.upsert_workshop(QD)
    for slot_id, start, capacity in (("early", today_at(0, 10), 1), ("later", today_at(9), 1),
                                     ("next-week", today_at(9) + timedelta(days=8), 1)):
        await booking.catalogue.upsert_slot(Slot(slot_id, QD.id, start, start + timedelta(hours=1), capacity))
    await booking.book("oA", "later", "甲", "13800000001", "r-a")
    await booking.join_waitlist("oB", "later", "乙", "13800000002")
    rows = await booking.sessions(*day_range(clock().date(), 8))
    assert [(r.slot.id, r.taken, r.waiting) for r in rows] == [("early", 0, 0), ("later", 1, 1)]
