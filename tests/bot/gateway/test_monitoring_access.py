"""/healthz and /metrics: open in development, restricted to loopback clients or a bearer token on demand."""
from __future__ import annotations

import uuid

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.gateway.app import create_app
from bot.gateway.monitoring_access import is_loopback
from bot.settings import load_settings
from bot.stack import monitoring_headers
from tests.helpers.network import own_non_loopback_addresses

PATHS = ("/metrics", "/healthz")
PROXIED = {"X-Forwarded-For": "203.0.113.7"}


def _settings(monkeypatch, **env: str):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


@pytest.mark.parametrize("path", PATHS)
async def test_open_by_default_as_in_development(aiohttp_client, settings, path):
    assert settings.monitoring_access == "open"
    client = await aiohttp_client(create_app(settings))
    for headers in ({}, PROXIED):
        resp = await client.get(path, headers=headers)
        assert resp.status not in (401, 403), await resp.text()


@pytest.mark.parametrize("path", PATHS)
async def test_loopback_mode_serves_local_clients_only(aiohttp_client, settings, monkeypatch, path):
    settings = _settings(monkeypatch, MONITORING_ACCESS="loopback")
    client = await aiohttp_client(create_app(settings))  # the test client connects from 127.0.0.1
    assert (await client.get(path)).status not in (401, 403)
    # Through a reverse proxy on this machine the peer is 127.0.0.1 too; the proxy's header tells.
    proxied = await client.get(path, headers=PROXIED)
    assert proxied.status == 403 and "本机" in await proxied.text()


async def test_loopback_mode_refuses_a_client_on_another_address(settings, monkeypatch):
    addresses = [a for a in own_non_loopback_addresses() if ":" not in a]
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address")
    settings = _settings(monkeypatch, MONITORING_ACCESS="loopback")
    server = TestServer(create_app(settings), host=addresses[0])
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            for path in PATHS:
                async with session.get(server.make_url(path)) as resp:
                    assert resp.status == 403, path
            async with session.get(server.make_url("/console/login")) as resp:
                assert resp.status == 200  # other paths are not concerned
    finally:
        await server.close()


@pytest.mark.parametrize("path", PATHS)
async def test_token_mode_needs_the_bearer_token(aiohttp_client, settings, monkeypatch, path):
    token = "mon-" + uuid.uuid4().hex
    settings = _settings(monkeypatch, MONITORING_ACCESS="token", MONITORING_TOKEN=token)
    client = await aiohttp_client(create_app(settings))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}, {"Authorization": f"Bearer {token}x"}):
        resp = await client.get(path, headers=headers)
        assert resp.status == 401, headers
        assert resp.headers["WWW-Authenticate"] == "Bearer"
    good = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert good.status not in (401, 403)
    assert monitoring_headers(settings) == {"Authorization": f"Bearer {token}"}  # what bot/stack.py sends


async def test_metrics_body_is_served_once_allowed(aiohttp_client, settings, monkeypatch):
    settings = _settings(monkeypatch, MONITORING_ACCESS="token", MONITORING_TOKEN="t" * 40)
    client = await aiohttp_client(create_app(settings))
    resp = await client.get("/metrics", headers={"Authorization": "Bearer " + "t" * 40})
    assert resp.status == 200 and "zhinan_messages_total" in await resp.text()


def test_bad_monitoring_settings_are_refused(settings, monkeypatch):
    monkeypatch.setenv("MONITORING_ACCESS", "public")
    with pytest.raises(ValueError, match="MONITORING_ACCESS"):
        load_settings()
    monkeypatch.setenv("MONITORING_ACCESS", "token")
    monkeypatch.delenv("MONITORING_TOKEN", raising=False)
    with pytest.raises(ValueError, match="MONITORING_TOKEN"):
        load_settings()


@pytest.mark.parametrize(
    "address, loopback",
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("192.0.2.2", False), ("::ffff:192.0.2.2", False), ("fd00::2", False), ("", False), (None, False)],
)
def test_is_loopback(address, loopback):
    assert is_loopback(address) is loopback
