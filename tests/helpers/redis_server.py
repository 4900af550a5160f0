"""A throw-away redis-server of the test's own, for fault tests (kill -9, Redis gone, restart)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

from bot.stack import free_port

needs_redis_server = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def start_redis_server(port: int, directory: Path, *options: str) -> subprocess.Popen:
    """Start redis-server on 127.0.0.1:`port` with its files in `directory`; wait until it answers.

    It runs on the real clock, like the machine's Redis: under `make test-clock` the tests inherit
    libfaketime's LD_PRELOAD, which redis-server's allocator cannot start with.
    """
    return launch_redis_server(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", *options],
        port,
    )


def launch_redis_server(command: List[str], port: int) -> subprocess.Popen:
    """Run a redis-server command line (a server or a Sentinel) and wait until `port` answers."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


class OwnRedis:
    """A redis-server of the test's own on a free port, to kill and start again at will."""

    def __init__(self, directory: Path, *options: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._options = options
        self._proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self._proc = start_redis_server(self.port, self._directory, *self._options)

    def kill(self) -> None:
        """kill -9 and wait: Redis is gone at once, as in a crash."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)


@contextmanager
def own_redis(directory: Path, *options: str) -> Iterator[OwnRedis]:
    """A started OwnRedis with its files in `directory`; killed when the block ends."""
    server = OwnRedis(directory, *options)
    server.start()
    try:
        yield server
    finally:
        server.kill()
