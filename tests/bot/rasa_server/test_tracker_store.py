"""The append-only tracker store on real Redis: what it writes and what Rasa gets back."""
from __future__ import annotations

import json

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from bot.rasa_server import tracker_store as store_module
from bot.rasa_server.tracker_store import AppendOnlyRedisTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, inform]
entities: [city]
slots:
  city:
    type: text
    mappings: [{type: from_entity, entity: city}]
  topic:
    type: text
    mappings: [{type: from_entity, entity: city}]
forms:
  booking_form:
    required_slots: [topic]
responses:
  utter_greet: [{text: "您好"}]
"""
)


def _turn(text: str, reply: str) -> list:
    return [
        UserUttered(text, {"name": "greet", "confidence": 0.9}),
        ActionExecuted("utter_greet"),
        BotUttered(reply),
        ActionExecuted("action_listen"),
    ]


@pytest.fixture
async def store(settings, redis):
    return AppendOnlyRedisTrackerStore(DOMAIN, key_prefix=settings.redis_key_prefix, redis_client=redis)


async def _new_tracker(store, sender: str):
    tracker = await store.get_or_create_tracker(sender)
    tracker.update_with_events(
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        DOMAIN,
    )
    await store.save(tracker)
    return tracker


async def test_each_save_appends_only_the_new_events(store, redis, settings):
    await _new_tracker(store, "u1")
    key = settings.key("tracker", "u1")
    before = await redis.llen(key)
    tracker = await store.retrieve("u1")
    tracker.update_with_events(_turn("你好", "您好"), DOMAIN)
    await store.save(tracker)
    assert await redis.llen(key) == before + 4
    await store.save(tracker)  # saving again without new events writes nothing
    assert await redis.llen(key) == before + 4
    again = await store.retrieve("u1")
    assert [e.as_dict() for e in again.events] == [e.as_dict() for e in tracker.events]


async def test_retrieve_returns_the_latest_session_and_full_returns_all(store):
    tracker = await _new_tracker(store, "u2")
    tracker.update_with_events(_turn("第一次", "好的"), DOMAIN)
    await store.save(tracker)
    tracker = await store.retrieve("u2")
    tracker.update_with_events(
        [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("city", "济南市"),
         ActionExecuted("action_listen")] + _turn("第二次", "好的"),
        DOMAIN,
    )
    await store.save(tracker)
    latest = await store.retrieve("u2")
    texts = [e.text for e in latest.events if isinstance(e, UserUttered)]
    assert texts == ["第二次"]
    assert latest.get_slot("city") == "济南市"
    full = await store.retrieve_full_tracker("u2")
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["第一次", "第二次"]


async def test_a_long_session_is_read_from_a_checkpoint_with_its_state(store, monkeypatch):
    monkeypatch.setattr(store_module, "CHECKPOINT_AFTER_EVENTS", 40)
    monkeypatch.setattr(store_module, "EVENTS_KEPT_AFTER_CHECKPOINT", 12)
    tracker = await _new_tracker(store, "u3")
    tracker.update_with_events([SlotSet("city", "青岛市"), ActiveLoop("booking_form")], DOMAIN)
    await store.save(tracker)
    sizes = []
    for turn in range(40):
        tracker = await store.retrieve("u3")
        sizes.append(len(tracker.events))
        tracker.update_with_events(_turn(f"第{turn}句", "收到"), DOMAIN)
        await store.save(tracker)
    tracker = await store.retrieve("u3")
    # bounded: what a turn reads stops growing once checkpoints start
    assert max(sizes[-10:]) <= 40 + 4 + 6
    assert tracker.get_slot("city") == "青岛市"
    assert tracker.active_loop_name == "booking_form"
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)][-1] == "第39句"
    full = await store.retrieve_full_tracker("u3")
    assert len([e for e in full.events if isinstance(e, UserUttered)]) == 40
    # the snapshot events are never written back into the stored history
    stored = await store.red.lrange(store._events_key("u3"), 0, -1)
    assert not any(store_module.SNAPSHOT_MARKER in json.dumps(json.loads(x).get("metadata") or {}) for x in stored)


async def test_a_checkpoint_inside_a_form_still_leaves_the_policies_a_state(store, monkeypatch):
    """Form turns that rules predicted are hidden from MemoizationPolicy and TED; when the kept
    part holds only such turns, the snapshot's own session start (ending with action_listen, as
    Rasa's does) is the state they predict from. Without it MemoizationPolicy raised IndexError."""
    monkeypatch.setattr(store_module, "CHECKPOINT_AFTER_EVENTS", 30)
    monkeypatch.setattr(store_module, "EVENTS_KEPT_AFTER_CHECKPOINT", 10)
    tracker = await _new_tracker(store, "u5")
    tracker.update_with_events([ActiveLoop("booking_form")], DOMAIN)
    for turn in range(12):
        tracker.update_with_events([
            UserUttered(f"第{turn}句", {"name": "inform", "confidence": 0.9}),
            ActionExecuted("booking_form", hide_rule_turn=True), BotUttered("请选择"),
            ActionExecuted("action_listen", hide_rule_turn=True),
        ], DOMAIN)
        await store.save(tracker)
        tracker = await store.retrieve("u5")
    first_user = next(i for i, e in enumerate(tracker.events) if isinstance(e, UserUttered))
    assert tracker.events[0].metadata.get(store_module.SNAPSHOT_MARKER)  # read from a checkpoint
    assert isinstance(tracker.events[first_user - 1], ActionExecuted)
    assert tracker.events[first_user - 1].action_name == "action_listen"
    assert tracker.past_states(DOMAIN, ignore_rule_only_turns=True)


async def test_unknown_conversation_is_none(store):
    assert await store.retrieve("nobody") is None
    assert await store.retrieve_full_tracker("nobody") is None


async def test_saving_user_messages_counts_intents_and_fallback_texts(store, redis, settings):
    from bot.services.intent_stats import stats_day

    tracker = await _new_tracker(store, "u4")
    tracker.update_with_events(
        [
            UserUttered("你好", {"name": "greet", "confidence": 0.9}),
            ActionExecuted("utter_greet"),
            UserUttered("阿巴阿巴", {"name": "nlu_fallback", "confidence": 0.3}),
            ActionExecuted("action_listen"),
        ],
        DOMAIN,
    )
    await store.save(tracker)
    await store.save(tracker)  # nothing new: nothing counted twice
    day = stats_day(tracker.events[-1].timestamp)
    assert await redis.hgetall(settings.key("stats", "intents", day)) == {"greet": "1", "nlu_fallback": "1"}
    assert await redis.hgetall(settings.key("stats", "fallbacks", day)) == {"阿巴阿巴": "1"}


async def test_fallback_texts_are_counted_with_mobile_numbers_masked(store, redis, settings):
    from bot.services.intent_stats import stats_day

    tracker = await _new_tracker(store, "u5")
    tracker.update_with_events(
        [UserUttered("电话 138 0013 8000 回我", {"name": "nlu_fallback", "confidence": 0.3})], DOMAIN
    )
    await store.save(tracker)
    day = stats_day(tracker.events[-1].timestamp)
    assert await redis.hgetall(settings.key("stats", "fallbacks", day)) == {"电话 138****8000 回我": "1"}


async def test_the_lost_event_warning_names_the_user_by_log_id(store, settings, caplog):
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.log_ids import log_id

    await _new_tracker(store, "oSecretOpenid6")
    stranger = DialogueStateTracker.from_events("oSecretOpenid6", _turn("你好", "您好"), DOMAIN.slots)
    with caplog.at_level("WARNING", logger=store_module.__name__):
        await store.save(stranger)
    assert "did not contain the last stored event" in caplog.text
    assert "oSecretOpenid6" not in caplog.text
    assert log_id("oSecretOpenid6", settings.console_secret) in caplog.text


async def test_the_store_rasa_builds_from_endpoints_yml_uses_the_projects_client(settings, monkeypatch):
    """Rasa constructs the store from endpoints.yml (no client given): the factory builds its
    client for the server those settings name, and a saved turn reads back."""
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    from bot.redis_client import MAX_CONNECTIONS
    from bot.settings import PROJECT_ROOT
    from bot.stack import rasa_environment

    for name, value in rasa_environment(settings).items():
        monkeypatch.setenv(name, value)
    endpoint = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "tracker_store")
    built = TrackerStore.create(endpoint, DOMAIN)
    store = getattr(built, "_tracker_store", built)  # Rasa may wrap it in a FailSafeTrackerStore
    assert isinstance(store, AppendOnlyRedisTrackerStore)
    assert store.red.connection_pool.max_connections == MAX_CONNECTIONS
    tracker = await store.get_or_create_tracker("endpoint-user")
    for event in _turn("你好，我想问问怎么预约简历指导", "您好"):
        tracker.update(event)
    await store.save(tracker)
    again = await store.retrieve("endpoint-user")
    assert again.latest_message.text == "你好，我想问问怎么预约简历指导"
    await store.red.aclose() if hasattr(store.red, "aclose") else await store.red.close()


async def test_each_message_counts_in_the_month_and_city_of_its_conversation(store, redis, settings):
    from bot.clock import system_clock
    from bot.services.conversation_marks import ConversationCounter
    from bot.services.monthly_stats import MonthlyStats, month_of
    from bot.services.profiles import ProfileStore

    await ProfileStore(redis, settings).update("u-qd", {"city": "青岛市"})
    await ConversationCounter(redis, settings).message("u-qd")  # the gateway, before Rasa
    tracker = await _new_tracker(store, "u-qd")
    tracker.update_with_events(
        [
            UserUttered("俺想找个活干", {"name": "find_job", "confidence": 0.9}),
            ActionExecuted("action_listen"),
            UserUttered("嗯嗯", {"name": "affirm", "confidence": 0.9}),
            ActionExecuted("action_listen"),
            UserUttered("那个啥玩意儿", {"name": "nlu_fallback", "confidence": 0.3}),
            ActionExecuted("action_listen"),
            UserUttered(
                "失业了咋登记", {"name": "ask_policy", "confidence": 0.9},
                parse_data={"knowledge": {"decision": "answer", "options": [{"id": "unemployment_registration", "score": 0.9}]}},
            ),
            ActionExecuted("action_listen"),
        ],
        DOMAIN,
    )
    await store.save(tracker)
    stats = MonthlyStats(redis, settings)
    qingdao = (await stats.month(month_of(system_clock()))).by_city["青岛市"]
    assert qingdao.count("messages") == 4 and qingdao.count("unanswered") == 1
    # talk (affirm) and fallbacks are no need; a knowledge answer counts its item too
    assert qingdao.needs == {"find_job": 1, "ask_policy": 1, "knowledge:unemployment_registration": 1}
