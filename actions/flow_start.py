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

from bot.services.eligibility_answer import asked_one_question
from bot.services.request_words import ASKED_TO_SIGN_UP, asks_bot_to_sign_up, asks_how_to_join, asks_to_enrol
from bot.services.request_words import CAMP as CAMP_NAMES
from bot.services.workshops import normalise_topic

BOOKING_FORM, BOOKING_TOPIC = "workshop_booking_form", "booking_topic"
# A wish to do something, then the flow's first action (its rule in nlu_data/rules/ starts the same).
TOPIC_WORDS = r"(指导|咨询|辅导|老师|职业规划|简历|面试)"
BOOKING_VERB = r"(预约|约个|约一下|约一个|约下|约位)(?![的了过])"
# What users call the camp ("训练营" as often as its name).
CAMP = r"(?:实训营|训练营)"
# practising with someone ("练练", "陪练", "模拟一下")
PRACTICE = r"(练练|练一练|练一下|练习|陪练|陪着练|陪(我|俺)练|模拟)"
# "订阅" as the bot's instruction says it (回复“订阅”可重新开启), ending a message NLU may read otherwise
SUBSCRIBE_SAID = re.compile(r"(?<![退消不别])订阅(吧|一下|上|回来|$|\s)(?!.{0,3}(吗|么|[?？]))")
FLOWS = (
    # "你们那个实训营我能报不": whether one may join is answered before anyone enrols (action_camp_info
    # answers it from the facts given), so this comes before the wish to enrol
    (re.compile(CAMP + r".{0,10}((能|可以|让)(报|参加|去|上)|符合|够格).{0,3}(吗|不|么|没|[?？])"
                + r"|" + CAMP + r".{0,10}(能不能|可不可以|让不让|够不够|符不符合|收不收|还收|收人|收我|收俺)"
                + r"|(能|可以)(报|参加).{0,4}" + CAMP + r"(吗|不|么|[?？])"),
     "action_camp_info"),
    (re.compile(r"(想|要|帮我|给我|我|俺).{0,4}(预约|约).{0,8}" + TOPIC_WORDS
                + r"|(^|就是|是说|是)" + BOOKING_VERB + r".{0,8}" + TOPIC_WORDS
                + r"|" + TOPIC_WORDS + r".{0,6}" + BOOKING_VERB + r"(一下|下|吧|个|$)"
                + r"|(想|要|我|俺).{0,3}找.{0,3}老师.{0,4}(咨询|指导|辅导|(看看|瞅瞅|瞧瞧|看一下|改改|改)(我|俺)?(的|这)?.{0,2}简历)"
                # "恁这能约职业规划不", "咋预约面试辅导": asking how to book is asking to book
                + r"|(能|可以|咋|怎么|怎样|如何)(预约|约).{0,8}" + TOPIC_WORDS
                # "找个老师给俺看看", "找个老师帮我瞅瞅": a teacher asked to look at the user's things
                + r"|找.{0,2}老师.{0,2}(给|帮)(我|俺|咱).{0,2}(看看|瞅瞅|看一下|瞧瞧|把把关|指导|辅导)"
                # "想找个老师聊聊职业规划"
                + r"|(想|要|我|俺).{0,3}找.{0,3}老师.{0,3}(聊聊|谈谈|说说|问问).{0,2}" + TOPIC_WORDS
                # "想找老师练练面试", "找个老师单独陪俺练练面试": someone to practise with is the booking
                # the interview answer itself offers (its text names the booking 预约面试指导)
                + r"|找.{0,3}老师.{0,6}" + PRACTICE + r".{0,3}面试"
                + r"|(陪|带|帮)(我|俺|咱).{0,2}" + PRACTICE + r".{0,3}面试|(想|要|找).{0,4}(模拟面试|面试陪练)"), BOOKING_FORM),
    # "算了 还是订阅吧": the bot's own instruction (回复“订阅”可重新开启) in the user's words
    (SUBSCRIBE_SAID, "action_subscribe"),
    (re.compile(r"(我|俺).{0,3}(报了|约了|预约了|报名了|报过).{0,3}(哪些|哪几|什么|啥|几个|几期|哪个)"
                r"|(我|俺)(刚|刚刚|之前)?(报|约|预约|报名)的(东西|那个|那期|啥)?.{0,4}(在哪|哪儿|哪里|咋|怎么).{0,2}(看|查)"),
     "action_my_bookings"),
    # a wish to join said as a question ("想参加求职能力实训营 有线上的吗"), whether one may join with the
    # camp's full name between ("能参加你们那个求职能力实训营吗"): the camp answer, which reads the facts said
    (re.compile(r"(想|要|打算)(报|参加|去).{0,8}" + CAMP + r".*([?？]|吗|么|[不没]$)"
                + r"|(能|可以)(报|参加).{0,10}" + CAMP + r"(吗|不|么|[?？])"), "action_camp_info"),
)
# Intents that already are a flow or a list: never redirected.
PLACED = ("enroll_camp", "book_workshop", "ask_camp_info", "my_bookings", "cancel_booking", "subscribe", "unsubscribe")


# Slips of pinyin input in the words that name a flow ("预越个简立指导", "面是辅导", "职业规化"): read
# as meant here only, where the message is matched against the flows (elsewhere "对面是人" is no typo).
TYPOS = {
    "预越": "预约", "遇约": "预约", "预月": "预约", "简立": "简历", "简力": "简历", "简厉": "简历",
    "面是": "面试", "面式": "面试", "面适": "面试", "面视": "面试", "资询": "咨询", "咨讯": "咨询", "规化": "规划", "指到": "指导",
    "知导": "指导", "实训赢": "实训营", "训练赢": "训练营",
}
_TYPO_RE = re.compile("|".join(TYPOS))


def as_meant(text: str) -> str:
    return _TYPO_RE.sub(lambda m: TYPOS[m.group()], text or "")


ENROL_START = "action_camp_enroll_start"


def named_flow(text: str, intent: Optional[str]) -> Optional[str]:
    """The first action of the flow the message asks for, when NLU did not place it there: the
    enrolment when the words ask for it (bot/services/request_words.py), else the first of FLOWS."""
    if intent in PLACED:
        return None
    meant = as_meant(text)
    if asks_to_enrol(meant):
        return ENROL_START
    named = next((start for pattern, start in FLOWS if pattern.search(meant)), None)
    return named or (ENROL_START if asks_how_to_join(meant) else None)


def started_this_turn(tracker: Tracker) -> bool:
    """A flow start ran since the user's latest message (the knowledge answer started "订阅吧"): the
    core fallback that the policies may predict after it has nothing to add."""
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    starts = {start for _, start in FLOWS} | {ENROL_START}
    return any(e.get("event") == "action" and e.get("name") in starts for e in events[last_user + 1:])


def start_named_flow(text: str, intent: Optional[str]) -> Optional[List[EventType]]:
    start = named_flow(text, intent)
    if start is None:
        return None
    # NLU did not place the message, so no entity gave the booking its topic ("想约个职业规划")
    topic = normalise_topic(as_meant(text)) if start == BOOKING_FORM else None
    return ([SlotSet(BOOKING_TOPIC, topic)] if topic else []) + [FollowupAction(start)]


# "能给俺报上不", "帮我报一个呗", "那给她报上吧": a request to the bot to sign the user (or someone else) up,
# however NLU read it (often as a question about the camp): the enrolment starts, and its start still
# answers "能报吗" said with facts.
def asks_to_be_enrolled(text: str) -> Optional[List[EventType]]:
    meant = as_meant(text)
    asked = ASKED_TO_SIGN_UP.search(meant) or asks_to_enrol(meant) or asks_how_to_join(meant)
    return [FollowupAction(ENROL_START)] if asked else None


def subscribe_said(text: str) -> Optional[List[EventType]]:
    """"…实训营啥时候开新的 订阅": the bot's instruction word, whatever NLU read in the rest."""
    return [FollowupAction("action_subscribe")] if SUBSCRIBE_SAID.search(text or "") else None


# After the camp answer said 回复“报名”, a short yes to enrol in the user's own words ("行，那给我报上",
# "那就报一个吧", "中，就它了") that NLU could not place.
# ("报线上的", "就报青岛那期": a cohort chosen is a yes too; the form then reads the cohort from it)
ENROL_REPLY = re.compile(r"报(名|上|一个|个|了|吧)|参加|报$|报.{0,2}(线上|线下|网上|那期|这期)|报.{1,4}(的|那期|那个|那一期)吧?$")
# a bare yes enrols only when the answer just said 回复“报名” (its verdict was yes or open)
BARE_YES = re.compile(r"^(好|好的|行|中|可以|嗯|嗯嗯|那就这样|就它了|对|对的|是|是的|没错|确定)[吧啊呀。！!～~\s]*$")
SAID_REPLY_ENROL = "回复“报名”"
NOT_A_YES = re.compile(r"[?？]|吗|么|不报|别报|不参加|怎么|咋")
ENROL_REPLY_MAX_CHARS = 12
# the actions that answer "能报吗" (the enrolment start answers it when it was read as a wish to enrol)
CAMP_ANSWERS = ("action_camp_info", ENROL_START)


# Actions Rasa runs around every turn: never the answer the user saw.
BOOKKEEPING_ACTIONS = ("action_listen", "action_extract_slots", "action_unlikely_intent", None)


def last_bot_action(tracker: Tracker) -> str:
    """The action that answered the user's previous message ("" when there is none)."""
    events = list(tracker.events or [])
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    return next((e.get("name") or "" for e in reversed(events[:last_user])
                 if e.get("event") == "action" and e.get("name") not in BOOKKEEPING_ACTIONS), "")


def last_bot_text(tracker: Tracker) -> str:
    return next((e.get("text") or "" for e in reversed(list(tracker.events or [])) if e.get("event") == "bot"), "")


# "中 那俺给她报上 她叫刘欣怡 俺们在青岛": a request to the bot to sign up, with facts for the form after it
SIGN_UP_REPLY_MAX_CHARS = 30


def signs_up_after_camp_answer(tracker: Tracker) -> Optional[List[EventType]]:
    """"给我报上" right after the camp answer, whatever NLU made of it (often "我的报名"): the enrolment."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    if len(text) > SIGN_UP_REPLY_MAX_CHARS or not asks_bot_to_sign_up(as_meant(text)):
        return None
    return [FollowupAction(ENROL_START)] if last_bot_action(tracker) in CAMP_ANSWERS else None


def enrol_after_camp_answer(tracker: Tracker) -> Optional[List[EventType]]:
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    signed_up = signs_up_after_camp_answer(tracker)
    if signed_up is not None:
        return signed_up
    yes = BARE_YES.match(text) and SAID_REPLY_ENROL in last_bot_text(tracker)
    if len(text) > ENROL_REPLY_MAX_CHARS or not (yes or ENROL_REPLY.search(text)) or NOT_A_YES.search(text):
        return None
    return [FollowupAction(ENROL_START)] if last_bot_action(tracker) in CAMP_ANSWERS else None


def enrol_camp_named_before(tracker: Tracker) -> Optional[List[EventType]]:
    """"中 给她报上吧" right after a message that named the camp ("听说恁这有个求职实训营") or a reply
    about it: a request to sign up for the camp, though it does not name it again."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    if not ASKED_TO_SIGN_UP.search(text) or re.search(CAMP_NAMES, text):
        return None
    users = [e.get("text") or "" for e in tracker.events or [] if e.get("event") == "user"]  # the latest last
    before = users[-2] if len(users) >= 2 else ""
    return [FollowupAction(ENROL_START)] if re.search(CAMP_NAMES, before + last_bot_text(tracker)) else None


# Right after the camp answer, a question about oneself that leaves the camp unsaid ("我都毕业3年了还行吗",
# "那我这样的能参加不"): answered by the camp answer again, from the facts the message gives.
FOLLOW_UP_QUESTION = re.compile(r"行吗|行不|还行|可以吗|可以不|能行|能报|能参加|能去|够格|符合|收吗|收不|[吗么不呢][?？。！!\s]*$|[?？]")
FACT_ENTITIES = ("age", "graduation_year", "identity", "education")
ONE_ANSWER_MAX_CHARS = 14  # a short reply to the one question an eligibility answer asked
FOLLOW_UP_MAX_CHARS = 30


def camp_follow_up(tracker: Tracker) -> Optional[List[EventType]]:
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    if last_bot_action(tracker) in CAMP_ANSWERS and asked_one_question(last_bot_text(tracker)) \
            and len(text) <= ONE_ANSWER_MAX_CHARS and not NOT_A_YES.search(text):
        return [FollowupAction("action_camp_info")]  # "大四了", "3", "去年" to the question it asked
    if len(text) > FOLLOW_UP_MAX_CHARS or not FOLLOW_UP_QUESTION.search(text):
        return None
    if not any(e.get("entity") in FACT_ENTITIES for e in message.get("entities") or ()):
        return None
    return [FollowupAction("action_camp_info")] if last_bot_action(tracker) in CAMP_ANSWERS else None


# "那俺还能干点啥 有别的路子没" right after a reply that listed what else one can do ("您可以考虑：…"):
# those alternatives again, not "答不上来".
OTHER_WAYS = re.compile(r"别的(路子|办法|门路|出路|选择)|其他(路子|办法|门路|出路|选择)|能(先|再)?(干|做|去|学)(点|些)?(啥|什么)|还有(啥|什么)(路子|办法|门路|出路)|那咋办|那怎么办")
_ALTERNATIVES_AT = re.compile(r"(?:也|您)可以考虑：\n")


def other_ways_again(tracker: Tracker) -> Optional[str]:
    """The alternatives the last reply listed, when the user asks for other ways right after it."""
    text = ((tracker.latest_message or {}).get("text") or "")
    if not OTHER_WAYS.search(text):
        return None
    said = last_bot_text(tracker)
    found = _ALTERNATIVES_AT.search(said)
    return "您可以考虑这些：\n" + said[found.end():].strip() if found else None
