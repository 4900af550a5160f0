"""action_knowledge_answer: answers, numbered choices, picking a number, misses and the handoff."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff as handoff_action
from actions.knowledge import ActionKnowledgeAnswer, chosen_number, consecutive_misses
from actions.knowledge_decision import knowledge
from actions import runtime
from bot.clock import SHANGHAI, FrozenClock
from bot.services.handoff.config import HandoffConfig
from bot.services.handoff.service import HandoffService

KB = knowledge()


def payload(kind: str, *ids: str) -> Dict[str, Any]:
    return {"decision": kind, "options": [{"id": i, "score": 0.6} for i in ids]}


def parse(text: str, intent: str, knowledge_payload: Optional[dict] = None, entities=()) -> Dict[str, Any]:
    data: Dict[str, Any] = {"text": text, "intent": {"name": intent}, "entities": list(entities)}
    if knowledge_payload is not None:
        data["knowledge"] = knowledge_payload
    return data


def user(message: Dict[str, Any]) -> dict:
    return {"event": "user", "text": message["text"], "parse_data": message}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


async def run(message: Dict[str, Any], slots=None, events: Optional[List[dict]] = None, sender="oKnow"):
    tracker = Tracker(sender, slots or {}, message, (events or []) + [user(message)], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    result = await ActionKnowledgeAnswer().run(dispatcher, tracker, {})
    return dispatcher.messages[0]["text"], {e["name"]: e["value"] for e in result if e.get("event") == "slot"}


async def test_an_answer_cites_where_to_confirm():
    text, slots = await run(parse("失业金咋领", "ask_policy", payload("answer", "unemployment_insurance_benefit")))
    assert text.startswith("【失业保险金申领】") and "确认" in text and "12333" in text
    assert slots == {"knowledge_choices": None}


async def test_close_topics_become_a_numbered_choice_and_a_number_picks_one():
    offered = payload("choose", "unemployment_registration", "employment_registration")
    text, slots = await run(parse("登记咋办", "ask_policy", offered))
    assert "1. 失业登记" in text and "2. 就业登记" in text and "【" not in text
    assert slots == {"knowledge_choices": ["unemployment_registration", "employment_registration"]}
    for reply in ("2", "第二个", "选2"):
        entities = [{"entity": "number", "value": "2"}] if reply == "2" else []
        text, slots = await run(parse(reply, "inform", entities=entities), slots=slots_of(offered))
        assert text.startswith("【就业登记"), reply
        assert slots == {"knowledge_choices": None}


def slots_of(offered: dict) -> dict:
    return {"knowledge_choices": [o["id"] for o in offered["options"]]}


async def test_a_number_out_of_range_is_read_as_a_new_message():
    offered = payload("choose", "unemployment_registration", "employment_registration")
    text, _ = await run(parse("7", "inform", payload("none")), slots=slots_of(offered))
    assert "答不上来" in text and "【" not in text


async def test_a_sure_question_with_nothing_close_is_offered_the_nearest_topics():
    nearest = payload("none", "job_search_subsidy", "graduate_services")
    text, slots = await run(parse("毕业了政府给补贴不", "ask_policy", nearest))
    assert "1. 一次性求职创业补贴" in text and "回复序号" in text
    assert slots == {"knowledge_choices": ["job_search_subsidy", "graduate_services"]}
    # the same scores for a message NLU could not place: no topics pushed on it
    text, slots = await run(parse("嗯那个", "nlu_fallback", nearest))
    assert "答不上来" in text and slots == {"knowledge_choices": None}


async def test_without_a_decision_in_the_parse_lexical_retrieval_answers():
    text, _ = await run(parse("失业金怎么领", "ask_policy"))
    assert text.startswith("【失业保险金申领】")


def test_chosen_number_reads_digits_and_chinese_ordinals():
    def tracker(text: str) -> Tracker:
        return Tracker("o", {}, parse(text, "inform"), [], False, None, {}, "action_listen")

    assert [chosen_number(tracker(t)) for t in ("1", "第三个", "二", "选 2", "两个人", "12")] == [1, 3, 2, 2, None, None]


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock(datetime(2025, 6, 4, 10, 0, tzinfo=SHANGHAI))  # a Wednesday in office hours
    monkeypatch.setattr(handoff_action, "CLOCK", frozen)
    return frozen


async def test_second_miss_in_a_row_queues_for_a_counsellor(action_runtime, clock):
    service = HandoffService(runtime.redis(), runtime.settings(), clock, HandoffConfig())
    await service.heartbeat("li")
    first = parse("asdf", "nlu_fallback", payload("none"))
    text, _ = await run(first, sender="oMiss")
    assert "答不上来" in text and await service.active_item("oMiss") is None
    history = [user(first), action("action_knowledge_answer"), action("action_listen")]
    text, _ = await run(parse("qwer", "nlu_fallback", payload("none")), events=history, sender="oMiss")
    assert "第 1 位" in text
    item = await service.active_item("oMiss")
    assert item["reason"] == "repeated_fallback" and item["priority"] == "1"


def test_only_consecutive_unanswerable_turns_count():
    miss = user(parse("a", "nlu_fallback", payload("none")))
    answered = user(parse("b", "nlu_fallback", payload("answer", "resume_writing")))
    other = user(parse("附近服务点", "find_service_point"))
    listen = action("action_listen")
    me = action("action_knowledge_answer")
    assert consecutive_misses([miss, me, listen, miss]) == 2
    assert consecutive_misses([miss, me, listen, other, action("action_find_service_point"), listen, miss]) == 1
    assert consecutive_misses([miss, me, listen, answered, me, listen, miss]) == 1  # an answer ends the run
    assert consecutive_misses([miss, action("action_career_assessment"), listen, miss]) == 1


async def test_a_trade_the_user_wants_to_do_is_said_back_before_the_choice():
    offered = payload("choose", "unemployment_registration", "employment_registration")
    wish = [{"entity": "trade", "value": "烘焙", "start": 5, "end": 7}]
    text, _ = await run(parse("俺以后想做烘焙这一行", "ask_policy", offered, entities=wish))
    assert "您想做烘焙" in text
    text, _ = await run(parse("登记咋办", "ask_policy", offered))
    assert "想做" not in text


def _facts_of(text: str) -> list:
    from datetime import date

    from bot.services.eligibility import load_rules
    from bot.services.profile_facts import fact_entities
    return fact_entities(text, date(2026, 12, 5), load_rules())


async def test_a_message_that_only_tells_about_the_user_is_said_back_and_is_no_miss():
    said = "我山师的，今年6月份刚毕业，到现在还没找着工作"
    message = parse(said, "inform", payload("none"), entities=_facts_of(said))
    text, _ = await run(message)
    assert "记下了" in text and "2026届离校未就业毕业生" in text and "山东师范大学" in text
    assert "在济南" not in text  # the school's city, not said to be where the user is
    assert "答不上来" not in text and "实训营能报吗" in text
    missed = parse(said, "nlu_fallback", payload("none"), entities=_facts_of(said))
    assert consecutive_misses([user(missed)]) == 0  # two of these in a row queue nobody
    question = "我山师的，今年刚毕业，失业金咋领"  # a question: the knowledge answer's, not a receipt
    text, _ = await run(parse(question, "ask_policy", payload("none"), entities=_facts_of(question)))
    assert "记下了" not in text


async def test_facts_about_oneself_are_said_back_rather_than_unsure_topics_offered():
    unsure = payload("choose", "unemployment_registration", "employment_registration")
    said = "恁好 俺去年大专毕业的 到现在还木有找着活"
    text, _ = await run(parse(said, "inform", unsure, entities=_facts_of(said)))
    assert "记下了" in text and "2025" in text and "回复序号" not in text
    # a question with the same facts still gets the topics to choose from
    asked = "俺去年大专毕业的 失业登记咋办"
    text, _ = await run(parse(asked, "ask_policy", unsure, entities=_facts_of(asked)))
    assert "记下了" not in text and "回复序号" in text


async def run_in_form(message: Dict[str, Any], form: str) -> str:
    tracker = Tracker("oKnowForm", {"requested_slot": "camp_identity"}, message, [user(message)], False, None,
                      {"name": form}, "action_listen")
    dispatcher = CollectingDispatcher()
    await ActionKnowledgeAnswer().run(dispatcher, tracker, {})
    return dispatcher.messages[0]["text"]


async def test_the_fee_asked_inside_the_camp_enrolment_is_the_camp_fee(action_runtime):
    offered = payload("choose", "public_employment_service_list", "job_scam_prevention")
    text = await run_in_form(parse("收费不 要钱的话俺就不去了", "ask_policy", offered), "camp_enrollment_form")
    assert "免费" in text and "回复序号" not in text
    elsewhere = await run_in_form(parse("收费不 要钱的话俺就不去了", "ask_policy", offered), "workshop_booking_form")
    assert "免费" not in elsewhere
