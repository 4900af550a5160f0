"""职业测评 and 空中课堂 (issue 9) through the whole stack (knowledge answers: test_knowledge_conversation.py).

Gateway → trained Rasa → action server → Redis, and notices through the push machinery to the
fake WeChat API.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import SHANGHAI
from bot.services.assessment import TYPES, AssessmentStore, load_questions, result_for
from bot.services.courses import day_range
from bot.services.push import PushPreferences

pytestmark = pytest.mark.stack

FALLBACK = "没太明白"
QUESTIONS = load_questions()



def answers_for(code_first: str) -> list:
    """Answers that make `code_first` the strongest type: 1 (很喜欢) for its questions, 3 otherwise."""
    return ["1" if q.type == code_first else "3" for q in QUESTIONS]


# -- career assessment ---------------------------------------------------------------------------


async def test_assessment_from_request_to_result_with_next_steps(chat):
    user = chat()
    total = len(QUESTIONS)
    reply = await user.say("帮我测测适合什么工作")
    assert f"第1/{total}题" in reply and QUESTIONS[0].text in reply, user.transcript

    answers = answers_for("S")
    for i, answer in enumerate(answers[:-1]):
        reply = await user.say(answer)
        assert f"第{i + 2}/{total}题" in reply and QUESTIONS[i + 1].text in reply, user.transcript
    result = await user.say(answers[-1])

    points = {"1": 2, "3": 0}
    expected = result_for(QUESTIONS, [points[a] for a in answers])
    assert expected.code[0] == "S"
    assert f"霍兰德职业兴趣代码是：{expected.code}" in result, user.transcript
    for family in expected.families():
        assert family in result
    assert "接下来您可以" in result and "预约" in result and "转人工" in result
    # the result ends the turn: no fallback appended after it
    assert FALLBACK not in result and "抱歉" not in result, user.transcript

    profile = await user.services.profiles.get(user.openid)
    assert profile.get("holland_code") == expected.code
    # after the assessment, ordinary conversation works again
    assert "不客气" in await user.say("谢谢"), user.transcript


async def test_assessment_answered_in_words(chat):
    """The hint offers 很喜欢/是, 一般, 不喜欢/否: each word is an answer, whatever NLU makes of it."""
    user = chat()
    total = len(QUESTIONS)
    await user.say("我想测测自己适合干什么")
    words = ["很喜欢", "一般", "不喜欢", "是的", "还行", "不太喜欢", "非常喜欢", "否"]
    words = (words * 3)[:total]
    for i, word in enumerate(words[:-1]):
        reply = await user.say(word)
        assert f"第{i + 2}/{total}题" in reply, user.transcript
    result = await user.say(words[-1])
    points = {"很喜欢": 2, "非常喜欢": 2, "是的": 2, "一般": 1, "还行": 1, "不喜欢": 0, "不太喜欢": 0, "否": 0}
    expected = result_for(QUESTIONS, [points[w] for w in words])
    assert f"霍兰德职业兴趣代码是：{expected.code}" in result, user.transcript
    assert FALLBACK not in result
    store = AssessmentStore(user.services.redis, user.services.settings)
    profile = await user.services.profiles.get(user.openid)
    assert profile.get("holland_code") == expected.code and all(t in TYPES for t in expected.code)
    assert await store.load(user.openid) is None  # finished: the progress is dropped


async def test_assessment_resumes_after_an_interruption(chat):
    user = chat()
    total = len(QUESTIONS)
    await user.say("我想做个职业测评")
    for answer in ("1", "2", "3"):
        await user.say(answer)
    store = AssessmentStore(user.services.redis, user.services.settings)
    progress = await store.load(user.openid)
    assert progress is not None and len(progress.answers) == 3

    # something else in between: a policy question is answered, not taken as an answer
    reply = await user.say("失业登记怎么办")
    assert "失业登记" in reply and f"第4/{total}题" not in reply, user.transcript
    assert len((await store.load(user.openid)).answers) == 3

    reply = await user.say("继续测评")
    assert "上次您答到第3题" in reply and f"第4/{total}题" in reply, user.transcript
    assert QUESTIONS[3].text in reply
    reply = await user.say("1")
    assert f"第5/{total}题" in reply, user.transcript
    assert len((await store.load(user.openid)).answers) == 4

    # 退出 at any time keeps the progress
    reply = await user.say("退出")
    assert "已退出职业测评" in reply and f"4/{total}" in reply, user.transcript
    assert FALLBACK not in reply, user.transcript
    reply = await user.say("职业测评")
    assert f"第5/{total}题" in reply, user.transcript


async def test_a_bare_jixu_after_a_side_question_goes_back_to_the_assessment(chat):
    user = chat()
    total = len(QUESTIONS)
    await user.say("我想做个职业测评")
    await user.say("1")
    reply = await user.say("失业登记怎么办")
    assert "失业登记" in reply, user.transcript
    reply = await user.say("继续")  # not "no more service points": the assessment's question again
    assert f"第2/{total}题" in reply and "没看懂" not in reply, user.transcript
    reply = await user.say("2")
    assert f"第3/{total}题" in reply, user.transcript


# -- courses -------------------------------------------------------------------------------------


async def test_courses_by_day_and_by_topic(chat):
    user = chat()
    courses = user.services.courses
    now = user.services.clock().astimezone(SHANGHAI)

    reply = await user.say("今天有什么直播")
    today = await courses.list_courses(day=day_range("今天", now), kind="live")
    assert today, "the sample catalogue always has live courses today"
    assert f"{now.month}月{now.day}日" in reply, user.transcript
    for course in today:
        assert course.title in reply, (course.title, reply)
    assert FALLBACK not in reply

    reply = await user.say("面试的课")
    interview = await courses.list_courses(topic="面试")
    assert interview and all(c.topic == "面试" for c in interview)
    for course in interview:
        assert course.title in reply, (course.title, reply)
    assert "【简历】" not in reply and "【创业】" not in reply, reply


async def test_subscribe_to_a_topic_and_get_a_notice_of_a_new_course(no_quiet_hours, chat):
    user = chat()
    services = user.services
    reply = await user.say("订阅面试的课")
    assert "已为您订阅“面试”" in reply, user.transcript
    assert await services.courses.subscriptions(user.openid) == ["面试"]

    reply = await user.say("我的订阅")
    assert "您订阅的课程主题：面试" in reply, user.transcript

    # staff schedule a new 面试 course: the subscriber (inside the 48-hour window) is told
    start = (services.clock() + timedelta(days=2)).astimezone(SHANGHAI).replace(
        hour=19, minute=0, second=0, microsecond=0
    )
    title = "群面无领导小组讨论实战"
    outcome = await services.courses.schedule_course(
        {
            "title": title,
            "expert": "赵老师（高级职业指导师）",
            "topic": "面试",
            "start": start,
            "link": "https://zhinan.example/courses/group-interview",
        }
    )
    assert outcome.results[user.openid].status == "sent", outcome.results
    notices = [t for t in await user.pushed() if title in t]
    assert len(notices) == 1 and "空中课堂" in notices[0] and "面试" in notices[0], notices

    # a new 简历 course is not for this user
    await services.courses.schedule_course(
        {"title": "简历里的数字怎么写", "expert": "张老师", "topic": "简历", "start": start,
         "link": "https://zhinan.example/courses/resume-numbers"}
    )
    assert not any("简历里的数字怎么写" in t for t in await user.pushed())

    reply = await user.say("取消订阅面试")
    assert "已取消订阅：面试" in reply, user.transcript
    assert await services.courses.subscriptions(user.openid) == []
    # cancelling a course topic is not an opt-out of every push (退订)
    assert not await PushPreferences(services.redis, services.settings).is_opted_out(user.openid)
