"""500 console logins with rotating usernames must not slow down WeChat replies.

The gateway runs in this process (with a Rasa double) with its default login limits; a second
process sends 500 logins, a new username each, 100 per second with up to 25 in flight. WeChat
messages are sent one after another (the next when the last is answered) before, during and
after the flood; the p99 of their reply time during the flood must stay within 2x the p99 of the
calm phases of the same run (before and after, so a change in the machine's background load
counts on both sides). Before the fix every login ran argon2 (~0.15 s of CPU) on the event
loop, and every reply waited behind it.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from typing import Dict, List, Tuple

import aiohttp
import pytest

from tests.bot.gateway.console.helpers import ROOT
from tests.helpers.gateway import serve_gateway

# Reads no calendar, and two other suites running beside it (make test-clock) would be the noise it measures.
pytestmark = pytest.mark.timing

ATTEMPTS = 500
RATE_PER_S = 100
CONCURRENCY = 25
IDLE_PROBES = 200  # before and again after the flood
MAX_FLOOD_PROBES = 2000
MIN_FLOOD_PROBES = 200
FLOOR_S = 0.05


def p99(samples: List[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class Prober:
    """Sends signed plaintext WeChat text messages, each from a new OpenID, and times the reply."""

    def __init__(self, session: aiohttp.ClientSession, base: str, token: str) -> None:
        self.session, self.base, self.token = session, base, token
        self.n = 0

    async def once(self) -> float:
        self.n += 1
        ts, nonce = str(int(time.time())), str(100000 + self.n)
        sig = hashlib.sha1("".join(sorted([self.token, ts, nonce])).encode()).hexdigest()
        openid = f"oZnprobe{self.n:06d}{time.time_ns() % 10**6:06d}"
        body = (
            f"<xml><ToUserName><![CDATA[gh_zhinan0000001]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>"
            f"<MsgId>{time.time_ns()}</MsgId></xml>"
        )
        started = time.perf_counter()
        async with self.session.post(f"{self.base}/wechat", params={"signature": sig, "timestamp": ts, "nonce": nonce},
                                     data=body.encode()) as resp:
            await resp.read()
        assert resp.status == 200
        # a late reply ("success", the answer pushed afterwards) counts with its full wait
        return time.perf_counter() - started


async def test_login_flood_does_not_slow_wechat_replies(settings, aiohttp_server) -> None:
    _, server, _ = await serve_gateway(aiohttp_server, settings)
    base = f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as session:
        prober = Prober(session, base, settings.wechat_token)
        for _ in range(10):  # warm-up
            await prober.once()
        idle = [await prober.once() for _ in range(IDLE_PROBES)]
        flood, statuses = await _during_flood(prober, f"{base}/console/login")
        idle += [await prober.once() for _ in range(IDLE_PROBES)]

    print(f"idle p99 {p99(idle) * 1000:.1f} ms, flood p99 {p99(flood) * 1000:.1f} ms "
          f"over {len(flood)} replies; login statuses {statuses}")
    assert sum(v for k, v in statuses.items() if k.isdigit()) == ATTEMPTS
    # 2x a p99 of a few milliseconds is within the scheduler's noise on a shared 2-core machine, so
    # the bound also allows 50 ms; the old code's flood p99 was seconds (8.7 s measured).
    assert p99(flood) <= max(2 * p99(idle), p99(idle) + FLOOR_S), (p99(idle), p99(flood))
    assert len(flood) >= MIN_FLOOD_PROBES, "the flood ended before enough replies were timed"


async def _during_flood(prober: Prober, login_url: str) -> Tuple[List[float], Dict[str, int]]:
    """Reply times of WeChat messages sent while the flood process runs, and its status counts."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bot.gateway.console.login_flood", login_url, str(ATTEMPTS), str(RATE_PER_S),
        str(CONCURRENCY), cwd=str(ROOT), stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"ready"
        times: List[float] = []
        deadline = time.monotonic() + 120  # bounded even if the gateway were stuck (it was, before)
        while proc.returncode is None and len(times) < MAX_FLOOD_PROBES and time.monotonic() < deadline:
            times.append(await prober.once())
        statuses = json.loads((await asyncio.wait_for(proc.stdout.readline(), 180)) or b"{}")
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    return times, statuses
