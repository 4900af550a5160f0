"""GET /healthz: what the gateway itself talks to (Redis and Rasa), 200 only when both are up.

`redis_durability` lists what makes Redis unfit to keep bookings (no append-only file, an
eviction policy; `bot.services.booking.durability`), read once at start-up. It informs and never
fails the check: a managed Redis may forbid CONFIG, and restarting the gateway would not help.

The action server is not checked: only Rasa calls it, and in Kubernetes the NetworkPolicies keep
the gateway from reaching it (docs/deploying.md "Probes"), so a check from here would report it
down for ever. Whether Rasa reaches its actions is Rasa's neighbour, watched by the action
server's own readiness probe.
"""
from __future__ import annotations

import asyncio
from typing import Dict, Tuple

from aiohttp import web

from bot.gateway.appkeys import RASA, REDIS, REDIS_DURABILITY

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


async def healthz(request: web.Request) -> web.Response:
    app = request.app
    names = ("redis", "rasa")
    results = await asyncio.gather(_check_redis(app), _check_rasa(app))
    checks: Dict[str, Dict[str, object]] = {
        name: {"ok": ok, "detail": detail} for name, (ok, detail) in zip(names, results)
    }
    healthy = all(ok for ok, _ in results)
    return web.json_response(
        {
            "status": "ok" if healthy else "degraded",
            "checks": checks,
            "redis_durability": app.get(REDIS_DURABILITY, []),
        },
        status=200 if healthy else 503,
    )
