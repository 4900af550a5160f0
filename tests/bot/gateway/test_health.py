"""/healthz checks what the gateway talks to: Redis and Rasa, not the action server (Rasa's neighbour)."""
from __future__ import annotations

import dataclasses

import aiohttp

from bot.stack import free_port
from tests.helpers.gateway import gateway_app, serve_gateway
from tests.helpers.redis_server import needs_redis_server, own_redis


async def _healthz(server) -> tuple:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/healthz")) as resp:
            return resp.status, await resp.json()


async def test_healthy_without_reaching_the_action_server(aiohttp_server, settings):
    # As in Kubernetes: the NetworkPolicy keeps the action server from the gateway.
    unreachable = dataclasses.replace(settings, action_server_url=f"http://127.0.0.1:{free_port()}")
    side = await serve_gateway(aiohttp_server, unreachable)
    status, body = await _healthz(side.server)
    assert status == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"redis", "rasa"}


async def test_degraded_when_rasa_is_down(aiohttp_server, settings):
    port = free_port()
    app = gateway_app(settings, f"http://127.0.0.1:{free_port()}", port)  # nothing listens there
    server = await aiohttp_server(app, port=port)
    status, body = await _healthz(server)
    assert status == 503
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["rasa"]["ok"] is False


@needs_redis_server
async def test_reports_a_redis_that_could_lose_bookings_without_failing(aiohttp_server, settings, tmp_path):
    with own_redis(tmp_path, "--appendonly", "no") as redis_server:
        side = await serve_gateway(aiohttp_server, dataclasses.replace(settings, redis_url=redis_server.url))
        status, body = await _healthz(side.server)
    assert status == 200, body  # informs; restarting the gateway would not fix Redis
    assert any("appendonly" in warning for warning in body["redis_durability"])


@needs_redis_server
async def test_no_durability_warning_on_a_redis_with_the_append_only_file(aiohttp_server, settings, tmp_path):
    with own_redis(tmp_path, "--appendonly", "yes", "--appendfsync", "always") as redis_server:
        side = await serve_gateway(aiohttp_server, dataclasses.replace(settings, redis_url=redis_server.url))
        status, body = await _healthz(side.server)
    assert status == 200, body
    assert body["redis_durability"] == []
