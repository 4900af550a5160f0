"""When counsellors are on duty and how the queue is tuned: office hours, each city's desk
(`config/handoff_cities.yml`: its hours and callback promise) and `HandoffConfig`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from bot.clock import SHANGHAI, in_beijing
from bot.settings import Settings

_WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


@dataclass(frozen=True)
class OfficeSpan:
    days: Tuple[int, ...]  # ISO weekdays, 1 = Monday
    start: dtime
    end: dtime


def parse_office_hours(spec: str) -> Tuple[OfficeSpan, ...]:
    """'1-5 08:30-17:30; 6 09:00-12:00' (ISO weekdays, or mon-fri) -> spans."""
    spans: List[OfficeSpan] = []
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        day_spec, time_spec = part.split()
        days: List[int] = []
        for chunk in day_spec.lower().split(","):
            lo, _, hi = chunk.partition("-")
            a = _WEEKDAYS.get(lo, None) or int(lo)
            b = (_WEEKDAYS.get(hi, None) or int(hi)) if hi else a
            days.extend(range(a, b + 1))
        t0, t1 = time_spec.split("-")
        spans.append(
            OfficeSpan(
                tuple(sorted(set(days))),
                datetime.strptime(t0, "%H:%M").time(),
                datetime.strptime(t1, "%H:%M").time(),
            )
        )
    return tuple(spans)


@dataclass(frozen=True)
class CityDesk:
    """One city's handoff desk; None fields fall back to the global settings."""

    office_hours: Optional[Tuple[OfficeSpan, ...]] = None
    callback_promise: str = ""


def load_city_desks(path: Optional[Path]) -> Dict[str, CityDesk]:
    """city -> CityDesk from the YAML file (missing file: no city has its own desk). A name
    that is not one of the 16 cities, or unreadable hours, is a ValueError at start-up."""
    from bot.services import geo  # geo reads the division table: only when a file is loaded

    if path is None or not Path(path).exists():
        return {}
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    desks: Dict[str, CityDesk] = {}
    for name, entry in (data.get("cities") or {}).items():
        city = geo.normalize_city(str(name))
        if city is None:
            raise ValueError(f"{path}: {name!r} is not one of Shandong's 16 cities")
        entry = entry or {}
        hours = entry.get("office_hours")
        desks[city] = CityDesk(
            office_hours=parse_office_hours(str(hours)) if hours else None,
            callback_promise=str(entry.get("callback_promise") or "").strip(),
        )
    return desks


def _describe_days(days: Sequence[int]) -> str:
    names = "一二三四五六日"
    if len(days) > 1 and list(days) == list(range(days[0], days[-1] + 1)):
        return f"周{names[days[0] - 1]}至周{names[days[-1] - 1]}"
    return "、".join(f"周{names[d - 1]}" for d in days)


@dataclass(frozen=True)
class HandoffConfig:
    office_hours: Tuple[OfficeSpan, ...] = field(
        default_factory=lambda: parse_office_hours("1-5 08:30-17:30")
    )
    # nobody is "available" when no console sent a heartbeat within this many minutes
    no_staff_minutes: float = 5.0
    # queued items older than this are overdue (supervisors see them highlighted)
    overdue_minutes: float = 10.0
    # minutes per waiting person for the estimate when there is no history yet
    default_handle_minutes: float = 5.0
    # the intent Rasa receives on hand-back, so that the bot greets the user again
    resume_intent: str = "greet"
    # at most one "we got your message" note per this many seconds while queued
    ack_interval_s: int = 300
    # a callback a counsellor answered holds the user's replies this long after the
    # counsellor's latest message; then the bot answers again
    live_idle_minutes: float = 30.0
    # what a user who leaves a number is promised beyond the hours ("" = the hours only)
    callback_promise: str = ""
    # a city's queued item goes to the provincial pool after this many minutes with nobody
    # of the city online (checked again every as many minutes while someone is)
    city_wait_minutes: float = 3.0
    # cities with their own hours or promise (config/handoff_cities.yml)
    city_desks: Mapping[str, CityDesk] = field(default_factory=dict, hash=False, compare=False)

    def for_city(self, city: Optional[str]) -> "HandoffConfig":
        """This configuration with the hours and promise of `city`'s desk (itself for none)."""
        desk = self.city_desks.get(city or "")
        if desk is None:
            return self
        return dataclasses.replace(
            self,
            office_hours=desk.office_hours or self.office_hours,
            callback_promise=desk.callback_promise or self.callback_promise,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "HandoffConfig":
        return cls(
            city_wait_minutes=settings.handoff_city_wait_minutes,
            city_desks=load_city_desks(settings.handoff_cities_file),
            office_hours=parse_office_hours(settings.handoff_office_hours),
            no_staff_minutes=settings.handoff_no_staff_minutes,
            overdue_minutes=settings.handoff_overdue_minutes,
            default_handle_minutes=settings.handoff_default_handle_minutes,
            resume_intent=settings.handoff_resume_intent,
            ack_interval_s=settings.handoff_ack_interval_s,
            live_idle_minutes=settings.handoff_live_idle_minutes,
        )

    def describe_hours(self) -> str:
        return "；".join(
            f"{_describe_days(s.days)} {s.start:%H:%M}–{s.end:%H:%M}" for s in self.office_hours
        )

    def in_office_hours(self, moment: datetime) -> bool:
        moment = in_beijing(moment)  # office hours are Beijing time
        t = moment.time()
        return any(
            moment.isoweekday() in s.days and s.start <= t < s.end for s in self.office_hours
        )

    def next_opening(self, moment: datetime) -> Optional[datetime]:
        """When counsellors are next on duty (Beijing time): `moment` itself inside office
        hours, None when no office hours are configured."""
        moment = in_beijing(moment)
        if self.in_office_hours(moment):
            return moment
        starts = [
            datetime.combine(moment.date() + timedelta(days=offset), span.start, SHANGHAI)
            for offset in range(8)
            for span in self.office_hours
            if (moment.isoweekday() + offset - 1) % 7 + 1 in span.days
        ]
        return min((s for s in starts if s > moment), default=None)

    def describe_next_opening(self, moment: datetime) -> str:
        """The next opening as a user reads it: "今天 8:30", "明天 8:30", "周四 8:30",
        "下周一 8:30" (Beijing time); "" when there is none."""
        opening = self.next_opening(moment)
        if opening is None:
            return ""
        return f"{_describe_day(in_beijing(moment), opening)} {opening.hour}:{opening.minute:02d}"


def _monday(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.isoweekday() - 1)


def _describe_day(now: datetime, day: datetime) -> str:
    days_ahead = (day.date() - now.date()).days
    if days_ahead == 0:
        return "今天"
    if days_ahead == 1:
        return "明天"
    weekday = "一二三四五六日"[day.isoweekday() - 1]
    weeks_ahead = (_monday(day) - _monday(now)).days // 7
    if weeks_ahead == 0:
        return f"周{weekday}"
    if weeks_ahead == 1:
        return f"下周{weekday}"
    return f"{day.month}月{day.day}日"
