"""The one Redis client factory: every process and test builds its clients here.

Without `REDIS_SENTINELS` a client connects to REDIS_URL (or the embedded server). With it, the
client asks the Sentinels for the current primary of `REDIS_SENTINEL_MASTER` on every new
connection (redis-py's Sentinel-managed pools), so after a failover it reconnects to the promoted
replica by itself; a command that meets the failover (connection refused or reset, a timeout, or
"READONLY" from a demoted primary) is sent again with backoff, for about `FAILOVER_RETRY_BUDGET_S`.
The writes that are sent again are the project's idempotent ones (booking by request id, enrolment
by openid, Lua scripts that check before they write): see docs/redis_ha.md.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, TypeVar
from urllib.parse import quote, unquote, urlparse

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelPool
from redis.asyncio.sentinel import SentinelManagedConnection as AsyncSentinelConnection
from redis.asyncio.sentinel import SentinelManagedSSLConnection as AsyncSentinelSSLConnection
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, ReadOnlyError, TimeoutError
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection, SentinelManagedSSLConnection

from bot.settings import Settings, effective_redis_url, load_settings

logger = logging.getLogger(__name__)
Result = TypeVar("Result")

# Connections one client (one per process) keeps to Redis, and how long a command waits for a free
# one. The gateway runs redis-py ≥ 5, whose pool fails a command with MaxConnectionsError past 100
# connections; Rasa's environment runs 4.6, whose pool never stops opening sockets. A blocking pool
# behaves the same in both: a burst (a thousand users booking one workshop at once) queues briefly
# for a connection instead of failing, and never opens a socket per waiting request.
MAX_CONNECTIONS = 128
POOL_WAIT_S = 2.0

# Sentinel only. Sentinel needs down-after-milliseconds plus an election to promote a replica
# (docs/redis_ha.md measures it); a command is retried for about this long, then fails.
FAILOVER_RETRIES = 24
FAILOVER_BACKOFF_CAP_S = 0.5
FAILOVER_BACKOFF_BASE_S = 0.05
FAILOVER_RETRY_BUDGET_S = sum(
    min(FAILOVER_BACKOFF_CAP_S, FAILOVER_BACKOFF_BASE_S * 2**n) for n in range(FAILOVER_RETRIES)
)
FAILOVER_ERRORS = [ConnectionError, TimeoutError, ReadOnlyError]
SENTINEL_SOCKET_TIMEOUT_S = 1.0


class _BlockingSentinelPool(AsyncSentinelPool, aioredis.BlockingConnectionPool):
    """Sentinel-managed connections in the same bounded, waiting pool as without Sentinel.

    Closing the client disconnects the whole pool (both redis-py versions), and with it the
    connections to the Sentinels, which redis-py leaves open: a process that shuts down (or a
    command-line tool) would otherwise leave one socket per Sentinel asked. A failover only
    drops the idle connections (`inuse_connections=False`) and keeps the Sentinels'."""

    async def disconnect(self, inuse_connections: bool = True) -> None:
        await super().disconnect(inuse_connections)
        if inuse_connections:
            for sentinel in self.sentinel_manager.sentinels:
                await sentinel.connection_pool.disconnect()


class _SentinelClient(redis.Redis):
    """The blocking client under Sentinel: closing it closes its pool and the connections to the
    Sentinels too (redis-py 4.6 closes neither; the current release leaves the Sentinels')."""

    def close(self) -> None:
        super().close()
        if not hasattr(self, "connection_pool"):  # redis-py 4.6 closes from __del__, even half-built
            return
        self.connection_pool.disconnect()
        for sentinel in self.connection_pool.sentinel_manager.sentinels:
            sentinel.connection_pool.disconnect()


# redis-py ≥ 6 reconnects a dropped connection in `connect_check_health`, to the address it had,
# skipping the Sentinel lookup its `connect` does: every retry after a failover went to the dead
# primary (measured: the gateway's client never resumed). These ask Sentinel first; redis-py 4.6
# has no such method and reconnects through `connect`, so for it they change nothing.
class _AsyncLookupOnReconnect(AsyncSentinelConnection):
    async def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        if self.connection_pool.is_master and not self.is_connected:
            self.host, self.port = await self.connection_pool.get_master_address()
        await super().connect_check_health(*args, **kwargs)


class _AsyncLookupOnReconnectSSL(_AsyncLookupOnReconnect, AsyncSentinelSSLConnection):
    pass


class _LookupOnReconnect(SentinelManagedConnection):
    def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        if self.connection_pool.is_master and self._sock is None:
            self.host, self.port = self.connection_pool.get_master_address()
        super().connect_check_health(*args, **kwargs)


class _LookupOnReconnectSSL(_LookupOnReconnect, SentinelManagedSSLConnection):
    pass


def create_redis(
    settings: Optional[Settings] = None, *, url: Optional[str] = None
) -> aioredis.Redis:
    """An asyncio Redis client (decoded strings) for the gateway, actions, jobs and Rasa's tracker
    store. `url` overrides REDIS_URL (Rasa's stores pass what endpoints.yml gives them); under
    Sentinel only its database number and credentials count."""
    settings = settings or load_settings()
    target = url or effective_redis_url(settings)
    options: Dict[str, Any] = dict(
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT_S,
        decode_responses=True,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )
    if settings.redis_sentinels:
        database, ssl = _database_options(target)
        sentinel = AsyncSentinel(settings.redis_sentinels, sentinel_kwargs=_sentinel_kwargs(settings))
        pool: aioredis.ConnectionPool = _BlockingSentinelPool(
            settings.redis_sentinel_master, sentinel, is_master=True,
            connection_class=_AsyncLookupOnReconnectSSL if ssl else _AsyncLookupOnReconnect,
            retry=AsyncRetry(_failover_backoff(), FAILOVER_RETRIES), retry_on_error=FAILOVER_ERRORS,
            **database, **options,
        )
    else:
        pool = aioredis.BlockingConnectionPool.from_url(target, **options)
    client = aioredis.Redis(connection_pool=pool)
    # The pool is this client's alone: closing the client closes it (both redis-py versions).
    client.auto_close_connection_pool = True
    return client


def create_sync_redis(
    settings: Optional[Settings] = None,
    *,
    url: Optional[str] = None,
    decode_responses: bool = True,
) -> redis.Redis:
    """A blocking client: command-line tools (imports, exports, user admin) and Rasa's lock store."""
    settings = settings or load_settings()
    target = url or effective_redis_url(settings)
    options: Dict[str, Any] = dict(
        decode_responses=decode_responses, socket_timeout=5.0, socket_connect_timeout=2.0
    )
    if settings.redis_sentinels:
        database, ssl = _database_options(target)
        sentinel = Sentinel(settings.redis_sentinels, sentinel_kwargs=_sentinel_kwargs(settings))
        return sentinel.master_for(
            settings.redis_sentinel_master, redis_class=_SentinelClient,
            connection_class=_LookupOnReconnectSSL if ssl else _LookupOnReconnect,
            retry=Retry(_failover_backoff(), FAILOVER_RETRIES), retry_on_error=FAILOVER_ERRORS,
            **database, **options,
        )
    return redis.from_url(target, **options)


def endpoint_url(
    host: str, port: int, db: int = 0, password: Optional[str] = None,
    username: Optional[str] = None, use_ssl: bool = False,
) -> str:
    """The URL of the settings Rasa's endpoints.yml gives its tracker and lock store."""
    credentials = ""
    if username or password:
        credentials = f"{quote(username or '', safe='')}:{quote(password or '', safe='')}@"
    scheme = "rediss" if use_ssl else "redis"
    return f"{scheme}://{credentials}{host}:{int(port)}/{int(db)}"


def _database_options(url: str) -> Tuple[Dict[str, Any], bool]:
    """What of a URL still counts under Sentinel: the database, the primary's credentials, TLS."""
    parsed = urlparse(url)
    database = {
        "db": int((parsed.path or "/0").lstrip("/") or 0),
        "username": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
    }
    return database, parsed.scheme == "rediss"


def _sentinel_kwargs(settings: Settings) -> Dict[str, Any]:
    return {
        "password": settings.redis_sentinel_password or None,
        "socket_timeout": SENTINEL_SOCKET_TIMEOUT_S,
        "socket_connect_timeout": SENTINEL_SOCKET_TIMEOUT_S,
    }


def _failover_backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=FAILOVER_BACKOFF_CAP_S, base=FAILOVER_BACKOFF_BASE_S)


def failover_budget_s(settings: Settings) -> float:
    """How long a replayable write may be sent again: a failover's length under Sentinel; without
    Sentinel nothing is retried (a single Redis that is gone does not come back by itself)."""
    return FAILOVER_RETRY_BUDGET_S if settings.redis_sentinels else 0.0


def retry_unsent(settings: Settings, attempt: Callable[[Dict[str, bool]], Result]) -> Result:
    """Run a blocking `attempt` again after a failover error while it had not yet sent its write
    (it sets state["sent"] just before it does): only then is a second run certainly harmless."""
    deadline = time.monotonic() + failover_budget_s(settings)
    backoff = _failover_backoff()
    for number in itertools.count():
        state = {"sent": False}
        try:
            return attempt(state)
        except tuple(FAILOVER_ERRORS):
            if state["sent"] or time.monotonic() >= deadline:
                raise
            time.sleep(backoff.compute(number))
    raise AssertionError("unreachable")


async def run_acknowledged(
    redis_client: aioredis.Redis, settings: Settings, script: Any, keys: Sequence[Any], args: Sequence[Any]
) -> Any:
    """Run a Lua script whose result the user is told, and, when REDIS_ACK_REPLICAS asks for it,
    wait until that many replicas have it before returning, so a failover cannot lose it.

    WAIT counts the writes of its own connection, so the script and WAIT go in one pipeline (one
    connection). A failover that cuts the pipeline sends both again to the new primary, within
    FAILOVER_RETRY_BUDGET_S; the scripts given here are idempotent, so the second run answers like
    the first (redis-py does not retry a pipeline's script loading by itself)."""
    replicas = settings.redis_ack_replicas
    if replicas <= 0:
        return await script(keys=list(keys), args=list(args))
    deadline = time.monotonic() + failover_budget_s(settings)
    backoff = _failover_backoff()
    for attempt in itertools.count():
        try:
            result, acknowledged = await _script_then_wait(redis_client, settings, script, keys, args)
            break
        except tuple(FAILOVER_ERRORS):
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(backoff.compute(attempt))
    if int(acknowledged) < replicas:
        # The write is on the primary; only its copy is late. Refusing now would tell the user a
        # booking failed that exists, so it is logged for the operators (docs/redis_ha.md).
        logger.warning("write acknowledged by %s of %s replicas in %s ms",
                       acknowledged, replicas, settings.redis_ack_timeout_ms)
    return result


async def _script_then_wait(
    redis_client: aioredis.Redis, settings: Settings, script: Any, keys: Sequence[Any], args: Sequence[Any]
) -> Tuple[Any, int]:
    async with redis_client.pipeline(transaction=False) as pipe:
        # EVAL, not EVALSHA: a promoted replica has no script cache to find the script in.
        pipe.eval(script.script, len(keys), *keys, *args)
        pipe.execute_command("WAIT", settings.redis_ack_replicas, settings.redis_ack_timeout_ms)
        result, acknowledged = await pipe.execute()
    return result, int(acknowledged)
