"""Dashboard figures for supervisors, asked of the services that own them: the handoff queue
(HandoffService), bookings (BookingService) and intent counts (`bot.services.intent_stats`,
written by the tracker store).

Scoped to the supervisor's cities: waits, handled items and outcomes, the queue now, overdue
items and who is online. Province-wide by nature (the same for every supervisor, labelled so
on the page): the queue-length samples, intent and fallback counts (kept per day, not per
user or city) and workshop bookings (the workshop catalogue is the province's).
"""
from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Mapping, Optional

from bot.clock import SHANGHAI, Clock, in_beijing, system_clock
from bot.services.booking.service import BookingService
from bot.services.handoff.service import HandoffService
from bot.services.intent_stats import read_counts
from bot.services.staff_scope import StaffScope
from bot.settings import Settings


def _percentile(values: List[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


async def dashboard_data(
    redis: Any, settings: Settings, handoff: HandoffService, booking: BookingService,
    clock: Clock = system_clock, days: int = 7, *,
    scope: StaffScope = StaffScope(), visible: Optional[Callable[[Mapping[str, Any]], bool]] = None,
) -> Dict[str, Any]:
    """`scope`: the supervisor's; `visible`: which open queue items they may see."""
    only = None if scope.is_province else scope
    now = in_beijing(clock())  # days are Beijing days
    day_names = [(now - timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days - 1, -1, -1)]
    since = (now - timedelta(days=days)).timestamp()

    # queue length over time (today and yesterday, sampled at every change)
    qlen = {day: await handoff.queue_length_samples(day) for day in day_names[-2:]}

    # waits to first claim, per day and overall
    waits: List[float] = []
    per_day: Dict[str, List[float]] = {d: [] for d in day_names}
    for at, wait in await handoff.claim_waits(since, only):
        waits.append(wait)
        day = datetime.fromtimestamp(at, SHANGHAI).strftime("%Y-%m-%d")
        if day in per_day:
            per_day[day].append(wait)

    # handled per counsellor and outcomes
    per_counsellor: Dict[str, int] = {}
    outcomes: Dict[str, int] = {}
    for who, outcome in await handoff.closed_since(since, only):
        if who:
            per_counsellor[who] = per_counsellor.get(who, 0) + 1
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    intents, fallbacks = await read_counts(redis, settings.key, day_names)
    bookings = await booking.bookings_per_day(day_names)
    open_items = [s for s in await handoff.snapshot() if visible is None or visible(s)]
    overdue = [s for s in open_items if s["overdue"]]
    if only is None:
        online = await handoff.online_staff()
    else:
        online = sorted({name for city in scope.cities for name in await handoff.online_in(city)})
    return {
        "days": day_names,
        "queue_length": qlen,
        "queue_now": sum(1 for s in open_items if s["status"] == "queued"),
        "scope": scope.label(),
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
        "online": online,
    }
