"""The simulator's API on the real gateway (Rasa double): it posts to the configured gateway,
never where the Host header points, and says Redis is gone (503) instead of a bare 500."""
from __future__ import annotations

import dataclasses
from typing import List

from aiohttp import web

from bot.gateway.simulator.views import REDIS_DOWN_TEXT, own_wechat_url
from tests.helpers.gateway import serve_gateway
from tests.helpers.redis_server import needs_redis_server, own_redis


async def test_the_target_comes_from_the_settings_not_from_the_host_header(settings, aiohttp_server, aiohttp_client):
    decoy_calls: List[str] = []

    async def decoy(request: web.Request) -> web.Response:
        decoy_calls.append(request.path_qs)
        return web.Response(text="success")

    decoy_app = web.Application()
    decoy_app.router.add_route("*", "/{tail:.*}", decoy)
    decoy_server = await aiohttp_server(decoy_app)
    _, server, rasa = await serve_gateway(aiohttp_server, settings)
    client = await aiohttp_client(server)

    resp = await client.post(
        "/simulator/api/send",
        json={"openid": "sim-hostheader", "text": "你好"},
        headers={"Host": f"127.0.0.1:{decoy_server.port}"},
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["replies"] == ["机器人收到：你好"]
    assert decoy_calls == [] and rasa.texts("sim-hostheader") == ["你好"]


def test_the_own_url_uses_loopback_for_a_wildcard_bind(settings):
    assert own_wechat_url(dataclasses.replace(settings, gateway_host="0.0.0.0", gateway_port=8123)) == (
        "http://127.0.0.1:8123/wechat"
    )
    assert own_wechat_url(dataclasses.replace(settings, gateway_host="::1", gateway_port=8123)) == (
        "http://[::1]:8123/wechat"
    )


@needs_redis_server
async def test_redis_gone_the_simulator_answers_503_with_a_plain_message(
    settings, aiohttp_server, aiohttp_client, tmp_path, caplog
):
    with own_redis(tmp_path) as redis_server:
        outage = dataclasses.replace(settings, redis_url=redis_server.url)
        _, server, _ = await serve_gateway(aiohttp_server, outage)
        client = await aiohttp_client(server)
        inbox = await client.get("/simulator/api/inbox", params={"openid": "sim-outage", "after": "0"})
        assert inbox.status == 200
        redis_server.kill()

        inbox = await client.get("/simulator/api/inbox", params={"openid": "sim-outage", "after": "0"})
        assert inbox.status == 503 and (await inbox.json())["error"] == REDIS_DOWN_TEXT
        sent = await client.post("/simulator/api/send", json={"openid": "sim-outage", "text": "你好"})
        assert sent.status in (200, 503)  # the WeChat path answers "service unavailable" itself
        # no traceback from the request handling (the job runner's own retries are not this test's)
        assert not [r for r in caplog.records if r.name.startswith(("bot.gateway.simulator", "aiohttp")) and r.exc_info]
