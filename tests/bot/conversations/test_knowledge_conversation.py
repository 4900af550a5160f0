"""Everyday questions through the whole stack: knowledge answers, numbered choices, declines, misses.

Gateway → trained Rasa (with the knowledge retrieval component) → action server → Redis. The
messages are written as users type them and are not knowledge-base variants.
"""
from __future__ import annotations

import pytest

from bot.services.knowledge.base import load_knowledge

pytestmark = pytest.mark.stack

KB = load_knowledge()
NOT_UNDERSTOOD = "没太明白"


def title(item_id: str) -> str:
    item = KB.item(item_id)
    assert item is not None
    return item.title


async def test_a_resume_question_gets_advice_with_where_to_confirm(chat):
    user = chat()
    reply = await user.say("俺第一次写简历 不知道都写点啥")
    assert f"【{title('resume_writing')}】" in reply, user.transcript
    assert "请以官方为准" in reply and KB.item("resume_writing").source in reply


async def test_a_subsidy_question_without_context_gets_the_subsidies_to_choose_from(chat):
    user = chat()
    reply = await user.say("毕业了找工作政府给补贴不")
    assert "1. " in reply and "回复序号" in reply, user.transcript
    assert NOT_UNDERSTOOD not in reply and "答不上来" not in reply
    offered = [line.split(". ", 1)[1] for line in reply.splitlines() if line[:1].isdigit()]
    assert any("补贴" in topic or "毕业生" in topic for topic in offered), offered
    reply = await user.say("1")
    assert reply.startswith(f"【{offered[0]}】") and "12333" in reply, user.transcript
    assert "元" not in reply  # amounts vary by city: never stated


async def test_unpaid_wages_are_referred_to_labour_inspection(chat):
    user = chat()
    reply = await user.say("老板欠了俺三个月工资不给 咋办")
    assert f"【{title('unpaid_wages')}】" in reply, user.transcript
    assert "劳动保障监察" in reply and "12333" in reply


async def test_out_of_scope_is_declined_politely_with_what_zhinan_can_do(chat):
    user = chat()
    reply = await user.say("这期双色球开啥号")
    assert "【" not in reply and NOT_UNDERSTOOD not in reply, user.transcript
    assert "招聘会" in reply or "服务范围" in reply or "答不上来" in reply


async def test_close_topics_get_a_numbered_choice_and_a_number_picks_one(chat):
    user = chat()
    reply = await user.say("补贴怎么申请")
    assert "1. " in reply and "2. " in reply and "回复序号" in reply, user.transcript
    lines = [line for line in reply.splitlines() if line[:1].isdigit()]
    picked = lines[1].split(". ", 1)[1]
    reply = await user.say("2")
    assert reply.startswith(f"【{picked}】"), user.transcript


async def test_two_unanswerable_messages_in_a_row_reach_a_person(chat):
    user = chat()
    first = await user.say("呃呃呃")
    assert "答不上来" in first and "转人工" in first, user.transcript
    second = await user.say("嗯……呃")
    assert "答不上来" not in second and ("职业指导师" in second or "人工" in second), user.transcript


async def test_a_question_for_another_office_is_declined_without_offering_topics(chat):
    user = chat()
    reply = await user.say("公积金贷款买房要啥条件")
    assert "【" not in reply and "回复序号" not in reply, user.transcript
    assert "服务范围" in reply or "帮不上忙" in reply or "答不上来" in reply
