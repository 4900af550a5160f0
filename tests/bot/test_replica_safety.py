"""Every gateway process may run several times against one Redis (issue 24 item 2). Each test
runs two "replicas" — two instances with their own Redis client (own connections, as two
processes have) — against the one real Redis: jobs run once, the WeChat token is fetched once,
and a console on either replica sees the queue events the other one wrote.
(Rasa replicas and the lock store: tests/bot/test_rasa_lock_store.py.)"""
from __future__ import annotations

import asyncio
import dataclasses
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import AsyncIterator, List

import aiohttp
import pytest
from aiohttp import web

from bot.appkeys import REDIS, SETTINGS
from bot.clock import FrozenClock
from bot.jobs.scheduler import JobScheduler
from bot.redis_client import create_redis
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.service import HandoffService
from bot.wechat.api_client import WeChatClient
from bot.wechat.fake_api import setup_fake_wechat_routes
from tests.bot.services.booking_helpers import T0
from tests.bot.services.test_handoff import WEDNESDAY_10

REPLICAS = 2


@asynccontextmanager
async def replica_clients(settings, count: int = REPLICAS) -> AsyncIterator[list]:
    clients = [create_redis(settings) for _ in range(count)]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose() if hasattr(client, "aclose") else await client.close()


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


@pytest.fixture
async def fake_wechat(settings, redis, aiohttp_server):
    app = web.Application()
    app[SETTINGS] = settings
    app[REDIS] = redis
    setup_fake_wechat_routes(app)
    server = await aiohttp_server(app)
    return dataclasses.replace(settings, wechat_api_base=str(server.make_url("/fake-wechat")))


async def test_two_replicas_fetch_the_access_token_once(fake_wechat):
    settings = fake_wechat
    async with aiohttp.ClientSession() as control:
        await control.post(settings.wechat_api_base + "/_control", json={"delay_ms": 300})
        async with replica_clients(settings) as clients:
            sessions = [aiohttp.ClientSession() for _ in clients]
            try:
                wechat = [WeChatClient(settings, client, session) for client, session in zip(clients, sessions)]
                # both replicas need a token at once, several requests each
                tokens = await asyncio.gather(*(w.get_access_token() for w in wechat for _ in range(4)))
            finally:
                for session in sessions:
                    await session.close()
        async with control.get(settings.wechat_api_base + "/_stats") as response:
            stats = await response.json()
    assert len(set(tokens)) == 1
    assert stats["stable_token"] == 1


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
