"""What keeps console logins from being a cheap denial of service or an account lock-out tool.

* `PasswordPool`: argon2 (~0.2 s of CPU per check) runs in a small thread pool, never on the
  gateway's event loop, which also answers WeChat. At most `max_pending` checks wait or run at
  once; beyond that `PasswordPoolBusy` is raised at once (the login answers 429).
* `LoginGuard.admit`: a per-client-address and a global limit per minute, checked before the form
  is even read, let alone a password hashed.
* `LoginGuard.begin`: the lockout. Each attempt is counted atomically in Redis *before* its
  password check, so parallel guesses each count. It is kept per account and client address
  (`console_login_max_failures`) and per account over all addresses (5x that), so one attacker
  cannot lock a colleague out from everywhere. A lock lasts `console_login_lock_s` from when it
  was set: attempts during a lock are refused without touching it, so they never extend it.
"""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from bot.settings import Settings

T = TypeVar("T")

ACCOUNT_FACTOR = 5  # attempts on one account from all addresses, as a multiple of the per-address limit
RATE_WINDOW_S = 60

# Fixed windows that start with their first hit. KEYS: per-address, global counter.
# ARGV: window seconds, per-address limit, global limit (0 = no limit). Returns 1 = admitted.
_ADMIT_LUA = """
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
for i = 1, 2 do
  if limits[i] > 0 then
    local n = redis.call('INCR', KEYS[i])
    if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
    if n > limits[i] then return 0 end
  end
end
return 1
"""

# KEYS: pair counter, pair lock, account counter, account lock.
# ARGV: counting window seconds, lock seconds, pair limit, account limit. Returns 1 = may try.
# The attempt that reaches a limit is still checked; it sets the lock for the ones after it.
_BEGIN_LUA = """
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
local limits = {[1] = tonumber(ARGV[3]), [3] = tonumber(ARGV[4])}
for _, i in ipairs({1, 3}) do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
  if n >= limits[i] then
    redis.call('SET', KEYS[i + 1], '1', 'EX', ARGV[2])
    redis.call('DEL', KEYS[i])
  end
end
return 1
"""


class PasswordPoolBusy(Exception):
    """Too many password checks already waiting: answer 429 rather than queue more."""


class PasswordPool:
    """A bounded thread pool for password hashing and verification."""

    def __init__(self, workers: int = 1, max_pending: int = 4) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="console-password")
        self._max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        return self._pending

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._pending >= self._max_pending:
                raise PasswordPoolBusy()
            self._pending += 1
        # released when the work itself ends (not when a cancelled caller stops waiting),
        # so abandoned requests cannot pile up work beyond the bound
        job = self._executor.submit(fn, *args)
        job.add_done_callback(self._release)
        return await asyncio.wrap_future(job)

    def _release(self, _job: "Future[Any]") -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class LoginGuard:
    """Redis-backed login rate limits and lockout (see the module docstring)."""

    def __init__(self, redis: Any, settings: Settings) -> None:
        self._redis = redis
        self._settings = settings
        self._admit = redis.register_script(_ADMIT_LUA)
        self._begin = redis.register_script(_BEGIN_LUA)

    @property
    def lock_s(self) -> int:
        return self._settings.console_login_lock_s

    def _key(self, *parts: str) -> str:
        return self._settings.key("console", "login", *parts)

    async def admit(self, ip: str) -> bool:
        """False when this address or everyone together made too many attempts this minute."""
        s = self._settings
        keys = [self._key("rate", "ip", ip or "-"), self._key("rate", "all")]
        args = [RATE_WINDOW_S, s.console_login_per_ip_per_min, s.console_login_global_per_min]
        return int(await self._admit(keys=keys, args=args)) == 1

    def _lock_keys(self, username: str, ip: str) -> list:
        return [
            self._key("fails", "pair", username, ip or "-"), self._key("lock", "pair", username, ip or "-"),
            self._key("fails", "account", username), self._key("lock", "account", username),
        ]

    async def begin(self, username: str, ip: str) -> bool:
        """Count one attempt; False when the account is locked for this address (no check then)."""
        s = self._settings
        limit = max(1, s.console_login_max_failures)
        args = [s.console_login_lock_s, s.console_login_lock_s, limit, limit * ACCOUNT_FACTOR]
        return int(await self._begin(keys=self._lock_keys(username, ip), args=args)) == 1

    async def succeeded(self, username: str, ip: str) -> None:
        """The right password: this address starts afresh on this account."""
        await self._redis.delete(*self._lock_keys(username, ip)[:2])
