"""Dashboard figures for supervisors.

Intent and fallback counts are written by the tracker store (`bot.services.intent_stats`).
"""
from __future__ import annotations

import logging
import statistics
from datetime import timedelta
from typing import Any, Dict, List, Optional

from bot.clock import Clock, system_clock
from bot.services.handoff.service import HandoffService
from bot.settings import Settings

logger = logging.getLogger(__name__)



def _percentile(values: List[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


async def dashboard_data(
    redis: Any, settings: Settings, handoff: HandoffService, clock: Clock = system_clock, days: int = 7
) -> Dict[str, Any]:
    now = clock()
    day_names = [(now - timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days - 1, -1, -1)]
    since = (now - timedelta(days=days)).timestamp()

    # queue length over time (today and yesterday, sampled at every change)
    qlen: Dict[str, List[List[Any]]] = {}
    for day in day_names[-2:]:
        samples = await redis.hgetall(handoff.key("qlen", day))
        qlen[day] = [[t, int(v)] for t, v in sorted(samples.items())]

    # waits to first claim, per day and overall
    claimed = await redis.zrangebyscore(handoff.key("claims"), since, "+inf", withscores=True)
    waits: List[float] = []
    per_day: Dict[str, List[float]] = {d: [] for d in day_names}
    for item_id, at in claimed:
        wait = await redis.hget(handoff.item_key(item_id), "wait_s")
        if wait is None:
            continue
        waits.append(float(wait))
        day = (now.fromtimestamp(at, now.tzinfo)).strftime("%Y-%m-%d")
        if day in per_day:
            per_day[day].append(float(wait))

    # handled per counsellor and outcomes
    closed = await redis.zrangebyscore(handoff.key("closed"), since, "+inf")
    per_counsellor: Dict[str, int] = {}
    outcomes: Dict[str, int] = {}
    for item_id in closed:
        h = await redis.hmget(handoff.item_key(item_id), "holder", "closed_by", "outcome")
        who = h[1] or h[0]
        if who:
            per_counsellor[who] = per_counsellor.get(who, 0) + 1
        outcomes[h[2] or "?"] = outcomes.get(h[2] or "?", 0) + 1

    intents: Dict[str, int] = {}
    fallbacks: Dict[str, int] = {}
    for day in day_names:
        for k, v in (await redis.hgetall(settings.key("stats", "intents", day))).items():
            intents[k] = intents.get(k, 0) + int(v)
        for k, v in (await redis.hgetall(settings.key("stats", "fallbacks", day))).items():
            fallbacks[k] = fallbacks.get(k, 0) + int(v)

    bookings = await _bookings_per_day(redis, settings, day_names)
    overdue = [s for s in await handoff.snapshot() if s["overdue"]]
    return {
        "days": day_names,
        "queue_length": qlen,
        "queue_now": await handoff.queue_length(),
        "wait": {
            "count": len(waits),
            "median_s": round(statistics.median(waits), 1) if waits else 0,
            "p90_s": round(_percentile(waits, 0.9), 1),
            "per_day_median_s": [round(statistics.median(per_day[d]), 1) if per_day[d] else 0 for d in day_names],
            "per_day_p90_s": [round(_percentile(per_day[d], 0.9), 1) for d in day_names],
        },
        "handled_per_counsellor": dict(sorted(per_counsellor.items(), key=lambda kv: -kv[1])),
        "outcomes": outcomes,
        "top_intents": sorted(intents.items(), key=lambda kv: -kv[1])[:15],
        "top_fallbacks": sorted(fallbacks.items(), key=lambda kv: -kv[1])[:15],
        "bookings": bookings,
        "overdue": overdue,
        "online": await handoff.online_staff(),
    }


async def _bookings_per_day(redis: Any, settings: Settings, day_names: List[str]) -> Dict[str, Any]:
    """Workshop bookings per day (and per city when the slot record says so), from the booking
    service's records; bounded scan, so very large deployments see a sample."""
    per_day = {d: 0 for d in day_names}
    per_city: Dict[str, int] = {}
    scanned = 0
    async for key in redis.scan_iter(settings.key("booking", "rec", "*"), count=500):
        scanned += 1
        if scanned > 5000:
            break
        rec = await redis.hmget(key, "created_at", "city", "status")
        created = rec[0] or ""
        day = created[:10]
        if day in per_day:
            per_day[day] += 1
            city = rec[1] or "未知"
            per_city[city] = per_city.get(city, 0) + 1
    return {"per_day": [per_day[d] for d in day_names], "per_city": per_city}
