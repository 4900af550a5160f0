"""The trade a user wants to do, from any message (bot/services/trades.py, issue #21 item 1), read as
users write it; a trade only named (a question about a certificate, someone to hire, a teacher to
book) is no wish; the profile facts carry it as the entity `trade` for the user's own words only."""
from __future__ import annotations

from datetime import date

import pytest

from bot.services.eligibility import load_rules
from bot.services.profile_facts import fact_entities
from bot.services.trades import find_trade, trade_of_interest

RULES = load_rules()


@pytest.mark.parametrize("text, trade", [
    ("我想干电工，哪里有培训", "电工"),
    ("俺打算做餐饮，开个小吃店", "餐饮"),
    ("想学个电商，不知道从哪下手", "电商"),
    ("我对电商运营挺感兴趣的", "电商运营"),
    ("想找电焊工的活", "电焊工"),
    ("以后想当厨师", "厨师"),
])
def test_the_trade_a_user_wants_to_do(text, trade):
    found = trade_of_interest(text)
    assert found is not None and found[0] == trade
    assert text[found[1]:found[2]] == trade


@pytest.mark.parametrize("text", [
    "电工证怎么考",
    "想找个保姆带孩子",
    "我想约个老师看看简历",
    "焊工补贴有多少",
    "你好",
])
def test_a_trade_only_named_is_no_wish(text):
    assert trade_of_interest(text) is None


def test_the_job_search_still_finds_any_trade_named():
    assert find_trade("电工证怎么考") == "电工" and find_trade("你好") is None


def test_the_profile_facts_carry_the_users_own_wish_only():
    day = date.today()
    own = {e["entity"]: e["value"] for e in fact_entities("我今年23，想学电商", day, RULES)}
    assert own.get("trade") == "电商" and own.get("age") == "23"
    other = {e["entity"] for e in fact_entities("我儿子想学电商", day, RULES)}
    assert "trade" not in other
