"""When counsellors are on duty and how the queue is tuned: office hours and `HandoffConfig`."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time as dtime
from typing import List, Sequence, Tuple

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

    @classmethod
    def from_settings(cls, settings: Settings) -> "HandoffConfig":
        return cls(
            office_hours=parse_office_hours(settings.handoff_office_hours),
            no_staff_minutes=settings.handoff_no_staff_minutes,
            overdue_minutes=settings.handoff_overdue_minutes,
            default_handle_minutes=settings.handoff_default_handle_minutes,
            resume_intent=settings.handoff_resume_intent,
            ack_interval_s=settings.handoff_ack_interval_s,
        )

    def describe_hours(self) -> str:
        return "；".join(
            f"{_describe_days(s.days)} {s.start:%H:%M}–{s.end:%H:%M}" for s in self.office_hours
        )

    def in_office_hours(self, moment: datetime) -> bool:
        t = moment.time()
        return any(
            moment.isoweekday() in s.days and s.start <= t < s.end for s in self.office_hours
        )
