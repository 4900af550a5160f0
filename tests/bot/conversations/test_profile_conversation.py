"""A profile that listens (issue 21, item 1) through the whole stack: facts said in passing are read
by the NLU (bot/rasa_server/fact_components.py), never asked again, shown back once for confirmation and
correctable; a school gives a city; an earlier district does not stick to a later search.

Years are derived from today (the stack runs on the real clock).
"""
from __future__ import annotations

from datetime import date

import pytest
import yaml

from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.stack

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
ASKS_GRAD_YEAR = RESPONSES["utter_ask_camp_grad_year"][0]["text"]
ASKS_IDENTITY = RESPONSES["utter_ask_camp_identity"][0]["text"]
ASKS_SCHOOL = RESPONSES["utter_ask_camp_school"][0]["text"]
ASKS_NAME = RESPONSES["utter_ask_camp_name"][0]["text"]
LAST_YEAR = date.today().year - 1


async def test_facts_stated_early_are_confirmed_once_and_never_asked_again(chat):
    user = chat()
    await user.say("我去年毕业的，到现在还没找到工作")
    await user.say("我是山东师范大学的")
    reply = await user.say("我想报名实训营")
    assert f"您是{LAST_YEAR}届离校未就业毕业生" in reply and "山东师范大学" in reply and "对吗" in reply, user.transcript
    reply = await user.say("对")
    assert ASKS_NAME in reply, user.transcript
    await user.say("李晓梅")
    reply = await user.say("13800138000")
    for question in (ASKS_IDENTITY, ASKS_GRAD_YEAR, ASKS_SCHOOL):
        assert question not in "\n".join(user.transcript), user.transcript
    assert "专业" in reply, user.transcript  # the next thing it does not know


async def test_a_confirmation_is_corrected_with_no_its(chat):
    user = chat()
    reply = await user.say("我是应届生，想报名实训营")
    assert "应届毕业生" in reply and "对吗" in reply, user.transcript
    reply = await user.say("不对，我是往届的，前年毕业")
    assert "已更正" in reply, user.transcript
    assert ASKS_NAME in reply, user.transcript
    await user.say("周小川")
    await user.say("13900139000")
    transcript = "\n".join(user.transcript)
    assert ASKS_GRAD_YEAR not in transcript and ASKS_IDENTITY not in transcript, user.transcript


async def test_last_year_is_an_answer_to_the_graduation_year_question(chat):
    user = chat()
    reply = await user.say("报名实训营")
    if "对吗" in reply:  # an earlier test may share nothing with this user, but be safe
        reply = await user.say("对")
    assert ASKS_NAME in reply, user.transcript
    await user.say("孙浩然")
    assert ASKS_IDENTITY in await user.say("13700137000"), user.transcript
    assert ASKS_GRAD_YEAR in await user.say("3"), user.transcript
    reply = await user.say("去年")
    assert ASKS_SCHOOL in reply and "4位数" not in reply, user.transcript


async def test_a_school_gives_the_city_of_a_search_without_a_place(chat):
    user = chat()
    await user.say("我是青岛科技大学的学生")
    reply = await user.say("附近有就业服务站吗")
    assert reply.startswith("青岛市"), user.transcript


async def test_an_earlier_district_does_not_stick_to_a_later_search(chat):
    user = chat()
    reply = await user.say("威海环翠区的服务点")
    assert reply.startswith("威海市环翠区"), user.transcript
    reply = await user.say("附近有零工市场吗")
    assert "环翠区" not in reply.splitlines()[0], user.transcript
