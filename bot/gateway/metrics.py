"""Prometheus metrics at GET /metrics.

    from bot.gateway.metrics import setup_metrics
    setup_metrics(app)   # in create_app, after the app's resources are registered

Exposes user messages by channel and by who answered (rasa / interceptor / error), bot replies,
turn latency (from the first interceptor to the last observer), handoff queue length and open
conversations (read from Redis at scrape time), waits to first claim and counsellor replies, and
the hit/miss counts of caches kept by other processes (the Rasa workers' parse cache; written to
Redis by them, bot/services/cache_stats.py, read here at scrape time).
Each app gets its own registry, so several apps in one process (tests) do not collide.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Dict, Iterator, List, Optional, Tuple

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily

from bot.gateway.appkeys import CONVERSATION, HANDOFF, REDIS, SETTINGS
from bot.services.cache_stats import read_totals

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 10.0, 20.0)
WAIT_BUCKETS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


class CacheCounters:
    """Prometheus counters `<name>_cache_hits_total` / `_misses_total` for the totals last read
    from Redis (other processes count; a registry collector cannot await, so the scrape handler
    refreshes `totals` first)."""

    def __init__(self) -> None:
        self.totals: Dict[str, Tuple[int, int]] = {}

    def collect(self) -> Iterator[CounterMetricFamily]:
        for name, (hits, misses) in sorted(self.totals.items()):
            yield CounterMetricFamily(f"{name}_cache_hits", f"{name} cache lookups answered", value=hits)
            yield CounterMetricFamily(f"{name}_cache_misses", f"{name} cache lookups computed", value=misses)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.caches = CacheCounters()
        r.register(self.caches)
        self.messages = Counter("zhinan_messages_total", "User turns handled", ["channel", "handled_by"], registry=r)
        self.replies = Counter("zhinan_bot_replies_total", "Messages sent back in answer to turns", ["handled_by"], registry=r)
        self.latency = Histogram("zhinan_turn_latency_seconds", "Time to answer one user turn", ["handled_by"], buckets=LATENCY_BUCKETS, registry=r)
        self.queue_length = Gauge("zhinan_handoff_queue_length", "Conversations waiting for a counsellor", registry=r)
        self.held = Gauge("zhinan_handoff_held", "Conversations a counsellor holds now", registry=r)
        self.online = Gauge("zhinan_handoff_staff_online", "Counsellors with an open console", registry=r)
        self.oldest_wait = Gauge("zhinan_handoff_oldest_wait_seconds", "How long the longest-waiting item has waited", registry=r)
        self.waits = Histogram("zhinan_handoff_wait_seconds", "Wait from queued to first claim", buckets=WAIT_BUCKETS, registry=r)
        self.counsellor_replies = Counter("zhinan_counsellor_replies_total", "Counsellor replies sent", registry=r)

    def observe_wait(self, seconds: float) -> None:
        self.waits.observe(seconds)

    def count_counsellor_reply(self) -> None:
        self.counsellor_replies.inc()


METRICS = web.AppKey("metrics", Metrics)


class TurnTimer:
    """Interceptor that never answers (returns None): it only notes when a turn started."""

    def __init__(self, max_pending: int = 10000) -> None:
        self.started: "OrderedDict[int, float]" = OrderedDict()
        self._max = max_pending

    async def intercept(self, turn: Any) -> Optional[List[str]]:
        self.started[id(turn)] = time.perf_counter()
        while len(self.started) > self._max:  # turns that never finished (cancelled requests)
            self.started.popitem(last=False)
        return None


class TurnMetricsObserver:
    """ConversationService observer: counts messages and replies and records latency."""

    def __init__(self, metrics: Metrics, timer: Optional[TurnTimer] = None) -> None:
        self.metrics = metrics
        self.timer = timer

    async def observe(self, turn: Any, replies: List[str], handled_by: str) -> None:
        self.metrics.messages.labels(getattr(turn, "channel", "wechat"), handled_by).inc()
        self.metrics.replies.labels(handled_by).inc(len(replies))
        if self.timer is not None:
            start = self.timer.started.pop(id(turn), None)
            if start is not None:
                self.metrics.latency.labels(handled_by).observe(time.perf_counter() - start)


async def _refresh_handoff_gauges(app: web.Application, metrics: Metrics) -> None:
    handoff = app.get(HANDOFF)
    if handoff is None:
        return
    metrics.queue_length.set(await handoff.queue_length())
    metrics.held.set(await handoff.held_count())
    metrics.online.set(len(await handoff.online_staff()))
    metrics.oldest_wait.set(await handoff.oldest_wait_s())


async def _refresh_cache_counters(app: web.Application, metrics: Metrics) -> None:
    redis, settings = app.get(REDIS), app.get(SETTINGS)
    if redis is not None and settings is not None:
        metrics.caches.totals = await read_totals(redis, settings.key)


def setup_metrics(app: web.Application, path: str = "/metrics") -> Metrics:
    """Register /metrics and, at startup, the turn timer and observer on ConversationService.

    The timer must be the first interceptor to measure the whole turn: call setup_metrics
    before setup_console."""
    metrics = Metrics()
    app[METRICS] = metrics
    timer = TurnTimer()

    async def _ctx(app: web.Application) -> Any:
        conversation = app[CONVERSATION]
        conversation._interceptors.insert(0, timer)  # first, whatever the setup order
        conversation.add_observer(TurnMetricsObserver(metrics, timer))
        yield

    async def handler(request: web.Request) -> web.Response:
        try:
            await _refresh_handoff_gauges(request.app, metrics)
        except Exception:  # a Redis hiccup must not break the scrape of the other metrics
            pass
        try:
            await _refresh_cache_counters(request.app, metrics)
        except Exception:  # the last totals read stay
            pass
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.cleanup_ctx.append(_ctx)
    app.router.add_get(path, handler)
    return metrics
