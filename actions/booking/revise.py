"""A change of an earlier booking answer at a later question (issue #21, the booking as people fill
it): "时间换成周五下午吧" or "说错了 不是周二 是周四" at the name question, "不弄简历了 换成面试的吧" at
the phone question. Such a message is no name and no side question: the topic or the time it names
replaces the earlier one, and the sessions are offered again for it.

Reading only; `ValidateWorkshopBookingForm.revise` (actions/booking/form.py) applies what is read here.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import List, Mapping, Optional, Sequence

from actions.booking.common import ANY_TIME_RE, parse_when
from actions.booking.quick import TIME_WORDS_RE
from actions.flow_start import as_meant
from bot.services.phone import find_phone
from bot.services.workshops import normalise_topic

# Questions after the topic and the time: an answer to them that names a topic or a time changes it.
LATER_SLOTS = ("booking_slot_id", "booking_name", "booking_phone", "booking_confirm")
# Questions after the topic: a new topic named there changes it ("换成面试辅导吧" at the time question).
AFTER_TOPIC = ("booking_when",) + LATER_SLOTS
# Words that say an earlier answer changes ("换成", "改到", "不是…是…", "说错了", "还是…吧").
CHANGE_RE = re.compile(r"换成|换到|换个|改成|改到|改为|改下|改一下|改在|不是|说错|打错|弄错|搞错|错了|还是")
# The new value follows the last of these ("不是周二 是周四" -> "周四").
_LAST_CUE_RE = re.compile(r".*(?:换成|换到|改成|改到|改为|改在|改|换|是)")
# Time words no name holds ("下午", "礼拜", "12号"; a surname like 周 may start a name: "周一鸣").
_CLEAR_TIME_RE = re.compile(r"星期|礼拜|下下?周|周末|上午|下午|晚上|中午|早上|[明后今]天|\d+\s*[号日月点]|[一二三四五六七八九十]+[号日月点]")
_BARE_WORDS_RE = re.compile(r"^[\u4e00-\u9fa5]{2,4}$")
_FILLERS_RE = re.compile(r"[吧呗啊呀哈的了。！!～~，,\s]+$")
# The answer turned down ("不是简历", "不弄简历了"): what follows it up to the next pause names the old topic.
_TURNED_DOWN_RE = re.compile(r"(?:不是|不要|不弄|不约|不想约|不做)[^，,。！!？?\s]*")
# A topic named without a change word is a change only in a message this short ("面试技巧", "面试的吧").
TOPIC_ALONE_MAX_CHARS = 8
TIME_ALONE_MAX_CHARS = 8


def _names_a_time(text: str) -> bool:
    return bool(TIME_WORDS_RE.search(text) or ANY_TIME_RE.search(text))


def _after_last_cue(text: str) -> str:
    match = _LAST_CUE_RE.match(text)
    return text[match.end():] if match else text


def new_topic(text: str, current: Optional[str]) -> Optional[str]:
    """The topic a message changes to (None when it names none, or the one already chosen)."""
    meant = as_meant(text or "").strip()
    if not meant or find_phone(meant):
        return None
    if not CHANGE_RE.search(meant) and len(meant) > TOPIC_ALONE_MAX_CHARS:
        return None
    kept = _TURNED_DOWN_RE.sub(" ", meant)  # "要约的是面试那个 不是简历": not the topic turned down
    topic = normalise_topic(_after_last_cue(kept)) or normalise_topic(kept)
    return topic if topic and topic != current else None


def new_time(text: str, now: datetime) -> Optional[str]:
    """The part of a message that names a new time ("周五下午"), or None when it names no time, or is
    as short as a name and says nothing a name could not ("周一鸣")."""
    text = (text or "").strip()
    if not text or find_phone(text) or not _names_a_time(text):
        return None
    if not CHANGE_RE.search(text):
        # without a change word only a message that is a time ("周五下午吧"), not a sentence with one
        # ("下午3点以后再打吧" at the phone question) or a name that starts like one ("周一鸣")
        if len(text) > TIME_ALONE_MAX_CHARS or (_BARE_WORDS_RE.match(text) and not _CLEAR_TIME_RE.search(text)):
            return None
    tail = _FILLERS_RE.sub("", _after_last_cue(text)).strip()
    for said in (tail, text):
        if said and parse_when(said, now):
            return said
    return None


def time_said_before(texts: Sequence[str], now: datetime) -> Optional[str]:
    """The latest of the user's earlier messages that named a time (to offer a new topic's sessions
    for the same time)."""
    for text in reversed(list(texts)):
        if _names_a_time(text) and not find_phone(text) and parse_when(text, now):
            return text
    return None


def user_texts_of_run(events: Sequence[Mapping], form: str) -> List[str]:
    """What the user typed in this run of `form`, the message that opened it included, the latest left out."""
    events = list(events or [])
    start = max((i for i, e in enumerate(events) if e.get("event") == "active_loop" and e.get("name") == form), default=0)
    opener = max((i for i, e in enumerate(events[:start]) if e.get("event") == "user"), default=start)
    texts = [str(e.get("text") or "") for e in events[opener:] if e.get("event") == "user"]
    return texts[:-1]


def topic_before(events: Sequence[Mapping]) -> Optional[str]:
    """The booking topic as it stood before the user's latest message (None: none was set)."""
    events = list(events or [])
    latest = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    return next((e.get("value") for e in reversed(events[:latest])
                 if e.get("event") == "slot" and e.get("name") == "booking_topic"), None)
