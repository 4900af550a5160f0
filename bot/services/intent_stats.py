"""Daily counts of what users ask (intents) and of what the NLU did not understand.

Written by the tracker store as it saves each user message (the NLU result is right there,
so counting costs one pipelined write and no extra Rasa call); read by the console dashboard
through `read_counts`. Fallback texts are cut to 20 characters, mobile numbers masked, and kept
40 days, with no OpenID attached.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Dict, Sequence, Tuple

from bot.clock import SHANGHAI
from bot.services.phone import mask_phones

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("stats",)

STATS_TTL_S = 40 * 86400
FALLBACK_INTENT = "nlu_fallback"

KeyBuilder = Callable[..., str]


def stats_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, SHANGHAI).strftime("%Y-%m-%d")


def queue_intent_count(pipe, key: KeyBuilder, day: str, intent: str, text: str) -> None:
    """Add the counting commands for one user message to a Redis pipeline."""
    intents_key = key("stats", "intents", day)
    pipe.hincrby(intents_key, intent, 1)
    pipe.expire(intents_key, STATS_TTL_S)
    if intent == FALLBACK_INTENT:
        fallbacks_key = key("stats", "fallbacks", day)
        pipe.hincrby(fallbacks_key, mask_phones((text or "").strip())[:20] or "（空）", 1)
        pipe.expire(fallbacks_key, STATS_TTL_S)


async def read_counts(redis: Any, key: KeyBuilder, days: Sequence[str]) -> Tuple[Dict[str, int], Dict[str, int]]:
    """(intent -> count, fallback text -> count), each summed over the given days (YYYY-MM-DD)."""
    intents: Dict[str, int] = {}
    fallbacks: Dict[str, int] = {}
    for day in days:
        for k, v in (await redis.hgetall(key("stats", "intents", day))).items():
            intents[k] = intents.get(k, 0) + int(v)
        for k, v in (await redis.hgetall(key("stats", "fallbacks", day))).items():
            fallbacks[k] = fallbacks.get(k, 0) + int(v)
    return intents, fallbacks
