"""An acknowledged booking survives kill -9 of Redis and a restart (on a Redis we start)."""
from __future__ import annotations

from datetime import timedelta

import redis.asyncio as aioredis

from bot.jobs.scheduler import JobScheduler
from bot.services.booking.durability import durability_warnings
from bot.services.booking.service import BookingService
from bot.services.workshops import WorkshopCatalogue
from tests.helpers.redis_server import needs_redis_server, own_redis

from .booking_helpers import T0, add_slot, frozen

pytestmark = needs_redis_server


async def test_booking_survives_kill_9_and_restart(tmp_path, settings):
    with own_redis(tmp_path, "--appendonly", "yes", "--appendfsync", "always") as redis_server:
        clock = frozen()
        client = aioredis.from_url(redis_server.url, decode_responses=True)
        assert await durability_warnings(client) == []
        service = BookingService(client, settings, clock=clock)
        await add_slot(service.catalogue, "s", T0 + timedelta(days=2), 5)
        result = await service.book("u1", "s", "张三", "13800138000", "m1")
        assert result.status == "confirmed"
        await client.close()
        redis_server.kill()  # kill -9: the acknowledged write must already be on disk

        redis_server.start()
        client = aioredis.from_url(redis_server.url, decode_responses=True)
        service = BookingService(client, settings, clock=clock,
                                 catalogue=WorkshopCatalogue(client, settings, clock),
                                 scheduler=JobScheduler(client, settings))
        record = await service.get(result.code)
        assert record is not None and record.status == "confirmed" and record.name == "张三"
        assert await service.seats_taken("s") == 1
        assert [v.booking.code for v in await service.my_bookings("u1")] == [result.code]
        assert len(await service.scheduler.pending()) == 2  # its reminders survived too
        await client.close()


async def test_warns_about_a_redis_without_aof(tmp_path):
    with own_redis(tmp_path, "--appendonly", "no") as redis_server:
        client = aioredis.from_url(redis_server.url, decode_responses=True)
        warnings = await durability_warnings(client)
        assert any("appendonly" in w for w in warnings)
        await client.close()
