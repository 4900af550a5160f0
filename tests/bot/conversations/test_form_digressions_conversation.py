"""Side questions inside forms (issue 21, item 2) through the whole stack: a question asked while a
form waits for an answer is answered, the form asks the same question again, and then completes.

Gateway → trained Rasa (digression rules, forms' ignored intents) → action server (actions/forms.py).
The bot's own words are read from domain.yml and the knowledge base, not copied here.
"""
from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
import yaml

from bot.services.camp import EnrollmentStore, load_catalogue
from bot.services.knowledge.base import load_knowledge
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.stack

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
UNEMPLOYMENT_BENEFIT = load_knowledge().item("unemployment_insurance_benefit")
TAKEN_AS_ANSWER = ("格式不对", "请回复1-", "没太明白", "请重新输入", "没有识别出")
_CODE = re.compile(r"预约码[：:]\s*([A-Z0-9]{4,12})")


def said(response: str) -> str:
    return RESPONSES[response][0]["text"]


def not_taken_as_an_answer(reply: str) -> bool:
    return not any(marker in reply for marker in TAKEN_AS_ANSWER)


async def test_a_policy_question_inside_the_booking_form_is_answered_and_the_booking_completes(chat):
    user = chat()
    reply = await user.say("我想约个老师改简历")
    if "请选择想预约的指导类型" in reply:  # the topic was not understood from the request
        reply = await user.say("1")
    assert "什么时间" in reply, user.transcript
    assert "可预约的场次" in await user.say("最近"), user.transcript

    reply = await user.say("1")
    assert said("utter_ask_booking_name") in reply, user.transcript
    reply = await user.say("你是谁")
    assert said("utter_bot_challenge") in reply and said("utter_ask_booking_name") in reply, user.transcript
    assert not_taken_as_an_answer(reply), reply

    assert said("utter_ask_booking_phone") in await user.say("王晓明"), user.transcript
    reply = await user.say("失业金怎么领")
    assert f"【{UNEMPLOYMENT_BENEFIT.title}】" in reply, user.transcript
    assert reply.rstrip().endswith(said("utter_ask_booking_phone")), reply  # the same question again
    assert not_taken_as_an_answer(reply), reply

    reply = await user.say("为什么要手机号")
    assert said("utter_why_booking_phone") in reply, user.transcript
    assert reply.rstrip().endswith(said("utter_ask_booking_phone")), reply

    reply = await user.say("13800138000")  # typed in the form: booked on this answer
    match = _CODE.search(reply)
    assert "预约成功" in reply and match, user.transcript
    booking = await user.services.booking.get(match.group(1))
    assert booking is not None and (booking.name, booking.phone) == ("王晓明", "13800138000")


async def test_why_a_phone_number_inside_the_camp_form_is_explained_and_asked_again(chat):
    user = chat()
    reply = await user.say("我想报名实训营")
    assert said("utter_ask_camp_name") in reply, user.transcript
    assert said("utter_ask_camp_mobile") in await user.say("张晓明"), user.transcript

    reply = await user.say("为什么要手机号")
    assert said("utter_why_camp_mobile") in reply, user.transcript
    assert reply.rstrip().endswith(said("utter_ask_camp_mobile")), reply
    assert not_taken_as_an_answer(reply), reply

    phone = "137" + str(uuid.uuid4().int)[:8]  # one enrolment per phone and cohort: a fresh number
    reply = await user.say(phone)
    assert said("utter_ask_camp_identity") in reply, user.transcript
    # "失业金" mentions 失业 and is still a question, not the identity 失业青年
    reply = await user.say("失业金怎么领")
    assert f"【{UNEMPLOYMENT_BENEFIT.title}】" in reply, user.transcript
    assert reply.rstrip().endswith(said("utter_ask_camp_identity")), reply
    reply = await user.say("再说一遍")
    assert reply.strip() == said("utter_ask_camp_identity"), user.transcript

    assert "毕业" in await user.say("3"), user.transcript
    assert "学校" in await user.say(str(date.today().year - 1)), user.transcript
    assert "专业" in await user.say("山东理工大学"), user.transcript
    assert "城市" in await user.say("计算机科学与技术"), user.transcript
    reply = await user.say("潍坊")
    assert "请选择期次" in reply, user.transcript
    first = reply.splitlines()[1]
    catalogue = load_catalogue(user.services.settings.camp_cohorts_file, date.today())
    cohort = next(c for c in catalogue.open_cohorts(date.today()) if first.startswith(f"1. {c.label}"))
    reply = await user.say("1")
    assert "报名成功" in reply or "进入候补" in reply, user.transcript  # earlier tests may have filled the cohort
    record = await EnrollmentStore(user.services.redis, user.services.settings).find(user.openid, cohort.id)
    assert record is not None and record["code"] in reply
    assert record["phone"] == phone and record["identity"] == "离校未就业毕业生"
