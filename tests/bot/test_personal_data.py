"""On unfollow the gateway deletes every per-user family of personal data that any feature keeps."""
from __future__ import annotations

import bot.gateway.app  # noqa: F401  (the gateway process: every feature it runs is imported)
from bot.services.profiles import ProfileStore

EXPECTED_FAMILIES = {
    "profile",
    "tracker",
    "trackermeta",
    "location",
    "cswindow",
    "push_pref",
    "push_retries",
    "camp_last_push",
    "course_sub",
    "assessment",
    "booking_active",
    "booking_history",
    "booking_waiting",
    "booking:req",
    "handoff_active",
    "handoff_offer",
    "handoff_ack",
    "handoff_callback",
    "satisfaction_pending",
    "satisfaction_comment",
    "convmark",
}


async def test_the_gateway_knows_every_personal_data_family(settings, redis):
    store = ProfileStore(redis, settings)
    keys = set(store.personal_data_keys("o123"))
    assert {settings.key(family, "o123") for family in EXPECTED_FAMILIES} <= keys


async def test_delete_personal_data_removes_them_all(settings, redis):
    store = ProfileStore(redis, settings)
    for family in EXPECTED_FAMILIES:
        await redis.set(settings.key(family, "o456"), "x")
    await redis.set(settings.key("profile", "someone-else"), "x")
    assert await store.delete_personal_data("o456") == len(EXPECTED_FAMILIES)
    assert await redis.exists(settings.key("profile", "someone-else")) == 1
