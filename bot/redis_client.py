"""The one Redis client factory: every process and test builds its clients here."""
from __future__ import annotations

from typing import Optional

import redis
import redis.asyncio as aioredis

from bot.settings import Settings, effective_redis_url, load_settings


def create_redis(settings: Optional[Settings] = None) -> aioredis.Redis:
    """An asyncio Redis client (decoded strings) for the gateway, actions and jobs."""
    settings = settings or load_settings()
    return aioredis.from_url(
        effective_redis_url(settings),
        decode_responses=True,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )


def create_sync_redis(settings: Optional[Settings] = None) -> redis.Redis:
    """A blocking client, only for command-line tools (imports, exports, user admin)."""
    settings = settings or load_settings()
    return redis.from_url(
        effective_redis_url(settings),
        decode_responses=True,
        socket_timeout=5.0,
        socket_connect_timeout=2.0,
    )
