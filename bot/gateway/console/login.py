"""Console login and logout.

A login POST costs the gateway almost nothing until it is known to be worth a password check:
the per-address and global rate limits come first (429, nothing read), then the double-submit
CSRF token, the username's shape and the lockout (`login_guard`); only then does argon2 run, in
the bounded password pool (429 when it is full), never on the event loop.
"""
from __future__ import annotations

import secrets

import aiohttp_jinja2
from aiohttp import web

from bot.gateway.client_ip import client_ip
from bot.gateway.console.auth import COOKIE_NAME, LOGIN_CSRF_COOKIE, USERNAME_RE, csrf_matches
from bot.gateway.console.keys import AUDIT, CONSOLE_AUTH, JINJA, LOGIN_GUARD
from bot.gateway.console.login_guard import PasswordPoolBusy
from bot.gateway.console.middleware import same_origin, secure_cookie, staff_of

TEXT_RATE_LIMITED = "登录尝试过于频繁，请 1 分钟后再试。"
TEXT_LOCKED = "尝试次数过多，该账号在这台电脑上暂时不能登录，请稍后再试（最长 {minutes} 分钟）。"
TEXT_BUSY = "登录请求较多，请稍后再试。"
TEXT_WRONG = "用户名或密码错误"


def _login_form(request: web.Request, error: str = "", status: int = 200, next_url: str = "") -> web.Response:
    """The login page with a fresh double-submit CSRF token."""
    token = secrets.token_urlsafe(24)
    resp = aiohttp_jinja2.render_template(
        "login.html", request, {"csrf": token, "error": error, "next": next_url}, app_key=JINJA, status=status
    )
    resp.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/console/login",
        secure=secure_cookie(request), max_age=3600,
    )
    return resp


def _too_many(text: str, retry_after_s: int) -> web.Response:
    # plain text, not the page: under a flood this is most answers, so it must cost next to nothing
    return web.Response(text=text, status=429, content_type="text/plain", headers={"Retry-After": str(retry_after_s)})


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, next_url=request.query.get("next", ""))


async def login_submit(request: web.Request) -> web.StreamResponse:
    ip = client_ip(request)
    guard = request.config_dict[LOGIN_GUARD]
    if not await guard.admit(ip):
        return _too_many(TEXT_RATE_LIMITED, 60)
    form = await request.post()
    cookie_token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not same_origin(request) or not cookie_token or not csrf_matches(cookie_token, form.get("_csrf")):
        return web.Response(text="页面已过期，请返回刷新后重新登录（CSRF 校验失败）", status=403, content_type="text/plain")
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    audit = request.config_dict[AUDIT]
    if not USERNAME_RE.match(username):  # no such account can exist: no lockout keys, no hashing
        await audit.record(username[:40], "login_failed", ip=ip)
        return _login_form(request, TEXT_WRONG, status=401)
    if not await guard.begin(username, ip):
        await audit.record(username, "login_locked", ip=ip)
        return _too_many(TEXT_LOCKED.format(minutes=max(1, guard.lock_s // 60)), guard.lock_s)
    auth = request.config_dict[CONSOLE_AUTH]
    try:
        user = await auth.authenticate(username, password)
    except PasswordPoolBusy:
        return _too_many(TEXT_BUSY, 5)
    if user is None:
        await audit.record(username, "login_failed", ip=ip)
        return _login_form(request, TEXT_WRONG, status=401)
    await guard.succeeded(username, ip)
    session_token = await auth.create_session(
        username, user["role"], user.get("display_name", ""), epoch=user.get("session_epoch", "0")
    )
    await audit.record(username, "login", ip=ip)
    nxt = str(form.get("next", ""))
    target = nxt if nxt.startswith("/console/") and not nxt.startswith("//") else "/console/"
    resp = web.HTTPFound(target)
    resp.set_cookie(COOKIE_NAME, session_token, httponly=True, samesite="Strict", path="/console", secure=secure_cookie(request))
    resp.del_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    raise resp


async def logout(request: web.Request) -> web.StreamResponse:
    auth = request.config_dict[CONSOLE_AUTH]
    await auth.destroy_session(request.cookies.get(COOKIE_NAME))
    await request.config_dict[AUDIT].record(staff_of(request).username, "logout", ip=client_ip(request))
    resp = web.HTTPFound("/console/login")
    resp.del_cookie(COOKIE_NAME, path="/console")
    raise resp


def add_login_routes(console: web.Application) -> None:
    console.router.add_get("/login", login_page)
    console.router.add_post("/login", login_submit)
    console.router.add_post("/logout", logout)
