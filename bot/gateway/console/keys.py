"""Typed keys for what the console keeps on the application."""
from __future__ import annotations

import jinja2
from aiohttp import web

from bot.gateway.console.audit import AuditLog
from bot.gateway.console.auth import ConsoleAuth
from bot.gateway.console.login_guard import LoginGuard
from bot.gateway.wechat.api_client import WeChatClient
from bot.gateway.wechat.window import CustomerServiceWindow

CONSOLE_AUTH = web.AppKey("console_auth", ConsoleAuth)
LOGIN_GUARD = web.AppKey("console_login_guard", LoginGuard)
AUDIT = web.AppKey("console_audit", AuditLog)
WECHAT_CLIENT = web.AppKey("console_wechat_client", WeChatClient)
CS_WINDOW = web.AppKey("console_cs_window", CustomerServiceWindow)
CONSOLE_STATE = web.AppKey("console_state", dict)  # {"stopping": asyncio.Event, "streams": set}
JINJA = web.AppKey("console_jinja", jinja2.Environment)  # the console sub-app's own template environment
