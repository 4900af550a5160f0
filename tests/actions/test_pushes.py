"""退订 / 订阅 actions on real Redis: push preferences follow what the user asks, whichever of the two
intents NLU chose; course-topic subscriptions go to the course action."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.pushes import RESUMED, STOPPED, ActionSubscribe, ActionUnsubscribe
from bot.services.courses import CourseService
from bot.services.push import PushPreferences
from tests.helpers.action_tracker import make_tracker


@pytest.fixture(autouse=True)
def _runtime(action_runtime):
    yield


def prefs() -> PushPreferences:
    return PushPreferences(runtime.redis(), runtime.settings())


async def say(action, openid: str, text: str, intent: str) -> str:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, make_tracker(text, intent, sender=openid), {})
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


async def test_subscribe_turns_pushes_back_on_after_unsubscribe():
    assert await say(ActionUnsubscribe(), "o-u", "退订", "unsubscribe") == STOPPED
    assert await prefs().is_opted_out("o-u") and not await prefs().allows_template("o-u")
    # the reply's own instruction, 回复“订阅”, is what the user sends next
    assert "回复“订阅”" in STOPPED
    assert await say(ActionSubscribe(), "o-u", "订阅", "subscribe") == RESUMED
    assert not await prefs().is_opted_out("o-u") and await prefs().allows_template("o-u")


@pytest.mark.parametrize("text", ["重新订阅", "恢复推送", "我要订阅", "开启通知", "继续接收消息", "取消退订", "刚才退订错了 帮我恢复"])
async def test_each_way_of_asking_back_opts_in(text):
    await prefs().opt_out("o-back")
    assert await say(ActionSubscribe(), "o-back", text, "subscribe") == RESUMED
    assert not await prefs().is_opted_out("o-back")


@pytest.mark.parametrize("text", ["恢复推送", "重新订阅"])
async def test_asking_back_read_as_unsubscribe_still_opts_in(text):
    await prefs().opt_out("o-mis")
    assert await say(ActionUnsubscribe(), "o-mis", text, "unsubscribe") == RESUMED
    assert not await prefs().is_opted_out("o-mis")


@pytest.mark.parametrize("text", ["取消订阅", "不想订阅了", "关闭推送"])
async def test_stopping_read_as_subscribe_still_opts_out(text):
    await prefs().opt_in("o-stop")
    assert await say(ActionSubscribe(), "o-stop", text, "subscribe") == STOPPED
    assert await prefs().is_opted_out("o-stop")


async def test_unsubscribe_naming_a_course_topic_cancels_that_course_topic_only():
    """"取消订阅面试" read as `unsubscribe` must not silently stop every push."""
    courses = CourseService(runtime.redis(), runtime.settings())
    await courses.subscribe("o-c", "面试")
    await courses.subscribe("o-c", "简历")
    assert "已取消订阅：面试" in await say(ActionUnsubscribe(), "o-c", "取消订阅面试", "unsubscribe")
    assert await courses.subscriptions("o-c") == ["简历"]
    assert not await prefs().is_opted_out("o-c")
    # 退订 of the camp pushes still opts out
    assert await say(ActionUnsubscribe(), "o-c", "退订实训营推送", "unsubscribe") == STOPPED
    assert await prefs().is_opted_out("o-c")


async def test_subscribe_naming_a_course_topic_subscribes_that_topic_not_every_push():
    courses = CourseService(runtime.redis(), runtime.settings())
    await prefs().opt_out("o-t")
    reply = await say(ActionSubscribe(), "o-t", "订阅简历的课", "subscribe")
    assert "已为您订阅“简历”主题" in reply
    assert await courses.subscriptions("o-t") == ["简历"]
    assert await prefs().is_opted_out("o-t")
