"""Hit and miss counts of caches that live in other processes than the gateway (issue #23).

The Rasa workers keep a cache of whole NLU parses (bot/rasa_server/parse_cache.py). They are
separate processes with no metrics endpoint of ours, so each worker counts locally and adds its
pending counts to the Redis pipeline its tracker store executes anyway at every turn (no extra
round trip); the gateway's /metrics reads the totals at scrape time and exports them as
`zhinan_<name>_cache_hits_total` / `..._misses_total`, which `make bench` reads.

Redis layout: `cachestats` HASH, fields "<name>:hits" and "<name>:misses" (totals since the keys
were made; Prometheus counters, so only their increase over a run means anything).
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Tuple

# Redis key families this module owns; nobody else builds their keys (tests/bot/test_key_ownership.py)
KEY_FAMILIES = ("cachestats",)

KeyBuilder = Callable[..., str]
HITS, MISSES = "hits", "misses"


class PendingCounts:
    """A process's counts not yet written to Redis; thread-safe (a lock around two integers)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def count(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self._hits += 1
            else:
                self._misses += 1

    def take(self) -> Tuple[int, int]:
        """(hits, misses) since the last take, and zero again."""
        with self._lock:
            taken = (self._hits, self._misses)
            self._hits = self._misses = 0
        return taken

    def give_back(self, hits: int, misses: int) -> None:
        """Counts taken for a write that failed, to go with the next one."""
        with self._lock:
            self._hits += hits
            self._misses += misses

    def queue(self, pipe: Any, key: KeyBuilder) -> Tuple[int, int]:
        """Add the pending counts to a Redis pipeline (nothing when there are none); returns what
        was queued, for `give_back` if the pipeline fails."""
        hits, misses = self.take()
        if hits:
            pipe.hincrby(key("cachestats"), f"{self.name}:{HITS}", hits)
        if misses:
            pipe.hincrby(key("cachestats"), f"{self.name}:{MISSES}", misses)
        return hits, misses


async def read_totals(redis: Any, key: KeyBuilder) -> Dict[str, Tuple[int, int]]:
    """{cache name: (hits, misses)} as counted by every process so far."""
    raw = await redis.hgetall(key("cachestats"))
    totals: Dict[str, list] = {}
    for field, value in raw.items():
        name, _, kind = str(field).rpartition(":")
        if kind in (HITS, MISSES) and name:
            pair = totals.setdefault(name, [0, 0])
            pair[0 if kind == HITS else 1] += int(value)
    return {name: (hits, misses) for name, (hits, misses) in totals.items()}
