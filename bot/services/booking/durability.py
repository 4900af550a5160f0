"""Whether a Redis is fit to keep bookings, a public-service record (meant for the health check).

An acknowledged booking must survive a crash of Redis, so the Redis this project uses MUST run
with the append-only file:

    appendonly yes
    appendfsync always      # no acknowledged write is ever lost (what the tests verify)
    # appendfsync everysec  # acceptable trade-off: at most ~1 s of writes lost on power loss

(`redis-server --appendonly yes --appendfsync always`, or `CONFIG SET appendonly yes` +
`CONFIG REWRITE`). RDB snapshots alone are NOT enough. A managed/external Redis must also
have persistence enabled and must not use an eviction policy other than `noeviction`
(`maxmemory-policy noeviction`), or bookings could be evicted.
"""
from __future__ import annotations

from typing import List

import redis.asyncio as aioredis

async def durability_warnings(redis: aioredis.Redis) -> List[str]:
    """What is wrong with this Redis for keeping bookings (empty list = fine)."""
    try:
        config = {}
        for name in ("appendonly", "appendfsync", "maxmemory-policy"):
            config.update(await redis.config_get(name))
    except Exception as exc:  # managed Redis may forbid CONFIG
        return [f"cannot read Redis config ({exc}); make sure AOF persistence is on"]
    warnings = []
    if config.get("appendonly") != "yes":
        warnings.append("appendonly is not 'yes': bookings can be lost if Redis crashes")
    if config.get("appendfsync") not in ("always", "everysec"):
        warnings.append(f"appendfsync is {config.get('appendfsync')!r}: use 'always' or 'everysec'")
    policy = config.get("maxmemory-policy")
    if policy and policy != "noeviction":
        warnings.append(f"maxmemory-policy is {policy!r}: use 'noeviction' so records are never evicted")
    return warnings
