"""The gateway's runtime: start-up loads the catalogues and starts the daily session roll."""
from __future__ import annotations

from datetime import timedelta

import aiohttp

from bot.clock import FrozenClock
from bot.gateway.runtime import build_services, load_reference_data
from bot.services.session_roll import JOB_KIND, next_run


async def test_start_up_rolls_the_sessions_and_the_runner_knows_the_daily_job(redis, settings):
    clock = FrozenClock()
    async with aiohttp.ClientSession() as session:
        services = build_services(settings, redis, session, clock)
        await load_reference_data(services)
        await load_reference_data(services)  # a restart: still one daily run
        rolls = [job for job in await services.scheduler.pending() if job.kind == JOB_KIND]
        assert [job.due_at for job in rolls] == [next_run(clock())]
        assert await services.catalogue.find_slots(limit=1)
        clock.advance(weeks=5)
        assert await services.catalogue.find_slots(limit=1) == []  # nothing left without the job
        report = await services.scheduler.run_due(clock())
        assert report.done == [rolls[0].id] and not report.retried  # a registered handler ran
        assert await services.catalogue.find_slots(start=clock() + timedelta(weeks=3), limit=1)
