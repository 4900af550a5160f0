"""Redis gone while staff use the console: a page and an API call say so (503) instead of a bare
500; nothing half-done. Uses its own redis-server on a free port, killed by the test."""
from __future__ import annotations

import dataclasses

from tests.bot.console.helpers import add_user, gateway_app, login, start_rasa
from tests.redis_server import free_port, needs_redis_server, start_redis_server

pytestmark = needs_redis_server


async def test_console_says_redis_is_gone_instead_of_a_bare_500(settings, aiohttp_server, aiohttp_client, tmp_path):
    port = free_port()
    proc = start_redis_server(port, tmp_path)
    try:
        outage = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
        rasa = await start_rasa(aiohttp_server)
        gateway_port = free_port()
        server = await aiohttp_server(gateway_app(outage, rasa.url, gateway_port), port=gateway_port)
        add_user(outage, "li", "counsellor")
        client = await aiohttp_client(server)
        csrf = await login(client, "li")
        proc.kill()
        proc.wait(timeout=10)
        page = await client.get("/console/")
        assert page.status == 503 and "连不上数据库" in await page.text()
        api = await client.post("/console/api/items/1/claim", headers={"X-CSRF-Token": csrf})
        assert api.status == 503 and "没有执行" in (await api.json())["error"]
    finally:
        proc.kill()
        proc.wait(timeout=10)
