"""The bot's features named in one set of words.

The menu (data/wechat_menu.json), the greeting and the capability answers of domain.yml and the
knowledge fallbacks say the same thing, so that a user who reads a button finds it in the bot's
answers and can type it (tests/bot/gateway/wechat/test_menu_words.py). No imports: the gateway, Rasa's
components and the actions all read it.
"""
from __future__ import annotations

CAPABILITIES = (
    "找工作、查招聘会、找附近服务点、预约指导课、专家咨询、查看我的预约、了解和报名实训营（青年求职能力实训营）、"
    "职业测评、空中课堂、就业政策和求职问题解答"
)
