"""Redis Sentinel failover on Rasa's side (redis-py 4.6, .venv): the actions' async client books
through the kill of the primary, and Rasa's lock store — built by the project's factory from the
settings, as in every Rasa replica — goes on issuing tickets on the promoted replica. Scenario and
figures as in test_redis_failover.py (the gateway's redis-py)."""
from __future__ import annotations

import pytest

from bot.rasa_server.lock_store import AtomicRedisLockStore
from tests.helpers.failover import (
    acknowledged_set,
    assert_survived,
    check_bookings_survive_failover,
    sync_drill,
)
from tests.helpers.redis_sentinel import sentinel_cluster
from tests.helpers.redis_server import needs_redis_server

pytestmark = [pytest.mark.slow, needs_redis_server]


async def test_bookings_from_the_actions_survive_a_primary_killed_under_load(settings, tmp_path):
    await check_bookings_survive_failover(settings, tmp_path, "async client (redis-py 4.6), bookings")


@pytest.mark.parametrize("scripted", [True, False], ids=["scripted", "watch"])
def test_rasas_lock_store_resumes_on_the_promoted_replica(settings, tmp_path, monkeypatch, scripted):
    with sentinel_cluster(tmp_path) as cluster:
        ha = cluster.settings(settings)
        # what a Rasa replica's environment says; the store reads it through load_settings()
        monkeypatch.setenv("REDIS_SENTINELS", ",".join(f"{h}:{p}" for h, p in ha.redis_sentinels))
        monkeypatch.setenv("REDIS_SENTINEL_MASTER", ha.redis_sentinel_master)

        def store() -> AtomicRedisLockStore:
            # endpoints.yml's host and port are those of no server: only Sentinel can be used
            return AtomicRedisLockStore(
                host="127.0.0.1", port=1, db=0, key_prefix=f"{settings.redis_key_prefix}lock", scripted=scripted
            )

        def make_turn():
            lock_store = store()

            def turn(n: int) -> None:
                conversation = f"ha-user-{n}"
                ticket = lock_store.issue_ticket(conversation, 30)
                acknowledged_set(lock_store.red, f"{lock_store.key_prefix}ha:{n}")
                lock_store.cleanup(conversation, ticket)

            return turn

        checker = store()
        result = sync_drill(cluster, make_turn, lambda n: bool(checker.red.exists(f"{checker.key_prefix}ha:{n}")))
    print("\n" + result.summary(f"Rasa lock store ({'scripted' if scripted else 'WATCH'}), sync client (redis-py 4.6)"))
    assert_survived(result, cluster)
