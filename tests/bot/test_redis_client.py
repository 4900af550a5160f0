"""The one Redis client factory behaves the same under both redis-py versions the project runs
(4.6 in Rasa's environment, the current release in the gateway's): a burst far larger than the
pool queues for a connection instead of failing, and never opens more than the pool's size."""
from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import replace
from urllib.parse import urlparse

import psutil

from bot.redis_client import MAX_CONNECTIONS, create_redis, create_sync_redis, run_acknowledged
from bot.settings import effective_redis_url
from tests.helpers.redis_sentinel import sentinel_cluster
from tests.helpers.redis_server import needs_redis_server


def open_connections_to(port: int) -> int:
    return sum(1 for c in psutil.Process().net_connections(kind="tcp") if c.raddr and c.raddr.port == port)


async def close(client) -> None:
    await client.aclose() if hasattr(client, "aclose") else await client.close()  # redis-py ≥ 5 / 4.6


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
        await close(client)
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


@needs_redis_server
async def test_closing_a_client_under_sentinel_closes_its_connections_to_the_sentinel(settings, tmp_path):
    """redis-py leaves a Sentinel-managed client's connections to the Sentinels open when the
    client closes (and 4.6's blocking client its pool too): a gateway shutting down or a command-line
    tool would leave them behind. Both clients of the factory close everything they opened."""
    with sentinel_cluster(tmp_path, replica=False) as cluster:
        ha = cluster.settings(settings, ack_replicas=0)
        sentinel, primary = cluster.sentinel_ports[0], cluster.primary_port
        gc.collect()  # a helper's client of a moment ago, closed by the collector: not counted below
        before = open_connections_to(sentinel)
        client = create_redis(ha)
        await client.set(ha.key("test", "ha"), "async")
        assert open_connections_to(sentinel) > before and open_connections_to(primary) >= 1
        await close(client)
        assert (open_connections_to(sentinel), open_connections_to(primary)) == (before, 0)
        blocking = create_sync_redis(ha)
        assert blocking.set(ha.key("test", "ha"), "sync")
        assert open_connections_to(sentinel) > before and open_connections_to(primary) >= 1
        blocking.close()
        assert (open_connections_to(sentinel), open_connections_to(primary)) == (before, 0)

