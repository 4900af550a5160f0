"""Service-point lookup latency with 10,000 points in the Redis index (p50/p99).

Uses the real Redis of REDIS_URL (default redis://127.0.0.1:6379/0) under a key prefix of
its own ("zbench<random>"), deleted afterwards. Measures the whole `ServicePointStore.search`
call plus reply rendering, i.e. what the action spends besides Rasa's own overhead.

    .venv/bin/python scripts/bench_points.py [--points 10000] [--queries 2000]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.redis_client import create_redis  # noqa: E402
from bot.services.geo import DISTRICTS  # noqa: E402
from bot.services.points.model import PointType, ServicePoint  # noqa: E402
from bot.services.points.query import PointQuery  # noqa: E402
from bot.services.points.replies import render_page  # noqa: E402
from bot.services.points.store import ServicePointStore  # noqa: E402
from bot.settings import load_settings  # noqa: E402


def make_points(count: int, rng: random.Random) -> List[ServicePoint]:
    units = list(DISTRICTS.values())
    kinds = list(PointType)
    points = []
    for i in range(count):
        unit = rng.choice(units)
        points.append(
            ServicePoint(
                id=f"B{i:06d}",
                name=f"基准测试服务点{i}",
                type=rng.choice(kinds),
                city=unit.city,
                district=unit.name,
                address=f"测试路{i}号",
                latitude=unit.lat + rng.uniform(-0.15, 0.15),
                longitude=unit.lon + rng.uniform(-0.15, 0.15),
                hours="周一至周五 09:00-12:00,13:30-17:00；周六 09:00-12:00",
                phone="0531-12333",
                services=("职业指导", "招聘信息"),
            )
        )
    return points


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def measure(name: str, n: int, make_query: Callable[[], PointQuery], store: ServicePointStore) -> Dict:
    times = []
    for _ in range(n):
        query = make_query()
        start = time.perf_counter()
        page = await store.search(query)
        render_page(page, original=query)
        times.append((time.perf_counter() - start) * 1000)
    return {
        "name": name,
        "p50": percentile(times, 50),
        "p99": percentile(times, 99),
        "mean": statistics.mean(times),
        "max": max(times),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()

    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = "zbench" + uuid.uuid4().hex[:10]
    os.environ["REDIS_KEY_PREFIX"] = prefix
    settings = load_settings()
    redis = create_redis(settings)
    store = ServicePointStore(redis, settings)
    rng = random.Random(20250305)
    try:
        points = make_points(args.points, rng)
        start = time.perf_counter()
        await store.upsert_many(points)
        load_s = time.perf_counter() - start
        units = list(DISTRICTS.values())

        def near() -> PointQuery:
            u = rng.choice(units)
            return PointQuery(latitude=u.lat + rng.uniform(-0.1, 0.1), longitude=u.lon + rng.uniform(-0.1, 0.1))

        def near_typed() -> PointQuery:
            q = near()
            return PointQuery(latitude=q.latitude, longitude=q.longitude, types=frozenset({rng.choice(list(PointType))}))

        def district() -> PointQuery:
            u = rng.choice(units)
            return PointQuery(city=u.city, district=u.name)

        def remote() -> PointQuery:  # outside Shandong: every radius step runs, nothing found
            return PointQuery(latitude=rng.uniform(39.5, 40.5), longitude=rng.uniform(115.5, 116.5))

        results = [
            await measure("nearest (any type)", args.queries, near, store),
            await measure("nearest of one type", args.queries, near_typed, store),
            await measure("district listing", args.queries, district, store),
            await measure("nothing within 100 km (4 radius steps)", max(200, args.queries // 5), remote, store),
        ]
        info = await redis.info("server")
        print(f"Redis {info.get('redis_version')}, {args.points} points indexed in {load_s:.2f} s (one MULTI/EXEC)")
        print(f"{'query':40} {'p50 ms':>8} {'p99 ms':>8} {'mean':>8} {'max':>8}")
        for r in results:
            print(f"{r['name']:40} {r['p50']:8.2f} {r['p99']:8.2f} {r['mean']:8.2f} {r['max']:8.2f}")
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}:*", count=1000)]
        for i in range(0, len(keys), 500):
            await redis.delete(*keys[i : i + 500])
        left = [k async for k in redis.scan_iter(f"{prefix}:*", count=1000)]
        print(f"cleaned up {len(keys)} keys under {prefix}: ({len(left)} left)")
        await redis.close()


if __name__ == "__main__":
    asyncio.run(main())
