"""The handoffs' monthly figures (bot/services/monthly_stats.py), recorded by `HandoffService` right
after each atomic step succeeded, in the item's city; best effort: a failed write is only logged.

created -> "handoff_created"; first claim -> "handoff_claimed" and the wait (created -> first
claim, the `wait_s` the claim script stores) as the mean "handoff_wait_s"; close ->
"handoff_closed" and, for an item a counsellor took, the handling time (first claim -> close)
as the mean "handoff_handling_s". A re-claim after a release or a transfer is no new wait (the claim script says which is first).
"""
from __future__ import annotations

from typing import Mapping

from bot.services.monthly_stats import MonthlyStats, best_effort, place_label


def _float(item: Mapping[str, str], name: str) -> float:
    try:
        return float(item.get(name) or "")
    except ValueError:
        return 0.0


async def _created(stats: MonthlyStats, city: str) -> None:
    await stats.count("handoff_created", place_label(city))


async def _claimed(stats: MonthlyStats, item: Mapping[str, str]) -> None:
    city = place_label(item.get("city"))
    await stats.count("handoff_claimed", city)
    await stats.observe("handoff_wait_s", city, max(_float(item, "wait_s"), 0.0))


async def _closed(stats: MonthlyStats, item: Mapping[str, str]) -> None:
    city = place_label(item.get("city"))
    await stats.count("handoff_closed", city)
    if item.get("first_claimed_at"):
        handling = _float(item, "closed_at") - _float(item, "first_claimed_at")
        await stats.observe("handoff_handling_s", city, max(handling, 0.0))


async def record_created(stats: MonthlyStats, city: str) -> None:
    await best_effort(_created(stats, city), "handoff_created")


async def record_claimed(stats: MonthlyStats, item: Mapping[str, str]) -> None:
    await best_effort(_claimed(stats, item), "handoff_claimed")


async def record_closed(stats: MonthlyStats, item: Mapping[str, str]) -> None:
    await best_effort(_closed(stats, item), "handoff_closed")
