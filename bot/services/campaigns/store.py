"""Staff-defined camp campaigns: the definition, the Redis record and the delivery report.

Redis layout (all under `settings.key("campaign", <id>, ...)`):
    campaign:<id>            HASH  the definition (JSON in "def"), status, resume_at, timings
    campaign:<id>:targets    LIST  the audience snapshot, taken once (users to send to)
    campaign:<id>:cursor     STR   index into targets where the next batch starts
    campaign:<id>:state      HASH  openid -> "claimed|<ts>" | "sent|<channel>" | "failed|<reason>"
                                   | "skipped|<reason>"  (one field per user: the report)
The worker (`bot.services.campaigns.worker`) fills targets, cursor and state; this module reads
them back as the report.
"""
from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Tuple

import redis.asyncio as aioredis

from bot.clock import SHANGHAI, Clock, system_clock
from bot.services.camp import CampCatalogue, load_catalogue
from bot.services.reply_size import byte_len
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("campaign",)


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
        if byte_len(message) > 2000:
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
