"""Repairing a form in progress (issue 21, item 2) through the whole stack, the same in the booking
and the camp form: "算了" after an answer asks first and "继续" goes on where the form was;
"放弃" ends it; "不对，是…" corrects an earlier answer; "跳过" skips the optional 专业; a free-text
answer NLU could not place ("土木工程") stays the answer; codes typed in parts or inside a sentence.

Gateway → trained Rasa → action server (actions/forms.py, actions/form_repair.py).
The bot's own words are read from domain.yml, not copied here.
"""
from __future__ import annotations

import re
import uuid

import pytest
import yaml

from bot.clock import system_clock
from bot.services.camp import EnrollmentStore, load_catalogue
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.stack

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
_CODE = re.compile(r"预约码[：:]\s*([A-Z0-9]{4,12})")
QUIT_QUESTION = "确定放弃吗"


def said(response: str) -> str:
    return RESPONSES[response][0]["text"]


def fresh_phone() -> str:
    return "135" + str(uuid.uuid4().int)[:8]  # one enrolment per phone and cohort


async def choose_a_session(user, latest: bool = False) -> str:
    """A booking started and a session chosen (the first, or the `latest` offered: one that starts
    beyond the cancel cut-off at any hour); the bot's reply to the choice."""
    reply = await user.say("我想约一次简历指导")
    if "请选择想预约的指导类型" in reply:  # the topic was not understood from the request
        reply = await user.say("1")
    offers = await user.say("最近")
    assert "可预约的场次" in offers, user.transcript
    numbers = re.findall(r"^(\d+)\. ", offers, flags=re.M)
    return await user.say(numbers[-1] if latest else "1")


async def up_to_the_name(user) -> None:
    assert said("utter_ask_booking_name") in await choose_a_session(user), user.transcript


async def book(user, name: str) -> str:
    reply = await choose_a_session(user, latest=True)
    if said("utter_ask_booking_name") in reply:  # not yet on the profile: typed, booked on the phone
        assert said("utter_ask_booking_phone") in await user.say(name), user.transcript
        reply = await user.say("13800138000")
    else:  # the profile's name and phone: shown for confirmation first
        assert "请确认预约信息" in reply, user.transcript
        reply = await user.say("确认")
    match = _CODE.search(reply)
    assert match, user.transcript
    return match.group(1)


async def test_suanle_after_answers_asks_first_and_jixu_goes_on_with_the_answers_kept(chat):
    user = chat()
    await up_to_the_name(user)
    reply = await user.say("算了")
    assert QUIT_QUESTION in reply and "简历指导" in reply, user.transcript
    assert "已退出" not in reply
    reply = await user.say("继续")
    assert reply.strip() == said("utter_ask_booking_name"), user.transcript
    await user.say("黄一鸣")
    reply = await user.say("13800138000")  # typed in the form: booked on this answer
    match = _CODE.search(reply)
    assert match and "简历" in reply, user.transcript
    booking = await user.services.booking.get(match.group(1))
    assert booking is not None and booking.name == "黄一鸣"


async def test_giving_up_after_the_quit_question_books_nothing(chat):
    user = chat()
    await up_to_the_name(user)
    assert QUIT_QUESTION in await user.say("不弄了"), user.transcript
    assert "已退出预约" in await user.say("放弃"), user.transcript
    assert await user.services.booking.my_bookings(user.openid) == []


async def test_a_corrected_identity_a_skipped_major_and_a_corrected_phone_reach_the_enrolment(chat):
    user = chat()
    assert said("utter_ask_camp_name") in await user.say("我想报名实训营"), user.transcript
    await user.say("李静怡")
    assert said("utter_ask_camp_identity") in await user.say("13900000000"), user.transcript
    assert said("utter_ask_camp_age") in await user.say("4"), user.transcript  # 失业青年
    reply = await user.say("不对，我是应届毕业生")
    assert "已改为" in reply and said("utter_ask_camp_grad_year") in reply, user.transcript
    assert said("utter_ask_camp_school") in await user.say(str(system_clock().date().year)), user.transcript
    reply = await user.say("山东建筑大学")
    # still at school: the school's city (济南) is said back, so no city question follows
    assert "学校所在地济南" in reply and said("utter_ask_camp_major") in reply, user.transcript
    reply = await user.say("跳过")
    assert "请选择期次" in reply and said("utter_ask_camp_city") not in reply and "请输入" not in reply, user.transcript
    phone = fresh_phone()
    reply = await user.say(f"手机号填错了，是{phone}")
    # corrected, and the correction is not taken as a choice: the cohort list again
    assert "已改为" in reply and "请选择期次" in reply, user.transcript
    first = next(line for line in reply.splitlines() if line.startswith("1. "))
    catalogue = load_catalogue(user.services.settings.camp_cohorts_file, system_clock().date())
    cohort = next(c for c in catalogue.open_cohorts(system_clock().date()) if first.startswith(f"1. {c.label}"))
    reply = await user.say("1")
    assert "报名成功" in reply or "进入候补" in reply, user.transcript
    record = await EnrollmentStore(user.services.redis, user.services.settings).find(user.openid, cohort.id)
    assert record is not None and record["phone"] == phone
    assert record["identity"] == "应届毕业生" and not record.get("major")


async def test_a_free_text_major_is_taken_as_the_answer(chat):
    user = chat()
    await user.say("报名实训营")
    await user.say("赵子轩")
    await user.say(fresh_phone())
    await user.say("2")  # 应届毕业生
    await user.say(str(system_clock().date().year))
    reply = await user.say("山东大学")
    assert said("utter_ask_camp_major") in reply and "学校所在地济南" in reply, user.transcript
    reply = await user.say("土木工程")
    # the major taken, and the next question asked (the city is the school's: the cohorts)
    assert "请选择期次" in reply and "没太明白" not in reply, user.transcript


async def test_codes_typed_in_parts_or_inside_a_sentence_cancel_the_booking(chat):
    user = chat()
    code = await book(user, "卢晨")
    assert "已取消" in await user.say(f"取消预约 {code[:3]} {code[3:].lower()}"), user.transcript
    code = await book(user, "卢晨")
    assert "已取消" in await user.say(f"我的预约码是{code[:3]}-{code[3:]}，临时有事去不了"), user.transcript
    assert await user.services.booking.my_bookings(user.openid) == []


async def test_a_mind_changed_at_the_quit_question_and_a_side_question_there_keep_the_booking(chat):
    user = chat()
    await up_to_the_name(user)
    reply = await user.say("算了算了")
    assert QUIT_QUESTION in reply, user.transcript
    reply = await user.say("济南这两天有招聘会没")  # answered; the form asks where it stopped
    assert "招聘会" in reply and said("utter_ask_booking_name") in reply and "已退出" not in reply, user.transcript
    assert QUIT_QUESTION in await user.say("不弄了"), user.transcript
    reply = await user.say("等等 还是约吧")
    assert said("utter_ask_booking_name") in reply and "已退出" not in reply, user.transcript


async def test_a_required_question_refused_is_explained_and_an_optional_one_skipped_in_words(chat):
    user = chat()
    await user.say("报名实训营")
    reply = await user.say("那俺不想说")
    assert "必填" in reply and said("utter_why_camp_name") in reply and said("utter_ask_camp_name") in reply, user.transcript
    await user.say("赵小雨")
    await user.say(fresh_phone())
    await user.say("在校生")
    today = system_clock().date()
    await user.say(str(today.year + (today.month >= 9)))  # this academic year's final-year class
    assert "学校所在地青岛" in await user.say("山东科技大学"), user.transcript  # a student's city is the school's
    reply = await user.say("这个俺不想说")
    # the optional major skipped: the cohorts follow (the only one that fits is taken at once)
    assert "专业先不填" in reply and "格式" not in reply, user.transcript
    assert "请选择期次" in reply or ("只有" in reply and "报名成功" in reply), user.transcript
