"""An enrolment made for someone else (actions/camp_for_whom.py): the facts said about them fill their
form, and the user's own profile is left alone."""
from __future__ import annotations

from datetime import datetime

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.camp as camp_actions
from actions import runtime
from actions.camp import ActionCampEnrollStart
from actions.camp_submit import ActionCampEnrollSubmit
from actions.camp_for_whom import enrols_someone_else, facts_said_for_them
from actions.flow_start import ENROL_START
from bot.clock import SHANGHAI, FrozenClock
from bot.services.profiles import ProfileStore
from tests.actions.test_camp import DOMAIN, slot_events, tracker

DAY = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def frozen(monkeypatch, action_runtime):
    monkeypatch.setattr(camp_actions, "clock", FrozenClock(DAY))
    yield


def conversation(sender: str, said: list, latest: str, **kw):
    """A tracker whose earlier user messages are `said`, the latest `latest`."""
    t = tracker(sender, text=latest, intent="enroll_camp", **kw)
    t.events = [{"event": "user", "text": text} for text in said] + t.events
    return t


def test_a_request_for_a_son_or_a_brother_is_for_someone_else_and_ones_own_is_not():
    assert enrols_someone_else(tracker("w1", text="那个实训营 给俺儿报一个"), starting=True)
    assert enrols_someone_else(tracker("w2", text="帮俺弟报个实训营 他19"), starting=True)
    assert not enrols_someone_else(tracker("w3", text="给俺报上吧 俺22"), starting=True)


def test_the_facts_said_about_a_son_or_a_daughter_are_theirs():
    mom = conversation("w4", ["俺儿子今年20了 高中毕业就在家待着 俺家在潍坊"], "给他报个实训营")
    assert facts_said_for_them(mom, DAY.date())["camp_age"] == "20"
    dad = conversation("w5", ["俺闺女在青岛科技大学上大四 2027年毕业"], "中 给她报上吧")
    found = facts_said_for_them(dad, DAY.date())
    assert found["camp_school"] == "青岛科技大学" and found["camp_grad_year"] == "2027"
    # the user's own words are not someone else's facts
    own = conversation("w6", ["俺自己28了 想找个活"], "给俺弟报个实训营")
    assert "camp_age" not in facts_said_for_them(own, DAY.date())


async def test_the_form_for_a_son_takes_his_age_not_the_mothers_profile():
    profiles = ProfileStore(runtime.redis(), runtime.settings())
    await profiles.update("w7", {"name": "王秀兰", "phone": "13900001234", "age": "46", "identity": "其他"})
    mom = conversation("w7", ["俺儿子今年20了 高中毕业就在家待着"], "那个实训营 给俺儿报一个", active=False)
    slots = slot_events(await ActionCampEnrollStart().run(CollectingDispatcher(), mom, DOMAIN))
    assert slots["camp_age"] == "20"
    assert "camp_name" not in slots and "camp_mobile" not in slots and slots.get("camp_identity") != "其他"


async def test_enrolling_a_son_leaves_the_mothers_profile_as_it_was():
    profiles = ProfileStore(runtime.redis(), runtime.settings())
    await profiles.update("w8", {"name": "王秀兰", "phone": "13900001235"})
    filled = {"camp_name": "张子豪", "camp_mobile": "13900005678", "camp_identity": "失业青年", "camp_age": "20",
              "camp_city": "潍坊", "camp_cohort": "online-2026-12"}
    t = conversation("w8", ["那个实训营 给俺儿报一个"], "潍坊", slots=filled)
    t.events.insert(1, {"event": "action", "name": ENROL_START})
    await ActionCampEnrollSubmit().run(CollectingDispatcher(), t, DOMAIN)
    profile = await profiles.get("w8")
    assert profile["name"] == "王秀兰" and profile["phone"] == "13900001235" and "age" not in profile
