"""The monthly figures are counted where the events happen: conversations, bookings, camp, handoffs."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.clock import SHANGHAI, FrozenClock
from bot.services.booking.service import BookingService
from bot.services.camp import Cohort, EnrollmentStore
from bot.services.conversation_marks import ConversationCounter
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.routing import UserPlace
from bot.services.handoff.service import HandoffService
from bot.services.monthly_stats import UNKNOWN_CITY, MonthlyStats, month_of
from bot.services.profiles import ProfileStore
from bot.services.workshops import WorkshopCatalogue
from tests.bot.services.booking_helpers import WORKSHOP, add_slot

# A Wednesday morning late in a month, so a few days later is the next month.
LATE_IN_MONTH = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)


async def _figures(redis, settings, clock, city=None):
    report = await MonthlyStats(redis, settings, clock).month(month_of(clock()))
    return report.by_city.get(city) if city else report.total


async def test_a_conversation_is_a_run_of_messages_without_half_an_hour_of_silence(redis, settings):
    clock = FrozenClock(LATE_IN_MONTH)
    counter = ConversationCounter(redis, settings, clock)
    await ProfileStore(redis, settings).update("u-qd", {"city": "青岛"})
    assert await counter.message("u-qd") == "青岛市"
    clock.advance(minutes=29)
    await counter.message("u-qd")  # 29 minutes of silence: the same conversation
    clock.advance(minutes=30)
    await counter.message("u-qd")  # 30 minutes: a new one
    assert await counter.message("u-nobody") == UNKNOWN_CITY
    qingdao = await _figures(redis, settings, clock, "青岛市")
    assert qingdao.count("conversations") == 2 and qingdao.users == 1
    total = await _figures(redis, settings, clock)
    assert total.count("conversations") == 3 and total.users == 2


async def test_a_conversation_running_into_a_new_month_counts_its_user_there(redis, settings):
    clock = FrozenClock(datetime(2026, 11, 30, 23, 50, tzinfo=SHANGHAI))
    counter = ConversationCounter(redis, settings, clock)
    await counter.message("u1")
    clock.advance(minutes=20)  # 00:10 on the 1st, the same conversation
    await counter.message("u1")
    december = await _figures(redis, settings, clock)
    assert december.users == 1 and december.count("conversations") == 0
    assert await counter.city("u1") == UNKNOWN_CITY


async def test_bookings_count_in_the_city_of_the_slots_workshop(redis, settings):
    clock = FrozenClock(LATE_IN_MONTH)
    catalogue = WorkshopCatalogue(redis, settings, clock)
    service = BookingService(redis, settings, catalogue=catalogue, clock=clock)
    qingdao = replace(WORKSHOP, id="t-qd", city="青岛")
    await add_slot(catalogue, "qd1", clock() + timedelta(days=1), 1, qingdao)
    first = await service.book("u1", "qd1", "张三", "13800138000", "req-1")
    await service.book("u1", "qd1", "张三", "13800138000", "req-1")  # a retried request: no new booking
    await service.join_waitlist("u2", "qd1", "李四", "13900139000")
    await service.cancel("u1", first.code)  # u2 gets the seat: a booking made too
    promoted = (await service.my_bookings("u2"))[0].booking.code
    await service.mark_attendance(promoted, True)
    await service.mark_attendance(promoted, True)  # marked twice: attended once
    figures = await _figures(redis, settings, clock, "青岛市")
    assert figures.count("booking_made") == 2 and figures.count("booking_cancelled") == 1
    assert figures.count("booking_attended") == 1
    await service.mark_attendance(promoted, False)  # a staff correction takes it back
    assert (await _figures(redis, settings, clock, "青岛市")).count("booking_attended") == 0
    assert set((await MonthlyStats(redis, settings, clock).month(month_of(clock()))).by_city) == {"青岛市"}


class _BrokenStats(MonthlyStats):
    async def count(self, *args, **kwargs) -> None:
        raise ConnectionError("figures unavailable")


async def test_a_failed_figure_never_fails_the_booking(redis, settings):
    clock = FrozenClock(LATE_IN_MONTH)
    catalogue = WorkshopCatalogue(redis, settings, clock)
    service = BookingService(redis, settings, catalogue=catalogue, clock=clock)
    service.monthly = _BrokenStats(redis, settings, clock)
    await add_slot(catalogue, "s1", clock() + timedelta(days=1), 3)
    result = await service.book("u1", "s1", "张三", "13800138000")
    assert result.status == "confirmed" and await service.seats_taken("s1") == 1


async def test_handoffs_count_waits_and_handling_times_in_the_items_city(redis, settings):
    clock = FrozenClock(LATE_IN_MONTH)
    service = HandoffService(redis, settings, clock, HandoffConfig())
    first = await service.request("u1", first_message="转人工", place=UserPlace("青岛市", "", "profile"))
    second = await service.request("u2", first_message="转人工", place=UserPlace("青岛市", "", "profile"))
    await service.request("u3", first_message="转人工")  # no known place: the provincial pool
    clock.advance(seconds=60)
    await service.claim(first.item_id, "qd-a")
    clock.advance(seconds=120)
    await service.claim(second.item_id, "qd-b")  # waited 180 s
    await service.release(second.item_id, "qd-b")
    await service.claim(second.item_id, "qd-a")  # a re-claim is no new wait
    clock.advance(seconds=600)
    await service.close(first.item_id, "qd-a", "resolved")  # handled for 720 s
    figures = await _figures(redis, settings, clock, "青岛市")
    assert figures.count("handoff_created") == 2 and figures.count("handoff_claimed") == 2
    assert figures.mean("handoff_wait_s") == 120.0 and figures.mean("handoff_handling_s") == 720.0
    assert figures.count("handoff_closed") == 1
    assert (await _figures(redis, settings, clock, UNKNOWN_CITY)).count("handoff_created") == 1


async def test_camp_enrolments_count_in_the_cohorts_city(redis, settings):
    clock = FrozenClock(LATE_IN_MONTH)
    day = clock().date()
    cohort = Cohort(
        "yt-test", "烟台", "示例实训营", "烟台示例地点", False, day + timedelta(days=10), day + timedelta(days=20),
        "示例", "示例", 1, "免费", "示例", "12333", day + timedelta(days=5),
    )
    store = EnrollmentStore(redis, settings, clock)
    await store.enroll("u1", cohort, {"phone": "13800138000", "name": "张三"})
    await store.enroll("u1", cohort, {"phone": "13800138000", "name": "张三"})  # a duplicate counts nothing
    await store.enroll("u2", cohort, {"phone": "13900139000", "name": "李四"})  # full: waitlisted
    report = await MonthlyStats(redis, settings, clock).month(month_of(clock()))
    assert set(report.by_city) == {"烟台市"}
    assert report.total.count("camp_enrolled") == 1 and report.total.count("camp_waitlisted") == 1
