"""Run the pytest suite with the system clock moved to other instants (libfaketime).

A test that passes today but fails on another day or at another hour is a test that will turn CI red
by itself. This runs the tests that read the calendar (those `make test` noted in
results/calendar-readers/: tests/helpers/calendar_readers.py says how; without notes, `--all`, the
whole suite), except the browser tests, to keep it short, the tests that run TensorFlow in the test
process, and the timing tests, at instants that exercise the calendar-dependent code:

    weekday-10               the next Wednesday, 10:00 Beijing time (office hours, no quiet hours)
    next-year-saturday-2330  the first Saturday a year or more from today, 23:30 Beijing time (every
                             fixed date in data and tests expired; weekend, quiet hours, an hour
                             before midnight)

The clock is moved by a relative offset (FAKETIME="+Ns"), so every process the tests start sees the
same shifted time, and it keeps ticking; Rasa gets the same offset through ZHINAN_CLOCK_OFFSET_S
instead, since TensorFlow hangs under libfaketime (bot/clock.py). Redis stays on the real clock
(the machine's, and the fault tests' own redis-server, which cannot start under libfaketime): key
lifetimes are relative, so that is how a real deployment looks to Redis. In Rasa's Python 3.10
environment monotonic clocks are left alone so that timeouts and asyncio behave; the gateway's Python
3.11 sleeps with clock_nanosleep on an absolute monotonic deadline, which libfaketime rejects (EINVAL)
unless it shifts the monotonic clock too, so there the monotonic clock moves by the same offset
(harmless: only differences of it are ever used). Each instant runs the suite's two parts as `make test`
does, each in its environment (tests/conftest.py RASA_PART): the gateway's tests under
GATEWAY_PYTHON, the rest under RASA_PYTHON.

The instants can run side by side (`--jobs 2`, what `make test-clock` does): every test keeps its
own Redis key prefix, free ports and temporary directories, and most of a run's time is spent
waiting on the stack, not computing, so two runs at once take little more than one. Each run's
output is kept apart and printed when it ends.

    python scripts/test_shifted_clock.py [--jobs N] [--all] [INSTANT …] [-- PYTEST ARGS …]
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Dict, List, Sequence, TextIO, Tuple
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite_jobs import CALENDAR_READERS_DIR, NO_TESTS_COLLECTED, Job, part_commands, run_side_by_side, summary  # noqa: E402

BEIJING = ZoneInfo("Asia/Shanghai")
# TensorFlow cannot run under libfaketime (bot/clock.py says why): the stack's Rasa gets the shift
# another way (tests/conftest.py), and the tests that load the model in the test process read no
# clock, so they stay out, like the browser tests.
# The timing tests compare reply times within a run: they read no calendar, and the runs side by side
# would be the very noise they measure.
DEFAULT_PYTEST_ARGS = ["-m", "not browser and not tensorflow and not timing", "-q", "-p", "no:cacheprovider"]
# One run of the suite takes a few minutes here; a hang must fail CI, not use up its time.
RUN_TIMEOUT_S = 45 * 60


def _next_weekday_at(now: datetime, weekday: int, hour: int, minute: int) -> datetime:
    days = (weekday - now.weekday()) % 7 or 7  # strictly after today: never "now"
    return (now + timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def _saturday_night_a_year_ahead(now: datetime) -> datetime:
    return _next_weekday_at(now + timedelta(days=364), 5, 23, 30)  # 365 to 371 days ahead


# Two instants, not three: the weekend, the quiet hours, the hour before midnight and every fixed date
# expired are one instant's test (each instant costs CI minutes); office hours on a weekday the other.
INSTANTS: Dict[str, Callable[[datetime], datetime]] = {
    "weekday-10": lambda now: _next_weekday_at(now, 2, 10, 0),
    "next-year-saturday-2330": _saturday_night_a_year_ahead,
}


def faketime_offset(target: datetime, now: datetime) -> str:
    """libfaketime's relative form, whole seconds: "+123456"."""
    return f"{int((target - now).total_seconds()):+d}"


def split_args(argv: Sequence[str]) -> Tuple[List[str], List[str]]:
    if "--" in argv:
        cut = list(argv).index("--")
        return list(argv[:cut]), list(argv[cut + 1 :])
    return list(argv), []


def run_at(name: str, pytest_args: List[str], out: TextIO = sys.stdout) -> int:
    now = datetime.now(BEIJING)
    target = INSTANTS[name](now)
    offset = faketime_offset(target, now)
    print(f"== {name}: clock at {target:%Y-%m-%d %a %H:%M} Beijing time ({offset} s)", file=out, flush=True)
    started = time.monotonic()
    deadline = started + RUN_TIMEOUT_S
    code = 0
    for command, fake_monotonic in zip(part_commands(pytest_args), (True, False)):
        env = {**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "0" if fake_monotonic else "1"}
        try:
            part = subprocess.call(["faketime", "-f", offset, *command], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"== {name}: no result after {RUN_TIMEOUT_S} s, stopped", file=out, flush=True)
            part = 124
        code = code or (0 if part == NO_TESTS_COLLECTED else part)  # a part may have no calendar readers
    print(f"== {name}: exit {code} after {time.monotonic() - started:.0f} s", file=out, flush=True)
    return code


def instant_job(name: str, pytest_args: List[str]) -> Job:
    return Job(name, lambda out: run_at(name, pytest_args, out))


def parse_jobs(names: List[str]) -> Tuple[int, List[str]]:
    """`--jobs N` (or `-jN`) among the instant names: how many run at once (1 by default)."""
    if "--jobs" in names:
        at = names.index("--jobs")
        return int(names[at + 1]), names[:at] + names[at + 2 :]
    for item in names:
        if item.startswith("-j") and item[2:].isdigit():
            return int(item[2:]), [n for n in names if n != item]
    return 1, names


def selection(every_test: bool) -> List[str]:
    """The calendar readers `make test` noted, or the whole suite when asked or when there are no notes."""
    if not every_test and any(CALENDAR_READERS_DIR.glob("*.txt")):
        # one token: pytest takes a separate value for a path to test before it knows the option
        return [f"--calendar-readers={CALENDAR_READERS_DIR}"]
    if not every_test:
        print(f"no notes of calendar readers in {CALENDAR_READERS_DIR} (`make test` writes them):"
              " the whole suite runs at each instant", flush=True)
    return []


def main(argv: Sequence[str]) -> int:
    names, extra = split_args(argv)
    every_test = "--all" in names
    names = [n for n in names if n != "--all"]
    jobs, names = parse_jobs(names)
    names = names or list(INSTANTS)
    unknown = [n for n in names if n not in INSTANTS]
    if unknown:
        print(f"unknown instant(s) {unknown}; choose from {list(INSTANTS)}", file=sys.stderr)
        return 2
    if shutil.which("faketime") is None:
        print("faketime is not installed: run `make install-system` (Debian package faketime)", file=sys.stderr)
        return 2
    pytest_args = DEFAULT_PYTEST_ARGS + selection(every_test) + extra
    if jobs > 1:
        results = run_side_by_side([instant_job(name, pytest_args) for name in names], jobs)
    else:
        results = {name: run_at(name, pytest_args) for name in names}
    return summary(results)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
