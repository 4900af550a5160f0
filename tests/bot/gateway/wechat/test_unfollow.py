"""Unfollow takes the user off every waitlist and cancels their future notices (real Redis)."""
from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta

from bot.gateway.appkeys import SERVICES
from bot.clock import SHANGHAI
from bot.services.camp import load_catalogue
from bot.services.camp_scripts import promoted_job_id
from tests.bot.services.booking_helpers import add_slot

from .conftest import event_xml, text_xml, unique_openid


async def test_unfollowed_user_is_never_promoted_and_leaves_no_key(make_gateway, redis) -> None:
    side = await make_gateway()  # the sample cohorts move forward with the calendar
    services = side.app[SERVICES]
    booking, enrolments = services.booking, services.enrolments
    holder, leaver, other = unique_openid("h"), unique_openid("l"), unique_openid("o")
    start = services.clock() + timedelta(days=3)
    await add_slot(booking.catalogue, "full", start, 1)
    await add_slot(booking.catalogue, "mine", start + timedelta(days=1), 5)
    held = await booking.book(holder, "full", "张三", "13800138000", "r1")
    assert (await booking.join_waitlist(leaver, "full", "李四", "13900139000")).position == 1
    assert (await booking.join_waitlist(other, "full", "王五", "13700137000")).position == 2
    mine = await booking.book(leaver, "mine", "李四", "13900139000", "r2")
    reminders = [j.id for j in await services.scheduler.pending(start + timedelta(days=30)) if mine.code in j.id]
    assert reminders
    cohorts = load_catalogue(side.settings.camp_cohorts_file, services.clock().date())
    cohort = dataclasses.replace(cohorts.cohorts[0], capacity=1)
    await enrolments.enroll(holder, cohort, {"name": "张三", "phone": "13800138000"})
    assert (await enrolments.enroll(leaver, cohort, {"name": "李四", "phone": "13900139000"})).status == "waitlisted"
    await enrolments.enroll(other, cohort, {"name": "王五", "phone": "13700137000"})

    assert await side.post(event_xml(leaver, "unsubscribe")) == (200, "success")

    assert await booking.waitlist("full") == [other]
    assert leaver not in await redis.hkeys(side.settings.key("booking", "waitinfo", "full"))
    result = await booking.cancel(holder, held.code)
    assert [openid for openid, _ in result.promoted] == [other]
    promoted = await enrolments.cancel(holder, cohort.id)
    assert (await enrolments.record(cohort.id, promoted))["openid"] == other
    assert await enrolments.find(leaver, cohort.id) is None
    for job_id in reminders:
        assert (await services.scheduler.get(job_id)).state == "cancelled"
    await side.endpoint().delivery.drain()
    assert await side.sent(leaver) == []
    leftover = [k async for k in redis.scan_iter(f"{side.settings.redis_key_prefix}:*{leaver}*")]
    assert leftover == []


async def test_unfollow_cancels_deferred_notices(make_gateway, redis) -> None:
    # quiet hours around the present moment, whatever the hour the suite runs: the notices are
    # deferred to their end instead of being sent at once by the gateway's job runner
    now = datetime.now(SHANGHAI)
    quiet = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=3):%H:%M}"
    side = await make_gateway(push_quiet_hours=quiet)
    services = side.app[SERVICES]
    leaver, other = unique_openid("l"), unique_openid("o")
    for openid in (leaver, other):
        await services.push._schedule_retry(openid, "明天的讲座别忘了", "booking_reminder", None, f"d-{openid}")
    ids = {o: [j for j in await services.scheduler.pending(services.clock() + timedelta(days=2))
               if j.payload.get("openid") == o] for o in (leaver, other)}
    assert ids[leaver] and ids[other]
    await side.post(event_xml(leaver, "unsubscribe"))
    assert (await services.scheduler.get(ids[leaver][0].id)).state == "cancelled"
    assert (await services.scheduler.get(ids[other][0].id)).state == "pending"


async def test_camp_promotion_notice_is_sent_once_by_the_gateway_runner(make_gateway) -> None:
    side = await make_gateway(push_quiet_hours="")  # the notice is sent at any hour of the test
    services = side.app[SERVICES]
    holder, promoted = unique_openid("h"), unique_openid("p")
    await side.post(text_xml(promoted, "你好", "1"))  # opens the 48-hour window
    cohorts = load_catalogue(side.settings.camp_cohorts_file, services.clock().date())
    cohort = dataclasses.replace(cohorts.cohorts[0], capacity=1)
    await services.enrolments.enroll(holder, cohort, {"name": "张三", "phone": "13800138000"})
    code = (await services.enrolments.enroll(promoted, cohort, {"name": "李四", "phone": "13900139000"})).code

    assert await services.enrolments.cancel(holder, cohort.id) == code
    job_id = promoted_job_id(cohort.id, code)
    for _ in range(50):  # run it here, or wait for the background runner that claimed it first
        await services.scheduler.run_due(services.clock())
        if (await services.scheduler.get(job_id)).state == "done":
            break
        await asyncio.sleep(0.1)
    await services.scheduler.run_due(services.clock())
    assert (await services.scheduler.get(job_id)).state == "done"
    notices = [m for m in await side.sent(promoted) if "候补成功" in str(m)]
    assert len(notices) == 1 and code in str(notices[0])
