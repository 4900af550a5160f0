"""The expert pool in Redis, and the experts' consultations in the workshop catalogue.

Redis layout (all under `settings.key("experts", ...)`):
    experts:item:<id>   hash: every field of one expert (active or not)
    experts:ids         set: every expert id
    experts:rev         counter bumped by every write (optimistic locking)

A pool holds tens of experts: a search reads them all and ranks them in Python (`match`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.clock import Clock, system_clock
from bot.services.experts.model import Expert, session_times
from bot.services.workshops import Slot, Workshop, WorkshopCatalogue, slot_id_for
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("experts",)

SESSION_WEEKS = 4  # like data/workshops.yml: the coming four weeks are bookable


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0


class ExpertStore:
    def __init__(self, redis: aioredis.Redis, settings: Settings, clock: Clock = system_clock):
        self._redis = redis
        self._settings = settings
        self._clock = clock

    def _k(self, *parts: str) -> str:
        return self._settings.key("experts", *parts)

    async def upsert_many(self, experts: Sequence[Expert]) -> UpsertResult:
        """Insert or replace experts by id, all or nothing (one MULTI/EXEC)."""
        rev_key = self._k("rev")
        for _attempt in range(5):
            async with self._redis.pipeline(transaction=True) as tx:
                await tx.watch(rev_key)
                ids = [e.id for e in experts]
                present = [await tx.sismember(self._k("ids"), expert_id) for expert_id in ids]
                tx.multi()
                for expert in experts:
                    tx.delete(self._k("item", expert.id))
                    tx.hset(self._k("item", expert.id), mapping=expert.to_hash())
                    tx.sadd(self._k("ids"), expert.id)
                tx.incr(rev_key)
                try:
                    await tx.execute()
                except WatchError:
                    continue  # another import ran in between: read again and retry
                updated = sum(1 for flag in present if flag)
                return UpsertResult(created=len(experts) - updated, updated=updated)
        raise RuntimeError("专家库正被其他导入同时修改，请稍后重试")

    async def count(self) -> int:
        return int(await self._redis.scard(self._k("ids")))

    async def get(self, expert_id: str) -> Optional[Expert]:
        data = await self._redis.hgetall(self._k("item", expert_id))
        return Expert.from_hash(data) if data.get("id") else None

    async def all_experts(self) -> List[Expert]:
        ids = sorted(await self._redis.smembers(self._k("ids")))
        async with self._redis.pipeline(transaction=False) as pipe:
            for expert_id in ids:
                pipe.hgetall(self._k("item", expert_id))
            rows = await pipe.execute()
        return [Expert.from_hash(row) for row in rows if row.get("id")]

    async def sync_sessions(self, catalogue: WorkshopCatalogue, experts: Optional[Sequence[Expert]] = None) -> int:
        """Each expert's consultations as a workshop of capacity-1 slots (`topic` 一对一咨询), for the
        coming `SESSION_WEEKS`; slots are only created when missing, so bookings and staff edits stay.
        An inactive expert gets no new slots (the search leaves them out; booked ones are kept for
        staff to handle in the console). Returns how many slots were created."""
        created = 0
        for expert in experts if experts is not None else await self.all_experts():
            await catalogue.upsert_workshop(consultation(expert))
            if not expert.active:
                continue
            for start, end in session_times(expert.patterns, self._clock(), SESSION_WEEKS):
                slot = Slot(slot_id_for(expert.workshop_id, start), expert.workshop_id, start, end, 1)
                created += await catalogue.add_slot_if_missing(slot)
        return created


def consultation(expert: Expert) -> Workshop:
    """The catalogue's view of an expert: a one-to-one consultation the booking engine can book."""
    where = expert.venue or f"{expert.city}{expert.county}（具体地点预约后电话告知）"
    return Workshop(
        id=expert.workshop_id, topic="一对一咨询", title=f"{expert.name}一对一咨询",
        description=expert.profile, counsellor=f"{expert.name}（{expert.level}专家）",
        service_point_id="", city=expert.city, mode=expert.mode, venue=where if expert.mode == "线下" else "",
        link=where if expert.mode == "线上" else "", expert_id=expert.id,
    )
