"""Every instruction the bot gives works (issue #21, item 6).

The bot's replies quote what to send next ("回复“订阅”可重新开启", "说“转人工”"). Each quoted
instruction, found in domain.yml and the reply code (tests/helpers/bot_words.py), is sent through
the gateway and the trained model as a user would send it: as a first message, and right after a
reply that quotes it. Either way it must be understood (no "没太明白"/"答不上来"), read as the intent
it names, and in its context do what the reply promised. The menu's labels, typed, are walked too.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Tuple

import pytest

from bot.services.assessment import load_questions
from tests.helpers.bot_words import instructions_in, menu_buttons, quoted_instructions

GATE = ""  # answered by the gateway's handoff gate before Rasa: no intent in the tracker
NOT_UNDERSTOOD = ("没太明白", "答不上来", "帮不上忙")


@dataclass(frozen=True)
class Step:
    """What a user sends for one instruction, and the intents that may read it."""

    say: str
    intents: FrozenSet[str]


def step(say: str, *intents: str) -> Step:
    return Step(say, frozenset(intents))


# Every instruction quoted in the sources → how it is sent (placeholders filled in) and read.
WALK: Dict[str, Step] = {
    "订阅": step("订阅", "subscribe"),
    "退订": step("退订", "unsubscribe"),
    "转人工": step("转人工", GATE),
    "算了": step("算了", "stop"),
    # inside a form it must stop it; in the handoff queue the gate takes it (CONTEXTS)
    "取消": step("取消", "stop", "cancel_booking", GATE),
    "退出": step("退出", "stop"),
    # the form's question before discarding answers (actions/form_repair.py)
    "放弃": step("放弃", "stop"),
    "继续": step("继续", "more"),
    # a booking code named in passing (actions/booking/manage.py answer_named_holding)
    "取消 {named.code}": step("取消 TS9LFC", "cancel_booking"),
    "确认": step("确认", "affirm"),
    # the only booking or enrolment said back before it is cancelled (actions/booking/manage.py)
    "确定": step("确定", "affirm"),
    "对": step("对", "affirm"),
    "是": step("是", "affirm"),
    "否": step("否", "deny"),
    "不要": step("不要", "deny"),
    "最近": step("最近", "inform", "book_workshop"),
    "预约": step("预约", "book_workshop"),
    "预约指导": step("预约指导", "book_workshop"),
    "预约指导课": step("预约指导课", "book_workshop"),
    "预约职业指导": step("预约职业指导", "book_workshop"),
    # after facts told with no question (actions/profile_confirm.py told_facts_text)
    "实训营能报吗": step("实训营能报吗", "ask_camp_info", "enroll_camp"),
    "找工作": step("找工作", "find_job"),
    "预约简历指导": step("预约简历指导", "book_workshop"),
    "我的预约": step("我的预约", "my_bookings"),
    "我的报名": step("我的报名", "my_bookings"),
    "取消预约": step("取消预约", "cancel_booking"),
    # "我的预约" lists everything numbered (actions/booking/manage.py): a number after 取消 picks one
    "取消1": step("取消1", "cancel_booking", "stop"),
    "取消报名": step("取消报名", "cancel_booking"),
    "实训营": step("实训营", "ask_camp_info"),
    "潍坊有实训营吗": step("潍坊有实训营吗", "ask_camp_info"),
    "实训营怎么报名": step("实训营怎么报名", "enroll_camp", "ask_camp_info"),
    "报名": step("报名", "enroll_camp"),
    "报名实训营": step("报名实训营", "enroll_camp"),
    "职业测评": step("职业测评", "career_assessment"),
    "重新测评": step("重新测评", "career_assessment"),
    "我的订阅": step("我的订阅", "ask_courses"),
    "订阅面试的课": step("订阅面试的课", "ask_courses"),
    "订阅{topic or '面试'}的课": step("订阅面试的课", "ask_courses"),
    "取消订阅面试": step("取消订阅面试", "ask_courses", "unsubscribe"),
    "取消订阅{topic}": step("取消订阅面试", "ask_courses", "unsubscribe"),
    "取消订阅{current[0]}": step("取消订阅简历", "ask_courses", "unsubscribe"),
    "取消全部课程订阅": step("取消全部课程订阅", "ask_courses"),
    "有什么回放": step("有什么回放", "ask_courses"),
    "这周的课": step("这周的课", "ask_courses"),
    "面试的课": step("面试的课", "ask_courses"),
    "我想找工作": step("我想找工作", "find_job"),
    "招聘会": step("招聘会", "find_job_fair"),
    "线上招聘会": step("线上招聘会", "find_job_fair"),
    "城市+招聘会": step("青岛招聘会", "find_job_fair"),
    "下周济南有招聘会吗": step("下周济南有招聘会吗", "find_job_fair"),
    "更多": step("更多", "more"),
    "附近的服务点": step("附近的服务点", "find_service_point"),
    "济南历下区": step("济南历下区", "find_service_point", "inform"),
    # the expert pool (bot/services/experts/replies.py): the menu's examples, the choice after a list
    "有没有懂互联网的专家": step("有没有懂互联网的专家", "find_expert"),
    "青岛有没有面试辅导的专家": step("青岛有没有面试辅导的专家", "find_expert"),
    "约第1个": step("约第1个", "book_workshop"),
    "预约{first}": step("预约王老师", "book_workshop"),
}


def step_for(instruction: str) -> Step:
    """The walk step of a quoted instruction, also when the reply filled a placeholder in."""
    if instruction in WALK:
        return WALK[instruction]
    for source, walk_step in WALK.items():
        pattern = re.escape(source)
        pattern = re.sub(r"\\\{[^}]*\\\}", ".+", pattern)
        if "{" in source and re.fullmatch(pattern, instruction):
            return Step(instruction, walk_step.intents)
    raise KeyError(f"“{instruction}” is quoted by the bot but not in WALK")


def phone() -> str:
    return "139" + "".join(random.choice("0123456789") for _ in range(8))


ASSESSMENT_DONE = ("职业测评",) + ("1",) * len(load_questions())
# booked on the phone typed in the form (actions/booking/quick.py); a session days ahead, so that it may
# be cancelled at any hour; "确认" after it says it is done already
BOOK = ("预约简历指导", "下周二下午", "1", "张晓明", "<phone>")
BOOKED = BOOK + ("确认",)


@dataclass(frozen=True)
class Context:
    """A conversation whose last reply quotes instructions; `expect`: instruction → a word the
    answer to it must contain in this state."""

    name: str
    setup: Tuple[str, ...]
    expect: Dict[str, str] = field(default_factory=dict)


CONTEXTS = [
    Context("after 退订", ("退订",), {"订阅": "已为您开启推送"}),
    Context("after 订阅", ("订阅",), {"退订": "已为您退订"}),
    Context("greeting", ("你好",), {"济南历下区": "历下区", "转人工": "人工"}),
    Context("bot challenge", ("你是谁",), {"转人工": "人工"}),
    Context("booking: which topic", ("我想预约指导",), {"算了": "退出"}),
    Context("booking: when", ("预约简历指导",), {"最近": "可预约的场次"}),
    Context("booking: which slot", ("预约简历指导", "下周二下午"), {"不要": "换个时间"}),
    Context("booking: booked on the phone", BOOK, {"我的预约": "您有1个预约"}),
    Context("booking: quit asked", BOOK[:-1] + ("算了",), {"放弃": "已退出预约", "继续": "手机号"}),
    Context("booking: done", BOOKED, {"我的预约": "您有1个预约", "取消预约": "取消"}),
    Context("booking: listed", BOOKED + ("我的预约",), {"取消1": "已取消预约"}),
    Context("booking: cancel which", BOOKED + ("取消预约",), {"确定": "已取消预约", "算了": "好的"}),
    Context("booking: cancelled", BOOKED + ("取消预约", "1"), {"是": "时间", "否": "好的"}),
    Context("booking: left", ("我想预约指导", "算了"), {"预约指导": "预约"}),
    # the booking paused for the camp (actions/form_pause.py): "继续" inside the camp form is its own question again
    Context("booking: left for the camp", BOOK[:3] + ("我想先报名实训营",), {"继续": "姓名", "取消": "已退出"}),
    Context("nothing booked", ("我的预约",), {"预约指导": "预约", "报名实训营": "姓名"}),
    Context("camp form", ("报名实训营",), {"取消": "已退出"}),
    Context("camp form: facts shown back", ("我是应届生，想报名实训营",), {"对": "姓名"}),
    Context("camp information", ("实训营",), {"报名": "姓名"}),
    Context("job fairs: which city", ("招聘会",), {"线上招聘会": "线上"}),
    Context("service points: a page", ("济南历下区的服务点",), {"更多": ""}),
    Context("assessment: a question", ("职业测评",), {"退出": "已退出职业测评"}),
    Context("assessment: paused", ("职业测评", "退出"), {"职业测评": "第"}),
    Context("assessment: resumed", ("职业测评", "1", "退出", "职业测评"), {"重新测评": "第1/"}),
    Context(
        "assessment: result", ASSESSMENT_DONE, {"预约": "预约", "实训营": "实训营", "转人工": "人工"}
    ),
    Context("looking for work", ("我想在济南找工作",), {"预约职业指导": "预约"}),
    Context("job fairs: a page", ("济南的招聘会",)),
    Context("experts: a list", ("有没有懂互联网的专家",), {"约第1个": "可预约的场次", "预约王老师": "可预约的场次"}),
    Context("handoff: queued or offered", ("转人工",)),  # which one depends on the hour and staff
    Context("courses: listing", ("空中课堂",)),
    Context("courses: none subscribed", ("我的订阅",), {"订阅面试的课": "已为您订阅“面试”"}),
    Context("courses: subscribed", ("订阅面试的课",), {"取消订阅面试": "已取消订阅：面试"}),
    Context(
        "courses: two subscribed", ("订阅面试的课", "订阅简历的课", "我的订阅"),
        {"取消订阅面试": "已取消订阅：面试", "取消全部课程订阅": "已取消订阅"},
    ),
    Context(
        "courses: which to cancel", ("订阅面试的课", "订阅简历的课", "取消课程订阅"),
        {"取消订阅简历": "已取消订阅：简历"},
    ),
]


def understood(reply: str) -> bool:
    return bool(reply.strip()) and not any(marker in reply for marker in NOT_UNDERSTOOD)


async def answer(user, text: str) -> str:
    """The bot's answer: the passive reply, or what was pushed when the turn outlasted WeChat's 5 s."""
    return await user.say(text) or "\n".join(await user.pushed())


async def play(user, messages: Tuple[str, ...]) -> str:
    """Sends the messages ("<phone>" becomes a fresh mobile number); the last answer."""
    number = phone()
    reply = ""
    for message in messages:
        reply = await answer(user, number if message == "<phone>" else message)
    return reply


async def check(user, walk_step: Step, reply: str) -> None:
    intent, actions = await user.last_turn()
    assert understood(reply), (intent, actions, user.transcript)
    assert intent in walk_step.intents, (intent, actions, user.transcript)


def test_every_quoted_instruction_is_walked():
    """A new instruction in a reply needs its step here (and an intent that reads it)."""
    found = quoted_instructions()
    missing = {text: places for text, places in found.items() if text not in WALK}
    assert missing == {}
    assert sorted(set(WALK) - set(found)) == []  # no step for an instruction nobody gives
    for context in CONTEXTS:
        assert all(step_for(text) for text in context.expect)


@pytest.mark.stack
@pytest.mark.parametrize("instruction", sorted(WALK))
async def test_instruction_as_a_first_message(chat, instruction):
    user = chat()
    walk_step = WALK[instruction]
    await check(user, walk_step, await answer(user, walk_step.say))


@pytest.mark.stack
@pytest.mark.parametrize("context", CONTEXTS, ids=[c.name for c in CONTEXTS])
async def test_instructions_right_after_the_reply_that_gives_them(chat, context):
    first = chat()
    shown = instructions_in(await play(first, context.setup))
    assert shown and set(context.expect) <= set(shown), (context.expect, shown, first.transcript)
    for instruction in shown:
        walk_step = step_for(instruction)
        user = chat()
        await play(user, context.setup)
        reply = await answer(user, walk_step.say)
        await check(user, walk_step, reply)
        assert context.expect.get(instruction, "") in reply, user.transcript


@pytest.mark.stack
@pytest.mark.parametrize("label,intent", menu_buttons())
async def test_a_menu_label_typed_means_its_button(chat, label: str, intent: str):
    user = chat()
    reply = await answer(user, label)
    if intent == "greet":  # the button that shows what the bot does: typed, it must say so too
        features = [other for other, kind in menu_buttons() if kind != "greet"]
        assert understood(reply) and all(f in reply for f in features), user.transcript
        return
    # 转人工 typed is taken by the handoff gate; clicked, it reaches Rasa as request_human
    intents = {intent, GATE} if intent == "request_human" else {intent}
    await check(user, Step(label, frozenset(intents)), reply)
