"""Human handoff: the queue of conversations waiting for a counsellor, and who holds which.

Plain domain code (Redis only, no Rasa, no HTTP). Everything lives under `settings.key("handoff",
...)`:

    handoff:seq                 item id counter
    handoff:item:<id>           hash: openid, status, priority, reason, kind, first_message,
                                created_at, claimed_at, holder, closed_at, outcome, wait_s ...
    handoff:queue               zset of queued ids, score = priority band then arrival (ms)
    handoff:transcript:<id>     list of JSON entries (user / counsellor / note / system / bot)
    handoff:events              stream of queue changes; the console's SSE feed reads it and
                                uses the stream ids as Last-Event-ID
    handoff:presence            zset username -> last heartbeat (open consoles)
    handoff:claims / :closed    zsets id -> time, for dashboards and metrics
    handoff:qlen:<yyyy-mm-dd>   hash HH:MM -> queue length (queue length over time)
    handoff_active:<openid>     id of the item (queued or claimed) that holds the conversation
    handoff_offer:<openid>      "nobody available" offer awaiting a phone number (30 min)

Claim, transfer, release and close are each one Lua script, so two counsellors can never both
win; the loser learns who holds the item.
"""
from __future__ import annotations

import json
import logging
import math
import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, time as dtime, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.services.profiles import register_personal_key
from bot.settings import Settings

logger = logging.getLogger(__name__)

ACTIVE_FAMILY = "handoff_active"
OFFER_FAMILY = "handoff_offer"
ACK_FAMILY = "handoff_ack"
register_personal_key(ACTIVE_FAMILY)
register_personal_key(OFFER_FAMILY)
register_personal_key(ACK_FAMILY)

# Priority bands: higher is served first.
PRIORITY_NORMAL = 0
PRIORITY_REPEATED_FAILURE = 1
PRIORITY_COMPLAINT = 2
PRIORITY_LABELS = {PRIORITY_NORMAL: "普通", PRIORITY_REPEATED_FAILURE: "较高", PRIORITY_COMPLAINT: "高"}

REASON_LABELS = {
    "request_human": "用户要求转人工",
    "repeated_fallback": "机器人连续两次未理解",
    "complaint": "投诉",
    "callback": "预约回电",
    "action": "机器人判断需人工",
}

OUTCOMES = {
    "resolved": "已解决",
    "referred": "已转介线下",
    "callback_done": "已回电",
    "no_response": "用户未回复",
    "handed_back": "交回机器人",
    "user_cancelled": "用户取消",
    "other": "其他",
}

COMPLAINT_RE = re.compile(r"投诉|举报|不满意|态度(太)?差|差评|骗子|太慢了")
# A message that is only a request for a person: answered at the gateway, even if NLU is down.
HANDOFF_KEYWORD_RE = re.compile(
    r"^\s*(转人工|人工|人工服务|人工客服|找人工|转接人工|真人|找真人|我要人工|我要找人工|联系客服|客服)\s*[。!！?？]*\s*$"
)
CANCEL_RE = re.compile(r"^\s*(取消|不用了|取消转人工|算了|不需要了)\s*[。!！]*\s*$")
PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")

_WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


# ----------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class OfficeSpan:
    days: Tuple[int, ...]  # ISO weekdays, 1 = Monday
    start: dtime
    end: dtime


def parse_office_hours(spec: str) -> Tuple[OfficeSpan, ...]:
    """'1-5 08:30-17:30; 6 09:00-12:00' (ISO weekdays, or mon-fri) -> spans."""
    spans: List[OfficeSpan] = []
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        day_spec, time_spec = part.split()
        days: List[int] = []
        for chunk in day_spec.lower().split(","):
            lo, _, hi = chunk.partition("-")
            a = _WEEKDAYS.get(lo, None) or int(lo)
            b = (_WEEKDAYS.get(hi, None) or int(hi)) if hi else a
            days.extend(range(a, b + 1))
        t0, t1 = time_spec.split("-")
        spans.append(
            OfficeSpan(
                tuple(sorted(set(days))),
                datetime.strptime(t0, "%H:%M").time(),
                datetime.strptime(t1, "%H:%M").time(),
            )
        )
    return tuple(spans)


def _describe_days(days: Sequence[int]) -> str:
    names = "一二三四五六日"
    if len(days) > 1 and list(days) == list(range(days[0], days[-1] + 1)):
        return f"周{names[days[0] - 1]}至周{names[days[-1] - 1]}"
    return "、".join(f"周{names[d - 1]}" for d in days)


@dataclass(frozen=True)
class HandoffConfig:
    office_hours: Tuple[OfficeSpan, ...] = field(
        default_factory=lambda: parse_office_hours("1-5 08:30-17:30")
    )
    # nobody is "available" when no console sent a heartbeat within this many minutes
    no_staff_minutes: float = 5.0
    # queued items older than this are overdue (supervisors see them highlighted)
    overdue_minutes: float = 10.0
    # minutes per waiting person for the estimate when there is no history yet
    default_handle_minutes: float = 5.0
    # the intent Rasa receives on hand-back, so that the bot greets the user again
    resume_intent: str = "greet"
    # at most one "we got your message" note per this many seconds while queued
    ack_interval_s: int = 300

    @classmethod
    def from_settings(cls, settings: Settings) -> "HandoffConfig":
        return cls(
            office_hours=parse_office_hours(settings.handoff_office_hours),
            no_staff_minutes=settings.handoff_no_staff_minutes,
            overdue_minutes=settings.handoff_overdue_minutes,
            default_handle_minutes=settings.handoff_default_handle_minutes,
            resume_intent=settings.handoff_resume_intent,
            ack_interval_s=settings.handoff_ack_interval_s,
        )

    def describe_hours(self) -> str:
        return "；".join(
            f"{_describe_days(s.days)} {s.start:%H:%M}–{s.end:%H:%M}" for s in self.office_hours
        )

    def in_office_hours(self, moment: datetime) -> bool:
        t = moment.time()
        return any(
            moment.isoweekday() in s.days and s.start <= t < s.end for s in self.office_hours
        )


# ----------------------------------------------------------------------------------------------
# Results


class HandoffError(Exception):
    """A queue operation that cannot be done; `code` is stable, `message` is Chinese."""

    def __init__(self, code: str, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.holder = holder


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str  # "ok" | "off_hours" | "no_staff"
    online: int


@dataclass(frozen=True)
class RequestOutcome:
    item_id: str
    created: bool  # False when the user was already queued / held
    position: int  # 1-based, 0 when held by a counsellor
    wait_minutes: int
    availability: Availability
    status: str

    def user_text(self, config: HandoffConfig) -> str:
        if self.status == "claimed":
            return "职业指导师正在为您服务，请直接发送您的问题。"
        if self.status == "callback":
            return "已为您登记回电，职业指导师会在工作时间联系您。"
        head = "已为您转接人工服务" if self.created else "您已在人工服务队列中"
        text = (
            f"{head}，目前排在第 {self.position} 位，预计等待约 {self.wait_minutes} 分钟。"
            "职业指导师接入后会直接在这里回复您；等待期间您发的消息都会转给职业指导师。"
            "不想等了可以回复“取消”。"
        )
        if not self.availability.available:
            text = unavailable_text(self.availability, config) + "\n" + (
                "您的问题也已登记，职业指导师上线后会尽快处理。"
            )
        return text


def unavailable_text(avail: Availability, config: HandoffConfig) -> str:
    if avail.reason == "off_hours":
        why = f"现在不在人工服务时间（{config.describe_hours()}）"
    else:
        why = "现在暂时没有职业指导师在线"
    return (
        f"{why}。您可以：\n"
        "1. 直接回复您的手机号码，我们会在工作时间给您回电；\n"
        "2. 回复“预约指导课”，预约线下一对一职业指导。"
    )


# ----------------------------------------------------------------------------------------------
# Lua: every state change is one atomic step

_CLAIM = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'missing', ''} end
if st ~= 'queued' then return {'taken', redis.call('HGET', KEYS[1], 'holder') or ''} end
redis.call('HSET', KEYS[1], 'status', 'claimed', 'holder', ARGV[2], 'claimed_at', ARGV[3])
if redis.call('HEXISTS', KEYS[1], 'first_claimed_at') == 0 then
  local created = tonumber(redis.call('HGET', KEYS[1], 'created_at'))
  redis.call('HSET', KEYS[1], 'first_claimed_at', ARGV[3], 'wait_s', tostring(tonumber(ARGV[3]) - created))
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
end
redis.call('ZREM', KEYS[2], ARGV[1])
return {'ok', ARGV[2]}
"""

# ARGV: id, from (or '' for anyone), to, now, is_supervisor
_TRANSFER = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'missing', ''} end
local holder = redis.call('HGET', KEYS[1], 'holder') or ''
if st ~= 'claimed' then return {'not_claimed', holder} end
if ARGV[5] ~= '1' and holder ~= ARGV[2] then return {'not_holder', holder} end
redis.call('HSET', KEYS[1], 'holder', ARGV[3], 'claimed_at', ARGV[4])
return {'ok', ARGV[3]}
"""

# ARGV: id, by, is_supervisor
_RELEASE = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'missing', ''} end
local holder = redis.call('HGET', KEYS[1], 'holder') or ''
if st ~= 'claimed' then return {'not_claimed', holder} end
if ARGV[3] ~= '1' and holder ~= ARGV[2] then return {'not_holder', holder} end
redis.call('HSET', KEYS[1], 'status', 'queued', 'holder', '')
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'score'), ARGV[1])
return {'ok', ''}
"""

# KEYS: item, queue, active(openid), closed zset. ARGV: id, by, is_supervisor, now, outcome
_CLOSE = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'missing', ''} end
local holder = redis.call('HGET', KEYS[1], 'holder') or ''
if st == 'closed' then return {'closed', holder} end
if st == 'claimed' and ARGV[3] ~= '1' and holder ~= ARGV[2] then return {'not_holder', holder} end
if st ~= 'claimed' and ARGV[2] ~= '' and ARGV[3] ~= '1' then return {'not_claimed', holder} end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at', ARGV[4], 'outcome', ARGV[5], 'closed_by', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return {'ok', holder}
"""

# KEYS: active(openid), seq, queue. ARGV: item-key-prefix, fields json..., score, ttl
_ENQUEUE = """
local existing = redis.call('GET', KEYS[1])
if existing then
  local st = redis.call('HGET', ARGV[1] .. existing, 'status')
  if st == 'queued' or st == 'claimed' then return {existing, 0} end
end
local id = tostring(redis.call('INCR', KEYS[2]))
local fields = cjson.decode(ARGV[2])
local item = ARGV[1] .. id
for k, v in pairs(fields) do redis.call('HSET', item, k, v) end
redis.call('HSET', item, 'id', id, 'score', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[3], id)
if ARGV[4] == '1' then redis.call('SET', KEYS[1], id) end
return {id, 1}
"""


def _decode_pair(result: Any) -> Tuple[str, str]:
    return str(result[0]), str(result[1] or "")


_ERRORS = {
    "missing": "该会话不存在",
    "taken": "该会话已被其他职业指导师接入",
    "not_claimed": "该会话当前没有人接入",
    "not_holder": "该会话由其他职业指导师负责",
    "closed": "该会话已结束",
}


# ----------------------------------------------------------------------------------------------
# The service


class HandoffService:
    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        clock: Clock = system_clock,
        config: Optional[HandoffConfig] = None,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self.config = config or HandoffConfig()

    # keys
    def key(self, *parts: str) -> str:
        return self._settings.key("handoff", *parts)

    def item_key(self, item_id: str) -> str:
        return self.key("item", str(item_id))

    def active_key(self, openid: str) -> str:
        return self._settings.key(ACTIVE_FAMILY, openid)

    def offer_key(self, openid: str) -> str:
        return self._settings.key(OFFER_FAMILY, openid)

    @property
    def events_key(self) -> str:
        return self.key("events")

    def now(self) -> float:
        return self._clock().timestamp()

    # -- availability --------------------------------------------------------------------------

    async def heartbeat(self, username: str) -> None:
        await self._redis.zadd(self.key("presence"), {username: self.now()})

    async def online_staff(self) -> List[str]:
        since = self.now() - self.config.no_staff_minutes * 60
        return list(await self._redis.zrangebyscore(self.key("presence"), since, "+inf"))

    async def availability(self) -> Availability:
        online = len(await self.online_staff())
        if not self.config.in_office_hours(self._clock()):
            return Availability(False, "off_hours", online)
        if online == 0:
            return Availability(False, "no_staff", 0)
        return Availability(True, "ok", online)

    # -- queue ----------------------------------------------------------------------------------

    def _score(self, priority: int, created: float) -> float:
        return (9 - priority) * 1e13 + int(created * 1000)

    async def request(
        self,
        openid: str,
        *,
        reason: str = "request_human",
        priority: int = PRIORITY_NORMAL,
        first_message: str = "",
        kind: str = "chat",
        phone: str = "",
        note: str = "",
    ) -> RequestOutcome:
        """Queue the user's conversation for a counsellor (idempotent while one is open).

        With nobody available the conversation is still queued (supervisors see it as overdue)
        unless `kind="callback"`, which never holds the conversation.
        """
        avail = await self.availability()
        now = self.now()
        fields = {
            "openid": openid,
            "status": "queued",
            "priority": str(int(priority)),
            "reason": reason,
            "kind": kind,
            "first_message": first_message[:500],
            "created_at": repr(now),
            "holder": "",
            "phone": phone,
            "queued_off_hours": "1" if not avail.available else "0",
        }
        result = await self._redis.eval(
            _ENQUEUE,
            3,
            self.active_key(openid) if kind == "chat" else self.key("callback-guard"),
            self.key("seq"),
            self.key("queue"),
            self.item_key(""),
            json.dumps(fields, ensure_ascii=False),
            self._score(priority, now),
            "1" if kind == "chat" else "0",
        )
        item_id, created = str(result[0]), bool(int(result[1]))
        if created:
            # the console hears about the new item first; its transcript follows
            await self._emit("queued", item_id)
            entry_text = f"进入人工队列：{REASON_LABELS.get(reason, reason)}"
            if note:
                entry_text += f"（{note}）"
            await self.add_transcript(item_id, "system", entry_text)
            if first_message:
                await self.add_transcript(item_id, "user", first_message, author=openid)
        elif priority > int(await self._redis.hget(self.item_key(item_id), "priority") or 0):
            await self._raise_priority(item_id, priority, reason)
        item = await self.get(item_id) or {}
        status = "callback" if kind == "callback" else item.get("status", "queued")
        position = await self.position(item_id) if status == "queued" else 0
        return RequestOutcome(
            item_id=item_id,
            created=created,
            position=position,
            wait_minutes=await self.estimate_wait_minutes(position, avail.online),
            availability=avail,
            status=status,
        )

    async def _raise_priority(self, item_id: str, priority: int, reason: str) -> None:
        item = await self.get(item_id)
        if not item:
            return
        score = self._score(priority, float(item["created_at"]))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.item_key(item_id), mapping={"priority": priority, "reason": reason, "score": score})
            if item["status"] == "queued":
                pipe.zadd(self.key("queue"), {item_id: score})
            await pipe.execute()
        await self._emit("updated", item_id)

    async def position(self, item_id: str) -> int:
        rank = await self._redis.zrank(self.key("queue"), item_id)
        return 0 if rank is None else rank + 1

    async def estimate_wait_minutes(self, position: int, online: int) -> int:
        if position <= 0:
            return 0
        per = await self._median_handle_minutes()
        return max(1, math.ceil(position * per / max(1, online)))

    async def _median_handle_minutes(self) -> float:
        ids = await self._redis.zrevrange(self.key("closed"), 0, 19)
        durations = []
        for item_id in ids:
            h = await self._redis.hmget(self.item_key(item_id), "first_claimed_at", "closed_at")
            if h[0] and h[1]:
                durations.append((float(h[1]) - float(h[0])) / 60)
        if not durations:
            return self.config.default_handle_minutes
        return min(15.0, max(2.0, statistics.median(durations)))

    async def active_item(self, openid: str) -> Optional[Dict[str, str]]:
        item_id = await self._redis.get(self.active_key(openid))
        if not item_id:
            return None
        item = await self.get(item_id)
        if not item or item.get("status") not in ("queued", "claimed"):
            return None
        return item

    async def get(self, item_id: str) -> Optional[Dict[str, str]]:
        item = await self._redis.hgetall(self.item_key(item_id))
        return item or None

    async def summary(self, item_id: str) -> Optional[Dict[str, Any]]:
        """What the console's queue shows for one item."""
        item = await self.get(item_id)
        if not item:
            return None
        now = self.now()
        created = float(item.get("created_at", now))
        end = float(item.get("first_claimed_at") or 0) or (
            float(item["closed_at"]) if item.get("closed_at") else now
        )
        waited = max(0.0, end - created)
        priority = int(item.get("priority", 0))
        return {
            "id": item["id"],
            "openid": item["openid"],
            "status": item["status"],
            "kind": item.get("kind", "chat"),
            "priority": priority,
            "priority_label": PRIORITY_LABELS.get(priority, str(priority)),
            "reason": item.get("reason", ""),
            "reason_label": REASON_LABELS.get(item.get("reason", ""), item.get("reason", "")),
            "first_message": item.get("first_message", ""),
            "phone": item.get("phone", ""),
            "created_at": created,
            "wait_s": int(waited),
            "holder": item.get("holder", ""),
            "overdue": item["status"] == "queued" and waited > self.config.overdue_minutes * 60,
            "outcome": item.get("outcome", ""),
            "position": await self.position(item["id"]) if item["status"] == "queued" else 0,
        }

    async def snapshot(self) -> List[Dict[str, Any]]:
        """Every open item: queued ones in serving order, then claimed ones."""
        queued = await self._redis.zrange(self.key("queue"), 0, -1)
        claimed = await self._redis.zrange(self.key("open-claimed"), 0, -1)
        items = []
        for item_id in list(queued) + [c for c in claimed if c not in set(queued)]:
            s = await self.summary(item_id)
            if s and s["status"] in ("queued", "claimed"):
                items.append(s)
        return items

    async def queue_length(self) -> int:
        return int(await self._redis.zcard(self.key("queue")))

    # -- state changes --------------------------------------------------------------------------

    async def claim(self, item_id: str, username: str) -> Dict[str, str]:
        now = self.now()
        code, holder = _decode_pair(
            await self._redis.eval(
                _CLAIM, 3, self.item_key(item_id), self.key("queue"), self.key("claims"),
                item_id, username, repr(now),
            )
        )
        if code != "ok":
            raise HandoffError(code, _ERRORS[code], holder)
        await self._redis.zadd(self.key("open-claimed"), {item_id: now})
        await self.add_transcript(item_id, "system", f"{username} 已接入", author=username)
        await self._emit("claimed", item_id)
        return await self.get(item_id) or {}

    async def transfer(
        self, item_id: str, from_user: str, to_user: str, *, supervisor: bool = False, note: str = ""
    ) -> None:
        code, holder = _decode_pair(
            await self._redis.eval(
                _TRANSFER, 1, self.item_key(item_id),
                item_id, from_user, to_user, repr(self.now()), "1" if supervisor else "0",
            )
        )
        if code != "ok":
            raise HandoffError(code, _ERRORS[code], holder)
        text = f"{from_user} 转给 {to_user}" + (f"：{note}" if note else "")
        await self.add_transcript(item_id, "system", text, author=from_user)
        await self._emit("transferred", item_id)

    async def release(self, item_id: str, username: str, *, supervisor: bool = False) -> None:
        code, holder = _decode_pair(
            await self._redis.eval(
                _RELEASE, 2, self.item_key(item_id), self.key("queue"),
                item_id, username, "1" if supervisor else "0",
            )
        )
        if code != "ok":
            raise HandoffError(code, _ERRORS[code], holder)
        await self._redis.zrem(self.key("open-claimed"), item_id)
        await self.add_transcript(item_id, "system", f"{username} 放回队列", author=username)
        await self._emit("released", item_id)

    async def close(
        self, item_id: str, username: str, outcome: str, *, supervisor: bool = False
    ) -> Dict[str, str]:
        """End the item with an outcome tag; the conversation goes back to the bot."""
        if outcome not in OUTCOMES:
            raise HandoffError("bad_outcome", "未知的结束原因")
        item = await self.get(item_id)
        if not item:
            raise HandoffError("missing", _ERRORS["missing"])
        code, holder = _decode_pair(
            await self._redis.eval(
                _CLOSE, 4, self.item_key(item_id), self.key("queue"),
                self.active_key(item["openid"]), self.key("closed"),
                item_id, username, "1" if supervisor else "0", repr(self.now()), outcome,
            )
        )
        if code != "ok":
            raise HandoffError(code, _ERRORS[code], holder)
        await self._redis.zrem(self.key("open-claimed"), item_id)
        who = username or "用户"
        await self.add_transcript(item_id, "system", f"{who} 结束会话：{OUTCOMES[outcome]}", author=username)
        await self._emit("closed", item_id)
        return await self.get(item_id) or {}

    # -- transcript ------------------------------------------------------------------------------

    async def add_transcript(self, item_id: str, kind: str, text: str, *, author: str = "") -> None:
        entry = {"at": self.now(), "kind": kind, "author": author, "text": text}
        await self._redis.rpush(self.key("transcript", item_id), json.dumps(entry, ensure_ascii=False))
        if kind in ("user", "counsellor", "note", "bot"):
            await self._emit("message", item_id, {"entry": entry})

    async def transcript(self, item_id: str) -> List[Dict[str, Any]]:
        raw = await self._redis.lrange(self.key("transcript", item_id), 0, -1)
        return [json.loads(r) for r in raw]

    async def items_for_openid(self, openid: str, limit: int = 20) -> List[str]:
        """Ids of this user's past items (newest first), for the console's history."""
        ids = await self._redis.zrevrange(self.key("closed"), 0, 500)
        out = []
        for item_id in ids:
            if await self._redis.hget(self.item_key(item_id), "openid") == openid:
                out.append(item_id)
                if len(out) >= limit:
                    break
        return out

    # -- events -----------------------------------------------------------------------------------

    async def _emit(self, kind: str, item_id: str, extra: Optional[Dict[str, Any]] = None) -> str:
        summary = await self.summary(item_id)
        payload = {"type": kind, "item": summary, **(extra or {})}
        event_id = await self._redis.xadd(
            self.events_key, {"data": json.dumps(payload, ensure_ascii=False)},
            maxlen=5000, approximate=True,
        )
        await self._sample_queue_length()
        return event_id

    async def _sample_queue_length(self) -> None:
        moment = self._clock()
        length = await self.queue_length()
        key = self.key("qlen", moment.strftime("%Y-%m-%d"))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, moment.strftime("%H:%M"), length)
            pipe.expire(key, 40 * 86400)
            await pipe.execute()

    # -- the "nobody available" offer --------------------------------------------------------------

    async def make_offer(self, openid: str, reason: str, first_message: str) -> None:
        await self._redis.set(
            self.offer_key(openid),
            json.dumps({"reason": reason, "first_message": first_message}, ensure_ascii=False),
            ex=1800,
        )

    async def take_offer(self, openid: str) -> Optional[Dict[str, str]]:
        raw = await self._redis.getdel(self.offer_key(openid))
        return json.loads(raw) if raw else None

    async def mark_acknowledged(self, openid: str) -> bool:
        """True when no acknowledgement was sent within `ack_interval_s` (and records one)."""
        key = self._settings.key(ACK_FAMILY, openid)
        return bool(await self._redis.set(key, "1", nx=True, ex=self.config.ack_interval_s))

    async def has_offer(self, openid: str) -> bool:
        return bool(await self._redis.exists(self.offer_key(openid)))


async def request_handoff(
    service: HandoffService,
    openid: str,
    *,
    reason: str,
    priority: int,
    first_message: str,
) -> str:
    """The one entry point for every trigger (intent, keyword, fallbacks, complaint, actions).

    Returns what to tell the user. With nobody available the user gets the offer (workshop
    booking or a callback) and the conversation is not held; the request is still recorded as
    a callback item so that supervisors see it.
    """
    if COMPLAINT_RE.search(first_message or ""):
        priority, reason = max(priority, PRIORITY_COMPLAINT), "complaint"
    avail = await service.availability()
    if not avail.available:
        await service.make_offer(openid, reason, first_message)
        return unavailable_text(avail, service.config)
    outcome = await service.request(
        openid, reason=reason, priority=priority, first_message=first_message
    )
    # the queued message itself is the first acknowledgement
    await service.mark_acknowledged(openid)
    return outcome.user_text(service.config)


# ----------------------------------------------------------------------------------------------
# The gateway's gate: keep the bot silent while the conversation belongs to a human


class HandoffInterceptor:
    """A `ConversationService` interceptor.

    * queued or claimed conversation: the message goes to the transcript (and the console);
      the bot says nothing (one short acknowledgement every few minutes while still queued);
    * "转人工" and the like: queued right here, without asking Rasa;
    * a phone number after the "nobody available" offer: a callback request.
    Everything else passes (None) to Rasa.
    """

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    async def intercept(self, turn: Any) -> Optional[List[str]]:
        service = self.service
        openid, text = turn.openid, (turn.text or "").strip()
        item = await service.active_item(openid)
        if item is not None:
            return await self._held(item, turn, text)
        if await service.has_offer(openid):
            phone = PHONE_RE.search(text)
            if phone:
                offer = await service.take_offer(openid) or {}
                await service.request(
                    openid,
                    reason="callback",
                    priority=PRIORITY_COMPLAINT if offer.get("reason") == "complaint" else PRIORITY_NORMAL,
                    first_message=offer.get("first_message", "") or text,
                    kind="callback",
                    phone=phone.group(1),
                    note=f"原因：{REASON_LABELS.get(offer.get('reason', ''), '')}",
                )
                return [
                    f"已登记您的回电号码 {phone.group(1)[:3]}****{phone.group(1)[-4:]}，"
                    f"职业指导师会在工作时间（{service.config.describe_hours()}）给您回电。"
                ]
        if text and not text.startswith("/") and HANDOFF_KEYWORD_RE.match(text):
            reply = await request_handoff(
                service, openid, reason="request_human", priority=PRIORITY_NORMAL,
                first_message=text,
            )
            return [reply]
        return None

    async def _held(self, item: Dict[str, str], turn: Any, text: str) -> List[str]:
        service = self.service
        item_id = item["id"]
        # intent triggers (locations, menu clicks) are shown as what they are, not as raw JSON
        shown = text if text and not text.startswith("/") else f"[非文字消息] {text}"
        if item["status"] == "queued" and CANCEL_RE.match(text):
            await service.add_transcript(item_id, "user", text, author=turn.openid)
            await service.close(item_id, "", "user_cancelled")
            return ["已为您取消人工服务。职引继续为您服务，有需要随时说“转人工”。"]
        await service.add_transcript(item_id, "user", shown, author=turn.openid)
        if item["status"] != "queued":
            return []
        if await service.mark_acknowledged(turn.openid):
            position = await service.position(item_id)
            return [f"已收到，职业指导师接入后会第一时间回复您（您目前排在第 {position} 位）。"]
        return []
