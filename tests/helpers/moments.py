"""Moments for FrozenClock tests, always relative to today (Beijing), never a fixed date."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Optional

from bot.clock import SHANGHAI, system_clock


def upcoming(iso_weekday: int, hour: int, minute: int = 0, *, after: Optional[date] = None) -> datetime:
    """The first `iso_weekday` (1 = Monday) after `after` (default today), at hour:minute Beijing."""
    start = after or system_clock().date()
    days = (iso_weekday - start.isoweekday() - 1) % 7 + 1
    return datetime.combine(start + timedelta(days=days), time(hour, minute), SHANGHAI)
