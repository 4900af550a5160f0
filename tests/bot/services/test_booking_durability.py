"""An acknowledged booking survives kill -9 of Redis and a restart (on a Redis we start)."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from bot.jobs.scheduler import JobScheduler
from bot.services.booking import BookingService, durability_warnings
from bot.services.workshops import WorkshopCatalogue

from .booking_helpers import T0, add_slot, frozen

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(port: int, directory) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


async def test_booking_survives_kill_9_and_restart(tmp_path, settings):
    port = _free_port()
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
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
         "--appendonly", "no", "--save", ""],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        client = aioredis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
        warnings = await durability_warnings(client)
        assert any("appendonly" in w for w in warnings)
        await client.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)
