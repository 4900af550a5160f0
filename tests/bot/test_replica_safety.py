"""Every gateway process may run several times against one Redis (issue 24 item 2). Each test
runs two "replicas" — two instances with their own Redis client (own connections, as two
processes have) — against the one real Redis: jobs run once, and a console on either replica sees
the queue events the other one wrote. (The WeChat token, fetched once by two replicas:
tests/bot/gateway/wechat/test_api_client.py; Rasa replicas and the lock store: test_rasa_lock_store.py.)"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import List

from bot.clock import SHANGHAI, FrozenClock
from bot.jobs.scheduler import JobScheduler
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.service import HandoffService
from tests.bot.services.booking_helpers import T0
from tests.helpers.replicas import REPLICAS, replica_clients

# A Wednesday 10:00 in Shanghai: inside the handoff's default office hours
WEDNESDAY_10 = datetime(2025, 6, 4, 10, 0, tzinfo=SHANGHAI)

async def test_two_replicas_job_runners_run_each_due_job_once(settings):
    ran: List[str] = []

    async def handler(job) -> None:
        await asyncio.sleep(0)  # let the other replica's runner interleave
        ran.append(job.id)

    async with replica_clients(settings) as clients:
        runners = [JobScheduler(client, settings) for client in clients]
        for runner in runners:
            runner.register("reminder", handler)
        for i in range(300):
            await runners[i % REPLICAS].schedule(f"r{i}", "reminder", {}, T0 + timedelta(seconds=i))
        moment = T0 + timedelta(hours=1)
        # each replica's loop polls several times at once, as after a restart with a backlog
        await asyncio.gather(*(runner.run_due(moment, limit=40) for runner in runners for _ in range(5)))
        await asyncio.gather(*(runner.run_due(moment) for runner in runners))
        states = {(await runners[1].get(f"r{i}")).state for i in range(300)}
    assert sorted(ran) == sorted(f"r{i}" for i in range(300))
    assert states == {"done"}


async def test_a_console_on_either_replica_sees_the_queue_events_of_the_other(settings):
    clock = FrozenClock(WEDNESDAY_10)
    async with replica_clients(settings) as clients:
        writer, reader = (HandoffService(client, settings, clock, HandoffConfig()) for client in clients)
        start = await reader.latest_event_id()
        # the console's stream on replica B is waiting when the user reaches replica A
        waiting = asyncio.ensure_future(reader.read_events(start, block_ms=1500))
        await asyncio.sleep(0.1)
        outcome = await writer.request("oUserOnReplicaA", first_message="我想找人工咨询一下失业登记")
        events = await waiting
    assert events, "the other replica's console saw nothing"
    assert outcome.item_id in events[0][1]
