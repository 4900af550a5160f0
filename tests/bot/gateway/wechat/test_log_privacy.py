"""No log line names a user in clear: a handoff callback (with a mobile number), a rate limit, a
failed turn and an unfollow go through the real gateway with every logger at DEBUG, and neither
the OpenID nor the number appears in any record; the lines name the user by `log_id` instead."""
from __future__ import annotations

import logging

from bot.log_ids import log_id
from bot.gateway.wechat.channel import TEXT_RATE_LIMITED

from .conftest import event_xml, text_xml, unique_openid

PHONE = "13800138000"


def _record_texts(caplog) -> list:
    formatter = logging.Formatter()
    texts = []
    for record in caplog.records:
        text = record.getMessage()
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        texts.append(text)
    return texts


async def _say(side, openid: str, text: str) -> str:
    _, body = await side.post(text_xml(openid, text, side.next_msgid()))
    return side.open_reply(body, False).content if body != "success" else ""


async def test_no_openid_or_phone_in_any_log_record(make_gateway, rasa, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    side = await make_gateway(user_rate_limit_per_min=4)
    openid = unique_openid("pii")

    await _say(side, openid, "转人工")  # nobody online: the callback offer
    callback = await _say(side, openid, f"我的电话{PHONE}")
    assert "138****8000" in callback and PHONE not in callback

    channel = side.endpoint().channel

    async def broken(msg):
        raise RuntimeError("turn failed")

    channel.answer = broken  # "WeChat turn for … failed" names the user
    await _say(side, openid, "你好")
    del channel.answer
    answers = [await _say(side, openid, f"第{i}条") for i in range(6)]
    assert TEXT_RATE_LIMITED in answers
    await side.post(event_xml(openid, "unsubscribe"))

    texts = _record_texts(caplog)
    leaks = [t for t in texts if openid in t or PHONE in t]
    assert leaks == []
    named = log_id(openid, side.settings.console_secret)
    assert any(named in t and "rate limit" in t for t in texts)
    assert any(named in t and "unsubscribe" in t for t in texts)
    assert any(named in t and "failed" in t for t in texts)
