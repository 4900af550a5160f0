"""The one home of mobile-number helpers: reading numbers from user text and masking them."""
from __future__ import annotations

from bot.log_ids import log_id
from bot.services.phone import find_phone, mask_phone, mask_phones, normalise_phone


def test_phone_normalisation():
    assert normalise_phone("138 0013 8000") == "13800138000"
    assert normalise_phone("+86-139-0013-9000") == "13900139000"
    assert normalise_phone("+86 138-0013-8000") == "13800138000"
    assert normalise_phone("12800138000") is None
    assert normalise_phone("1380013800") is None


def test_find_phone_in_text():
    assert find_phone("我的手机号是138-0013-8000") == "13800138000"
    assert find_phone("编号213800138000") is None
    assert find_phone("订单 42 13800138000") == "13800138000"  # other digits apart from it
    assert find_phone("没有号码") is None


def test_mask_phone_never_shows_what_is_not_a_number():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("12345") == "***"
    assert mask_phone("") == ""


def test_mask_phones_in_free_text():
    text = "打 13800138000、+86 139 0013 9000 或 138-0013-8000，编号 213800138000"
    assert mask_phones(text) == "打 138****8000、139****9000 或 138****8000，编号 213800138000"


def test_log_id_is_short_stable_and_keyed():
    first = log_id("oOpenid123", "secret-a")
    assert first == log_id("oOpenid123", "secret-a") and len(first) == 14
    assert "oOpenid123" not in first
    assert first != log_id("oOpenid124", "secret-a")
    assert first != log_id("oOpenid123", "secret-b")  # a list of OpenIDs without the key does not help
