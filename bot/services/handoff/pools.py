"""City desks and the provincial pool: a mixin of HandoffService (service.py), the one owner of
the `handoff` key families.

A new item of a known city waits in that city's pool (`pool` = "city"): its counsellors see
it, provincial counsellors do not. A job on the shared scheduler (`handoff_fallback`, claimed
by exactly one runner however many gateways run) looks again after `city_wait_minutes`: still
queued and nobody of the city online -> the provincial pool (`pool` = "province", one atomic
script); someone online -> another look after the same wait. Items of no known city start in
the provincial pool.

Presence: every open console records its staff member under each area of their scope
(`handoff:presence:area:<area>`: "province", a city, or "city/county") besides the global
`handoff:presence` that availability reads.
"""
from __future__ import annotations

from datetime import timedelta
from typing import List, Sequence

from bot.jobs.scheduler import Job, JobScheduler
from bot.services.handoff import lua
from bot.services.handoff.parts import ServiceParts
from bot.services.staff_scope import PROVINCE, area_of

FALLBACK_JOB = "handoff_fallback"


class CityPools(ServiceParts):
    """Mixed into HandoffService, whose Redis connection, clock, config and key builders it uses."""

    _scheduler: JobScheduler

    # -- presence ------------------------------------------------------------------------------

    async def heartbeat(self, username: str, areas: Sequence[str] = (PROVINCE,)) -> None:
        """An open console: its staff member counts as online for `areas` (their scope's)."""
        now = self.now()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.key("presence"), {username: now})
            for area in areas:
                pipe.zadd(self.key("presence", "area", area), {username: now})
            await pipe.execute()

    async def online_staff(self) -> List[str]:
        since = self.now() - self.config.no_staff_minutes * 60
        return list(await self._redis.zrangebyscore(self.key("presence"), since, "+inf"))

    async def online_in(self, city: str, district: str = "") -> List[str]:
        """Staff online whose scope covers a user in (`city`, `district`), provincial staff aside."""
        since = self.now() - self.config.no_staff_minutes * 60
        names: set = set()
        for area in area_of(city, district):
            names.update(await self._redis.zrangebyscore(self.key("presence", "area", area), since, "+inf"))
        return sorted(names)

    # -- the fall to the provincial pool -------------------------------------------------------

    def register_jobs(self, scheduler: JobScheduler) -> None:
        scheduler.register(FALLBACK_JOB, self._fallback_job, idempotent=True)

    async def schedule_fallback(self, item_id: str, attempt: int = 1) -> None:
        due = self._clock() + timedelta(minutes=self.config.city_wait_minutes)
        await self._scheduler.schedule(
            f"{FALLBACK_JOB}:{item_id}:{attempt}", FALLBACK_JOB,
            {"item_id": item_id, "attempt": attempt}, due,
        )

    async def _fallback_job(self, job: Job) -> None:
        await self.check_city_pool(str(job.payload["item_id"]), int(job.payload.get("attempt", 1)))

    async def check_city_pool(self, item_id: str, attempt: int = 1) -> bool:
        """The job's look at a city item: True when it joined the provincial pool now."""
        item = await self.get(item_id)
        if not item or item.get("status") != "queued" or item.get("pool") != "city":
            return False
        if await self.online_in(item.get("city", ""), item.get("district", "")):
            await self.schedule_fallback(item_id, attempt + 1)
            return False
        if not int(await self._redis.eval(lua.TO_PROVINCE, 1, self.item_key(item_id))):
            return False
        minutes = f"{self.config.city_wait_minutes:g}"
        await self.add_transcript(
            item_id, "system", f"{item.get('city')} {minutes} 分钟内无职业指导师在线，转入省级人工池"
        )
        await self._emit("updated", item_id)
        return True
