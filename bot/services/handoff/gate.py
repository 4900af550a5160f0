"""Every way into the queue: `request_handoff` (actions and the keyword) and the gateway's gate.

`HandoffInterceptor` sits on the conversation path (bot/gateway/conversation.py) and keeps the bot
silent while the conversation belongs to a human.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence

from bot.services.handoff.callbacks import shown_text
from bot.services.handoff.model import (
    PRIORITY_COMPLAINT,
    PRIORITY_NORMAL,
    REASON_LABELS,
    left_message_text,
    who_answers,
)
from bot.services.handoff.phone_step import (
    CORRECT, SKIP, SKIP_TEXT, WHEN, WHY, WHY_TEXT, WITHDRAW, WITHDRAW_TEXT, phone_step_kind,
)
from bot.services.handoff.routing import find_user_place
from bot.services.handoff.service import HandoffService
from bot.services.phone import find_phone, mask_phone

COMPLAINT_RE = re.compile(r"投诉|举报|不满意|态度(太)?差|差评|骗子|太慢了")
# A message that is only a request for a person: answered at the gateway, even if NLU is down.
HANDOFF_KEYWORD_RE = re.compile(
    r"^\s*(转人工|人工|人工服务|人工客服|找人工|转接人工|真人|找真人|我要人工|我要找人工|联系客服|客服)\s*[。!！?？]*\s*$"
)
# A request for a person inside a longer message, as voice input writes it ("看了半天也没弄明白 你给我
# 转个人工吧", "我电话是138…你让人工给我打过来吧", "帮我约个面试指导 算了 还是直接给我转人工吧"); the
# request is the user's last word on it, so the whole message goes to staff. Not "不用转人工",
# "人工智能", "人工费", and not a complaint about an employer ("我要投诉老板欠薪" is a labour question).
PERSON_ASKED_RE = re.compile(
    r"(转|接|找|要|换|叫|让|请)(个|一个|一下|位)?(人工|真人|工作人员)"
    r"(?=$|[吧呗啊呀吗嘛了，,。！!？?\s]|服务|客服|给|帮|跟|和|来|回|打|聊|说|解答|处理|接|问)"
    r"|(?<!是)(人工客服|真人客服)"
)
NOT_ASKED_RE = re.compile(r"(不用|不要|别|无需|不需要|没有?)(再)?(给我)?(转|接|找|要|换|叫|让|请)")
SERVICE_COMPLAINT_RE = re.compile(r"(我|俺)(要|想|得|必须)投诉")
EMPLOYER_RE = re.compile(r"老板|公司|单位|厂|工地|欠薪|工资|拖欠|劳动合同|中介")


def asks_for_a_person(text: str) -> bool:
    """A message, however long, whose request is a person (or a complaint about the service)."""
    text = text or ""
    if HANDOFF_KEYWORD_RE.match(text):
        return True
    asked = PERSON_ASKED_RE.search(text)
    if asked and not NOT_ASKED_RE.search(text[max(0, asked.start() - 6):asked.end()]):
        return True
    return bool(SERVICE_COMPLAINT_RE.search(text)) and not EMPLOYER_RE.search(text)


CANCEL_RE = re.compile(r"^\s*(取消|不用了|取消转人工|算了|不需要了)\s*[。!！]*\s*$")

logger = logging.getLogger(__name__)

# The user's conversation with the bot so far (callbacks.turns_from_events), read only when needed.
History = Callable[[], Awaitable[Sequence[Mapping[str, Any]]]]
# The same, for any user: what the gateway's gate is given (bot/gateway/app.py reads Rasa's tracker).
HistoryOf = Callable[[str], Awaitable[Sequence[Mapping[str, Any]]]]


async def _read_history(history: Optional[History]) -> Sequence[Mapping[str, Any]]:
    if history is None:
        return ()
    try:
        return await history()
    except Exception:  # the request must be kept even without its context
        logger.exception("could not read the conversation for a handoff request")
        return ()


async def request_handoff(
    service: HandoffService,
    openid: str,
    *,
    reason: str,
    priority: int,
    first_message: str,
    history: Optional[History] = None,
) -> str:
    """The one entry point for every trigger (intent, keyword, fallbacks, complaint, actions).

    Returns what to tell the user. The request goes to the user's city (routing.py), or to the
    provincial pool when the city is unknown. With nobody available the request is left as a
    callback item (with the conversation so far, from `history`) for staff to pick up when they
    are next on duty; the user is told who and when (the city's hours) and offered a phone
    callback or a workshop booking; the conversation is not held.
    """
    if COMPLAINT_RE.search(first_message or ""):
        priority, reason = max(priority, PRIORITY_COMPLAINT), "complaint"
    place = await find_user_place(service.redis, service.settings, openid, first_message, history)
    avail = await service.availability(place.city)
    if not avail.available:
        phone = find_phone(first_message) or ""  # "电话是138…，让人工打给我": the callback number already
        left = await service.request(
            openid, reason=reason, priority=priority, first_message=first_message, kind="callback",
            note="非工作时间留言" if avail.reason == "off_hours" else "无人在线时留言",
            history=await _read_history(history), place=place, phone=phone,
        )
        if not phone:  # a number sent next goes onto this item
            await service.memory.make_offer(openid, reason, first_message, left.item_id)
        return left_message_text(
            avail, service.config.for_city(place.city), service.next_opening_text(place.city), place.city, phone
        )
    outcome = await service.request(
        openid, reason=reason, priority=priority, first_message=first_message, place=place
    )
    # the queued message itself is the first acknowledgement
    await service.memory.mark_acknowledged(openid)
    return outcome.user_text(service.config.for_city(place.city))


def _offer_fields(offer: Mapping[str, Any]) -> Dict[str, Any]:
    """An offer read back, as `GateMemory.make_offer`'s arguments."""
    return {
        "reason": str(offer.get("reason") or ""), "first_message": str(offer.get("first_message") or ""),
        "item_id": str(offer.get("item_id") or ""), "phone": str(offer.get("phone") or ""),
        "moved_on": bool(offer.get("moved_on")),
    }


class HandoffInterceptor:
    """A `ConversationService` interceptor.

    * queued or claimed conversation: the message goes to the transcript (and the console);
      the bot says nothing (one short acknowledgement every few minutes while still queued);
    * "转人工" and the like, also at the end of a longer message (`asks_for_a_person`): queued
      right here, without asking Rasa;
    * a phone number after the "nobody available" offer: the number for the callback item.
    Everything else passes (None) to Rasa. `history_of` reads a user's conversation with the
    bot, kept with a request left while nobody is available.
    """

    def __init__(self, service: HandoffService, history_of: Optional[HistoryOf] = None) -> None:
        self.service = service
        self.history_of = history_of

    async def intercept(self, turn: Any) -> Optional[List[str]]:
        service = self.service
        openid, text = turn.openid, (turn.text or "").strip()
        item = await service.active_item(openid)
        if item is not None:
            return await self._held(item, turn, text)
        offer = await service.memory.peek_offer(openid)
        if offer is not None:
            reply = await self._phone_step(openid, text, offer)
            if reply is not None:
                return [reply]
        if text and not text.startswith("/") and asks_for_a_person(text):
            history = (lambda: self.history_of(openid)) if self.history_of else None
            reply = await request_handoff(
                service, openid, reason="request_human", priority=PRIORITY_NORMAL,
                first_message=text, history=history,
            )
            return [reply]
        return None

    async def _phone_step(self, openid: str, text: str, offer: Dict[str, Any]) -> Optional[str]:
        """A message while the callback offer stands (phone_step.py): a number, why, skip, withdraw,
        a corrected number; None: not about the offer, for the bot."""
        service = self.service
        phone = find_phone(text)
        if phone and not offer.get("phone"):
            noted = await self._callback_number(openid, text, phone, offer)
            # once the talk moved on (a booking asks for the number) it answers the bot too: not taken from it
            return None if offer.get("moved_on") else noted
        kind = phone_step_kind(text, bool(phone), bool(offer.get("phone")))
        if kind is None or (offer.get("moved_on") and kind != CORRECT):
            if not offer.get("moved_on"):  # talk moved on: a later "为什么" or "算了" is about something else
                await service.memory.make_offer(openid, **{**_offer_fields(offer), "moved_on": True})
            return None
        if kind == WHY:
            return WHY_TEXT
        if kind == WHEN:  # the offer stands: when the call would come, and how to ask for it
            item = await service.get(offer.get("item_id", "")) if offer.get("item_id") else None
            return (f"{self._call_time((item or {}).get('city', ''))}给您回电。需要回电请直接回复手机号；"
                    "不留也可以，指导师会通过公众号消息联系您。")
        await service.memory.take_offer(openid)
        item = await service.open_callback(offer.get("item_id", ""))
        if kind == CORRECT and item is not None:
            return await self._callback_number(openid, text, phone, offer)
        if kind == WITHDRAW and item is not None:
            await service.add_transcript(item["id"], "user", text, author=openid)
            await service.close(item["id"], "", "user_cancelled")
            return WITHDRAW_TEXT
        return SKIP_TEXT if kind == SKIP else None

    async def _callback_number(self, openid: str, text: str, phone: str, offer: Optional[Dict[str, Any]] = None) -> str:
        """A phone number after the offer: onto the callback item the request left (a new one
        if that item was closed meanwhile)."""
        service = self.service
        offer = offer or await service.memory.take_offer(openid) or {}
        item = await service.open_callback(offer.get("item_id", ""))
        if item is None:
            outcome = await service.request(
                openid,
                reason="callback",
                priority=PRIORITY_COMPLAINT if offer.get("reason") == "complaint" else PRIORITY_NORMAL,
                first_message=offer.get("first_message", "") or text,
                kind="callback",
                phone=phone,
                note=f"原因：{REASON_LABELS.get(offer.get('reason', ''), '')}",
                place=await find_user_place(service.redis, service.settings, openid, offer.get("first_message", "")),
            )
            item = await service.get(outcome.item_id) or {}
            if item and not outcome.created:
                await service.attach_phone(item["id"], phone)
        else:
            await service.attach_phone(item["id"], phone)
        # a corrected number ("不对 是139…") replaces this one for the next 30 minutes
        await service.memory.make_offer(openid, **{**_offer_fields(offer), "item_id": item.get("id", ""), "phone": phone})
        return self._number_noted(phone, item.get("city", ""))

    def _call_time(self, city: str = "") -> str:
        """"济南市的职业指导师会在周一 8:30后（周一至周五 08:30–17:30）": who calls back, and from when."""
        opening = self.service.next_opening_text(city)
        desk = self.service.config.for_city(city)
        return f"{who_answers(city)}会在{opening + '后' if opening else '工作时间'}（{desk.describe_hours()}）"

    def _number_noted(self, phone: str, city: str = "") -> str:
        desk = self.service.config.for_city(city)
        promise = f"，{desk.callback_promise}" if desk.callback_promise else ""
        return f"已登记您的回电号码 {mask_phone(phone)}，{self._call_time(city)}给您回电{promise}。"

    async def _held(self, item: Dict[str, str], turn: Any, text: str) -> List[str]:
        service = self.service
        item_id = item["id"]
        shown = shown_text(text)
        if item["status"] == "queued" and CANCEL_RE.match(text):
            await service.add_transcript(item_id, "user", text, author=turn.openid)
            await service.close(item_id, "", "user_cancelled")
            return ["已为您取消人工服务。职引继续为您服务，有需要随时说“转人工”。"]
        await service.add_transcript(item_id, "user", shown, author=turn.openid)
        if item["status"] != "queued":
            return []
        if await service.memory.mark_acknowledged(turn.openid):
            position = await service.position(item_id)
            return [f"已收到，职业指导师接入后会第一时间回复您（您目前排在第 {position} 位）。"]
        return []
