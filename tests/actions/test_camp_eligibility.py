"""Eligibility asked as a question, through the camp actions on real Redis: answered from the rules
before any personal data is asked, remembered for the enrolment form, completed by a later fact."""
from __future__ import annotations

import re

import pytest
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

import actions.camp as camp_actions
from actions import runtime
from actions.camp import CONSENT, ActionCampEnrollStart
from actions.camp_info import ActionCampInfo
from bot.clock import FrozenClock
from bot.services.eligibility import check_eligibility, load_rules
from actions.fallback import ActionCoreFallback
from actions.flow_start import camp_follow_up
from bot.services.eligibility_answer import AGE_QUESTION, ENROL_NOW, IDENTITY_QUESTION, YEAR_QUESTION
from bot.services.profiles import ProfileStore
from tests.helpers.action_tracker import SENDER, bot_said, entities, make_tracker, run_action


@pytest.fixture(autouse=True)
def frozen(monkeypatch, action_runtime):
    clock = FrozenClock()  # now, whatever the day: expectations come from the rules below
    monkeypatch.setattr(camp_actions, "clock", clock)
    yield clock


def open_cohorts():
    return camp_actions.current_catalogue().open_cohorts(camp_actions.today())


def accepting(profile) -> list:
    rules, day = load_rules(), camp_actions.today()
    return [c for c in open_cohorts() if check_eligibility(profile, c, day, rules=rules).eligible]


def said(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


async def test_an_age_question_is_answered_from_the_rules_and_remembered():
    messages, slots = await run_action(ActionCampInfo(), make_tracker("俺35了还能报实训营不", "ask_camp_info"))
    text = said(messages)
    youth_line = next(line for line in text.splitlines() if line.startswith("· 失业青年"))
    for cohort in open_cohorts():  # each cohort on the 失业青年 line as the rules decide for a 35-year-old
        fits = cohort in accepting({"identity": "失业青年", "age": 35})
        said_yes = re.search(rf"(各期|{cohort.title}[^；]*)可报", youth_line) is not None
        assert said_yes == fits, (cohort.id, youth_line)
    assert text.startswith("按您的情况（35岁）：") and "身份" in text
    assert "姓名" not in text and "手机" not in text and CONSENT not in text
    assert slots == {"camp_age": "35", "camp_facts_confirm": True}  # said back: not confirmed again


async def test_a_later_fact_completes_the_earlier_ones():
    earlier = {"camp_age": "30"}
    tracker = make_tracker("我是失业青年", "inform", entities(identity="失业青年"), earlier, bot_said("action_camp_info", "我30岁能报吗"))
    messages, slots = await run_action(ActionCampInfo(), tracker)
    text = said(messages)
    taking = accepting({"identity": "失业青年", "age": 30})
    assert taking and text.startswith("按您的情况（30岁、失业青年）：可以报名。"), text
    assert all(c.title in text for c in taking) and "回复“报名”" in text
    assert slots == {"camp_identity": "失业青年", "camp_facts_confirm": True}


async def test_the_profile_answers_what_the_message_does_not_say():
    last_year = str(camp_actions.today().year - 1)
    await ProfileStore(runtime.redis(), runtime.settings()).update(
        SENDER, {"identity": "离校未就业毕业生", "graduation_year": last_year, "employed": "是"}
    )
    messages, _ = await run_action(ActionCampInfo(), make_tracker("我这种情况符合条件吗", "ask_camp_info"))
    text = said(messages)
    assert "已就业" in text and "暂不能报名" in text and "转人工" in text, text
    assert accepting({"identity": "离校未就业毕业生", "graduation_year": last_year, "employed": "是"}) == []


async def test_camp_questions_without_eligibility_still_get_the_camp_information():
    messages, slots = await run_action(ActionCampInfo(), make_tracker("实训营是干什么的", "ask_camp_info"))
    text = said(messages)
    assert "招收对象" in text and all(c.label in text for c in open_cohorts()) and slots == {}


async def test_may_i_read_as_an_enrolment_wish_is_answered_and_starts_no_form():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("大专毕业两年了能参加不", "enroll_camp")
    events = await ActionCampEnrollStart().run(dispatcher, tracker, {})
    text = said(dispatcher.messages)
    graduated = camp_actions.today().year - 2
    taking = accepting({"identity": "离校未就业毕业生", "graduation_year": graduated, "education": "大专"})
    assert text.startswith(f"按您的情况（大专、{graduated}年毕业）：")
    assert ("可以报名" in text) == bool(taking) and all(c.title in text or "各期" in text for c in taking)
    assert CONSENT not in text and "姓名" not in text  # no form, no consent notice, no name asked
    assert [e["name"] for e in events if e.get("event") == "followup"] == ["action_listen"]
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    # the identity was inferred: the form asks it; the year was said back, so it is not confirmed again
    assert slots == {"camp_grad_year": str(graduated), "camp_facts_confirm": True}


async def test_an_enrolment_wish_with_facts_starts_the_form_with_them():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("我是失业青年，今年24，帮我报名", "enroll_camp")
    events = await ActionCampEnrollStart().run(dispatcher, tracker, {})
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert slots["camp_identity"] == "失业青年" and slots["camp_age"] == "24"
    assert CONSENT in said(dispatcher.messages)
    # the facts said are shown back once by the form (actions/profile_confirm.py), not asked again
    assert "camp_facts_confirm" in slots and slots["camp_facts_confirm"] is None
    assert not any(e.get("event") == "followup" for e in events)


@pytest.mark.parametrize("answer,identity", [("没工作", "失业青年"), ("还没上班", "失业青年"), ("上班了", "在职人员"), ("4", "失业青年")])
def test_the_form_reads_identity_words_the_same_way(answer, identity):
    assert camp_actions.parse_identity(answer) == identity


@pytest.mark.parametrize("answer,identity", [
    ("在家闲着 木干啥", "失业青年"), ("刚辞职", "失业青年"), ("辞职了 现在没工作", "失业青年"),
    ("在家待着呢 没活干", "失业青年"), ("失业 找不着活", "失业青年"), ("待业在家", "失业青年"),
    ("毕业了还木就业", "离校未就业毕业生"), ("去年毕业的 木找着工作", "离校未就业毕业生"),
    ("离校了没找到工作", "离校未就业毕业生"), ("大四了", "在校生"), ("我是应届毕业生", "应届毕业生"),
])
def test_an_identity_described_in_everyday_words_answers_the_question(answer, identity):
    today = camp_actions.today()
    assert camp_actions.is_identity_answer(answer), answer
    assert camp_actions.parse_identity(answer, today) == identity


@pytest.mark.parametrize("text", ["失业金怎么领", "我想辞职 能报吗", "辞职了失业金咋领", "干啥的都行",
                                  "俺在家闲着 想问问哪有招聘会 恁知道不"])
def test_a_question_with_identity_words_is_no_identity_answer(text):
    assert not camp_actions.is_identity_answer(text)


@pytest.mark.parametrize("text", ["13970353847", "对", "王磊", "", "不知道"])
def test_no_identity_in_an_answer_to_another_question(text):
    # the identity reader also tries answers given to the question before it (actions/forms.py)
    assert camp_actions.parse_identity(text, camp_actions.today()) is None


@pytest.mark.parametrize("text", ["实训营能给俺报上不", "那个实训营帮我报一个呗",
                                  "训练营怎么报名啊 俺在日照", "那个实训营咋报"])  # how to join: by joining
async def test_a_request_to_be_signed_up_read_as_a_camp_question_starts_the_enrolment(text):
    dispatcher = CollectingDispatcher()
    events = await ActionCampInfo().run(dispatcher, make_tracker(text, "ask_camp_info"), {})
    assert dispatcher.messages == []  # no description: the enrolment's start speaks
    assert events == [{"event": "followup", "timestamp": None, "name": "action_camp_enroll_start"}]


async def test_a_bare_number_after_the_answer_asked_for_the_age_is_the_age():
    first = "俺初中毕业在家待业，实训营收不收"
    messages, _ = await run_action(ActionCampInfo(), make_tracker(first, "ask_camp_info"))
    asked = said(messages)
    assert AGE_QUESTION in asked.splitlines()[-1]  # one question, the last line (the age decides it)
    earlier = [{"event": "user", "text": first, "parse_data": {"text": first}},
               {"event": "action", "name": "action_camp_info"}, {"event": "bot", "text": asked},
               {"event": "action", "name": "action_listen"}]
    # NLU did not tag the number: the question the bot asked makes it the age
    messages, slots = await run_action(ActionCampInfo(), make_tracker("21", "inform", [], {}, earlier))
    assert said(messages).startswith("按您的情况（21岁") and slots.get("camp_age") == "21"
    messages, slots = await run_action(ActionCampInfo(), make_tracker("2", "inform", [], {}, earlier))
    assert "camp_age" not in slots  # a list number, not an age


async def test_may_i_said_as_xing_bu_with_facts_and_a_wish_is_answered_first():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("我这情况行不 前年大专毕业的 一直木个正经工作 想参加那个求职实训营", "enroll_camp")
    events = await ActionCampEnrollStart().run(dispatcher, tracker, {})
    text = said(dispatcher.messages)
    assert text.startswith("按您的情况") and CONSENT not in text and "姓名" not in text
    assert [e["name"] for e in events if e.get("event") == "followup"] == ["action_listen"]


async def test_the_major_said_with_an_eligibility_question_is_kept_for_the_form():
    messages, slots = await run_action(ActionCampInfo(), make_tracker("俺是25届的 学的会计 还木上班 实训营还收不", "ask_camp_info"))
    assert said(messages).startswith("按您的情况")
    assert slots["camp_major"] == "会计"


@pytest.mark.parametrize("text, needle", [("要是人满了咋整 能候补不", "候补"), ("去的时候要带啥东西不 身份证要不要", "通知")])
async def test_a_camp_question_about_a_full_cohort_or_what_to_bring_gets_its_own_answer(text, needle):
    messages, slots = await run_action(ActionCampInfo(), make_tracker(text, "ask_camp_info"))
    assert needle in said(messages) and "招收对象" not in said(messages) and slots == {}


async def test_how_to_join_with_whether_one_may_is_answered_before_enrolling():
    messages, _ = await run_action(ActionCampInfo(), make_tracker("实训营咋报 俺都30了还能报不", "ask_camp_info"))
    assert said(messages).startswith("按您的情况（30岁）")  # the eligibility answer, not the enrolment's start


async def test_the_subscribe_instruction_ending_a_camp_question_turns_pushes_back_on():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("还是想收到实训营开新班的消息 订阅", "ask_camp_info")
    events = await ActionCampInfo().run(dispatcher, tracker, {})
    assert events == [{"event": "followup", "timestamp": None, "name": "action_subscribe"}]


async def test_a_student_asked_one_question_whose_answer_says_yes_is_asked_whether_to_enrol_now():
    """"俺是学生 能报…不": the year decides, asked as the form asks it; "{year}届" to it: a yes and the
    offer to enrol now; "对" to that starts the enrolment (a question the user can answer at each step)."""
    first = "俺是学生 能报那个求职实训营不"
    messages, _ = await run_action(ActionCampInfo(), make_tracker(first, "ask_camp_info"))
    asked = said(messages)
    assert asked.splitlines()[-1].startswith(YEAR_QUESTION)
    earlier = [{"event": "user", "text": first, "parse_data": {"text": first}},
               {"event": "action", "name": "action_camp_info"}, {"event": "bot", "text": asked},
               {"event": "action", "name": "action_listen"}]
    final_year = camp_actions.today().year + (camp_actions.today().month >= 9)
    reply = make_tracker(f"{final_year}届", "nlu_fallback", [], {"camp_identity": "在校生"}, earlier)
    assert camp_follow_up(reply) == [FollowupAction("action_camp_info")]  # whatever NLU made of it
    messages, slots = await run_action(ActionCampInfo(), make_tracker(f"{final_year}届", "inform", [], {"camp_identity": "在校生"}, earlier))
    offered = said(messages)
    assert "可以报名" in offered and offered.endswith(ENROL_NOW) and slots["camp_grad_year"] == str(final_year)
    yes = make_tracker("对", "affirm", events=earlier[:1] + [{"event": "action", "name": "action_camp_info"},
                                                                {"event": "bot", "text": offered}, {"event": "action", "name": "action_listen"}])
    dispatcher = CollectingDispatcher()
    assert FollowupAction("action_camp_enroll_start") in await ActionCoreFallback().run(dispatcher, yes, {})


async def test_a_list_number_after_the_identity_question_is_the_identity_listed():
    messages, _ = await run_action(ActionCampInfo(), make_tracker("俺22 实训营俺能报不", "ask_camp_info"))
    asked = said(messages)
    listed = dict(re.findall(r"^(\d)\. (\S+)$", asked, re.M))
    assert IDENTITY_QUESTION in asked and listed
    number = next(n for n, name in listed.items() if name == "失业青年")
    earlier = [{"event": "user", "text": "俺22 实训营俺能报不"}, {"event": "action", "name": "action_camp_info"},
               {"event": "bot", "text": asked}, {"event": "action", "name": "action_listen"}]
    _, slots = await run_action(ActionCampInfo(), make_tracker(number, "inform", [], {"camp_age": "22"}, earlier))
    assert slots["camp_identity"] == "失业青年"
