"""A form left for another flow, and "继续" back to it (issue 21, item 2), through the whole stack:
the booking left for the camp comes back with its topic and session kept; the camp enrolment left
for the assessment comes back at the phone question; "接着约刚才那个" restores too; a message that
starts another flow is never taken as the name.

Gateway → trained Rasa → action server (actions/forms.py, actions/form_pause.py).
The bot's own words are read from domain.yml, not copied here.
"""
from __future__ import annotations

import re

import pytest
import yaml

from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.stack

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
_CODE = re.compile(r"预约码[：:]\s*([A-Z0-9]{4,12})")


def said(response: str) -> str:
    return RESPONSES[response][0]["text"]


async def up_to_the_name(user) -> None:
    """A booking of 简历指导 with the latest session offered chosen (beyond the cancel cut-off at any hour)."""
    reply = await user.say("我想约个老师做简历指导")
    if "请选择想预约的指导类型" in reply:
        reply = await user.say("1")
    offers = await user.say("最近")
    assert "可预约的场次" in offers, user.transcript
    numbers = re.findall(r"^(\d+)\. ", offers, flags=re.M)
    assert said("utter_ask_booking_name") in await user.say(numbers[-1]), user.transcript


async def finish_booking(user, name: str) -> str:
    assert said("utter_ask_booking_phone") in await user.say(name), user.transcript
    reply = await user.say("13800138000")  # typed in the form: booked on this answer
    match = _CODE.search(reply)
    assert match and "简历" in reply, user.transcript
    return match.group(1)


async def test_the_booking_left_for_the_camp_comes_back_on_jixu_with_its_answers(chat):
    user = chat()
    await up_to_the_name(user)
    reply = await user.say("等一下，我想先报名实训营")
    assert "“继续”" in reply and said("utter_ask_camp_name") in reply, user.transcript
    assert "姓名需要是" not in reply  # not taken as the name
    reply = await user.say("不报了")  # nothing answered in the camp form yet: it just stops
    reply = await user.say("继续")
    assert reply.rstrip().endswith(said("utter_ask_booking_name")), user.transcript
    code = await finish_booking(user, "宋佳琪")
    booking = await user.services.booking.get(code)
    assert booking is not None and booking.name == "宋佳琪"


async def test_jiezhe_yue_gangcai_naage_restores_the_booking_after_the_assessment(chat):
    user = chat()
    await up_to_the_name(user)
    reply = await user.say("先别约了，我想做个职业测评")
    assert "“继续”" in reply, user.transcript
    reply = await user.say("接着约刚才那个")
    assert said("utter_ask_booking_name") in reply and "可预约的场次" not in reply, user.transcript
    await finish_booking(user, "邱明远")


async def test_the_camp_enrolment_left_for_the_assessment_comes_back_at_the_phone_question(chat):
    user = chat()
    assert said("utter_ask_camp_name") in await user.say("我想报个实训营"), user.transcript
    assert said("utter_ask_camp_mobile") in await user.say("纪晓岚"), user.transcript
    reply = await user.say("先帮我做个职业测评吧")
    assert "实训营报名" in reply and "“继续”" in reply, user.transcript
    reply = await user.say("继续")
    assert reply.rstrip().endswith(said("utter_ask_camp_mobile")), user.transcript
