"""Redis Sentinel failover with real processes (issue 24): a primary, a replica and three
Sentinels on loopback ports; bookings go on while the primary is killed with SIGKILL. Through
the project's client factory the writers reconnect to the promoted replica by themselves, and
with REDIS_ACK_REPLICAS=1 no booking a user was told about is lost. The gateway's redis-py
(async, and the sync client of the command-line tools); Rasa's side: test_redis_failover_rasa.py.
Figures: docs/redis_ha.md."""
from __future__ import annotations

import pytest

from bot.redis_client import create_sync_redis
from tests.helpers.failover import (
    acknowledged_set,
    assert_survived,
    check_bookings_survive_failover,
    sync_drill,
)
from tests.helpers.redis_sentinel import sentinel_cluster
from tests.helpers.redis_server import needs_redis_server

pytestmark = [pytest.mark.slow, needs_redis_server]


async def test_bookings_survive_a_primary_killed_under_load(settings, tmp_path):
    await check_bookings_survive_failover(settings, tmp_path, "async client, bookings")


def test_the_sync_client_resumes_on_the_promoted_replica(settings, tmp_path):
    with sentinel_cluster(tmp_path) as cluster:
        ha_settings = cluster.settings(settings)
        key = ha_settings.key("ha", "turn", "{}")

        def make_turn():
            client = create_sync_redis(ha_settings)
            return lambda n: acknowledged_set(client, key.format(n))

        checker = create_sync_redis(ha_settings)
        result = sync_drill(cluster, make_turn, lambda n: bool(checker.exists(key.format(n))))
    print("\n" + result.summary("sync client, acknowledged SETs"))
    assert_survived(result, cluster)
