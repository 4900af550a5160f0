"""空中课堂 in the chat: what is on, subscribe to a topic (点餐), my subscriptions, cancel."""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.trade_of_interest import stated_trade
from bot.clock import SHANGHAI, system_clock
from bot.services.courses import TOPICS, CourseService, DayRange, day_range, find_topic
from bot.services.reply_size import fit_list
from bot.services.phone import mask_phones

log = logging.getLogger(__name__)
TIMEOUT_S = 4.0
COURSE_LIST_MAX_BYTES = 2000  # below the 2,048-byte passive reply, with a margin

CANCEL_RE = re.compile(r"取消|退订|不要再?推|不想再?收|别再?推|不订了|不再订阅")
SUBSCRIBE_RE = re.compile(r"订阅|订一下|预订|点餐|点单|关注|有新课.*(告诉|通知|提醒|推)|提醒我|推送给我|我要订|帮我订")
MINE_RE = re.compile(r"我的订阅|订阅了(哪些|什么)|我订了(哪些|什么)|我订阅的|查看订阅|订阅列表")
RECORDED_RE = re.compile(r"录播|回放|重播|随时看")
LIVE_RE = re.compile(r"直播")


def _as_datetime(value: Any) -> Optional[datetime]:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, str):
        try:
            return _as_datetime(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _interval(value: Any) -> Optional[DayRange]:
    """(start, end) as ISO strings or datetimes, or "start/end" -> a DayRange (end made exclusive)."""
    if isinstance(value, str) and "/" in value:
        value = value.split("/", 1)
    if isinstance(value, dict):
        value = (value.get("start"), value.get("end"))
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    start, end = _as_datetime(value[0]), _as_datetime(value[1])
    if start is None or end is None or end < start:
        return None
    if end.second == 59:  # the parser's inclusive "23:59:59" style end
        end = end + timedelta(seconds=1)
    return DayRange(f"{start.month}月{start.day}日" if (end - start) <= timedelta(days=1) else "所选时间", start, end)


def _day_from_parser(text: str, now: datetime) -> Optional[DayRange]:
    """Use the shared time parser (bot/language/time_parser.py) when it understands the text."""
    parsed = _interval(text)  # an entity value may already be an interval
    if parsed:
        return parsed
    try:
        from bot.language.time_parser import parse_time_expression
    except ImportError:
        return None
    try:
        return _interval(parse_time_expression(text, now))
    except Exception:  # a parser bug must not break the course listing
        log.exception("time parser failed on %r", mask_phones(str(text)))
        return None


def resolve_day(text: str, time_entity: Optional[str], now: datetime) -> Optional[DayRange]:
    # Our own reading of the everyday words comes first: it is what the listing promises
    # (今天 = the calendar day, 本周 = today to Sunday); the parser covers the rest (e.g. 6月5日).
    for source in filter(None, (time_entity, text)):
        found = day_range(source, now)
        if found:
            return found
    for source in filter(None, (time_entity, text)):
        found = _day_from_parser(source, now)
        if found:
            return found
    return None


def _entity(tracker: Tracker, name: str) -> Optional[str]:
    for ent in (tracker.latest_message or {}).get("entities") or []:
        if ent.get("entity") == name and ent.get("value"):
            return str(ent["value"])
    return None


class ActionCourses(Action):
    def name(self) -> Text:
        return "action_courses"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        try:
            reply = await asyncio.wait_for(self.reply(tracker), timeout=TIMEOUT_S)
        except (asyncio.TimeoutError, OSError, ConnectionError):
            reply = "空中课堂暂时有点忙，请稍后再试，或说“转人工”。"
        dispatcher.utter_message(text=reply)
        return []

    async def reply(self, tracker: Tracker) -> str:
        service = CourseService(runtime.redis(), runtime.settings(), clock=service_now)
        openid = tracker.sender_id
        text = (tracker.latest_message or {}).get("text") or ""
        topic = find_topic(text) or _topic_entity(tracker)

        if MINE_RE.search(text):
            return await self._mine(service, openid)
        if CANCEL_RE.search(text):
            return await self._cancel(service, openid, topic, text)
        if SUBSCRIBE_RE.search(text):
            return await self._subscribe(service, openid, topic)
        trade = stated_trade(tracker) if topic is None else None
        if trade:  # the trade the user wants to do (issue #21): its skill courses first
            listing = await self._listing(service, tracker, text, TRADE_TOPIC)
            if "暂时没有安排" not in listing:
                return f"您想做{trade}，先看看技能类课程。\n{listing}"
        return await self._listing(service, tracker, text, topic)

    async def _mine(self, service: CourseService, openid: str) -> str:
        topics = await service.subscriptions(openid)
        if not topics:
            return (
                "您还没有订阅课程。可以说“订阅面试的课”，有新课时我会通知您。"
                f"可订阅的主题：{'、'.join(TOPICS)}。"
            )
        return (
            f"您订阅的课程主题：{'、'.join(topics)}。有新课时我会通知您。\n"
            "要取消，说“取消订阅面试”或“取消全部课程订阅”。"
        )

    async def _cancel(
        self, service: CourseService, openid: str, topic: Optional[str], text: str
    ) -> str:
        current = await service.subscriptions(openid)
        if not current:
            return "您目前没有订阅任何课程主题。"
        if topic is None and len(current) > 1 and not re.search(r"全部|所有|都", text):
            return (
                f"您订阅了：{'、'.join(current)}。要取消哪个？例如说“取消订阅{current[0]}”，"
                "或“取消全部课程订阅”。"
            )
        removed = await service.unsubscribe(openid, topic)
        if not removed:
            return f"您没有订阅“{topic}”。当前订阅：{'、'.join(current)}。"
        left = await service.subscriptions(openid)
        tail = f"仍在订阅：{'、'.join(left)}。" if left else "您已没有任何课程订阅。"
        return f"已取消订阅：{'、'.join(removed)}，不会再收到这些主题的新课通知。{tail}"

    async def _subscribe(self, service: CourseService, openid: str, topic: Optional[str]) -> str:
        if topic is None:
            return (
                f"想订阅哪类课程？可选：{'、'.join(TOPICS)}。"
                "例如说“订阅面试的课”，有新课我就通知您。"
            )
        added = await service.subscribe(openid, topic)
        head = f"已为您订阅“{topic}”主题" if added else f"您已经订阅过“{topic}”主题了"
        upcoming = await service.list_courses(topic=topic, kind="live", limit=2)
        lines = [f"{head}，有新课时会通知您（夜间不打扰，可随时说“取消订阅{topic}”）。"]
        if upcoming:
            lines.append("近期这个主题的直播：")
            lines += [c.line(service_now()) for c in upcoming]
        return "\n".join(lines)

    async def _listing(
        self, service: CourseService, tracker: Tracker, text: str, topic: Optional[str]
    ) -> str:
        now = service_now()
        day = resolve_day(text, _entity(tracker, "time"), now)
        kind = "recorded" if RECORDED_RE.search(text) else ("live" if LIVE_RE.search(text) else None)
        if kind == "recorded":
            day = None  # recordings have no calendar slot
        courses = await service.list_courses(day=day, topic=topic, kind=kind)
        what = f"{topic}主题的" if topic else ""
        if day is not None:
            label = f"{day.label}{what}直播课"
        elif kind == "recorded":
            label = f"{what}录播课"
        else:
            label = f"空中课堂{what}近期直播和录播课"
        if not courses:
            hint = "可以问“这周的课”“面试的课”，或看录播：说“有什么回放”。"
            return f"{label}暂时没有安排。{hint}"
        lines = [f"{i}. {c.line(now)}" for i, c in enumerate(courses, 1)]
        footer = f"想有新课就收到通知？说“订阅{topic or '面试'}的课”。"
        return fit_list(lines, f"{label}：", footer, limit=COURSE_LIST_MAX_BYTES)


TRADE_TOPIC = "技能"  # the course topic for a trade the user wants to do


def _topic_entity(tracker: Tracker) -> Optional[str]:
    value = _entity(tracker, "workshop_topic")
    if value:
        return value if value in TOPICS else find_topic(value)
    return None


# The actions' clock; tests replace it with a FrozenClock.
CLOCK = system_clock


def service_now() -> datetime:
    return CLOCK().astimezone(SHANGHAI)
