"""Answers given before their question, kept for it: the same in every form (issue #21 item 1).

People answer ahead: "叫我于洋就行，电话138…" at the name question, "我叫吕佳琪，在淄博，想报实训营"
as the opening message, "138…，我24岁，在德州" at the phone question. The profile facts (identity,
age, graduation year, school) reach the forms' slots at every turn through their entity mappings
(bot/rasa_server/fact_components.py); what those mappings only take while their own question is
pending — a mobile number, a name, a city — is read here from the message and given to the form's
still empty questions, by how each slot's name ends, so that the form's own `validate_<slot>`
checks it and never asks for it.

Also here: the name part of a message that says more than a name ("于洋，电话…", "栾晓光，我人在烟台"), also said for someone else ("俺闺女叫孟楠 手机号…").
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Pattern, Sequence, Text

from rasa_sdk import Tracker

from actions.camp_answers import parse_city
from actions.form_pause import PAUSE_SLOT
from actions.handoff import callback_phone
from bot.services.phone import find_phone
from bot.services.request_words import SOMEONE_ELSE

PHONE_ENDINGS = ("phone", "mobile")
NAME_ENDING = "_name"
CITY_ENDING = "_city"
# "我叫吕佳琪", "叫我于洋", "名字是王强": a name said in a sentence ("我是…" is an identity or a school
# as often as a name, so it does not count here)
NAME_SAID = re.compile(
    rf"(?:我叫|俺叫|叫我|名字是|名字叫|姓名是|姓名[:：]|{SOMEONE_ELSE}叫)\s*([\u4e00-\u9fa5·]{{2,4}}?)"
    r"(?=$|[，,。.!！?？\s、;；]|就|吧|呀|啊|在|今年|手机|电话|想|要|，)"
)
# "韩雪 139…, 想约个面试指导": a bare name written right before the phone number at the message's start,
# apart from it ("换成137…" is no name)
NAME_BY_PHONE = re.compile(r"^\s*([\u4e00-\u9fa5·]{2,4})(?:[\s，,：:]+(?:电话|手机号?|号码)?|电话|手机号?|号码)[\s，,：:]*(?=1[3-9]\d{9}(?!\d))")
# words of a request, not of a name ("报名 139…", "预约 139…")
_REQUEST_CHARS = re.compile(r"[约报想要帮请的了吗呢吧啊呀是在号码话机你您谢转换改]")
_SEGMENTS = re.compile(r"[，,。.!！?？\s、;；]+")
# the words before a name, longer leads first ("名字叫石磊" is not "名字" + "叫石磊"); "她叫…", "俺闺女叫…",
# "他的名字是…" for someone else (a parent enrolling a daughter)
NAME_LEAD = re.compile(
    rf"^就?(名字叫|名字是|姓名是|我叫|俺叫|叫我|我是|姓名[:：]?|名字[:：]?"
    rf"|{SOMEONE_ELSE}(?:名字叫|名字是|的名字是)|{SOMEONE_ELSE}?叫)")
# the surname announced before the name ("免贵姓王 王磊", "我姓徐，叫徐明"): that part is no name
_SURNAME_ONLY = re.compile(r"^(?:免贵)?(?:我|俺)?姓[\u4e00-\u9fa5]{1,2}$")
_NAME_TAIL = re.compile(r"(就行|就可以|就好|就成|吧|呀|啊|哈)$")
_NOT_A_NAME = re.compile(r"^(我|俺|咱|在|今年|手机|电话|号码)|\d")
# a yes or a no typed at the name question (a confirmation expected there) is no name: "姓名：确认"
_YES_OR_NO = re.compile(r"^(确认|确定|对|对的|好的?|是的?|可以|行|中|嗯+|没问题|不对|不是|不用)$")


def name_in_parts(text: str, valid: Pattern) -> Optional[str]:
    """The first part of `text` that is a name on its own ("于洋" of "叫我于洋就行，电话138…"; a part
    naming a city is where the user is: "栾晓光，我人在烟台")."""
    parts = [p for p in _SEGMENTS.split(text or "") if p.strip()]
    for part in parts:
        name = bare_name(part)
        if name and valid.fullmatch(name) and (len(parts) == 1 or parse_city(name) is None):
            return name
    return None


def bare_name(text: str) -> Optional[str]:
    """`text` without the words around a name ("叫我…就行"); None when it cannot be one ("我在烟台")."""
    text = (text or "").strip()
    if _SURNAME_ONLY.match(text):
        return None
    name = _NAME_TAIL.sub("", NAME_LEAD.sub("", text)).strip()
    return name if name and not _NOT_A_NAME.search(name) and not _YES_OR_NO.match(name) else None


def said_name(text: str) -> Optional[str]:
    """A name the message says in passing: "我叫吕佳琪…", or a bare name before the phone number."""
    said = NAME_SAID.search(text or "")
    if said:
        return said.group(1)
    by_phone = NAME_BY_PHONE.match(text or "")
    name = by_phone.group(1) if by_phone else None
    return name if name and bare_name(name) == name and not _REQUEST_CHARS.search(name) else None


def _cities(entities: Sequence[Mapping[str, Any]]) -> List[str]:
    """The cities the message names (none when it names a school: its city is where the school is,
    not necessarily where the user lives)."""
    if any(e.get("entity") == "school" for e in entities):
        return []
    found = (parse_city(e.get("value")) for e in entities if e.get("entity") == "city")
    return [c for c in found if c]


def answers_ahead(text: str, entities: Sequence[Mapping[str, Any]], open_slots: Sequence[str]) -> Dict[str, str]:
    """Raw values for the form's empty questions (`open_slots`, the pending one left out) that
    `text` answers in passing; the form validates them."""
    found: Dict[str, str] = {}
    phone = find_phone(text or "")
    name = said_name(text)
    cities = _cities(entities)
    for slot in open_slots:
        if slot.endswith(PHONE_ENDINGS) and phone:
            found[slot] = phone
        elif slot.endswith(NAME_ENDING) and name:
            found[slot] = name
        elif slot.endswith(CITY_ENDING) and len(set(cities)) == 1:
            found[slot] = cities[0]
    return found


def _earlier_user_texts(events: Sequence[Mapping[str, Any]]) -> List[str]:
    """What the user wrote in this session before the latest message, the newest first."""
    texts: List[str] = []
    for event in list(events or [])[::-1]:
        if event.get("event") in ("session_started", "restart"):
            break
        if event.get("event") == "user":
            texts.append(str(event.get("text") or ""))
    return texts[1:]


def _held_by_paused_form(tracker: Tracker, endings: Sequence[str]) -> Optional[str]:
    """A value the form left for another flow holds for a slot of this kind (its name and phone)."""
    held = (tracker.get_slot(PAUSE_SLOT) or {}).get("slots") or {}
    return next((str(v) for k, v in held.items() if k.endswith(tuple(endings)) and v), None)


def said_before(tracker: Tracker, open_slots: Sequence[str]) -> Dict[str, str]:
    """Name and phone the user gave earlier in this conversation — in a side question ("俺叫刘志强
    …有啥政策"), a handoff request ("转人工 俺电话139…") or a form now paused — for a form that starts
    now: never asked again (the booking shows them at its confirmation)."""
    earlier = _earlier_user_texts(tracker.events)
    found: Dict[str, str] = {}
    for slot in open_slots:
        if slot.endswith(PHONE_ENDINGS):
            value = _held_by_paused_form(tracker, PHONE_ENDINGS) or next(filter(None, map(find_phone, earlier)), None)
        elif slot.endswith(NAME_ENDING):
            value = _held_by_paused_form(tracker, (NAME_ENDING,)) or next(filter(None, map(said_name, earlier)), None)
        else:
            continue
        if value:
            found[slot] = value
    return found


async def known_before(tracker: Tracker, open_slots: Sequence[str]) -> Dict[str, str]:
    """`said_before`, and the number left with a handoff request ("转人工 俺电话139…": kept by the
    gateway, which Rasa never sees)."""
    found = said_before(tracker, open_slots)
    phone_slot = next((s for s in open_slots if s.endswith(PHONE_ENDINGS) and s not in found), None)
    callback = await callback_phone(tracker.sender_id) if phone_slot else None
    return {**found, **({phone_slot: callback} if callback else {})}


# a later part of an answer that is a sentence about oneself, not the rest of a name ("王 强" is one)
_SAYS_MORE = re.compile(r"[\s，,。、]+\S*(我|俺|是|的|在|毕业|岁|大学|学院|学校|今年)")


def answered_name(value: Any, tracker: Tracker, slot: Text, valid: Pattern) -> Optional[Text]:
    """The name a form asked for: the whole answer when it is a name, since the person_name entity
    may cover only part of one ("一鸣" of "黄一鸣", "钱" of "钱多多"); else the value the slot got
    (the entity in a longer sentence, or the profile's name when the question was not asked)."""
    asked = tracker.get_slot("requested_slot") == slot
    text = (tracker.latest_message or {}).get("text") if asked else None
    if text and _SAYS_MORE.search(str(text)):  # "苗雨涵 我是青岛大学的 去年毕业": the name is its first part
        parted = name_in_parts(str(text), valid)  # (the person_name entity may hold only "雨涵")
        if parted:
            return parted
    for raw in (text, value):
        name = NAME_LEAD.sub("", str(raw or "").strip()).strip()
        # not "我于洋就行" of "叫我于洋就行", nor a name followed by facts (above)
        if valid.fullmatch(name) and bare_name(name) == name and not _SAYS_MORE.search(name):
            return name
    # a name with more in the message ("叫我于洋就行，电话138…": the phone is kept for its own question)
    return name_in_parts(str(text or value or ""), valid)
