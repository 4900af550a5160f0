"""The booking as people expect it to go: "最近的就中" takes the soonest session (said back, with the
others to pick by number at the next question), and the booking is made on the last answer when the
user typed every detail in this run of the form; a confirmation step is asked only for details the
profile filled in (the user has not seen them yet); a "确认" right after is answered by actions/done_already.py."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions.booking.common import ANY_TIME_RE, booking_service, describe_slot
from bot.services.phone import find_phone

_BARE_NAME_RE = re.compile(r"^[\u4e00-\u9fa5]{2,4}$")
_NOT_A_NAME_RE = re.compile(r"[吧的了个场换要不行好这那啥吗嗯哪么呢啊呀哦噢约第再还算]|周[一二三四五六日天末]|[明后今昨]天|下午|上午|晚上")
# a time said at the session list ("下周三下午", "礼拜五"), not a name that starts like one ("周晓梅")
TIME_WORDS_RE = re.compile(r"周[一二三四五六日天末]|星期|礼拜|下下?周|上午|下午|晚上|中午|早上|[明后今]天|\d+\s*[号日月点]|[一二三四五六七八九十]+[号日月点]")

FORM = "workshop_booking_form"


async def offer_lines(offered: List[str]) -> List[str]:
    """The numbered sessions of `offered` as the slot question lists them."""
    service = booking_service()
    lines = []
    for i, slot_id in enumerate(offered, 1):
        found = await describe_slot(service, slot_id)
        if not found or not found[1]:
            continue
        slot, workshop, left = found
        place = "线上" if workshop.mode == "线上" else f"{workshop.city}·线下"
        seats = f"余{left}席" if left else "已满可候补"
        lines.append(f"{i}. {slot.label()}｜{workshop.title}｜{place}｜{seats}")
    return lines


def wants_soonest(text: str) -> bool:
    """"最近的就行", "尽快", "都行": the user leaves the session to the bot — the soonest one."""
    return bool(ANY_TIME_RE.search(text or ""))


async def soonest_taken_text(offered: List[str]) -> str:
    lines = await offer_lines(offered)
    if len(lines) <= 1:
        return "好的，为您选了最近的一场：" + (lines[0][3:] if lines else "") + "。"
    return ("好的，为您选了最近的一场（第1个）。可预约的场次：\n" + "\n".join(lines) + "\n想换别的场次，随时回复序号。")


_SEE_AGAIN_RE = re.compile(r"再说一遍|再说一次|再发一遍|再发一次|重复一下|重复一遍|没看清|没听清|没看到|再看看场次|有哪些场次")


def asks_to_see_again(text: str) -> bool:
    return bool(_SEE_AGAIN_RE.search(text or "")) and len(text) <= 15


def run_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events of this run of the booking form (since it was last activated)."""
    events = list(tracker.events or [])
    start = max((i for i, e in enumerate(events) if e.get("event") == "active_loop" and e.get("name") == FORM), default=-1)
    return events[start + 1:] if start >= 0 else events[-2:]


def typed_in_this_run(tracker: Tracker, phone: Optional[str]) -> bool:
    """The booking's phone number was typed by the user in this run of the form (not the profile's)."""
    if not phone:
        return False
    texts = [e.get("text") or "" for e in run_events(tracker) if e.get("event") == "user"]
    texts.append((tracker.latest_message or {}).get("text") or "")
    return any(find_phone(text) == phone for text in texts)


def asked_in_this_run(tracker: Tracker, slot: str) -> bool:
    """The form asked for `slot` in this run (it is the pending question, or was before)."""
    if tracker.get_slot("requested_slot") == slot:
        return True
    return any(e.get("event") == "slot" and e.get("name") == "requested_slot" and e.get("value") == slot
               for e in run_events(tracker))


def confirmation_asked(tracker: Tracker) -> bool:
    """The confirmation question was asked in this run (a number corrected there is confirmed again)."""
    return asked_in_this_run(tracker, "booking_confirm")


def needs_confirmation(tracker: Tracker) -> bool:
    """Ask "请确认预约信息" only when the phone came from the profile rather than from this run, or
    once it has been asked."""
    return confirmation_asked(tracker) or not typed_in_this_run(tracker, tracker.get_slot("booking_phone"))


def later_answer_at_list(text: str, entities: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A name or a phone number given while the sessions were listed (the user took the suggestion
    and answered the next question): {"booking_name": …} / {"booking_phone": …}, else {}."""
    text = (text or "").strip()
    phone = find_phone(text)
    if phone:
        return {"booking_phone": phone}
    person = next((str(e.get("value")) for e in entities or () if e.get("entity") == "person_name"), None)
    if _BARE_NAME_RE.match(text) and not _NOT_A_NAME_RE.search(text) and (person is None or person in text):
        return {"booking_name": text}
    return {}


async def first_taken_text(offered: List[str]) -> str:
    lines = await offer_lines(offered[:1])
    first = lines[0][3:] if lines else ""
    return f"好的，先为您选了第1场：{first}。想换别的场次，随时回复序号。"
