"""Conversations and users served, for the monthly figures, and the city each message counts in.

A *conversation* is a user's run of messages without a silence of `CONVERSATION_GAP_S` (30 min):
the first message after such a silence (or ever) starts a new one. It is counted once, with its
user (a HyperLogLog in `MonthlyStats`), in the city the user is known to be in when it starts
(`find_user_place` without the chat: profile, last shared location, subscribe scene — the same
order a handoff is routed by); a conversation that runs into a new month counts its user there too.

The marker is one small hash per user, personal data (deleted on unfollow) that expires after
the gap:
    convmark:<openid>   HASH  seen (epoch s of the last message), month, city

Cost per message: one pipelined round trip (read the marker, write `seen`); a new conversation
adds the place lookup and one pipeline of counts. The Rasa tracker store reads `city` in the
round trip it already makes (`queue_city_read`), so each message's need counts in the same city.
"""
from __future__ import annotations

from typing import Any, Optional

from bot.clock import Clock, system_clock
from bot.services.handoff.routing import find_user_place
from bot.services.monthly_stats import UNKNOWN_CITY, MonthlyStats, month_of
from bot.services.profiles import register_personal_key
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("convmark",)
register_personal_key("convmark")

CONVERSATION_GAP_S = 30 * 60
# The marker outlives the gap a little, so a clock a few seconds off never splits a conversation.
MARK_TTL_S = CONVERSATION_GAP_S + 300


def queue_city_read(pipe: Any, settings: Settings, openid: str) -> None:
    """Queue the read of the city the user's current conversation counts in (None if none)."""
    pipe.hget(settings.key("convmark", openid), "city")


class ConversationCounter:
    def __init__(
        self, redis: Any, settings: Settings, clock: Clock = system_clock, stats: Optional[MonthlyStats] = None
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self._stats = stats or MonthlyStats(redis, settings, clock)

    def _key(self, openid: str) -> str:
        return self._settings.key("convmark", openid)

    async def message(self, openid: str) -> str:
        """Note one message from the user; returns the city the conversation counts in."""
        now = self._clock()
        key = self._key(openid)
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.hset(key, "seen", repr(now.timestamp()))
        pipe.expire(key, MARK_TTL_S)
        mark = (await pipe.execute())[0] or {}
        month = month_of(now)
        try:
            silent_s = now.timestamp() - float(mark.get("seen", ""))
        except ValueError:
            silent_s = float("inf")
        if silent_s >= CONVERSATION_GAP_S or not mark.get("city"):
            return await self._start(openid, month)
        if mark.get("month") != month:
            await self._redis.hset(key, "month", month)
            await self._stats.conversation(openid, mark["city"], new_month_only=True)
        return mark["city"]

    async def _start(self, openid: str, month: str) -> str:
        place = await find_user_place(self._redis, self._settings, openid)
        city = place.city or UNKNOWN_CITY
        await self._redis.hset(self._key(openid), mapping={"month": month, "city": city})
        await self._stats.conversation(openid, city)
        return city

    async def city(self, openid: str) -> Optional[str]:
        """The city of the user's current conversation (for a need counted outside the tracker)."""
        return await self._redis.hget(self._key(openid), "city")
