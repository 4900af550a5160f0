"""A message right after a booking or enrolment went through that asks for it again (actions/done_already.py)."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.done_already import done_already_text, facts_after_enrolment, note_facts_after_enrolment
from bot.services.profiles import ProfileStore
from tests.helpers.action_tracker import make_tracker

ENROLLED = "报名成功！报名编号：WF123456\n潍坊第5期（1月25日–1月29日，潍坊）\n地点：示例"
BOOKED = "预约成功！预约码：AB12CD\n简历诊断与优化工作坊\n时间：示例"


@pytest.mark.parametrize("text", ["就报潍坊那个", "报那期吧", "嗯 就这个"])
def test_the_cohort_asked_for_again_right_after_enrolling_is_said_to_be_done(text: str) -> None:
    said = done_already_text(make_tracker(text, "nlu_fallback"), ENROLLED)
    assert said is not None and "WF123456" in said and "潍坊第5期" in said


@pytest.mark.parametrize("text", ["取消报名", "那期啥时候开始？", "俺报的在哪看", "俺还想再报个别的实训营看看行不行"])
def test_other_messages_after_enrolling_are_left_to_the_bot(text: str) -> None:
    assert done_already_text(make_tracker(text, "nlu_fallback"), ENROLLED) is None


def test_a_yes_after_the_booking_was_made_says_it_is_done() -> None:
    assert "AB12CD" in done_already_text(make_tracker("确认", "affirm"), BOOKED)
    assert done_already_text(make_tracker("确认", "affirm"), "请确认预约信息：…") is None


def test_the_list_number_a_turn_after_the_one_cohort_was_taken_is_said_to_be_done() -> None:
    # the form took the only cohort that fit without listing it; the user still answers "1" later
    events = [{"event": "bot", "text": ENROLLED}, {"event": "user", "text": "失业青年"}, {"event": "bot", "text": "好的，记下了：…"}]
    said = done_already_text(make_tracker("1", "inform", events=events), "好的，记下了：…")
    assert said is not None and "WF123456" in said
    assert done_already_text(make_tracker("1", "inform", events=[{"event": "bot", "text": "好的，记下了：…"}]), "好的，记下了：…") is None


@pytest.mark.parametrize("text, kept", [
    ("对了 俺是学园林的 现在人在泰安", {"major": "园林", "city": "泰安"}),
    ("园林专业 人在泰安", {"major": "园林", "city": "泰安"}),
    ("忘了跟恁说 俺今年22", {"age": "22"}),
])
async def test_facts_said_right_after_the_enrolment_are_kept_on_the_profile_and_said_back(text, kept, action_runtime) -> None:
    entities = [{"entity": "age", "value": "22"}] if "22" in text else []
    tracker = make_tracker(text, "nlu_fallback", entities, events=[{"event": "bot", "text": ENROLLED}], sender=f"o-after-{len(text)}")
    assert facts_after_enrolment(tracker) == kept
    dispatcher = CollectingDispatcher()
    assert await note_facts_after_enrolment(dispatcher, tracker)
    said = dispatcher.messages[0]["text"]
    assert said.startswith("好的，记下了") and all(v in said for v in kept.values())
    profile = await ProfileStore(runtime.redis(), runtime.settings()).get(tracker.sender_id)
    assert all(profile[k] == v for k, v in kept.items())


@pytest.mark.parametrize("text", ["学园林的能找啥活", "园林专业 泰安有招聘会吗"])
def test_a_question_after_the_enrolment_is_no_statement_of_facts(text) -> None:
    assert facts_after_enrolment(make_tracker(text, "nlu_fallback", events=[{"event": "bot", "text": ENROLLED}])) is None


def test_facts_long_after_any_enrolment_are_left_to_the_other_answers() -> None:
    assert facts_after_enrolment(make_tracker("俺是学园林的", "nlu_fallback", events=[{"event": "bot", "text": "您好"}])) is None
