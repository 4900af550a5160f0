"""What this machine listens on, for the tests that internal services stay on loopback."""
from __future__ import annotations

import socket
import subprocess
from contextlib import asynccontextmanager
from typing import AsyncIterator, List

import psutil
from aiohttp import web

LOOPBACK = {"127.0.0.1", "::1"}


def own_non_loopback_addresses() -> List[str]:
    """This machine's own addresses other than loopback (`hostname -I`); never anyone else's."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [a for a in out.split() if not a.startswith("127.") and a != "::1"]


def listening_addresses(port: int) -> List[str]:
    """The local addresses of the TCP sockets listening on `port`."""
    return [
        c.laddr.ip
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]


def listening_pids(port: int) -> List[int]:
    """The processes with a TCP socket listening on `port`."""
    return sorted({
        c.pid
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid
    })


def assert_loopback_only(port: int) -> None:
    """Something listens on `port`, only on loopback, and this machine's other addresses refuse it."""
    listening = listening_addresses(port)
    assert listening, f"nothing listens on port {port}"
    assert set(listening) <= LOOPBACK, listening
    for address in own_non_loopback_addresses():
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, port)) != 0, f"reachable on {address}:{port}"


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`app` on a free loopback port while the block runs; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()
