"""The last shared location: what the WeChat channel writes is what the service-point search reads."""
from __future__ import annotations

from datetime import datetime

from bot.clock import SHANGHAI, FrozenClock
from bot.services.location import TTL_S, LocationStore


async def test_remember_then_recall(redis, settings):
    clock = FrozenClock(datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI))
    store = LocationStore(redis, settings, clock)
    assert await store.recall("o-loc") is None
    await store.remember("o-loc", 36.66, 117.07, "济南市历下区")
    assert await store.recall("o-loc") == {
        "latitude": 36.66, "longitude": 117.07, "label": "济南市历下区", "at": int(clock().timestamp()),
    }
    assert 0 < await redis.ttl(settings.key("location", "o-loc")) <= TTL_S


async def test_unreadable_records_are_none(redis, settings):
    store = LocationStore(redis, settings)
    for raw in ("not json", "[1, 2]"):
        await redis.set(settings.key("location", "o-bad"), raw)
        assert await store.recall("o-bad") is None
