"""Typed keys for what the aiohttp application holds."""
from __future__ import annotations

from typing import List

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from bot.clock import Clock
from bot.gateway.conversation import ConversationService
from bot.gateway.rasa_client import RasaClient
from bot.gateway.runtime import Services
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.service import HandoffService
from bot.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey[Clock]("clock")  # one clock for every service of the app
REDIS = web.AppKey("redis", aioredis.Redis)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
RASA = web.AppKey("rasa", RasaClient)
CONVERSATION = web.AppKey("conversation", ConversationService)
SERVICES = web.AppKey("services", Services)
HANDOFF_CONFIG = web.AppKey("handoff_config", HandoffConfig)  # read when the services are built
HANDOFF = web.AppKey("handoff", HandoffService)  # app[SERVICES].handoff, for the console's handlers
# What is wrong with Redis for keeping bookings, read once at start-up (empty = fine; /healthz shows it).
REDIS_DURABILITY = web.AppKey("redis_durability", List[str])
