"""The project's fake WeChat API (bot.gateway.wechat.fake_api) served on a real port, for the tests
of what sends to users (push, campaigns, satisfaction requests, the campaigns CLI): the
`wechat_env` fixture of tests/conftest.py. Deliveries are counted where WeChat would count them:
at the HTTP server.
"""
from __future__ import annotations

import dataclasses
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

import aiohttp
from aiohttp import web

from bot.gateway.appkeys import REDIS, SETTINGS
from bot.clock import SHANGHAI, FrozenClock
from bot.gateway.wechat.api_client import WeChatClient
from bot.gateway.wechat.fake_api import setup_fake_wechat_routes
from bot.gateway.wechat.window import CustomerServiceWindow
from bot.settings import Settings

SEND_PATHS = ("/fake-wechat/cgi-bin/message/custom/send", "/fake-wechat/cgi-bin/message/template/send")


class WeChatEnv:
    def __init__(self, settings, redis, session, base_url: str, clock: FrozenClock) -> None:
        self.settings = dataclasses.replace(settings, wechat_api_base=base_url)
        self.redis = redis
        self.session = session
        self.base_url = base_url
        self.clock = clock
        self.client = WeChatClient(self.settings, redis, session)
        self.window = CustomerServiceWindow(redis, self.settings, clock)
        self.delivered = 0  # successful sends the server answered with errcode 0
        self.on_delivery: Optional[Callable[[int], None]] = None

    async def control(self, body: Dict[str, Any]) -> None:
        async with self.session.post(self.base_url + "/_control", json=body) as resp:
            assert resp.status == 200

    async def stats(self) -> Dict[str, int]:
        async with self.session.get(self.base_url + "/_stats") as resp:
            return await resp.json()

    async def sent_to(self, openid: str) -> List[Dict[str, Any]]:
        async with self.session.get(self.base_url + "/_sent", params={"touser": openid}) as resp:
            return (await resp.json())["messages"]

    async def counts_for(self, openids: List[str]) -> Dict[str, int]:
        """Messages the fake API recorded per user (read straight from its Redis lists)."""
        out: Dict[str, int] = {}
        for start in range(0, len(openids), 1000):
            chunk = openids[start : start + 1000]
            async with self.redis.pipeline(transaction=False) as pipe:
                for openid in chunk:
                    pipe.llen(self.settings.key("fakewechat", "sent", openid))
                for openid, n in zip(chunk, await pipe.execute()):
                    out[openid] = n
        return out


@asynccontextmanager
async def serve_fake_wechat(settings: Settings, redis: Any, aiohttp_server: Any) -> AsyncIterator[WeChatEnv]:
    """The fake WeChat API served by a real aiohttp server on a free port (`aiohttp_server`: the
    pytest-aiohttp fixture), a client session to it, and a FrozenClock for the services under test."""
    env_holder: Dict[str, WeChatEnv] = {}

    @web.middleware
    async def count_deliveries(request: web.Request, handler):
        response = await handler(request)
        if request.path in SEND_PATHS and b'"errcode":0' in response.body.replace(b" ", b""):
            env = env_holder["env"]
            env.delivered += 1
            if env.on_delivery is not None:
                env.on_delivery(env.delivered)
        return response

    app = web.Application(middlewares=[count_deliveries])
    app[SETTINGS] = settings
    app[REDIS] = redis
    setup_fake_wechat_routes(app)
    server = await aiohttp_server(app)
    clock = FrozenClock(datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as session:
        env = WeChatEnv(settings, redis, session, str(server.make_url("/fake-wechat")), clock)
        env_holder["env"] = env
        yield env
