"""How a staff command line talks to Redis: on a client of its own, built from the deployment's
settings and closed however the tool's work ends. `run_with_redis(work)` runs `work(redis,
settings)` on the async client (every tool but one); `blocking_redis()` gives `users` the blocking
client its account functions take. The tools only parse and print; the services do the work.
"""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from typing import Awaitable, Callable, Iterator, Tuple, TypeVar

import redis
import redis.asyncio as aioredis

from bot.redis_client import create_redis, create_sync_redis
from bot.settings import Settings, load_settings

T = TypeVar("T")


def run_with_redis(work: Callable[[aioredis.Redis, Settings], Awaitable[T]]) -> T:
    """`work`'s result; Redis errors and the tool's own exceptions reach the caller as raised."""

    async def run() -> T:
        settings = load_settings()
        client = create_redis(settings)
        try:
            return await work(client, settings)
        finally:
            await client.close()

    return asyncio.run(run())


@contextmanager
def blocking_redis() -> Iterator[Tuple[redis.Redis, Settings]]:
    settings = load_settings()
    client = create_sync_redis(settings)
    try:
        yield client, settings
    finally:
        client.close()
