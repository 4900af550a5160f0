"""The aiohttp application factory of the Zhinan gateway."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Dict, List, Optional

import aiohttp
from aiohttp import web

from bot.gateway.appkeys import (
    CLOCK,
    CONVERSATION,
    HANDOFF,
    HANDOFF_CONFIG,
    HTTP_SESSION,
    RASA,
    REDIS,
    REDIS_DURABILITY,
    SERVICES,
    SETTINGS,
)
from bot.clock import Clock, system_clock
from bot.gateway.conversation import ConversationService
from bot.gateway.console import setup_console
from bot.gateway.health import healthz
from bot.gateway.metrics import setup_metrics
from bot.gateway.monitoring_access import monitoring_guard
from bot.gateway.rasa_client import RasaClient
from bot.redis_client import create_redis
from bot.gateway.runtime import build_services, load_reference_data, run_background
from bot.services.booking.durability import durability_warnings
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.callbacks import turns_from_events
from bot.services.handoff.gate import HandoffInterceptor, HistoryOf
from bot.services.satisfaction import RatingInterceptor
from bot.gateway.turn_counter import TurnCounter
from bot.services.conversation_marks import ConversationCounter
from bot.settings import Settings, load_settings
from bot.gateway.simulator import setup_simulator
from bot.gateway.wechat.fake_api import setup_fake_wechat_routes
from bot.gateway.wechat.handler import setup_wechat_routes

logger = logging.getLogger(__name__)

TRACKER_READ_TIMEOUT_S = 3.0


def _tracker_turns(rasa: RasaClient) -> HistoryOf:
    """A user's conversation with the bot, read from Rasa's tracker (for a request that is
    left for staff while nobody is on duty); a slow or absent Rasa gives nothing."""

    async def read(openid: str) -> List[Dict[str, Any]]:
        try:
            tracker = await asyncio.wait_for(rasa.tracker(openid), TRACKER_READ_TIMEOUT_S)
        except Exception as exc:
            logger.warning("could not read the conversation for a handoff request: %r", exc)
            return []
        return turns_from_events((tracker or {}).get("events") or [])

    return read


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    redis = create_redis(settings)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    # A new connection per Rasa request: Rasa's worker processes share one listening socket, and
    # only an idle worker accepts. Kept-alive connections stay with whichever worker took them
    # first; measured under load, one worker then ran at 95 % CPU and the other at 25 %.
    rasa_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
    rasa = RasaClient(rasa_session, settings.rasa_url, settings.rasa_token, settings.rasa_timeout_s)
    app[REDIS] = redis
    app[HTTP_SESSION] = session
    app[RASA] = rasa
    services = build_services(settings, redis, session, app[CLOCK], app[HANDOFF_CONFIG])
    app[SERVICES] = services
    app[HANDOFF] = services.handoff
    app[CONVERSATION] = ConversationService(rasa)
    # First, so every turn (the bot's or a counsellor's) is counted and its city known to Rasa.
    app[CONVERSATION].add_interceptor(TurnCounter(ConversationCounter(redis, settings, app[CLOCK])))
    # The gate belongs to the conversation path, not to the console: without it the bot would
    # answer users whom a counsellor holds.
    app[CONVERSATION].add_interceptor(HandoffInterceptor(services.handoff, _tracker_turns(rasa)))
    # after the gate: a rating while one is pending; a "5" with no request pending goes to Rasa
    app[CONVERSATION].add_interceptor(RatingInterceptor(services.satisfaction))
    yield
    await rasa_session.close()
    await session.close()
    await redis.close()


async def _check_redis_durability(app: web.Application) -> None:
    """Say once, loudly, when Redis could lose acknowledged bookings (no AOF, evicting keys):
    an operator reads the start-up log and /healthz, not a docstring."""
    try:
        warnings = await durability_warnings(app[REDIS])
    except Exception as exc:  # Redis down at start-up: /healthz shows that already
        warnings = [f"could not check Redis persistence ({type(exc).__name__})"]
    app[REDIS_DURABILITY] = warnings
    for warning in warnings:
        logger.warning("Redis is not fit to keep bookings: %s", warning)


async def _background(app: web.Application) -> AsyncIterator[None]:
    """Reference data in Redis, then the job runner (reminders, promotions, campaigns)."""
    services = app[SERVICES]
    await _check_redis_durability(app)
    try:
        await load_reference_data(services)
    except Exception:  # Redis down at start-up: serve anyway, /healthz shows it
        logger.exception("could not load the reference data")
    stop = asyncio.Event()
    runner = asyncio.create_task(run_background(services, stop))
    yield
    stop.set()
    try:
        await asyncio.wait_for(runner, timeout=10)
    except asyncio.TimeoutError:
        runner.cancel()


def create_app(
    settings: Optional[Settings] = None,
    *,
    clock: Clock = system_clock,
    handoff_config: Optional[HandoffConfig] = None,
) -> web.Application:
    """Build the gateway: WeChat channel, simulator, console, fake WeChat API, health.

    `clock` (every service's time: office hours, quiet hours, reminders) and `handoff_config`
    let tests control time and waiting.
    """
    settings = settings or load_settings()
    app = web.Application(
        client_max_size=settings.wechat_max_body_bytes * 4, middlewares=[monitoring_guard]
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[HANDOFF_CONFIG] = handoff_config or HandoffConfig.from_settings(settings)
    app.cleanup_ctx.append(_resources)
    app.cleanup_ctx.append(_background)
    app.router.add_get("/healthz", healthz)
    setup_metrics(app)
    setup_console(app, clock=clock)
    setup_wechat_routes(app)
    # Never in production, whatever the other settings say: the fake API shows every message
    # sent to anyone, and the simulator lets a visitor invent any number of users.
    if settings.uses_fake_wechat_api and not settings.is_production:
        setup_fake_wechat_routes(app)
    if settings.simulator_enabled and not settings.is_production:
        setup_simulator(app)
    return app
