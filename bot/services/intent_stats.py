"""Daily counts of what users ask (intents) and of what the NLU did not understand.

Written by the tracker store as it saves each user message (the NLU result is right there,
so counting costs one pipelined write and no extra Rasa call); read by the console dashboard.
Fallback texts are cut to 20 characters, mobile numbers masked, and kept 40 days, with no
OpenID attached.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from bot.clock import SHANGHAI
from bot.services.phone import mask_phones

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
