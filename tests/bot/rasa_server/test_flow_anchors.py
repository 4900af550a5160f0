"""A flow that won without naming what it does yields to a confident knowledge answer
(bot/services/knowledge/flow_anchors.py and the FlowIntentPreference graph component)."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT

from bot.rasa_server.flow_preference import FlowIntentPreference
from bot.services.knowledge.flow_anchors import asks_the_knowledge_base, knowledge_ranking, names_the_flow, settled_ranking
from tests.helpers.nlu_messages import parsed_message, ranking

ANSWERED = {"decision": "answer", "options": [{"id": "graduate_services", "score": 0.9}]}
CHOICE = {"decision": "choose", "options": [{"id": "graduate_services", "score": 0.3}]}


@pytest.mark.parametrize("intent, text", [
    ("find_service_point", "恁这附近有就业驿站没"),
    ("find_service_point", "零工市场咋走"),
    ("find_service_point", "青岛哪有就业服务站啊"),
    ("find_service_point", "历下区人才市场地址"),
    ("find_job_fair", "下礼拜有双选会不"),
    ("book_workshop", "想约个老师看看简历"),
    ("cancel_booking", "周五那个去不了了"),
    ("my_bookings", "俺报嘞那个是哪天"),
    ("enroll_camp", "给俺报个实训营"),
    ("ask_courses", "有没有讲面试的视频"),
    ("career_assessment", "测测俺适合干啥"),
])
def test_a_request_that_names_its_flow_is_left_to_it(intent, text):
    assert names_the_flow(intent, text)
    assert knowledge_ranking(text, ranking((intent, 0.9), ("ask_policy", 0.05)), ANSWERED) is None


@pytest.mark.parametrize("intent, text", [
    ("find_service_point", "毕业没找着工作的有啥服务"),
    ("find_service_point", "创业指导上哪找"),
    ("enroll_camp", "省考报名入口在哪"),
    ("find_job", "残联管不管帮着找活"),
    ("find_job", "俺们打工的 政府有啥服务"),
    ("find_job", "退伍了怎么找工作"),
])
def test_a_message_that_does_not_name_its_flow_goes_to_the_confident_answer(intent, text):
    assert asks_the_knowledge_base(intent, text)
    result = knowledge_ranking(text, ranking((intent, 0.8), ("ask_policy", 0.15), ("greet", 0.05)), ANSWERED)
    assert result is not None
    assert result[0]["name"] == "ask_policy"
    assert result[0]["confidence"] == pytest.approx(0.95)
    assert [r["name"] for r in result[1:]] == [intent, "greet"]


@pytest.mark.parametrize("text", ["想找个电工的活 济南的", "俺退伍了想找个开车的活 淄博有招司机的不"])
def test_a_plain_job_request_stays_with_the_job_search(text):
    assert not asks_the_knowledge_base("find_job", text)
    assert knowledge_ranking(text, ranking(("find_job", 0.9),), ANSWERED) is None


@pytest.mark.parametrize("knowledge", [CHOICE, {"decision": "none", "options": []}, None])
def test_without_a_confident_answer_the_flow_keeps_the_message(knowledge):
    assert knowledge_ranking("创业指导上哪找", ranking(("find_service_point", 0.9),), knowledge) is None


def test_other_intents_and_a_paused_form_are_left_alone():
    assert knowledge_ranking("创业指导上哪找", ranking(("ask_policy", 0.9),), ANSWERED) is None
    assert knowledge_ranking("你好", ranking(("greet", 0.9),), ANSWERED) is None
    assert knowledge_ranking("继续刚才那个", ranking(("enroll_camp", 0.9),), ANSWERED) is None


def test_the_component_sends_the_message_to_the_question_intent():
    component = FlowIntentPreference({})
    message = parsed_message("离校没工作的毕业生有什么服务", [("find_service_point", 0.97), ("find_job", 0.02)], ANSWERED)
    request = parsed_message("离我最近的就业驿站在哪", [("find_service_point", 0.97), ("find_job", 0.02)], ANSWERED)
    component.process([message, request])
    assert message.get(INTENT)["name"] == "ask_policy"
    assert message.get(INTENT)["confidence"] == pytest.approx(0.97)
    assert request.get(INTENT)["name"] == "find_service_point"


def test_the_flow_preference_does_not_move_an_unnamed_flow_over_a_confident_answer():
    unnamed = ranking(("ask_policy", 0.6), ("find_service_point", 0.35))
    assert settled_ranking("毕业没找着工作的有啥服务", unnamed, ANSWERED, 0.2) is None
    named = ranking(("ask_policy", 0.6), ("find_job_fair", 0.35))
    assert settled_ranking("残疾人能参加的招聘会有没有", named, ANSWERED, 0.2)[0]["name"] == "find_job_fair"
    assert settled_ranking("毕业没找着工作的有啥服务", unnamed, CHOICE, 0.2)[0]["name"] == "find_service_point"


def test_an_unnamed_flow_first_with_the_question_second_goes_to_the_question():
    result = settled_ranking("创业指导上哪找", ranking(("find_service_point", 0.5), ("ask_policy", 0.4)), ANSWERED, 0.2)
    assert result[0]["name"] == "ask_policy"
    assert result[0]["confidence"] == pytest.approx(0.9)


def test_a_named_place_or_a_course_subscription_names_its_flow():
    assert names_the_flow("find_service_point", "济南历下区有没有职业指导的地方", names_a_place=True)
    assert asks_the_knowledge_base("find_service_point", "创业指导上哪找")
    assert names_the_flow("ask_courses", "取消订阅面试")


def test_the_component_reads_the_place_entities():
    component = FlowIntentPreference({})
    message = parsed_message("历下区有没有搞创业指导的", [("find_service_point", 0.9), ("ask_policy", 0.1)], ANSWERED)
    message.set("entities", [{"entity": "district", "value": "历下区", "start": 0, "end": 3}])
    component.process([message])
    assert message.get(INTENT)["name"] == "find_service_point"


GUIDANCE = {"decision": "answer", "options": [{"id": "career_guidance_service", "score": 0.4}]}
INTERVIEW = {"decision": "answer", "options": [{"id": "interview_preparation", "score": 0.6}]}


@pytest.mark.parametrize("intent, text, knowledge", [
    ("book_workshop", "约的那个面试辅导后天去不成了", INTERVIEW),
    ("ask_policy", "俺报的简历工作坊不想去了 给撤了吧", ANSWERED),
    ("my_bookings", "我约的老师明天来不了了 帮我取消", None),
    ("enroll_camp", "实训营报了名 现在想退掉", CHOICE),
])
def test_calling_off_a_booking_is_a_cancellation_whatever_took_it(intent, text, knowledge):
    result = settled_ranking(text, ranking((intent, 0.9), ("cancel_booking", 0.05), ("greet", 0.05)), knowledge, 0.2)
    assert [r["name"] for r in result] == ["cancel_booking", intent, "greet"]
    assert result[0]["confidence"] == pytest.approx(0.95)
    assert result[1]["confidence"] == 0.0  # no second leader for FallbackClassifier to find ambiguous


@pytest.mark.parametrize("intent, text", [
    ("ask_policy", "三方协议签了不想去了 违约金咋算"),  # 违约 is no booking
    ("ask_policy", "取消订阅实训营的通知"),  # the notices: unsubscribe
    ("book_workshop", "退伍军人能约面试辅导吗"),  # 退 of 退伍 calls nothing off
    ("find_job", "那个厂子去不了了 还有别的活没"),  # not an intent a cancellation is taken by
    ("cancel_booking", "继续刚才那个 我约的不去了"),
])
def test_other_messages_with_a_cancel_word_are_left_alone(intent, text):
    assert settled_ranking(text, ranking((intent, 0.9), ("cancel_booking", 0.05)), ANSWERED, 0.2) is None


@pytest.mark.parametrize("intent, text, knowledge", [
    ("ask_policy", "给俺来套测职业倾向的题", GUIDANCE),
    ("ask_policy", "霍兰德那个测验恁这能做不", CHOICE),
    ("find_job", "不知道干啥活好 先测测性格测试行不", None),
])
def test_a_message_naming_the_assessment_starts_it(intent, text, knowledge):
    result = settled_ranking(text, ranking((intent, 0.95), ("career_assessment", 0.01)), knowledge, 0.2)
    assert result[0]["name"] == "career_assessment"
    assert result[0]["confidence"] == pytest.approx(0.96)


def test_an_answer_about_another_subject_keeps_the_assessment_words():
    assert settled_ranking("面试时候的性格测试咋准备", ranking(("ask_policy", 0.95),), INTERVIEW, 0.2) is None
    assert settled_ranking("能帮我测测适合啥工作不", ranking(("career_assessment", 0.95),), None, 0.2) is None
    assert settled_ranking("济南有招软件测试的活不", ranking(("find_job", 0.95),), None, 0.2) is None  # a trade


def test_the_component_cancels_a_booking_the_question_intent_took():
    component = FlowIntentPreference({})
    message = parsed_message("周三约的模拟面试去不了了", [("ask_policy", 0.7), ("cancel_booking", 0.2)], INTERVIEW)
    component.process([message])
    assert message.get(INTENT)["name"] == "cancel_booking"
    assert message.get(INTENT)["confidence"] == pytest.approx(0.9)


def test_a_new_booking_that_names_a_day_it_cannot_make_is_left_to_the_booking():
    assert settled_ranking("周二去不了 约周三的吧", ranking(("book_workshop", 0.9),), None, 0.2) is None
