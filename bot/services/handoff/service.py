"""The handoff queue and item store: conversations waiting for a counsellor, and who holds which.

Plain domain code (Redis only, no Rasa, no HTTP). Everything lives under `settings.key("handoff",
...)`:

    handoff:seq                 item id counter
    handoff:item:<id>           hash: openid, status, priority, reason, kind, first_message,
                                created_at, claimed_at, holder, closed_at, outcome, wait_s,
                                city, district, city_source, pool (city | province: pools.py) ...
    handoff:queue               zset of queued ids, score = priority band then arrival (ms)
    handoff:transcript:<id>     list of JSON entries (user / counsellor / note / system / bot)
    handoff:events              stream of queue changes; the console's SSE feed reads it and
                                uses the stream ids as Last-Event-ID
    handoff:presence            zset username -> last heartbeat (open consoles)
    handoff:presence:area:<a>   the same per area of the staff's scope (pools.py)
    handoff:claims / :closed    zsets id -> time, for dashboards and metrics
    handoff:qlen:<yyyy-mm-dd>   hash HH:MM -> queue length (queue length over time)
    handoff_active:<openid>     id of the item (queued or claimed) that holds the conversation:
                                a chat item, or a callback item a counsellor made live (callbacks.py)
    handoff_callback:<openid>   id of the user's callback item (one open at a time)

(The gate's short-lived notes of a user, the offer and the acknowledgement, are gate_memory.py's.)

Claim, transfer, release and close are each one Lua script, so two counsellors can never both
win (lua.py); the loser learns who holds the item.
"""
from __future__ import annotations

import json
import math
import statistics
from typing import Any, Dict, List, Mapping, Optional, Sequence

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.jobs.scheduler import JobScheduler
from bot.services.handoff import lua
from bot.services.handoff.callbacks import CallbackItems
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.gate_memory import GateMemory
from bot.services.handoff.model import (
    OUTCOMES,
    PRIORITY_LABELS,
    RATED_OUTCOMES,
    PRIORITY_NORMAL,
    REASON_LABELS,
    Availability,
    HandoffError,
    RequestOutcome,
)
from bot.services.handoff.pools import CityPools
from bot.services.handoff.reports import QueueReports
from bot.services.handoff.figures import record_claimed, record_closed, record_created
from bot.services.handoff.routing import CITY_POOL, PROVINCE_POOL, UserPlace
from bot.services.monthly_stats import MonthlyStats
from bot.services.profiles import register_personal_key
from bot.services.satisfaction import Subject, schedule_rating_request
from bot.settings import Settings

ACTIVE_FAMILY = "handoff_active"
CALLBACK_FAMILY = "handoff_callback"
for _family in (ACTIVE_FAMILY, CALLBACK_FAMILY):
    register_personal_key(_family)

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("handoff", ACTIVE_FAMILY, CALLBACK_FAMILY)


class HandoffService(CallbackItems, QueueReports, CityPools):
    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        clock: Clock = system_clock,
        config: Optional[HandoffConfig] = None,
        scheduler: Optional[JobScheduler] = None,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self.config = config or HandoffConfig()
        # the action server schedules the fall to the provincial pool too; the gateway runs it
        self._scheduler = scheduler or JobScheduler(redis, settings)
        self.monthly = MonthlyStats(redis, settings, clock)
        # the offer and the acknowledgement the gate keeps per user (gate.py)
        self.memory = GateMemory(redis, settings, self.config.ack_interval_s)

    @property
    def redis(self) -> aioredis.Redis:
        return self._redis

    @property
    def settings(self) -> Settings:
        return self._settings

    # keys
    def key(self, *parts: str) -> str:
        return self._settings.key("handoff", *parts)

    def item_key(self, item_id: str) -> str:
        return self.key("item", str(item_id))

    def active_key(self, openid: str) -> str:
        return self._settings.key(ACTIVE_FAMILY, openid)

    def callback_key(self, openid: str) -> str:
        return self._settings.key(CALLBACK_FAMILY, openid)

    @property
    def events_key(self) -> str:
        return self.key("events")

    def now(self) -> float:
        return self._clock().timestamp()

    def next_opening_text(self, city: str = "") -> str:
        """When counsellors (of `city`'s desk) are next on duty, as users read it ("下周一 8:30",
        Beijing time); "" inside office hours."""
        moment, config = self._clock(), self.config.for_city(city)
        return "" if config.in_office_hours(moment) else config.describe_next_opening(moment)

    # -- availability (presence: pools.py) ------------------------------------------------------

    async def availability(self, city: str = "") -> Availability:
        """Anyone online counts (a city's item falls to the provincial pool); the hours are the
        city's desk's."""
        online = len(await self.online_staff())
        if not self.config.for_city(city).in_office_hours(self._clock()):
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
        history: Sequence[Mapping[str, Any]] = (),
        place: UserPlace = UserPlace(),
    ) -> RequestOutcome:
        """Queue the user's conversation for a counsellor (idempotent while one is open, per
        kind: one chat and one callback item per user at most).

        With nobody available the conversation is still queued (supervisors see it as overdue)
        unless `kind="callback"`, which does not hold the conversation until a counsellor
        writes (callbacks.py). `history`: the conversation with the bot so far, kept with a new item.
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
            "city": place.city,
            "district": place.district,
            "city_source": place.source,
            "pool": CITY_POOL if place.city else PROVINCE_POOL,
        }
        result = await self._redis.eval(
            lua.ENQUEUE,
            3,
            self.active_key(openid) if kind == "chat" else self.callback_key(openid),
            self.key("seq"),
            self.key("queue"),
            self.item_key(""),
            json.dumps(fields, ensure_ascii=False),
            self._score(priority, now),
            "1",
        )
        item_id, created = str(result[0]), bool(int(result[1]))
        if created:
            await record_created(self.monthly, place.city)
            # the console hears about the new item first; its transcript follows
            await self._emit("queued", item_id)
            entry_text = f"进入人工队列：{REASON_LABELS.get(reason, reason)}"
            if note:
                entry_text += f"（{note}）"
            await self.add_transcript(item_id, "system", entry_text)
            await self._add_history(item_id, history)
            if first_message:
                await self.add_transcript(item_id, "user", first_message, author=openid)
            if place.city:
                await self.schedule_fallback(item_id)
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
            city=item.get("city", ""),
            pool=item.get("pool", PROVINCE_POOL),
            fallback_minutes=self.config.city_wait_minutes,
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
        if not item or item.get("status") not in ("queued", "claimed") or await self.live_expired(item):
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
            "city": item.get("city", ""),
            "district": item.get("district", ""),
            "pool": item.get("pool", PROVINCE_POOL),  # items made before city routing: the province's
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
        result = await self._redis.eval(
            lua.CLAIM, 3, self.item_key(item_id), self.key("queue"), self.key("claims"),
            item_id, username, repr(now),
        )
        code, holder = lua.decode_pair(result)
        if code != "ok":
            raise HandoffError(code, lua.ERRORS[code], holder)
        await self._redis.zadd(self.key("open-claimed"), {item_id: now})
        await self.add_transcript(item_id, "system", f"{username} 已接入", author=username)
        await self._emit("claimed", item_id)
        claimed = await self.get(item_id) or {}
        if lua.is_first_claim(result):
            await record_claimed(self.monthly, claimed)
        return claimed

    async def transfer(
        self, item_id: str, from_user: str, to_user: str, *, supervisor: bool = False, note: str = ""
    ) -> None:
        code, holder = lua.decode_pair(
            await self._redis.eval(
                lua.TRANSFER, 1, self.item_key(item_id),
                item_id, from_user, to_user, repr(self.now()), "1" if supervisor else "0",
            )
        )
        if code != "ok":
            raise HandoffError(code, lua.ERRORS[code], holder)
        text = f"{from_user} 转给 {to_user}" + (f"：{note}" if note else "")
        await self.add_transcript(item_id, "system", text, author=from_user)
        await self._emit("transferred", item_id)

    async def release(self, item_id: str, username: str, *, supervisor: bool = False) -> None:
        code, holder = lua.decode_pair(
            await self._redis.eval(
                lua.RELEASE, 2, self.item_key(item_id), self.key("queue"),
                item_id, username, "1" if supervisor else "0",
            )
        )
        if code != "ok":
            raise HandoffError(code, lua.ERRORS[code], holder)
        await self._redis.zrem(self.key("open-claimed"), item_id)
        await self._end_live(await self.get(item_id) or {})
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
            raise HandoffError("missing", lua.ERRORS["missing"])
        code, holder = lua.decode_pair(
            await self._redis.eval(
                lua.CLOSE, 4, self.item_key(item_id), self.key("queue"),
                self.active_key(item["openid"]), self.key("closed"),
                item_id, username, "1" if supervisor else "0", repr(self.now()), outcome,
            )
        )
        if code != "ok":
            raise HandoffError(code, lua.ERRORS[code], holder)
        await self._redis.zrem(self.key("open-claimed"), item_id)
        who = username or "用户"
        await self.add_transcript(item_id, "system", f"{who} 结束会话：{OUTCOMES[outcome]}", author=username)
        await self._emit("closed", item_id)
        if username and outcome in RATED_OUTCOMES:  # closed by staff after serving the user
            subject = Subject("handoff", item_id, item.get("city", ""), item.get("district", ""),
                              item.get("holder") or username)
            await schedule_rating_request(self._scheduler, item["openid"], subject, self._clock())
        closed = await self.get(item_id) or {}
        await record_closed(self.monthly, closed)
        return closed

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
