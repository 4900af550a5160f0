"""Conversations through the real gateway, real Rasa (trained model) and real action server.

`chat` gives a `WeChatUser` that sends WeChat-signed XML (signed with wechatpy, the independent
implementation) to the in-process gateway and reads the passive reply the way WeChat would.
"""
from __future__ import annotations

from typing import AsyncIterator, Optional

import pytest

from bot.gateway.app import create_app
from bot.settings import load_settings
from bot.stack import free_port
from tests.helpers.wechat_user import WeChatUser


@pytest.fixture
async def chat(aiohttp_server, aiohttp_client, stack_settings, monkeypatch) -> AsyncIterator:
    """A factory of WeChat users talking to one in-process gateway on the session's stack.

    The gateway serves the fake WeChat API itself, so pushes (answers past the 5-second
    budget, counsellor replies, notices) land where `WeChatUser.pushed()` reads them.
    """
    port = free_port()
    monkeypatch.setenv("GATEWAY_PORT", str(port))
    monkeypatch.setenv("WECHAT_API_BASE", f"http://127.0.0.1:{port}/fake-wechat")
    settings = load_settings()
    server = await aiohttp_server(create_app(settings), port=port)
    client = await aiohttp_client(server)

    def new_user(openid: Optional[str] = None) -> WeChatUser:
        return WeChatUser(client, settings, openid)

    yield new_user


@pytest.fixture
def no_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pushes respect quiet hours (22:00–08:00); a test of what is pushed must not depend on the hour.

    Requested before `chat`, so the gateway's PushService reads it when it is built.
    """
    monkeypatch.setenv("PUSH_QUIET_HOURS", "")
