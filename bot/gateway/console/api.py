"""The console's JSON API under /console/api/: the queue, the dashboard figures, and what a
counsellor does with one conversation (claim, release, transfer, close, reply, template, note,
hand back, transcript). Every state change is written to the audit log."""
from __future__ import annotations

import logging
from typing import Any, Dict, Union

from aiohttp import web

from bot.gateway.appkeys import CLOCK, HANDOFF, RASA, REDIS, SERVICES, SETTINGS
from bot.gateway.client_ip import client_ip
from bot.clock import in_beijing
from bot.gateway.console.access import item_visible, may_see_item
from bot.gateway.console.display import read_transcript, window_state
from bot.gateway.console.keys import AUDIT, CONSOLE_AUTH, CS_WINDOW, WECHAT_CLIENT
from bot.gateway.console.middleware import staff_of
from bot.gateway.console.stats import dashboard_data
from bot.gateway.metrics import METRICS
from bot.services.customer_service import CustomerServiceSender
from bot.services.handoff.model import HandoffError
from bot.gateway.wechat.api_client import WeChatAPIError

logger = logging.getLogger(__name__)

HTTP_ERROR_STATUS = {"missing": 404, "bad_outcome": 400}


async def visible_queue(request: web.Request) -> Dict[str, Any]:
    """The open items the signed-in staff member may see (access.py), and availability: what
    the queue API and the live stream's first snapshot send."""
    handoff, staff = request.config_dict[HANDOFF], staff_of(request)
    avail = await handoff.availability()
    return {
        "items": [i for i in await handoff.snapshot() if may_see_item(staff, i)],
        "availability": {"available": avail.available, "reason": avail.reason, "online": avail.online},
    }


async def api_queue(request: web.Request) -> web.Response:
    return web.json_response(await visible_queue(request))


async def api_dashboard(request: web.Request) -> web.Response:
    handoff = request.config_dict[HANDOFF]
    booking = request.config_dict[SERVICES].booking
    staff = staff_of(request)
    data = await dashboard_data(
        request.config_dict[REDIS], request.config_dict[SETTINGS], handoff, booking, handoff._clock,
        scope=staff.scope, visible=lambda item: may_see_item(staff, item),
    )
    return web.json_response(data)


async def api_heartbeat(request: web.Request) -> web.Response:
    staff = staff_of(request)
    await request.config_dict[HANDOFF].heartbeat(staff.username, staff.scope.areas())
    return web.json_response({"ok": True})


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


async def _text_field(request: web.Request, label: str, max_chars: int) -> Union[str, web.Response]:
    """The body's "text", stripped; or the 400 answer when it is empty or longer than max_chars."""
    text = str((await _json_body(request)).get("text", "")).strip()
    if not text or len(text) > max_chars:
        return web.json_response({"error": f"{label}不能为空，且不超过 {max_chars} 字"}, status=400)
    return text


async def api_claim(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    handoff = request.config_dict[HANDOFF]
    try:
        item = await handoff.claim(item_id, staff.username)
    except HandoffError as exc:
        await request.config_dict[AUDIT].record(staff.username, "claim_refused", item_id, {"code": exc.code, "holder": exc.holder}, ip=client_ip(request))
        return _error(exc)
    await request.config_dict[AUDIT].record(staff.username, "claim", item_id, ip=client_ip(request))
    metrics = request.config_dict.get(METRICS)
    if metrics is not None and item.get("wait_s"):
        metrics.observe_wait(float(item["wait_s"]))
    return web.json_response({"ok": True, "holder": staff.username, "url": f"/console/conversations/{item_id}"})


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
    auth = request.config_dict[CONSOLE_AUTH]
    users = await auth.list_users()
    if to_user not in users or users[to_user].get("disabled") == "1" or to_user == staff.username:
        return web.json_response({"error": "请选择一位有效的同事"}, status=400)
    note = str(body.get("note", ""))[:300]
    handoff = request.config_dict[HANDOFF]
    item = await handoff.get(item_id)
    target_supervisor = users[to_user].get("role") in ("supervisor", "admin")
    if item and not item_visible(await auth.user_scope(to_user), target_supervisor, item):
        return web.json_response({"error": f"{to_user} 的工作范围不包括该用户所在地区"}, status=400)
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
    sender = CustomerServiceSender(request.config_dict[WECHAT_CLIENT], request.config_dict[CS_WINDOW])
    result = await sender.send(openid, text)
    if result.sent:
        return {"ok": True}
    if result.errcode is None:
        return {"ok": False, "reason": result.reason, "error": "48 小时客服窗口已关闭或次数已用完，可发送服务通知请用户回复"}
    return {"ok": False, "reason": result.reason, "error": f"微信接口拒绝发送（{result.errcode}）：{result.errmsg}"}


async def api_reply(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    text = await _text_field(request, "回复", 600)
    if isinstance(text, web.Response):
        return text
    try:
        item = await _require_holder(request, item_id)
    except HandoffError as exc:
        return _error(exc)
    result = await _send_to_user(request, item["openid"], text)
    await request.config_dict[AUDIT].record(staff.username, "reply" if result["ok"] else "reply_failed", item_id, {"chars": len(text), "reason": result.get("reason", "")}, ip=client_ip(request))
    if not result["ok"]:
        return web.json_response({"error": result["error"], "reason": result["reason"], "window": await window_state(request, item["openid"])}, status=409)
    # on a callback item this makes the talk live: the user's replies come to the counsellor
    await request.config_dict[HANDOFF].counsellor_wrote(item_id, staff.username, text)
    metrics = request.config_dict.get(METRICS)
    if metrics is not None:
        metrics.count_counsellor_reply()
    return web.json_response({"ok": True, "window": await window_state(request, item["openid"])})


async def api_template(request: web.Request) -> web.Response:
    """When the window is closed: a template (service notice) asking the user to reply."""
    staff, item_id = staff_of(request), request.match_info["item_id"]
    try:
        item = await _require_holder(request, item_id)
    except HandoffError as exc:
        return _error(exc)
    template_id = request.config_dict[SETTINGS].handoff_template_id
    data = {
        "first": "职业指导师回复了您的咨询",
        "keyword1": "人工咨询",
        "keyword2": in_beijing(request.config_dict[CLOCK]()).strftime("%Y-%m-%d %H:%M"),
        "remark": "请进入公众号回复任意消息，继续与职业指导师沟通。",
    }
    try:
        await request.config_dict[WECHAT_CLIENT].send_template(item["openid"], template_id, data)
    except WeChatAPIError as exc:
        return web.json_response({"error": f"服务通知发送失败（{exc.errcode}）：{exc.errmsg}"}, status=502)
    await request.config_dict[HANDOFF].notice_sent(item_id, staff.username)
    await request.config_dict[AUDIT].record(staff.username, "template", item_id, {"template_id": template_id}, ip=client_ip(request))
    return web.json_response({"ok": True})


async def api_note(request: web.Request) -> web.Response:
    staff, item_id = staff_of(request), request.match_info["item_id"]
    text = await _text_field(request, "备注", 1000)
    if isinstance(text, web.Response):
        return text
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
        "item": summary, "transcript": await read_transcript(request, item_id),
        "window": await window_state(request, summary["openid"]),
    })
