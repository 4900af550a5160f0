"""Side questions inside forms (actions/forms.py), through the forms' real validation actions.

Rasa calls the validation action after each user message while a form waits for `requested_slot`:
a side question must set no slot (the form then rejects the turn and the digression rules answer
it), a "why" or "再说一遍" is answered inside the form, and an answer stays an answer.
"""
from __future__ import annotations

import pytest

from actions.form_pause import switches_for
from actions.forms import DIGRESSIONS, DigressionAwareValidation, plainly_an_answer, why_response
from actions.knowledge_decision import knowledge
from tests.helpers.form_validation import BOOKING, CAMP, DOMAIN, VALIDATORS, form_tracker, validate

NOTHING_CLOSE = {"decision": "none", "options": []}


@pytest.mark.parametrize(
    "form, requested, text, intent",
    [
        (CAMP, "camp_mobile", "失业金怎么领", "ask_policy"),
        (CAMP, "camp_identity", "失业金怎么领", "ask_policy"),  # mentions 失业, still a question
        (CAMP, "camp_name", "你是谁", "bot_challenge"),
        (CAMP, "camp_city", "济南附近有服务点吗", "find_service_point"),
        (BOOKING, "booking_name", "转人工", "request_human"),
        (BOOKING, "booking_phone", "附近有服务点吗", "find_service_point"),
        (CAMP, "camp_mobile", "为什么毕业了找不到工作", "ask_policy"),  # a why about something else
    ],
)
async def test_a_side_question_sets_no_slot_so_the_form_rejects_the_turn(form, requested, text, intent):
    messages, slots, events = await validate(form, form_tracker(form, requested, text, intent))
    assert events == [] and messages == []


async def test_a_message_nlu_could_not_place_is_a_side_question_when_the_knowledge_base_answers_it():
    item = knowledge().items[0]
    answered = {"decision": "answer", "options": [{"id": item.id, "score": 0.9}]}
    tracker = form_tracker(CAMP, "camp_school", item.variants[0], "nlu_fallback", knowledge_decision=answered)
    assert await validate(CAMP, tracker) == ([], {}, [])


async def test_a_message_nlu_could_not_place_is_the_answer_when_the_knowledge_base_has_nothing():
    tracker = form_tracker(CAMP, "camp_name", "王小明", "nlu_fallback", knowledge_decision=NOTHING_CLOSE)
    messages, slots, _ = await validate(CAMP, tracker)
    assert slots["camp_name"] == "王小明" and messages == []


@pytest.mark.parametrize(
    "form, requested, text, slot, value",
    [
        (CAMP, "camp_mobile", "13800138000", "camp_mobile", "13800138000"),
        (CAMP, "camp_identity", "我是应届毕业生", "camp_identity", "应届毕业生"),
        (CAMP, "camp_identity", "3", "camp_identity", "离校未就业毕业生"),
        (BOOKING, "booking_phone", "电话13912345678", "booking_phone", "13912345678"),
    ],
)
async def test_an_answer_stays_an_answer_whatever_intent_nlu_gave_it(form, requested, text, slot, value):
    # NLU put the message under a side-question intent, so no slot mapping took it; the form does.
    messages, slots, _ = await validate(form, form_tracker(form, requested, text, "ask_policy"))
    assert slots[slot] == value, messages


@pytest.mark.parametrize(
    "form, requested, text, explained",
    [
        (CAMP, "camp_mobile", "为什么要手机号", "camp_mobile"),
        (CAMP, "camp_cohort", "要我手机号干什么", "camp_mobile"),  # names another slot of the form
        (CAMP, "camp_name", "为什么要姓名", "camp_name"),
        (CAMP, "camp_age", "为啥要这个", "camp_age"),  # names nothing: the pending question
        (CAMP, "camp_identity", "我的手机号安全吗", "camp_mobile"),
        (CAMP, "camp_school", "为什么要问我毕业年份", "camp_grad_year"),
        (BOOKING, "booking_name", "为什么要我的手机号", "booking_phone"),
        (BOOKING, "booking_name", "为什么要名字", "booking_name"),
        (CAMP, "camp_school", "问学校干啥用啊", "camp_school"),
        (CAMP, "camp_age", "问俺年龄干啥", "camp_age"),
        (CAMP, "camp_name", "名字干嘛非得跟身份证一样啊", "camp_name"),
        (BOOKING, "booking_phone", "为啥非要手机号", "booking_phone"),
        (BOOKING, "booking_phone", "要俺手机号弄啥", "booking_phone"),  # Henan/Shandong "弄啥"
    ],
)
async def test_why_is_explained_then_the_pending_question_is_asked_again(form, requested, text, explained):
    for intent in ("ask_policy", "nlu_fallback", "inform"):
        extracted = {requested: text} if intent == "inform" else None  # a from_text mapping took it
        messages, slots, _ = await validate(form, form_tracker(form, requested, text, intent, extracted=extracted))
        assert messages == [dict(messages[0], response=why_response(explained))] and len(messages) == 1
        assert slots == {requested: None, "requested_slot": requested}


@pytest.mark.parametrize("text", ["再说一遍", "刚才问什么？", "继续", "啥？", "没看懂", "恁再说一遍", "中 接着报吧", "好的 接着来吧", "你说啥", "咱继续", "刚才说到哪了 你再说一遍", "填到哪儿了 重复一下"])
async def test_repeat_asks_the_pending_question_again(text):
    messages, slots, _ = await validate(BOOKING, form_tracker(BOOKING, "booking_phone", text, "nlu_fallback"))
    assert messages == [] and slots == {"booking_phone": None, "requested_slot": "booking_phone"}


async def test_back_in_the_form_after_the_side_question_it_asks_where_it_stopped():
    answered_by = [{"event": "action", "name": "action_knowledge_answer"}, {"event": "bot", "text": "…"}]
    tracker = form_tracker(CAMP, "camp_mobile", "失业金怎么领", "ask_policy", after_user=answered_by)
    tracker.slots.update({"camp_name": "张晓明"})
    messages, slots, _ = await validate(CAMP, tracker)
    assert messages == [] and slots == {"requested_slot": "camp_mobile"}


async def test_a_city_named_in_the_side_question_is_kept_for_the_forms_own_question():
    answered_by = [{"event": "action", "name": "action_find_service_point"}, {"event": "bot", "text": "…"}]
    tracker = form_tracker(CAMP, "camp_mobile", "俺在莱芜这边 附近有就业服务站没", "find_service_point",
                           after_user=answered_by, filled={"camp_name": "王海燕"})
    tracker.latest_message["entities"] = [{"entity": "city", "value": "济南"}]
    _, slots, _ = await validate(CAMP, tracker)
    assert slots.get("camp_city") == "济南" and slots.get("camp_mobile") is None  # the phone is still asked


def test_every_form_ignores_the_side_questions_and_every_explanation_belongs_to_a_form_slot():
    form_slots = set()
    for name, form in DOMAIN["forms"].items():
        # side questions, and the intents that leave the form for another flow (actions/form_pause.py)
        assert set(form["ignored_intents"]) == set(DIGRESSIONS) | set(switches_for(name)), name
        form_slots |= set(form["required_slots"])
    explained = {r[len("utter_why_"):] for r in DOMAIN["responses"] if r.startswith("utter_why_")}
    assert explained <= form_slots
    personal = {"booking_name", "booking_phone", "camp_name", "camp_mobile", "camp_identity", "camp_age"}
    assert personal <= explained
    assert all(issubclass(VALIDATORS[name], DigressionAwareValidation) for name in DOMAIN["forms"])


@pytest.mark.parametrize("text", ["13800138000", "2", "第三个", "2025届", "22岁"])
def test_plain_answers(text):
    assert plainly_an_answer(text)


@pytest.mark.parametrize("text", ["失业金怎么领", "你是谁", "附近有服务点吗", "转人工"])
def test_questions_are_not_plain_answers(text):
    assert not plainly_an_answer(text)


def test_the_action_server_registers_the_forms_validations_but_not_their_base():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert {"validate_workshop_booking_form", "validate_camp_enrollment_form"} <= set(executor.actions)


@pytest.mark.parametrize("said", ["她叫郭佳怡", "俺闺女叫郭佳怡"])
def test_a_name_given_for_someone_else_is_the_name(said):
    from actions.form_early_answers import NAME_LEAD

    assert NAME_LEAD.sub("", said) == "郭佳怡"


@pytest.mark.parametrize(
    "form, requested, text, intent",
    [
        (CAMP, "camp_major", "会计", "find_job"),  # a trade word that is the major asked for
        (CAMP, "camp_major", "计算机应用", "ask_courses"),
        (CAMP, "camp_school", "烟台职业学院", "find_job_fair"),
        (BOOKING, "booking_name", "钱会计", "find_job"),
    ],
)
async def test_a_bare_trade_or_subject_word_at_a_free_text_question_is_its_answer(form, requested, text, intent):
    graduate = {"camp_identity": "离校未就业毕业生", "camp_grad_year": "2025"} if form == CAMP else {}  # asked school and major
    messages, slots, _ = await validate(form, form_tracker(form, requested, text, intent, filled=graduate))
    assert slots[requested] == text


@pytest.mark.parametrize("text, intent", [("找会计的活", "find_job"), ("有会计的课吗", "ask_courses"), ("附近招聘会", "find_job_fair")])
async def test_a_request_with_a_trade_word_at_a_free_text_question_is_still_a_side_question(text, intent):
    graduate = {"camp_identity": "离校未就业毕业生", "camp_grad_year": "2025", "camp_school": "烟台大学"}
    messages, slots, events = await validate(CAMP, form_tracker(CAMP, "camp_major", text, intent, filled=graduate))
    assert events == [] and messages == []
