"""Fixtures of the tests that run the trained model in the test process (a Rasa worker's view)."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from rasa.core.agent import Agent

import bot.rasa_server.components  # noqa: F401  (our model loading, as a Rasa worker has it)
from bot.clock import FrozenClock, system_clock
from bot.rasa_server import entity_components
from bot.stack import latest_model


@pytest.fixture(scope="module")
def agent() -> Agent:
    logging.getLogger("rasa").setLevel(logging.WARNING)
    return Agent.load(str(latest_model()))


@pytest.fixture
def frozen_clock(monkeypatch) -> FrozenClock:
    """One instant for every parse (times and facts are read against it): a second before midnight,
    so that a second more would be tomorrow, on a day relative to the day the test runs."""
    clock = FrozenClock(system_clock().replace(hour=23, minute=59, second=59, microsecond=0) - timedelta(days=1))
    monkeypatch.setattr(entity_components, "system_clock", clock)
    return clock
