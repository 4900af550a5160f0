"""Shared fixtures: real Redis under a per-test key prefix, settings pointing at it; and the split
of the suite between the two environments (`--env-part`)."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import AsyncIterator, Dict, Iterator, List, Optional

import pytest
import redis as sync_redis

from bot.clock import CLOCK_OFFSET_ENV
from bot.redis_client import create_redis
from bot.settings import Settings, load_settings

# notes which tests read the calendar (make test) and runs only those (make test-clock)
pytest_plugins = ["tests.helpers.calendar_readers"]

TESTS_DIR = Path(__file__).resolve().parent
# Test modules whose own process needs Rasa's environment (.venv): they import rasa, rasa_sdk or the
# numeric stack of the actions and the NLU. `make test` runs them with `--env-part rasa` under
# .venv and everything else with `--env-part gateway` under .venv-gateway, so the gateway's tests
# (and the in-process gateway of the stack tests) run on the aiohttp the gateway really runs.
# A gateway-part module that imports one of those packages fails to collect there: add it here.
RASA_PART = tuple(
    TESTS_DIR / path
    for path in (
        "actions",  # rasa_sdk
        "bot/rasa_server",  # components, policy, stores and patches run inside Rasa
        "bot/language",  # jieba and the time parser's jionlp are Rasa-environment packages
        "bot/test_redis_failover_rasa.py",  # Rasa's lock store and redis-py 4.6 under failover
        "bot/services/test_knowledge.py",  # knowledge retrieval (numpy, scikit-learn, e5) runs in Rasa and the actions
        "data",  # checks data/knowledge/ with the retrieval's normaliser
        "questions",  # the everyday corpus is read by scripts/ (eval-questions)
        "scripts",  # the scripts run from .venv (make bench, bench-compare, test-clock)
    )
)
ENV_PARTS = ("gateway", "rasa")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--env-part", choices=ENV_PARTS, default=None,
        help="only the tests of one environment (tests/conftest.py RASA_PART); default: all",
    )


def in_rasa_part(path: Path) -> bool:
    path = path.resolve()
    return any(path == part or part in path.parents for part in RASA_PART)


# A test with one of these needs the trained model: `make test` runs the rest while it trains.
MODEL_FIXTURES = ("stack_env", "agent")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the marker
def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    for item in items:
        uses_model = any(name in getattr(item, "fixturenames", ()) for name in MODEL_FIXTURES)
        if uses_model or item.get_closest_marker("tensorflow"):
            item.add_marker(pytest.mark.model)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> Optional[bool]:
    part = config.getoption("--env-part")
    if part == "gateway" and in_rasa_part(collection_path):
        return True
    is_test_module = collection_path.suffix == ".py" and collection_path.name.startswith("test_")
    if part == "rasa" and is_test_module and not in_rasa_part(collection_path):
        return True
    return None


# Tests run against a real Redis: REDIS_URL when set, else the machine's local Redis.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _unique_prefix() -> str:
    # Rasa requires an alphanumeric key prefix, so tests use the same shape.
    return "zt" + uuid.uuid4().hex[:12]


def _delete_prefix(url: str, prefix: str) -> None:
    client = sync_redis.from_url(url)
    try:
        for pattern in (f"{prefix}:*", f"{prefix}lock:*"):
            batch = list(client.scan_iter(pattern, count=1000))
            for start in range(0, len(batch), 500):
                client.delete(*batch[start : start + 500])
    finally:
        client.close()


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings on the test Redis with a key prefix of this test's own (deleted afterwards)."""
    prefix = _unique_prefix()
    monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("REDIS_KEY_PREFIX", prefix)
    yield load_settings()
    _delete_prefix(TEST_REDIS_URL, prefix)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator:
    """An asyncio Redis client (decoded strings) for the test's settings."""
    client = create_redis(settings)
    yield client
    await client.aclose() if hasattr(client, "aclose") else await client.close()


@pytest.fixture
async def wechat_env(settings: Settings, redis, aiohttp_server) -> AsyncIterator:
    """The fake WeChat API on a real port, for what sends to users (tests/helpers/fake_wechat.py)."""
    from tests.helpers.fake_wechat import serve_fake_wechat  # the gateway's modules: only when used

    async with serve_fake_wechat(settings, redis, aiohttp_server) as env:
        yield env


@pytest.fixture
def action_runtime(settings: Settings) -> Iterator[Settings]:
    """Point `actions.runtime` at the test's settings and Redis for the duration of a test."""
    from actions import runtime

    runtime.settings.cache_clear()
    runtime.redis.cache_clear()
    yield settings
    runtime.settings.cache_clear()
    runtime.redis.cache_clear()


def rasa_clock_env() -> Dict[str, str]:
    """Under `make test-clock` (libfaketime, FAKETIME="+N"), Rasa runs on the real clock with the
    same shift given as ZHINAN_CLOCK_OFFSET_S: see bot/clock.py for why TensorFlow cannot run under
    libfaketime. Otherwise nothing changes."""
    shift = os.environ.get("FAKETIME", "")
    if not shift:
        return {}
    return {"LD_PRELOAD": "", "FAKETIME": "", CLOCK_OFFSET_ENV: str(int(shift))}


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Rasa (real trained model) and the action server on free ports, once per test session.

    Yields the environment that defines the stack's settings; the `stack_settings` fixture
    turns it into a Settings object for in-process gateways.
    """
    from bot.stack import StackError, latest_model
    from tests.helpers.rasa_side import rasa_side_variables, start_rasa_side

    model = latest_model()
    if model is None:
        pytest.fail("no trained model in models/: run `make train` (make test does it)")
    prefix = _unique_prefix()
    env = rasa_side_variables(TEST_REDIS_URL, prefix)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        try:
            stack = start_rasa_side(env, tmp_path_factory.mktemp("stack-logs"), model, rasa_clock_env())
        except StackError as exc:
            pytest.fail(f"could not start the stack: {exc}")
        try:
            yield env
        finally:
            stack.stop()
            _delete_prefix(TEST_REDIS_URL, prefix)


@pytest.fixture
def stack_settings(stack_env: dict, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a gateway talking to the session's real Rasa and action server."""
    for name, value in stack_env.items():
        monkeypatch.setenv(name, value)
    return load_settings()
