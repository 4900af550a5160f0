"""What the booking actions share: the service and profile handles, the actions' clock, and
reading the user's answers (a numbered choice, a time window, "算了", a message's id)."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions import runtime
from bot.clock import SHANGHAI, system_clock
from bot.language.time_parser import parse_time_expression
from actions.form_early_answers import said_name
from bot.services.phone import find_phone, normalise_phone
from bot.services.request_words import for_someone_else
from bot.services.booking.service import BookingService
from bot.services.profiles import ProfileStore
from bot.services.workshops import TOPICS

# The actions' clock; tests replace it with a FrozenClock.
CLOCK = system_clock

FORM_SLOTS = (
    "booking_topic",
    "booking_when",
    "booking_slot_id",
    "booking_name",
    "booking_phone",
    "booking_confirm",
    "booking_offered",
    "booking_expert",
)

_STOP_RE = re.compile(r"^(算了|不约了|不预约了|不想约了|不用约了|不用了|退出|不要了|取消)[吧啊了。！!～~\s]*$")
ANY_TIME_RE = re.compile(r"(都行|都可以|随便|最近|尽快|越快越好|任意|什么时候都)")
# what people put after a choice ("第二个吧", "3号就行")
_AFTER_CHOICE = re.compile(r"(?:的|那个|那期|那场)?(?:吧|呗|啊|呀|就行|就中|就好|就可以|可以)+$")
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


def parse_choice(tracker: Tracker, count: int) -> Optional[int]:
    """A 1-based choice from the `number` entity or the text ("2", "第二个", "二")."""
    candidates: List[str] = [
        str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == "number"
    ]
    candidates.append((tracker.latest_message.get("text") or "").strip())
    return next((value for value in (choice_in_text(c, count) for c in candidates) if value), None)


def choice_in_text(text: str, count: int) -> Optional[int]:
    """A 1-based choice the whole of `text` is ("2", "第二个", "取消第2个"), or None."""
    candidate = re.sub(r"[\s。，,.！!？?“”\"'‘’「」]", "", text)  # "“取消1”" copied with its quotes
    candidate = _AFTER_CHOICE.sub("", candidate)  # "第二个吧", "2就行"
    match = re.fullmatch(r"\D{0,3}?(\d{1,2})(?:个|场|项|号|位|期)?", candidate)
    if match:
        value: Optional[int] = int(match.group(1))
    else:
        cn = re.fullmatch(r"(?:选|要|报|第)?第?([一二两三四五六七八九十])(?:个|场|项|号|位|期)?", candidate)
        value = _CN_DIGITS[cn.group(1)] if cn else None
    return value if value is not None and 1 <= value <= count else None


def parse_when(text: str, now: datetime) -> Optional[Tuple[datetime, datetime]]:
    """A time window from a Chinese expression, in Asia/Shanghai ("最近" = next 4 weeks)."""
    if ANY_TIME_RE.search(text or ""):
        return now, now + timedelta(weeks=4)
    found = parse_time_expression(text, now)
    if not found:
        return None
    start, end = (datetime.fromisoformat(v) for v in found)
    start = start if start.tzinfo else start.replace(tzinfo=SHANGHAI)
    end = end if end.tzinfo else end.replace(tzinfo=SHANGHAI)
    return start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)


def window_label(start: datetime, end: datetime) -> str:
    if start.date() == end.date():
        return f"{start.month}月{start.day}日 {start:%H:%M}-{end:%H:%M}"
    return f"{start.month}月{start.day}日-{end.month}月{end.day}日"


def request_id(tracker: Tracker) -> str:
    """The id of the user's message: a retried WeChat message carries the same id."""
    message_id = tracker.latest_message.get("message_id")
    if not message_id:
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                message_id = event.get("message_id") or f"{event.get('timestamp')}"
                break
    raw = f"{tracker.sender_id}:{message_id or tracker.latest_message.get('text')}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:20]


def is_stop(tracker: Tracker) -> bool:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = (tracker.latest_message.get("text") or "").strip()
    return intent == "stop" or bool(_STOP_RE.match(text))


def topic_menu() -> str:
    lines = [f"{i}. {topic}" for i, topic in enumerate(TOPICS, 1)]
    return "请选择想预约的指导类型（回复序号或名称）：\n" + "\n".join(lines) + "\n随时回复“算了”可退出预约。"


def reset_form() -> List[EventType]:
    return [SlotSet(name, None) for name in FORM_SLOTS]


CONTACT_SLOTS = ("booking_name", "booking_phone")


# "我叫…"/"俺叫…" (not "他叫…": someone else's name, a parent's "俺闺女叫…")
_OWN_NAME = re.compile(r"(?:我|俺)叫|叫我|我的名字")


def contact_said(text: str) -> Dict[str, str]:
    """The user's own name said in a message, with the phone number said with it."""
    name = said_name(text) if _OWN_NAME.search(text) and not for_someone_else(text) else None
    if not name:
        return {}
    phone = find_phone(text)
    return {"booking_name": name, **({"booking_phone": phone} if phone else {})}


def contact_in_events(tracker: Tracker) -> Dict[str, str]:
    """The user's name and phone this conversation gave (the latest wins): typed in a booking, also
    one the user left, or said in a message ("俺叫… 手机号…")."""
    known: Dict[str, str] = {}
    current: Dict[str, Any] = {}
    for event in tracker.events or []:
        if event.get("event") == "user":
            known.update(contact_said(str(event.get("text") or "")))
        elif event.get("event") == "slot" and event.get("name") in CONTACT_SLOTS:
            current[event["name"]] = event.get("value")
        elif event.get("event") == "slot" and event.get("name") == "requested_slot":  # the form moved on: they stood
            known.update({slot: str(value) for slot, value in current.items() if value})
    return known


async def known_contact(tracker: Tracker) -> Dict[str, str]:
    """The name and phone a booking takes without asking (the confirmation step shows them): what
    this conversation gave (`contact_in_events`), else the profile's (saved by a booking or the
    user's own camp enrolment)."""
    profile = await profiles().get(tracker.sender_id)
    known = {"booking_name": profile.get("name"), "booking_phone": profile.get("phone"), **contact_in_events(tracker)}
    known["booking_phone"] = normalise_phone(known.get("booking_phone") or "")
    return {slot: value for slot, value in known.items() if value}


async def user_city(tracker: Tracker) -> Optional[str]:
    city = tracker.get_slot("city")
    if city:
        return str(city)
    profile = await profiles().get(tracker.sender_id)
    return profile.get("city") or None


async def describe_slot(service: BookingService, slot_id: str) -> Optional[Tuple[Any, Any, int]]:
    """(slot, workshop, seats left) for an offer or a confirmation; None when the slot is gone."""
    slot = await service.catalogue.get_slot(slot_id)
    if slot is None:
        return None
    workshop = await service.catalogue.get_workshop(slot.workshop_id)
    left = max(slot.capacity - await service.seats_taken(slot_id), 0)
    return slot, workshop, left


def success_text(code: str, slot: Any, workshop: Any) -> str:
    return (
        f"预约成功！预约码：{code}\n{workshop.title}\n时间：{slot.label()}\n地点：{workshop.where}\n"
        "我们会在开始前一天和前1小时提醒您。查看请说“我的预约”，取消请说“取消预约”。"
    )

