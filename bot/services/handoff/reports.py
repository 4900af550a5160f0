"""What the console's dashboard and live stream and /metrics read about the handoff queue.

A mixin of HandoffService (service.py): the same owner of the `handoff` keys, so readers call
these methods instead of reading the queue's Redis keys. Read-only, except the queue-length
sample taken at every queue change (its reader is here too).
"""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

from bot.clock import in_beijing
from bot.services.handoff.parts import ServiceParts
from bot.services.staff_scope import StaffScope

QLEN_TTL_S = 40 * 86400


class QueueReports(ServiceParts):
    """Mixed into HandoffService, whose Redis connection, clock and key builders it uses."""

    @property
    def events_key(self) -> str:  # pragma: no cover - HandoffService's
        raise NotImplementedError

    async def queue_length(self) -> int:  # pragma: no cover - HandoffService's
        raise NotImplementedError

    # -- the live stream of queue events -------------------------------------------------------

    async def latest_event_id(self) -> str:
        """Id of the newest queue event ("0-0" when none): where a live reader starts."""
        newest = await self._redis.xrevrange(self.events_key, count=1)
        return newest[0][0] if newest else "0-0"

    async def read_events(self, after: str, count: int = 100, block_ms: int = 1000) -> List[Tuple[str, str]]:
        """(event id, JSON payload) of the queue events after `after`, waiting up to block_ms."""
        result = await self._redis.xread({self.events_key: after}, count=count, block=block_ms)
        return [(entry_id, fields["data"]) for _stream, entries in result or [] for entry_id, fields in entries]

    # -- gauges ---------------------------------------------------------------------------------

    async def held_count(self) -> int:
        """Items a counsellor has claimed and not yet closed."""
        return int(await self._redis.zcard(self.key("open-claimed")))

    async def oldest_wait_s(self, scan: int = 200) -> float:
        """The longest wait so far among the first `scan` queued items (0 when none)."""
        queued = await self._redis.zrange(self.key("queue"), 0, scan - 1)
        now = self.now()
        oldest = 0.0
        for item_id in queued:
            created = await self._redis.hget(self.item_key(item_id), "created_at")
            if created:
                oldest = max(oldest, now - float(created))
        return oldest

    # -- dashboard history ----------------------------------------------------------------------

    async def _sample_queue_length(self) -> None:
        moment = in_beijing(self._clock())  # the dashboard's days and hours are Beijing's
        length = await self.queue_length()
        key = self.key("qlen", moment.strftime("%Y-%m-%d"))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, moment.strftime("%H:%M"), length)
            pipe.expire(key, QLEN_TTL_S)
            await pipe.execute()

    async def queue_length_samples(self, day: str) -> List[List[Any]]:
        """[["HH:MM", length], ...] of one day (YYYY-MM-DD), sampled at every queue change."""
        samples = await self._redis.hgetall(self.key("qlen", day))
        return [[t, int(v)] for t, v in sorted(samples.items())]

    async def claim_waits(self, since: float, scope: Optional[StaffScope] = None) -> List[Tuple[float, float]]:
        """(claimed at, seconds waited) of the items first claimed since `since` (epoch s), of
        users in `scope` (None: all)."""
        claimed = await self._redis.zrangebyscore(self.key("claims"), since, "+inf", withscores=True)
        waits = []
        for item_id, at in claimed:
            wait, city, district = await self._redis.hmget(self.item_key(item_id), "wait_s", "city", "district")
            if wait is not None and (scope is None or scope.covers(city, district)):
                waits.append((at, float(wait)))
        return waits

    async def closed_since(self, since: float, scope: Optional[StaffScope] = None) -> List[Tuple[str, str]]:
        """(who closed or held it, outcome) of the items closed since `since`, of users in
        `scope` (None: all); "" / "?" if unknown."""
        closed = await self._redis.zrangebyscore(self.key("closed"), since, "+inf")
        out = []
        for item_id in closed:
            holder, closed_by, outcome, city, district = await self._redis.hmget(
                self.item_key(item_id), "holder", "closed_by", "outcome", "city", "district"
            )
            if scope is None or scope.covers(city, district):
                out.append((closed_by or holder or "", outcome or "?"))
        return out
