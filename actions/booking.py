"""Workshop booking in the chat: the booking form, its validation, my bookings, cancel, rebook.

Thin: parse slots and text, call `bot.services.booking`. WeChat passive replies have no
buttons, so every choice is a numbered list and the user answers with a number (the `number`
entity) or the name. "算了"/"不约了" (intent `stop`) leaves the form at any step: the
validation action then ends the form with `booking_confirm = False`, and `action_booking_submit`
says goodbye instead of booking.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from bot.clock import SHANGHAI, system_clock
from bot.services.booking.codes import find_codes
from bot.services.booking.service import BookingService
from bot.services.phone import find_phone, mask_phone, normalise_phone
from bot.services.profiles import ProfileStore
from bot.services.workshops import TOPICS, normalise_topic

# The actions' clock; tests replace it with a FrozenClock.
CLOCK = system_clock

FORM = "workshop_booking_form"
FORM_SLOTS = (
    "booking_topic",
    "booking_when",
    "booking_slot_id",
    "booking_name",
    "booking_phone",
    "booking_confirm",
    "booking_offered",
)
MAX_OFFERS = 5

_STOP_RE = re.compile(r"^(算了|不约了|不预约了|不想约了|不用约了|不用了|退出|不要了|取消)[吧啊了。！!～~\s]*$")
_YES_RE = re.compile(r"^(是|是的|确认|确定|对|好|好的|可以|行|没问题|ok|yes|y|嗯)[。！!\s]*$", re.I)
_NO_RE = re.compile(r"^(否|不|不是|不对|不要|no|n)[。！!\s]*$", re.I)
_ANY_TIME_RE = re.compile(r"(都行|都可以|随便|最近|尽快|越快越好|任意|什么时候都)")
_NAME_RE = re.compile(r"^[\u4e00-\u9fa5A-Za-z·•\s]{2,20}$")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def booking_service() -> BookingService:
    """The service as actions use it: no notifier here (the gateway's job runner sends)."""
    return BookingService(
        runtime.redis(),
        runtime.settings(),
        clock=lambda: CLOCK(),
        max_active=runtime.settings().booking_max_active,
        cancel_cutoff=timedelta(hours=runtime.settings().booking_cancel_cutoff_hours),
    )


def profiles() -> ProfileStore:
    return ProfileStore(runtime.redis(), runtime.settings())


# --------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------


def parse_choice(tracker: Tracker, count: int) -> Optional[int]:
    """A 1-based choice from the `number` entity or the text ("2", "第二个", "二")."""
    candidates: List[str] = [
        str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == "number"
    ]
    text = (tracker.latest_message.get("text") or "").strip()
    candidates.append(text)
    for candidate in candidates:
        candidate = re.sub(r"[\s。，,.！!？?]", "", candidate)
        value: Optional[int] = None
        match = re.fullmatch(r"\D{0,3}?(\d{1,2})(?:个|场|项|号|位)?", candidate)
        if match:
            value = int(match.group(1))
        else:
            cn = re.fullmatch(r"(?:选|要|第)?第?([一二两三四五六七八九十])(?:个|场|项|号|位)?", candidate)
            value = _CN_DIGITS[cn.group(1)] if cn else None
        if value is not None and 1 <= value <= count:
            return value
    return None


def _time_parser():
    try:
        from bot.nlu.time_parser import parse_time_expression

        return parse_time_expression
    except ImportError:  # pragma: no cover - the shared parser ships with the NLU module
        return None


def parse_when(text: str, now: datetime) -> Optional[Tuple[datetime, datetime]]:
    """A time window from a Chinese expression, in Asia/Shanghai ("最近" = next 4 weeks)."""
    if _ANY_TIME_RE.search(text or ""):
        return now, now + timedelta(weeks=4)
    parser = _time_parser()
    if parser is not None:
        found = parser(text, now)
        if not found:
            return None
        start, end = (datetime.fromisoformat(v) for v in found)
    else:  # fallback: jionlp directly
        import jionlp

        try:
            result = jionlp.parse_time(text, time_base=now.timestamp())
        except Exception:  # noqa: BLE001 - jionlp raises on text without a time
            return None
        start, end = (datetime.fromisoformat(v) for v in result["time"][:2])
    start = start if start.tzinfo else start.replace(tzinfo=SHANGHAI)
    end = end if end.tzinfo else end.replace(tzinfo=SHANGHAI)
    return start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)


def _window_label(start: datetime, end: datetime) -> str:
    if start.date() == end.date():
        return f"{start.month}月{start.day}日 {start:%H:%M}-{end:%H:%M}"
    return f"{start.month}月{start.day}日-{end.month}月{end.day}日"


def _request_id(tracker: Tracker) -> str:
    """The id of the user's message: a retried WeChat message carries the same id."""
    message_id = tracker.latest_message.get("message_id")
    if not message_id:
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                message_id = event.get("message_id") or f"{event.get('timestamp')}"
                break
    raw = f"{tracker.sender_id}:{message_id or tracker.latest_message.get('text')}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:20]


def _is_stop(tracker: Tracker) -> bool:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = (tracker.latest_message.get("text") or "").strip()
    return intent == "stop" or bool(_STOP_RE.match(text))


def topic_menu() -> str:
    lines = [f"{i}. {topic}" for i, topic in enumerate(TOPICS, 1)]
    return "请选择想预约的指导类型（回复序号或名称）：\n" + "\n".join(lines) + "\n随时回复“算了”可退出预约。"


def _reset_form() -> List[EventType]:
    return [SlotSet(name, None) for name in FORM_SLOTS]


async def _user_city(tracker: Tracker) -> Optional[str]:
    city = tracker.get_slot("city")
    if city:
        return str(city)
    profile = await profiles().get(tracker.sender_id)
    return profile.get("city") or None


# --------------------------------------------------------------------------------------
# The form
# --------------------------------------------------------------------------------------


class ValidateWorkshopBookingForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_workshop_booking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        leaving = _is_stop(tracker) or (
            intent == "deny" and requested in ("booking_topic", "booking_when", "booking_name", "booking_phone")
        )
        if requested and leaving:
            # Ends the form: requested_slot None stops the loop; the submit action sees "no".
            return [SlotSet("booking_confirm", False), SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    async def validate_booking_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        topic = normalise_topic(value) or normalise_topic(tracker.latest_message.get("text"))
        if topic is None and tracker.get_slot("requested_slot") == "booking_topic":
            choice = parse_choice(tracker, len(TOPICS))
            topic = TOPICS[choice - 1] if choice else None
        if topic is None:
            dispatcher.utter_message(text="没听明白您想预约哪一类指导。\n" + topic_menu())
            return {"booking_topic": None}
        if not await booking_service().open_slots(topic, limit=1):
            dispatcher.utter_message(
                text=f"抱歉，近期的“{topic}”都已约满或暂未排期，可以换一类指导，或说“转人工”咨询。\n" + topic_menu()
            )
            return {"booking_topic": None}
        result: Dict[Text, Any] = {"booking_topic": topic, "booking_pending": None}
        # Prefill what the profile already knows; the confirmation shows it before booking.
        profile = await profiles().get(tracker.sender_id)
        if not tracker.get_slot("booking_name") and profile.get("name"):
            result["booking_name"] = profile["name"]
        if not tracker.get_slot("booking_phone") and normalise_phone(profile.get("phone", "")):
            result["booking_phone"] = profile["phone"]
        return result

    async def validate_booking_when(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        now = CLOCK()
        text = tracker.latest_message.get("text") or ""
        window = parse_when(str(value), now) if value else None
        window = window or parse_when(text, now)
        if window is None:
            dispatcher.utter_message(
                text="没能识别您说的时间，请换个说法，例如“明天下午”“下周三”“12月5号”，也可以说“最近”。"
            )
            return {"booking_when": None}
        start, end = window
        if end <= now:
            dispatcher.utter_message(text="这个时间已经过去了，请说一个以后的时间，例如“下周三”或“最近”。")
            return {"booking_when": None}
        topic = tracker.get_slot("booking_topic")
        city = await _user_city(tracker)
        service = booking_service()
        offers = await service.open_slots(topic, start, end, city, limit=MAX_OFFERS)
        if not offers and city:
            offers = await service.open_slots(topic, start, end, None, limit=MAX_OFFERS)
        label = _window_label(start, end)
        if not offers:
            offers = await service.open_slots(topic, now, None, city, limit=MAX_OFFERS)
            if not offers:
                offers = await service.open_slots(topic, now, None, None, limit=MAX_OFFERS)
            if not offers:
                dispatcher.utter_message(text=f"抱歉，近期的“{topic}”都已约满。可以换一类指导：\n" + topic_menu())
                return {"booking_when": None, "booking_topic": None}
            dispatcher.utter_message(text=f"{label}没有可预约的“{topic}”，为您找到最近的场次。")
        return {"booking_when": label, "booking_offered": [slot.id for slot, _, _ in offers]}

    async def validate_booking_slot_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        offered = list(tracker.get_slot("booking_offered") or [])
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "deny" or not offered:
            dispatcher.utter_message(text="好的，那换个时间吧。")
            return {"booking_slot_id": None, "booking_when": None, "booking_offered": None}
        if value in offered:
            return {"booking_slot_id": value}
        choice = parse_choice(tracker, len(offered))
        if choice is None:
            dispatcher.utter_message(text=f"请回复1-{len(offered)}之间的序号选择场次，或回复“算了”退出。")
            return {"booking_slot_id": None}
        return {"booking_slot_id": offered[choice - 1]}

    async def validate_booking_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # The person_name entity may cover only part of a short name ("赵" of "赵一"): fall back
        # to the whole message when the entity alone is not a valid name.
        for raw in (value, tracker.latest_message.get("text")):
            name = re.sub(r"^(我叫|我是|姓名[:：]?|名字[:：]?|叫)", "", str(raw or "").strip()).strip()
            if _NAME_RE.match(name):
                return {"booking_name": name}
        dispatcher.utter_message(text="姓名需要是2-20个汉字或字母（不能有数字），请重新输入您的真实姓名。")
        return {"booking_name": None}

    async def validate_booking_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        phone = find_phone(str(value or "")) or find_phone(tracker.latest_message.get("text") or "")
        if phone is None:
            dispatcher.utter_message(
                text="手机号格式不对：需要是11位、以13-19开头的大陆手机号，请重新输入（例如 13800138000）。"
            )
            return {"booking_phone": None}
        return {"booking_phone": phone}

    async def validate_booking_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if isinstance(value, bool):
            return {"booking_confirm": value}
        text = str(value or "").strip()
        if _YES_RE.match(text):
            return {"booking_confirm": True}
        if _NO_RE.match(text):
            return {"booking_confirm": False}
        phone = find_phone(text)
        if phone:  # the user corrects the number at the confirmation step
            return {"booking_phone": phone, "booking_confirm": None}
        dispatcher.utter_message(text="请回复“确认”完成预约，或回复“算了”放弃本次预约。")
        return {"booking_confirm": None}


async def _describe(service: BookingService, slot_id: str) -> Optional[Tuple[Any, Any, int]]:
    slot = await service.catalogue.get_slot(slot_id)
    if slot is None:
        return None
    workshop = await service.catalogue.get_workshop(slot.workshop_id)
    left = max(slot.capacity - await service.seats_taken(slot_id), 0)
    return slot, workshop, left


class ActionAskBookingSlotId(Action):
    def name(self) -> Text:
        return "action_ask_booking_slot_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        service = booking_service()
        lines = []
        for i, slot_id in enumerate(tracker.get_slot("booking_offered") or [], 1):
            found = await _describe(service, slot_id)
            if not found or not found[1]:
                continue
            slot, workshop, left = found
            place = "线上" if workshop.mode == "线上" else f"{workshop.city}·线下"
            seats = f"余{left}席" if left else "已满可候补"
            lines.append(f"{i}. {slot.label()}｜{workshop.title}｜{place}｜{seats}")
        dispatcher.utter_message(text="可预约的场次：\n" + "\n".join(lines) + "\n请回复序号选择，回复“不要”换个时间。")
        return []


class ActionAskBookingConfirm(Action):
    def name(self) -> Text:
        return "action_ask_booking_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        found = await _describe(booking_service(), tracker.get_slot("booking_slot_id") or "")
        if not found or not found[1]:
            dispatcher.utter_message(text="这个场次已取消，请重新选择时间。")
            return [SlotSet("booking_slot_id", None), SlotSet("booking_when", None), SlotSet("requested_slot", "booking_when")]
        slot, workshop, _ = found
        dispatcher.utter_message(
            text=(
                "请确认预约信息：\n"
                f"项目：{workshop.title}（{workshop.topic}）\n时间：{slot.label()}\n地点：{workshop.where}\n"
                f"指导师：{workshop.counsellor}\n姓名：{tracker.get_slot('booking_name')}\n"
                f"手机：{mask_phone(str(tracker.get_slot('booking_phone') or ''))}\n"
                "回复“确认”提交预约，回复“算了”放弃；手机号有误可直接发送新号码。"
            )
        )
        return []


def _success_text(code: str, slot, workshop) -> str:
    return (
        f"预约成功！预约码：{code}\n{workshop.title}\n时间：{slot.label()}\n地点：{workshop.where}\n"
        "我们会在开始前一天和前1小时提醒您。查看请说“我的预约”，取消请说“取消预约”。"
    )


class ActionBookingSubmit(Action):
    def name(self) -> Text:
        return "action_booking_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = _reset_form()
        if tracker.get_slot("booking_confirm") is not True:
            dispatcher.utter_message(text="好的，已退出预约，没有为您预约。需要时随时说“预约指导”。")
            return events
        slot_id = tracker.get_slot("booking_slot_id")
        name, phone = tracker.get_slot("booking_name"), tracker.get_slot("booking_phone")
        await profiles().update(tracker.sender_id, {"name": name, "phone": phone})
        service = booking_service()
        result = await service.book(tracker.sender_id, slot_id, name, phone, _request_id(tracker))
        found = await _describe(service, slot_id)
        if result.booked and found:
            dispatcher.utter_message(text=_success_text(result.code, found[0], found[1]))
        elif result.status == "full":
            dispatcher.utter_message(
                text="很抱歉，这个场次刚刚约满了。回复“是”加入候补名单（有人取消时按顺序自动为您补位并通知您），回复“否”放弃。"
            )
            events += [SlotSet("booking_pending", "waitlist"), SlotSet("booking_waitlist_slot", slot_id)]
        elif result.status == "limit":
            dispatcher.utter_message(
                text=f"您已有{result.active}个未开始的预约，达到上限。如需预约新的场次，请先说“取消预约”取消其中一个。"
            )
        else:
            dispatcher.utter_message(text="这个场次已经开始或已取消，请说“预约指导”重新选择。")
        return events


class ActionMyBookings(Action):
    def name(self) -> Text:
        return "action_my_bookings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        service = booking_service()
        views = await service.my_bookings(tracker.sender_id)
        waits = await service.my_waitlists(tracker.sender_id)
        if not views and not waits:
            dispatcher.utter_message(text="您目前没有预约。说“预约指导”即可预约简历、面试、职业规划等指导。")
            return [SlotSet("booking_pending", None)]
        lines = [f"您有{len(views)}个预约："] if views else []
        for i, view in enumerate(views, 1):
            title = view.workshop.title if view.workshop else ""
            where = view.workshop.where if view.workshop else ""
            lines.append(f"{i}. {view.slot.label() if view.slot else ''} {title}\n   地点：{where}\n   预约码：{view.booking.code}")
        for slot, position in waits:
            lines.append(f"候补中：{slot.label()}（第{position}位）")
        lines.append("取消请说“取消预约”。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("booking_pending", None)]


async def _cancel_and_reply(dispatcher: CollectingDispatcher, tracker: Tracker, code: str) -> List[EventType]:
    service = booking_service()
    booking = await service.get(code)
    slot = await service.catalogue.get_slot(booking.slot_id) if booking else None
    workshop = await service.catalogue.get_workshop(slot.workshop_id) if slot else None
    result = await service.cancel(tracker.sender_id, code)
    if result.status == "cancelled":
        dispatcher.utter_message(
            text=f"已取消预约（预约码{code}{'，' + slot.label() if slot else ''}），名额已释放给其他求职者。"
            "需要改约其他时间吗？回复“是”重新预约，回复“否”结束。"
        )
        return [
            SlotSet("booking_pending", "rebook"),
            SlotSet("booking_cancel_options", None),
            SlotSet("booking_last_topic", workshop.topic if workshop else None),
        ]
    if result.status == "too_late":
        hours = int(service.cancel_cutoff.total_seconds() // 3600)
        dispatcher.utter_message(
            text=f"距开始已不足{hours}小时，无法在线取消。如不能参加，请直接联系服务点或说“转人工”。"
        )
    else:
        dispatcher.utter_message(text="没有找到这个预约，或它已经取消了。说“我的预约”可查看当前预约。")
    return [SlotSet("booking_pending", None), SlotSet("booking_cancel_options", None)]


class ActionCancelBooking(Action):
    def name(self) -> Text:
        return "action_cancel_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        views = await booking_service().my_bookings(tracker.sender_id)
        if not views:
            dispatcher.utter_message(text="您目前没有可以取消的预约。")
            return [SlotSet("booking_pending", None)]
        mine = {v.booking.code for v in views}
        for code in find_codes(tracker.latest_message.get("text") or ""):
            if code in mine:
                return await _cancel_and_reply(dispatcher, tracker, code)
        lines = ["请回复要取消的预约序号（或预约码）："]
        for i, view in enumerate(views, 1):
            title = view.workshop.title if view.workshop else ""
            lines.append(f"{i}. {view.slot.label() if view.slot else ''} {title}（{view.booking.code}）")
        lines.append("回复“算了”不取消。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("booking_pending", "cancel_pick"), SlotSet("booking_cancel_options", [v.booking.code for v in views])]


class ActionBookingFollowup(Action):
    """Answers to what the last booking reply asked (join waitlist? which to cancel? rebook?)."""

    def name(self) -> Text:
        return "action_booking_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pending = tracker.get_slot("booking_pending")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = (tracker.latest_message.get("text") or "").strip()
        clear = [SlotSet("booking_pending", None)]
        if _is_stop(tracker) or intent == "deny":
            dispatcher.utter_message(text="好的。还有什么可以帮您的吗？")
            return clear + [SlotSet("booking_cancel_options", None), SlotSet("booking_waitlist_slot", None)]
        if pending == "waitlist":
            slot_id = tracker.get_slot("booking_waitlist_slot")
            profile = await profiles().get(tracker.sender_id)
            service = booking_service()
            result = await service.join_waitlist(
                tracker.sender_id, slot_id, profile.get("name", ""), profile.get("phone", "")
            )
            if result.status == "available":
                result = await service.book(
                    tracker.sender_id, slot_id, profile.get("name", ""), profile.get("phone", ""), _request_id(tracker)
                )
            found = await _describe(service, slot_id)
            if result.booked and found:
                dispatcher.utter_message(text="正好有名额空出来了！" + _success_text(result.code, found[0], found[1]))
            elif result.status == "waiting":
                dispatcher.utter_message(
                    text=f"已加入候补名单，目前排第{result.position}位。有人取消时会按顺序自动为您补位并通知您。"
                )
            elif result.status == "limit":
                dispatcher.utter_message(text="您的预约已达上限，请先取消一个再预约。")
            else:
                dispatcher.utter_message(text="这个场次已经开始或已取消，请说“预约指导”重新选择。")
            return clear + [SlotSet("booking_waitlist_slot", None)]
        if pending == "cancel_pick":
            options = list(tracker.get_slot("booking_cancel_options") or [])
            codes = [c for c in find_codes(text) if c in options]
            choice = parse_choice(tracker, len(options))
            if codes:
                return await _cancel_and_reply(dispatcher, tracker, codes[0])
            if choice:
                return await _cancel_and_reply(dispatcher, tracker, options[choice - 1])
            dispatcher.utter_message(text=f"请回复1-{len(options)}之间的序号，或回复“算了”不取消。")
            return []
        if pending == "rebook":  # a "yes" here is handled by action_booking_rebook
            return clear
        return clear


class ActionBookingRebook(Action):
    """After a cancellation, "是" starts the booking form again on the same topic."""

    def name(self) -> Text:
        return "action_booking_rebook"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return _reset_form() + [
            SlotSet("booking_pending", None),
            SlotSet("booking_topic", tracker.get_slot("booking_last_topic")),
        ]
