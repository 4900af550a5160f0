"""Replay protection for signed WeChat POSTs.

In plaintext and compatible mode the URL `signature` covers only token/timestamp/nonce, so one
signed query string (from a proxy access log, say) would let anyone post any body as any OpenID
for the whole timestamp window. We therefore remember every (timestamp, nonce, signature) for
longer than the window, together with the identity of the message it carried.

WeChat re-sends a request it got no answer to with the *identical* query string and the same
message (same MsgId, or for events the same user/time/event/key). Such a retry must still
reach the MsgId de-duplication, which hands it the first delivery's answer, so a query seen
again with the same message identity is admitted; the same query with any other message is a
replay and refused. De-duplication records live as long as the nonce records (`replay_ttl_s`),
so an exact replay inside the window gets the stored outcome and never runs a second turn.
"""
from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from bot.settings import Settings
from bot.gateway.wechat import messages as m

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("wechat:nonce",)

# Margin over the window for clock skew and the time a request takes.
_MARGIN_S = 60


def replay_ttl_s(settings: Settings) -> int:
    """How long nonce and de-duplication records must live.

    A timestamp is accepted while |now - timestamp| <= window, i.e. for up to 2 x window
    seconds after the first delivery if WeChat's clock runs ahead of ours."""
    return 2 * settings.wechat_timestamp_window_s + _MARGIN_S


def message_identity(msg: m.Message) -> str:
    """What WeChat keeps identical across the retries of one delivery."""
    return hashlib.sha256(f"{msg.from_user}\n{msg.dedupe_id}".encode("utf-8")).hexdigest()


class NonceCache:
    """Admits each signed query string for one message only."""

    def __init__(self, redis: aioredis.Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings

    def key(self, timestamp: str, nonce: str, signature: str) -> str:
        # The signature check ignores case, so a replay must not get past us by changing it.
        signed = f"{timestamp}\n{nonce}\n{signature.lower()}".encode("utf-8")
        return self._settings.key("wechat", "nonce", hashlib.sha256(signed).hexdigest())

    async def admit(self, timestamp: str, nonce: str, signature: str, msg: m.Message) -> bool:
        """True for the first use of this query string, or a retry of the same message."""
        key = self.key(timestamp, nonce, signature)
        identity = message_identity(msg)
        if await self._redis.set(key, identity, nx=True, ex=replay_ttl_s(self._settings)):
            return True
        return await self._redis.get(key) == identity
