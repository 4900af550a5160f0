"""A Rasa turn with no text (a custom action failed) still gets the user a clear answer."""
from __future__ import annotations

import aiohttp

from bot.gateway.conversation import BOT_UNAVAILABLE_TEXT, ConversationService, UserTurn
from bot.gateway.rasa_client import RasaClient
from tests.helpers.rasa_double import start_rasa


async def test_an_empty_rasa_answer_asks_the_user_to_send_again(aiohttp_server):
    rasa = await start_rasa(aiohttp_server)
    rasa.answer = lambda payload: []  # what Rasa sends back when action_booking_submit raised
    async with aiohttp.ClientSession() as session:
        conversation = ConversationService(RasaClient(session, rasa.url, "t", 5))
        replies = await conversation.handle(UserTurn("oUserEmpty", "确认"))
    assert replies == [BOT_UNAVAILABLE_TEXT]
    assert "稍后" in replies[0]


async def test_a_normal_answer_is_passed_on_unchanged(aiohttp_server):
    rasa = await start_rasa(aiohttp_server)
    async with aiohttp.ClientSession() as session:
        conversation = ConversationService(RasaClient(session, rasa.url, "t", 5))
        assert await conversation.handle(UserTurn("oUserFine", "你好")) == ["机器人收到：你好"]
