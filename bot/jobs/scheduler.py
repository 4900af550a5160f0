"""A small Redis-backed job scheduler: durable, idempotent, and safe with several runners.

Features (booking reminders, camp pushes, campaigns …) schedule a job for a moment in the
future and register a handler for its `kind`; a runner loop started inside the gateway process
(`run_forever`) executes due jobs. All state lives in Redis, so jobs survive restarts of every
process (with a durable Redis: see `bot.services.booking.durability` for the AOF settings).

Redis layout (all under `settings.key("jobs", ...)`):
    jobs:due              ZSET  job id -> due time (epoch seconds) of every *pending* job
    jobs:running          ZSET  job id -> lease expiry (epoch seconds) of every *claimed* job
    jobs:job:<id>         HASH  id, kind, payload (JSON), due_at (ISO), due_ts, state, attempts,
                                created_at, claimed_at, runner, finished_at, error

States: pending -> running -> done | pending (retry after an error) | failed; pending -> cancelled;
running -> lost (the runner died holding it and the kind is not idempotent).

Guarantees:
- `schedule()` is idempotent by job id: a second call with the same id changes nothing (unless
  `replace=True` and the job is still pending), so retried requests cannot double-schedule.
- Claiming is one Lua script that ZREMs the id from `jobs:due`: exactly one runner wins a job,
  however many runners or processes poll at once, and a finished job is never re-queued.
- A job whose handler *raises* is retried with backoff up to `max_attempts` (the handler ran
  but reported failure, so handlers that talk to users pass `job.id` as the Notifier's
  `dedupe_key`). A job held by a runner that died (lease expired) is re-queued only for kinds
  registered `idempotent=True`; otherwise it is marked `lost` and never run twice.
- Finished job hashes are kept for `retention` (default 90 days) so that late duplicate
  `schedule()` calls stay no-ops.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional

import redis.asyncio as aioredis

from bot.clock import SHANGHAI, Clock, system_clock
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("jobs",)

logger = logging.getLogger(__name__)

Handler = Callable[["Job"], Awaitable[None]]

# Lua functions other features' scripts may prepend to schedule/cancel jobs atomically with their
# own writes (e.g. a booking and its reminders in one script). Arguments are strings; `job_key`
# is `JobScheduler.job_key(id)`, `due_key` is `JobScheduler.due_key`.
LUA_JOB_FUNCTIONS = """
local function zj_schedule(due_key, job_key, id, kind, payload, due_ts, created_iso)
  if redis.call('EXISTS', job_key) == 1 then return 0 end
  redis.call('HSET', job_key, 'id', id, 'kind', kind, 'payload', payload, 'due_ts', due_ts,
             'state', 'pending', 'attempts', 0, 'created_at', created_iso)
  redis.call('ZADD', due_key, due_ts, id)
  return 1
end
local function zj_cancel(due_key, job_key, id, now_iso, retention)
  if redis.call('HGET', job_key, 'state') ~= 'pending' then return 0 end
  redis.call('ZREM', due_key, id)
  redis.call('HSET', job_key, 'state', 'cancelled', 'finished_at', now_iso)
  redis.call('EXPIRE', job_key, tonumber(retention))
  return 1
end
"""

# KEYS: job hash, due zset. ARGV: id, kind, payload, due_ts, due_iso, created_iso, replace
_SCHEDULE = """
local state = redis.call('HGET', KEYS[1], 'state')
if state then
  if ARGV[7] == '1' and state == 'pending' then
    redis.call('HSET', KEYS[1], 'kind', ARGV[2], 'payload', ARGV[3], 'due_ts', ARGV[4],
               'due_at', ARGV[5])
    redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
    return 2
  end
  return 0
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'kind', ARGV[2], 'payload', ARGV[3],
           'due_ts', ARGV[4], 'due_at', ARGV[5], 'state', 'pending', 'attempts', 0,
           'created_at', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
"""

# KEYS: due zset, running zset. ARGV: now_ts, limit, lease_ts, runner, now_iso, job key prefix,
# only_id ('' = any due job). Returns the claimed ids; ZREM decides the single winner.
_CLAIM = """
local ids
if ARGV[7] ~= '' then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[7])
  if (not score) or tonumber(score) > tonumber(ARGV[1]) then return {} end
  ids = {ARGV[7]}
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
end
local claimed = {}
for _, id in ipairs(ids) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local key = ARGV[6] .. id
    if redis.call('HGET', key, 'state') == 'pending' then
      redis.call('HSET', key, 'state', 'running', 'claimed_at', ARGV[5], 'runner', ARGV[4])
      redis.call('HINCRBY', key, 'attempts', 1)
      redis.call('ZADD', KEYS[2], ARGV[3], id)
      table.insert(claimed, id)
    end
  end
end
return claimed
"""

# KEYS: job hash, running zset, due zset. ARGV: id, outcome (done|failed|retry|lost|requeue),
# now_iso, error, retry_ts, retention_s, runner ('' = any)
_FINISH = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if ARGV[7] ~= '' and redis.call('HGET', KEYS[1], 'runner') ~= ARGV[7] then return 0 end
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
if ARGV[2] == 'retry' or ARGV[2] == 'requeue' then
  redis.call('HSET', KEYS[1], 'state', 'pending', 'error', ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
else
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'finished_at', ARGV[3], 'error', ARGV[4])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
end
return 1
"""

# KEYS: job hash, due zset. ARGV: id, now_iso, retention_s
_CANCEL = """
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finished_at', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


@dataclass(frozen=True)
class Job:
    """One scheduled job as a handler sees it."""

    id: str
    kind: str
    payload: Dict[str, Any]
    due_at: datetime
    state: str
    attempts: int = 0
    error: str = ""

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> "Job":
        if data.get("due_at"):
            due_at = datetime.fromisoformat(data["due_at"])
        else:  # scheduled from another feature's Lua script: only the epoch is stored
            due_at = datetime.fromtimestamp(float(data["due_ts"]), SHANGHAI)
        return cls(
            id=data["id"],
            kind=data["kind"],
            payload=json.loads(data.get("payload") or "{}"),
            due_at=due_at,
            state=data.get("state", ""),
            attempts=int(data.get("attempts") or 0),
            error=data.get("error", ""),
        )


@dataclass
class RunReport:
    """What one `run_due` pass did (ids per outcome)."""

    done: List[str] = field(default_factory=list)
    retried: List[str] = field(default_factory=list)
    failed: List[str] = field(default_factory=list)

    @property
    def ran(self) -> int:
        return len(self.done) + len(self.retried) + len(self.failed)


@dataclass(frozen=True)
class _Registration:
    handler: Handler
    idempotent: bool


def _ts(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.timestamp()


class JobScheduler:
    """Schedule jobs, register handlers by kind, and run what is due.

    One instance per process; any number of processes may share the same Redis.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        settings: Settings,
        *,
        lease: timedelta = timedelta(minutes=10),
        max_attempts: int = 5,
        retry_base: timedelta = timedelta(minutes=1),
        retention: timedelta = timedelta(days=90),
        handler_timeout_s: float = 60.0,
        runner_id: Optional[str] = None,
    ) -> None:
        self._redis = redis
        self._settings = settings
        self._lease = lease
        self._max_attempts = max_attempts
        self._retry_base = retry_base
        self._retention_s = int(retention.total_seconds())
        self._handler_timeout_s = handler_timeout_s
        self.runner_id = runner_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._handlers: Dict[str, _Registration] = {}
        self._schedule = redis.register_script(_SCHEDULE)
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)
        self._cancel = redis.register_script(_CANCEL)

    # ---- keys ----------------------------------------------------------------------------
    @property
    def retention_s(self) -> int:
        return self._retention_s

    @property
    def due_key(self) -> str:
        return self._settings.key("jobs", "due")

    @property
    def running_key(self) -> str:
        return self._settings.key("jobs", "running")

    def job_key(self, job_id: str) -> str:
        return self._settings.key("jobs", "job", job_id)

    # ---- registration ----------------------------------------------------------------------
    def register(self, kind: str, handler: Handler, *, idempotent: bool = False) -> None:
        """Run `handler(job)` for jobs of `kind`. `idempotent=True` lets a job whose runner
        died mid-run be re-queued (the handler must tolerate running twice)."""
        self._handlers[kind] = _Registration(handler, idempotent)

    # ---- scheduling ------------------------------------------------------------------------
    async def schedule(
        self,
        job_id: str,
        kind: str,
        payload: Mapping[str, Any],
        due_at: datetime,
        *,
        replace: bool = False,
    ) -> bool:
        """Schedule a job; returns True when created (or, with `replace`, updated while pending).

        Idempotent by `job_id`: an existing job (in any state) is left untouched unless
        `replace=True` and it is still pending.
        """
        if due_at.tzinfo is None:
            due_at = due_at.replace(tzinfo=SHANGHAI)
        result = await self._schedule(
            keys=[self.job_key(job_id), self.due_key],
            args=[
                job_id,
                kind,
                json.dumps(dict(payload), ensure_ascii=False, sort_keys=True),
                repr(_ts(due_at)),
                due_at.isoformat(),
                system_clock().isoformat(),
                "1" if replace else "0",
            ],
        )
        return int(result) > 0

    async def cancel(self, job_id: str, now: Optional[datetime] = None) -> bool:
        """Cancel a pending job; False when it is unknown, running or already finished."""
        now = now or system_clock()
        result = await self._cancel(
            keys=[self.job_key(job_id), self.due_key],
            args=[job_id, now.isoformat(), self._retention_s],
        )
        return int(result) == 1

    async def get(self, job_id: str) -> Optional[Job]:
        data = await self._redis.hgetall(self.job_key(job_id))
        return Job.from_hash(data) if data else None

    async def pending(self, until: Optional[datetime] = None) -> List[Job]:
        """Pending jobs in due order (optionally only those due by `until`)."""
        top = repr(_ts(until)) if until else "+inf"
        ids = await self._redis.zrangebyscore(self.due_key, "-inf", top)
        jobs = []
        for job_id in ids:
            job = await self.get(job_id)
            if job:
                jobs.append(job)
        return jobs

    # ---- running ---------------------------------------------------------------------------
    async def _claim_ids(self, now: datetime, limit: int, only_id: str = "") -> List[str]:
        lease_ts = _ts(now + self._lease)
        return list(
            await self._claim(
                keys=[self.due_key, self.running_key],
                args=[
                    repr(_ts(now)),
                    limit,
                    repr(lease_ts),
                    self.runner_id,
                    now.isoformat(),
                    self.job_key(""),
                    only_id,
                ],
            )
        )

    async def _finish_job(
        self, job_id: str, outcome: str, now: datetime, error: str = "", retry_at: float = 0.0,
        runner: Optional[str] = None,
    ) -> bool:
        result = await self._finish(
            keys=[self.job_key(job_id), self.running_key, self.due_key],
            args=[
                job_id,
                outcome,
                now.isoformat(),
                error[:500],
                repr(retry_at),
                self._retention_s,
                self.runner_id if runner is None else runner,
            ],
        )
        return int(result) == 1

    async def _execute(self, job_id: str, now: datetime, report: RunReport) -> None:
        data = await self._redis.hgetall(self.job_key(job_id))
        if not data:
            return
        job = Job.from_hash(data)
        registration = self._handlers.get(job.kind)
        try:
            if registration is None:
                raise LookupError(f"no handler registered for job kind {job.kind!r}")
            await asyncio.wait_for(registration.handler(job), timeout=self._handler_timeout_s)
        except Exception as exc:  # noqa: BLE001 - a handler's failure must not stop the runner
            error = f"{type(exc).__name__}: {exc}"
            if job.attempts < self._max_attempts:
                delay = self._retry_base * (2 ** (job.attempts - 1))
                logger.warning("job %s failed (attempt %s), retrying: %s", job_id, job.attempts, error)
                await self._finish_job(job_id, "retry", now, error, _ts(now + delay))
                report.retried.append(job_id)
            else:
                logger.error("job %s failed for good after %s attempts: %s", job_id, job.attempts, error)
                await self._finish_job(job_id, "failed", now, error)
                report.failed.append(job_id)
            return
        await self._finish_job(job_id, "done", now)
        report.done.append(job_id)

    async def run_due(self, now: Optional[datetime] = None, limit: int = 100) -> RunReport:
        """Claim and run every job due at `now` (at most `limit`); each runs in one runner only."""
        now = now or system_clock()
        report = RunReport()
        for job_id in await self._claim_ids(now, limit):
            await self._execute(job_id, now, report)
        return report

    async def run_job(self, job_id: str, now: Optional[datetime] = None) -> bool:
        """Run one job right away if it is pending and due (e.g. a notice scheduled for "now").

        Returns True when this call ran it; False when it was not due, or someone else won it.
        """
        now = now or system_clock()
        report = RunReport()
        claimed = await self._claim_ids(now, 1, only_id=job_id)
        for claimed_id in claimed:
            await self._execute(claimed_id, now, report)
        return bool(claimed)

    async def recover_stale(self, now: Optional[datetime] = None) -> Dict[str, List[str]]:
        """Deal with jobs whose runner died holding them (lease expired).

        Idempotent kinds are re-queued to run now; others are marked `lost` (never run twice).
        """
        now = now or system_clock()
        outcome: Dict[str, List[str]] = {"requeued": [], "lost": []}
        stale = await self._redis.zrangebyscore(self.running_key, "-inf", repr(_ts(now)))
        for job_id in stale:
            kind = await self._redis.hget(self.job_key(job_id), "kind")
            registration = self._handlers.get(kind or "")
            if registration is not None and registration.idempotent:
                if await self._finish_job(job_id, "requeue", now, "lease expired", _ts(now), runner=""):
                    outcome["requeued"].append(job_id)
            elif await self._finish_job(job_id, "lost", now, "runner died (lease expired)", runner=""):
                logger.error("job %s lost: its runner died while running it", job_id)
                outcome["lost"].append(job_id)
            # A job hash that expired or vanished must not stay in the running set forever.
            if not await self._redis.exists(self.job_key(job_id)):
                await self._redis.zrem(self.running_key, job_id)
        return outcome

    async def run_forever(
        self,
        clock: Clock = system_clock,
        interval: float = 5.0,
        stop: Optional[asyncio.Event] = None,
    ) -> None:
        """The runner loop for the gateway process: every `interval` seconds, recover stale
        claims and run due jobs. Returns when `stop` is set; survives Redis hiccups."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.recover_stale(clock())
                while True:
                    report = await self.run_due(clock())
                    if report.ran < 100:
                        break
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the loop alive through transient errors
                logger.exception("job runner pass failed; retrying in %.1fs", interval)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
