"""Every way into the queue: `request_handoff` (actions and the keyword) and the gateway's gate.

`HandoffInterceptor` sits on the conversation path (bot/conversation.py) and keeps the bot
silent while the conversation belongs to a human.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from bot.services.handoff.model import (
    PRIORITY_COMPLAINT,
    PRIORITY_NORMAL,
    REASON_LABELS,
    unavailable_text,
)
from bot.services.handoff.service import HandoffService
from bot.services.phone import find_phone, mask_phone

COMPLAINT_RE = re.compile(r"投诉|举报|不满意|态度(太)?差|差评|骗子|太慢了")
# A message that is only a request for a person: answered at the gateway, even if NLU is down.
HANDOFF_KEYWORD_RE = re.compile(
    r"^\s*(转人工|人工|人工服务|人工客服|找人工|转接人工|真人|找真人|我要人工|我要找人工|联系客服|客服)\s*[。!！?？]*\s*$"
)
CANCEL_RE = re.compile(r"^\s*(取消|不用了|取消转人工|算了|不需要了)\s*[。!！]*\s*$")


async def request_handoff(
    service: HandoffService,
    openid: str,
    *,
    reason: str,
    priority: int,
    first_message: str,
) -> str:
    """The one entry point for every trigger (intent, keyword, fallbacks, complaint, actions).

    Returns what to tell the user. With nobody available the user gets the offer (workshop
    booking or a callback) and the conversation is not held; the request is still recorded as
    a callback item so that supervisors see it.
    """
    if COMPLAINT_RE.search(first_message or ""):
        priority, reason = max(priority, PRIORITY_COMPLAINT), "complaint"
    avail = await service.availability()
    if not avail.available:
        await service.make_offer(openid, reason, first_message)
        return unavailable_text(avail, service.config)
    outcome = await service.request(
        openid, reason=reason, priority=priority, first_message=first_message
    )
    # the queued message itself is the first acknowledgement
    await service.mark_acknowledged(openid)
    return outcome.user_text(service.config)


class HandoffInterceptor:
    """A `ConversationService` interceptor.

    * queued or claimed conversation: the message goes to the transcript (and the console);
      the bot says nothing (one short acknowledgement every few minutes while still queued);
    * "转人工" and the like: queued right here, without asking Rasa;
    * a phone number after the "nobody available" offer: a callback request.
    Everything else passes (None) to Rasa.
    """

    def __init__(self, service: HandoffService) -> None:
        self.service = service

    async def intercept(self, turn: Any) -> Optional[List[str]]:
        service = self.service
        openid, text = turn.openid, (turn.text or "").strip()
        item = await service.active_item(openid)
        if item is not None:
            return await self._held(item, turn, text)
        if await service.has_offer(openid):
            phone = find_phone(text)
            if phone:
                offer = await service.take_offer(openid) or {}
                await service.request(
                    openid,
                    reason="callback",
                    priority=PRIORITY_COMPLAINT if offer.get("reason") == "complaint" else PRIORITY_NORMAL,
                    first_message=offer.get("first_message", "") or text,
                    kind="callback",
                    phone=phone,
                    note=f"原因：{REASON_LABELS.get(offer.get('reason', ''), '')}",
                )
                return [
                    f"已登记您的回电号码 {mask_phone(phone)}，"
                    f"职业指导师会在工作时间（{service.config.describe_hours()}）给您回电。"
                ]
        if text and not text.startswith("/") and HANDOFF_KEYWORD_RE.match(text):
            reply = await request_handoff(
                service, openid, reason="request_human", priority=PRIORITY_NORMAL,
                first_message=text,
            )
            return [reply]
        return None

    async def _held(self, item: Dict[str, str], turn: Any, text: str) -> List[str]:
        service = self.service
        item_id = item["id"]
        # intent triggers (locations, menu clicks) are shown as what they are, not as raw JSON
        shown = text if text and not text.startswith("/") else f"[非文字消息] {text}"
        if item["status"] == "queued" and CANCEL_RE.match(text):
            await service.add_transcript(item_id, "user", text, author=turn.openid)
            await service.close(item_id, "", "user_cancelled")
            return ["已为您取消人工服务。职引继续为您服务，有需要随时说“转人工”。"]
        await service.add_transcript(item_id, "user", shown, author=turn.openid)
        if item["status"] != "queued":
            return []
        if await service.mark_acknowledged(turn.openid):
            position = await service.position(item_id)
            return [f"已收到，职业指导师接入后会第一时间回复您（您目前排在第 {position} 位）。"]
        return []
