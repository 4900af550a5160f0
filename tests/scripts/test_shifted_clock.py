"""make test-clock's instants: always ahead of now, on the weekday and hour they are named for; and its
selection: only the tests `make test` saw reading the calendar (tests/helpers/calendar_readers.py)."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Dict, List

import pytest

from bot.clock import CLOCK_READS_DIR_ENV, SHANGHAI
from bot.settings import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("test_shifted_clock", PROJECT_ROOT / "scripts" / "test_shifted_clock.py")
shifted = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shifted)

# a whole week of starting points, at awkward hours, including the named instants themselves
STARTS = [datetime(2026, 12, 7, 0, 0, tzinfo=SHANGHAI) + timedelta(hours=h) for h in range(0, 24 * 7, 5)]
STARTS += [datetime(2026, 12, 9, 10, 0, tzinfo=SHANGHAI), datetime(2026, 12, 12, 23, 30, tzinfo=SHANGHAI)]


@pytest.mark.parametrize("now", STARTS, ids=lambda d: d.strftime("%a-%H%M"))
def test_instants_lie_ahead_on_their_weekday_and_hour(now):
    weekday = shifted.INSTANTS["weekday-10"](now)
    next_year = shifted.INSTANTS["next-year-saturday-2330"](now)
    assert (weekday.strftime("%a %H:%M"), next_year.strftime("%a %H:%M")) == ("Wed 10:00", "Sat 23:30")
    assert now.date() < weekday.date() <= now.date() + timedelta(days=7)  # on a later day, this coming week
    assert 365 <= (next_year.date() - now.date()).days <= 371  # a year on: every fixed date has passed


def test_offset_is_whole_signed_seconds_and_arguments_split_at_the_double_dash():
    now = datetime(2026, 12, 4, 23, 0, tzinfo=SHANGHAI)
    assert shifted.faketime_offset(now + timedelta(days=1, seconds=30.7), now) == "+86430"
    assert shifted.split_args(["weekday-10", "--", "-k", "camp"]) == (["weekday-10"], ["-k", "camp"])
    assert shifted.split_args([]) == ([], [])


SAMPLE_TESTS = """
import subprocess, sys
from datetime import datetime
from bot.clock import FrozenClock, system_clock

def test_asks_for_the_time():
    assert system_clock().year > 2000

def test_starts_a_process_that_asks_for_it():
    subprocess.run([sys.executable, "-c", "from bot.clock import system_clock; system_clock()"], check=True)

def test_keeps_a_clock_of_its_own():
    assert FrozenClock(datetime(2030, 1, 1, 9))().hour == 9
"""


def _pytest(folder: Path, args: List[str], env: Dict[str, str]) -> str:
    command = [sys.executable, "-m", "pytest", "-p", "tests.helpers.calendar_readers", "-q",
               "-p", "no:cacheprovider", "--rootdir", str(folder), str(folder), *args]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(PROJECT_ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_make_test_notes_the_tests_that_read_the_calendar_and_only_those_run_again(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS, encoding="utf-8")
    notes = tmp_path / "notes"
    plain = {k: v for k, v in os.environ.items() if k not in (CLOCK_READS_DIR_ENV, "PYTEST_CURRENT_TEST")}
    _pytest(tmp_path, [], {**plain, CLOCK_READS_DIR_ENV: str(notes)})
    noted = {line for f in notes.glob("*.txt") for line in f.read_text(encoding="utf-8").split()}
    assert noted == {"test_sample.py::test_asks_for_the_time", "test_sample.py::test_starts_a_process_that_asks_for_it"}
    again = _pytest(tmp_path, [f"--calendar-readers={notes}"], plain)
    assert "2 passed, 1 deselected" in again


def test_without_notes_the_whole_suite_runs_at_each_instant(monkeypatch, tmp_path):
    monkeypatch.setattr(shifted, "CALENDAR_READERS_DIR", tmp_path / "none")
    assert shifted.selection(every_test=False) == []
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / "reads-1.txt").write_text("tests/x.py::test_y\n", encoding="utf-8")
    assert shifted.selection(every_test=False) == [f"--calendar-readers={tmp_path / 'none'}"]
    assert shifted.selection(every_test=True) == []
