"""The queue's state changes, each one atomic Lua script, so two counsellors can never both win."""
from __future__ import annotations

from typing import Any, Tuple

CLAIM = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'missing', ''} end
if st ~= 'queued' then return {'taken', redis.call('HGET', KEYS[1], 'holder') or ''} end
redis.call('HSET', KEYS[1], 'status', 'claimed', 'holder', ARGV[2], 'claimed_at', ARGV[3])
local first = '0'
if redis.call('HEXISTS', KEYS[1], 'first_claimed_at') == 0 then
  local created = tonumber(redis.call('HGET', KEYS[1], 'created_at'))
  redis.call('HSET', KEYS[1], 'first_claimed_at', ARGV[3], 'wait_s', tostring(tonumber(ARGV[3]) - created))
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  first = '1'
end
redis.call('ZREM', KEYS[2], ARGV[1])
return {'ok', ARGV[2], first}
"""

# ARGV: id, from (or '' for anyone), to, now, is_supervisor
TRANSFER = """
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return {'missing', ''} end
local holder = redis.call('HGET', KEYS[1], 'holder') or ''
if st ~= 'claimed' then return {'not_claimed', holder} end
if ARGV[5] ~= '1' and holder ~= ARGV[2] then return {'not_holder', holder} end
redis.call('HSET', KEYS[1], 'holder', ARGV[3], 'claimed_at', ARGV[4])
return {'ok', ARGV[3]}
"""

# ARGV: id, by, is_supervisor
RELEASE = """
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
CLOSE = """
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
ENQUEUE = """
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

# A callback item a counsellor answered holds the user's replies until `live_until` (renewed
# by each counsellor message), unless another open item already holds them.
# KEYS: active(openid), item. ARGV: id, live_until (epoch s), item-key-prefix
GO_LIVE = """
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then
  local st = redis.call('HGET', ARGV[3] .. current, 'status')
  if st == 'queued' or st == 'claimed' then return 'busy' end
end
if redis.call('HGET', KEYS[2], 'status') ~= 'claimed' then return 'not_claimed' end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'live_until', ARGV[2])
return 'ok'
"""

# KEYS: active(openid). ARGV: id — drop the pointer only if it is this item's
DROP_POINTER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
"""


# A city's queued item nobody of the city took in time joins the provincial pool (once).
# KEYS: item. ARGV: none
TO_PROVINCE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
if redis.call('HGET', KEYS[1], 'pool') ~= 'city' then return 0 end
redis.call('HSET', KEYS[1], 'pool', 'province')
return 1
"""


def is_first_claim(result: Any) -> bool:
    """The claim script's third value: '1' when this claim ended the item's first wait."""
    return len(result) > 2 and str(result[2]) == "1"


def decode_pair(result: Any) -> Tuple[str, str]:
    return str(result[0]), str(result[1] or "")


ERRORS = {
    "missing": "该会话不存在",
    "taken": "该会话已被其他职业指导师接入",
    "not_claimed": "该会话当前没有人接入",
    "not_holder": "该会话由其他职业指导师负责",
    "closed": "该会话已结束",
}
