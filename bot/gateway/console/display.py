"""What the console's pages and JSON answers both show about a conversation: Beijing times,
the state of the user's 48-hour customer-service window, and the transcript (each read audited)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List

from aiohttp import web

from bot.gateway.appkeys import HANDOFF
from bot.gateway.client_ip import client_ip
from bot.clock import SHANGHAI
from bot.gateway.console.keys import AUDIT, CS_WINDOW
from bot.gateway.console.middleware import staff_of

WINDOW_LABELS = {
    "event_window": "菜单/关注后 1 分钟内可发", "message_window": "48 小时窗口内",
    "blocked": "微信已拒绝（次数用尽），等用户再发消息", "quota_exhausted": "本窗口的客服消息次数已用完",
    "window_closed": "48 小时窗口已关闭",
}


def fmt_ts(ts: Any) -> str:
    """A Unix timestamp as Beijing "MM-DD HH:MM:SS"; empty for anything that is not one."""
    try:
        return datetime.fromtimestamp(float(ts), SHANGHAI).strftime("%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return ""


async def read_transcript(request: web.Request, item_id: str) -> List[Dict[str, Any]]:
    """The one way the console reads a transcript: page or JSON, each read leaves a "view" entry."""
    await request.config_dict[AUDIT].record(staff_of(request).username, "view", item_id, ip=client_ip(request))
    return await request.config_dict[HANDOFF].transcript(item_id)


async def window_state(request: web.Request, openid: str) -> Dict[str, Any]:
    window = request.config_dict.get(CS_WINDOW)
    if window is None:
        return {"known": False}
    allowed, reason = await window.may_send(openid)
    remaining = await window.remaining(openid)
    until = await window.message_window_until(openid)
    return {
        "known": True, "allowed": allowed, "reason": reason, "label": WINDOW_LABELS.get(reason, reason),
        "remaining": remaining, "until": fmt_ts(until) if until > 0 else "",
    }
