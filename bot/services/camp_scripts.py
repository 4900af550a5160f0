"""The camp enrolment Lua scripts: enrolling and cancelling are ONE script each, so Redis runs
them whole (`EnrollmentStore` in `bot.services.camp` registers and runs them).

One enrolment per OpenID and per phone number in a cohort, never more enrolled applicants than
seats, a FIFO waitlist; a cancellation gives the freed seat to the head of the waitlist and, in
the same script, queues the promoted applicant's notice in the job scheduler
(`bot.jobs.scheduler`), so a promotion and its notice are written together or not at all.
"""
from __future__ import annotations

from bot.jobs.scheduler import LUA_JOB_FUNCTIONS

# The job kind the cancel script queues (the Lua below spells the same strings).
PROMOTED_KIND = "camp_promoted"


def promoted_job_id(cohort_id: str, code: str) -> str:
    """One notice per promoted enrolment: the id makes scheduling and sending idempotent."""
    return f"camp-promoted:{cohort_id}:{code}"


# KEYS: by_openid, by_phone, records, status, seats, waitlist
# ARGV: openid, phone, code, record_json, capacity
ENROLL_SCRIPT = """
local c = redis.call('HGET', KEYS[1], ARGV[1])
if c then return {'duplicate_openid', c, 0} end
c = redis.call('HGET', KEYS[2], ARGV[2])
if c then return {'duplicate_phone', c, 0} end
if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then return {'code_taken', '', 0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
local seats = tonumber(redis.call('GET', KEYS[5]) or '0')
if seats < tonumber(ARGV[5]) then
  redis.call('INCR', KEYS[5])
  redis.call('HSET', KEYS[4], ARGV[3], 'enrolled')
  return {'enrolled', ARGV[3], seats + 1}
end
local pos = redis.call('RPUSH', KEYS[6], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[3], 'waitlisted')
return {'waitlisted', ARGV[3], pos}
"""

# KEYS: by_openid, by_phone, records, status, seats, waitlist
# ARGV: openid, only_waitlisted, cohort_id, jobs due key, job key prefix, now_ts, now_iso,
#       job retention seconds
# Cancels the OpenID's enrolment; a freed seat goes to the head of the waitlist and the promoted
# applicant's notice is queued. With only_waitlisted = '1' (unfollow) an enrolled applicant keeps
# the seat but a notice not yet sent is cancelled (nothing is sent to someone who left).
CANCEL_SCRIPT = LUA_JOB_FUNCTIONS + """
local JDUE, JOBP, NOW, NOW_ISO, RETENTION = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local function notice_id(code) return 'camp-promoted:' .. ARGV[3] .. ':' .. code end
local code = redis.call('HGET', KEYS[1], ARGV[1])
if not code then return {'', ''} end
local rec = cjson.decode(redis.call('HGET', KEYS[3], code))
local st = redis.call('HGET', KEYS[4], code)
if st == 'enrolled' then zj_cancel(JDUE, JOBP .. notice_id(code), notice_id(code), NOW_ISO, RETENTION) end
if ARGV[2] == '1' and st ~= 'waitlisted' then return {'', ''} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], rec['phone'])
redis.call('HSET', KEYS[4], code, 'cancelled')
local promoted = ''
if st == 'enrolled' then
  local nxt = redis.call('LPOP', KEYS[6])
  if nxt then
    redis.call('HSET', KEYS[4], nxt, 'enrolled')
    promoted = nxt
    zj_schedule(JDUE, JOBP .. notice_id(nxt), notice_id(nxt), 'camp_promoted',
                cjson.encode({cohort = ARGV[3], code = nxt}), NOW, NOW_ISO)
  else
    redis.call('DECR', KEYS[5])
  end
else
  redis.call('LREM', KEYS[6], 1, code)
end
return {code, promoted}
"""
