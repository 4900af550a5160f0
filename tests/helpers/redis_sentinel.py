"""A Redis primary, one replica and three Sentinels of the test's own, on free loopback ports.

Sentinel is redis-server in Sentinel mode (`redis-server sentinel.conf --sentinel`); the timings
are cut so a failover takes about a second instead of Sentinel's default half minute.
"""
from __future__ import annotations

import subprocess
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator, List, Tuple

import redis

from bot.settings import Settings
from bot.stack import free_port
from tests.helpers.redis_server import launch_redis_server, start_redis_server

MASTER_NAME = "zhinanha"
DOWN_AFTER_MS = 500
FAILOVER_TIMEOUT_MS = 3000


class SentinelCluster:
    """`replica=False`: the primary and one Sentinel only, for what needs no failover."""

    def __init__(self, directory: Path, replica: bool = True) -> None:
        self.directory = directory
        self.replica = replica
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.sentinel_ports = [free_port() for _ in range(3 if replica else 1)]
        self._servers: dict = {}
        self._sentinels: List[subprocess.Popen] = []

    def start(self) -> None:
        for name, port, extra in (
            ("primary", self.primary_port, ()),
            ("replica", self.replica_port, ("--replicaof", "127.0.0.1", str(self.primary_port))),
        )[: 2 if self.replica else 1]:
            folder = self.directory / name
            folder.mkdir(parents=True, exist_ok=True)
            self._servers[port] = start_redis_server(port, folder, "--appendonly", "yes", *extra)
        if self.replica:
            self._wait_for_replica_link()
        for port in self.sentinel_ports:
            self._sentinels.append(launch_redis_server(["redis-server", str(self._sentinel_conf(port)), "--sentinel"], port))
        if self.replica:
            # a Sentinel learns of replicas from the primary's INFO; on a busy machine that took over 15 s once
            self._wait(lambda: all(self._sentinel_sees_replica(p) for p in self.sentinel_ports),
                       "Sentinels to see the replica", timeout_s=45.0)

    def _sentinel_conf(self, port: int) -> Path:
        conf = self.directory / f"sentinel-{port}.conf"
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.primary_port} {min(2, len(self.sentinel_ports))}\n"
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {MASTER_NAME} 1\n"
        )
        return conf

    def settings(self, base: Settings, ack_replicas: int = 1, ack_timeout_ms: int = 1000) -> Settings:
        return replace(
            base,
            redis_url="redis://127.0.0.1:1/0",  # under Sentinel only the database number counts
            redis_sentinels=tuple(("127.0.0.1", p) for p in self.sentinel_ports),
            redis_sentinel_master=MASTER_NAME,
            redis_ack_replicas=ack_replicas,
            redis_ack_timeout_ms=ack_timeout_ms,
        )

    def kill_primary(self) -> float:
        """kill -9 the current primary; returns the moment it died (time.monotonic)."""
        port = self.current_primary()[1]
        proc = self._servers[port]
        proc.kill()
        proc.wait(timeout=10)
        return time.monotonic()

    def current_primary(self) -> Tuple[str, int]:
        client = redis.Redis(port=self.sentinel_ports[0], decode_responses=True, socket_timeout=1)
        try:
            host, port = client.sentinel_get_master_addr_by_name(MASTER_NAME)
            return host, int(port)
        finally:
            client.close()

    def stop(self) -> None:
        for proc in [*self._sentinels, *self._servers.values()]:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    def _wait_for_replica_link(self) -> None:
        replica = redis.Redis(port=self.replica_port, decode_responses=True, socket_timeout=1)
        try:
            self._wait(lambda: replica.info("replication").get("master_link_status") == "up", "the replica to sync")
        finally:
            replica.close()

    def _sentinel_sees_replica(self, port: int) -> bool:
        client = redis.Redis(port=port, decode_responses=True, socket_timeout=1)
        try:
            return any(int(r["port"]) == self.replica_port for r in client.sentinel_slaves(MASTER_NAME))
        except redis.RedisError:
            return False
        finally:
            client.close()

    @staticmethod
    def _wait(condition, what: str, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")


@contextmanager
def sentinel_cluster(directory: Path, replica: bool = True) -> Iterator[SentinelCluster]:
    cluster = SentinelCluster(directory, replica)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()

