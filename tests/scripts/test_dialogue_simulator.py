"""The simulated user of agenda conversations (scripts/dialogue_simulator.py), decided on the bot's
real wording: domain.yml's responses and the texts the actions write (tests/helpers/bot_words.py),
not sentences made up for the test."""
from __future__ import annotations

import asyncio
import importlib
import itertools
import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.clock import FrozenClock
from tests.helpers.bot_words import response_text, said_in

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

corpus = importlib.import_module("dialogue_corpus")
simulator = importlib.import_module("dialogue_simulator")

PERSONA = corpus.Persona({"age": "20", "phone": "{phone}", "identity": "失业青年", "city": "潍坊", "name": "刘子涵"})
# The prompt each fact is asked with (domain.yml responses).
PROMPTS = {
    "age": "utter_ask_camp_age", "graduation_year": "utter_ask_camp_grad_year", "identity": "utter_ask_camp_identity",
    "school": "utter_ask_camp_school", "city": "utter_ask_camp_city", "name": "utter_ask_camp_name",
    "phone": "utter_ask_camp_mobile", "topic": "utter_ask_booking_topic", "time": "utter_ask_booking_when",
    "major": "utter_ask_camp_major",
}


def answer(reply: str, persona=PERSONA):
    return simulator.next_answer(reply, persona)


def test_every_fact_the_forms_ask_for_is_recognised_by_its_prompt():
    assert set(PROMPTS) == set(corpus.ASKS)
    for fact, response in PROMPTS.items():
        assert simulator.asked_fact(response_text(response)) == fact, fact
    assert simulator.asked_fact(response_text("utter_ask_booking_name")) == "name"
    assert simulator.asked_fact(response_text("utter_ask_booking_phone")) == "phone"


def test_a_fact_the_persona_knows_is_typed_back_and_one_it_lacks_gets_bu_zhidao():
    assert answer(response_text("utter_ask_camp_age")) == simulator.Answer("fact", "20", "age")
    # the identity question is a numbered list too: the fact comes first
    assert answer(response_text("utter_ask_camp_identity")) == simulator.Answer("fact", "失业青年", "identity")
    assert answer(response_text("utter_ask_camp_mobile")).text == "{phone}"  # filled by the player
    assert answer(response_text("utter_ask_booking_topic")) == simulator.Answer("unknown", "不知道", "topic")
    assert answer(response_text("utter_ask_camp_major")) == simulator.Answer("unknown", "不知道", "major")


def test_of_several_questions_in_one_reply_the_last_one_is_answered():
    why_then_ask = response_text("utter_why_camp_mobile") + "\n" + response_text("utter_ask_camp_mobile")
    assert simulator.asked_fact(why_then_ask) == "phone"
    corrected_then_next = "好的，已更正。\n" + response_text("utter_ask_camp_city")
    assert answer(corrected_then_next) == simulator.Answer("fact", "潍坊", "city")


@pytest.mark.parametrize("source, marker", [
    ("actions/profile_confirm.py", "对吗？回复"),  # the prefilled facts shown back
    ("actions/profile_confirm.py", "请回复“对”确认"),
    ("actions/form_repair.py", "确定放弃吗"),
    ("actions/booking/manage.py", "确定取消吗？回复"),  # with a one-line list "1. …": still a yes/no
    ("actions/booking/form.py", "回复“确认”提交预约"),
    ("actions/booking/form.py", "加入候补名单"),
])
def test_a_confirmation_gets_the_personas_yes(source: str, marker: str):
    text = said_in(source, marker)
    assert simulator.is_confirmation(text), text
    assert answer(text) == simulator.Answer("confirm", "对")
    assert answer(text, corpus.Persona(confirm="确定")).text == "确定"


@pytest.mark.parametrize("source, marker", [
    ("actions/camp_questions.py", "请选择期次"),
    ("actions/camp.py", "请回复列表中的期次序号"),
    ("actions/booking/form.py", "请回复序号选择"),
    ("actions/booking/form.py", "之间的序号选择场次"),
    ("actions/booking/manage.py", "请回复要取消的序号"),
    ("bot/services/knowledge/replies.py", "回复序号就可以"),
])
def test_a_numbered_list_to_pick_from_gets_the_personas_choice(source: str, marker: str):
    text = said_in(source, marker) + "\n1. 示例一\n2. 示例二"
    assert simulator.is_choice(text), text
    assert answer(text) == simulator.Answer("choose", "1")
    assert answer(text, corpus.Persona(choose="2")).text == "2"


@pytest.mark.parametrize("text", [
    said_in("actions/booking/manage.py", "需要改约其他时间吗"),  # an offer of a new booking, not a yes to ours
    said_in("actions/fallback.py", "好的，不办了"),
    response_text("utter_thank"),  # "还有什么可以帮您的吗？"
    said_in("actions/booking/quick.py", "先为您选了第1场"),  # the soonest taken; "随时回复序号" to change it
    said_in("actions/booking/manage.py", "按序号"),  # the bookings listed: cancelling is the user's call
    said_in("actions/booking/common.py", "预约成功！"),
    said_in("bot/services/camp.py", "报名成功！"),
    response_text("utter_greet"),  # a numbered list of what the bot can do, nothing to pick
    response_text("utter_why_camp_identity"),  # "按身份确定招收对象": 确定 not in a question
    response_text("utter_points_ask_city"),  # a question, but not for a fact of ASKS
])
def test_a_reply_that_asks_nothing_the_user_can_answer_ends_the_simulation(text: str):
    assert answer(text) is None, text


# ---------------------------------------------------------------- the player's loop, on a scripted bot
checks = importlib.import_module("dialogue_checks")


class ScriptedBot:
    """A WeChat user whose bot answers each message with the next of `replies` (the bot's own
    texts), asking in an order of its own; records what the user sent."""

    def __init__(self, replies) -> None:
        self.replies = iter(replies)
        self.said: list = []
        self.services = SimpleNamespace(clock=FrozenClock(datetime(2031, 3, 2, 10, 0)))
        self.openid = "o-sim-test"

    async def say(self, text: str) -> str:
        self.said.append(text)
        return next(self.replies, "")

    async def pushed(self) -> list:
        return []

    async def last_turn(self) -> tuple:
        return "inform", ["action_listen"]


def agenda(tmp_path: Path, body: str) -> "corpus.Conversation":
    path = tmp_path / "sim.yml"
    path.write_text("split: dev\nconversations:\n" + body, encoding="utf-8")
    [conversation] = corpus.load_corpus([path])
    return conversation


def played(conversation, bot: ScriptedBot):
    return asyncio.run(checks.play(conversation, bot))


PARENT = """  - id: sim-parent
    category: profile
    task: 家长替儿子报名
    persona: {age: 20, identity: 失业青年, city: 潍坊, name: 刘子涵, phone: "{phone}"}
    turns:
      - say: 俺儿子20了 想给他报个实训营
        states: [age]
"""
COHORTS = said_in("actions/camp_questions.py", "请选择期次") + "1. 示例期次，截止3月9日"
ENROLLED = said_in("bot/services/camp.py", "报名成功！").replace("{…}", "ABC123", 1)


def test_the_simulated_user_answers_whatever_the_bot_asks_in_its_order_then_stops(tmp_path: Path):
    bot = ScriptedBot([response_text(r) for r in (
        "utter_ask_camp_city", "utter_ask_camp_identity", "utter_ask_camp_name", "utter_ask_camp_mobile",
    )] + [COHORTS, ENROLLED])
    outcome = played(agenda(tmp_path, PARENT), bot)
    assert outcome.completed, outcome.failures
    assert bot.said[:5] == ["俺儿子20了 想给他报个实训营", "潍坊", "失业青年", "刘子涵", bot.said[4]]
    assert bot.said[4].startswith("1") and len(bot.said[4]) == 11 and bot.said[5:] == ["1"]
    assert (outcome.simulated, outcome.unknown) == (5, 0)
    assert outcome.transcript[2] == "用户: (sim) 潍坊" and outcome.transcript[0].startswith("用户: 俺儿子")


def test_a_fact_asked_again_after_the_simulated_user_gave_it_fails_the_standing_check(tmp_path: Path):
    city = response_text("utter_ask_camp_city")
    outcome = played(agenda(tmp_path, PARENT), ScriptedBot([city, city, ENROLLED]))
    assert [(f.turn, f.sim, f.check) for f in outcome.failures] == [(1, 1, "not asked again")]


def test_an_at_turn_is_sent_instead_of_the_answer_when_the_bot_first_asks_for_that_fact(tmp_path: Path):
    body = PARENT + "      - say: 为啥要手机号\n        at: phone\n        expect: {has_any: [通知]}\n"
    ask_phone = response_text("utter_ask_camp_mobile")
    why_then_ask = response_text("utter_why_camp_mobile") + "\n" + ask_phone  # one reply: the form asks again
    bot = ScriptedBot([response_text("utter_ask_camp_name"), ask_phone, why_then_ask, ENROLLED])
    outcome = played(agenda(tmp_path, body), bot)
    assert outcome.completed, outcome.failures
    assert bot.said[1:3] == ["刘子涵", "为啥要手机号"] and bot.said[3].startswith("1")


def test_an_at_fact_the_bot_never_asks_for_fails_with_at_and_the_turn_is_not_sent(tmp_path: Path):
    body = PARENT + "      - say: 学校填啥都行吗\n        at: school\n"
    bot = ScriptedBot([response_text("utter_ask_camp_name"), ENROLLED])
    outcome = played(agenda(tmp_path, body), bot)
    assert [(f.turn, f.check) for f in outcome.failures] == [(2, "at")]
    assert "never asked for school" in outcome.failures[0].got and "学校填啥都行吗" not in bot.said


def test_an_at_done_turn_waits_until_the_bot_asks_nothing_more(tmp_path: Path):
    body = PARENT + "      - say: 俺儿子报上了没 查一下\n        at: done\n"
    bot = ScriptedBot([response_text("utter_ask_camp_name"), response_text("utter_ask_camp_mobile"), ENROLLED,
                       "您报名的期次：…"])
    outcome = played(agenda(tmp_path, body), bot)
    assert outcome.completed, outcome.failures
    assert bot.said[1] == "刘子涵" and bot.said[3] == "俺儿子报上了没 查一下" and len(bot.said) == 4


def test_an_at_done_turn_fails_with_at_when_the_bot_keeps_asking(tmp_path: Path):
    body = PARENT + "      - say: 俺儿子报上了没 查一下\n        at: done\n"
    outcome = played(agenda(tmp_path, body), ScriptedBot(itertools.repeat(COHORTS)))
    assert [(f.turn, f.check) for f in outcome.failures] == [(2, "at")]
    assert "kept asking" in outcome.failures[0].got


def test_a_bot_that_keeps_asking_is_stuck_after_eight_simulated_answers(tmp_path: Path):
    bot = ScriptedBot(itertools.repeat(COHORTS))
    outcome = played(agenda(tmp_path, PARENT), bot)
    assert [f.check for f in outcome.failures] == ["stuck"]
    assert bot.said[1:] == ["1"] * simulator.SIM_LIMIT


def test_a_fact_the_persona_lacks_is_answered_bu_zhidao_and_counted(tmp_path: Path):
    bot = ScriptedBot([response_text("utter_ask_camp_school"), ENROLLED])
    outcome = played(agenda(tmp_path, PARENT), bot)
    assert bot.said[1:] == ["不知道"] and (outcome.simulated, outcome.unknown) == (1, 1)


def test_a_conversation_without_persona_is_played_as_written(tmp_path: Path):
    scripted = PARENT.replace("    persona: {age: 20, identity: 失业青年, city: 潍坊, name: 刘子涵, phone: \"{phone}\"}\n", "")
    bot = ScriptedBot([response_text("utter_ask_camp_city"), ENROLLED])
    outcome = played(agenda(tmp_path, scripted), bot)
    assert bot.said == ["俺儿子20了 想给他报个实训营"] and outcome.completed and outcome.simulated == 0
