"""`make bench`: WeChat-signed messages through the gateway, concurrent simulated users.

Uses the gateway of a running `make run` when /healthz answers; otherwise starts the whole
stack itself on free ports (embedded Redis unless REDIS_URL is set) and stops it afterwards.
Each simulated user walks one conversation of scripts/bench_corpus.yml, then a new user takes the
next. Prints latency percentiles and throughput for the gateway, the share of distinct texts
sent, cache hit rates, and NLU parse latency on Rasa.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Awaitable, Callable, Dict, List, Optional, Tuple

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import Settings, load_settings  # noqa: E402
from bot.gateway.simulator.wechat_xml import build_inbound_xml, read_reply, sign_request  # noqa: E402
from bot.stack import Stack, free_port, http_ok, latest_model, monitoring_headers  # noqa: E402
from bot.gateway.wechat.channel import TEXT_RATE_LIMITED  # noqa: E402

import bench_delivery  # noqa: E402  (scripts/ is on sys.path when a script here runs)
from bench_corpus import (  # noqa: E402
    ConversationFeed,
    all_turns,
    cache_lines,
    distinct_share,
    load_conversations,
    read_cache_counters,
)

# Sent before the clock starts, so first-load costs are not measured; not in the corpus.
WARM_UP = ["你好", "附近有职业指导服务点吗"]

# One message from user `openid`: (seconds, HTTP ok, the texts the user saw).
Send = Callable[[aiohttp.ClientSession, str, str], Awaitable[Tuple[float, bool, List[str]]]]


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def gateway_sender(settings: Settings, base: str) -> Send:
    url = f"{base}/wechat"

    async def send(session: aiohttp.ClientSession, openid: str, text: str) -> Tuple[float, bool, List[str]]:
        fields = {"MsgType": "text", "Content": text, "MsgId": str(random.getrandbits(62))}
        query, body = sign_request(settings, build_inbound_xml(settings, openid, fields))
        started = time.perf_counter()
        async with session.post(url, params=query, data=body.encode("utf-8")) as resp:
            payload = await resp.text()
            ok = resp.status == 200
        elapsed = time.perf_counter() - started
        return elapsed, ok, (read_reply(settings, payload) if ok else [])

    return send


async def run_load(
    send: Send, feed: ConversationFeed, messages: int, users: int, answers: Optional[bench_delivery.Answers] = None
) -> Dict:
    """`users` simulated users at once, `messages` in all; each user walks whole conversations.
    `answers` notes what each user got passively (bench_delivery.check)."""
    run_id = uuid.uuid4().hex[:6]
    latencies: List[float] = []
    counts = {"errors": 0, "unanswered": 0}
    remaining = [messages]
    serial = [0]

    async def user(session: aiohttp.ClientSession) -> None:
        while remaining[0] > 0:
            serial[0] += 1
            openid = f"bench-{run_id}-{serial[0]}"  # a new user for each conversation
            for text in feed.next_conversation():
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                feed.record(text)
                await _timed_turn(send, session, openid, text, latencies, counts, answers)

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        for text in WARM_UP:
            await send(session, f"bench-{run_id}-warm", text)
        started = time.perf_counter()
        await asyncio.gather(*(user(session) for _ in range(users)))
        wall = time.perf_counter() - started
    return _load_figures(latencies, wall, users, counts, feed.sent)


async def _timed_turn(
    send: Send, session: aiohttp.ClientSession, openid: str, text: str, latencies: List[float], counts: Dict,
    answers: Optional[bench_delivery.Answers] = None,
) -> None:
    try:
        elapsed, ok, replies = await send(session, openid, text)
    except (aiohttp.ClientError, asyncio.TimeoutError):
        counts["errors"] += 1
        return
    latencies.append(elapsed)
    counts["errors"] += 0 if ok else 1
    counts["unanswered"] += 0 if replies else 1
    if answers is not None and ok:
        answers.note(openid, replies)


def _load_figures(latencies: List[float], wall: float, users: int, counts: Dict, sent: List[str]) -> Dict:
    distinct, total, share = distinct_share(sent)
    return {
        "messages": len(latencies),
        "users": users,
        "wall_s": wall,
        "rate": len(latencies) / wall if wall else 0.0,
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "max": max(latencies) * 1000 if latencies else float("nan"),
        "errors": counts["errors"],
        "unanswered": counts["unanswered"],
        "distinct": distinct,
        "sent": total,
        "distinct_share": share,
    }


async def run_long_conversation(send: Send, texts: List[str], turns: int) -> Dict:
    """One user, `turns` messages in a row: is the cost of a turn flat as the tracker grows?"""
    openid = f"bench-long-{uuid.uuid4().hex[:6]}"
    latencies: List[float] = []
    rate_limited = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for turn in range(turns):
            elapsed, _, replies = await send(session, openid, texts[turn % len(texts)])
            latencies.append(elapsed)
            rate_limited += TEXT_RATE_LIMITED in replies
    window = max(1, min(20, turns // 4))
    return {
        "turns": turns,
        "rate_limited": rate_limited,
        "first": statistics.median(latencies[1 : window + 1]) * 1000,
        "last": statistics.median(latencies[-window:]) * 1000,
        "window": window,
    }


async def run_parse_bench(url: str, params: Dict[str, str], texts: List[str], count: int) -> Dict:
    latencies: List[float] = []
    async with aiohttp.ClientSession() as session:
        for index in range(count):
            started = time.perf_counter()
            async with session.post(url, params=params, json={"text": texts[index % len(texts)]}) as resp:
                await resp.read()
            latencies.append(time.perf_counter() - started)
    return {
        "count": count,
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
    }


async def read_gateway_caches(settings: Settings, base: str) -> Optional[Dict[str, Tuple[float, float]]]:
    """The gateway's cache counters from /metrics, or None when it does not answer."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.get(f"{base}/metrics", headers=monitoring_headers(settings)) as resp:
                if resp.status != 200:
                    return None
                return read_cache_counters(await resp.text())
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None


async def measure_zhinan(settings: Settings, base: str, args: argparse.Namespace) -> Dict:
    """Everything `make bench` prints about one running gateway, as figures."""
    conversations = load_conversations()
    texts = all_turns(load_conversations(staying_with_the_bot=True))
    send = gateway_sender(settings, base)
    before = await read_gateway_caches(settings, base)
    answers = bench_delivery.Answers()
    gateway = await run_load(send, ConversationFeed(conversations), args.messages, args.users, answers)
    after = await read_gateway_caches(settings, base)
    # only the fake WeChat API of a local stack records what went out as 客服 messages
    gateway["delivery"] = await bench_delivery.check(base, answers) if settings.uses_fake_wechat_api else ""
    parse_url = f"{settings.rasa_url}/model/parse"
    parse = await run_parse_bench(parse_url, {"token": settings.rasa_token}, texts, args.parse)
    long_run = await run_long_conversation(send, texts, args.long)
    return {"gateway": gateway, "parse": parse, "long": long_run, "caches": cache_lines(before, after)}


def start_own_stack() -> Tuple[Stack, Settings]:
    model = latest_model()
    if model is None:
        raise SystemExit("no trained model: run `make train`")
    ports = {name: free_port() for name in ("RASA_PORT", "ACTION_SERVER_PORT", "GATEWAY_PORT")}
    env = {
        **{name: str(port) for name, port in ports.items()},
        "RASA_URL": f"http://127.0.0.1:{ports['RASA_PORT']}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{ports['ACTION_SERVER_PORT']}",
        "WECHAT_API_BASE": f"http://127.0.0.1:{ports['GATEWAY_PORT']}/fake-wechat",
        "REDIS_KEY_PREFIX": "bench" + uuid.uuid4().hex[:6],
        "USER_RATE_LIMIT_PER_MIN": "100000",
    }
    if not os.environ.get("REDIS_URL"):
        env["EMBEDDED_REDIS_PORT"] = str(free_port())
        env["VAR_DIR"] = tempfile.mkdtemp(prefix="zhinan-bench-")
    os.environ.update(env)
    settings = load_settings()
    stack = Stack(settings, Path(tempfile.mkdtemp(prefix="zhinan-bench-logs-")), env=env)
    stack.start_all(model)
    return stack, settings


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--parse", type=int, default=300, help="sequential /model/parse calls")
    parser.add_argument("--long", type=int, default=150, help="turns of one long conversation")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    add_load_arguments(parser)
    args = parser.parse_args()

    settings = load_settings()
    stack: Optional[Stack] = None
    base = f"http://127.0.0.1:{settings.gateway_port}"
    if not http_ok(f"{base}/healthz", headers=monitoring_headers(settings)):
        print("No running gateway: starting a stack for the benchmark…", flush=True)
        stack, settings = start_own_stack()
        base = f"http://127.0.0.1:{settings.gateway_port}"
    try:
        print(report(asyncio.run(measure_zhinan(settings, base, args))), flush=True)
        points_bench = Path(__file__).with_name("bench_points.py")
        if points_bench.exists():
            subprocess.run([sys.executable, str(points_bench)], check=False)
    finally:
        if stack is not None:
            stack.stop()
    return 0


def report(figures: Dict) -> str:
    gateway, parse = figures["gateway"], figures["parse"]
    lines = [
        f"\nGateway (WeChat-signed text, {gateway['users']} concurrent users, "
        f"{gateway['messages']} messages in {gateway['wall_s']:.1f}s)",
        f"  throughput : {gateway['rate']:.1f} msg/s",
        f"  latency    : p50 {gateway['p50']:.0f} ms · p95 {gateway['p95']:.0f} ms · "
        f"p99 {gateway['p99']:.0f} ms · max {gateway['max']:.0f} ms",
        f"  errors     : {gateway['errors']} · answered later via 客服消息 (passive 'success'): "
        f"{gateway['unanswered']}",
        f"  texts      : {gateway['distinct']} distinct of {gateway['sent']} sent "
        f"({gateway['distinct_share']:.0%} distinct; scripts/bench_corpus.yml)",
        *([f"  {gateway['delivery']}"] if gateway.get("delivery") else []),
        *(f"  {line}" for line in figures["caches"]),
        f"Rasa NLU parse (sequential, {parse['count']} calls): p50 {parse['p50']:.1f} ms · "
        f"p99 {parse['p99']:.1f} ms",
        _long_run_line(figures["long"]),
    ]
    return "\n".join(lines)


def _long_run_line(long_run: Dict) -> str:
    if long_run["rate_limited"]:
        # The running gateway's per-user limit answered these turns without Rasa: no turn cost.
        return (
            f"One conversation of {long_run['turns']} turns: not measured, "
            f"{long_run['rate_limited']} turns were rate-limited by the running gateway "
            "(USER_RATE_LIMIT_PER_MIN); stop it and run `make bench` again, which then starts "
            "its own stack without that limit"
        )
    return (
        f"One conversation of {long_run['turns']} turns: median of turns 2–{long_run['window'] + 1} "
        f"{long_run['first']:.0f} ms, of the last {long_run['window']} {long_run['last']:.0f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
