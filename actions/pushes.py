"""退订 and 订阅: stopping every push and turning pushes back on (`bot.services.push.PushPreferences`).

Two intents, one pair of actions. Each action also reads the words, because the two intents share
most of their vocabulary (订阅/推送/通知): a message that plainly asks for the opposite of its intent
("恢复推送" read as `unsubscribe`) gets what it asks for, never the silent opposite. A message about a
course topic ("取消订阅面试", "订阅简历的课") is about 空中课堂 subscriptions and goes to the course action.
"""
from __future__ import annotations

import re
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.courses import ActionCourses
from bot.services.courses import find_topic
from bot.services.push import PushPreferences

RESUME_RE = re.compile(r"(重新|恢复|开启|打开|开通|继续)(订阅|推送|接收|提醒|通知)|^[\s“”\"‘’「」]*(我要|我想)?订阅")
STOP_RE = re.compile(r"退订|取消|不要|不想|别|停止|关闭|关掉|免打扰|TD", re.IGNORECASE)
# Undoing a 退订 names it, so it wins over the stop words it contains.
UNDO_RE = re.compile(r"(取消|撤销|撤回)退订|退订错|(不小心|误)退订")
PUSH_WORDS_RE = re.compile(r"推送|消息|活动|实训营|通知|提醒")

RESUMED = "已为您开启推送：实训营开班、活动等消息会及时通知您。回复“退订”可随时停止。"
STOPPED = "已为您退订推送，之后不会再主动给您发送活动消息。回复“订阅”可重新开启。"


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def about_courses(text: str) -> bool:
    """"取消订阅面试" / "订阅简历的课" name a course topic: course subscriptions, not every push."""
    return "课" in text or (find_topic(text) is not None and not PUSH_WORDS_RE.search(text))


def wants_pushes_back(text: str) -> bool:
    return bool(UNDO_RE.search(text)) or (bool(RESUME_RE.search(text)) and not STOP_RE.search(text))


async def resume_pushes(dispatcher: CollectingDispatcher, openid: str) -> List[EventType]:
    await PushPreferences(runtime.redis(), runtime.settings()).opt_in(openid)
    dispatcher.utter_message(text=RESUMED)
    return []


async def stop_pushes(dispatcher: CollectingDispatcher, openid: str) -> List[EventType]:
    await PushPreferences(runtime.redis(), runtime.settings()).opt_out(openid)
    dispatcher.utter_message(text=STOPPED)
    return []


class ActionUnsubscribe(Action):
    """退订 → no more pushes."""

    def name(self) -> Text:
        return "action_unsubscribe"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = _text(tracker)
        if about_courses(text):
            return await ActionCourses().run(dispatcher, tracker, domain)
        if wants_pushes_back(text):
            return await resume_pushes(dispatcher, tracker.sender_id)
        return await stop_pushes(dispatcher, tracker.sender_id)


class ActionSubscribe(Action):
    """订阅 / 重新订阅 / 恢复推送 → pushes again, template messages included."""

    def name(self) -> Text:
        return "action_subscribe"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = _text(tracker)
        if about_courses(text):
            return await ActionCourses().run(dispatcher, tracker, domain)
        if STOP_RE.search(text) and not wants_pushes_back(text):
            return await stop_pushes(dispatcher, tracker.sender_id)
        return await resume_pushes(dispatcher, tracker.sender_id)
