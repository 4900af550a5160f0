"""What HandoffService's mixins (reports.py, callbacks.py, pools.py) use of it: its Redis connection,
clock, config and key builders, declared once here and defined by service.py."""
from __future__ import annotations

from typing import Any, Dict, Optional

import redis.asyncio as aioredis

from bot.clock import Clock
from bot.services.handoff.config import HandoffConfig


class ServiceParts:
    _redis: aioredis.Redis
    _clock: Clock
    config: HandoffConfig

    def key(self, *parts: str) -> str:  # pragma: no cover - HandoffService's
        raise NotImplementedError

    def item_key(self, item_id: str) -> str:  # pragma: no cover - HandoffService's
        raise NotImplementedError

    def active_key(self, openid: str) -> str:  # pragma: no cover - HandoffService's
        raise NotImplementedError

    def now(self) -> float:  # pragma: no cover - HandoffService's
        raise NotImplementedError

    async def get(self, item_id: str) -> Optional[Dict[str, str]]:  # pragma: no cover - HandoffService's
        raise NotImplementedError

    async def add_transcript(self, item_id: str, kind: str, text: str, *, author: str = "") -> None:  # pragma: no cover
        raise NotImplementedError

    async def _emit(self, kind: str, item_id: str, extra: Optional[Dict[str, Any]] = None) -> str:  # pragma: no cover
        raise NotImplementedError
