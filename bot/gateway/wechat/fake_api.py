"""A fake WeChat API server for tests and the local simulator, mounted under /fake-wechat.

It speaks the subset of the real API Zhinan uses (stable_token, customer-service send,
template send, menu create) with the real error shapes, and records every message it was
asked to send as JSON in Redis:

* `settings.key("fakewechat", "sent")`            every message, oldest first
* `settings.key("fakewechat", "sent", openid)`    the messages to one user (`sent_to`, the simulator's inbox)

Each record: {"kind": "custom"|"template"|"menu", "touser", "msgtype", "payload", "raw", "at"};
`raw` is the body exactly as received so tests can check that no `\\uXXXX` escapes were sent.

`POST /fake-wechat/_control` (JSON) steers it for tests; all state is in Redis so several
gateway processes agree:
    {"fail": {"<openid>": 45015}}     answer that errcode for sends to this user (0/None clears)
    {"fail_all": 45009}               answer that errcode for every send (0 clears)
    {"delay_ms": 800}                 sleep before answering every API call
    {"expire_token": true}            the current token becomes invalid (40001 until refreshed)
    {"reset": true}                   forget records, failures, delay and tokens
`GET /fake-wechat/_sent?touser=<openid>` returns {"messages": [...]} (all users without touser);
`GET /fake-wechat/_stats` returns call counters.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any, Dict, List, Optional

import redis.asyncio as aioredis
from aiohttp import web

from bot.gateway.appkeys import REDIS, SETTINGS
from bot.settings import Settings

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("fakewechat",)

PREFIX = "/fake-wechat"
MAX_RECORDS = 2000


def _keys(app: web.Application) -> Dict[str, str]:
    settings = app[SETTINGS]
    return {
        "sent": settings.key("fakewechat", "sent"),
        "control": settings.key("fakewechat", "control"),
        "token": settings.key("fakewechat", "token"),
        "stats": settings.key("fakewechat", "stats"),
        "menu": settings.key("fakewechat", "menu"),
    }


def _user_key(settings: Settings, openid: str) -> str:
    return settings.key("fakewechat", "sent", openid)


async def sent_to(redis: aioredis.Redis, settings: Settings, openid: str, start: int, count: int) -> List[str]:
    """Up to `count` raw records of the calls addressed to one user, from index `start` on."""
    return await redis.lrange(_user_key(settings, openid), start, start + count - 1)


def _err(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


async def _control_value(request: web.Request, field: str) -> Optional[str]:
    return await request.app[REDIS].hget(_keys(request.app)["control"], field)


async def _maybe_delay(request: web.Request) -> None:
    delay = await _control_value(request, "delay_ms")
    if delay and int(delay) > 0:
        await asyncio.sleep(int(delay) / 1000)


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return raw.decode("utf-8"), json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None


async def _check_token(request: web.Request) -> Optional[web.Response]:
    token = request.query.get("access_token", "")
    current = await request.app[REDIS].get(_keys(request.app)["token"])
    if not token or token != current:
        return _err(40001, "invalid credential, access_token is invalid or not latest")
    return None


async def stable_token(request: web.Request) -> web.Response:
    app = request.app
    settings, redis, keys = app[SETTINGS], app[REDIS], _keys(app)
    await redis.hincrby(keys["stats"], "stable_token", 1)
    await _maybe_delay(request)
    _, body = await _read_json(request)
    if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
        return _err(40002, "invalid grant_type")
    if body.get("appid") != settings.wechat_appid:
        return _err(40013, "invalid appid")
    if body.get("secret") != settings.wechat_appsecret:
        return _err(40125, "invalid appsecret")
    current = await redis.get(keys["token"])
    if body.get("force_refresh") or not current:
        current = "FAKE_" + secrets.token_urlsafe(24)
        await redis.set(keys["token"], current, ex=7200)
        await redis.hincrby(keys["stats"], "token_issued", 1)
    ttl = await redis.ttl(keys["token"])
    return web.json_response({"access_token": current, "expires_in": max(int(ttl), 1)})


async def _record(request: web.Request, kind: str, touser: str, msgtype: str, payload: Any, raw: str) -> None:
    keys = _keys(request.app)
    record = json.dumps(
        {"kind": kind, "touser": touser, "msgtype": msgtype, "payload": payload, "raw": raw, "at": time.time()},
        ensure_ascii=False,
    )
    user_key = _user_key(request.app[SETTINGS], touser)
    async with request.app[REDIS].pipeline(transaction=True) as pipe:
        pipe.rpush(keys["sent"], record)
        pipe.ltrim(keys["sent"], -MAX_RECORDS, -1)
        pipe.rpush(user_key, record)
        pipe.ltrim(user_key, -MAX_RECORDS, -1)
        pipe.expire(user_key, 7 * 24 * 3600)
        await pipe.execute()


async def _send_common(request: web.Request, kind: str) -> web.Response:
    keys = _keys(request.app)
    redis = request.app[REDIS]
    await redis.hincrby(keys["stats"], kind, 1)
    await _maybe_delay(request)
    refused = await _check_token(request)
    if refused is not None:
        return refused
    raw, body = await _read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("touser"), str) or not body["touser"]:
        return _err(47001, "data format error")
    touser = body["touser"]
    failure = await _control_value(request, f"fail:{touser}") or await _control_value(request, "fail_all")
    if failure and int(failure):
        return _err(int(failure), "fake failure")
    if kind == "custom":
        msgtype = body.get("msgtype")
        if not isinstance(msgtype, str) or not isinstance(body.get(msgtype), dict):
            return _err(47001, "data format error")
        if msgtype == "text" and not str(body["text"].get("content", "")):
            return _err(44003, "empty content")
    else:
        msgtype = "template"
        if not body.get("template_id") or not isinstance(body.get("data"), dict):
            return _err(47001, "data format error")
    await _record(request, kind, touser, msgtype, body, raw)
    result: Dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
    if kind == "template":
        result["msgid"] = int(time.time() * 1000)
    return web.json_response(result)


async def custom_send(request: web.Request) -> web.Response:
    return await _send_common(request, "custom")


async def template_send(request: web.Request) -> web.Response:
    return await _send_common(request, "template")


async def menu_create(request: web.Request) -> web.Response:
    redis, keys = request.app[REDIS], _keys(request.app)
    await redis.hincrby(keys["stats"], "menu", 1)
    refused = await _check_token(request)
    if refused is not None:
        return refused
    raw, body = await _read_json(request)
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return _err(40016, "invalid button size")
    for button in buttons:
        subs = button.get("sub_button") if isinstance(button, dict) else None
        if subs is not None and (not isinstance(subs, list) or len(subs) > 5):
            return _err(40017, "invalid sub button size")
    await redis.set(keys["menu"], raw)
    return web.json_response({"errcode": 0, "errmsg": "ok"})


async def menu_get(request: web.Request) -> web.Response:
    raw = await request.app[REDIS].get(_keys(request.app)["menu"])
    if not raw:
        return _err(46003, "menu no exist")
    return web.json_response({"menu": json.loads(raw)})


async def sent(request: web.Request) -> web.Response:
    settings, redis = request.app[SETTINGS], request.app[REDIS]
    touser = request.query.get("touser")
    key = _user_key(settings, touser) if touser else _keys(request.app)["sent"]
    records = [json.loads(r) for r in await redis.lrange(key, 0, -1)]
    return web.json_response({"messages": records}, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def stats(request: web.Request) -> web.Response:
    values = await request.app[REDIS].hgetall(_keys(request.app)["stats"])
    return web.json_response({k: int(v) for k, v in values.items()})


async def control(request: web.Request) -> web.Response:
    redis, keys = request.app[REDIS], _keys(request.app)
    _, body = await _read_json(request)
    if not isinstance(body, dict):
        return web.json_response({"ok": False, "error": "JSON object expected"}, status=400)
    settings = request.app[SETTINGS]
    if body.get("reset"):
        users = {json.loads(r).get("touser") for r in await redis.lrange(keys["sent"], 0, -1)}
        doomed = [keys[k] for k in ("sent", "control", "token", "stats", "menu")]
        doomed += [_user_key(settings, u) for u in users if u]
        await redis.delete(*doomed)
    for openid, code in (body.get("fail") or {}).items():
        if code:
            await redis.hset(keys["control"], f"fail:{openid}", int(code))
        else:
            await redis.hdel(keys["control"], f"fail:{openid}")
    if "fail_all" in body:
        await redis.hset(keys["control"], "fail_all", int(body["fail_all"] or 0))
    if "delay_ms" in body:
        await redis.hset(keys["control"], "delay_ms", int(body["delay_ms"] or 0))
    if body.get("expire_token"):
        await redis.delete(keys["token"])
    return web.json_response({"ok": True})


def setup_fake_wechat_routes(app: web.Application) -> None:
    """Mount the fake API under /fake-wechat (settings and Redis come from the app keys)."""
    app.router.add_post(PREFIX + "/cgi-bin/stable_token", stable_token)
    app.router.add_post(PREFIX + "/cgi-bin/message/custom/send", custom_send)
    app.router.add_post(PREFIX + "/cgi-bin/message/template/send", template_send)
    app.router.add_post(PREFIX + "/cgi-bin/menu/create", menu_create)
    app.router.add_get(PREFIX + "/cgi-bin/menu/get", menu_get)
    app.router.add_get(PREFIX + "/_sent", sent)
    app.router.add_get(PREFIX + "/_stats", stats)
    app.router.add_post(PREFIX + "/_control", control)
