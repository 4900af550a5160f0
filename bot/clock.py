"""Time in Asia/Shanghai, behind a seam so that tests can control it."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Optional
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, timezone-aware, in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


class FrozenClock:
    """A controllable clock for tests: call it for the time, `advance()` to move it."""

    def __init__(self, start: Optional[datetime] = None) -> None:
        self.current = start or system_clock()
        if self.current.tzinfo is None:
            self.current = self.current.replace(tzinfo=SHANGHAI)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
