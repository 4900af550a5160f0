"""deploy/docker/probe.py, the containers' health probe, against a real HTTP server."""
from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from bot.settings import PROJECT_ROOT
from bot.stack import free_port

PROBE = PROJECT_ROOT / "deploy" / "docker" / "probe.py"


def answering(status: int):
    async def handler(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok" if status == 200 else "degraded"}, status=status)

    return handler


async def probe(*args: str) -> int:
    process = await asyncio.create_subprocess_exec(sys.executable, str(PROBE), *args)
    return await asyncio.wait_for(process.wait(), 30)


async def test_a_degraded_gateway_is_alive_but_not_healthy(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/healthz", answering(503))
    app.router.add_get("/", answering(200))
    server = await aiohttp_server(app)
    base = f"http://127.0.0.1:{server.port}"
    assert await probe(f"{base}/healthz") == 1
    assert await probe(f"{base}/healthz", "--alive") == 0
    assert await probe(f"{base}/") == 0


async def test_nothing_listening_is_neither() -> None:
    closed = f"http://127.0.0.1:{free_port()}/healthz"
    assert await probe(closed) == 1
    assert await probe(closed, "--alive") == 1


async def test_any_url_that_answers_will_do(aiohttp_server) -> None:
    app = web.Application()
    app.router.add_get("/health", answering(200))
    server = await aiohttp_server(app)
    closed = f"http://127.0.0.1:{free_port()}/"
    assert await probe(closed, f"http://127.0.0.1:{server.port}/health") == 0
