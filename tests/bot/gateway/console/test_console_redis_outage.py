"""Redis gone while staff use the console: a page and an API call say so (503) instead of a bare
500; nothing half-done. Uses its own redis-server on a free port, killed by the test."""
from __future__ import annotations

import dataclasses

from tests.bot.gateway.console.helpers import add_user, login
from tests.helpers.gateway import serve_gateway
from tests.helpers.redis_server import needs_redis_server, own_redis

pytestmark = needs_redis_server


async def test_console_says_redis_is_gone_instead_of_a_bare_500(settings, aiohttp_server, aiohttp_client, tmp_path):
    with own_redis(tmp_path) as redis_server:
        outage = dataclasses.replace(settings, redis_url=redis_server.url)
        _, server, _ = await serve_gateway(aiohttp_server, outage)
        add_user(outage, "li", "counsellor")
        client = await aiohttp_client(server)
        csrf = await login(client, "li")
        redis_server.kill()
        page = await client.get("/console/")
        assert page.status == 503 and "连不上数据库" in await page.text()
        api = await client.post("/console/api/items/1/claim", headers={"X-CSRF-Token": csrf})
        assert api.status == 503 and "没有执行" in (await api.json())["error"]
