"""The real gateway (console and simulator mounted) in front of a Rasa double, for in-process tests."""
from __future__ import annotations

import dataclasses
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, List, NamedTuple, Optional

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.gateway.app import create_app
from bot.clock import Clock, system_clock
from bot.services.handoff.config import HandoffConfig, parse_office_hours
from bot.settings import Settings
from bot.stack import free_port
from tests.helpers.rasa_double import RasaDouble, start_rasa

ALWAYS_OPEN = parse_office_hours("1-7 00:00-23:59")


def gateway_app(settings: Settings, rasa_url: str, port: int, *, clock: Clock = system_clock,
                config: Optional[HandoffConfig] = None) -> web.Application:
    settings = dataclasses.replace(
        settings,
        rasa_url=rasa_url,
        gateway_port=port,  # the simulator posts to the configured port
        wechat_api_base=f"http://127.0.0.1:{port}/fake-wechat",
        public_base_url=f"http://127.0.0.1:{port}",
        simulator_enabled=True,
    )
    return create_app(
        settings, clock=clock, handoff_config=config or HandoffConfig(office_hours=ALWAYS_OPEN)
    )


class ServedGateway(NamedTuple):
    app: web.Application
    server: TestServer
    rasa: RasaDouble


async def serve_gateway(aiohttp_server, settings: Settings, **options: Any) -> ServedGateway:
    """A Rasa double and the gateway in front of it, served on a free port of its own
    (the simulator and the fake WeChat API are reached through that port)."""
    rasa = await start_rasa(aiohttp_server)
    port = free_port()
    app = gateway_app(settings, rasa.url, port, **options)
    server = await aiohttp_server(app, port=port)
    return ServedGateway(app, server, rasa)


@asynccontextmanager
async def client_factory(server: TestServer) -> AsyncIterator[Callable[[], Awaitable[TestClient]]]:
    """Makes clients of `server`, each with cookies of its own (one per staff member or user);
    every one made is closed when the block ends."""
    clients: List[TestClient] = []

    async def client() -> TestClient:
        made = TestClient(server)
        await made.start_server()
        clients.append(made)
        return made

    try:
        yield client
    finally:
        for made in clients:
            await made.close()
