"""Simulator endpoints.

The page never reaches Rasa directly: `/simulator/api/send` builds the XML WeChat would send,
signs (and in safe mode encrypts) it, and POSTs it to this gateway's own `/wechat` URL, so a
simulated message takes exactly the path a real one does. Messages delivered later (answers
past the 5-second budget, counsellor replies, pushes) reach the fake WeChat API; the page polls
`/simulator/api/inbox` to show them.
"""
from __future__ import annotations

import functools
import json
import logging
import re
import secrets
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

import aiohttp
from aiohttp import web
from redis.exceptions import RedisError

from bot.gateway.appkeys import HTTP_SESSION, REDIS, SETTINGS
from bot.settings import Settings
from bot.gateway.simulator.wechat_xml import build_inbound_xml, read_reply, sign_request
from bot.gateway.wechat.fake_api import sent_to

STATIC_DIR = Path(__file__).parent / "static"
_OPENID_RE = re.compile(r"^sim-[A-Za-z0-9_-]{4,40}$")
_MAX_TEXT_CHARS = 600
REDIS_DOWN_TEXT = "模拟器暂时连不上数据库，请稍后再试。"
GATEWAY_DOWN_TEXT = "模拟器连不上公众号接口，请稍后再试。"
_WILDCARD_HOSTS = ("", "0.0.0.0", "::", "localhost")

logger = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.Response]]


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def _redis_guarded(handler: Handler) -> Handler:
    """Redis gone: a 503 the page can show (it reads `error`), not a bare 500 with a traceback."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except RedisError as exc:
            logger.error("simulator %s: Redis unavailable: %s", request.path, exc)
            return web.json_response({"error": REDIS_DOWN_TEXT}, status=503)

    return guarded


def own_wechat_url(settings: Settings) -> str:
    """This gateway's /wechat from the settings: never from the Host header, which the visitor
    chooses (it would make the gateway post signed messages wherever the visitor says)."""
    host = settings.gateway_host
    if host in _WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.gateway_port}/wechat"


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def _inbound_fields(payload: Dict[str, Any]) -> Optional[Dict[str, str]]:
    """The message fields for one simulated user action, or None when the request is invalid."""
    kind = payload.get("type", "text")
    if kind == "text":
        text = str(payload.get("text", "")).strip()
        if not text or len(text) > _MAX_TEXT_CHARS:
            return None
        return {"MsgType": "text", "Content": text}
    if kind == "location":
        try:
            lat, lon = float(payload["latitude"]), float(payload["longitude"])
        except (KeyError, TypeError, ValueError):
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        return {
            "MsgType": "location",
            "Location_X": f"{lat:.6f}",
            "Location_Y": f"{lon:.6f}",
            "Scale": "15",
            "Label": str(payload.get("label", ""))[:100],
        }
    if kind == "subscribe":
        return {"MsgType": "event", "Event": "subscribe", "EventKey": ""}
    return None


async def send(request: web.Request) -> web.Response:
    settings: Settings = request.app[SETTINGS]
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _bad_request("请求格式不正确")
    if not isinstance(payload, dict):
        return _bad_request("请求格式不正确")
    openid = str(payload.get("openid", ""))
    if not _OPENID_RE.match(openid):
        return _bad_request("无效的模拟用户")
    fields = _inbound_fields(payload)
    if fields is None:
        return _bad_request("消息为空、过长或格式不正确")
    if fields["MsgType"] != "event":
        fields["MsgId"] = str(int(time.time() * 1000) * 1000 + secrets.randbelow(1000))
    xml = build_inbound_xml(settings, openid, fields)
    query, body = sign_request(settings, xml)
    session = request.app[HTTP_SESSION]
    try:
        async with session.post(own_wechat_url(settings), params=query, data=body.encode("utf-8")) as resp:
            status = resp.status
            reply_body = await resp.text()
    except aiohttp.ClientError as exc:
        logger.error("simulator: the gateway's own /wechat is unreachable: %s", exc)
        return web.json_response({"error": GATEWAY_DOWN_TEXT}, status=502)
    if status != 200:
        return web.json_response({"error": f"公众号接口返回 {status}"}, status=502)
    return web.json_response({"replies": read_reply(settings, reply_body)})


async def inbox(request: web.Request) -> web.Response:
    """Messages the fake WeChat API received for this simulated user, from index `after` on."""
    openid = request.query.get("openid", "")
    if not _OPENID_RE.match(openid):
        return _bad_request("无效的模拟用户")
    try:
        after = max(0, int(request.query.get("after", "0")))
    except ValueError:
        return _bad_request("after 必须是整数")
    raw = await sent_to(request.app[REDIS], request.app[SETTINGS], openid, after, 50)
    messages = [_displayable(item) for item in raw]
    return web.json_response({"messages": messages, "next": after + len(raw)})


def _displayable(item: str) -> str:
    """Text a person would see in WeChat for one recorded API call."""
    try:
        call = json.loads(item)
    except json.JSONDecodeError:
        return item
    body = call.get("payload", {}) if isinstance(call, dict) else {}
    if not isinstance(body, dict):
        return ""
    if body.get("msgtype") == "text":
        return str(body.get("text", {}).get("content", ""))
    if "template_id" in body:
        values = body.get("data", {})
        lines = [str(v.get("value", "")) for v in values.values() if isinstance(v, dict)]
        return "【服务通知】" + "\n".join(line for line in lines if line)
    return json.dumps(body, ensure_ascii=False)


def setup_simulator(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_post("/simulator/api/send", _redis_guarded(send))
    app.router.add_get("/simulator/api/inbox", _redis_guarded(inbox))
    app.router.add_static("/simulator/static/", STATIC_DIR)
