"""Shared fixture for the camp/push/campaign tests: the project's fake WeChat API on a real port.

Imported by test_push.py and test_campaigns.py (`from tests.bot.services.test_camp_support import
wechat_env`). Deliveries are counted where WeChat would count them: at the HTTP server.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional

import aiohttp
import pytest
from aiohttp import web

from bot.gateway.appkeys import REDIS, SETTINGS
from bot.clock import SHANGHAI, FrozenClock
from bot.gateway.wechat.api_client import WeChatClient
from bot.gateway.wechat.fake_api import setup_fake_wechat_routes
from bot.gateway.wechat.window import CustomerServiceWindow

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


@pytest.fixture
async def wechat_env(settings, redis, aiohttp_server):
    """The fake WeChat API (bot.gateway.wechat.fake_api) served by a real aiohttp server on a free port."""
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
