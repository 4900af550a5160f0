"""When counsellors are on duty and how the queue is tuned: office hours, each city's desk
(`config/handoff_cities.yml`: its hours and callback promise) and `HandoffConfig`."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Tuple

import yaml

from bot.clock import SHANGHAI, in_beijing
from bot.services.staff_yaml import ConfigError, entries, problem, read_nodes, text
from bot.settings import Settings

_WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


@dataclass(frozen=True)
class OfficeSpan:
    days: Tuple[int, ...]  # ISO weekdays, 1 = Monday
    start: dtime
    end: dtime


def parse_office_hours(spec: str) -> Tuple[OfficeSpan, ...]:
    """'1-5 08:30-17:30; 6 09:00-12:00' (ISO weekdays, or mon-fri) -> spans; a ValueError that
    says which part is wrong otherwise."""
    return tuple(_parse_span(part.strip()) for part in spec.split(";") if part.strip())


def _parse_span(part: str) -> OfficeSpan:
    pieces = part.split()
    if len(pieces) != 2 or pieces[1].count("-") != 1:
        raise ValueError(f"{part!r} is not like '1-5 08:30-17:30' (weekdays, a space, then the hours)")
    days = sorted({day for chunk in pieces[0].lower().split(",") for day in _day_range(chunk, part)})
    start, end = (_clock_time(value, part) for value in pieces[1].split("-"))
    if end <= start:
        raise ValueError(f"{part!r}: the hours must end after they start")
    return OfficeSpan(tuple(days), start, end)


def _day_range(chunk: str, part: str) -> range:
    first, _, last = chunk.partition("-")
    lo = _weekday(first, part)
    hi = _weekday(last, part) if last else lo
    if hi < lo:
        raise ValueError(f"{part!r}: {chunk!r} runs backwards (write 1-5, not 5-1)")
    return range(lo, hi + 1)


def _weekday(value: str, part: str) -> int:
    day = _WEEKDAYS.get(value) or (int(value) if value.isdigit() else 0)
    if not 1 <= day <= 7:
        raise ValueError(f"{part!r}: {value!r} is not a weekday (1-7, 1 = Monday, or mon … sun)")
    return day


def _clock_time(value: str, part: str) -> dtime:
    try:
        return datetime.strptime(value, "%H:%M").time()
    except ValueError:
        raise ValueError(f"{part!r}: {value!r} is not a time of day like 08:30") from None


@dataclass(frozen=True)
class CityDesk:
    """One city's handoff desk; None fields fall back to the global settings."""

    office_hours: Optional[Tuple[OfficeSpan, ...]] = None
    callback_promise: str = ""


DESK_KEYS = ("office_hours", "callback_promise")


def load_city_desks(path: Optional[Path]) -> Dict[str, CityDesk]:
    """city -> CityDesk from the YAML file (missing file: no city has its own desk). Any mistake
    in it (YAML syntax, a name that is not one of the 16 cities or comes twice, an unknown key,
    unreadable hours) is a ConfigError naming the file, the line and the key."""
    from bot.services import geo  # geo reads the division table: only when a file is loaded

    if path is None or not Path(path).exists():
        return {}
    root = read_nodes(path)
    if root is None:  # an empty file
        return {}
    desks: Dict[str, CityDesk] = {}
    for _key, cities in entries(path, root, "the file", allowed=("cities",)):
        for name_node, entry in entries(path, cities, "cities"):
            name, city = name_node.value, geo.normalize_city(str(name_node.value))
            if city is None:
                raise problem(path, name_node, f"cities → {name}: not one of Shandong's 16 cities")
            if city in desks:
                raise problem(path, name_node, f"cities → {name}: {city} is listed twice")
            desks[city] = _desk(path, entry, f"cities → {name}")
    return desks


def _desk(path: Path, node: yaml.Node, where: str) -> CityDesk:
    values = {key.value: value for key, value in entries(path, node, where, allowed=DESK_KEYS)}
    texts = {key: text(path, value, f"{where} → {key}") for key, value in values.items()}
    hours = texts.get("office_hours", "")
    try:
        office_hours = parse_office_hours(hours) if hours else None
    except ValueError as exc:
        raise problem(path, values["office_hours"], f"{where} → office_hours: {exc}") from None
    return CityDesk(office_hours, texts.get("callback_promise", ""))


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
            office_hours=_setting_hours(settings.handoff_office_hours),
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


def _setting_hours(spec: str) -> Tuple[OfficeSpan, ...]:
    try:
        return parse_office_hours(spec)
    except ValueError as exc:
        raise ConfigError(f"HANDOFF_OFFICE_HOURS: {exc}") from None


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
