"""bot/rasa_server/parse_cache.py on the trained model: a parse served from the cache is the parse
computed (the whole dict), nothing read against the clock is served stale, the cache belongs to
the model, it is bounded, and its counts reach Redis with the tracker store's write."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

from bot.rasa_server import nlu_batching, parse_cache
from bot.rasa_server.parse_cache import COUNTS, ParseCache
from bot.rasa_server.tracker_store import AppendOnlyRedisTrackerStore
from bot.services.cache_stats import read_totals
from bot.stack import latest_model

# Loads the trained model into TensorFlow here: not under libfaketime (TensorFlow hangs there, bot/clock.py).
pytestmark = pytest.mark.tensorflow

# As users type them on a phone, the kind of text that recurs verbatim (menu replies, numbers,
# acknowledgements), places, a fact, a trigger, emoji; none from the training data.
REPEATED = [
    "1", "2", "好滴", "嗯嗯 继续", "报名", "转人工吧", "谢了哈", "👍", "/greet", "淄博张店零工市场几点开门",
    "俺今年24了 本科", "简历不会写咋整", "失业金咋领啊",
]
# Read against the current time by TimeNormalizer: never stored.
TIMED = ["明天下午两点济南有招聘会吗", "周六上午有空吗"]


@pytest.fixture
def cache_on() -> Iterator[None]:
    nlu_batching.install(enabled=False)
    parse_cache.install(enabled=True, max_entries=64)
    COUNTS.take()
    try:
        yield
    finally:
        parse_cache.install(enabled=False)


def parse(agent: Agent, text: str) -> Dict[str, Any]:
    return asyncio.run(agent.parse_message(text))


def parse_uncached(agent: Agent, texts: List[str]) -> List[Dict[str, Any]]:
    parse_cache.install(enabled=False)
    try:
        return [parse(agent, text) for text in texts]
    finally:
        parse_cache.install(enabled=True, max_entries=64)


def counts() -> Tuple[int, int]:
    return COUNTS.take()


def test_served_parse_is_the_computed_one(agent, frozen_clock, cache_on):
    computed = parse_uncached(agent, REPEATED)
    first = [parse(agent, text) for text in REPEATED]
    assert counts() == (0, len(REPEATED))
    served = [parse(agent, text) for text in REPEATED]
    assert counts() == (len(REPEATED), 0)
    for text, expected, once, again in zip(REPEATED, computed, first, served):
        assert once == expected, text
        assert again == expected, text
    # each hit is a copy of its own: a change by one turn does not reach the next
    served[0]["intent"]["name"] = "changed"
    assert parse(agent, REPEATED[0]) == computed[0]


def test_parses_read_against_the_clock_are_never_stored(agent, frozen_clock, cache_on):
    cache = parse_cache.cache_of(agent.processor)
    stored = len(cache)
    for text in TIMED:
        once, again = parse(agent, text), parse(agent, text)
        assert any(e["entity"] == "time" for e in once["entities"]), text
        assert once == again
    assert counts() == (0, 2 * len(TIMED))
    assert len(cache) == stored
    # the time is today's: an hour later "明天下午两点" is still read against the clock
    tomorrow = (frozen_clock() + timedelta(days=1)).date().isoformat()
    assert tomorrow in str(parse(agent, TIMED[0])["entities"])


def test_a_new_day_parses_again(agent, frozen_clock, cache_on):
    """Facts read against today's date (ProfileFactExtractor: 去年 is a year) are keyed by the
    Beijing date: after midnight the same text is computed again, as it is without the cache."""
    text = "去年刚毕业还没找着活"
    frozen_clock.set(frozen_clock().replace(month=12, day=31))  # 23:59:59 on this year's last day
    year = frozen_clock().year

    def graduation_year(parse_data: Dict[str, Any]) -> str:
        return next(str(e["value"]) for e in parse_data["entities"] if e["entity"] == "graduation_year")

    today = parse(agent, text)
    assert parse(agent, text) == today
    assert counts() == (1, 1)  # no time span read: kept for the day
    assert graduation_year(today) == str(year - 1)
    frozen_clock.advance(seconds=2)  # New Year's Day
    next_year = parse(agent, text)
    assert counts() == (0, 1)
    assert graduation_year(next_year) == str(year)
    assert next_year == parse_uncached(agent, [text])[0]


def test_a_new_model_starts_with_an_empty_cache(agent, frozen_clock, cache_on):
    parse(agent, "好滴")
    old = parse_cache.cache_of(agent.processor)
    assert old is not None and len(old) >= 1
    agent.load_model(str(latest_model()))  # what PUT /model and a model server pull do
    new = parse_cache.cache_of(agent.processor)
    assert new is not old and len(new) == 0


def test_off_means_rasa_parses_every_time(agent, frozen_clock):
    parse_cache.install(enabled=False)
    COUNTS.take()
    parse(agent, "好滴")
    parse(agent, "好滴")
    assert counts() == (0, 0)
    assert parse_cache.cache_of(agent.processor) is None


def test_bounded_least_recently_used_go_first():
    cache = ParseCache(max_entries=2)
    cache.put("a", {"n": 1})
    cache.put("b", {"n": 2})
    assert cache.get("a") == {"n": 1}  # a is now the more recent
    cache.put("c", {"n": 3})
    assert cache.get("b") is None and cache.get("a") == {"n": 1} and len(cache) == 2


async def test_counts_reach_redis_with_the_tracker_write(settings, redis, agent):
    store = AppendOnlyRedisTrackerStore(agent.domain, key_prefix=settings.redis_key_prefix, redis_client=redis)
    COUNTS.take()
    for hit in (True, True, False):
        COUNTS.count(hit=hit)
    tracker = await store.get_or_create_tracker("cache-count-user")
    tracker.update_with_events(
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
         UserUttered("好滴", {"name": "affirm", "confidence": 0.9})],
        agent.domain,
    )
    await store.save(tracker)
    assert await read_totals(redis, settings.key) == {"zhinan_nlu_parse": (2, 1)}
    COUNTS.count(hit=True)
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    assert await read_totals(redis, settings.key) == {"zhinan_nlu_parse": (3, 1)}
