"""The processes of the failure drills (`make test-cluster`), all on loopback ports:

    WeChat clients -> haproxy :wechat -> gateway 1 | gateway 2
    gateways       -> haproxy :rasa    -> Rasa 1 | Rasa 2          (RASA_WORKERS=1 each)
    Rasa           -> haproxy :actions -> action server 1 | 2
    everyone       -> Redis primary + replica, found through three Sentinels

Each replica is started by bot/stack.py's `Stack` (one Stack per replica, its own settings);
the Sentinel cluster is tests/helpers/redis_sentinel.py's. haproxy is the Debian package
(scripts/install_system_packages.sh).
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List

from bot.settings import Settings, load_settings
from bot.stack import Stack, free_port, http_ok
from tests.helpers.redis_sentinel import MASTER_NAME, SentinelCluster

KINDS = ("gateway", "rasa", "actions")
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"  # /usr/sbin is not on every user's PATH
# How haproxy learns a replica died or came back: a dead one refuses the connection at once
# (down after 2 checks 500 ms apart); a busy one may take seconds to answer its check (one Rasa
# worker on 2 shared cores with a dozen turns queued), which `timeout check 5s` waits for, or
# the last Rasa standing is ejected for being slow (measured: every message answered 稍后 then).
HAPROXY_CHECK = "inter 500ms fall 2 rise 1"


def settings_for(env: Dict[str, str]) -> Settings:
    """The settings a child process started with `env` reads (load_settings reads os.environ)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Replica:
    kind: str
    index: int
    port: int
    stack: Stack

    @property
    def name(self) -> str:
        return f"{self.kind}{self.index}"

    def start(self, model: Path) -> None:
        if self.kind == "gateway":
            self.stack.start_gateway()
        elif self.kind == "rasa":
            self.stack.start_rasa(model)
        else:
            self.stack.start_action_server()

    def kill9(self) -> None:
        """SIGKILL to the replica's whole process group, as when a node or container dies."""
        proc = self.stack.processes.pop(self.kind)  # Stack names its process after the kind
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@dataclass
class Cluster:
    directory: Path
    model: Path
    redis: SentinelCluster = field(init=False)
    ports: Dict[str, int] = field(default_factory=dict)
    replicas: Dict[str, Replica] = field(default_factory=dict)
    base_env: Dict[str, str] = field(default_factory=dict)
    _haproxy: subprocess.Popen = field(init=False)

    def __post_init__(self) -> None:
        self.redis = SentinelCluster(self.directory / "redis")
        self.ports = {name: free_port() for name in ("wechat", "rasa", "actions", "stats")}

    def url(self, frontend: str) -> str:
        return f"http://127.0.0.1:{self.ports[frontend]}"

    # -- starting ----------------------------------------------------------------------------

    def start(self) -> None:
        self.redis.start()
        self.base_env = self._base_env()
        ports = {(kind, i): free_port() for kind in KINDS for i in (1, 2)}
        for (kind, i), port in ports.items():
            self.replicas[f"{kind}{i}"] = self._replica(kind, i, port)
        self._start_haproxy()
        # Rasa takes a minute or two to load its model: both replicas (and their actions) at once.
        self._start_together([r for r in self.replicas.values() if r.kind == "actions"])
        self._start_together([r for r in self.replicas.values() if r.kind == "rasa"])
        self._start_together([r for r in self.replicas.values() if r.kind == "gateway"])

    def _start_together(self, replicas: List[Replica]) -> None:
        with ThreadPoolExecutor(len(replicas)) as pool:
            list(pool.map(lambda r: r.start(self.model), replicas))

    def _base_env(self) -> Dict[str, str]:
        return {
            "ZHINAN_ENV": "development",
            "REDIS_URL": "redis://127.0.0.1:1/0",  # under Sentinel only the database number counts
            "REDIS_SENTINELS": ",".join(f"127.0.0.1:{p}" for p in self.redis.sentinel_ports),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
            "REDIS_ACK_REPLICAS": "1",  # a booking is told only once a replica has it
            "REDIS_ACK_TIMEOUT_MS": "1000",
            "REDIS_KEY_PREFIX": "drill" + uuid.uuid4().hex[:6] + ":",
            "RASA_TOKEN": "drill-" + uuid.uuid4().hex[:12],
            "ACTION_SERVER_TOKEN": "drill-actions-" + uuid.uuid4().hex,
            "RASA_WORKERS": "1",
            "WECHAT_API_BASE": f"{self.url('wechat')}/fake-wechat",  # its records live in Redis
            "MONITORING_ACCESS": "open",
        }

    def _replica(self, kind: str, index: int, port: int) -> Replica:
        """Each kind reaches the next through haproxy: the one address a Service would be."""
        own = f"http://127.0.0.1:{port}"
        env = dict(self.base_env)
        if kind == "gateway":
            env.update(GATEWAY_PORT=str(port), RASA_URL=self.url("rasa"), ACTION_SERVER_URL=self.url("actions"))
        elif kind == "rasa":
            env.update(RASA_PORT=str(port), RASA_URL=own, ACTION_SERVER_URL=self.url("actions"))
        else:
            env.update(ACTION_SERVER_PORT=str(port), ACTION_SERVER_URL=own)
        stack = Stack(settings_for(env), self.directory / "logs" / f"{kind}{index}", env=env)
        return Replica(kind, index, port, stack)

    def restart(self, name: str) -> Replica:
        """A replacement on the same address (a new pod behind the same Service)."""
        old = self.replicas[name]
        replacement = Replica(old.kind, old.index, old.port,
                              Stack(old.stack.settings, old.stack.log_dir.with_name(name + "-new"), env=old.stack.env))
        replacement.start(self.model)
        self.replicas[name] = replacement
        return replacement

    # -- haproxy -----------------------------------------------------------------------------

    def _haproxy_config(self) -> str:
        checks = {"gateway": "option httpchk GET /healthz\n  http-check expect rstatus (200|503)",
                  "rasa": "option httpchk GET /", "actions": "option httpchk GET /health"}
        frontends = {"gateway": "wechat", "rasa": "rasa", "actions": "actions"}
        lines = [
            "global\n  maxconn 4000",
            # retries + redispatch: a connection refused by a dead replica goes to the other one.
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n  timeout check 5s\n"
            "  retries 3\n  option redispatch\n  option http-server-close",
            f"listen stats\n  bind 127.0.0.1:{self.ports['stats']}\n  stats enable\n  stats uri /stats",
        ]
        for kind in KINDS:
            servers = "\n".join(
                f"  server {r.name} 127.0.0.1:{r.port} check {HAPROXY_CHECK}"
                for r in self.replicas.values() if r.kind == kind
            )
            lines.append(
                f"frontend {frontends[kind]}\n  bind 127.0.0.1:{self.ports[frontends[kind]]}\n  default_backend {kind}"
            )
            # The gateway answers 503 from /healthz when Rasa or Redis is away, and still has the
            # right words for users then: any answer keeps it in rotation.
            lines.append(f"backend {kind}\n  balance roundrobin\n  {checks[kind]}\n{servers}")
        return "\n\n".join(lines) + "\n"

    def _start_haproxy(self) -> None:
        conf = self.directory / "haproxy.cfg"
        conf.write_text(self._haproxy_config())
        (self.directory / "logs").mkdir(parents=True, exist_ok=True)
        with open(self.directory / "logs" / "haproxy.log", "ab") as log:
            self._haproxy = subprocess.Popen([HAPROXY, "-db", "-f", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not http_ok(f"{self.url('stats')}/stats"):
            if time.monotonic() > deadline or self._haproxy.poll() is not None:
                raise RuntimeError(f"haproxy did not start; see {self.directory}/logs/haproxy.log")
            time.sleep(0.1)

    def sessions(self) -> Dict[str, int]:
        """Requests haproxy has sent to each replica so far (its stats' `stot`)."""
        with urllib.request.urlopen(f"{self.url('stats')}/stats;csv", timeout=5) as resp:
            rows = csv.DictReader(io.StringIO(resp.read().decode().lstrip("# ")))
            return {row["svname"]: int(row["stot"] or 0) for row in rows if row["svname"] in self.replicas}

    def status(self, name: str) -> str:
        with urllib.request.urlopen(f"{self.url('stats')}/stats;csv", timeout=5) as resp:
            rows = csv.DictReader(io.StringIO(resp.read().decode().lstrip("# ")))
            return next((row["status"] for row in rows if row["svname"] == name), "?")

    # -- stopping ----------------------------------------------------------------------------

    def stop(self) -> None:
        for replica in reversed(list(self.replicas.values())):
            replica.stack.stop()
        if getattr(self, "_haproxy", None) is not None and self._haproxy.poll() is None:
            self._haproxy.terminate()
            self._haproxy.wait(timeout=10)
        self.redis.stop()


@contextmanager
def running_cluster(directory: Path, model: Path) -> Iterator[Cluster]:
    cluster = Cluster(directory, model)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
