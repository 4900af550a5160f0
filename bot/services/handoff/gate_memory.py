"""What the handoff gate (gate.py) remembers of a user between two messages, beside the queue:

    handoff_offer:<openid>   the "nobody available" offer awaiting a phone number (30 min): a number
                             sent meanwhile is for the callback item the request left
    handoff_ack:<openid>     a "we got your message" note was sent while queued (one per
                             `ack_interval_s`, so a user typing on is not answered every time)

Its own small service, the one owner of these two key families (HandoffService, service.py, owns
the queue's); both are personal data, deleted when the user unfollows.
"""
from __future__ import annotations

import json
from typing import Dict, Optional

import redis.asyncio as aioredis

from bot.services.profiles import register_personal_key
from bot.settings import Settings

OFFER_FAMILY = "handoff_offer"
ACK_FAMILY = "handoff_ack"
for _family in (OFFER_FAMILY, ACK_FAMILY):
    register_personal_key(_family)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = (OFFER_FAMILY, ACK_FAMILY)

OFFER_TTL_S = 1800


class GateMemory:
    def __init__(self, redis: aioredis.Redis, settings: Settings, ack_interval_s: int) -> None:
        self._redis = redis
        self._settings = settings
        self._ack_interval_s = ack_interval_s

    def _offer_key(self, openid: str) -> str:
        return self._settings.key(OFFER_FAMILY, openid)

    async def make_offer(
        self, openid: str, reason: str, first_message: str, item_id: str = "", phone: str = "", moved_on: bool = False,
    ) -> None:
        """Remember for 30 minutes that a phone number from this user means a callback
        (for the callback item `item_id` the request left, when there is one). `phone`: the number
        already noted (then only a correction of it is read as one); `moved_on`: the user has since
        talked about something else (a "why" or "算了" is then no longer about the offer: phone_step.py)."""
        offer = {"reason": reason, "first_message": first_message, "item_id": item_id, "phone": phone, "moved_on": moved_on}
        await self._redis.set(self._offer_key(openid), json.dumps(offer, ensure_ascii=False), ex=OFFER_TTL_S)

    async def peek_offer(self, openid: str) -> Optional[Dict[str, str]]:
        raw = await self._redis.get(self._offer_key(openid))
        return json.loads(raw) if raw else None

    async def take_offer(self, openid: str) -> Optional[Dict[str, str]]:
        raw = await self._redis.getdel(self._offer_key(openid))
        return json.loads(raw) if raw else None

    async def has_offer(self, openid: str) -> bool:
        return bool(await self._redis.exists(self._offer_key(openid)))

    async def mark_acknowledged(self, openid: str) -> bool:
        """True when no acknowledgement was sent within `ack_interval_s` (and records one)."""
        key = self._settings.key(ACK_FAMILY, openid)
        return bool(await self._redis.set(key, "1", nx=True, ex=self._ack_interval_s))
