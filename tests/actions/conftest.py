"""Fixtures shared by the booking action tests (test_booking*.py)."""
from __future__ import annotations

from typing import AsyncIterator

import pytest

from actions import runtime
from actions.booking import common as booking_common
from bot.clock import FrozenClock
from bot.services.booking.service import BookingService
from tests.actions.test_booking import T0


@pytest.fixture
async def env(action_runtime, monkeypatch) -> AsyncIterator[BookingService]:
    """The booking service on the test Redis, its catalogue loaded, the actions' clock frozen at T0."""
    monkeypatch.setattr(booking_common, "CLOCK", FrozenClock(T0))
    service = booking_common.booking_service()
    await service.catalogue.sync_from_file()
    yield service
    await runtime.redis().close()
