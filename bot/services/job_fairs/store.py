"""Job fairs in Redis: atomic bulk upserts and searches by place, time, kind and audience.

Redis layout (all under `settings.key("job_fairs", ...)`):
    job_fairs:item:<id>      hash: every field of one fair (active or not)
    job_fairs:ids            set: every fair id (for export)
    job_fairs:starts:real    sorted set: active real fairs, score = start (epoch seconds)
    job_fairs:starts:sample  sorted set: active sample fairs, score = start as written in the file
    job_fairs:rev            counter bumped by every write (optimistic locking)

A catalogue holds hundreds of fairs, not millions: a search reads the fairs starting in its
window (plus MAX_DURATION before it, for ongoing ones) and filters them in Python. Sample fairs
are moved by `sample_shift_weeks` when read (see `model`), so they are kept in their own set.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Dict, List, Sequence

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.clock import SHANGHAI, Clock, system_clock
from bot.services.job_fairs.model import MAX_DURATION, JobFair, sample_shift_weeks
from bot.services.job_fairs.query import LATER_HORIZON, FairAlternatives, FairPage, FairQuery
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("job_fairs",)

ALTERNATIVE_FAIRS = 2  # later or online fairs offered when a search finds nothing
ALTERNATIVE_CITIES = 3


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0


class JobFairStore:
    def __init__(self, redis: aioredis.Redis, settings: Settings, clock: Clock = system_clock):
        self._redis = redis
        self._settings = settings
        self._clock = clock

    def _k(self, *parts: str) -> str:
        return self._settings.key("job_fairs", *parts)

    def _starts_key(self, sample: bool) -> str:
        return self._k("starts", "sample" if sample else "real")

    # writes ---------------------------------------------------------------------------
    async def upsert_many(self, fairs: Sequence[JobFair]) -> UpsertResult:
        """Insert or replace fairs by id, all or nothing (one MULTI/EXEC); inactive ones are kept
        for export but left out of searches."""
        rev_key = self._k("rev")
        for _attempt in range(5):
            async with self._redis.pipeline(transaction=True) as tx:
                await tx.watch(rev_key)
                existing = await self._existing_ids([f.id for f in fairs])
                tx.multi()
                for fair in fairs:
                    self._queue_write(tx, fair)
                tx.incr(rev_key)
                try:
                    await tx.execute()
                except WatchError:
                    continue  # another import ran in between: re-read and retry
                updated = sum(1 for f in fairs if f.id in existing)
                return UpsertResult(created=len(fairs) - updated, updated=updated)
        raise RuntimeError("招聘会数据正被其他导入同时修改，请稍后重试")

    def _queue_write(self, tx, fair: JobFair) -> None:
        item = self._k("item", fair.id)
        tx.delete(item)
        tx.hset(item, mapping=fair.to_hash())
        tx.sadd(self._k("ids"), fair.id)
        for sample in (False, True):
            tx.zrem(self._starts_key(sample), fair.id)
        if fair.active:
            tx.zadd(self._starts_key(fair.sample), {fair.id: fair.starts_at.timestamp()})

    async def _existing_ids(self, ids: Sequence[str]) -> set:
        if not ids:
            return set()
        flags = await self._redis.smismember(self._k("ids"), list(ids))
        return {fair_id for fair_id, flag in zip(ids, flags) if flag}

    # reads ----------------------------------------------------------------------------
    async def count(self) -> int:
        return await self._redis.scard(self._k("ids"))

    async def get_many(self, ids: Sequence[str]) -> List[JobFair]:
        """Fairs as stored (sample dates unmoved), in the order of `ids`, missing ones skipped."""
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for fair_id in ids:
                pipe.hgetall(self._k("item", fair_id))
            rows = await pipe.execute()
        return [JobFair.from_hash(row) for row in rows if row]

    async def all_fairs(self) -> List[JobFair]:
        """Every fair as stored (what export writes: an exported file imports back unchanged)."""
        return await self.get_many(sorted(await self._redis.smembers(self._k("ids"))))

    async def sample_shift(self) -> int:
        """Weeks the sample fairs are moved by today (0 without sample fairs)."""
        first = await self._redis.zrange(self._starts_key(True), 0, 0, withscores=True)
        if not first:
            return 0
        earliest = datetime.fromtimestamp(first[0][1], SHANGHAI).date()
        return sample_shift_weeks(earliest, self._clock().astimezone(SHANGHAI).date())

    # search ---------------------------------------------------------------------------
    async def search(self, query: FairQuery, offset: int = 0, limit: int = 5) -> FairPage:
        """One page of upcoming or ongoing fairs matching the query, soonest first."""
        start, end = query.window(self._clock())
        matches = [f for f in await self._between(start, end) if _matches(f, query)]
        return FairPage(query, matches[offset : offset + limit], len(matches), offset)

    async def alternatives(self, query: FairQuery) -> FairAlternatives:
        """Nearest later dates, other cities and online fairs, for a search that found nothing."""
        start, end = query.window(self._clock())
        in_window = await self._between(start, end)
        anywhere = replace(query, city=None, district=None)
        cities = Counter(f.city for f in in_window if _matches(f, anywhere) and f.city != query.city)
        online: List[JobFair] = []
        if query.online is not True:
            online_query = replace(anywhere, online=True, kinds=frozenset())
            online = [f for f in in_window if _matches(f, online_query)][:ALTERNATIVE_FAIRS]
        later = [f for f in await self._between(end, end + LATER_HORIZON) if _matches(f, query)]
        return FairAlternatives(
            later=[f for f in later if f.starts_at >= end][:ALTERNATIVE_FAIRS],
            other_cities=sorted(cities.items(), key=lambda c: (-c[1], c[0]))[:ALTERNATIVE_CITIES],
            online=online,
        )

    async def _between(self, start: datetime, end: datetime) -> List[JobFair]:
        """Active fairs (sample ones moved) under way at some moment of [start, end), soonest first."""
        shift = await self.sample_shift()
        found: Dict[str, JobFair] = {}
        for sample, weeks in ((False, 0), (True, shift)):
            moved = timedelta(weeks=weeks)
            ids = await self._redis.zrangebyscore(
                self._starts_key(sample),
                (start - MAX_DURATION - moved).timestamp(),
                (end - moved).timestamp(),
            )
            for fair in await self.get_many(ids):
                fair = fair.shifted(weeks)
                if fair.starts_at < end and fair.ends_at > start:
                    found[fair.id] = fair
        return sorted(found.values(), key=lambda f: (f.starts_at, f.id))


def _matches(fair: JobFair, query: FairQuery) -> bool:
    if query.city and fair.city != query.city:
        return False
    if query.district and fair.district and fair.district != query.district:
        return False
    if query.online is not None and fair.online != query.online:
        return False
    if query.kinds and fair.kind not in query.kinds:
        return False
    return fair.serves(query.audience)
