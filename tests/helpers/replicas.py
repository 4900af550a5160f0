"""Several "replicas" of a process in one test: each its own Redis client (own pool, own
connections), as separate processes have, all on the test's Redis."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator, List

import redis.asyncio as aioredis

from bot.redis_client import create_redis
from bot.settings import Settings

REPLICAS = 2


@asynccontextmanager
async def replica_clients(settings: Settings, count: int = REPLICAS) -> AsyncIterator[List[aioredis.Redis]]:
    clients = [create_redis(settings) for _ in range(count)]
    try:
        yield clients
    finally:
        for client in clients:
            await client.aclose() if hasattr(client, "aclose") else await client.close()
