"""The one Redis client factory behaves the same under both redis-py versions the project runs
(4.6 in Rasa's environment, the current release in the gateway's): a burst far larger than the
pool queues for a connection instead of failing, and never opens more than the pool's size."""
from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import psutil

from bot.redis_client import MAX_CONNECTIONS, create_redis
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
