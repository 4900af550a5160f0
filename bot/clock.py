"""Time in Asia/Shanghai, behind a seam so that tests can control it."""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Optional, Set
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]

# The shifted-clock test runs (make test-clock) move every process's clock with libfaketime, except
# Rasa's: TensorFlow's timed waits hand a deadline taken from the faked clock straight to the kernel,
# which then sleeps for the whole shift. Rasa gets the same shift here instead, for the code of ours
# that reads the time inside it (the time-expression reader). Never set in a deployment: production
# mode refuses it.
CLOCK_OFFSET_ENV = "ZHINAN_CLOCK_OFFSET_S"
_OFFSET = timedelta(seconds=float(os.environ.get(CLOCK_OFFSET_ENV) or 0))


def in_beijing(moment: datetime) -> datetime:
    """The same instant on Beijing's wall clock; a naive datetime is taken to be Beijing time."""
    return moment.astimezone(SHANGHAI) if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


# `make test` sets this to a directory: every process of the run then notes which test was running
# when it read the calendar, and `make test-clock` runs only those tests again at other instants
# (tests/helpers/calendar_readers.py). Outside a pytest run (no PYTEST_CURRENT_TEST) it notes nothing.
CLOCK_READS_DIR_ENV = "ZHINAN_CLOCK_READS_DIR"
_READS_DIR = os.environ.get(CLOCK_READS_DIR_ENV)
_noted_tests: Set[str] = set()


def _note_the_running_test(directory: str) -> None:
    # pytest names the running test here; processes a test starts inherit it
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    if test and test not in _noted_tests:
        _noted_tests.add(test)
        Path(directory).mkdir(parents=True, exist_ok=True)
        with (Path(directory) / f"reads-{os.getpid()}.txt").open("a", encoding="utf-8") as notes:
            notes.write(test + "\n")


def system_clock() -> datetime:
    """The current time, timezone-aware, in Asia/Shanghai."""
    if _READS_DIR:
        _note_the_running_test(_READS_DIR)
    return datetime.now(SHANGHAI) + _OFFSET


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
