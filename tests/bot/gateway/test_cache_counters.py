"""Counts of caches kept in other processes (the Rasa workers' parse cache) reach the gateway's
/metrics as Prometheus counters, in the form `make bench` reads (scripts/bench_corpus.py)."""
from __future__ import annotations

import sys

from bot.gateway.app import create_app
from bot.services.cache_stats import PendingCounts, read_totals
from bot.settings import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
from bench_corpus import read_cache_counters  # noqa: E402  (what make bench parses /metrics with)


async def _flush(redis, settings, counts: PendingCounts) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        counts.queue(pipe, settings.key)
        await pipe.execute()


async def test_two_workers_counts_add_up_in_redis(settings, redis):
    first, second = PendingCounts("zhinan_nlu_parse"), PendingCounts("zhinan_nlu_parse")
    for hit in (True, False, True):
        first.count(hit)
    second.count(False)
    await _flush(redis, settings, first)
    await _flush(redis, settings, second)
    await _flush(redis, settings, first)  # nothing pending: nothing written
    assert first.take() == (0, 0)
    assert await read_totals(redis, settings.key) == {"zhinan_nlu_parse": (2, 2)}


def test_counts_given_back_go_with_the_next_write():
    counts = PendingCounts("x")
    counts.count(True)
    taken = counts.take()
    counts.count(False)
    counts.give_back(*taken)
    assert counts.take() == (1, 1)


async def test_metrics_exports_the_totals_as_counters(aiohttp_client, settings, redis):
    client = await aiohttp_client(create_app(settings))
    assert read_cache_counters(await (await client.get("/metrics")).text()) == {}
    counts = PendingCounts("zhinan_nlu_parse")
    for hit in (True, True, True, False):
        counts.count(hit)
    await _flush(redis, settings, counts)
    page = await (await client.get("/metrics")).text()
    assert "zhinan_nlu_parse_cache_hits_total 3.0" in page
    assert read_cache_counters(page) == {"zhinan_nlu_parse": (3.0, 1.0)}
