"""Satisfaction ratings (issue #25 item 4): ask once after a service, take the answer, flag low ones.

A closed handoff (bot/services/handoff/service.py `close`) or an attended booking
(bot/services/booking/service.py `mark_attendance`) calls `schedule_rating_request`; the job it
schedules is named after the handoff item or booking code, so a retried close or a second mark
never asks twice. The gateway's job runner sends the request through the Notifier (quiet hours →
asked again when they end; window closed → skipped and recorded, never sent outside it). While
the request is pending (48 h) the gateway's `RatingInterceptor` (bot/gateway/app.py) takes a
rating the user types; anything else goes to the bot.

Redis layout, all under `settings.key(...)`:
    satisfaction:seq                    rating id counter
    satisfaction:rating:<id>            HASH  kind, ref, city, district, target, score, comment, at,
                                              reviewed_by, reviewed_at (no OpenID)
    satisfaction:rated:<kind>:<ref>     rating id: one rating per service, whoever answers twice
    satisfaction:asked:<kind>:<ref>     HASH  what became of the request (sent/deferred/skipped …)
    satisfaction:flagged                ZSET  low rating id -> time, the supervisors' list
    satisfaction_pending:<openid>       JSON  the service the user was asked about (personal, 48 h)
    satisfaction_comment:<openid>       rating id awaiting the comment after a low score (10 min)
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional

from bot.clock import Clock, system_clock
from bot.jobs.scheduler import Job
from bot.services.notify import Notifier
from bot.services.phone import mask_phones
from bot.services.profiles import register_personal_key
from bot.services.rating_words import ParsedRating, clean_comment, parse_rating
from bot.settings import Settings

PENDING_FAMILY = "satisfaction_pending"
COMMENT_FAMILY = "satisfaction_comment"
register_personal_key(PENDING_FAMILY)
register_personal_key(COMMENT_FAMILY)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("satisfaction", PENDING_FAMILY, COMMENT_FAMILY)

logger = logging.getLogger(__name__)

REQUEST_KIND = "rating_request"
REQUEST_TEXT = "请为本次服务打分：回复1-5（5分最满意），也可以在分数后写几句建议"
PENDING_TTL_S = 48 * 3600  # as long as WeChat lets us answer; a "5" days later is not a rating
COMMENT_TTL_S = 10 * 60
RETENTION_S = 400 * 86400  # as the monthly figures: a little over thirteen months
FLAGGED_SHOWN = 500
LOW_SCORE = 2
# while a comment is awaited, a question still goes to the bot (the comment window stays open)
QUESTION_RE = re.compile(r"[?？]|吗|哪里|哪儿|多少|几点|怎么办|怎么(?:弄|办理|预约|报名)|能不能|可不可以")


@dataclass(frozen=True)
class Subject:
    """What is rated: a handoff item or a booking, where, and by whom it was given."""

    kind: str  # "handoff" | "workshop"
    ref: str  # handoff item id / booking code
    city: str = ""
    district: str = ""
    target: str = ""  # the counsellor's username / the workshop id

    @classmethod
    def from_mapping(cls, data: Dict[str, Any]) -> "Subject":
        return cls(**{name: str(data.get(name) or "") for name in cls.__dataclass_fields__})


def request_job_id(subject: Subject) -> str:
    return f"{REQUEST_KIND}:{subject.kind}:{subject.ref}"


async def schedule_rating_request(scheduler: Any, openid: str, subject: Subject, now: datetime) -> bool:
    """Ask the user to rate `subject`, once: the job id repeats for a retried close or mark."""
    if not openid or not subject.ref:
        return False
    payload = {"openid": openid, **asdict(subject)}
    return await scheduler.schedule(request_job_id(subject), REQUEST_KIND, payload, now)


class SatisfactionService:
    """The one owner of the satisfaction keys."""

    def __init__(
        self,
        redis: Any,
        settings: Settings,
        clock: Clock = system_clock,
        *,
        notifier: Optional[Notifier] = None,
        stats: Any = None,
        retry_at: Optional[Callable[[], datetime]] = None,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self._notifier = notifier
        self._stats = stats  # MonthlyStats: "rating", "rating_low", "rating_requested"
        # when a request deferred by quiet hours is tried again (PushService.next_send_time)
        self._retry_at = retry_at or (lambda: self._clock() + timedelta(hours=1))
        self._scheduler: Any = None

    def _key(self, *parts: str) -> str:
        return self._settings.key("satisfaction", *parts)

    # -- asking -------------------------------------------------------------------------------

    def register_jobs(self, scheduler: Any) -> None:
        self._scheduler = scheduler
        # idempotent: the Notifier dedupes by the request's own key, a re-run cannot ask twice
        scheduler.register(REQUEST_KIND, self._send_request, idempotent=True)

    async def _send_request(self, job: Job) -> None:
        openid, subject = job.payload["openid"], Subject.from_mapping(job.payload)
        if await self._redis.exists(self._key("rated", subject.kind, subject.ref)):
            return
        result = await self._notifier.notify(  # type: ignore[union-attr]
            openid, REQUEST_TEXT, kind=REQUEST_KIND, dedupe_key=request_job_id(subject)
        )
        await self._note_request(subject, result.status, result.reason)
        if result.status == "sent":
            pending = json.dumps({**asdict(subject), "asked_at": self._clock().isoformat()}, ensure_ascii=False)
            await self._redis.set(self._settings.key(PENDING_FAMILY, openid), pending, ex=PENDING_TTL_S)
            await self._count("rating_requested", subject.city)
        elif result.status == "deferred" and self._scheduler is not None:
            due = self._retry_at()
            job_id = f"{request_job_id(subject)}:after:{due.timestamp():.0f}"
            await self._scheduler.schedule(job_id, REQUEST_KIND, job.payload, due)
        else:
            logger.info("rating request %s not sent: %s %s", request_job_id(subject), result.status, result.reason)
            await self._count("rating_skipped", subject.city)

    async def _note_request(self, subject: Subject, status: str, reason: str) -> None:
        key = self._key("asked", subject.kind, subject.ref)
        fields = {"status": status, "reason": reason, "at": self._clock().isoformat(), "city": subject.city}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.hincrby(key, "attempts", 1)
            pipe.expire(key, RETENTION_S)
            await pipe.execute()

    async def request_state(self, kind: str, ref: str) -> Dict[str, str]:
        """What became of the request for one service (status, reason, attempts), {} if none."""
        return await self._redis.hgetall(self._key("asked", kind, ref))

    async def _count(self, event: str, city: str) -> None:
        if self._stats is not None:
            await self._stats.count(event, city or None)

    # -- answers --------------------------------------------------------------------------------

    async def pending(self, openid: str) -> Optional[Subject]:
        raw = await self._redis.get(self._settings.key(PENDING_FAMILY, openid))
        return Subject.from_mapping(json.loads(raw)) if raw else None

    async def answer(self, openid: str, text: str) -> Optional[str]:
        """The reply to a message while a request or a comment is awaited, or None (not ours)."""
        comment_key = self._settings.key(COMMENT_FAMILY, openid)
        pending_key = self._settings.key(PENDING_FAMILY, openid)
        # every user message passes here: one round trip when nothing is awaited
        rating_id, raw = await self._redis.mget(comment_key, pending_key)
        if rating_id and not QUESTION_RE.search(text):
            await self._redis.delete(comment_key)
            await self.add_comment(rating_id, text)
            return "已记下您的建议，我们会转给负责的老师认真改进。职引继续为您服务，有问题随时问我。"
        if not raw:
            return None
        pending = json.loads(raw)
        parsed = parse_rating(text)
        # once the user has talked of something else, a bare "2" may answer the bot's numbered
        # list: only a rating that says so ("2分", "五星", "满意", "2 等太久了") is taken then
        if parsed is None or (parsed.bare and pending.get("moved_on")):
            if not pending.get("moved_on"):
                # one step, on the request's own expiry (KEEPTTL, Redis >= 6.0) and only while it
                # is still there (XX): a rating taken meanwhile is not brought back
                marked = json.dumps({**pending, "moved_on": True})
                await self._redis.set(pending_key, marked, xx=True, keepttl=True)
            return None  # a normal question: the bot answers, the request stays
        subject = Subject.from_mapping(pending)
        await self._redis.delete(pending_key)
        rating_id = await self.record(subject, parsed)
        if rating_id is None:
            return "这次服务您已经评过分了，谢谢！"
        if parsed.low and not parsed.comment:
            await self._redis.set(comment_key, rating_id, ex=COMMENT_TTL_S)
            return f"收到您的评分：{parsed.score}分。很抱歉这次没让您满意，有什么建议可以直接回复，我们会认真改进。"
        if parsed.low:
            return f"收到您的评分：{parsed.score}分和建议。很抱歉这次没让您满意，您的意见已转给负责的老师，我们会认真改进。"
        return f"收到您的评分：{parsed.score}分，谢谢您的评价！有问题随时问我。"

    async def record(self, subject: Subject, rating: ParsedRating) -> Optional[str]:
        """Store one rating (None when this service was rated already); low ones are flagged."""
        now = self._clock()
        rated = self._key("rated", subject.kind, subject.ref)
        if not await self._redis.set(rated, "pending", nx=True, ex=RETENTION_S):
            return None
        rating_id = str(await self._redis.incr(self._key("seq")))
        fields = {
            "id": rating_id, **asdict(subject), "score": str(rating.score),
            "comment": mask_phones(rating.comment), "at": now.isoformat(),
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("rating", rating_id), mapping=fields)
            pipe.expire(self._key("rating", rating_id), RETENTION_S)
            pipe.set(rated, rating_id, ex=RETENTION_S)
            if rating.score <= LOW_SCORE:
                pipe.zadd(self._key("flagged"), {rating_id: now.timestamp()})
                pipe.zremrangebyscore(self._key("flagged"), "-inf", now.timestamp() - RETENTION_S)
            await pipe.execute()
        if self._stats is not None:
            await self._stats.observe("rating", subject.city or None, rating.score)
            if rating.score <= LOW_SCORE:
                await self._stats.count("rating_low", subject.city or None)
        return rating_id

    async def add_comment(self, rating_id: str, text: str) -> None:
        comment = mask_phones(clean_comment(text))
        key = self._key("rating", rating_id)
        if comment and await self._redis.exists(key):
            await self._redis.hset(key, "comment", comment)

    # -- the supervisors' list ----------------------------------------------------------------

    async def get(self, rating_id: str) -> Optional[Dict[str, str]]:
        data = await self._redis.hgetall(self._key("rating", rating_id))
        return data or None

    async def flagged(self, visible: Callable[[Dict[str, str]], bool]) -> List[Dict[str, str]]:
        """Low ratings, newest first, that `visible` lets the staff member see (their scope)."""
        ids = await self._redis.zrevrange(self._key("flagged"), 0, FLAGGED_SHOWN - 1)
        rows = [await self.get(rating_id) for rating_id in ids]
        return [row for row in rows if row and visible(row)]

    async def mark_reviewed(self, rating_id: str, username: str) -> bool:
        """True the first time; a second click by anyone keeps the first reviewer."""
        key = self._key("rating", rating_id)
        if not await self._redis.exists(key) or not await self._redis.hsetnx(key, "reviewed_by", username):
            return False
        await self._redis.hset(key, "reviewed_at", self._clock().isoformat())
        return True


class RatingInterceptor:
    """A `ConversationService` interceptor (bot/gateway/conversation.py), after the handoff gate:
    takes a rating while one is pending; everything else passes (None) to the bot."""

    def __init__(self, service: SatisfactionService) -> None:
        self.service = service

    async def intercept(self, turn: Any) -> Optional[List[str]]:
        text = (turn.text or "").strip()
        if not text or text.startswith("/"):  # a menu click or a location: the gateway's triggers
            return None
        reply = await self.service.answer(turn.openid, text)
        return None if reply is None else [reply]
