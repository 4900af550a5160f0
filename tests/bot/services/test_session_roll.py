"""The daily session roll: a gateway that runs for months still offers the coming weeks' workshops
and expert consultations, creates each slot once, leaves staff edits and bookings alone, and
schedules itself for the next day exactly once."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import List

import pytest

from bot.clock import SHANGHAI, FrozenClock, system_clock
from bot.jobs.scheduler import Job, JobScheduler
from bot.services.booking.service import BookingService
from bot.services.experts.files import load_sample_if_empty
from bot.services.experts.store import ExpertStore
from bot.services.session_roll import JOB_KIND, RUN_AT, SessionRoller, job_id_for, next_run
from bot.services.workshops import Slot, WorkshopCatalogue


def coming_tuesday_10() -> datetime:
    today = system_clock().date()
    day = today + timedelta(days=(2 - today.isoweekday()) % 7 or 7)
    return datetime.combine(day, time(10), SHANGHAI)


class Gateway:
    """What one gateway process holds for the roll: its catalogue, experts, scheduler and roller."""

    def __init__(self, redis, settings, clock: FrozenClock) -> None:
        self.catalogue = WorkshopCatalogue(redis, settings, clock)
        self.experts = ExpertStore(redis, settings, clock)
        self.scheduler = JobScheduler(redis, settings)
        self.roller = SessionRoller(self.catalogue, self.experts, clock)
        self.roller.register(self.scheduler)

    async def start(self) -> None:
        """What `load_reference_data` does at start-up."""
        await load_sample_if_empty(self.experts)
        await self.roller.roll()
        await self.roller.schedule_next(self.scheduler)

    async def rolls(self) -> List[Job]:
        return [job for job in await self.scheduler.pending() if job.kind == JOB_KIND]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(coming_tuesday_10())


async def slots_ahead(catalogue: WorkshopCatalogue, now: datetime, experts: bool) -> List[Slot]:
    found = await catalogue.slots_between(now, now + timedelta(weeks=5))
    return [slot for slot, workshop in found if bool(workshop.expert_id) == experts and slot.start > now]


def test_next_run_is_the_first_quiet_hour_strictly_ahead():
    day = coming_tuesday_10().date()
    three = datetime.combine(day, RUN_AT, SHANGHAI)
    assert next_run(three - timedelta(minutes=1)) == three
    assert next_run(three) == three + timedelta(days=1)  # the 03:00 run schedules tomorrow's
    assert next_run(three + timedelta(hours=20)) == three + timedelta(days=1)
    assert job_id_for(three) == f"session_roll:{day:%Y%m%d}"


async def test_five_weeks_on_the_job_has_kept_the_coming_weeks_bookable(redis, settings, clock):
    gateway = Gateway(redis, settings, clock)
    await gateway.start()
    assert [job.due_at for job in await gateway.rolls()] == [next_run(clock())]
    clock.advance(weeks=5)
    # without the job: every generated slot is in the past
    assert await slots_ahead(gateway.catalogue, clock(), experts=False) == []
    assert await slots_ahead(gateway.catalogue, clock(), experts=True) == []
    report = await gateway.scheduler.run_due(clock())
    assert len(report.done) == 1
    for experts in (False, True):
        ahead = await slots_ahead(gateway.catalogue, clock(), experts)
        assert ahead and min(s.start for s in ahead) < clock() + timedelta(days=7)
        assert max(s.start for s in ahead) > clock() + timedelta(weeks=3)  # the fourth week too
    # the expert consultations are bookable through the booking engine
    booking = BookingService(redis, settings, catalogue=gateway.catalogue, clock=clock)
    assert await booking.open_slots(limit=1, workshop_id="expert-sd-01")
    assert await booking.open_slots("简历指导", limit=1)


async def test_a_rerun_or_a_second_gateway_creates_nothing_twice(redis, settings, clock):
    first, second = Gateway(redis, settings, clock), Gateway(redis, settings, clock)
    await first.start()
    clock.advance(weeks=5)
    results = await asyncio.gather(first.roller.roll(), second.roller.roll())
    created = sum(r.workshop_slots + r.expert_slots for r in results)
    assert created > 0 and created == len(await slots_ahead(first.catalogue, clock(), False)) + len(
        await slots_ahead(first.catalogue, clock(), True)
    )
    again = await first.roller.roll()
    assert (again.workshop_slots, again.expert_slots) == (0, 0)


async def test_staff_edits_and_bookings_survive_the_roll(redis, settings, clock):
    gateway = Gateway(redis, settings, clock)
    await gateway.start()
    booking = BookingService(redis, settings, catalogue=gateway.catalogue, clock=clock)
    workshop_slots = await slots_ahead(gateway.catalogue, clock(), experts=False)
    enlarged = replace(workshop_slots[-1], capacity=99)
    cancelled = replace(workshop_slots[-2], status="cancelled")
    for edited in (enlarged, cancelled):
        await gateway.catalogue.upsert_slot(edited)
    next_week = clock() + timedelta(days=7)  # still ahead when the job runs, no reminder due yet
    consultation = (await booking.open_slots(start=next_week, limit=1, workshop_id="expert-sd-01"))[0][0]
    assert (await booking.book("u1", consultation.id, "张三", "13800138000", "r1")).booked
    clock.set(next_run(clock()))  # the first daily run
    assert len((await gateway.scheduler.run_due(clock())).done) == 1
    assert await gateway.catalogue.get_slot(enlarged.id) == enlarged
    assert await gateway.catalogue.get_slot(cancelled.id) == cancelled
    assert await gateway.catalogue.get_slot(consultation.id) == consultation
    assert [view.booking.slot_id for view in await booking.my_bookings("u1")] == [consultation.id]
    still = await booking.open_slots(limit=50, workshop_id="expert-sd-01")
    assert consultation.id not in [slot.id for slot, _, _ in still]  # taken: capacity 1


async def test_the_job_schedules_the_next_day_exactly_once(redis, settings, clock):
    first, second = Gateway(redis, settings, clock), Gateway(redis, settings, clock)
    await first.start()
    await second.start()  # a second gateway starting: still one pending run
    [pending] = await first.rolls()
    clock.set(pending.due_at)
    ran = await asyncio.gather(first.scheduler.run_due(clock()), second.scheduler.run_due(clock()))
    assert sum(len(report.done) for report in ran) == 1
    [following] = await first.rolls()
    assert following.due_at == pending.due_at + timedelta(days=1)
    assert following.id == job_id_for(following.due_at)
    # a retried handler (same job again) schedules nothing new
    assert not await first.roller.schedule_next(first.scheduler)
    assert [job.id for job in await second.rolls()] == [following.id]
    assert (await first.scheduler.run_due(clock())).ran == 0
