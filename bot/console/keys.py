"""Typed keys for what the console keeps on the application."""
from __future__ import annotations

from typing import Any, Dict

from aiohttp import web

from bot.console.audit import AuditLog
from bot.console.auth import ConsoleAuth
from bot.console.login_guard import LoginGuard

CONSOLE_AUTH = web.AppKey("console_auth", ConsoleAuth)
LOGIN_GUARD = web.AppKey("console_login_guard", LoginGuard)
AUDIT = web.AppKey("console_audit", AuditLog)
WECHAT_CLIENT = web.AppKey("console_wechat_client", object)  # bot.wechat.api_client.WeChatClient
CS_WINDOW = web.AppKey("console_cs_window", object)  # bot.wechat.window.CustomerServiceWindow
CONSOLE_STATE = web.AppKey("console_state", dict)  # {"stopping": asyncio.Event, "streams": set}
