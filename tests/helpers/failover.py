"""Failover drills through the project's Redis client factory, against a SentinelCluster:
writes go on while the primary is killed with SIGKILL; the drill records what the writers were
told (acknowledged) and what the promoted primary holds afterwards (found)."""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from bot.clock import FrozenClock
from bot.redis_client import create_redis
from bot.services.booking.service import BookingService
from bot.settings import Settings
from tests.bot.services.booking_helpers import T0, add_slot
from tests.helpers.redis_sentinel import SentinelCluster, sentinel_cluster

WRITERS = 4
WRITES_BEFORE_KILL = 40
# Sentinel promotes in about down-after-milliseconds + an election; writers must be back well within this.
RESUME_BOUND_S = 12.0
WRITES_AFTER_RESUME = 40
DRILL_TIMEOUT_S = 30.0


@dataclass
class DrillResult:
    acknowledged: List[str] = field(default_factory=list)
    found: List[str] = field(default_factory=list)
    failed_writes: int = 0  # writes the writer was told failed (never acknowledged)
    promoted_after_s: float = 0.0  # kill -> the Sentinels name the new primary
    resumed_after_s: float = 0.0  # kill -> the first write acknowledged after the kill
    old_primary: Tuple[str, int] = ("", 0)
    new_primary: Tuple[str, int] = ("", 0)

    @property
    def lost(self) -> List[str]:
        return sorted(set(self.acknowledged) - set(self.found))

    def summary(self, what: str) -> str:
        return (
            f"{what}: {len(self.acknowledged)} acknowledged, {len(self.found)} of them found after "
            f"failover, lost {self.lost}, {self.failed_writes} told failed; primary "
            f"{self.old_primary[1]} -> {self.new_primary[1]}; promoted after {self.promoted_after_s:.2f} s, "
            f"writes resumed after {self.resumed_after_s:.2f} s"
        )


class _Drill:
    """Shared bookkeeping: kill once WRITES_BEFORE_KILL writes are in, stop WRITES_AFTER_RESUME later."""

    def __init__(self, cluster: SentinelCluster) -> None:
        self.cluster = cluster
        self.result = DrillResult(old_primary=cluster.current_primary())
        self.kill_claimed = False
        self.killed_at: Optional[float] = None
        self.after_kill = 0
        self._lock = threading.Lock()

    def acknowledged(self, code: str) -> None:
        with self._lock:
            self.result.acknowledged.append(code)
            if self.killed_at is not None:
                if self.after_kill == 0:
                    self.result.resumed_after_s = time.monotonic() - self.killed_at
                self.after_kill += 1

    def failed(self) -> None:
        with self._lock:
            self.result.failed_writes += 1

    def should_kill(self) -> bool:
        with self._lock:
            if not self.kill_claimed and len(self.result.acknowledged) >= WRITES_BEFORE_KILL:
                self.kill_claimed = True  # only one writer kills
                return True
            return False

    def kill(self) -> None:
        moment = self.cluster.kill_primary()
        with self._lock:
            self.killed_at = moment
        threading.Thread(target=self._watch_promotion, daemon=True).start()

    def _watch_promotion(self) -> None:
        old = self.result.old_primary
        deadline = time.monotonic() + DRILL_TIMEOUT_S
        while time.monotonic() < deadline:
            current = self.cluster.current_primary()
            if current != old:
                self.result.promoted_after_s = time.monotonic() - (self.killed_at or 0)
                self.result.new_primary = current
                return
            time.sleep(0.02)

    def done(self) -> bool:
        with self._lock:
            return self.after_kill >= WRITES_AFTER_RESUME


async def booking_drill(cluster: SentinelCluster, settings: Settings) -> DrillResult:
    """Users book seats (async client: the gateway's and the actions' path) through the kill."""
    drill = _Drill(cluster)
    redis = create_redis(settings)
    clock = FrozenClock(T0)
    service = BookingService(redis, settings, clock=clock, max_active=1000)
    await add_slot(service.catalogue, "ha-slot", T0 + timedelta(days=3), capacity=100_000)
    counter = iter(range(10**9))

    async def writer() -> None:
        while not drill.done():
            n = next(counter)
            try:
                result = await service.book(f"oUser{n}", "ha-slot", "张三", "13800000000", f"req{n}")
            except Exception:  # noqa: BLE001 - the user is told it failed; the drill counts it
                drill.failed()
                continue
            if result.status == "confirmed":
                drill.acknowledged(result.code)
            if drill.should_kill():
                await asyncio.to_thread(drill.kill)

    try:
        await asyncio.wait_for(asyncio.gather(*(writer() for _ in range(WRITERS))), DRILL_TIMEOUT_S)
        for code in drill.result.acknowledged:
            if await service.get(code) is not None:
                drill.result.found.append(code)
    finally:
        await redis.aclose() if hasattr(redis, "aclose") else await redis.close()
    return drill.result


def sync_drill(
    cluster: SentinelCluster, make_turn: Callable[[], Callable[[int], None]], was_stored: Callable[[int], bool]
) -> DrillResult:
    """Blocking writers (the sync client: Rasa's lock store, the command-line tools) go on
    through the kill. `make_turn()` gives each writer thread its function for write number n
    (it raises when the write failed); `was_stored(n)` checks it afterwards."""
    drill = _Drill(cluster)
    counter = iter(range(10**9))
    counter_lock = threading.Lock()

    def writer() -> None:
        turn = make_turn()
        deadline = time.monotonic() + DRILL_TIMEOUT_S
        while not drill.done() and time.monotonic() < deadline:
            with counter_lock:
                n = next(counter)
            try:
                turn(n)
            except Exception:  # noqa: BLE001 - a write that fails is counted, not acknowledged
                drill.failed()
                continue
            drill.acknowledged(str(n))
            if drill.should_kill():
                drill.kill()

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drill.result.found = [n for n in drill.result.acknowledged if was_stored(int(n))]
    return drill.result


def acknowledged_set(client, key: str) -> None:
    """SET then WAIT for one replica on the same connection, as run_acknowledged does."""
    pipe = client.pipeline(transaction=False)
    pipe.set(key, "1")
    pipe.execute_command("WAIT", 1, 200)
    pipe.execute()


def assert_survived(result: DrillResult, cluster: SentinelCluster) -> None:
    """The replica was promoted, writes resumed on it in time, and nothing acknowledged was lost."""
    assert result.new_primary[1] == cluster.replica_port
    assert len(result.acknowledged) >= WRITES_BEFORE_KILL + WRITES_AFTER_RESUME
    assert result.lost == []
    assert 0 < result.resumed_after_s < RESUME_BOUND_S


async def check_bookings_survive_failover(settings: Settings, directory: Path, label: str) -> None:
    """The whole booking drill on a fresh cluster in `directory`, with WAIT for one replica."""
    with sentinel_cluster(directory) as cluster:
        result = await booking_drill(cluster, cluster.settings(settings, ack_replicas=1, ack_timeout_ms=200))
    print("\n" + result.summary(label))
    assert_survived(result, cluster)
