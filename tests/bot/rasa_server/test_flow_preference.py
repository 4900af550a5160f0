"""A flow request phrased as a question goes to the flow; a how/why question the knowledge base
answers stays with it (bot/services/knowledge/flow_preference.py and its graph component)."""
from __future__ import annotations

from typing import Dict, List, Optional

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY

from bot.rasa_server.flow_preference import FlowIntentPreference
from bot.services.knowledge.flow_preference import asks_how_or_why, preferred_ranking
from tests.helpers.nlu_messages import parsed_message, ranking

ANSWERED = {"decision": "answer", "options": [{"id": "veterans_employment", "score": 0.8}]}
CHOICE = {"decision": "choose", "options": [{"id": "career_guidance_service", "score": 0.3}]}


def top(result: Optional[List[Dict[str, object]]]) -> Optional[tuple]:
    return None if result is None else (result[0]["name"], round(float(result[0]["confidence"]), 3))


def test_a_request_named_with_a_group_word_goes_to_the_flow_with_the_question_share():
    result = preferred_ranking(
        "有专门给退役军人的招聘会吗", ranking(("ask_policy", 0.5), ("find_job_fair", 0.3), ("greet", 0.1)), ANSWERED
    )
    assert top(result) == ("find_job_fair", 0.8)
    assert [r["name"] for r in result] == ["find_job_fair", "greet"]  # the question intent's share moved


def test_a_flow_first_but_unsure_gets_the_question_share_too():
    result = preferred_ranking("俺适合干啥 能帮俺测测不", ranking(("career_assessment", 0.45), ("ask_policy", 0.3)), CHOICE)
    assert top(result) == ("career_assessment", 0.75)


def test_a_how_question_the_knowledge_base_answers_stays_a_question():
    assert preferred_ranking("退伍回来怎么找工作", ranking(("ask_policy", 0.5), ("find_job", 0.4)), ANSWERED) is None
    assert preferred_ranking("退伍回来怎么找工作", ranking(("find_job", 0.5), ("ask_policy", 0.4)), ANSWERED) is None


def test_a_how_question_about_the_flow_itself_goes_to_the_flow_when_no_topic_answers_it():
    result = preferred_ranking("预约的取消要怎么弄", ranking(("ask_policy", 0.5), ("cancel_booking", 0.3)), CHOICE)
    assert top(result) == ("cancel_booking", 0.8)


@pytest.mark.parametrize("pairs", [
    (("ask_policy", 0.6), ("find_job", 0.1)),  # a flow the classifier barely considered
    (("ask_policy", 0.5), ("out_of_scope", 0.4)),  # not a flow
    (("find_job", 0.5), ("find_job_fair", 0.4)),  # two flows: not this rule's business
    (("ask_policy", 0.9),),
])
def test_other_rankings_stay_as_they_are(pairs):
    assert preferred_ranking("最近有招聘会吗", ranking(*pairs), CHOICE) is None


@pytest.mark.parametrize("text, how", [
    ("失业金怎么领", True), ("咋取消", True), ("为啥要交押金", True), ("三方协议是什么", True),
    ("这个招聘靠谱不", True), ("最近有招聘会吗", False), ("帮我约个老师", False), ("零工市场在哪", False),
])
def test_how_and_why_questions_are_told_from_requests(text, how):
    assert asks_how_or_why(text) is how


def test_the_component_rewrites_intent_and_ranking_and_leaves_other_messages_alone():
    component = FlowIntentPreference({"min_share": 0.3})
    request = parsed_message("残疾人能参加的招聘会有没有", [("ask_policy", 0.55), ("find_job_fair", 0.35)], CHOICE)
    question = parsed_message("退伍回来怎么找工作", [("ask_policy", 0.55), ("find_job", 0.35)], ANSWERED)
    component.process([request, question])
    assert request.get(INTENT)["name"] == "find_job_fair"
    assert request.get(INTENT)["confidence"] == pytest.approx(0.9)
    assert request.get(INTENT_RANKING_KEY)[0]["name"] == "find_job_fair"
    assert question.get(INTENT)["name"] == "ask_policy"


def test_a_message_pointing_back_to_a_paused_form_is_left_to_the_form():
    assert preferred_ranking("继续报名", ranking(("ask_policy", 0.5), ("enroll_camp", 0.4)), CHOICE) is None


@pytest.mark.parametrize("text, pairs, intent", [
    # the eligibility question, the job search, the greeting: the words ask for the enrolment
    ("俺想报实训营 俺是失业青年 21岁 在青岛黄岛这边", [("ask_camp_info", 0.7), ("enroll_camp", 0.2)], "enroll_camp"),
    ("给俺整一个训练营 俺21 木有工作", [("find_job", 0.5), ("ask_policy", 0.3)], "enroll_camp"),
    ("报名参加实训营", [("enroll_camp", 0.4), ("ask_camp_info", 0.35)], "enroll_camp"),  # sure now: no fallback
    ("你好 编号online-123456那个 家里有事去不了了", [("greet", 0.8), ("cancel_booking", 0.1)], "cancel_booking"),
    ("不对 手机号输错了 是13900001234", [("book_workshop", 0.5), ("deny", 0.3)], "inform"),
])
def test_what_the_words_plainly_ask_decides_the_intent(text, pairs, intent):
    message = parsed_message(text, pairs, CHOICE)
    FlowIntentPreference({"min_share": 0.3}).process([message])
    assert message.get(INTENT) == {"name": intent, "confidence": 1.0}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)][0] == intent
    assert all(r["confidence"] == 0.0 for r in message.get(INTENT_RANKING_KEY)[1:])


def test_a_corrected_number_becomes_the_phone_entity_the_rules_read():
    message = parsed_message("号码打错了 应该是13900001234", [("deny", 0.6)], CHOICE)
    FlowIntentPreference({"min_share": 0.3}).process([message])
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("phone", "13900001234")]


@pytest.mark.parametrize("text, intent", [
    ("取消实训营报名", "cancel_booking"), ("俺报的实训营在哪看", "my_bookings"), ("恁们那个实训营俺能参加不", "ask_camp_info"),
])
def test_cancelling_listing_and_asking_stay_what_they_are(text, intent):
    message = parsed_message(text, [(intent, 0.9), ("enroll_camp", 0.05)], CHOICE)
    FlowIntentPreference({"min_share": 0.3}).process([message])
    assert message.get(INTENT)["name"] == intent
