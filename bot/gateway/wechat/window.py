"""The WeChat customer-service (客服) window and quota, per user, in Redis.

Rules since 2023-06: a user message opens 48 hours with 5 customer-service messages; a menu
click, a follow or a QR scan allows 3 messages within 1 minute. A new user message renews the
48-hour allowance (5 again). When WeChat itself answers 45015 (window over) or 45047 (quota
used up) we believe WeChat and close our record, so no feature keeps retrying into a refusal.

One hash per user at `settings.key("cswindow", openid)`:
    mu/mr  message allowance: until (epoch s) / remaining
    eu/er  event allowance:   until (epoch s) / remaining
    blocked_until             set from a 45047 answer until a new user message arrives
It is registered as personal data, so unsubscribe deletes it.

Push and handoff ask `may_send(openid)`; whoever really sends calls `consume(openid)` first
(atomic, Lua), which spends the short-lived event allowance before the 48-hour one.
"""
from __future__ import annotations

from typing import Tuple

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.services.profiles import register_personal_key
from bot.settings import Settings

FAMILY = "cswindow"
register_personal_key(FAMILY)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = (FAMILY,)

MESSAGE_WINDOW_S = 48 * 3600
MESSAGE_QUOTA = 5
EVENT_WINDOW_S = 60
EVENT_QUOTA = 3

_CONSUME = """
local now = tonumber(ARGV[1])
local h = redis.call('HMGET', KEYS[1], 'eu', 'er', 'mu', 'mr', 'blocked_until')
local eu, er = tonumber(h[1] or '0'), tonumber(h[2] or '0')
local mu, mr = tonumber(h[3] or '0'), tonumber(h[4] or '0')
local blocked = tonumber(h[5] or '0')
if blocked > now then return 'blocked' end
if eu > now and er > 0 then
  redis.call('HINCRBY', KEYS[1], 'er', -1)
  return 'event'
end
if mu > now and mr > 0 then
  redis.call('HINCRBY', KEYS[1], 'mr', -1)
  return 'message'
end
if mu > now or eu > now then return 'quota' end
return 'closed'
"""


class CustomerServiceWindow:
    def __init__(self, redis: aioredis.Redis, settings: Settings, clock: Clock = system_clock) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock

    def _key(self, openid: str) -> str:
        return self._settings.key(FAMILY, openid)

    def _now(self) -> float:
        return self._clock().timestamp()

    async def record_user_message(self, openid: str) -> None:
        """The user wrote to us: 48 hours, 5 messages (renewed by every user message)."""
        now = self._now()
        key = self._key(openid)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"mu": now + MESSAGE_WINDOW_S, "mr": MESSAGE_QUOTA, "blocked_until": 0})
            pipe.expire(key, MESSAGE_WINDOW_S + 3600)
            await pipe.execute()

    async def record_event(self, openid: str) -> None:
        """Menu click, follow or QR scan: 3 messages within 1 minute."""
        now = self._now()
        key = self._key(openid)
        await self._redis.hset(key, mapping={"eu": now + EVENT_WINDOW_S, "er": EVENT_QUOTA})
        # keep the key alive at least as long as the event allowance (never shorten it)
        if await self._redis.ttl(key) < EVENT_WINDOW_S + 60:
            await self._redis.expire(key, EVENT_WINDOW_S + 60)

    async def may_send(self, openid: str) -> Tuple[bool, str]:
        """(allowed, reason); reason is "event_window", "message_window", "blocked",
        "quota_exhausted" or "window_closed". Does not spend anything."""
        h = await self._redis.hgetall(self._key(openid))
        now = self._now()
        eu, er = float(h.get("eu", 0)), int(h.get("er", 0))
        mu, mr = float(h.get("mu", 0)), int(h.get("mr", 0))
        if float(h.get("blocked_until", 0)) > now:
            return False, "blocked"
        if eu > now and er > 0:
            return True, "event_window"
        if mu > now and mr > 0:
            return True, "message_window"
        if mu > now or eu > now:
            return False, "quota_exhausted"
        return False, "window_closed"

    async def consume(self, openid: str) -> bool:
        """Spend one message atomically; False when nothing is left."""
        result = await self._redis.eval(_CONSUME, 1, self._key(openid), self._now())
        return result in ("event", "message")

    async def remaining(self, openid: str) -> int:
        """How many customer-service messages could be sent right now."""
        h = await self._redis.hgetall(self._key(openid))
        now = self._now()
        if float(h.get("blocked_until", 0)) > now:
            return 0
        total = 0
        if float(h.get("eu", 0)) > now:
            total += int(h.get("er", 0))
        if float(h.get("mu", 0)) > now:
            total += int(h.get("mr", 0))
        return max(total, 0)

    async def message_window_until(self, openid: str) -> float:
        """When the 48-hour window ends (epoch s); 0 when none was ever opened."""
        return float(await self._redis.hget(self._key(openid), "mu") or 0)

    async def record_api_refusal(self, openid: str, errcode: int) -> None:
        """WeChat refused a send: 45015 closes the window, 45047 blocks until the user writes."""
        key = self._key(openid)
        if errcode == 45015:
            await self._redis.hset(key, mapping={"mu": 0, "mr": 0, "eu": 0, "er": 0})
        elif errcode == 45047:
            await self._redis.hset(
                key, mapping={"mr": 0, "er": 0, "blocked_until": self._now() + MESSAGE_WINDOW_S}
            )
        await self._redis.expire(key, MESSAGE_WINDOW_S + 3600)

