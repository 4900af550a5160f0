"""A message right after a booking or an enrolment was made that asks for it again ("确认" after the
booking was made on the phone number, "就报青岛那个" after the enrolment went through): it is done
already, said with its code, instead of "没太明白" or a second booking. A number corrected right after
("不对 手机号输错了 是139…": the booking is made on the phone answer, so the correction comes after it)
changes the booking's phone; nothing starts over."""
from __future__ import annotations

import re
from typing import Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.booking.common import booking_service, profiles
from actions.camp_ahead import major_in_text
from actions.camp_answers import parse_city
from actions.camp_for_whom import save_own_profile
from actions.flow_start import last_bot_text
from actions.profile_confirm import facts_in_entities, facts_summary
from bot.services.profile_facts import speaks_of_self
from bot.services.phone import mask_phone
from bot.services.request_words import corrected_phone

BOOKED_RE = re.compile(r"预约成功！预约码：([A-Za-z0-9]+)")
ENROLLED_RE = re.compile(r"报名成功！报名编号：([A-Za-z0-9]+)\n([^（\n]+)")
_YES_RE = re.compile(r"^(确认|确定|对|好|好的|是|是的|嗯|提交|没问题|可以|行|中)[。！!\s]*$")
# "1": the number of the one cohort, which the form took without listing it
_AGAIN_RE = re.compile(r"报|确认|就这个|就它|那期|那个")
_NOT_AGAIN_RE = re.compile(r"取消|不去|退|不报|别报|[?？]|吗|么|在哪|怎么|咋")
AGAIN_MAX_CHARS = 15


# "1" a turn or two after the enrolment the form made with the one cohort that fit (actions/camp.py)
_CHOICE_NUMBER_RE = re.compile(r"^(第|选)?\s*[1１一]\s*(个|期|号)?[。.!！\s]*$")
RECENT_BOT_TEXTS = 3


def recent_enrolment_text(tracker: Tracker) -> str:
    """The enrolment reply among the bot's last few messages, "" when there is none."""
    texts = [e.get("text") or "" for e in reversed(list(tracker.events or [])) if e.get("event") == "bot"]
    return next((t for t in texts[:RECENT_BOT_TEXTS] if ENROLLED_RE.search(t)), "")


def done_already_text(tracker: Tracker, last_bot_text: str) -> Optional[str]:
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    if _CHOICE_NUMBER_RE.match(text) and not ENROLLED_RE.search(last_bot_text or ""):
        last_bot_text = recent_enrolment_text(tracker) or last_bot_text
    booked = BOOKED_RE.search(last_bot_text or "")
    if booked and _YES_RE.match(text):
        return f"已经为您预约成功了，预约码：{booked.group(1)}，无需再确认。查看请说“我的预约”，取消请说“取消预约”。"
    enrolled = ENROLLED_RE.search(last_bot_text or "")
    if enrolled and len(text) <= AGAIN_MAX_CHARS and (_AGAIN_RE.search(text) or _CHOICE_NUMBER_RE.match(text)) and not _NOT_AGAIN_RE.search(text):
        return (f"已经为您报好了：{enrolled.group(2)}，报名编号：{enrolled.group(1)}，无需重复报名。"
                "查看请说“我的报名”，取消请说“取消报名”。")
    return None


async def correct_phone_just_given(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """The phone of the booking (or enrolment) the last reply made, corrected; None: no such correction."""
    phone = corrected_phone((tracker.latest_message or {}).get("text") or "")
    said = last_bot_text(tracker)
    booked, enrolled = BOOKED_RE.search(said), ENROLLED_RE.search(said)
    if phone is None or not (booked or enrolled):
        return None
    if enrolled:  # an enrolment's number is its place in the list (one per number and cohort): not changed here
        dispatcher.utter_message(text=(f"您已报名{enrolled.group(2)}（报名编号{enrolled.group(1)}）。报名的手机号需要更改的话，"
                                       "请说“转人工”，职业指导师会帮您改。"))
        return [UserUtteranceReverted()]
    code = booked.group(1)
    if not await booking_service().change_phone(tracker.sender_id, code, phone):
        return None
    await profiles().update(tracker.sender_id, {"phone": phone})
    dispatcher.utter_message(text=f"好的，已把预约（预约码：{code}）登记的手机号改为{mask_phone(phone)}，预约本身不变。")
    return [UserUtteranceReverted()]


# a question, not a statement of facts ("学园林的能找啥活")
_ASKS_RE = re.compile(r"[?？]|吗|么|咋|怎么|什么|啥|哪|能不能|可不可以|有没有")


def facts_after_enrolment(tracker: Tracker) -> Optional[Dict[str, str]]:
    """Facts about oneself said right after an enrolment ("对了 俺是学园林的 现在人在泰安", "忘了说 俺今年22"),
    as profile fields; None when the message is no such statement."""
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    if not recent_enrolment_text(tracker) or _ASKS_RE.search(text) or not speaks_of_self(text):
        return None
    found = facts_in_entities(message.get("entities"))
    city = found.get("city") or parse_city(text)
    major = major_in_text(text)
    found.update({k: v for k, v in (("city", city), ("major", major)) if v})
    return found or None


async def note_facts_after_enrolment(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Those facts kept on the profile (the user's own enrolment) and said back, not "答不上来"; False:
    the message is no such statement."""
    found = facts_after_enrolment(tracker)
    if found is None:
        return False
    await save_own_profile(tracker, found)
    said = facts_summary(found)
    major = f"专业是{found['major']}" if found.get("major") else ""
    dispatcher.utter_message(text=f"好的，记下了：{'，'.join(p for p in (said, major) if p)}。已存入您的档案，之后办事不用再填；"
                                  "刚才的报名不受影响，报名信息要改的话请说“转人工”。")
    return True
