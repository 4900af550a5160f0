"""The staff console: pages (server-side Jinja2) and the JSON/SSE API under /console.

Every request passes `console_guard`: a staff session is required except for the login page
and static files (pages redirect to the login page, the API answers 401), roles are checked
per route (403), every POST must carry the session's CSRF token (403) and a same-origin Origin
header when the browser sends one, and every state change is written to the audit log.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

import aiohttp_jinja2
from aiohttp import web
from redis.exceptions import RedisError

from bot.appkeys import CLOCK, HANDOFF, RASA, REDIS, SETTINGS
from bot.client_ip import client_ip
from bot.clock import SHANGHAI
from bot.console.auth import (
    COOKIE_NAME,
    ROLE_LABELS,
    StaffSession,
    csrf_matches,
)
from bot.console.keys import AUDIT, CONSOLE_AUTH, CONSOLE_STATE, CS_WINDOW, WECHAT_CLIENT
from bot.console.stats import dashboard_data
from bot.services.handoff.model import OUTCOMES, HandoffError
from bot.services.profiles import ProfileStore

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
JINJA = web.AppKey("console_jinja", object)

CANNED_REPLIES = [
    "您好，我是职业指导师，很高兴为您服务。请问有什么可以帮您？",
    "请稍等，我帮您查询一下。",
    "您可以携带身份证和简历，到就近的公共就业服务机构（就业驿站）现场咨询。",
    "高校毕业生可以登录“山东公共招聘网”查看岗位，也可以预约一对一职业指导课。",
    "失业登记可以通过“爱山东”App 或到户籍/常住地街道（乡镇）人社服务窗口办理。",
    "关于政策的具体标准，以当地人社部门最新公布的文件为准，您也可以拨打 12333 咨询。",
    "感谢您的耐心，本次咨询就到这里。之后有问题可以随时留言，职引也会继续为您服务。",
]
HTTP_ERROR_STATUS = {"missing": 404, "bad_outcome": 400}
REDIS_DOWN_TEXT = "工作台暂时连不上数据库（Redis），刚才的操作没有执行。请稍后刷新页面再试；如持续出现，请联系系统管理员。"
API_PREFIX = "/console/api/"


def _is_api(request: web.Request) -> bool:
    return request.path.startswith(API_PREFIX)


def staff_of(request: web.Request) -> StaffSession:
    return request["staff"]


# ----------------------------------------------------------------------------------------------
# Guard: authentication, roles, CSRF, security headers

_PUBLIC = ("/console/login", "/console/static/")
_SUPERVISOR_ONLY = (
    "/console/dashboard", "/console/audit", "/console/api/dashboard", "/console/users", "/console/campaigns",
    "/console/cohorts",
)


@web.middleware
async def console_guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
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


async def _guarded(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith(_PUBLIC):
        return await handler(request)
    auth = request.config_dict[CONSOLE_AUTH]
    staff = await auth.load_session(request.cookies.get(COOKIE_NAME))
    if staff is None:
        if _is_api(request) or request.method != "GET":
            return web.json_response({"error": "请先登录"}, status=401)
        raise web.HTTPFound("/console/login?next=" + request.path)
    request["staff"] = staff
    if request.path.startswith(_SUPERVISOR_ONLY) and not staff.is_supervisor:
        await request.config_dict[AUDIT].record(staff.username, "forbidden", request.path, ip=client_ip(request))
        if _is_api(request):
            return web.json_response({"error": "需要主管权限"}, status=403)
        return web.Response(text="需要主管权限", status=403, content_type="text/plain")
    if request.method == "POST":
        if not _same_origin(request):
            return web.json_response({"error": "来源不被允许"}, status=403)
        supplied = request.headers.get("X-CSRF-Token")
        if supplied is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            supplied = (await request.post()).get("_csrf")
        if not csrf_matches(staff.csrf, supplied if isinstance(supplied, str) else None):
            await request.config_dict[AUDIT].record(staff.username, "csrf_rejected", request.path, ip=client_ip(request))
            return web.json_response({"error": "页面已过期，请刷新后重试（CSRF 校验失败）"}, status=403)
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return origin == f"{request.scheme}://{request.host}" or origin == request.config_dict[SETTINGS].public_base_url.rstrip("/")


def _secure_cookie(request: web.Request) -> bool:
    return request.secure or request.config_dict[SETTINGS].public_base_url.startswith("https://")


# ----------------------------------------------------------------------------------------------
# Pages


def base_context(request: web.Request, **extra: Any) -> Dict[str, Any]:
    staff = staff_of(request)
    return {
        "staff": staff,
        "role_label": ROLE_LABELS.get(staff.role, staff.role),
        "csrf": staff.csrf,
        "hours": request.config_dict[HANDOFF].config.describe_hours(),
        **extra,
    }


async def queue_page(request: web.Request) -> web.Response:
    await request.config_dict[HANDOFF].heartbeat(staff_of(request).username)
    return aiohttp_jinja2.render_template("queue.html", request, base_context(request, page="queue"), app_key=JINJA)


def _fmt_ts(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(float(ts), SHANGHAI).strftime("%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return ""


async def _bot_turns(request: web.Request, openid: str) -> Dict[str, Any]:
    """The bot's side of the conversation from the Rasa tracker: user texts with the NLU's
    guesses, and the bot's answers (last 80 events of interest)."""
    try:
        tracker = await asyncio.wait_for(request.config_dict[RASA].tracker(openid), 5)
    except Exception as exc:  # the console must still open when Rasa is down
        return {"error": f"无法读取机器人对话记录（{type(exc).__name__}）", "turns": []}
    turns: List[Dict[str, Any]] = []
    for event in (tracker or {}).get("events", []) or []:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            ranking = [
                f"{r.get('name')} {float(r.get('confidence') or 0):.2f}"
                for r in (parse.get("intent_ranking") or [])[:3]
            ]
            entities = [f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []]
            turns.append({
                "who": "user", "text": event.get("text") or "", "at": _fmt_ts(event.get("timestamp")),
                "intent": intent.get("name") or "", "confidence": float(intent.get("confidence") or 0),
                "ranking": ranking, "entities": entities,
            })
        elif kind == "bot":
            turns.append({"who": "bot", "text": event.get("text") or "", "at": _fmt_ts(event.get("timestamp"))})
    return {"error": "", "turns": turns[-80:]}


async def _window_state(request: web.Request, openid: str) -> Dict[str, Any]:
    window = request.config_dict.get(CS_WINDOW)
    if window is None:
        return {"known": False}
    allowed, reason = await window.may_send(openid)
    remaining = await window.remaining(openid)
    settings = request.config_dict[SETTINGS]
    until = await request.config_dict[REDIS].hget(settings.key("cswindow", openid), "mu")
    labels = {
        "event_window": "菜单/关注后 1 分钟内可发", "message_window": "48 小时窗口内",
        "blocked": "微信已拒绝（次数用尽），等用户再发消息", "quota_exhausted": "本窗口的客服消息次数已用完",
        "window_closed": "48 小时窗口已关闭",
    }
    return {
        "known": True, "allowed": allowed, "reason": reason, "label": labels.get(reason, reason),
        "remaining": remaining, "until": _fmt_ts(until) if until and float(until) > 0 else "",
    }


async def _bookings(request: web.Request, openid: str) -> List[str]:
    try:
        from bot.services.booking import BookingService

        views = await BookingService(request.config_dict[REDIS], request.config_dict[SETTINGS]).history(openid)
    except Exception:
        return []
    out = []
    for v in views[:10]:
        title = getattr(v.workshop, "title", "") or getattr(v.workshop, "name", "") or v.booking.slot_id
        out.append(f"{v.booking.code} {title} {v.booking.status}")
    return out


async def conversation_page(request: web.Request) -> web.Response:
    handoff = request.config_dict[HANDOFF]
    item_id = request.match_info["item_id"]
    summary = await handoff.summary(item_id)
    if summary is None:
        raise web.HTTPNotFound(text="会话不存在")
    openid = summary["openid"]
    await request.config_dict[AUDIT].record(staff_of(request).username, "view", item_id, ip=client_ip(request))
    profile = await ProfileStore(request.config_dict[REDIS], request.config_dict[SETTINGS]).get(openid)
    staff_names = sorted((await request.config_dict[CONSOLE_AUTH].list_users()).keys())
    transcript = await handoff.transcript(item_id)
    for entry in transcript:
        entry["at_text"] = _fmt_ts(entry.get("at"))
    return aiohttp_jinja2.render_template(
        "conversation.html",
        request,
        base_context(
            request,
            page="conversation",
            item=summary,
            transcript=transcript,
            bot=await _bot_turns(request, openid),
            profile=profile,
            bookings=await _bookings(request, openid),
            window=await _window_state(request, openid),
            canned=CANNED_REPLIES,
            outcomes=OUTCOMES,
            colleagues=[n for n in staff_names if n != staff_of(request).username],
            past=[i for i in await handoff.items_for_openid(openid) if i != item_id],
        ),
        app_key=JINJA,
    )


async def dashboard_page(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("dashboard.html", request, base_context(request, page="dashboard"), app_key=JINJA)


async def audit_page(request: web.Request) -> web.Response:
    rows = await request.config_dict[AUDIT].latest(300)
    for row in rows:
        row["at_text"] = _fmt_ts(row.get("at"))
    users = await request.config_dict[CONSOLE_AUTH].list_users()
    online = set(await request.config_dict[HANDOFF].online_staff())
    return aiohttp_jinja2.render_template(
        "audit.html", request, base_context(request, page="audit", rows=rows, users=users, online=online), app_key=JINJA
    )


# ----------------------------------------------------------------------------------------------
# JSON API


async def api_queue(request: web.Request) -> web.Response:
    handoff = request.config_dict[HANDOFF]
    avail = await handoff.availability()
    return web.json_response({
        "items": await handoff.snapshot(),
        "availability": {"available": avail.available, "reason": avail.reason, "online": avail.online},
    })


async def api_dashboard(request: web.Request) -> web.Response:
    handoff = request.config_dict[HANDOFF]
    data = await dashboard_data(request.config_dict[REDIS], request.config_dict[SETTINGS], handoff, handoff._clock)
    return web.json_response(data)


def _error(exc: HandoffError) -> web.Response:
    status = HTTP_ERROR_STATUS.get(exc.code, 409)
    return web.json_response({"error": exc.message, "code": exc.code, "holder": exc.holder}, status=status)


async def _json_body(request: web.Request) -> Dict[str, Any]:
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="请求格式不正确")
        return body if isinstance(body, dict) else {}
    return dict(await request.post())


async def api_claim(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    handoff = request.config_dict[HANDOFF]
    try:
        item = await handoff.claim(item_id, staff.username)
    except HandoffError as exc:
        await request.config_dict[AUDIT].record(staff.username, "claim_refused", item_id, {"code": exc.code, "holder": exc.holder}, ip=client_ip(request))
        return _error(exc)
    await request.config_dict[AUDIT].record(staff.username, "claim", item_id, ip=client_ip(request))
    metrics = request.config_dict.get(_metrics_key())
    if metrics is not None and item.get("wait_s"):
        metrics.observe_wait(float(item["wait_s"]))
    return web.json_response({"ok": True, "holder": staff.username, "url": f"/console/conversations/{item_id}"})


def _metrics_key() -> Any:
    from bot.metrics import METRICS

    return METRICS


async def api_release(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    try:
        await request.config_dict[HANDOFF].release(item_id, staff.username, supervisor=staff.is_supervisor)
    except HandoffError as exc:
        return _error(exc)
    await request.config_dict[AUDIT].record(staff.username, "release", item_id, ip=client_ip(request))
    return web.json_response({"ok": True})


async def api_transfer(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    body = await _json_body(request)
    to_user = str(body.get("to", "")).strip()
    users = await request.config_dict[CONSOLE_AUTH].list_users()
    if to_user not in users or users[to_user].get("disabled") == "1" or to_user == staff.username:
        return web.json_response({"error": "请选择一位有效的同事"}, status=400)
    note = str(body.get("note", ""))[:300]
    handoff = request.config_dict[HANDOFF]
    item = await handoff.get(item_id)
    from_user = staff.username if not staff.is_supervisor else (item or {}).get("holder", staff.username)
    try:
        await handoff.transfer(item_id, from_user, to_user, supervisor=staff.is_supervisor, note=note)
    except HandoffError as exc:
        return _error(exc)
    await request.config_dict[AUDIT].record(staff.username, "transfer", item_id, {"to": to_user, "note": note}, ip=client_ip(request))
    return web.json_response({"ok": True, "holder": to_user})


async def api_close(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    body = await _json_body(request)
    outcome = str(body.get("outcome", ""))
    try:
        await request.config_dict[HANDOFF].close(item_id, staff.username, outcome, supervisor=staff.is_supervisor)
    except HandoffError as exc:
        return _error(exc)
    await request.config_dict[AUDIT].record(staff.username, "close", item_id, {"outcome": outcome}, ip=client_ip(request))
    return web.json_response({"ok": True})


async def _require_holder(request: web.Request, item_id: str) -> Dict[str, str]:
    staff = staff_of(request)
    item = await request.config_dict[HANDOFF].get(item_id)
    if not item:
        raise HandoffError("missing", "该会话不存在")
    if item.get("status") != "claimed":
        raise HandoffError("not_claimed", "请先接入该会话", item.get("holder", ""))
    if item.get("holder") != staff.username:
        raise HandoffError("not_holder", "该会话由其他职业指导师负责", item.get("holder", ""))
    return item


async def _send_to_user(request: web.Request, openid: str, text: str) -> Dict[str, Any]:
    """One customer-service message within the 48-hour window; returns {"ok", "error", ...}."""
    from bot.wechat.api_client import WeChatAPIError

    window = request.config_dict[CS_WINDOW]
    client = request.config_dict[WECHAT_CLIENT]
    if not await window.consume(openid):
        allowed, reason = await window.may_send(openid)
        return {"ok": False, "reason": reason, "error": "48 小时客服窗口已关闭或次数已用完，可发送服务通知请用户回复"}
    try:
        await client.send_text(openid, text)
    except WeChatAPIError as exc:
        await window.record_api_refusal(openid, exc.errcode)
        return {"ok": False, "reason": f"wechat_{exc.errcode}", "error": f"微信接口拒绝发送（{exc.errcode}）：{exc.errmsg}"}
    return {"ok": True}


async def api_reply(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    body = await _json_body(request)
    text = str(body.get("text", "")).strip()
    if not text or len(text) > 600:
        return web.json_response({"error": "回复不能为空，且不超过 600 字"}, status=400)
    try:
        item = await _require_holder(request, item_id)
    except HandoffError as exc:
        return _error(exc)
    result = await _send_to_user(request, item["openid"], text)
    await request.config_dict[AUDIT].record(staff.username, "reply" if result["ok"] else "reply_failed", item_id, {"chars": len(text), "reason": result.get("reason", "")}, ip=client_ip(request))
    if not result["ok"]:
        return web.json_response({"error": result["error"], "reason": result["reason"], "window": await _window_state(request, item["openid"])}, status=409)
    handoff = request.config_dict[HANDOFF]
    await handoff.add_transcript(item_id, "counsellor", text, author=staff.username)
    metrics = request.config_dict.get(_metrics_key())
    if metrics is not None:
        metrics.count_counsellor_reply()
    return web.json_response({"ok": True, "window": await _window_state(request, item["openid"])})


async def api_template(request: web.Request) -> web.Response:
    """When the window is closed: a template (service notice) asking the user to reply."""
    from bot.wechat.api_client import WeChatAPIError

    staff, item_id = staff_of(request), request.match_info["item_id"]
    try:
        item = await _require_holder(request, item_id)
    except HandoffError as exc:
        return _error(exc)
    template_id = request.config_dict[SETTINGS].handoff_template_id
    data = {
        "first": "职业指导师回复了您的咨询",
        "keyword1": "人工咨询",
        "keyword2": request.config_dict[CLOCK]().strftime("%Y-%m-%d %H:%M"),  # Beijing time
        "remark": "请进入公众号回复任意消息，继续与职业指导师沟通。",
    }
    try:
        await request.config_dict[WECHAT_CLIENT].send_template(item["openid"], template_id, data)
    except WeChatAPIError as exc:
        return web.json_response({"error": f"服务通知发送失败（{exc.errcode}）：{exc.errmsg}"}, status=502)
    await request.config_dict[HANDOFF].add_transcript(item_id, "system", "已发送服务通知，请用户回复", author=staff.username)
    await request.config_dict[AUDIT].record(staff.username, "template", item_id, {"template_id": template_id}, ip=client_ip(request))
    return web.json_response({"ok": True})


async def api_note(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    body = await _json_body(request)
    text = str(body.get("text", "")).strip()
    if not text or len(text) > 1000:
        return web.json_response({"error": "备注不能为空，且不超过 1000 字"}, status=400)
    handoff = request.config_dict[HANDOFF]
    if not await handoff.get(item_id):
        return web.json_response({"error": "该会话不存在"}, status=404)
    await handoff.add_transcript(item_id, "note", text, author=staff.username)
    await request.config_dict[AUDIT].record(staff.username, "note", item_id, ip=client_ip(request))
    return web.json_response({"ok": True})


async def api_handback(request: web.Request) -> web.Response:
    """Close as "handed back", then let Rasa greet the user again (delivered via WeChat)."""
    staff, item_id = staff_of(request), request.match_info["item_id"]
    handoff = request.config_dict[HANDOFF]
    try:
        item = await _require_holder(request, item_id) if not staff.is_supervisor else (await handoff.get(item_id) or {})
        if not item:
            raise HandoffError("missing", "该会话不存在")
        await handoff.close(item_id, staff.username, "handed_back", supervisor=staff.is_supervisor)
    except HandoffError as exc:
        return _error(exc)
    await request.config_dict[AUDIT].record(staff.username, "handback", item_id, ip=client_ip(request))
    openid = item["openid"]
    delivered, problems = 0, []
    try:
        messages = await request.config_dict[RASA].trigger_intent(openid, handoff.config.resume_intent)
    except Exception as exc:
        logger.warning("hand-back resume failed: %r", exc)
        return web.json_response({"ok": True, "delivered": 0, "warning": "已交回机器人，但机器人暂时没有回应（用户下一条消息会由机器人回答）"})
    for message in messages:
        text = message.get("text") if isinstance(message, dict) else None
        if not text:
            continue
        result = await _send_to_user(request, openid, text)
        if result["ok"]:
            delivered += 1
            await handoff.add_transcript(item_id, "bot", text, author="职引")
        else:
            problems.append(result["error"])
    return web.json_response({"ok": True, "delivered": delivered, "warning": "；".join(problems)})


async def api_transcript(request: web.Request) -> web.Response:
    handoff = request.config_dict[HANDOFF]
    item_id = request.match_info["item_id"]
    summary = await handoff.summary(item_id)
    if summary is None:
        return web.json_response({"error": "该会话不存在"}, status=404)
    return web.json_response({
        "item": summary, "transcript": await handoff.transcript(item_id),
        "window": await _window_state(request, summary["openid"]),
    })


# ----------------------------------------------------------------------------------------------
# Live queue (server-sent events)

HEARTBEAT_S = 15.0


async def api_stream(request: web.Request) -> web.StreamResponse:
    """SSE: a full snapshot first (also after every reconnect, whatever Last-Event-ID says, so a
    console that missed events is always resynchronised), then every queue event with its
    Redis stream id as the event id. Keeps the staff member's presence fresh while open."""
    handoff = request.config_dict[HANDOFF]
    redis = request.config_dict[REDIS]
    state = request.config_dict[CONSOLE_STATE]
    staff = staff_of(request)
    resp = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
    })
    await resp.prepare(request)
    state["streams"].add(resp)
    stopping: asyncio.Event = state["stopping"]
    try:
        await handoff.heartbeat(staff.username)
        newest = await redis.xrevrange(handoff.events_key, count=1)
        last_id = newest[0][0] if newest else "0-0"
        avail = await handoff.availability()
        snapshot = {
            "items": await handoff.snapshot(),
            "availability": {"available": avail.available, "reason": avail.reason, "online": avail.online},
            "resumed_from": request.headers.get("Last-Event-ID", ""),
        }
        await resp.write(f"retry: 2000\nid: {last_id}\nevent: snapshot\ndata: {json.dumps(snapshot, ensure_ascii=False)}\n\n".encode())
        beat = time.monotonic()
        while not stopping.is_set():
            if time.monotonic() - beat > HEARTBEAT_S:
                await handoff.heartbeat(staff.username)
                await resp.write(b": keepalive\n\n")
                beat = time.monotonic()
            result = await redis.xread({handoff.events_key: last_id}, count=100, block=1000)
            for _stream, entries in result or []:
                for entry_id, fields in entries:
                    last_id = entry_id
                    await resp.write(f"id: {entry_id}\nevent: item\ndata: {fields['data']}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        state["streams"].discard(resp)
    return resp


async def api_heartbeat(request: web.Request) -> web.Response:
    await request.config_dict[HANDOFF].heartbeat(staff_of(request).username)
    return web.json_response({"ok": True})


def add_routes(console: web.Application) -> None:
    r = console.router
    r.add_get("/", queue_page)
    r.add_get("/conversations/{item_id:\\d+}", conversation_page)
    r.add_get("/dashboard", dashboard_page)
    r.add_get("/audit", audit_page)
    r.add_get("/api/queue", api_queue)
    r.add_get("/api/stream", api_stream)
    r.add_post("/api/heartbeat", api_heartbeat)
    r.add_get("/api/dashboard", api_dashboard)
    r.add_get("/api/items/{item_id:\\d+}", api_transcript)
    for name, handler in (
        ("claim", api_claim), ("release", api_release), ("transfer", api_transfer),
        ("close", api_close), ("reply", api_reply), ("template", api_template),
        ("note", api_note), ("handback", api_handback),
    ):
        r.add_post(f"/api/items/{{item_id:\\d+}}/{name}", handler)
    r.add_static("/static/", STATIC_DIR)
