"""Facts already given are shown back once at the start of the camp form, not asked again
(actions/profile_confirm.py): "对" keeps them, "不对，是…" corrects, a bare "不对" asks each again."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.camp as camp_actions
from actions import runtime
from actions.camp import ActionCampEnrollStart, ValidateCampEnrollmentForm
from actions.camp_submit import ActionCampEnrollSubmit
from actions.camp_questions import ActionAskCampFactsConfirm
from actions.profile_confirm import fact_line
from bot.clock import SHANGHAI, FrozenClock
from bot.services.profiles import ProfileStore
from bot.settings import PROJECT_ROOT

FORM = "camp_enrollment_form"
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def frozen(monkeypatch, action_runtime):
    monkeypatch.setattr(camp_actions, "clock", FrozenClock(NOW))
    yield


def tracker(sender: str, slots: Dict[str, Any], text: str, intent: str = "inform",
            events: Optional[List[Dict[str, Any]]] = None, active: bool = True,
            candidates: Optional[Dict[str, Any]] = None) -> Tracker:
    """Events before the user's message, then the slots Rasa's mappings set from it (`candidates`)."""
    history = list(events or []) + [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]
    history += [{"event": "slot", "name": k, "value": v} for k, v in (candidates or {}).items()]
    return Tracker(
        sender_id=sender, slots={**{s: None for s in DOMAIN["slots"]}, **slots},
        latest_message={"text": text, "intent": {"name": intent}, "entities": []}, events=history,
        paused=False, followup_action=None, active_loop={"name": FORM} if active else {},
        latest_action_name="action_listen",
    )


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def said(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


async def start(sender: str, text: str, slots: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    """The start action's events, as the tracker holds them when the form first runs."""
    t = tracker(sender, slots or {}, text, intent="enroll_camp", active=False)
    return await ActionCampEnrollStart().run(CollectingDispatcher(), t, DOMAIN)


async def answer(sender: str, started: List[Dict[str, Any]], text: str, intent: str = "inform", candidate: Any = None):
    """The user's answer to the confirmation, validated as Rasa calls the form's validation."""
    slots = {**slot_events(started), "requested_slot": "camp_facts_confirm", "camp_facts_confirm": candidate}
    dispatcher = CollectingDispatcher()
    t = tracker(sender, slots, text, intent, started, candidates={"camp_facts_confirm": candidate})
    result = await ValidateCampEnrollmentForm().run(dispatcher, t, DOMAIN)
    return slot_events(result), said(dispatcher)


async def test_facts_said_before_enrolling_are_shown_back_in_one_line_not_asked():
    # slots the NLU filled from earlier messages ("我去年毕业的，一直没工作", "今年24", "山师的")
    earlier = {"camp_grad_year": "2025", "camp_identity": "离校未就业毕业生", "camp_age": "24", "camp_school": "山东师范大学", "city": "济南市"}
    started = await start("o-confirm", "我要报名实训营", earlier)
    slots = slot_events(started)
    assert slots["camp_facts_confirm"] is None and slots["camp_city"] == "济南"
    dispatcher = CollectingDispatcher()
    t = tracker("o-confirm", {**slots, "requested_slot": "camp_facts_confirm"}, "我要报名实训营", events=started)
    await ActionAskCampFactsConfirm().run(dispatcher, t, DOMAIN)
    line = said(dispatcher)
    assert line.startswith("您是2025届离校未就业毕业生，今年24岁，学校是山东师范大学，在济南，对吗？")
    # the form asks the confirmation first, then goes on with what it does not know (name)
    validation = await ValidateCampEnrollmentForm().run(CollectingDispatcher(), tracker("o-confirm", slots, "我要报名实训营", events=started), DOMAIN)
    assert slot_events(validation)["requested_slot"] == "camp_facts_confirm"


async def test_yes_keeps_the_facts_and_the_form_asks_only_whats_missing():
    started = await start("o-yes", "报名", {"camp_grad_year": "2025", "camp_identity": "离校未就业毕业生"})
    slots, _ = await answer("o-yes", started, "对的", intent="affirm", candidate=True)
    assert slots["camp_facts_confirm"] is True and slots["requested_slot"] == "camp_name"
    assert "camp_grad_year" not in slots or slots["camp_grad_year"] == "2025"


async def test_a_correction_changes_only_the_fact_it_names():
    started = await start("o-fix", "报名", {"camp_grad_year": "2025", "camp_identity": "离校未就业毕业生", "camp_age": "24"})
    slots, text = await answer("o-fix", started, "不对，是前年毕业的", intent="deny", candidate=False)
    assert slots["camp_grad_year"] == "2024" and slots["camp_facts_confirm"] is True
    assert "camp_age" not in slots and "已更正" in text


async def test_a_bare_no_asks_each_fact_again():
    started = await start("o-no", "报名", {"camp_grad_year": "2025", "camp_identity": "离校未就业毕业生"})
    slots, text = await answer("o-no", started, "不对", intent="deny", candidate=False)
    assert slots["camp_identity"] is None and slots["camp_grad_year"] is None
    assert slots["camp_facts_confirm"] is True and slots["requested_slot"] == "camp_name"
    assert "逐项" in text


async def test_an_unclear_answer_gets_the_question_again_with_an_example():
    started = await start("o-huh", "报名", {"camp_age": "30", "camp_identity": "失业青年"})
    slots, text = await answer("o-huh", started, "啥", candidate="啥")
    assert slots["camp_facts_confirm"] is None and "不对，是" in text


async def test_facts_remembered_on_the_profile_are_confirmed_in_a_later_session():
    redis, settings = runtime.redis(), runtime.settings()
    await ProfileStore(redis, settings).update("o-later", {"identity": "应届毕业生", "graduation_year": "2026", "school": "青岛大学", "city": "青岛"})
    slots = slot_events(await start("o-later", "报名实训营"))
    assert slots["camp_facts_confirm"] is None and slots["camp_school"] == "青岛大学"


async def test_nothing_known_means_no_confirmation_question():
    slots = slot_events(await start("o-fresh", "报名实训营"))
    assert slots["camp_facts_confirm"] is True


async def test_enrolment_keeps_the_education_said_on_the_profile():
    redis, settings = runtime.redis(), runtime.settings()
    slots = {"camp_refusal": None, "camp_name": "王芳", "camp_mobile": "13800138000", "education": "大专", "camp_age": "30"}
    await ActionCampEnrollSubmit().run(CollectingDispatcher(), tracker("o-edu", slots, "3", active=False), DOMAIN)
    assert (await ProfileStore(redis, settings).get("o-edu"))["education"] == "大专"


def test_fact_line_words():
    assert fact_line({"age": "35"}) .startswith("您今年35岁，对吗？")
    assert fact_line({"graduation_year": "2026"}).startswith("您2026年毕业，对吗？")
    assert fact_line({}) == ""


async def test_confirmed_facts_are_kept_on_the_profile_and_wrong_ones_removed():
    store = ProfileStore(runtime.redis(), runtime.settings())
    started = await start("o-keep", "报名", {"camp_grad_year": "2025", "camp_identity": "离校未就业毕业生", "camp_school": "聊城大学"})
    await answer("o-keep", started, "对", intent="affirm", candidate=True)
    kept = await store.get("o-keep")
    assert (kept["graduation_year"], kept["identity"], kept["school"]) == ("2025", "离校未就业毕业生", "聊城大学")
    started = await start("o-keep", "报名")  # a later session: from the profile
    await answer("o-keep", started, "不对", intent="deny", candidate=False)
    assert not {"graduation_year", "identity", "school"} & set(await store.get("o-keep"))


async def test_the_form_started_in_the_same_turn_asks_for_the_confirmation_first():
    # Rasa runs the start action and the form after the user's "报名": the start's events follow
    # the user message, and the form must still see the confirmation as pending
    started = await start("o-same-turn", "报名", {"camp_identity": "应届毕业生"})
    user = {"event": "user", "text": "我是应届生，想报名实训营", "parse_data": {"intent": {"name": "enroll_camp"}}}
    t = Tracker(
        sender_id="o-same-turn", slots={**{s: None for s in DOMAIN["slots"]}, **slot_events(started)},
        latest_message={"text": user["text"], "intent": {"name": "enroll_camp"}, "entities": []},
        events=[user] + started, paused=False, followup_action=None, active_loop={"name": FORM},
        latest_action_name="action_camp_enroll_start",
    )
    validation = await ValidateCampEnrollmentForm().run(CollectingDispatcher(), t, DOMAIN)
    assert slot_events(validation)["requested_slot"] == "camp_facts_confirm"


async def test_answering_the_next_question_instead_lets_the_facts_stand():
    # "您是2024届离校未就业毕业生，对吗？" answered with a name: the user went on with the form
    started = await start("o-went-on", "报名", {"camp_grad_year": "2024", "camp_identity": "离校未就业毕业生"})
    slots, text = await answer("o-went-on", started, "韩梅", intent="nlu_fallback", candidate="韩梅")
    assert slots["camp_facts_confirm"] is True and slots["camp_name"] == "韩梅"
    assert slots["requested_slot"] == "camp_mobile" and "请回复“对”" not in text


async def test_insisting_on_enrolling_lets_the_facts_stand():
    started = await start("o-insist", "报名", {"camp_age": "23", "camp_identity": "失业青年"})
    slots, _ = await answer("o-insist", started, "报名", intent="enroll_camp", candidate="报名")
    assert slots["camp_facts_confirm"] is True and slots.get("camp_name") is None


async def test_facts_an_eligibility_answer_said_back_are_not_confirmed_again():
    started = await start("o-shown", "行，报名", {"camp_age": "23", "camp_identity": "失业青年", "camp_facts_confirm": True})
    assert slot_events(started)["camp_facts_confirm"] is True


@pytest.mark.parametrize("text, slot, value", [
    ("他叫孙浩然", "camp_name", "孙浩然"),
    ("俺叫杜长江", "camp_name", "杜长江"),
    ("手机号是13938703675", "camp_mobile", "13938703675"),  # the name is not asked yet: still taken
])
async def test_an_answer_to_any_open_question_lets_the_facts_stand(text, slot, value):
    started = await start("o-any", "报名", {"camp_identity": "失业青年", "camp_age": "23", "city": "临沂市"})
    slots = {**slot_events(started), "requested_slot": "camp_facts_confirm"}
    # NLU's person_name entity may hold part of the name ("长江"): a slot set from this very message
    candidates = {**({"camp_name": value[1:]} if slot == "camp_name" else {}), "camp_facts_confirm": text}
    dispatcher = CollectingDispatcher()
    t = tracker("o-any", {**slots, **candidates}, text, "inform", started, candidates=candidates)
    result = slot_events(await ValidateCampEnrollmentForm().run(dispatcher, t, DOMAIN))
    assert result["camp_facts_confirm"] is True and result[slot] == value
    assert "请回复“对”确认" not in said(dispatcher)
