"""The assessment action end to end on real Redis: start, all answers, result, resume, stop."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.assessment import ActionCareerAssessment, questions
from bot.services.assessment import AssessmentStore, holland_code
from bot.services.profiles import ProfileStore

OPENID = "oAssessUser0001"


def tracker(text: str, intent: str, openid: str = OPENID) -> Tracker:
    return Tracker(
        openid,
        {"assessment_active": True},
        {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
        [],
        False,
        None,
        {},
        "action_listen",
    )


async def say(text: str, intent: str, openid: str = OPENID):
    dispatcher = CollectingDispatcher()
    events = await ActionCareerAssessment().run(dispatcher, tracker(text, intent, openid), {})
    replies = [m["text"] for m in dispatcher.messages]
    return "\n".join(replies), {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def answer_for(index: int, likes: str) -> str:
    """'1' for questions of a liked type, '3' otherwise; a mix of spellings."""
    return "1" if questions()[index].type in likes else "不喜欢"


async def test_full_assessment_gives_code_next_steps_and_saves_profile(action_runtime, redis):
    reply, slots = await say("帮我测测适合什么工作", "career_assessment")
    assert "第1/" in reply and questions()[0].text in reply and slots["assessment_active"] is True
    total = len(questions())
    for i in range(total):
        reply, slots = await say(answer_for(i, "SEA"), "inform")
        if i < total - 1:
            assert f"第{i + 2}/{total}题" in reply
            assert slots["assessment_active"] is True
    expected = holland_code(questions(), [2 if q.type in "SEA" else 0 for q in questions()])
    assert expected == "ASE"
    assert f"代码是：{expected}" in reply
    assert "大类" in reply  # occupation families by major group
    assert "回复“预约”" in reply and "转人工" in reply and "实训营" in reply
    assert len(reply.encode("utf-8")) <= 2048
    assert slots == {"assessment_active": False, "holland_code": expected}
    profile = await ProfileStore(redis, action_runtime).get(OPENID)
    assert profile["holland_code"] == expected
    assert await AssessmentStore(redis, action_runtime).load(OPENID) is None


async def test_resume_after_interruption(action_runtime, redis):
    await say("职业测评", "career_assessment")
    for i in range(4):
        await say("是", "affirm")
    # The user leaves (other intents are handled elsewhere) and later comes back.
    runtime.redis.cache_clear()  # a new action-server process: state must come from Redis
    reply, slots = await say("继续做测评", "career_assessment")
    assert "欢迎回来" in reply and "第5/" in reply and questions()[4].text in reply
    progress = await AssessmentStore(redis, action_runtime).load(OPENID)
    assert progress is not None and progress.answers == [2, 2, 2, 2]
    # "重新测评" starts over
    reply, _ = await say("重新测评", "career_assessment")
    assert "第1/" in reply
    assert (await AssessmentStore(redis, action_runtime).load(OPENID)).answers == []


async def test_stop_keeps_progress_and_unclear_answer_reasks(action_runtime, redis):
    await say("职业测评", "career_assessment")
    await say("2", "inform")
    reply, slots = await say("今天中午吃什么比较好呢我也不知道", "out_of_scope")
    assert "没看懂" in reply and "第2/" in reply  # same question again, nothing recorded
    reply, slots = await say("退出", "stop")
    assert "已退出" in reply and "1/" in reply and slots["assessment_active"] is False
    assert (await AssessmentStore(redis, action_runtime).load(OPENID)).answers == [1]


async def test_progress_is_personal_data(action_runtime, redis):
    await say("职业测评", "career_assessment")
    await say("1", "inform")
    profiles = ProfileStore(redis, action_runtime)
    assert action_runtime.key("assessment", OPENID) in profiles.personal_data_keys(OPENID)
    await profiles.delete_personal_data(OPENID)
    assert await AssessmentStore(redis, action_runtime).load(OPENID) is None


async def test_a_side_question_is_answered_and_continue_repeats_the_question(action_runtime, redis):
    from actions.knowledge_decision import knowledge
    item = knowledge().items[0]
    await say("职业测评", "career_assessment")
    await say("1", "inform")
    reply, slots = await say(item.variants[0] + "吗", "nlu_fallback")
    assert "没看懂" not in reply and "第2/" in reply and slots["assessment_active"] is True
    for text in ("继续", "好的 接着来吧"):
        reply, _ = await say(text, "more")
        assert "没看懂" not in reply and "第2/" in reply  # the same question, nothing recorded
    assert (await AssessmentStore(redis, action_runtime).load(OPENID)).answers == [2]
