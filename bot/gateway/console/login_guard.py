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
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Dict, TypeVar

from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("console:login",)

T = TypeVar("T")

ACCOUNT_FACTOR = 5  # attempts on one account from all addresses, as a multiple of the per-address limit
RATE_WINDOW_S = 60
MAX_REFUSED_REMEMBERED = 10000  # addresses refused from memory at once (see LoginGuard.admit)
PASSWORD_THREAD_NICE = 10

# Fixed windows that start with their first hit. KEYS: per-address, global counter.
# ARGV: window seconds, per-address limit, global limit (0 = no limit).
# Returns 0 when admitted, else the seconds until the exhausted window ends (at least 1).
_ADMIT_LUA = """
local limits = {tonumber(ARGV[2]), tonumber(ARGV[3])}
for i = 1, 2 do
  if limits[i] > 0 then
    local n = redis.call('INCR', KEYS[i])
    if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
    if n > limits[i] then return math.max(1, redis.call('TTL', KEYS[i])) end
  end
end
return 0
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


def _lower_thread_priority() -> None:
    """Run this worker thread at nice 10: on Linux each thread has its own nice value, so the
    event loop's thread (WeChat replies) gets the CPU first when both want it."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_THREAD_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: the bound still holds
        pass


class PasswordPoolBusy(Exception):
    """Too many password checks already waiting: answer 429 rather than queue more."""


class PasswordPool:
    """A bounded thread pool for password hashing and verification."""

    def __init__(self, workers: int = 1, max_pending: int = 4) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="console-password", initializer=_lower_thread_priority
        )
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
        self._refused_until: Dict[str, float] = {}  # address -> time.monotonic() its refusal ends

    @property
    def lock_s(self) -> int:
        return self._settings.console_login_lock_s

    def _key(self, *parts: str) -> str:
        return self._settings.key("console", "login", *parts)

    async def admit(self, ip: str) -> bool:
        """False when this address or everyone together made too many attempts this minute.

        Once Redis has refused an address, it is refused from memory until its window ends: a
        flood then costs no Redis round trip per request (other processes still count their own)."""
        now = time.monotonic()
        if self._refused_until.get(ip, 0.0) > now:
            return False
        s = self._settings
        keys = [self._key("rate", "ip", ip or "-"), self._key("rate", "all")]
        args = [RATE_WINDOW_S, s.console_login_per_ip_per_min, s.console_login_global_per_min]
        wait_s = int(await self._admit(keys=keys, args=args))
        if wait_s:
            self._remember_refusal(ip, now + wait_s)
        return wait_s == 0

    def _remember_refusal(self, ip: str, until: float) -> None:
        if len(self._refused_until) >= MAX_REFUSED_REMEMBERED:  # bounded: drop the expired ones
            now = time.monotonic()
            self._refused_until = {k: v for k, v in self._refused_until.items() if v > now}
        if len(self._refused_until) < MAX_REFUSED_REMEMBERED:
            self._refused_until[ip] = until

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
