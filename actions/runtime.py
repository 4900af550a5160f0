"""Per-process resources shared by the actions (created lazily, once per worker)."""
from __future__ import annotations

from functools import lru_cache

import redis.asyncio as aioredis

from bot.redis_client import create_redis
from bot.settings import Settings, load_settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def redis() -> aioredis.Redis:
    return create_redis(settings())
