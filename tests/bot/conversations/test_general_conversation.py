"""Small talk and the greeting through the whole stack."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.stack


async def test_greeting_thanks_goodbye(chat):
    user = chat()
    assert "职引" in await user.say("你好")
    assert "不客气" in await user.say("谢谢")
    assert "再见" in await user.say("拜拜")


async def test_following_the_account_gets_the_welcome(chat):
    user = chat()
    welcome = await user.event("subscribe", "qrscene_sdu_station")
    assert "职引" in welcome
    profile = await user.services.profiles.get(user.openid)
    assert profile.get("qr_scene") == "sdu_station"


async def test_a_bare_mobile_number_with_nothing_asking_for_it_gets_an_answer(chat):
    user = chat()
    reply = await user.say("15866661234")
    assert "手机号码" in reply and "“转人工”" in reply, user.transcript
    assert "职引" in await user.say("你好")  # the conversation goes on as usual
