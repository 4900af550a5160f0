"""scripts/redis_per_message.py: Redis's own command counters, minus what the idle stack sends."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import redis

from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

cost = importlib.import_module("redis_per_message")


def test_the_idle_rate_is_taken_off_and_the_scripts_own_commands_left_out() -> None:
    busy = {"get": 100, "expire": 42, "hgetall": 3, "info": 9, "config|resetstat": 1}
    idle = {"get": 1.0, "hgetall": 0.1}
    costs = cost.per_message(busy, idle, elapsed=20.0, messages=10)
    # get: (100 - 1.0 * 20) / 10; hgetall: (3 - 0.1 * 20) / 10 = 0.1; info and config are ours.
    assert costs == pytest.approx({"get": 8.0, "expire": 4.2, "hgetall": 0.1})


def test_a_command_the_idle_stack_explains_entirely_is_not_a_per_message_cost() -> None:
    assert cost.per_message({"zrangebyscore": 20}, {"zrangebyscore": 1.0}, elapsed=20.0, messages=5) == {}


def test_the_counters_are_read_from_a_real_redis() -> None:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    key = "ztredispermessage:probe"
    try:
        before = cost.command_counts(client).get("setex", 0)
        client.setex(key, 30, "1")
        client.setex(key, 30, "2")
        assert cost.command_counts(client)["setex"] >= before + 2
    finally:
        client.delete(key)
        client.close()
