"""The clock seam: Beijing time, a FrozenClock for tests, and the shift Rasa gets under make test-clock."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from bot.clock import CLOCK_OFFSET_ENV, SHANGHAI, FrozenClock, in_beijing, system_clock
from bot.settings import PROJECT_ROOT


def test_system_clock_is_beijing_time():
    now = system_clock()
    assert now.utcoffset() == timedelta(hours=8)
    assert abs((now - datetime.now(SHANGHAI)).total_seconds()) < 5


def test_in_beijing_moves_an_instant_onto_beijing_wall_clock():
    now_utc = datetime.now(timezone.utc)
    seen = in_beijing(now_utc)
    assert seen == now_utc and seen.utcoffset() == timedelta(hours=8)
    naive = datetime.now()
    assert in_beijing(naive) == naive.replace(tzinfo=SHANGHAI)  # naive: already Beijing time


def test_a_process_given_an_offset_runs_that_far_ahead():
    shift = timedelta(days=400, hours=7)
    env = {**os.environ, CLOCK_OFFSET_ENV: str(int(shift.total_seconds()))}
    out = subprocess.run(
        [sys.executable, "-c", "from bot.clock import system_clock; print(system_clock().isoformat())"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    seen = datetime.fromisoformat(out.strip())
    assert abs((seen - (datetime.now(SHANGHAI) + shift)).total_seconds()) < 30


def test_frozen_clock_moves_only_when_told():
    clock = FrozenClock(datetime(2030, 1, 1, 9, 0))
    assert clock().tzinfo is not None and clock() == clock()
    clock.advance(hours=2)
    assert clock().hour == 11
