"""The staff console under /console. Run by the gateway process (`bot.gateway.app.create_app` calls
`setup_console`); `python -m bot.cli.users` manages console users on its own."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.gateway.appkeys import HANDOFF, REDIS, SERVICES, SETTINGS
from bot.clock import Clock, system_clock
from bot.gateway.console.audit import AuditLog
from bot.gateway.console.auth import ConsoleAuth
from bot.gateway.console.keys import AUDIT, CONSOLE_AUTH, CONSOLE_STATE, CS_WINDOW, JINJA, LOGIN_GUARD, WECHAT_CLIENT
from bot.gateway.console.login import add_login_routes
from bot.gateway.console.login_guard import LoginGuard
from bot.gateway.console.campaigns import add_campaign_routes
from bot.gateway.console.cohorts import add_cohort_routes
from bot.gateway.console.monthly import add_monthly_routes
from bot.gateway.console.middleware import console_guard
from bot.gateway.console.pages import TEMPLATES_DIR
from bot.gateway.console.ratings import add_rating_routes
from bot.gateway.console.sessions import add_session_routes
from bot.gateway.console.routes import add_routes
from bot.gateway.console.users import add_user_routes

__all__ = ["setup_console"]


def setup_console(
    app: web.Application,
    *,
    clock: Clock = system_clock,
    session_idle_s: int = 30 * 60,
    session_absolute_s: int = 12 * 3600,
) -> web.Application:
    """Mount /console on `app`; returns the console sub-application.

    Call it in create_app, after the app's resources are registered. The console's guard
    middleware (login, roles, CSRF) only sees /console. It uses the handoff service the app
    already built (bot/gateway/app.py, bot/gateway/runtime.py); the gate that keeps the bot silent during a
    handoff is wired there too, so it runs without /console.
    """

    async def _console_ctx(app: web.Application) -> AsyncIterator[None]:
        if HANDOFF not in app:
            raise RuntimeError("setup_console() must be called after the app's resources are registered")
        settings, redis = app[SETTINGS], app[REDIS]
        auth = ConsoleAuth(redis, settings, idle_ttl_s=session_idle_s, absolute_ttl_s=session_absolute_s)
        app[CONSOLE_AUTH] = auth
        app[LOGIN_GUARD] = LoginGuard(redis, settings)
        app[AUDIT] = AuditLog(redis, settings, clock)
        # the process's one WeChat client and window (bot/gateway/runtime.py)
        app[WECHAT_CLIENT] = app[SERVICES].wechat
        app[CS_WINDOW] = app[SERVICES].window
        app[CONSOLE_STATE] = {"stopping": asyncio.Event(), "streams": set()}
        yield
        auth.close()

    async def _stop_streams(app: web.Application) -> None:
        # open SSE streams would otherwise hold the graceful shutdown
        state = app.get(CONSOLE_STATE)
        if state:
            state["stopping"].set()
            await asyncio.sleep(0)

    app.cleanup_ctx.append(_console_ctx)
    app.on_shutdown.append(_stop_streams)

    console = web.Application(middlewares=[console_guard])
    aiohttp_jinja2.setup(
        console,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html"]),
        app_key=JINJA,
    )
    add_routes(console)
    add_login_routes(console)
    add_campaign_routes(console)
    add_cohort_routes(console)
    add_rating_routes(console)
    add_session_routes(console)
    add_monthly_routes(console)
    add_user_routes(console)
    app.add_subapp("/console", console)
    return console
