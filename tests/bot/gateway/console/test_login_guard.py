"""Console login against cheap denial of service and lock-outs, on the real gateway and Redis:
rate limits before any hashing, an atomic lockout that failed attempts do not extend, trusted
X-Forwarded-For, the bounded password pool, and password changes ending sessions."""
from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import threading
import time
from typing import Any, AsyncIterator, List, Optional

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

import bot.gateway.console.auth as auth_module
from bot.gateway.client_ip import resolve_client_ip
from bot.gateway.console.auth import LOGIN_CSRF_COOKIE
from bot.gateway.console.keys import CONSOLE_AUTH
from bot.gateway.console.login_guard import PasswordPool, PasswordPoolBusy
from bot.settings import load_settings
from tests.bot.gateway.console.helpers import ROOT, add_user, login
from tests.helpers.gateway import serve_gateway

PASSWORD = "correct-horse-42"


class Gateway:
    """The running gateway plus a cookie-less way to post login attempts from any address."""

    def __init__(self, app: Any, server: Any, session: aiohttp.ClientSession) -> None:
        self.app, self.server, self.session = app, server, session

    async def attempt(self, username: str, password: str, forwarded_for: Optional[str] = None) -> int:
        # the double-submit CSRF check only needs the cookie and the form field to agree
        headers = {"Cookie": f"{LOGIN_CSRF_COOKIE}=tok123"}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        data = {"_csrf": "tok123", "username": username, "password": password, "next": ""}
        async with self.session.post(self.server.make_url("/console/login"), data=data, headers=headers,
                                     allow_redirects=False) as resp:
            await resp.read()
            return resp.status


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Every password the console verifies (argon2 calls), in order."""
    calls: List[str] = []
    real = auth_module.verify_password

    def counting(stored_hash: str, password: str) -> bool:
        calls.append(password)
        return real(stored_hash, password)

    monkeypatch.setattr(auth_module, "verify_password", counting)
    return calls


@pytest.fixture
async def make_gateway(settings, aiohttp_server) -> AsyncIterator[Any]:
    """Factory: the gateway (console mounted, Rasa double) with some settings replaced."""
    sessions: List[aiohttp.ClientSession] = []

    async def make(**overrides: Any) -> Gateway:
        app, server, _ = await serve_gateway(aiohttp_server, dataclasses.replace(settings, **overrides))
        session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        sessions.append(session)
        return Gateway(app, server, session)

    add_user(settings, "li", "counsellor")
    yield make
    for session in sessions:
        await session.close()


# -- lockout ----------------------------------------------------------------------------------------


async def test_parallel_wrong_guesses_each_count(make_gateway, verifications) -> None:
    gw = await make_gateway(console_login_per_ip_per_min=0, console_login_global_per_min=0)
    auth = gw.app[CONSOLE_AUTH]
    auth.pool.close()
    auth.pool = PasswordPool(workers=2, max_pending=32)  # room for every guess: only the lockout limits
    statuses = await asyncio.gather(*(gw.attempt("li", f"guess-{i:04d}!") for i in range(15)))
    # the limit is 10 attempts per account and address: only 10 passwords were ever checked
    assert len(verifications) == 10
    assert sorted(statuses) == [401] * 10 + [429] * 5
    # and the account is now locked for this address, even with the right password
    assert await gw.attempt("li", PASSWORD) == 429
    assert len(verifications) == 10


async def test_failed_attempts_during_a_lock_do_not_extend_it(make_gateway, verifications) -> None:
    gw = await make_gateway(console_login_max_failures=3, console_login_lock_s=3)
    assert [await gw.attempt("li", "wrong-password!") for _ in range(3)] == [401, 401, 401]
    locked_at = time.monotonic()  # the third attempt set the lock before it answered
    for _ in range(3):
        await asyncio.sleep(0.3)
        assert await gw.attempt("li", "wrong-password!") == 429
    assert len(verifications) == 3  # refused during the lock without a password check
    # had each refused attempt renewed the lock, it would last until ~4 s after locked_at
    await asyncio.sleep(max(0.0, locked_at + 3.4 - time.monotonic()))
    assert await gw.attempt("li", PASSWORD) == 302


async def test_lock_from_one_address_leaves_other_addresses_alone(make_gateway, verifications) -> None:
    gw = await make_gateway(console_login_max_failures=3, trusted_proxies=("127.0.0.1",))
    for _ in range(3):
        await gw.attempt("li", "wrong-password!", forwarded_for="203.0.113.5")
    assert await gw.attempt("li", PASSWORD, forwarded_for="203.0.113.5") == 429
    # the colleague at the office is not locked out by the attacker
    assert await gw.attempt("li", PASSWORD, forwarded_for="198.51.100.7") == 302


# -- rate limits, before any hashing --------------------------------------------------------------------


async def test_per_address_rate_limit_runs_before_hashing(make_gateway, verifications) -> None:
    gw = await make_gateway(console_login_per_ip_per_min=5, console_login_global_per_min=100)
    statuses = [await gw.attempt(f"user{i:03d}", "wrong-password!") for i in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    assert len(verifications) == 5
    # without a trusted proxy, X-Forwarded-For is ignored: a forged header gets no fresh budget
    assert await gw.attempt("li", PASSWORD, forwarded_for="198.51.100.7") == 429
    assert len(verifications) == 5


async def test_global_rate_limit_across_addresses(make_gateway, verifications) -> None:
    gw = await make_gateway(console_login_per_ip_per_min=100, console_login_global_per_min=4,
                            trusted_proxies=("127.0.0.0/8",))
    statuses = [await gw.attempt(f"user{i:03d}", "wrong-password!", forwarded_for=f"198.51.100.{i}") for i in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    assert len(verifications) == 4


async def test_trusted_proxy_forwarded_for_is_the_client(make_gateway, verifications) -> None:
    gw = await make_gateway(console_login_per_ip_per_min=2, trusted_proxies=("127.0.0.1",))
    assert [await gw.attempt("nobody", "wrong-password!", forwarded_for="203.0.113.9") for _ in range(3)] == [401, 401, 429]
    # another client behind the same proxy has its own budget
    assert await gw.attempt("li", PASSWORD, forwarded_for="198.51.100.7") == 302


def test_resolve_client_ip() -> None:
    trusted = ("10.0.0.0/8", "127.0.0.1")
    assert resolve_client_ip("127.0.0.1", "203.0.113.5", ()) == "127.0.0.1"  # nothing trusted
    assert resolve_client_ip("192.0.2.1", "203.0.113.5", trusted) == "192.0.2.1"  # peer not a proxy
    assert resolve_client_ip("127.0.0.1", "203.0.113.5", trusted) == "203.0.113.5"
    # a client-supplied first entry is not believed: the rightmost untrusted hop is the client
    assert resolve_client_ip("127.0.0.1", "1.2.3.4, 203.0.113.5, 10.1.2.3", trusted) == "203.0.113.5"
    assert resolve_client_ip("127.0.0.1", "garbage, 10.1.2.3", trusted) == "10.1.2.3"
    assert resolve_client_ip("127.0.0.1", "2001:db8::1", trusted) == "2001:db8::1"
    assert resolve_client_ip("127.0.0.1", "", trusted) == "127.0.0.1"


def test_trusted_proxies_setting(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", " 10.0.0.0/8, 127.0.0.1 ,")
    assert load_settings(tmp_path / "missing.env").trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, proxy.local")
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        load_settings(tmp_path / "missing.env")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert load_settings(tmp_path / "missing.env").trusted_proxies == ()


# -- the password pool ----------------------------------------------------------------------------------


async def test_password_pool_is_bounded_and_answers_busy_at_once() -> None:
    pool = PasswordPool(workers=1, max_pending=2)
    release = threading.Event()
    try:
        jobs = [asyncio.ensure_future(pool.run(release.wait, 5)) for _ in range(2)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(PasswordPoolBusy):
            await pool.run(release.wait, 5)
        assert time.monotonic() - started < 0.05
        release.set()
        assert await asyncio.gather(*jobs) == [True, True]
        assert pool.pending == 0
        assert await pool.run(lambda: "free again") == "free again"
    finally:
        release.set()
        pool.close()


async def test_login_answers_429_when_the_pool_is_full(make_gateway, verifications) -> None:
    gw = await make_gateway()
    pool = gw.app[CONSOLE_AUTH].pool
    release = threading.Event()
    blockers: List[asyncio.Future] = []
    while True:  # fill the pool with work that waits, until it refuses more
        job = asyncio.ensure_future(pool.run(release.wait, 10))
        await asyncio.sleep(0.01)
        if job.done() and isinstance(job.exception(), PasswordPoolBusy):
            break
        blockers.append(job)
        if len(blockers) > 50:
            release.set()
            pytest.fail("the password pool is not bounded")
    try:
        assert await gw.attempt("li", PASSWORD) == 429
        assert verifications == []
    finally:
        release.set()
        await asyncio.gather(*blockers, return_exceptions=True)
    assert await gw.attempt("li", PASSWORD) == 302


# -- password changes end sessions ----------------------------------------------------------------------


def _cli_passwd(settings, username: str, password: str) -> None:
    env = {"REDIS_URL": settings.redis_url, "REDIS_KEY_PREFIX": settings.redis_key_prefix, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli.users", "passwd", username],
        input=password + "\n", capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


async def test_password_change_ends_existing_sessions(make_gateway, settings) -> None:
    gw = await make_gateway()
    client = TestClient(gw.server)
    await client.start_server()
    try:
        await login(client, "li")
        assert (await client.get("/console/api/queue")).status == 200
        await asyncio.to_thread(_cli_passwd, settings, "li", "a-brand-new-password")
        assert (await client.get("/console/api/queue")).status == 401
        assert await gw.attempt("li", PASSWORD) == 401
        await login(client, "li", "a-brand-new-password")
        assert (await client.get("/console/api/queue")).status == 200
    finally:
        await client.close()
