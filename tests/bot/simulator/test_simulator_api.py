"""The simulator's API on the real gateway (Rasa double): it posts to the configured gateway,
never where the Host header points, and says Redis is gone (503) instead of a bare 500."""
from __future__ import annotations

import dataclasses
from typing import List

from aiohttp import web

from bot.simulator.views import REDIS_DOWN_TEXT, own_wechat_url
from tests.bot.console.helpers import free_port, gateway_app, start_rasa
from tests.redis_server import needs_redis_server, start_redis_server


async def test_the_target_comes_from_the_settings_not_from_the_host_header(settings, aiohttp_server, aiohttp_client):
    decoy_calls: List[str] = []

    async def decoy(request: web.Request) -> web.Response:
        decoy_calls.append(request.path_qs)
        return web.Response(text="success")

    decoy_app = web.Application()
    decoy_app.router.add_route("*", "/{tail:.*}", decoy)
    decoy_server = await aiohttp_server(decoy_app)
    rasa = await start_rasa(aiohttp_server)
    port = free_port()
    client = await aiohttp_client(await aiohttp_server(gateway_app(settings, rasa.url, port), port=port))

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
    redis_port = free_port()
    proc = start_redis_server(redis_port, tmp_path)
    try:
        outage = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{redis_port}/0")
        rasa = await start_rasa(aiohttp_server)
        port = free_port()
        client = await aiohttp_client(await aiohttp_server(gateway_app(outage, rasa.url, port), port=port))
        inbox = await client.get("/simulator/api/inbox", params={"openid": "sim-outage", "after": "0"})
        assert inbox.status == 200
        proc.kill()
        proc.wait(timeout=10)

        inbox = await client.get("/simulator/api/inbox", params={"openid": "sim-outage", "after": "0"})
        assert inbox.status == 503 and (await inbox.json())["error"] == REDIS_DOWN_TEXT
        sent = await client.post("/simulator/api/send", json={"openid": "sim-outage", "text": "你好"})
        assert sent.status in (200, 503)  # the WeChat path answers "service unavailable" itself
        # no traceback from the request handling (the job runner's own retries are not this test's)
        assert not [r for r in caplog.records if r.name.startswith(("bot.simulator", "aiohttp")) and r.exc_info]
    finally:
        proc.kill()
        proc.wait(timeout=10)
