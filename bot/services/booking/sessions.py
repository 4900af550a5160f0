"""The staff side of a workshop session (slot): whose session it is and when people can be
checked in. Plain code (no Redis); the console's session pages and `python -m bot.cli.sessions`
ask it, the marks themselves go through `BookingService`.

Who checks in (issue #25, items 4–5): any console account — counsellor, supervisor or admin —
whose scope covers the session's city. A workshop held in a city belongs to that city's staff
(and to provincial staff, whose scope covers every city); an online or province-wide (全省)
workshop belongs to the province's staff only. A scope narrowed to counties covers no session:
a workshop names its city, not its county.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Tuple

from bot.clock import SHANGHAI, in_beijing
from bot.services import geo
from bot.services.staff_scope import StaffScope
from bot.services.workshops import Slot, Workshop

DEFAULT_DAYS = 8  # today and the next 7 days
MAX_DAYS = 62


def session_city(workshop: Workshop) -> str:
    """The city whose staff run the session ("青岛市"); "" for an online or province-wide one."""
    if workshop.mode == "线上":
        return ""
    return geo.normalize_city(workshop.city) or ""


def in_scope(scope: StaffScope, workshop: Workshop) -> bool:
    city = session_city(workshop)
    return scope.is_province if not city else scope.covers(city)


def may_check_in(slot: Slot, now: datetime) -> bool:
    """Marks from the session's day on (Beijing): marking someone attended asks them for a
    rating, which must not happen days before the workshop."""
    return in_beijing(slot.start).date() <= in_beijing(now).date()


def day_range(first: date, days: int) -> Tuple[datetime, datetime]:
    """[first 00:00, first + days 00:00) in Beijing time."""
    start = datetime.combine(first, time(0, 0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=days)


def parse_days(first_text: str, days_text: str, today: date) -> Tuple[date, int]:
    """The staff's "from" (YYYY-MM-DD, default today) and "days" (1–62, default 8); ValueError
    with a Chinese message for anything else."""
    try:
        first = date.fromisoformat(first_text) if first_text else today
    except ValueError:
        raise ValueError(f"日期“{first_text}”看不懂，请写成 2025-01-31 这样") from None
    if not days_text:
        return first, DEFAULT_DAYS
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        raise ValueError(f"天数请写 1 到 {MAX_DAYS} 之间的整数")
    return first, int(days_text)
