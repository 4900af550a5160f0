"""The console's HTML pages (server-side Jinja2): live queue, one conversation, dashboard, audit log.

`base_context` is what every console page's layout needs (the campaign and cohort pages use it too).
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import aiohttp_jinja2
from aiohttp import web

from bot.gateway.appkeys import HANDOFF, RASA, REDIS, SETTINGS
from bot.gateway.console.auth import ROLE_LABELS
from bot.gateway.console.display import fmt_ts, read_transcript, window_state
from bot.gateway.console.keys import AUDIT, CONSOLE_AUTH, JINJA
from bot.gateway.console.middleware import staff_of
from bot.services.booking.service import BookingService
from bot.services.handoff.model import OUTCOMES
from bot.services.profiles import ProfileStore

TEMPLATES_DIR = Path(__file__).parent / "templates"

CANNED_REPLIES = [
    "您好，我是职业指导师，很高兴为您服务。请问有什么可以帮您？",
    "请稍等，我帮您查询一下。",
    "您可以携带身份证和简历，到就近的公共就业服务机构（就业驿站）现场咨询。",
    "高校毕业生可以登录“山东公共招聘网”查看岗位，也可以预约一对一职业指导课。",
    "失业登记可以通过“爱山东”App 或到户籍/常住地街道（乡镇）人社服务窗口办理。",
    "关于政策的具体标准，以当地人社部门最新公布的文件为准，您也可以拨打 12333 咨询。",
    "感谢您的耐心，本次咨询就到这里。之后有问题可以随时留言，职引也会继续为您服务。",
]


def base_context(request: web.Request, **extra: Any) -> Dict[str, Any]:
    staff = staff_of(request)
    return {
        "staff": staff,
        "role_label": ROLE_LABELS.get(staff.role, staff.role),
        "scope_label": staff.scope.label(),
        "csrf": staff.csrf,
        "hours": request.config_dict[HANDOFF].config.describe_hours(),
        **extra,
    }


async def queue_page(request: web.Request) -> web.Response:
    staff = staff_of(request)
    await request.config_dict[HANDOFF].heartbeat(staff.username, staff.scope.areas())
    return aiohttp_jinja2.render_template("queue.html", request, base_context(request, page="queue"), app_key=JINJA)


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
            turns.append(_user_turn(event))
        elif kind == "bot":
            turns.append({"who": "bot", "text": event.get("text") or "", "at": fmt_ts(event.get("timestamp"))})
    return {"error": "", "turns": turns[-80:]}


def _user_turn(event: Dict[str, Any]) -> Dict[str, Any]:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [
        f"{r.get('name')} {float(r.get('confidence') or 0):.2f}"
        for r in (parse.get("intent_ranking") or [])[:3]
    ]
    entities = [f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []]
    return {
        "who": "user", "text": event.get("text") or "", "at": fmt_ts(event.get("timestamp")),
        "intent": intent.get("name") or "", "confidence": float(intent.get("confidence") or 0),
        "ranking": ranking, "entities": entities,
    }


async def _bookings(request: web.Request, openid: str) -> List[str]:
    try:
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
    summary["created_text"] = fmt_ts(summary["created_at"])
    profile = await ProfileStore(request.config_dict[REDIS], request.config_dict[SETTINGS]).get(openid)
    staff_names = sorted((await request.config_dict[CONSOLE_AUTH].list_users()).keys())
    transcript = await read_transcript(request, item_id)
    for entry in transcript:
        entry["at_text"] = fmt_ts(entry.get("at"))
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
            window=await window_state(request, openid),
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
        row["at_text"] = fmt_ts(row.get("at"))
    users = await request.config_dict[CONSOLE_AUTH].list_users()
    online = set(await request.config_dict[HANDOFF].online_staff())
    return aiohttp_jinja2.render_template(
        "audit.html", request, base_context(request, page="audit", rows=rows, users=users, online=online), app_key=JINJA
    )
