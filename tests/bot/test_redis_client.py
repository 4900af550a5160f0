"""The one Redis client factory behaves the same under both redis-py versions the project runs
(4.6 in Rasa's environment, the current release in the gateway's): a burst far larger than the
pool queues for a connection instead of failing, and never opens more than the pool's size."""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from urllib.parse import urlparse

import psutil

from bot.redis_client import MAX_CONNECTIONS, create_redis, run_acknowledged
from bot.settings import effective_redis_url


def open_connections_to(port: int) -> int:
    return sum(1 for c in psutil.Process().net_connections(kind="tcp") if c.raddr and c.raddr.port == port)


async def test_a_burst_larger_than_the_pool_waits_for_connections_and_stays_bounded(settings):
    port = urlparse(effective_redis_url(settings)).port or 6379
    before = open_connections_to(port)
    client = create_redis(settings)
    key = settings.key("test", "burst")
    try:
        burst = 4 * MAX_CONNECTIONS
        results = await asyncio.gather(*(client.incr(key) for _ in range(burst)), return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert int(await client.get(key)) == burst
        opened = open_connections_to(port) - before
        assert 1 <= opened <= MAX_CONNECTIONS
    finally:
        await client.aclose() if hasattr(client, "aclose") else await client.close()
    # Closing the client closes its pool: nothing stays open behind it.
    assert open_connections_to(port) <= before


async def test_an_acknowledged_write_without_a_replica_still_answers_and_says_so(settings, redis, caplog):
    """WAIT with no replica attached times out: the script's result comes back (the write is on
    the primary) after the timeout, and the operators get a warning."""
    key = settings.key("test", "acked")
    script = redis.register_script("return redis.call('INCR', KEYS[1])")
    assert await run_acknowledged(redis, settings, script, [key], []) == 1  # REDIS_ACK_REPLICAS=0
    assert "replicas" not in caplog.text
    waiting = replace(settings, redis_ack_replicas=1, redis_ack_timeout_ms=150)
    started = time.monotonic()
    assert await run_acknowledged(redis, waiting, script, [key], []) == 2
    assert time.monotonic() - started >= 0.15
    assert "acknowledged by 0 of 1 replicas" in caplog.text
    assert int(await redis.get(key)) == 2
