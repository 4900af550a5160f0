"""The campaign worker: takes the audience snapshot once, then sends in batches, restartable.

Exactly once per user: before a user is sent to, the worker claims the user with HSETNX on
the state hash (the per-user SET NX); a second worker, or the same one after a restart, sees the
claim and moves on. The cursor only saves re-reading; correctness rests on the claims. A batch in
flight is shielded from cancellation, so a worker task that is killed lets its in-flight sends
finish and record their outcome; a process that dies mid-send leaves "claimed" entries that the
report shows as failed "interrupted" (never re-sent: at most once beats twice).
Quiet hours: when the next batch would fall in quiet hours (or a send comes back deferred), the
worker un-claims what it did not send, stores `resume_at` and returns; run it again at/after then.
The Redis layout is in `bot.services.campaigns.store`.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Tuple

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.services.camp import CampCatalogue, EnrollmentStore, load_catalogue, remember_pushed_cohort
from bot.services.campaigns.store import Campaign, CampaignStore, Segment
from bot.services.eligibility import EligibilityRules, check_eligibility, load_rules
from bot.services.notify import DeliveryResult, TemplateMessage
from bot.services.profiles import ProfileStore
from bot.services.push import PushPreferences
from bot.settings import Settings

KIND = "camp_push"


@dataclass(frozen=True)
class RunOutcome:
    status: str  # "done" | "deferred" | "paused" | "cancelled"
    resume_at: Optional[datetime] = None
    sent: int = 0
    attempted: int = 0
    seconds: float = 0.0


class CampaignWorker:
    """Sends one campaign; run it again after a deferral or a restart, it picks up where it was."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        notifier: Any,  # PushService (needs notify(); next_send_time()/quiet_now() when present)
        clock: Clock = system_clock,
        *,
        catalogue: Optional[CampCatalogue] = None,
        rules: Optional[EligibilityRules] = None,
        enrolments: Optional[EnrollmentStore] = None,
        batch_size: int = 200,
        concurrency: int = 16,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._notifier = notifier
        self._clock = clock
        # None: the settings' file, read as of the clock's day (a sample file moves with time)
        self._fixed_catalogue = catalogue
        self._rules = rules or load_rules()
        self._batch = batch_size
        self._concurrency = concurrency
        self.store = CampaignStore(redis, settings, clock)
        self._prefs = PushPreferences(redis, settings)
        self._profile_store = ProfileStore(redis, settings)
        self._enrolments = enrolments or EnrollmentStore(redis, settings, clock)

    @property
    def catalogue(self) -> CampCatalogue:
        if self._fixed_catalogue is not None:
            return self._fixed_catalogue
        return load_catalogue(self._settings.camp_cohorts_file, self._clock().date())

    # -- audience -------------------------------------------------------------------------------

    async def _profiles(self) -> Iterable[Tuple[str, Dict[str, str]]]:
        """Every profile, each with its push opt-out flag as `_opted_out` ("1" or "0")."""
        profiles = await self._profile_store.all_profiles()
        flags = await self._prefs.opted_out_flags([openid for openid, _ in profiles])
        for (_openid, profile), flag in zip(profiles, flags):
            profile["_opted_out"] = flag
        return profiles

    async def select_audience(self, cohort_id: str, segment: Segment) -> Tuple[List[str], Dict[str, str]]:
        """Who a campaign would go to now, and whom the segment selects but it skips (with why).

        Reads only: the console's audience preview calls it before anything is defined.
        """
        cohort = self.catalogue.get(cohort_id)
        today = self._clock().date()
        enrolled = await self._enrolments.enrolled_openids(cohort_id)
        targets: List[str] = []
        skips: Dict[str, str] = {}
        for openid, profile in sorted(await self._profiles()):
            if not segment.matches(profile):
                continue
            if profile.get("_opted_out") == "1":
                skips[openid] = "skipped|selection:opted_out"
            elif openid in enrolled:
                skips[openid] = "skipped|selection:already_enrolled"
            elif segment.eligible_only and not check_eligibility(profile, cohort, today, rules=self._rules).eligible:
                skips[openid] = "skipped|selection:not_eligible"
            else:
                targets.append(openid)
        return targets, skips

    async def prepare(self, campaign: Campaign) -> int:
        """Take the audience snapshot once; returns the number of targets."""
        meta_key = self.store.key(campaign.id)
        targets_key = self.store.key(campaign.id, "targets")
        if await self._redis.hget(meta_key, "prepared") == "1":
            return await self._redis.llen(targets_key)
        targets, skips = await self.select_audience(campaign.cohort_id, campaign.segment)
        state_key = self.store.key(campaign.id, "state")
        tmp = targets_key + ":tmp"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(tmp)
            for start in range(0, len(targets), 1000):
                pipe.rpush(tmp, *targets[start : start + 1000])
            await pipe.execute()
        # HSETNX: a re-run of an interrupted preparation never overwrites a recorded outcome
        async with self._redis.pipeline(transaction=False) as pipe:
            for openid, value in skips.items():
                pipe.hsetnx(state_key, openid, value)
            await pipe.execute()
        async with self._redis.pipeline(transaction=True) as pipe:
            if targets:
                pipe.rename(tmp, targets_key)
            else:
                pipe.delete(targets_key)
            pipe.set(self.store.key(campaign.id, "cursor"), 0)
            pipe.hset(meta_key, mapping={"prepared": "1", "targets": len(targets)})
            await pipe.execute()
        return len(targets)

    # -- sending --------------------------------------------------------------------------------

    def _template(self, campaign: Campaign) -> Optional[TemplateMessage]:
        if not campaign.template_id:
            return None
        cohort = self.catalogue.get(campaign.cohort_id)
        return TemplateMessage(
            template_id=campaign.template_id,
            data={
                "first": "青年求职能力实训营开始报名",
                "keyword1": cohort.label if cohort else campaign.cohort_id,
                "keyword2": f"报名截止{cohort.enroll_deadline:%m月%d日}" if cohort else "",
                "remark": "回复“报名”即可报名，回复“退订”不再接收",
            },
        )

    async def _deliver(
        self, campaign: Campaign, openid: str, template: Optional[TemplateMessage], sem: asyncio.Semaphore
    ) -> Optional[DeliveryResult]:
        state_key = self.store.key(campaign.id, "state")
        async with sem:
            if not await self._redis.hsetnx(state_key, openid, f"claimed|{time.time():.0f}"):
                return None  # another worker (or an earlier run) has this user
            result: DeliveryResult = await self._notifier.notify(
                openid,
                campaign.message,
                kind=KIND,
                template=template,
                dedupe_key=f"campaign:{campaign.id}:{openid}",
            )
            if result.status == "deferred":
                await self._redis.hdel(state_key, openid)
                return result
            detail = result.channel if result.status == "sent" else result.reason
            await self._redis.hset(state_key, openid, f"{result.status}|{detail}")
            if result.status == "sent":
                await remember_pushed_cohort(self._redis, self._settings, openid, campaign.cohort_id)
            return result

    def _quiet_until(self) -> Optional[datetime]:
        next_time = getattr(self._notifier, "next_send_time", None)
        if next_time is None:
            return None
        now = self._clock()
        resume = next_time(now)
        return resume if resume > now else None

    async def _stop_before_batch(self, campaign_id: str) -> Optional[Tuple[str, Optional[datetime]]]:
        """("cancelled", None) or ("deferred", resume_at) when no batch may start now, else None."""
        if await self.store.is_cancelled(campaign_id):
            return "cancelled", None
        resume = self._quiet_until()
        if resume is None:
            return None
        await self._redis.hset(
            self.store.key(campaign_id), mapping={"status": "deferred", "resume_at": resume.isoformat()}
        )
        return "deferred", resume

    async def run(self, campaign_id: str, *, max_seconds: Optional[float] = None) -> RunOutcome:
        """Send until done, cancelled, deferred by quiet hours/rate limit, or `max_seconds` elapsed."""
        campaign = await self.store.get(campaign_id)
        if campaign is None:
            raise KeyError(campaign_id)
        started = time.monotonic()
        meta_key = self.store.key(campaign_id)
        cursor_key = self.store.key(campaign_id, "cursor")
        targets_key = self.store.key(campaign_id, "targets")
        sent = attempted = 0

        def outcome(status: str, resume: Optional[datetime] = None) -> RunOutcome:
            return RunOutcome(status, resume, sent, attempted, time.monotonic() - started)

        stop = await self._stop_before_batch(campaign_id)
        if stop is not None:
            return outcome(*stop)
        await self._redis.hset(meta_key, "status", "preparing")
        await self.prepare(campaign)
        await self._redis.hset(meta_key, mapping={"status": "sending", "resume_at": ""})
        template = self._template(campaign)
        sem = asyncio.Semaphore(self._concurrency)
        while True:
            stop = await self._stop_before_batch(campaign_id)
            if stop is not None:
                return outcome(*stop)
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                await self._redis.hset(meta_key, "status", "paused")
                return outcome("paused")
            cursor = int(await self._redis.get(cursor_key) or 0)
            batch = await self._redis.lrange(targets_key, cursor, cursor + self._batch - 1)
            if not batch:
                await self._redis.hset(meta_key, mapping={"status": "done", "finished_at": self._clock().isoformat()})
                return outcome("done")
            # Shielded: a cancelled worker lets the sends it started finish and be recorded.
            results = await asyncio.shield(
                asyncio.gather(*(self._deliver(campaign, o, template, sem) for o in batch))
            )
            done = [r for r in results if r is not None]
            attempted += len(done)
            sent += sum(1 for r in done if r.status == "sent")
            deferred = [r for r in done if r.status == "deferred"]
            if deferred:
                resume = self._quiet_until() or self._clock()
                await self._redis.hset(meta_key, mapping={"status": "deferred", "resume_at": resume.isoformat()})
                return outcome("deferred", resume)
            # only ever move the cursor forward (two workers may race here)
            await self._redis.eval(
                "local c = tonumber(redis.call('GET', KEYS[1]) or '0') "
                "if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) end return 1",
                1,
                cursor_key,
                cursor + len(batch),
            )
