"""A login flood from another process: `python -m tests.bot.gateway.console.login_flood URL COUNT RATE CONCURRENCY`.

Posts COUNT console logins with a new username each (so no per-user lockout applies), starting
RATE per second, at most CONCURRENCY at once. Prints "ready" when it starts and, at the end, a JSON line with the count
of each response status. Runs in its own process so that it does not share the gateway's event
loop (or its CPU time) in the latency test.
"""
from __future__ import annotations

import asyncio
import collections
import json
import os
import sys

import aiohttp


async def flood(url: str, count: int, rate: float, concurrency: int) -> collections.Counter:
    statuses: collections.Counter = collections.Counter()
    gate = asyncio.Semaphore(concurrency)
    headers = {"Cookie": "zhinan_console_login=flood123"}

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        await asyncio.sleep(i / rate)
        data = {"_csrf": "flood123", "username": f"flood{i:05d}", "password": "guess-password-1", "next": ""}
        async with gate:
            try:
                async with session.post(url, data=data, headers=headers, allow_redirects=False) as resp:
                    await resp.read()
                    statuses[str(resp.status)] += 1
            except aiohttp.ClientError as exc:
                statuses[type(exc).__name__] += 1

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        print("ready", flush=True)
        await asyncio.gather(*(one(session, i) for i in range(count)))
    return statuses


def main() -> None:
    os.nice(10)  # a real attacker is on another machine: leave this one's CPU to the gateway
    url, count, rate, concurrency = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(asyncio.run(flood(url, count, rate, concurrency))), flush=True)


if __name__ == "__main__":
    main()
