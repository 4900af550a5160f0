"""The console's guard middleware: who may reach which console URL.

Every request passes `console_guard`: a staff session is required except for the login page
and static files (pages redirect to the login page, the API answers 401), role and scope are
checked per route by the rule access.py gives it (403; a route with no rule is refused), every POST must carry the session's CSRF token (403) and a same-origin Origin
header when the browser sends one, and every answer gets the security headers. A Redis outage
becomes a 503 with a readable explanation instead of a traceback.
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable

from aiohttp import web
from redis.exceptions import RedisError

from bot.gateway.appkeys import SETTINGS
from bot.gateway.client_ip import client_ip
from bot.gateway.console.access import ROLE_TEXT, Access, allowed, route_access
from bot.gateway.console.auth import COOKIE_NAME, StaffSession, csrf_matches
from bot.gateway.console.keys import AUDIT, CONSOLE_AUTH

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REDIS_DOWN_TEXT = "工作台暂时连不上数据库（Redis），刚才的操作没有执行。请稍后刷新页面再试；如持续出现，请联系系统管理员。"
API_PREFIX = "/console/api/"



def _is_api(request: web.Request) -> bool:
    return request.path.startswith(API_PREFIX)


def staff_of(request: web.Request) -> StaffSession:
    """The signed-in staff member `console_guard` attached to the request."""
    return request["staff"]


@web.middleware
async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await _guarded(request, handler)
    except RedisError as exc:
        # sessions, the queue and the audit log all live in Redis: nothing can be done or recorded
        logger.error("console %s %s: Redis unavailable: %s", request.method, request.path, exc)
        if _is_api(request):
            response = web.json_response({"error": REDIS_DOWN_TEXT}, status=503)
        else:
            response = web.Response(text=REDIS_DOWN_TEXT, status=503, content_type="text/plain")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        # style="" attributes only (ECharts positions its tooltip with them); <style> and scripts stay blocked
        "style-src-attr 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/console/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _forbidden(request: web.Request, text: str) -> web.Response:
    if _is_api(request):
        return web.json_response({"error": text}, status=403)
    return web.Response(text=text, status=403, content_type="text/plain")


async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    access = route_access(request)
    if access is Access.PUBLIC:
        return await handler(request)
    auth = request.config_dict[CONSOLE_AUTH]
    staff = await auth.load_session(request.cookies.get(COOKIE_NAME))
    if staff is None:
        if _is_api(request) or request.method != "GET":
            return web.json_response({"error": "请先登录"}, status=401)
        raise web.HTTPFound("/console/login?next=" + request.path)
    request["staff"] = staff
    if access is None:  # a route nobody decided a rule for: closed until access.py names it
        logger.error("console route without an access rule: %s %s", request.method, request.path)
        return _forbidden(request, "该页面尚未开放")
    if not await allowed(request, staff, access):
        await request.config_dict[AUDIT].record(staff.username, "forbidden", request.path, ip=client_ip(request))
        return _forbidden(request, ROLE_TEXT.get(access, "无权访问"))
    if request.method == "POST":
        if not same_origin(request):
            return web.json_response({"error": "来源不被允许"}, status=403)
        supplied = request.headers.get("X-CSRF-Token")
        if supplied is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            supplied = (await request.post()).get("_csrf")
        if not csrf_matches(staff.csrf, supplied if isinstance(supplied, str) else None):
            await request.config_dict[AUDIT].record(staff.username, "csrf_rejected", request.path, ip=client_ip(request))
            return web.json_response({"error": "页面已过期，请刷新后重试（CSRF 校验失败）"}, status=403)
    return await handler(request)


def same_origin(request: web.Request) -> bool:
    """True when the browser sent no Origin, or our own (the login form checks it too)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return origin == f"{request.scheme}://{request.host}" or origin == request.config_dict[SETTINGS].public_base_url.rstrip("/")


def secure_cookie(request: web.Request) -> bool:
    """Session cookies are Secure whenever the console is served over HTTPS (directly or via the proxy)."""
    return request.secure or request.config_dict[SETTINGS].public_base_url.startswith("https://")
