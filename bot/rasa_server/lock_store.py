"""Rasa's Redis lock store with atomic ticket updates, so turns stay serial across workers.

Rasa 3.6's `RedisLockStore` changes a conversation's ticket lock by reading it, changing it in
Python and writing it back. Inside one Sanic worker that is safe (its Redis client blocks the
loop), but with `RASA_WORKERS` > 1 two workers can read the same lock and the second write drops
the first worker's ticket. Both turns then run at once on the same conversation, and both save
their events: the stack test that sends six messages of one user at once found duplicated user
turns in the stored conversation this way. Measured with 8 threads issuing 25 tickets each for one
conversation (each thread with its own connection): Rasa's store kept 41–45 of the 200 tickets in
three runs, this one all 200.

Here every change is one optimistic Redis transaction (WATCH the lock key, read, change, MULTI
write; Redis retries it if another worker wrote the key in between). Configured in endpoints.yml.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, Optional, Text, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.redis_client import create_sync_redis, endpoint_url, retry_unsent
from bot.settings import load_settings

Result = TypeVar("Result")
# A change gets the stored lock (None if there is none) and returns the lock to store (None
# deletes it) and what the caller gets back.
Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Result]]


class AtomicRedisLockStore(RedisLockStore):
    """`type: bot.rasa_server.lock_store.AtomicRedisLockStore` in endpoints.yml (settings as `redis`)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self._settings = load_settings()
        # Rasa's constructor built a client of its own (it connects lazily, so nothing is open);
        # the project's factory replaces it: one pool, and failover under REDIS_SENTINELS.
        self.red = create_sync_redis(
            self._settings,
            url=endpoint_url(
                kwargs.get("host") or "localhost", kwargs.get("port", 6379), kwargs.get("db", 1),
                kwargs.get("password"), kwargs.get("username"), bool(kwargs.get("use_ssl")),
            ),
            decode_responses=False,
        )

    def _change(self, conversation_id: Text, change: Change) -> Result:
        key = self.key_prefix + conversation_id

        def attempt(state: Dict[str, bool]) -> Result:
            def transaction(pipe: Any) -> Result:
                stored = pipe.get(key)
                lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                new_lock, result = change(lock)
                pipe.multi()
                if new_lock is None:
                    pipe.delete(key)
                else:
                    pipe.set(key, new_lock.dumps())
                state["sent"] = True  # redis-py sends MULTI … EXEC when this returns
                return result

            return self.red.transaction(transaction, key, value_from_callable=True)

        # Under Sentinel a failover that cuts WATCH or GET is retried on the promoted replica;
        # one that cuts EXEC is not (the ticket may exist: a second one would hold the user's
        # turns until it expires), and Rasa answers that turn with an error instead.
        return retry_unsent(self._settings, attempt)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # Rasa's contract: any failure here is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._change(conversation_id, _without_ticket(ticket_number, keep_empty=True))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket, and the lock with it when nobody else is waiting, in one step."""
        self._change(conversation_id, _without_ticket(ticket_number, keep_empty=False))


def _without_ticket(ticket_number: int, keep_empty: bool) -> Change:
    def remove(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
        if lock is None:
            return None, None
        lock.remove_ticket_for(ticket_number)
        return (lock if keep_empty or lock.is_someone_waiting() else None), None

    return remove
