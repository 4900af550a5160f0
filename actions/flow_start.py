"""A message NLU could not place that plainly names a flow ("我今年22…想参加实训营", "帮我约个简历
指导吧，我是去年毕业的"): long, fact-laden first messages are where the intent classifier is least
sure. The fallback and the knowledge answer start the flow it names instead of answering "没太明白";
the flow's own start reads the facts of the message (actions/camp.py `ActionCampEnrollStart`).
"""
from __future__ import annotations

import re
from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet

from bot.services.workshops import normalise_topic

BOOKING_FORM, BOOKING_TOPIC = "workshop_booking_form", "booking_topic"
# A wish to do something, then the flow's first action (its rule in nlu_data/rules/ starts the same).
FLOWS = (
    # "你们那个实训营我能报不": whether one may join is answered before anyone enrols (action_camp_info
    # answers it from the facts given), so this comes before the wish to enrol
    (re.compile(r"实训营.{0,10}((能|可以|让)(报|参加|去|上)|符合|够格).{0,3}(吗|不|么|没|[?？])"
                r"|实训营.{0,10}(能不能|可不可以|让不让|够不够|符不符合)|(能|可以)(报|参加).{0,4}实训营(吗|不|么|[?？])"),
     "action_camp_info"),
    (re.compile(r"(想|要|准备|打算|帮我|给我|能否|我).{0,6}(报名|报|参加|参与|加入|去).{0,4}实训营|实训营.{0,4}(报名|报一个|报个)"
                r"|(报个|报一个|报上|报名参加)实训营"),
     "action_camp_enroll_start"),
    (re.compile(r"(想|要|帮我|给我|我).{0,4}(预约|约).{0,8}(指导|咨询|辅导|老师|职业规划|简历|面试)"), BOOKING_FORM),
    (re.compile(r"(我|俺).{0,3}(报了|约了|预约了|报名了|报过).{0,3}(哪些|哪几|什么|啥|几个|几期|哪个)"), "action_my_bookings"),
)
# Intents that already are a flow or a list: never redirected.
PLACED = ("enroll_camp", "book_workshop", "ask_camp_info", "my_bookings", "cancel_booking")


def named_flow(text: str, intent: Optional[str]) -> Optional[str]:
    """The first action of the flow the message asks for, when NLU did not place it there."""
    if intent in PLACED:
        return None
    return next((start for pattern, start in FLOWS if pattern.search(text or "")), None)


def start_named_flow(text: str, intent: Optional[str]) -> Optional[List[EventType]]:
    start = named_flow(text, intent)
    if start is None:
        return None
    # NLU did not place the message, so no entity gave the booking its topic ("想约个职业规划")
    topic = normalise_topic(text) if start == BOOKING_FORM else None
    return ([SlotSet(BOOKING_TOPIC, topic)] if topic else []) + [FollowupAction(start)]


# After the camp answer said 回复“报名”, a short yes to enrol in the user's own words ("行，那给我报上",
# "那就报一个吧") that NLU could not place.
ENROL_REPLY = re.compile(r"报(名|上|一个|个|了|吧)|参加|报$")
NOT_A_YES = re.compile(r"[?？]|吗|么|不报|别报|不参加|怎么|咋")
ENROL_REPLY_MAX_CHARS = 12
CAMP_ANSWER = "action_camp_info"


def _last_bot_action(tracker: Tracker) -> str:
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    return next((e.get("name") or "" for e in reversed(events[:last_user])
                 if e.get("event") == "action" and e.get("name") not in ("action_listen", "action_extract_slots")), "")


def enrol_after_camp_answer(tracker: Tracker) -> Optional[List[EventType]]:
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    if len(text) > ENROL_REPLY_MAX_CHARS or not ENROL_REPLY.search(text) or NOT_A_YES.search(text):
        return None
    return [FollowupAction("action_camp_enroll_start")] if _last_bot_action(tracker) == CAMP_ANSWER else None
