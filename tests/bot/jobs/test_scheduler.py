"""The Redis job scheduler: idempotent scheduling, exactly-once claims, retries, restarts."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.clock import FrozenClock
from bot.jobs.scheduler import JobScheduler

from tests.bot.services.booking_helpers import T0


def _recorder(log, fail_times=0):
    state = {"fails": fail_times}

    async def handler(job):
        if state["fails"] > 0:
            state["fails"] -= 1
            raise RuntimeError("boom")
        log.append(job.id)

    return handler


async def test_schedule_is_idempotent_and_runs_once_when_due(redis, settings):
    log = []
    sched = JobScheduler(redis, settings)
    sched.register("k", _recorder(log))
    assert await sched.schedule("j1", "k", {"a": 1}, T0 + timedelta(hours=1))
    assert not await sched.schedule("j1", "k", {"a": 2}, T0)  # no-op: keeps the first
    assert (await sched.get("j1")).payload == {"a": 1}
    assert (await sched.run_due(T0)).ran == 0
    assert (await sched.run_due(T0 + timedelta(hours=1))).done == ["j1"]
    assert (await sched.run_due(T0 + timedelta(hours=2))).ran == 0
    assert log == ["j1"] and (await sched.get("j1")).state == "done"
    assert not await sched.schedule("j1", "k", {}, T0)  # finished jobs stay finished


async def test_replace_moves_a_pending_job(redis, settings):
    sched = JobScheduler(redis, settings)
    await sched.schedule("j", "k", {}, T0 + timedelta(hours=5))
    assert await sched.schedule("j", "k", {"v": 2}, T0 + timedelta(hours=1), replace=True)
    job = (await sched.pending())[0]
    assert job.due_at == T0 + timedelta(hours=1) and job.payload == {"v": 2}


async def test_two_runners_never_run_a_job_twice(redis, settings):
    log = []
    runners = [JobScheduler(redis, settings) for _ in range(4)]
    for runner in runners:
        runner.register("k", _recorder(log))
    for i in range(200):
        await runners[0].schedule(f"j{i}", "k", {}, T0 + timedelta(seconds=i))
    moment = T0 + timedelta(hours=1)
    await asyncio.gather(*(r.run_due(moment) for r in runners for _ in range(3)))
    assert sorted(log) == sorted(f"j{i}" for i in range(200))
    assert len(log) == 200


async def test_cancel_and_restart(redis, settings):
    log = []
    sched = JobScheduler(redis, settings)
    await sched.schedule("a", "k", {}, T0)
    await sched.schedule("b", "k", {}, T0)
    assert await sched.cancel("b")
    assert not await sched.cancel("b")
    # A new process (restart): nothing lives in memory except the handlers.
    fresh = JobScheduler(redis, settings)
    fresh.register("k", _recorder(log))
    await fresh.run_due(T0)
    assert log == ["a"] and (await fresh.get("b")).state == "cancelled"


async def test_failures_retry_with_backoff_then_fail(redis, settings):
    log = []
    sched = JobScheduler(redis, settings, max_attempts=3, retry_base=timedelta(minutes=1))
    sched.register("flaky", _recorder(log, fail_times=1))
    sched.register("broken", _recorder([], fail_times=99))
    await sched.schedule("f", "flaky", {}, T0)
    await sched.schedule("b", "broken", {}, T0)
    first = await sched.run_due(T0)
    assert sorted(first.retried) == ["b", "f"]
    assert (await sched.run_due(T0 + timedelta(seconds=30))).ran == 0  # backoff
    second = await sched.run_due(T0 + timedelta(minutes=1))
    assert second.done == ["f"] and second.retried == ["b"]
    third = await sched.run_due(T0 + timedelta(minutes=3))
    assert third.failed == ["b"] and (await sched.get("b")).state == "failed"
    assert log == ["f"]


async def test_a_dead_runners_job_is_lost_or_requeued_by_kind(redis, settings):
    log = []
    dead = JobScheduler(redis, settings, lease=timedelta(minutes=5))
    await dead.schedule("once", "plain", {}, T0)
    await dead.schedule("safe", "idem", {}, T0)
    assert sorted(await dead._claim_ids(T0, 10)) == ["once", "safe"]  # ... and then it dies
    alive = JobScheduler(redis, settings, lease=timedelta(minutes=5))
    alive.register("plain", _recorder(log))
    alive.register("idem", _recorder(log), idempotent=True)
    assert await alive.recover_stale(T0 + timedelta(minutes=4)) == {"requeued": [], "lost": []}
    outcome = await alive.recover_stale(T0 + timedelta(minutes=6))
    assert outcome == {"requeued": ["safe"], "lost": ["once"]}
    await alive.run_due(T0 + timedelta(minutes=6))
    assert log == ["safe"] and (await alive.get("once")).state == "lost"


async def test_run_forever_runs_due_jobs_until_stopped(redis, settings):
    log = []
    clock = FrozenClock(T0)
    sched = JobScheduler(redis, settings)
    sched.register("k", _recorder(log))
    await sched.schedule("now", "k", {}, T0)
    await sched.schedule("later", "k", {}, T0 + timedelta(minutes=10))
    stop = asyncio.Event()
    task = asyncio.create_task(sched.run_forever(clock, interval=0.02, stop=stop))
    await asyncio.sleep(0.1)
    assert log == ["now"]
    clock.advance(minutes=10)
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert log == ["now", "later"]
