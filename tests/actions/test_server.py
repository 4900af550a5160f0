"""The action server as `make run` starts it: loopback only, and only Rasa (holding the secret) may call it.

Without these, anyone who reaches port 5055 could POST an invented sender_id with
`next_action=action_my_bookings` and read (or cancel) that user's bookings.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Dict, Iterator, Optional, Tuple

import pytest

from bot.settings import Settings, load_settings
from bot.stack import Stack, StackError, free_port
from tests.conftest import TEST_REDIS_URL, _delete_prefix, _unique_prefix
from tests.helpers.network import assert_loopback_only

pytestmark = pytest.mark.slow

TOKEN = "test-action-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The action server alone, started by bot.stack on a free port with a known secret."""
    prefix, port = _unique_prefix(), free_port()
    env = {
        "REDIS_URL": TEST_REDIS_URL,
        "REDIS_KEY_PREFIX": prefix,
        "ACTION_SERVER_PORT": str(port),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{port}",
        "ACTION_SERVER_TOKEN": TOKEN,
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        settings = load_settings()
    stack = Stack(settings, tmp_path_factory.mktemp("action-logs"), env=env)
    try:
        stack.start_action_server()
    except StackError as exc:
        stack.stop()
        pytest.fail(f"could not start the action server: {exc}")
    try:
        yield settings
    finally:
        stack.stop()
        _delete_prefix(TEST_REDIS_URL, prefix)


def _post_webhook(settings: Settings, headers: Optional[Dict[str, str]] = None) -> Tuple[int, dict]:
    """What an attacker tried: run action_my_bookings for an OpenID of their choosing."""
    sender = "o" + uuid.uuid4().hex[:20]
    call = {
        "next_action": "action_my_bookings",
        "sender_id": sender,
        "tracker": {"sender_id": sender, "slots": {}, "latest_message": {}, "events": []},
        "domain": {},
        "version": "3.6.2",
    }
    request = urllib.request.Request(
        f"{settings.action_server_url}/webhook",
        data=json.dumps(call).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_a_webhook_call_without_the_secret_is_refused(action_server):
    status, body = _post_webhook(action_server)
    assert status == 401, body
    assert "responses" not in body


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong-" + uuid.uuid4().hex},
        {"Authorization": "Bearer " + TOKEN[:-1]},  # a prefix of the secret is not the secret
        {"Authorization": TOKEN},  # the scheme is part of the check
        {"Authorization": "Bearer "},
    ],
)
def test_a_webhook_call_with_a_wrong_secret_is_refused(action_server, headers):
    status, body = _post_webhook(action_server, headers)
    assert status == 401, body


def test_a_webhook_call_with_the_secret_runs_the_action(action_server):
    status, body = _post_webhook(action_server, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    assert "您目前没有预约" in body["responses"][0]["text"]


def test_health_stays_open_for_the_local_checks(action_server):
    with urllib.request.urlopen(f"{action_server.action_server_url}/health", timeout=5) as resp:
        assert resp.status == 200


def test_the_action_server_listens_on_loopback_only(action_server):
    assert_loopback_only(action_server.action_server_port)
