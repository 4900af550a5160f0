"""An acknowledged booking survives kill -9 of Redis and a restart (on a Redis we start)."""
from __future__ import annotations

import os
import signal
import subprocess
from datetime import timedelta

import redis.asyncio as aioredis

from bot.jobs.scheduler import JobScheduler
from bot.services.booking.durability import durability_warnings
from bot.services.booking.service import BookingService
from bot.services.workshops import WorkshopCatalogue
from tests.redis_server import free_port, needs_redis_server, start_redis_server

from .booking_helpers import T0, add_slot, frozen

pytestmark = needs_redis_server


def _start(port: int, directory) -> subprocess.Popen:
    return start_redis_server(port, directory, "--appendonly", "yes", "--appendfsync", "always")


async def test_booking_survives_kill_9_and_restart(tmp_path, settings):
    port = free_port()
    proc = _start(port, tmp_path)
    try:
        clock = frozen()
        client = aioredis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
        assert await durability_warnings(client) == []
        service = BookingService(client, settings, clock=clock)
        await add_slot(service.catalogue, "s", T0 + timedelta(days=2), 5)
        result = await service.book("u1", "s", "张三", "13800138000", "m1")
        assert result.status == "confirmed"
        await client.close()
        os.kill(proc.pid, signal.SIGKILL)  # the acknowledged write must already be on disk
        proc.wait(timeout=10)

        proc = _start(port, tmp_path)
        client = aioredis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
        service = BookingService(client, settings, clock=clock,
                                 catalogue=WorkshopCatalogue(client, settings, clock),
                                 scheduler=JobScheduler(client, settings))
        record = await service.get(result.code)
        assert record is not None and record.status == "confirmed" and record.name == "张三"
        assert await service.seats_taken("s") == 1
        assert [v.booking.code for v in await service.my_bookings("u1")] == [result.code]
        assert len(await service.scheduler.pending()) == 2  # its reminders survived too
        await client.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)


async def test_warns_about_a_redis_without_aof(tmp_path):
    port = free_port()
    proc = start_redis_server(port, tmp_path, "--appendonly", "no")
    try:
        client = aioredis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
        warnings = await durability_warnings(client)
        assert any("appendonly" in w for w in warnings)
        await client.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)
