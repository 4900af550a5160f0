"""Who may read /healthz and /metrics (MONITORING_ACCESS): everyone, loopback clients, or a bearer token.

They tell an outsider which components are down and how busy the service is, so production
restricts them. `loopback` also refuses requests that carry a proxy's forwarding header: behind a
reverse proxy on the same machine every request comes from 127.0.0.1, and only the proxy adds it.
"""
from __future__ import annotations

import ipaddress
from typing import Awaitable, Callable, Optional

from aiohttp import web

from bot.gateway.appkeys import SETTINGS
from bot.bearer import bearer_matches
from bot.settings import Settings

MONITORING_PATHS = frozenset({"/healthz", "/metrics"})
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(address: Optional[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:  # a Unix socket or no peer at all: not a loopback TCP client
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or ip).is_loopback


def refusal(request: web.Request, settings: Settings) -> Optional[web.Response]:
    """None when the request may read a monitoring path, else the answer that refuses it."""
    if settings.monitoring_access == "loopback":
        proxied = any(name in request.headers for name in FORWARDING_HEADERS)
        if proxied or not is_loopback(request.remote):
            return web.Response(status=403, text="仅限本机访问。")
    elif settings.monitoring_access == "token":
        if not bearer_matches(request.headers.get("Authorization"), settings.monitoring_token):
            return web.Response(
                status=401, text="需要有效的访问令牌。", headers={"WWW-Authenticate": "Bearer"}
            )
    return None


@web.middleware
async def monitoring_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in MONITORING_PATHS:
        refused = refusal(request, request.app[SETTINGS])
        if refused is not None:
            return refused
    return await handler(request)
