"""The one Redis client factory: every process and test builds its clients here."""
from __future__ import annotations

from typing import Optional

import redis
import redis.asyncio as aioredis

from bot.settings import Settings, effective_redis_url, load_settings

# Connections one client (one per process) keeps to Redis, and how long a command waits for a free
# one. The gateway runs redis-py ≥ 5, whose pool fails a command with MaxConnectionsError past 100
# connections; Rasa's environment runs 4.6, whose pool never stops opening sockets. A blocking pool
# behaves the same in both: a burst (a thousand users booking one workshop at once) queues briefly
# for a connection instead of failing, and never opens a socket per waiting request.
MAX_CONNECTIONS = 128
POOL_WAIT_S = 2.0


def create_redis(settings: Optional[Settings] = None) -> aioredis.Redis:
    """An asyncio Redis client (decoded strings) for the gateway, actions and jobs."""
    settings = settings or load_settings()
    pool = aioredis.BlockingConnectionPool.from_url(
        effective_redis_url(settings),
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT_S,
        decode_responses=True,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )
    client = aioredis.Redis(connection_pool=pool)
    # The pool is this client's alone: closing the client closes it (both redis-py versions).
    client.auto_close_connection_pool = True
    return client


def create_sync_redis(settings: Optional[Settings] = None) -> redis.Redis:
    """A blocking client, only for command-line tools (imports, exports, user admin)."""
    settings = settings or load_settings()
    return redis.from_url(
        effective_redis_url(settings),
        decode_responses=True,
        socket_timeout=5.0,
        socket_connect_timeout=2.0,
    )
