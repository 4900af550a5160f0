"""退订 and 订阅 through the whole stack: the bot's own instruction after 退订 ("回复“订阅”可重新开启")
works, and a campaign reaches the user again once they subscribed."""
from __future__ import annotations

import uuid

import pytest

from bot.services.campaigns.store import CampaignStore, Segment
from bot.services.push import PushPreferences
from tests.bot.conversations.test_camp_conversation import CITY, COHORT_ID, LAST_YEAR

pytestmark = pytest.mark.stack


async def run_campaign(services, tag: str):
    campaign = await CampaignStore(services.redis, services.settings).create(
        COHORT_ID, Segment(tags=(tag,), eligible_only=False), "实训营开始报名啦！回复“报名”即可报名。"
    )
    return await services.campaigns.run(campaign.id)


async def test_subscribe_after_unsubscribe_turns_campaign_pushes_back_on(no_quiet_hours, chat):
    user = chat()
    services = user.services
    prefs = PushPreferences(services.redis, services.settings)
    tag = "push-test-" + uuid.uuid4().hex[:8]
    await services.profiles.update(
        user.openid, {"identity": "离校未就业毕业生", "graduation_year": LAST_YEAR, "city": CITY, "tags": tag}
    )
    reply = await user.say("退订")
    assert "已为您退订" in reply and "回复“订阅”" in reply, user.transcript
    assert await prefs.is_opted_out(user.openid)
    assert (await run_campaign(services, tag)).sent == 0

    reply = await user.say("订阅")
    assert "已为您开启推送" in reply, user.transcript
    assert await user.last_turn() == ("subscribe", ["action_subscribe"])
    assert not await prefs.is_opted_out(user.openid) and await prefs.allows_template(user.openid)
    outcome = await run_campaign(services, tag)
    assert outcome.status == "done" and outcome.sent == 1, outcome
    assert any("实训营开始报名啦" in text for text in await user.pushed()), await user.pushed()


@pytest.mark.parametrize("text", ["重新订阅", "恢复推送"])
async def test_other_ways_of_asking_back(chat, text):
    user = chat()
    prefs = PushPreferences(user.services.redis, user.services.settings)
    await user.say("不要再给我推送了")
    assert await prefs.is_opted_out(user.openid), user.transcript
    assert "已为您开启推送" in await user.say(text), user.transcript
    assert not await prefs.is_opted_out(user.openid)
