"""make test-clock's instants: always ahead of now, on the weekday and hour they are named for."""
from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta

import pytest

from bot.clock import SHANGHAI
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
    saturday = shifted.INSTANTS["saturday-2330"](now)
    next_year = shifted.INSTANTS["next-year"](now)
    assert (weekday.strftime("%a %H:%M"), saturday.strftime("%a %H:%M")) == ("Wed 10:00", "Sat 23:30")
    for instant in (weekday, saturday):  # on a later day, within the coming week
        assert now.date() < instant.date() <= now.date() + timedelta(days=7)
    assert next_year.date() == (now + timedelta(days=365)).date() and next_year.hour == 15


def test_offset_is_whole_signed_seconds_and_arguments_split_at_the_double_dash():
    now = datetime(2026, 12, 4, 23, 0, tzinfo=SHANGHAI)
    assert shifted.faketime_offset(now + timedelta(days=1, seconds=30.7), now) == "+86430"
    assert shifted.split_args(["next-year", "--", "-k", "camp"]) == (["next-year"], ["-k", "camp"])
    assert shifted.split_args([]) == ([], [])
