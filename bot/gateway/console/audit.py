"""The audit log: one Redis stream entry per staff action (who, what, on which item, when).

Append-only from the console's point of view; supervisors read it at /console/audit.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Optional

from bot.clock import Clock, system_clock
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("console:audit",)

MAX_ENTRIES = 200000  # stream entries kept (approximately)


def _stream_key(settings: Settings) -> str:
    return settings.key("console", "audit")


def record_cli_action(client: Any, settings: Settings, action: str, target: str) -> None:
    """An entry by a command-line tool (user "cli") through a synchronous Redis client."""
    client.xadd(
        _stream_key(settings),
        {"at": repr(time.time()), "user": "cli", "action": action, "target": target, "detail": ""},
        maxlen=MAX_ENTRIES,
        approximate=True,
    )


class AuditLog:
    def __init__(self, redis: Any, settings: Settings, clock: Clock = system_clock) -> None:
        self._redis = redis
        self.key = _stream_key(settings)
        self._clock = clock

    async def record(
        self, user: str, action: str, target: str = "", detail: Optional[Dict[str, Any]] = None,
        *, ip: str = "",
    ) -> None:
        await self._redis.xadd(
            self.key,
            {
                "at": repr(self._clock().timestamp()),
                "user": user,
                "action": action,
                "target": target,
                "detail": json.dumps(detail or {}, ensure_ascii=False),
                "ip": ip,
            },
            maxlen=MAX_ENTRIES,
            approximate=True,
        )

    async def latest(self, count: int = 200) -> List[Dict[str, str]]:
        rows = await self._redis.xrevrange(self.key, count=count)
        return [{"id": entry_id, **fields} for entry_id, fields in rows]
