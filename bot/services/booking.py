"""Workshop booking: book, list, cancel, waitlist, reminders and the staff side.

A plain domain module (no Rasa, no HTTP). Every state change is ONE Lua script, so Redis runs
it without interleaving: capacity can never be exceeded, a user never holds two seats in a
slot, a request id never books twice, and a cancellation promotes the first waiting user
exactly once. The same script also schedules (or cancels) the booking's reminder jobs and the
promotion notice in the job scheduler (`bot.jobs.scheduler`), so a booking and its reminders
are written together or not at all. Notices are *sent* later by the scheduler's handlers
(registered with `register_jobs`), which call the `Notifier` with the job id as `dedupe_key`.

Redis layout (all under `settings.key(...)`):
    booking:rec:<code>             HASH  code, openid, slot_id, name, phone, status, source,
                                         created_at, slot_start_ts, request_id, cancelled_at …
                                         status: confirmed | cancelled | attended | no_show
    booking:seats:<slot>           HASH  openid -> code of every seat taken (HLEN = seats used)
    booking:slotlog:<slot>         ZSET  code -> created (every booking of the slot, for staff)
    booking:wait:<slot>            ZSET  openid -> arrival number (the waitlist, FIFO)
    booking:waitinfo:<slot>        HASH  openid -> {"name","phone","joined_at"} (JSON)
    booking:req:<openid>           HASH  request id -> JSON result (idempotency, 7 days after the last)
    booking:seq / booking:waitseq  STR   counters (booking codes, waitlist order)
    booking_active:<openid>        ZSET  code -> slot start (confirmed, not yet started)
    booking_history:<openid>       ZSET  code -> created (every booking of the user)
    booking_waiting:<openid>       SET   slot ids the user is waiting for
The per-user families (and `booking:req`) are registered as personal keys (deleted on unsubscribe). The
booking records themselves are the public service's attendance record and are kept.

Durability — bookings are a public-service record. An acknowledged booking must survive a
crash of Redis, so the Redis this project uses MUST run with the append-only file:

    appendonly yes
    appendfsync always      # no acknowledged write is ever lost (what the tests verify)
    # appendfsync everysec  # acceptable trade-off: at most ~1 s of writes lost on power loss

(`redis-server --appendonly yes --appendfsync always`, or `CONFIG SET appendonly yes` +
`CONFIG REWRITE`). RDB snapshots alone are NOT enough. A managed/external Redis must also
have persistence enabled and must not use an eviction policy other than `noeviction`
(`maxmemory-policy noeviction`), or bookings could be evicted. `durability_warnings()` checks
a live server and is meant for the health check.

Key names are built inside the scripts from a prefix, so this targets a single Redis (not
Redis Cluster).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import redis.asyncio as aioredis

from bot.clock import Clock, system_clock
from bot.jobs.scheduler import LUA_JOB_FUNCTIONS, Job, JobScheduler
from bot.services.csv_safety import neutralise_formula
from bot.services.notify import Notifier, TemplateMessage
from bot.services.profiles import register_personal_key
from bot.services.workshops import Slot, Workshop, WorkshopCatalogue
from bot.settings import Settings

for _family in ("booking_active", "booking_history", "booking_waiting", "booking:req"):
    register_personal_key(_family)

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_RE = re.compile(r"(?<![0-9A-Za-z])([2-9A-HJ-NP-Za-hj-np-z]{6})(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")

REMINDER_KIND = "booking_reminder"
PROMOTED_KIND = "booking_promoted"
REMINDER_TEMPLATE_ID = "booking_reminder"  # mapped to a real template id by PushService config
PROMOTED_TEMPLATE_ID = "booking_promoted"

# --------------------------------------------------------------------------------------
# Lua
# --------------------------------------------------------------------------------------

# ARGV layout shared by every booking script:
#  1 P (booking prefix "…:booking:")   2 active prefix   3 history prefix   4 waiting prefix
#  5 slot hash prefix ("…:ws:slot:")   6 jobs due key    7 jobs job-hash prefix
#  8 now_ts                            9 now_iso         10 max_active
# 11 reminder offsets "day:86400,hour:3600"             12 job retention seconds
_COMMON = LUA_JOB_FUNCTIONS + r"""
local P, ACT, HIS, WTG = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local SLOTP, JDUE, JOBP = ARGV[5], ARGV[6], ARGV[7]
local NOW, NOW_ISO, MAX_ACTIVE = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
local OFFSETS, RETENTION = ARGV[11], ARGV[12]
local ALPHA = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'

local function new_code()
  -- An affine bijection of a counter modulo 2^30: unique, non-sequential looking codes.
  local n = redis.call('INCR', P .. 'seq')
  local x = (n * 387420489 + 914237) % 1073741824
  local out = ''
  for _ = 1, 6 do
    local d = x % 32
    out = string.sub(ALPHA, d + 1, d + 1) .. out
    x = (x - d) / 32
  end
  return out
end

local function ts(x) return string.format('%.3f', x) end

local function schedule_notices(code, start_ts)
  for name, offset in string.gmatch(OFFSETS, '(%w+):(%d+)') do
    local due = start_ts - tonumber(offset)
    if due > NOW then
      local id = 'booking-remind-' .. name .. ':' .. code
      zj_schedule(JDUE, JOBP .. id, id, 'booking_reminder',
                  cjson.encode({code = code, which = name}), ts(due), NOW_ISO)
    end
  end
end

local function cancel_notices(code)
  for name, _ in string.gmatch(OFFSETS, '(%w+):(%d+)') do
    local id = 'booking-remind-' .. name .. ':' .. code
    zj_cancel(JDUE, JOBP .. id, id, NOW_ISO, RETENTION)
  end
  local pid = 'booking-promoted:' .. code
  zj_cancel(JDUE, JOBP .. pid, pid, NOW_ISO, RETENTION)
end

local function active_count(openid)
  redis.call('ZREMRANGEBYSCORE', ACT .. openid, '-inf', ts(NOW))
  return redis.call('ZCARD', ACT .. openid)
end

local function create_booking(openid, slot_id, start_ts, name, phone, source, request_id)
  local code = new_code()
  redis.call('HSET', P .. 'rec:' .. code, 'code', code, 'openid', openid, 'slot_id', slot_id,
             'name', name, 'phone', phone, 'status', 'confirmed', 'source', source,
             'created_at', NOW_ISO, 'slot_start_ts', ts(start_ts), 'request_id', request_id)
  redis.call('HSET', P .. 'seats:' .. slot_id, openid, code)
  redis.call('ZADD', P .. 'slotlog:' .. slot_id, ts(NOW), code)
  redis.call('ZADD', ACT .. openid, ts(start_ts), code)
  redis.call('ZADD', HIS .. openid, ts(NOW), code)
  schedule_notices(code, start_ts)
  return code
end

local function leave_wait(openid, slot_id)
  redis.call('ZREM', P .. 'wait:' .. slot_id, openid)
  redis.call('HDEL', P .. 'waitinfo:' .. slot_id, openid)
  redis.call('SREM', WTG .. openid, slot_id)
end

-- Fill free seats of a slot from its waitlist, first come first served. Users who meanwhile
-- hold a seat or reached their booking limit are skipped (and leave the list).
local function promote(slot_id)
  local promoted, skipped = {}, {}
  local slot = redis.call('HMGET', SLOTP .. slot_id, 'capacity', 'start_ts', 'status')
  if not slot[1] or slot[3] ~= 'open' or tonumber(slot[2]) <= NOW then
    return promoted, skipped
  end
  local capacity, start_ts = tonumber(slot[1]), tonumber(slot[2])
  while redis.call('HLEN', P .. 'seats:' .. slot_id) < capacity do
    local first = redis.call('ZRANGE', P .. 'wait:' .. slot_id, 0, 0)[1]
    if not first then break end
    local info = redis.call('HGET', P .. 'waitinfo:' .. slot_id, first)
    leave_wait(first, slot_id)
    if redis.call('HEXISTS', P .. 'seats:' .. slot_id, first) == 1 then
      table.insert(skipped, {first, 'duplicate'})
    elseif active_count(first) >= MAX_ACTIVE then
      table.insert(skipped, {first, 'limit'})
    else
      local data = info and cjson.decode(info) or {}
      local code = create_booking(first, slot_id, start_ts, data.name or '', data.phone or '',
                                  'waitlist', '')
      local pid = 'booking-promoted:' .. code
      zj_schedule(JDUE, JOBP .. pid, pid, 'booking_promoted', cjson.encode({code = code}),
                  ts(NOW), NOW_ISO)
      table.insert(promoted, {first, code})
    end
  end
  return promoted, skipped
end
"""

# KEYS: none. ARGV: common 1-12, 13 openid, 14 slot_id, 15 name, 16 phone, 17 request_id,
# 18 request ttl seconds
_BOOK = _COMMON + r"""
local openid, slot_id, name, phone = ARGV[13], ARGV[14], ARGV[15], ARGV[16]
local req_key = P .. 'req:' .. openid
if ARGV[17] ~= '' then
  local prev = redis.call('HGET', req_key, ARGV[17])
  if prev then return prev end
end
local function remember(result)
  local text = cjson.encode(result)
  if ARGV[17] ~= '' then
    redis.call('HSET', req_key, ARGV[17], text)
    redis.call('EXPIRE', req_key, tonumber(ARGV[18]))
  end
  return text
end
local slot = redis.call('HMGET', SLOTP .. slot_id, 'capacity', 'start_ts', 'status', 'workshop_id')
if not slot[4] then return cjson.encode({status = 'no_slot'}) end
if slot[3] ~= 'open' or tonumber(slot[2]) <= NOW then return cjson.encode({status = 'closed'}) end
local existing = redis.call('HGET', P .. 'seats:' .. slot_id, openid)
if existing then return remember({status = 'duplicate', code = existing}) end
local n = active_count(openid)
if n >= MAX_ACTIVE then return cjson.encode({status = 'limit', active = n}) end
if redis.call('HLEN', P .. 'seats:' .. slot_id) >= tonumber(slot[1]) then
  local rank = redis.call('ZRANK', P .. 'wait:' .. slot_id, openid)
  return cjson.encode({status = 'full', waiting = rank and (rank + 1) or 0})
end
local code = create_booking(openid, slot_id, tonumber(slot[2]), name, phone, 'direct', ARGV[17])
leave_wait(openid, slot_id)
return remember({status = 'confirmed', code = code})
"""

# ARGV: common 1-12, 13 openid ('' = staff, any owner), 14 code, 15 cutoff seconds, 16 by
_CANCEL = _COMMON + r"""
local openid, code = ARGV[13], ARGV[14]
local rec_key = P .. 'rec:' .. code
local rec = redis.call('HMGET', rec_key, 'openid', 'slot_id', 'status')
if not rec[1] or (openid ~= '' and rec[1] ~= openid) then
  return cjson.encode({status = 'not_found'})
end
if rec[3] ~= 'confirmed' then return cjson.encode({status = 'not_active', booking_status = rec[3]}) end
local slot_id = rec[2]
local start_ts = tonumber(redis.call('HGET', SLOTP .. slot_id, 'start_ts') or '0')
if openid ~= '' and start_ts - NOW < tonumber(ARGV[15]) then
  return cjson.encode({status = 'too_late', slot_id = slot_id})
end
redis.call('HSET', rec_key, 'status', 'cancelled', 'cancelled_at', NOW_ISO, 'cancelled_by', ARGV[16])
if redis.call('HGET', P .. 'seats:' .. slot_id, rec[1]) == code then
  redis.call('HDEL', P .. 'seats:' .. slot_id, rec[1])
end
redis.call('ZREM', ACT .. rec[1], code)
cancel_notices(code)
local promoted, skipped = promote(slot_id)
return cjson.encode({status = 'cancelled', slot_id = slot_id, promoted = promoted, skipped = skipped})
"""

# ARGV: common 1-12, 13 slot_id
_FILL = _COMMON + r"""
local promoted, skipped = promote(ARGV[13])
return cjson.encode({status = 'ok', promoted = promoted, skipped = skipped})
"""

# ARGV: common 1-12, 13 openid, 14 slot_id, 15 name, 16 phone
_JOIN_WAIT = _COMMON + r"""
local openid, slot_id = ARGV[13], ARGV[14]
local slot = redis.call('HMGET', SLOTP .. slot_id, 'capacity', 'start_ts', 'status', 'workshop_id')
if not slot[4] then return cjson.encode({status = 'no_slot'}) end
if slot[3] ~= 'open' or tonumber(slot[2]) <= NOW then return cjson.encode({status = 'closed'}) end
local existing = redis.call('HGET', P .. 'seats:' .. slot_id, openid)
if existing then return cjson.encode({status = 'duplicate', code = existing}) end
local wait_key = P .. 'wait:' .. slot_id
local rank = redis.call('ZRANK', wait_key, openid)
if rank then return cjson.encode({status = 'waiting', position = rank + 1, already = true}) end
if redis.call('HLEN', P .. 'seats:' .. slot_id) < tonumber(slot[1])
   and redis.call('ZCARD', wait_key) == 0 then
  return cjson.encode({status = 'available'})
end
redis.call('ZADD', wait_key, redis.call('INCR', P .. 'waitseq'), openid)
redis.call('HSET', P .. 'waitinfo:' .. slot_id, openid,
           cjson.encode({name = ARGV[15], phone = ARGV[16], joined_at = NOW_ISO}))
redis.call('SADD', WTG .. openid, slot_id)
-- A seat may have been freed with nobody waiting: fill it right away.
local promoted = promote(slot_id)
for _, p in ipairs(promoted) do
  if p[1] == openid then return cjson.encode({status = 'confirmed', code = p[2]}) end
end
return cjson.encode({status = 'waiting', position = redis.call('ZRANK', wait_key, openid) + 1})
"""

# ARGV: common 1-12, 13 openid, 14 slot_id
_LEAVE_WAIT = _COMMON + r"""
local removed = redis.call('ZREM', P .. 'wait:' .. ARGV[14], ARGV[13])
leave_wait(ARGV[13], ARGV[14])
return removed
"""

# ARGV: common 1-12, 13 openid. Unfollow: off every waitlist (name and phone go with the entry);
# the reminders and promotion notices of the user's future bookings are cancelled.
_FORGET = _COMMON + r"""
local openid = ARGV[13]
local slots = redis.call('SMEMBERS', WTG .. openid)
for _, slot_id in ipairs(slots) do leave_wait(openid, slot_id) end
local codes = redis.call('ZRANGEBYSCORE', ACT .. openid, '(' .. ts(NOW), '+inf')
for _, code in ipairs(codes) do cancel_notices(code) end
return cjson.encode({status = 'ok', waitlists = #slots, silenced = #codes})
"""

# ARGV: common 1-12, 13 code, 14 new status, 15 staff
_MARK = _COMMON + r"""
local rec_key = P .. 'rec:' .. ARGV[13]
local status = redis.call('HGET', rec_key, 'status')
if not status then return cjson.encode({status = 'not_found'}) end
if status ~= 'confirmed' and status ~= 'attended' and status ~= 'no_show' then
  return cjson.encode({status = 'not_active', booking_status = status})
end
redis.call('HSET', rec_key, 'status', ARGV[14], 'marked_at', NOW_ISO, 'marked_by', ARGV[15])
return cjson.encode({status = 'ok'})
"""


# --------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    code: str
    openid: str
    slot_id: str
    name: str
    phone: str
    status: str
    source: str
    created_at: str
    cancelled_at: str = ""

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "Booking":
        return cls(**{k: data.get(k, "") for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class BookingResult:
    """Outcome of `book` / `join_waitlist`.

    status: confirmed | duplicate (already booked: `code` is the existing booking) | full
    (offer the waitlist; `waiting` > 0 if already on it) | limit (too many active bookings) |
    closed (started/cancelled slot) | no_slot | waiting (on the waitlist at `position`) |
    available (a seat is free: book instead of waiting)
    """

    status: str
    code: str = ""
    waiting: int = 0
    position: int = 0
    active: int = 0

    @property
    def booked(self) -> bool:
        return self.status in ("confirmed", "duplicate")


@dataclass(frozen=True)
class CancelResult:
    """status: cancelled | not_found | not_active | too_late."""

    status: str
    slot_id: str = ""
    promoted: Tuple[Tuple[str, str], ...] = ()  # (openid, code) of users given the seat


@dataclass(frozen=True)
class BookingView:
    """A booking with its slot and workshop, for replies and the console."""

    booking: Booking
    slot: Optional[Slot]
    workshop: Optional[Workshop]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else phone


def normalise_phone(text: str) -> Optional[str]:
    """A mainland mobile number from user text ("138 0013 8000", "+86-13800138000")."""
    digits = re.sub(r"[\s\-()（）]", "", str(text or ""))
    digits = re.sub(r"^(\+?86)", "", digits)
    return digits if PHONE_RE.match(digits) else None


def find_phone(text: str) -> Optional[str]:
    """A mobile number anywhere in user text ("我的手机号是138-0013-8000")."""
    compact = re.sub(r"[\s\-()（）]", "", str(text or ""))
    match = re.search(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)", compact)
    return match.group(1) if match else None


def find_codes(text: str) -> List[str]:
    """Booking-code candidates in user text (upper-cased); callers match them against the
    user's own bookings, so an English word that looks like a code does no harm."""
    return [m.group(1).upper() for m in CODE_RE.finditer(str(text or ""))]


STATUS_LABELS = {
    "confirmed": "已预约",
    "cancelled": "已取消",
    "attended": "已到场",
    "no_show": "未到场",
}


# --------------------------------------------------------------------------------------
# Service
# --------------------------------------------------------------------------------------


class BookingService:
    """Bookings for workshop slots. Construct one per process; it is cheap."""

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        *,
        catalogue: Optional[WorkshopCatalogue] = None,
        scheduler: Optional[JobScheduler] = None,
        notifier: Optional[Notifier] = None,
        clock: Clock = system_clock,
        max_active: int = 3,
        cancel_cutoff: timedelta = timedelta(hours=2),
        reminder_offsets: Sequence[Tuple[str, timedelta]] = (
            ("day", timedelta(days=1)),
            ("hour", timedelta(hours=1)),
        ),
        request_ttl: timedelta = timedelta(days=7),
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self.catalogue = catalogue or WorkshopCatalogue(redis, settings, clock)
        self.scheduler = scheduler or JobScheduler(redis, settings)
        self.notifier = notifier
        self.max_active = max_active
        self.cancel_cutoff = cancel_cutoff
        self._offsets = ",".join(f"{name}:{int(delta.total_seconds())}" for name, delta in reminder_offsets)
        self._request_ttl_s = int(request_ttl.total_seconds())
        self._book = redis.register_script(_BOOK)
        self._cancel = redis.register_script(_CANCEL)
        self._fill = redis.register_script(_FILL)
        self._join = redis.register_script(_JOIN_WAIT)
        self._leave = redis.register_script(_LEAVE_WAIT)
        self._mark = redis.register_script(_MARK)
        self._forget = redis.register_script(_FORGET)

    # ---- keys ----------------------------------------------------------------------------
    def _k(self, *parts: str) -> str:
        return self._settings.key("booking", *parts)

    def record_key(self, code: str) -> str:
        return self._k("rec", code)

    def seats_key(self, slot_id: str) -> str:
        return self._k("seats", slot_id)

    def _common(self) -> List[str]:
        now = self._clock()
        return [
            self._k(""),
            self._settings.key("booking_active", ""),
            self._settings.key("booking_history", ""),
            self._settings.key("booking_waiting", ""),
            self.catalogue.slot_key(""),
            self.scheduler.due_key,
            self.scheduler.job_key(""),
            repr(now.timestamp()),
            now.isoformat(),
            str(self.max_active),
            self._offsets,
            str(self.scheduler.retention_s),
        ]

    async def _run(self, script, *extra: Any) -> Dict[str, Any]:
        raw = await script(keys=[], args=[*self._common(), *extra])
        data = json.loads(raw)
        # cjson encodes an empty Lua table as {}: normalise list-valued fields.
        for name in ("promoted", "skipped"):
            if isinstance(data.get(name), dict):
                data[name] = []
        return data

    # ---- user side -----------------------------------------------------------------------
    async def book(
        self, openid: str, slot_id: str, name: str, phone: str, request_id: str = ""
    ) -> BookingResult:
        """Book a seat. Idempotent by `request_id` (same result, same code, for retries)."""
        data = await self._run(self._book, openid, slot_id, name, phone, request_id, self._request_ttl_s)
        return BookingResult(
            status=data["status"],
            code=data.get("code", ""),
            waiting=int(data.get("waiting") or 0),
            active=int(data.get("active") or 0),
        )

    async def join_waitlist(self, openid: str, slot_id: str, name: str, phone: str) -> BookingResult:
        data = await self._run(self._join, openid, slot_id, name, phone)
        return BookingResult(
            status=data["status"], code=data.get("code", ""), position=int(data.get("position") or 0)
        )

    async def leave_waitlist(self, openid: str, slot_id: str) -> bool:
        return bool(await self._leave(keys=[], args=[*self._common(), openid, slot_id]))

    async def forget_user(self, openid: str) -> Dict[str, Any]:
        """On unfollow, before the per-user keys go: leave every waitlist and cancel the notices
        of future bookings. The bookings stay (the organisers' record, README "Personal data")."""
        return await self._run(self._forget, openid)

    async def cancel(self, openid: str, code: str, *, by: str = "user") -> CancelResult:
        """Cancel the user's booking (refused within `cancel_cutoff` of the start); the freed
        seat goes to the first waiting user in the same script, and their notice is queued."""
        data = await self._run(
            self._cancel, openid, code.upper(), int(self.cancel_cutoff.total_seconds()), by
        )
        return await self._after_change(data)

    async def _after_change(self, data: Dict[str, Any]) -> CancelResult:
        promoted = tuple((p[0], p[1]) for p in data.get("promoted") or [])
        # Send promotion notices now when this process can; otherwise the job runner will.
        if self.notifier is not None:
            for _, code in promoted:
                await self.scheduler.run_job(f"booking-promoted:{code}", self._clock())
        return CancelResult(status=data["status"], slot_id=data.get("slot_id", ""), promoted=promoted)

    async def get(self, code: str) -> Optional[Booking]:
        data = await self._redis.hgetall(self.record_key(code.upper()))
        return Booking.from_hash(data) if data else None

    async def _views(self, codes: Sequence[str]) -> List[BookingView]:
        bookings = [b for b in [await self.get(c) for c in codes] if b]
        slots = await self.catalogue.get_slots(sorted({b.slot_id for b in bookings}))
        views = []
        for booking in bookings:
            slot = slots.get(booking.slot_id)
            workshop = await self.catalogue.get_workshop(slot.workshop_id) if slot else None
            views.append(BookingView(booking, slot, workshop))
        return views

    async def my_bookings(self, openid: str) -> List[BookingView]:
        """The user's confirmed bookings that have not started yet, soonest first."""
        now = self._clock().timestamp()
        codes = await self._redis.zrangebyscore(
            self._settings.key("booking_active", openid), f"({now}", "+inf"
        )
        views = await self._views(codes)
        return [v for v in views if v.booking.status == "confirmed"]

    async def history(self, openid: str) -> List[BookingView]:
        codes = await self._redis.zrevrange(self._settings.key("booking_history", openid), 0, 49)
        return await self._views(codes)

    async def my_waitlists(self, openid: str) -> List[Tuple[Slot, int]]:
        """(slot, position) for each waitlist the user is on."""
        slot_ids = sorted(await self._redis.smembers(self._settings.key("booking_waiting", openid)))
        slots = await self.catalogue.get_slots(slot_ids)
        found = []
        for slot_id in slot_ids:
            rank = await self._redis.zrank(self._k("wait", slot_id), openid)
            if rank is not None and slot_id in slots:
                found.append((slots[slot_id], rank + 1))
        return found

    async def seats_taken(self, slot_id: str) -> int:
        return await self._redis.hlen(self.seats_key(slot_id))

    async def open_slots(
        self,
        topic: Optional[str] = None,
        start: Optional[datetime] = None,
        end: Optional[datetime] = None,
        city: Optional[str] = None,
        limit: int = 5,
        include_full: bool = False,
    ) -> List[Tuple[Slot, Workshop, int]]:
        """(slot, workshop, seats left) for bookable slots, soonest first."""
        candidates = await self.catalogue.find_slots(topic, start, end, city, limit=200)
        if not candidates:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for slot, _ in candidates:
                pipe.hlen(self.seats_key(slot.id))
            taken = await pipe.execute()
        found = []
        for (slot, workshop), used in zip(candidates, taken):
            left = max(slot.capacity - int(used), 0)
            if left > 0 or include_full:
                found.append((slot, workshop, left))
            if len(found) >= limit:
                break
        return found

    # ---- staff side ----------------------------------------------------------------------
    async def slot_bookings(self, slot_id: str) -> List[Booking]:
        """Every booking ever made for the slot (all statuses), in booking order."""
        codes = await self._redis.zrange(self._k("slotlog", slot_id), 0, -1)
        return [b for b in [await self.get(c) for c in codes] if b]

    async def waitlist(self, slot_id: str) -> List[str]:
        return await self._redis.zrange(self._k("wait", slot_id), 0, -1)

    async def mark_attendance(self, code: str, attended: bool, staff: str = "") -> bool:
        """Mark a booking attended / no-show (a staff correction may flip it back)."""
        data = await self._run(self._mark, code.upper(), "attended" if attended else "no_show", staff)
        return data["status"] == "ok"

    async def staff_cancel(self, code: str, staff: str = "staff") -> CancelResult:
        """Cancel on the user's behalf (no cut-off); the waitlist is promoted as usual."""
        data = await self._run(self._cancel, "", code.upper(), 0, f"staff:{staff}")
        return await self._after_change(data)

    async def update_slot(self, slot: Slot) -> CancelResult:
        """Staff add/edit a slot; extra capacity is filled from the waitlist straight away."""
        await self.catalogue.upsert_slot(slot)
        data = await self._run(self._fill, slot.id)
        return await self._after_change(data)

    async def export_csv(self, slot_ids: Sequence[str]) -> bytes:
        """Bookings of the given slots as CSV, UTF-8 with BOM (Excel opens it as Chinese)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["预约码", "场次编号", "工作坊", "主题", "时间", "地点", "姓名", "手机号", "状态", "来源", "预约时间", "取消时间"]
        )
        slots = await self.catalogue.get_slots(list(slot_ids))
        for slot_id in slot_ids:
            slot = slots.get(slot_id)
            workshop = await self.catalogue.get_workshop(slot.workshop_id) if slot else None
            for booking in await self.slot_bookings(slot_id):
                writer.writerow(
                    [
                        neutralise_formula(v)
                        for v in (
                            booking.code,
                            slot_id,
                            workshop.title if workshop else "",
                            workshop.topic if workshop else "",
                            slot.label() if slot else "",
                            workshop.where if workshop else "",
                            booking.name,
                            booking.phone,
                            STATUS_LABELS.get(booking.status, booking.status),
                            "候补转正" if booking.source == "waitlist" else "直接预约",
                            booking.created_at,
                            booking.cancelled_at,
                        )
                    ]
                )
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    # ---- notices (run by the job scheduler) --------------------------------------------------
    def register_jobs(self, scheduler: Optional[JobScheduler] = None) -> None:
        """Register the reminder and promotion handlers (needs a notifier)."""
        if self.notifier is None:
            raise RuntimeError("BookingService.register_jobs needs a notifier")
        target = scheduler or self.scheduler
        # Idempotent: the Notifier dedupes by job id, so a re-run after a crash cannot double-send.
        target.register(REMINDER_KIND, self._send_reminder, idempotent=True)
        target.register(PROMOTED_KIND, self._send_promotion, idempotent=True)

    async def _view(self, code: str) -> Optional[BookingView]:
        views = await self._views([code])
        return views[0] if views else None

    async def _send_reminder(self, job: Job) -> None:
        view = await self._view(job.payload["code"])
        if view is None or view.booking.status != "confirmed" or not view.slot or not view.workshop:
            return  # cancelled meanwhile (normally the job is cancelled with it)
        when = "明天" if job.payload.get("which") == "day" else "1小时后"
        text = (
            f"【预约提醒】您预约的“{view.workshop.title}”将于{when}开始：\n"
            f"时间：{view.slot.label()}\n地点：{view.workshop.where}\n"
            f"预约码：{view.booking.code}\n如不能参加，请回复“取消预约”把名额留给其他人。"
        )
        template = TemplateMessage(
            REMINDER_TEMPLATE_ID,
            {"title": view.workshop.title, "time": view.slot.label(), "place": view.workshop.where,
             "code": view.booking.code},
        )
        await self.notifier.notify(  # type: ignore[union-attr]
            view.booking.openid, text, kind="reminder", template=template, dedupe_key=job.id
        )

    async def _send_promotion(self, job: Job) -> None:
        view = await self._view(job.payload["code"])
        if view is None or view.booking.status != "confirmed" or not view.slot or not view.workshop:
            return
        text = (
            f"【候补成功】有人取消了预约，您已自动补上“{view.workshop.title}”：\n"
            f"时间：{view.slot.label()}\n地点：{view.workshop.where}\n"
            f"预约码：{view.booking.code}\n如不能参加，请回复“取消预约”。"
        )
        template = TemplateMessage(
            PROMOTED_TEMPLATE_ID,
            {"title": view.workshop.title, "time": view.slot.label(), "code": view.booking.code},
        )
        await self.notifier.notify(  # type: ignore[union-attr]
            view.booking.openid, text, kind="booking_promoted", template=template, dedupe_key=job.id
        )


async def durability_warnings(redis: aioredis.Redis) -> List[str]:
    """What is wrong with this Redis for keeping bookings (empty list = fine)."""
    try:
        config = {}
        for name in ("appendonly", "appendfsync", "maxmemory-policy"):
            config.update(await redis.config_get(name))
    except Exception as exc:  # managed Redis may forbid CONFIG
        return [f"cannot read Redis config ({exc}); make sure AOF persistence is on"]
    warnings = []
    if config.get("appendonly") != "yes":
        warnings.append("appendonly is not 'yes': bookings can be lost if Redis crashes")
    if config.get("appendfsync") not in ("always", "everysec"):
        warnings.append(f"appendfsync is {config.get('appendfsync')!r}: use 'always' or 'everysec'")
    policy = config.get("maxmemory-policy")
    if policy and policy != "noeviction":
        warnings.append(f"maxmemory-policy is {policy!r}: use 'noeviction' so records are never evicted")
    return warnings
