"""action_policy_answer: curated answer with where to confirm, or not sure + counsellor."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.policy import ActionPolicyAnswer


async def ask(text: str) -> str:
    tracker = Tracker("oPolicy", {}, {"text": text, "intent": {"name": "ask_policy"}, "entities": []},
                      [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    assert await ActionPolicyAnswer().run(dispatcher, tracker, {}) == []
    return dispatcher.messages[0]["text"]


async def test_confident_answer_cites_where_to_confirm():
    reply = await ask("被公司辞退了能领失业金不")
    assert reply.startswith("【失业保险金申领】")
    assert "办理前可向这里确认" in reply and "12333" in reply and "整理于" in reply


async def test_unknown_question_offers_counsellor():
    reply = await ask("公司拖欠工资怎么办")
    assert "不太确定" in reply and "转人工" in reply and "12333" in reply
    assert "【" not in reply


async def test_close_topics_are_suggested_not_answered():
    reply = await ask("拿了职业资格证书去哪领补贴")
    assert "不太确定" in reply and "技能提升补贴" in reply
