"""Reading a message sent while the callback offer stands (bot/services/handoff/phone_step.py)."""
from __future__ import annotations

import pytest

from bot.services.handoff.phone_step import CORRECT, SKIP, WHEN, WHY, WITHDRAW, phone_step_kind


@pytest.mark.parametrize("text, has_phone, noted, kind", [
    ("要我手机号干啥", False, False, WHY),
    ("号码安全吗", False, False, WHY),
    ("为啥", False, False, WHY),
    ("为什么毕业了找不到工作啊我都投了几十份", False, False, None),  # a question for the bot
    ("电话不想留", False, False, SKIP),
    ("算了 不用回电了", False, False, WITHDRAW),
    ("算了 俺先自己看看济南有啥招聘会吧", False, False, None),  # another request: for the bot
    ("不对 号码输错了 是13905318826", True, True, CORRECT),
    ("13905318826", True, True, None),  # a second number without a correction: not the callback's
    ("不想留", False, True, None),  # a number is already noted
    ("大概啥时候能给俺回电话", False, False, WHEN),
    ("啥时候打", False, False, WHEN),
    ("要等多久才联系我啊", False, False, WHEN),
    ("济南下周啥时候有招聘会啊", False, False, None),  # a when-question about something else: for the bot
])
def test_what_a_message_says_about_the_offer(text, has_phone, noted, kind):
    assert phone_step_kind(text, has_phone, noted) == kind
