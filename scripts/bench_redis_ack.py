"""What waiting for a replica costs a booking (REDIS_ACK_REPLICAS), p50/p99.

Starts its own Redis primary (AOF on), one replica and three Sentinels on free loopback ports
(tests/helpers/redis_sentinel.py), then times `BookingService.book` — the whole call a user's
booking makes — in three set-ups: straight to the primary (REDIS_URL, no Sentinel), through
Sentinel without waiting, and through Sentinel with WAIT for one replica. Each set-up books
`--bookings` seats from `--concurrency` users at once. Results go to docs/redis_ha.md.

    .venv-gateway/bin/python scripts/bench_redis_ack.py [--bookings 2000] [--concurrency 1]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import FrozenClock  # noqa: E402
from bot.redis_client import create_redis  # noqa: E402
from bot.services.booking.service import BookingService  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from tests.bot.services.booking_helpers import T0, add_slot  # noqa: E402
from tests.helpers.redis_sentinel import sentinel_cluster  # noqa: E402


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def time_bookings(settings: Settings, label: str, bookings: int, concurrency: int) -> Dict[str, float]:
    redis = create_redis(settings)
    service = BookingService(redis, settings, clock=FrozenClock(T0), max_active=10**6)
    slot_id = f"bench-{label}"
    await add_slot(service.catalogue, slot_id, T0 + timedelta(days=3), capacity=10**7)
    timings: List[float] = []
    numbers = iter(range(bookings))

    async def user() -> None:
        for n in numbers:
            start = time.perf_counter()
            result = await service.book(f"o{label}{n}", slot_id, "张三", "13800000000", f"r{n}")
            timings.append((time.perf_counter() - start) * 1000)
            assert result.status == "confirmed", result

    await asyncio.gather(*(user() for _ in range(concurrency)))
    await redis.aclose() if hasattr(redis, "aclose") else await redis.close()
    return {"p50": statistics.median(timings), "p99": percentile(timings, 0.99), "n": len(timings)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    base = replace(load_settings(), redis_key_prefix="zbenchack")
    with tempfile.TemporaryDirectory() as directory, sentinel_cluster(Path(directory)) as cluster:
        direct = replace(base, redis_url=f"redis://127.0.0.1:{cluster.primary_port}/0")
        setups = {
            "primary, no Sentinel, no WAIT": direct,
            "Sentinel, no WAIT": cluster.settings(base, ack_replicas=0),
            "Sentinel, WAIT 1 replica": cluster.settings(base, ack_replicas=1, ack_timeout_ms=500),
        }
        print(f"{args.bookings} bookings, {args.concurrency} at once, loopback primary + replica")
        for label, settings in setups.items():
            await time_bookings(settings, "warm" + str(len(label)), 200, args.concurrency)  # warm-up
            figures = await time_bookings(settings, str(len(label)), args.bookings, args.concurrency)
            print(f"  {label:32s} p50 {figures['p50']:.2f} ms   p99 {figures['p99']:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
