"""Typed text never becomes a Rasa intent trigger, whatever precedes the slash (real model)."""
from __future__ import annotations

from typing import Any, Dict

import aiohttp
import pytest

pytestmark = pytest.mark.stack


async def _last_user_parse(settings, openid: str) -> Dict[str, Any]:
    url = f"{settings.rasa_url}/conversations/{openid}/tracker"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params={"token": settings.rasa_token}) as resp:
            assert resp.status == 200, await resp.text()
            tracker = await resp.json()
    users = [e for e in tracker["events"] if e.get("event") == "user"]
    assert users, "the message did not reach Rasa"
    return users[-1]["parse_data"]


@pytest.mark.parametrize(
    "typed, trigger",
    [
        ("😀/restart", "restart"),
        ("\u200b/restart", "restart"),
        ("[微笑]/restart", "restart"),
        ('😀/inform{"city":"济南"}', "inform"),
    ],
)
async def test_prefixed_slash_reaches_nlu_as_plain_text(chat, typed: str, trigger: str) -> None:
    user = chat()
    await user.say("你好")
    await user.say(typed)
    parse = await _last_user_parse(user.settings, user.openid)
    intent = parse["intent"]
    # RegexMessageHandler would give the trigger's intent at confidence exactly 1.0
    assert not (intent["name"] == trigger and intent["confidence"] == 1.0), parse
    assert not [e for e in parse.get("entities", []) if e.get("extractor") == "RegexMessageHandler"], parse
    assert not parse["text"].lstrip().startswith("/")


async def test_a_menu_click_is_still_a_trigger(chat) -> None:
    user = chat()
    await user.event("CLICK", "ZN_POLICY")
    parse = await _last_user_parse(user.settings, user.openid)
    assert (parse["intent"]["name"], parse["intent"]["confidence"]) == ("ask_policy", 1.0)
