"""GET /healthz: Redis, Rasa and the action server, 200 only when all are up."""
from __future__ import annotations

import asyncio
from typing import Dict, Tuple

import aiohttp
from aiohttp import web

from bot.gateway.appkeys import HTTP_SESSION, RASA, REDIS, SETTINGS

_CHECK_TIMEOUT_S = 2.0


async def _check_redis(app: web.Application) -> Tuple[bool, str]:
    try:
        await asyncio.wait_for(app[REDIS].ping(), _CHECK_TIMEOUT_S)
        return True, "ok"
    except Exception as exc:  # any failure is reported, never raised
        return False, type(exc).__name__


async def _check_rasa(app: web.Application) -> Tuple[bool, str]:
    try:
        status = await asyncio.wait_for(app[RASA].status(), _CHECK_TIMEOUT_S)
    except Exception as exc:
        return False, type(exc).__name__
    model = status.get("model_file") if isinstance(status, dict) else None
    return (True, "ok") if model else (False, "no model loaded")


async def _check_action_server(app: web.Application) -> Tuple[bool, str]:
    url = app[SETTINGS].action_server_url.rstrip("/") + "/health"
    try:
        async with app[HTTP_SESSION].get(
            url, timeout=aiohttp.ClientTimeout(total=_CHECK_TIMEOUT_S)
        ) as resp:
            return (resp.status == 200), f"http {resp.status}"
    except Exception as exc:
        return False, type(exc).__name__


async def healthz(request: web.Request) -> web.Response:
    app = request.app
    names = ("redis", "rasa", "action_server")
    results = await asyncio.gather(
        _check_redis(app), _check_rasa(app), _check_action_server(app)
    )
    checks: Dict[str, Dict[str, object]] = {
        name: {"ok": ok, "detail": detail} for name, (ok, detail) in zip(names, results)
    }
    healthy = all(ok for ok, _ in results)
    return web.json_response(
        {"status": "ok" if healthy else "degraded", "checks": checks},
        status=200 if healthy else 503,
    )
