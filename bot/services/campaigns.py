"""Staff-defined camp campaigns: a cohort, a segment and a message, sent by a restartable worker.

Redis layout (all under `settings.key("campaign", <id>, ...)`):
    campaign:<id>            HASH  the definition (JSON in "def"), status, resume_at, timings
    campaign:<id>:targets    LIST  the audience snapshot, taken once (users to send to)
    campaign:<id>:cursor     STR   index into targets where the next batch starts
    campaign:<id>:state      HASH  openid -> "claimed|<ts>" | "sent|<channel>" | "failed|<reason>"
                                   | "skipped|<reason>"  (one field per user: the report)

Exactly once per user: before a user is sent to, the worker claims the user with HSETNX on
the state hash (the per-user SET NX); a second worker, or the same one after a restart, sees the
claim and moves on. The cursor only saves re-reading; correctness rests on the claims. A batch in
flight is shielded from cancellation, so a worker task that is killed lets its in-flight sends
finish and record their outcome; a process that dies mid-send leaves "claimed" entries that the
report shows as failed "interrupted" (never re-sent: at most once beats twice).
Quiet hours: when the next batch would fall in quiet hours (or a send comes back deferred), the
worker un-claims what it did not send, stores `resume_at` and returns; run it again at/after then.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import redis.asyncio as aioredis

from bot.clock import SHANGHAI, Clock, system_clock
from bot.services.camp import CampCatalogue, EnrollmentStore, load_catalogue, remember_pushed_cohort
from bot.services.eligibility import EligibilityRules, check_eligibility, load_rules
from bot.services.notify import DeliveryResult, TemplateMessage
from bot.services.push import PushPreferences
from bot.settings import Settings

KIND = "camp_push"
JOB_KIND = "camp_campaign"


@dataclass(frozen=True)
class Segment:
    """Who a campaign is for; an empty criterion matches everyone."""

    identities: Tuple[str, ...] = ()
    cities: Tuple[str, ...] = ()
    graduation_years: Tuple[int, ...] = ()
    tags: Tuple[str, ...] = ()  # the profile must carry all of them ("tags": comma-separated)
    eligible_only: bool = True  # also require eligibility for the campaign's cohort

    def matches(self, profile: Mapping[str, str]) -> bool:
        if self.identities and profile.get("identity") not in self.identities:
            return False
        if self.cities and (profile.get("city") or "").removesuffix("市") not in {
            c.removesuffix("市") for c in self.cities
        }:
            return False
        if self.graduation_years:
            try:
                if int(profile.get("graduation_year") or 0) not in self.graduation_years:
                    return False
            except ValueError:
                return False
        if self.tags:
            have = {t.strip() for t in (profile.get("tags") or "").split(",") if t.strip()}
            if not set(self.tags) <= have:
                return False
        return True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Segment":
        return cls(
            identities=tuple(data.get("identities") or ()),
            cities=tuple(data.get("cities") or ()),
            graduation_years=tuple(int(y) for y in data.get("graduation_years") or ()),
            tags=tuple(data.get("tags") or ()),
            eligible_only=bool(data.get("eligible_only", True)),
        )


@dataclass(frozen=True)
class Campaign:
    id: str
    cohort_id: str
    segment: Segment
    message: str
    template_id: str = ""  # template/subscribe message for users outside the 48-hour window
    created_by: str = ""
    created_at: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Campaign":
        data = json.loads(text)
        data["segment"] = Segment.from_dict(data.get("segment") or {})
        return cls(**data)


@dataclass(frozen=True)
class CampaignReport:
    campaign_id: str
    audience: int  # users the segment selected (targets + skipped at selection)
    sent: int
    sent_by_channel: Dict[str, int]
    failed: Dict[str, int]
    skipped: Dict[str, int]
    pending: int
    status: str
    resume_at: Optional[datetime] = None  # when a deferred campaign goes on (after quiet hours)

    @property
    def failed_total(self) -> int:
        return sum(self.failed.values())

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_text(self) -> str:
        fmt = lambda d: "，".join(f"{k} {v}" for k, v in sorted(d.items())) or "无"  # noqa: E731
        return (
            f"活动 {self.campaign_id}（{self.status}）：目标 {self.audience} 人；"
            f"已发送 {self.sent}（{fmt(self.sent_by_channel)}）；失败 {self.failed_total}（{fmt(self.failed)}）；"
            f"跳过 {self.skipped_total}（{fmt(self.skipped)}）；待发送 {self.pending}"
        )


@dataclass(frozen=True)
class RunOutcome:
    status: str  # "done" | "deferred" | "paused" | "cancelled"
    resume_at: Optional[datetime] = None
    sent: int = 0
    attempted: int = 0
    seconds: float = 0.0


# Report keys as staff read them (CLI and console), Chinese first.
REPORT_LABELS = {
    "customer_service": "客服消息 customer service",
    "template": "模板消息 template",
    "interrupted": "发送中断 interrupted",
    "opted_out": "已退订 opted out",
    "selection:opted_out": "已退订（选人时）opted out at selection",
    "selection:already_enrolled": "已报名 already enrolled",
    "selection:not_eligible": "不符合条件 not eligible",
    "window_closed": "48小时窗口已关，活动未设模板消息 window closed, no template",
    "window_closed_template_not_allowed": "48小时窗口已关且未授权模板 window closed, no template consent",
    "quota_exhausted": "客服消息额度已用完 customer-service quota used up",
    "quota_exhausted_template_not_allowed": "客服消息额度已用完且未授权模板 quota used up, no template consent",
    "api_daily_limit": "接口当日调用量已达上限 API daily limit",
}
START_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")  # typed, and HTML datetime-local


def parse_start_time(text: Optional[str]) -> Optional[datetime]:
    """A campaign start typed by staff, in Asia/Shanghai; None (blank) means now."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in START_TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
    raise ValueError(f"时间格式应为 YYYY-MM-DD HH:MM (bad date/time): {text!r}")


class CampaignStore:
    def __init__(self, redis: aioredis.Redis, settings: Settings, clock: Clock = system_clock) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock

    def key(self, campaign_id: str, *parts: str) -> str:
        return self._settings.key("campaign", campaign_id, *parts)

    def now(self) -> datetime:
        return self._clock()

    async def create(
        self,
        cohort_id: str,
        segment: Segment,
        message: str,
        *,
        template_id: str = "",
        created_by: str = "",
        campaign_id: Optional[str] = None,
        catalogue: Optional[CampCatalogue] = None,
    ) -> Campaign:
        catalogue = catalogue or load_catalogue(self._settings.camp_cohorts_file, self.now().date())
        if catalogue.get(cohort_id) is None:
            raise ValueError(f"unknown cohort {cohort_id!r}")
        if not message.strip():
            raise ValueError("请填写推送消息 (a campaign needs a message)")
        if len(message.encode("utf-8")) > 2000:
            raise ValueError("消息太长：一条微信消息最多 2000 字节，约 660 个汉字 (message too long for one WeChat text)")
        campaign = Campaign(
            id=campaign_id or f"c{self._clock():%Y%m%d}{secrets.token_hex(3)}",
            cohort_id=cohort_id,
            segment=segment,
            message=message,
            template_id=template_id,
            created_by=created_by,
            created_at=self._clock().isoformat(),
        )
        created = await self._redis.hsetnx(self.key(campaign.id), "def", campaign.to_json())
        if not created:
            raise ValueError(f"活动已存在 campaign {campaign.id} exists")
        await self._redis.hset(self.key(campaign.id), "status", "created")
        await self._redis.sadd(self._settings.key("campaign", "_all"), campaign.id)
        return campaign

    async def get(self, campaign_id: str) -> Optional[Campaign]:
        raw = await self._redis.hget(self.key(campaign_id), "def")
        return Campaign.from_json(raw) if raw else None

    async def ids(self) -> List[str]:
        return sorted(await self._redis.smembers(self._settings.key("campaign", "_all")))

    async def cancel(self, campaign_id: str, by: str = "") -> bool:
        """Stop a campaign: the worker starts no further batch (the batch in flight finishes).

        False when it had already finished or been cancelled; KeyError when there is no such campaign.
        """
        key = self.key(campaign_id)
        definition, status = await self._redis.hmget(key, "def", "status")
        if definition is None:
            raise KeyError(campaign_id)
        if status == "done":
            return False
        # HSETNX: the first cancel wins and keeps its time; the worker checks the field, so a
        # status it writes a moment later cannot undo the cancel
        if not await self._redis.hsetnx(key, "cancelled_at", self._clock().isoformat()):
            return False
        await self._redis.hset(key, "cancelled_by", by)
        return True

    async def is_cancelled(self, campaign_id: str) -> bool:
        return bool(await self._redis.hexists(self.key(campaign_id), "cancelled_at"))

    async def report(self, campaign_id: str) -> CampaignReport:
        state = await self._redis.hgetall(self.key(campaign_id, "state"))
        meta = await self._redis.hgetall(self.key(campaign_id))
        targets = await self._redis.llen(self.key(campaign_id, "targets"))
        counts: Dict[str, Counter] = {"sent": Counter(), "failed": Counter(), "skipped": Counter()}
        selected_skips = 0
        for value in state.values():
            status, _, detail = value.partition("|")
            if status == "claimed":
                counts["failed"]["interrupted"] += 1
            elif status in counts:
                counts[status][detail or "-"] += 1
            if status == "skipped" and detail.startswith("selection:"):
                selected_skips += 1
        handled = len(state) - selected_skips
        return CampaignReport(
            campaign_id=campaign_id,
            audience=targets + selected_skips,
            sent=sum(counts["sent"].values()),
            sent_by_channel=dict(counts["sent"]),
            failed=dict(counts["failed"]),
            skipped=dict(counts["skipped"]),
            pending=max(0, targets - handled),
            status=_reported_status(meta),
            resume_at=datetime.fromisoformat(meta["resume_at"]) if meta.get("resume_at") else None,
        )


def _reported_status(meta: Mapping[str, str]) -> str:
    status = meta.get("status", "unknown")
    return "cancelled" if meta.get("cancelled_at") and status != "done" else status


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
        self._enrolments = enrolments or EnrollmentStore(redis, settings, clock)

    @property
    def catalogue(self) -> CampCatalogue:
        if self._fixed_catalogue is not None:
            return self._fixed_catalogue
        return load_catalogue(self._settings.camp_cohorts_file, self._clock().date())

    # -- audience -------------------------------------------------------------------------------

    async def _profiles(self) -> Iterable[Tuple[str, Dict[str, str]]]:
        prefix = self._settings.key("profile", "")
        keys: List[str] = []
        async for key in self._redis.scan_iter(match=prefix + "*", count=1000):
            if ":" not in key[len(prefix):]:
                keys.append(key)
        out = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in chunk:
                    pipe.hgetall(key)
                    pipe.hget(self._prefs.key(key[len(prefix):]), "opted_out")
                values = await pipe.execute()
            for i, key in enumerate(chunk):
                profile = values[2 * i]
                profile["_opted_out"] = values[2 * i + 1] or "0"
                out.append((key[len(prefix):], profile))
        return out

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

        if await self.store.is_cancelled(campaign_id):
            return outcome("cancelled")
        resume = self._quiet_until()
        if resume is not None:
            await self._redis.hset(meta_key, mapping={"status": "deferred", "resume_at": resume.isoformat()})
            return outcome("deferred", resume)
        await self._redis.hset(meta_key, "status", "preparing")
        await self.prepare(campaign)
        await self._redis.hset(meta_key, mapping={"status": "sending", "resume_at": ""})
        template = self._template(campaign)
        sem = asyncio.Semaphore(self._concurrency)
        while True:
            if await self.store.is_cancelled(campaign_id):
                return outcome("cancelled")
            resume = self._quiet_until()
            if resume is not None:
                await self._redis.hset(meta_key, mapping={"status": "deferred", "resume_at": resume.isoformat()})
                return outcome("deferred", resume)
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


def register_campaign_jobs(scheduler: Any, worker: CampaignWorker, *, slice_s: float = 45.0) -> None:
    """Run campaigns from the job scheduler (`bot.jobs.scheduler.JobScheduler`).

    A job runs the worker for at most `slice_s` (under the scheduler's handler timeout), then
    schedules its own continuation: now when paused, at `resume_at` when deferred.
    """

    async def handle(job: Any) -> None:
        campaign_id = job.payload["campaign_id"]
        result = await worker.run(campaign_id, max_seconds=slice_s)
        if result.status in ("done", "cancelled"):
            return
        due = result.resume_at or system_clock()
        await scheduler.schedule(
            f"campaign:{campaign_id}:{due.timestamp():.0f}:{secrets.token_hex(2)}",
            JOB_KIND,
            {"campaign_id": campaign_id},
            due,
        )

    # idempotent: re-running a campaign job never double-sends (per-user claims)
    scheduler.register(JOB_KIND, handle, idempotent=True)


async def define_campaign(
    store: CampaignStore,
    scheduler: Any,
    catalogue: CampCatalogue,
    *,
    cohort_id: str,
    segment: Segment,
    message: str,
    template_id: str = "",
    created_by: str = "",
    when: Optional[datetime] = None,
) -> Campaign:
    """Define a campaign and queue it (the one path for the CLI and the console).

    Raises ValueError with a message staff can act on (unknown or closed cohort, empty or oversized
    message).
    """
    cohort = catalogue.get(cohort_id)
    if cohort is None:
        valid = ", ".join(cohort.id for cohort in catalogue.cohorts)
        raise ValueError(f"没有期次 unknown cohort {cohort_id!r}；可选 valid: {valid}")
    if not cohort.is_open(store.now().date()):
        # a push says "reply 报名 to enrol": everyone who answered would be turned away
        raise ValueError(
            f"该期次报名已于 {cohort.enroll_deadline:%Y-%m-%d} 截止，不能再推送 (enrolment closed): {cohort_id}"
        )
    campaign = await store.create(
        cohort_id, segment, message.strip(), template_id=template_id.strip(), created_by=created_by,
        catalogue=catalogue,
    )
    await start_campaign(scheduler, campaign.id, when or store.now())
    return campaign


async def start_campaign(scheduler: Any, campaign_id: str, when: Optional[datetime] = None) -> bool:
    """Queue a campaign on the scheduler (idempotent per campaign)."""
    return await scheduler.schedule(
        f"campaign:{campaign_id}:start", JOB_KIND, {"campaign_id": campaign_id}, when or system_clock()
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m bot.services.campaigns create|report|list …` (see bot.services.campaigns_cli)."""
    from bot.services.campaigns_cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
