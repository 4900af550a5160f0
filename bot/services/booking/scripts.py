"""The booking Lua scripts: every booking state change is ONE script, so Redis runs it whole.

Capacity can never be exceeded, a user never holds two seats in a slot, a request id never books
twice, and a cancellation promotes the first waiting user exactly once. The same script also
schedules (or cancels) the booking's reminder jobs and the promotion notice in the job scheduler
(`bot.jobs.scheduler`), so a booking and its reminders are written together or not at all.
`BookingService` (`bot.services.booking.service`) registers and runs them.

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

Key names are built inside the scripts from a prefix, so this targets a single Redis (not
Redis Cluster).
"""
from __future__ import annotations

from bot.jobs.scheduler import LUA_JOB_FUNCTIONS

# Job kinds the scripts schedule (the Lua below spells the same strings).
REMINDER_KIND = "booking_reminder"
PROMOTED_KIND = "booking_promoted"

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
BOOK_SCRIPT = _COMMON + r"""
local openid, slot_id, name, phone = ARGV[13], ARGV[14], ARGV[15], ARGV[16]
local req_key = P .. 'req:' .. openid
if ARGV[17] ~= '' then
  local prev = redis.call('HGET', req_key, ARGV[17])
  if prev then
    local again = cjson.decode(prev)
    again.replay = true  -- the first run was counted (monthly figures); a retry must not be
    return cjson.encode(again)
  end
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
CANCEL_SCRIPT = _COMMON + r"""
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
FILL_SCRIPT = _COMMON + r"""
local promoted, skipped = promote(ARGV[13])
return cjson.encode({status = 'ok', promoted = promoted, skipped = skipped})
"""

# ARGV: common 1-12, 13 openid, 14 slot_id, 15 name, 16 phone
JOIN_WAIT_SCRIPT = _COMMON + r"""
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
LEAVE_WAIT_SCRIPT = _COMMON + r"""
local removed = redis.call('ZREM', P .. 'wait:' .. ARGV[14], ARGV[13])
leave_wait(ARGV[13], ARGV[14])
return removed
"""

# ARGV: common 1-12, 13 openid. Unfollow: off every waitlist (name and phone go with the entry);
# the reminders and promotion notices of the user's future bookings are cancelled.
FORGET_SCRIPT = _COMMON + r"""
local openid = ARGV[13]
local slots = redis.call('SMEMBERS', WTG .. openid)
for _, slot_id in ipairs(slots) do leave_wait(openid, slot_id) end
local codes = redis.call('ZRANGEBYSCORE', ACT .. openid, '(' .. ts(NOW), '+inf')
for _, code in ipairs(codes) do cancel_notices(code) end
return cjson.encode({status = 'ok', waitlists = #slots, silenced = #codes})
"""

# ARGV: common 1-12, 13 code, 14 new status, 15 staff
MARK_SCRIPT = _COMMON + r"""
local rec_key = P .. 'rec:' .. ARGV[13]
local status = redis.call('HGET', rec_key, 'status')
if not status then return cjson.encode({status = 'not_found'}) end
if status ~= 'confirmed' and status ~= 'attended' and status ~= 'no_show' then
  return cjson.encode({status = 'not_active', booking_status = status})
end
redis.call('HSET', rec_key, 'status', ARGV[14], 'marked_at', NOW_ISO, 'marked_by', ARGV[15])
return cjson.encode({status = 'ok', previous = status, slot_id = redis.call('HGET', rec_key, 'slot_id')})
"""

# The owner corrects the phone of a booking that has not started ("手机号输错了 是…" right after it was made).
PHONE_SCRIPT = _COMMON + r"""
local rec_key = P .. 'rec:' .. ARGV[14]
local rec = redis.call('HMGET', rec_key, 'openid', 'status', 'phone')
if not rec[1] or rec[1] ~= ARGV[13] then return cjson.encode({status = 'not_found'}) end
if rec[2] ~= 'confirmed' then return cjson.encode({status = 'not_active'}) end
redis.call('HSET', rec_key, 'phone', ARGV[15], 'phone_changed_at', NOW_ISO, 'phone_before', rec[3] or '')
return cjson.encode({status = 'ok'})
"""
