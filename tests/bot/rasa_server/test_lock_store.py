"""bot.rasa_server.lock_store: ticket changes from several workers at once never lose a ticket."""
from __future__ import annotations

import asyncio
import threading
from typing import Callable, List

import pytest
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.rasa_server.lock_store import AtomicRedisLockStore
from bot.settings import PROJECT_ROOT
from bot.stack import rasa_environment

WORKERS, TICKETS_EACH = 8, 25


def _endpoint(settings, monkeypatch, scripted: bool) -> EndpointConfig:
    for name, value in rasa_environment(settings).items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "lock_store")
    config.kwargs["scripted"] = scripted
    return config


@pytest.fixture(params=[True, False], ids=["scripted", "watch"])
def endpoint(settings, monkeypatch, request) -> EndpointConfig:
    """endpoints.yml's lock_store, with the variables the stack gives Rasa for these settings;
    each test runs with the Lua scripts (endpoints.yml's `scripted: true`) and without."""
    return _endpoint(settings, monkeypatch, request.param)


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


def test_the_store_is_built_from_endpoints_yml(settings, endpoint):
    store = RedisLockStore.create(endpoint)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix.startswith(settings.redis_key_prefix)


def test_concurrent_tickets_are_all_kept_and_distinct(endpoint):
    store = AtomicRedisLockStore(endpoint)
    issued = _issue_from_threads(lambda: AtomicRedisLockStore(endpoint), "c1")
    lock = store.get_lock("c1")
    assert len(issued) == len(set(issued)) == WORKERS * TICKETS_EACH
    assert sorted(ticket.number for ticket in lock.tickets) == sorted(issued)


def test_cleanup_deletes_the_lock_only_when_nobody_waits(endpoint):
    store = AtomicRedisLockStore(endpoint)
    first, second = store.issue_ticket("c2", 60), store.issue_ticket("c2", 60)
    store.cleanup("c2", first)
    assert [t.number for t in store.get_lock("c2").tickets] == [second]
    store.cleanup("c2", second)
    assert store.get_lock("c2") is None
    store.cleanup("c2", second)  # nothing left: no error, nothing created
    assert store.get_lock("c2") is None


def test_finish_serving_keeps_an_empty_lock_and_update_drops_expired_tickets(endpoint):
    store = AtomicRedisLockStore(endpoint)
    alive = store.issue_ticket("c3", 60)
    expired = store.issue_ticket("c3", -1)  # issued already past its lifetime
    assert [t.number for t in store.get_lock("c3").tickets] == [alive, expired]
    store.update_lock("c3")
    assert [t.number for t in store.get_lock("c3").tickets] == [alive]
    store.finish_serving("c3", alive)
    assert store.get_lock("c3") is not None and list(store.get_lock("c3").tickets) == []


def test_two_rasa_replicas_serve_one_users_turns_one_at_a_time_in_ticket_order(endpoint):
    """Two Rasa replicas (own store, own connection, own event loop) take turns of one user at
    once: a turn never starts before the previous one ended, and they go in ticket order."""
    served: List[tuple] = []
    record = threading.Lock()

    async def turns(store: AtomicRedisLockStore, replica: str) -> None:
        for _ in range(10):
            async with store.lock("same-user", lock_lifetime=30, wait_time_in_seconds=0.005) as lock:
                with record:
                    served.append(("start", replica, lock.now_serving))
                await asyncio.sleep(0.01)  # the turn's work: NLU, policies, actions
                with record:
                    served.append(("end", replica, lock.now_serving))

    threads = [
        threading.Thread(target=lambda name=name: asyncio.run(turns(AtomicRedisLockStore(endpoint), name)))
        for name in ("rasa-a", "rasa-b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(served) == 40
    starts, ends = served[0::2], served[1::2]
    assert all(s[0] == "start" and e[0] == "end" and s[1:] == e[1:] for s, e in zip(starts, ends))
    # Served in the order the tickets were issued; numbering restarts at 0 only when the lock
    # went away because nobody was waiting.
    tickets = [s[2] for s in starts]
    assert all(now in (before + 1, 0) for before, now in zip(tickets, tickets[1:])), tickets
    assert {s[1] for s in starts} == {"rasa-a", "rasa-b"}


def test_endpoints_yml_asks_for_the_scripts(settings, monkeypatch):
    for name, value in rasa_environment(settings).items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "lock_store")
    assert AtomicRedisLockStore(config).scripted is True


async def test_a_scripted_turn_costs_two_round_trips(settings, monkeypatch):
    store = AtomicRedisLockStore(_endpoint(settings, monkeypatch, scripted=True))
    async with store.lock("warm-up"):  # loads the script once
        pass
    commands: List[str] = []
    execute = store.red.execute_command
    monkeypatch.setattr(store.red, "execute_command", lambda *a, **k: commands.append(a[0]) or execute(*a, **k))
    async with store.lock("c5") as lock:
        issued = list(commands)
        assert lock.now_serving == 0
    assert issued == ["EVALSHA"] and commands == ["EVALSHA", "EVALSHA"]
    assert store.get_lock("c5") is None


def test_locks_written_by_one_way_are_changed_by_the_other(settings, endpoint):
    """A rolling deployment: workers with and without the scripts share the locks."""
    other = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "lock_store")
    other.kwargs["scripted"] = not endpoint.kwargs["scripted"]
    first, second = AtomicRedisLockStore(endpoint), AtomicRedisLockStore(other)
    tickets = [first.issue_ticket("c6", 60), second.issue_ticket("c6", 60), first.issue_ticket("c6", 60)]
    assert tickets == [0, 1, 2]
    second.cleanup("c6", 0)
    assert [t.number for t in first.get_lock("c6").tickets] == [1, 2]
    first.finish_serving("c6", 1)
    second.update_lock("c6")
    assert [t.number for t in second.get_lock("c6").tickets] == [2]
    first.cleanup("c6", 2)
    assert second.get_lock("c6") is None
