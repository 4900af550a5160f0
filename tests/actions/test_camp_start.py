"""The camp enrolment as people start and steer it: a wish whose facts rule the user out gets the plain
no, "能的话给俺报上" the answer and then the form, facts said at a form question are kept, a cohort is
chosen in everyday words (actions/camp.py, actions/camp_eligibility.py, actions/forms.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

import pytest
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

import actions.camp as camp_actions
from actions import runtime
from actions.camp import CONSENT, ActionCampEnrollStart, ValidateCampEnrollmentForm
from actions.fallback import ActionCoreFallback
from actions.form_pause import ActionPauseForm
from bot.clock import SHANGHAI, FrozenClock
from bot.services.camp import EnrollmentStore
from bot.services.eligibility_answer import THEN_ENROL
from tests.actions.test_camp import DOMAIN, slot_events, texts, tracker, validate

# the cohorts of data/camp_cohorts.yml as of this day: 济南第12期 starts 12-14, 线上第4期 12-15
DAY = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
UNEMPLOYED_IN_JINAN: Dict[str, Any] = {"camp_name": "侯振宇", "camp_mobile": "13912340000", "camp_identity": "失业青年",
                                       "camp_age": "21", "camp_city": "济南"}


@pytest.fixture(autouse=True)
def frozen(monkeypatch, action_runtime):
    monkeypatch.setattr(camp_actions, "clock", FrozenClock(DAY))
    yield


async def start(text: str, sender: str):
    dispatcher = CollectingDispatcher()
    events = await ActionCampEnrollStart().run(dispatcher, tracker(sender, text=text, intent="enroll_camp", active=False), DOMAIN)
    return events, texts(dispatcher)


async def test_a_wish_whose_facts_rule_the_user_out_gets_the_plain_no_and_no_form():
    events, said = await start("俺38了 在家待着没活干 想报恁们的实训营", "o-38")
    assert "暂不能报名" in said and "预约" in said  # the no, and what else there is
    assert CONSENT not in said and "姓名" not in said
    assert events[-1] == FollowupAction("action_listen")


async def test_may_i_and_if_so_sign_me_up_is_answered_then_the_form_starts():
    events, said = await start("实训营 俺22了还能报不 能的话给俺报上", "o-22")
    assert said.index("按您的情况（22岁") < said.index(THEN_ENROL) < said.index(CONSENT)
    assert FollowupAction("action_listen") not in events
    assert slot_events(events)["camp_age"] == "22"


async def test_a_wish_with_facts_that_fit_starts_the_form_without_an_answer_first():
    events, said = await start("俺想报实训营 俺是失业青年 21岁 在青岛黄岛这边", "o-21")
    assert said.startswith(CONSENT) and "按您的情况" not in said
    assert slot_events(events)["camp_identity"] == "失业青年" and slot_events(events)["camp_age"] == "21"


@pytest.mark.parametrize("intent", ["nlu_fallback", "inform"])  # inform: the name's text mapping took it all
async def test_facts_said_at_the_name_question_are_kept_and_the_name_asked_again(intent: str):
    text = "先说下俺情况 俺失业了 22岁 在青岛"
    t = tracker(f"o-facts-{intent}", {"requested_slot": "camp_name"}, text=text, intent=intent,
                entities=[{"entity": "city", "value": "青岛市"}], candidates={"camp_name": text} if intent == "inform" else None)
    dispatcher = CollectingDispatcher()
    result = slot_events(await ValidateCampEnrollmentForm().run(dispatcher, t, DOMAIN))
    assert result["camp_identity"] == "失业青年" and result["camp_age"] == "22" and result["camp_city"] == "青岛"
    assert result.get("camp_name") is None and result["requested_slot"] == "camp_name"
    assert "记下了" in texts(dispatcher)


async def test_a_name_said_with_an_age_stays_the_answer_to_the_name_question():
    result, said = await validate({}, "camp_name", "俺叫张伟 今年22", sender="o-name")
    assert result["camp_name"] == "张伟" and "记下了" not in said


@pytest.mark.parametrize("text, cohort", [
    ("第二个吧", "online-2026-12"),
    ("2就行", "online-2026-12"),
    ("最早开班的那期就行", "jn-2026-12"),
    ("俺跑不了 报网上的那个吧", "online-2026-12"),
])
async def test_a_cohort_is_chosen_in_everyday_words(text: str, cohort: str):
    result, _ = await validate(UNEMPLOYED_IN_JINAN, "camp_cohort", text, sender=f"o-{cohort}-{len(text)}")
    assert result["camp_cohort"] == cohort


async def test_a_cohort_in_words_read_as_cancelling_stays_the_answer_to_the_cohort_question():
    state = {**UNEMPLOYED_IN_JINAN, "requested_slot": "camp_cohort"}
    t = tracker("o-run", state, text="俺跑不了 报网上的那个吧", intent="cancel_booking")
    assert await ActionPauseForm().run(CollectingDispatcher(), t, DOMAIN) == [FollowupAction(camp_actions.FORM)]
    result = slot_events(await ValidateCampEnrollmentForm().run(CollectingDispatcher(), t, DOMAIN))
    assert result["camp_cohort"] == "online-2026-12"
    refused = tracker("o-run2", state, text="济南那期不去了", intent="cancel_booking")
    paused = await ActionPauseForm().run(CollectingDispatcher(), refused, DOMAIN)
    assert FollowupAction(camp_actions.FORM) not in paused  # no choice: the form is paused for the cancel


@pytest.mark.parametrize("text", ["哎 换一期吧 换成线上的", "这期时间不合适 给俺换一期"])
async def test_a_change_of_cohort_gives_up_the_enrolment_held_and_enrols_again(text: str):
    store = EnrollmentStore(runtime.redis(), runtime.settings(), camp_actions.clock)
    profile = {"name": "许文博", "phone": "13912345001", "identity": "失业青年", "age": "21", "city": "济南"}
    held = await store.enroll("o-change", camp_actions.current_catalogue().get("jn-2026-12"), profile)
    dispatcher = CollectingDispatcher()
    events = await ActionCoreFallback().run(dispatcher, tracker("o-change", text=text, intent="nlu_fallback", active=False), DOMAIN)
    assert events[-1] == FollowupAction("action_camp_enroll_start")
    assert held.code in texts(dispatcher) and await store.find("o-change", "jn-2026-12") is None


async def test_a_change_of_cohort_without_an_enrolment_changes_nothing():
    dispatcher = CollectingDispatcher()
    events = await ActionCoreFallback().run(dispatcher, tracker("o-none", text="换一期吧", intent="nlu_fallback", active=False), DOMAIN)
    assert FollowupAction("action_camp_enroll_start") not in events


@pytest.mark.parametrize("text, name, phone", [
    ("俺闺女叫孟楠 手机号13942635331", "孟楠", "13942635331"),
    ("他叫魏子豪", "魏子豪", None),
    ("俺叫刘佳琪 电话13900000000", "刘佳琪", "13900000000"),
])
async def test_a_name_said_for_someone_else_with_the_phone_answers_both(text: str, name: str, phone):
    result, _ = await validate({}, "camp_name", text, sender=f"o-{name}")
    assert result["camp_name"] == name and result.get("camp_mobile") == phone


async def test_going_back_to_the_paused_enrolment_by_name_resumes_it_rather_than_starting_again():
    from bot.clock import system_clock

    paused = {"form": "camp_enrollment_form", "requested": "camp_school", "at": system_clock().timestamp(),
              "slots": {**UNEMPLOYED_IN_JINAN, "camp_identity": "离校未就业毕业生"}}
    dispatcher = CollectingDispatcher()
    back = tracker("o-back", {"paused_form": paused, "form_paused": True}, text="接着报实训营吧", intent="enroll_camp", active=False)
    events = await ActionCampEnrollStart().run(dispatcher, back, DOMAIN)
    assert events == [FollowupAction("action_resume_form")] and texts(dispatcher) == ""
    # a paused booking is no enrolment to go back to: the enrolment starts
    booking = {**paused, "form": "workshop_booking_form", "slots": {"booking_topic": "简历指导"}}
    other = tracker("o-back2", {"paused_form": booking, "form_paused": True}, text="接着报实训营吧", intent="enroll_camp", active=False)
    assert FollowupAction("action_resume_form") not in await ActionCampEnrollStart().run(CollectingDispatcher(), other, DOMAIN)


async def _after_saying(earlier: str, slots: Dict[str, Any], sender: str):
    """The major answered at its question, `earlier` said before it in the conversation."""
    t = tracker(sender, {**slots, "requested_slot": "camp_major"}, text="学的小学教育", candidates={"camp_major": "学的小学教育"})
    t.events.insert(0, {"event": "user", "text": earlier})
    dispatcher = CollectingDispatcher()
    return slot_events(await ValidateCampEnrollmentForm().run(dispatcher, t, DOMAIN)), texts(dispatcher)


async def test_a_city_named_in_a_side_question_is_taken_at_the_city_question_and_said():
    """"泰安泰山区这边有没有就业服务站" in the middle of the form (the `city` slot): the city question
    that follows is answered with it, said with how to correct it; a city that is only the school's is not."""
    graduate = {"camp_name": "李晓雪", "camp_mobile": "13912340001", "camp_identity": "离校未就业毕业生",
                "camp_grad_year": str(DAY.year - 1), "camp_school": "泰山学院", "city": "泰安市"}
    result, said = await _after_saying("泰安泰山区这边有没有就业服务站啊", graduate, "o-city")
    assert result["camp_city"] == "泰安" and result["requested_slot"] != "camp_city" and "按泰安" in said
    result, _ = await _after_saying("泰山学院", graduate, "o-school-city")  # the school's city, not where she is
    assert result["requested_slot"] == "camp_city" and "camp_city" not in result


async def test_the_city_said_before_leaves_rasa_one_question_to_ask():
    """Rasa asks the FIRST requested_slot a validation returns: the city question the form was about to
    ask must not come before the next one, or the user hears the city said back and then asked."""
    graduate = {"camp_name": "李晓雪", "camp_mobile": "13912340001", "camp_identity": "离校未就业毕业生",
                "camp_grad_year": str(DAY.year - 1), "camp_school": "泰山学院", "city": "泰安市"}
    t = tracker("o-one-ask", {**graduate, "requested_slot": "camp_major"}, text="学的小学教育", candidates={"camp_major": "学的小学教育"})
    t.events.insert(0, {"event": "user", "text": "泰安泰山区这边有没有就业服务站啊"})
    events = await ValidateCampEnrollmentForm().run(CollectingDispatcher(), t, DOMAIN)
    asked = [e.get("value") for e in events if e.get("event") == "slot" and e.get("name") == "requested_slot"]
    assert asked and "camp_city" not in asked
