"""PushService: the `Notifier` that really talks to users outside a reply.

Order of decisions for one `notify()` call:
1. `dedupe_key` already used → the first result again, nothing sent (a key being sent right
   now → skipped "duplicate_in_flight").
2. opted out ("退订") → skipped "opted_out" (essential kinds — a reply the user waits for, a
   counsellor's answer, a reminder of the user's own booking — are still delivered).
3. quiet hours (22:00–08:00 by default) → deferred "quiet_hours" (the caller retries later;
   `next_send_time()` says when). Replies and counsellor answers are never deferred.
4. WeChat's daily API limit was hit (45009) → failed "api_daily_limit" until midnight, without
   calling WeChat again (no retry storm).
5. inside the 48-hour customer-service window with quota left → customer-service text (one
   unit of quota consumed first). 45015/45047 → the window record is closed and we fall back:
6. template message, only when the caller gave one and the user allowed it (`订阅`, or the
   subscribe-message consent event) → else skipped "window_closed" / "quota_exhausted".
Every API call first takes a token from a Redis token bucket shared by all processes; transient
errors (transport, WeChat -1 "system busy") are retried with exponential backoff and jitter.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import asdict, dataclass
from datetime import datetime, time as dtime, timedelta
from typing import Any, Awaitable, Callable, FrozenSet, List, Optional, Sequence, Tuple

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.log_ids import log_id
from bot.services.customer_service import OUT_OF_WINDOW, WINDOW_REFUSALS, CustomerServiceSender, SendResult
from bot.services.notify import DeliveryResult, Notice, Notifier, TemplateMessage
from bot.services.profiles import register_personal_key
from bot.settings import Settings

logger = logging.getLogger(__name__)

PREF_FAMILY = "push_pref"
register_personal_key(PREF_FAMILY)
# Ids of the user's deferred notices (RETRY_KIND jobs), so that unfollow can cancel them.
RETRIES_FAMILY = "push_retries"
register_personal_key(RETRIES_FAMILY)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("push", PREF_FAMILY, RETRIES_FAMILY)

DAILY_LIMIT = 45009
TRANSIENT_CODES = frozenset({-1})
RETRY_KIND = "push_retry"


def _parse_hhmm(text: str) -> dtime:
    hours, minutes = text.strip().split(":")
    return dtime(int(hours), int(minutes))


@dataclass(frozen=True)
class PushConfig:
    quiet_start: dtime = dtime(22, 0)
    quiet_end: dtime = dtime(8, 0)
    rate_per_s: float = 20.0  # shared token bucket (all processes)
    burst: int = 20
    max_wait_s: float = 10.0  # longest wait for a token before "deferred: rate_limited"
    max_attempts: int = 3
    backoff_base_s: float = 0.5
    dedupe_ttl_s: int = 30 * 24 * 3600
    inflight_ttl_s: int = 300
    # kinds that opt-out does not stop (the user asked for them) and that quiet hours do not hold
    essential_kinds: FrozenSet[str] = frozenset({"reply", "handoff", "reminder", "booking_reminder"})
    immediate_kinds: FrozenSet[str] = frozenset({"reply", "handoff"})

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> "PushConfig":
        """PUSH_QUIET_HOURS="22:00-08:00" (empty = none), PUSH_RATE_PER_S, PUSH_BURST."""
        values: dict = {"rate_per_s": settings.push_rate_per_s, "burst": settings.push_burst}
        quiet = settings.push_quiet_hours.strip()
        if quiet:
            start, end = quiet.split("-")
            values.update(quiet_start=_parse_hhmm(start), quiet_end=_parse_hhmm(end))
        else:
            values.update(quiet_start=dtime(0, 0), quiet_end=dtime(0, 0))
        values.update(overrides)
        return cls(**values)


def in_quiet_hours(moment: datetime, config: PushConfig) -> bool:
    start, end, now = config.quiet_start, config.quiet_end, moment.timetz().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def next_send_time(moment: datetime, config: PushConfig) -> datetime:
    """`moment` itself outside quiet hours, else the end of the quiet period."""
    if not in_quiet_hours(moment, config):
        return moment
    end = moment.replace(hour=config.quiet_end.hour, minute=config.quiet_end.minute, second=0, microsecond=0)
    return end if end > moment else end + timedelta(days=1)


class PushPreferences:
    """Per-user push flags: opted out (退订) and allowed template/subscribe messages (订阅)."""

    def __init__(self, redis: aioredis.Redis, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings

    def key(self, openid: str) -> str:
        return self._settings.key(PREF_FAMILY, openid)

    async def opt_out(self, openid: str) -> None:
        await self._redis.hset(self.key(openid), mapping={"opted_out": "1", "template_ok": "0"})

    async def opt_in(self, openid: str, *, allow_template: bool = True) -> None:
        await self._redis.hset(
            self.key(openid), mapping={"opted_out": "0", "template_ok": "1" if allow_template else "0"}
        )

    async def set_template_allowed(self, openid: str, allowed: bool) -> None:
        """Called when the user accepts/rejects subscribe messages (WeChat consent event)."""
        await self._redis.hset(self.key(openid), "template_ok", "1" if allowed else "0")

    async def is_opted_out(self, openid: str) -> bool:
        return await self._redis.hget(self.key(openid), "opted_out") == "1"

    async def allows_template(self, openid: str) -> bool:
        return await self._redis.hget(self.key(openid), "template_ok") == "1"

    async def opted_out_flags(self, openids: Sequence[str], batch: int = 500) -> List[str]:
        """The `opted_out` flag ("1"/"0") of each OpenID, in order; pipelined for batch jobs."""
        flags: List[str] = []
        for start in range(0, len(openids), batch):
            async with self._redis.pipeline(transaction=False) as pipe:
                for openid in openids[start : start + batch]:
                    pipe.hget(self.key(openid), "opted_out")
                flags.extend(value or "0" for value in await pipe.execute())
        return flags


# KEYS[1] bucket hash; ARGV: now (s), rate (tokens/s), burst. Returns 0 when a token was taken,
# else the seconds to wait for the next one (as a string: Lua numbers are truncated to integers).
_TAKE_TOKEN = """
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(h[1] or ARGV[3])
local ts = tonumber(h[2] or ARGV[1])
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate); ts = now end
if tokens >= 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'ts', tostring(ts))
  redis.call('EXPIRE', KEYS[1], 3600)
  return '0'
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring((1 - tokens) / rate)
"""


def _refusal_reason(sent: SendResult) -> str:
    """Why the customer-service text was not sent, as the notice results name it."""
    if sent.errcode is not None:
        return "window_closed" if sent.errcode == OUT_OF_WINDOW else "quota_exhausted"
    # another sender may have spent the last unit between the spend and the look ("*_window")
    return "window_closed" if sent.reason == "window_closed" else "quota_exhausted"


class PushService(Notifier):
    """Implements `bot.services.notify.Notifier` on the WeChat API client and window."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        wechat_client: Any,
        window: Any,
        clock: Clock = system_clock,
        *,
        config: Optional[PushConfig] = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.time,
        scheduler: Any = None,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._client = wechat_client
        self._sender = CustomerServiceSender(wechat_client, window)
        self._clock = clock
        self.config = config or PushConfig.from_settings(settings)
        self._sleep = sleep
        self._now_s = monotonic  # real time for the token bucket (a frozen test clock never refills)
        self.preferences = PushPreferences(redis, settings)
        # With a scheduler, a notice deferred by quiet hours is re-sent when they end.
        self._scheduler = scheduler
        self._take_token = redis.register_script(_TAKE_TOKEN)
        self.bucket_key = settings.key("push", "bucket")
        self.api_limited_key = settings.key("push", "api_limited")

    # -- public helpers ------------------------------------------------------------------------

    def quiet_now(self) -> bool:
        return in_quiet_hours(self._clock(), self.config)

    def next_send_time(self, moment: Optional[datetime] = None) -> datetime:
        return next_send_time(moment or self._clock(), self.config)

    async def api_limited(self) -> bool:
        return bool(await self._redis.exists(self.api_limited_key))

    # -- Notifier ------------------------------------------------------------------------------

    async def deliver(self, notice: Notice) -> DeliveryResult:
        openid, text, kind, template, dedupe_key = (
            notice.openid, notice.text, notice.kind, notice.template, notice.dedupe_key
        )
        if not dedupe_key:
            return await self._notify(openid, text, kind, template)
        dkey = self._settings.key("push", "dedupe", dedupe_key)
        if not await self._redis.set(dkey, "inflight", nx=True, ex=self.config.inflight_ttl_s):
            stored = await self._redis.get(dkey)
            if stored and stored != "inflight":
                return DeliveryResult(**json.loads(stored))
            return DeliveryResult("skipped", "duplicate_in_flight")
        try:
            result = await self._notify(openid, text, kind, template)
        except asyncio.CancelledError:
            # We cannot know whether WeChat got it: never send it again under this key.
            await self._store(dkey, DeliveryResult("failed", "interrupted"))
            raise
        except Exception:
            await self._redis.delete(dkey)
            raise
        if result.status == "deferred":
            await self._redis.delete(dkey)  # not attempted: a later call may send it
            await self._schedule_retry(openid, text, kind, template, dedupe_key)
        else:
            await self._store(dkey, result)
        return result

    def register_jobs(self, scheduler: Any) -> None:
        """Let the scheduler re-send deferred notices (`RETRY_KIND` jobs)."""
        self._scheduler = scheduler

        async def resend(job: Any) -> None:
            payload = job.payload
            template = payload.get("template")
            await self.notify(
                payload["openid"],
                payload["text"],
                kind=payload["kind"],
                template=TemplateMessage(**template) if template else None,
                dedupe_key=payload["dedupe_key"],
            )

        # idempotent: the dedupe key makes a re-run after a crash a no-op
        scheduler.register(RETRY_KIND, resend, idempotent=True)

    async def _schedule_retry(
        self,
        openid: str,
        text: str,
        kind: str,
        template: Optional[TemplateMessage],
        dedupe_key: str,
    ) -> None:
        if self._scheduler is None:
            return
        due = self.next_send_time()
        payload = {
            "openid": openid,
            "text": text,
            "kind": kind,
            "template": asdict(template) if template else None,
            "dedupe_key": dedupe_key,
        }
        # dedupe keys name the user ("course:<id>:<openid>"); job ids end up in the scheduler's logs
        job_id = f"{RETRY_KIND}:{log_id(dedupe_key, self._settings.console_secret)}:{due.timestamp():.0f}"
        await self._scheduler.schedule(job_id, RETRY_KIND, payload, due)
        retries = self._settings.key(RETRIES_FAMILY, openid)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(retries, job_id)
            pipe.expire(retries, 14 * 86400)  # deferrals last hours (quiet time), not weeks
            await pipe.execute()

    async def cancel_deferred(self, openid: str) -> int:
        """Cancel the user's deferred notices (unfollow); returns how many were pending."""
        if self._scheduler is None:
            return 0
        job_ids = await self._redis.smembers(self._settings.key(RETRIES_FAMILY, openid))
        return sum([await self._scheduler.cancel(job_id, self._clock()) for job_id in sorted(job_ids)])

    async def _store(self, dkey: str, result: DeliveryResult) -> None:
        await self._redis.set(dkey, json.dumps(asdict(result)), ex=self.config.dedupe_ttl_s)

    async def _notify(
        self, openid: str, text: str, kind: str, template: Optional[TemplateMessage]
    ) -> DeliveryResult:
        cfg = self.config
        if kind not in cfg.essential_kinds and await self.preferences.is_opted_out(openid):
            return DeliveryResult("skipped", "opted_out")
        if kind not in cfg.immediate_kinds and self.quiet_now():
            return DeliveryResult("deferred", "quiet_hours")
        if await self.api_limited():
            return DeliveryResult("failed", "api_daily_limit")

        sent = await self._sender.send(openid, text, call=self._call)
        if sent.sent:
            return DeliveryResult("sent", "", "customer_service")
        if sent.reason == "rate_limited":
            return DeliveryResult("deferred", "rate_limited")
        if sent.errcode is not None and sent.errcode not in WINDOW_REFUSALS:
            return await self._failure(sent.errcode, sent.errmsg, "customer_service")
        why = _refusal_reason(sent)

        if template is None:
            return DeliveryResult("skipped", why)
        if not await self.preferences.allows_template(openid):
            return DeliveryResult("skipped", f"{why}_template_not_allowed")
        code, msg = await self._call(
            lambda: self._client.send_template(openid, template.template_id, dict(template.data), template.url)
        )
        if code == 0:
            return DeliveryResult("sent", "", "template")
        if code is None:
            return DeliveryResult("deferred", "rate_limited")
        return await self._failure(code, msg, "template")

    async def _failure(self, code: int, msg: str, channel: str) -> DeliveryResult:
        if code == DAILY_LIMIT:
            await self._trip_daily_limit()
            return DeliveryResult("failed", "api_daily_limit", channel)
        if code in TRANSIENT_CODES:
            return DeliveryResult("failed", "transient_error_retries_exhausted", channel)
        return DeliveryResult("failed", f"wechat_{code}", channel)

    async def _trip_daily_limit(self) -> None:
        # WeChat resets the daily quota at midnight (Beijing time).
        now = self._clock()
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        ttl = max(60, int((midnight - now).total_seconds()))
        await self._redis.set(self.api_limited_key, "45009", ex=ttl)
        logger.warning("WeChat daily API limit (45009): pushes paused for %ss", ttl)

    async def _acquire_token(self) -> bool:
        waited = 0.0
        while True:
            wait = float(
                await self._take_token(
                    keys=[self.bucket_key],
                    args=[repr(self._now_s()), repr(self.config.rate_per_s), self.config.burst],
                )
            )
            if wait <= 0:
                return True
            if waited + wait > self.config.max_wait_s:
                return False
            # jitter so that many waiting senders do not retry at the same instant
            pause = wait * (1 + random.random() * 0.5)
            waited += pause
            await self._sleep(pause)

    async def _call(self, send: Callable[[], Awaitable[Any]]) -> Tuple[Optional[int], str]:
        """(0, "") on success, (errcode, errmsg) on a final error, (None, "") when rate-limited."""
        attempt = 0
        while True:
            if not await self._acquire_token():
                return None, ""
            attempt += 1
            try:
                await send()
                return 0, ""
            except Exception as exc:  # WeChatAPIError carries errcode; anything else is transport
                code = getattr(exc, "errcode", -1)
                msg = getattr(exc, "errmsg", repr(exc))
            if code not in TRANSIENT_CODES or attempt >= self.config.max_attempts:
                return int(code), str(msg)
            delay = self.config.backoff_base_s * (2 ** (attempt - 1)) * (0.5 + random.random())
            logger.info("push: transient WeChat error %s (%s), retry %s in %.2fs", code, msg, attempt, delay)
            await self._sleep(delay)
