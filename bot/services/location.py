"""The user's last shared location: written by the WeChat channel when a location message or
event arrives, read by the service-point search so "附近的服务点" needs no second location.

One JSON string per user at `settings.key("location", openid)` with latitude, longitude, label
and `at` (epoch seconds), kept 30 minutes; registered as personal data, so unsubscribe deletes it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Optional

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.services.profiles import register_personal_key
from bot.settings import Settings

FAMILY = "location"
register_personal_key(FAMILY)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = (FAMILY,)

TTL_S = 30 * 60


@dataclass(frozen=True)
class LocationStore:
    redis: aioredis.Redis
    settings: Settings
    clock: Clock = system_clock

    def _key(self, openid: str) -> str:
        return self.settings.key(FAMILY, openid)

    async def remember(self, openid: str, lat: float, lon: float, label: str) -> None:
        value = json.dumps(
            {"latitude": lat, "longitude": lon, "label": label, "at": int(self.clock().timestamp())},
            ensure_ascii=False,
        )
        await self.redis.set(self._key(openid), value, ex=TTL_S)

    async def recall(self, openid: str) -> Optional[Dict[str, Any]]:
        """The stored record as written (the reader checks coordinates and age), or None when
        there is none or it is not a JSON object."""
        raw = await self.redis.get(self._key(openid))
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
