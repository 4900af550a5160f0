"""bot.rasa_lock_store: ticket changes from several workers at once never lose a ticket."""
from __future__ import annotations

import threading
from typing import Callable, List
from urllib.parse import urlparse

from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_lock_store import AtomicRedisLockStore
from tests.conftest import TEST_REDIS_URL

WORKERS, TICKETS_EACH = 8, 25


def _endpoint(settings) -> EndpointConfig:
    url = urlparse(TEST_REDIS_URL)
    return EndpointConfig(
        url=url.hostname, type="bot.rasa_lock_store.AtomicRedisLockStore", port=url.port or 6379,
        db=(url.path or "/0").lstrip("/") or "0", key_prefix=f"{settings.redis_key_prefix}lock",
    )


def _issue_from_threads(make_store: Callable[[], RedisLockStore], conversation: str) -> List[int]:
    """WORKERS threads, each with its own store and connection, as Rasa's worker processes have."""
    stores = [make_store() for _ in range(WORKERS)]
    issued: List[int] = []
    start = threading.Barrier(WORKERS)

    def work(store: RedisLockStore) -> None:
        start.wait()
        for _ in range(TICKETS_EACH):
            issued.append(store.issue_ticket(conversation, 60))

    threads = [threading.Thread(target=work, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return issued


def test_the_store_is_built_from_endpoints_yml_settings(settings):
    store = RedisLockStore.create(_endpoint(settings))
    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix.startswith(settings.redis_key_prefix)


def test_concurrent_tickets_are_all_kept_and_distinct(settings):
    store = AtomicRedisLockStore(_endpoint(settings))
    issued = _issue_from_threads(lambda: AtomicRedisLockStore(_endpoint(settings)), "c1")
    lock = store.get_lock("c1")
    assert len(issued) == len(set(issued)) == WORKERS * TICKETS_EACH
    assert sorted(ticket.number for ticket in lock.tickets) == sorted(issued)


def test_cleanup_deletes_the_lock_only_when_nobody_waits(settings):
    store = AtomicRedisLockStore(_endpoint(settings))
    first, second = store.issue_ticket("c2", 60), store.issue_ticket("c2", 60)
    store.cleanup("c2", first)
    assert [t.number for t in store.get_lock("c2").tickets] == [second]
    store.cleanup("c2", second)
    assert store.get_lock("c2") is None
    store.cleanup("c2", second)  # nothing left: no error, nothing created
    assert store.get_lock("c2") is None


def test_finish_serving_keeps_an_empty_lock_and_update_drops_expired_tickets(settings):
    store = AtomicRedisLockStore(_endpoint(settings))
    alive = store.issue_ticket("c3", 60)
    expired = store.issue_ticket("c3", -1)  # issued already past its lifetime
    assert [t.number for t in store.get_lock("c3").tickets] == [alive, expired]
    store.update_lock("c3")
    assert [t.number for t in store.get_lock("c3").tickets] == [alive]
    store.finish_serving("c3", alive)
    assert store.get_lock("c3") is not None and list(store.get_lock("c3").tickets) == []
