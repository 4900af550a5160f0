"""`make bench`: WeChat-signed messages through the gateway, concurrent simulated users.

Uses the gateway of a running `make run` when /healthz answers; otherwise starts the whole
stack itself on free ports (embedded Redis unless REDIS_URL is set) and stops it afterwards.
Prints latency percentiles and throughput for the gateway, and NLU parse latency on Rasa.
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
from typing import Dict, List, Optional, Tuple

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import Settings, load_settings  # noqa: E402
from bot.simulator.wechat_xml import build_inbound_xml, read_reply, sign_request  # noqa: E402
from bot.stack import Stack, free_port, http_ok, latest_model, monitoring_headers  # noqa: E402
from bot.wechat.channel import TEXT_RATE_LIMITED  # noqa: E402

# What job seekers send, in the order a short conversation takes.
CONVERSATION = [
    "你好",
    "附近有职业指导服务点吗",
    "济南历下区",
    "实训营是什么",
    "谢谢",
    "失业登记怎么办",
    "再见",
]


def percentile(values: List[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def _one_message(
    session: aiohttp.ClientSession, settings: Settings, url: str, openid: str, text: str
) -> Tuple[float, bool, List[str]]:
    fields = {"MsgType": "text", "Content": text, "MsgId": str(random.getrandbits(62))}
    query, body = sign_request(settings, build_inbound_xml(settings, openid, fields))
    started = time.perf_counter()
    async with session.post(url, params=query, data=body.encode("utf-8")) as resp:
        payload = await resp.text()
        ok = resp.status == 200
    elapsed = time.perf_counter() - started
    replies = read_reply(settings, payload) if ok else []
    return elapsed, ok, replies


async def run_gateway_bench(settings: Settings, base: str, messages: int, users: int) -> Dict:
    url = f"{base}/wechat"
    run_id = uuid.uuid4().hex[:6]
    latencies: List[float] = []
    errors = 0
    unanswered = 0
    queue: asyncio.Queue = asyncio.Queue()
    for index in range(messages):
        queue.put_nowait(index)

    async def user(slot: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors, unanswered
        turn = 0
        openid = f"bench-{run_id}-{slot}"
        while True:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            text = CONVERSATION[turn % len(CONVERSATION)]
            turn += 1
            if turn % len(CONVERSATION) == 0:
                openid = f"bench-{run_id}-{slot}-{turn}"  # a new user starts a new conversation
            try:
                elapsed, ok, replies = await _one_message(session, settings, url, openid, text)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                errors += 1
                continue
            latencies.append(elapsed)
            errors += 0 if ok else 1
            unanswered += 0 if replies else 1

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:
        # warm-up: one conversation so first-load costs are not measured
        for text in CONVERSATION[:2]:
            await _one_message(session, settings, url, f"bench-{run_id}-warm", text)
        started = time.perf_counter()
        await asyncio.gather(*(user(slot, session) for slot in range(users)))
        wall = time.perf_counter() - started
    return {
        "messages": len(latencies),
        "users": users,
        "wall_s": wall,
        "rate": len(latencies) / wall if wall else 0.0,
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "max": max(latencies) * 1000 if latencies else float("nan"),
        "errors": errors,
        "unanswered": unanswered,
    }


async def run_long_conversation(settings: Settings, base: str, turns: int) -> Dict:
    """One user, `turns` messages in a row: is the cost of a turn flat as the tracker grows?"""
    url = f"{base}/wechat"
    openid = f"bench-long-{uuid.uuid4().hex[:6]}"
    latencies: List[float] = []
    rate_limited = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        for turn in range(turns):
            text = CONVERSATION[turn % len(CONVERSATION)]
            elapsed, _, replies = await _one_message(session, settings, url, openid, text)
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


async def run_parse_bench(settings: Settings, count: int) -> Dict:
    url = f"{settings.rasa_url}/model/parse"
    latencies: List[float] = []
    async with aiohttp.ClientSession() as session:
        for index in range(count):
            text = CONVERSATION[index % len(CONVERSATION)]
            started = time.perf_counter()
            async with session.post(url, params={"token": settings.rasa_token}, json={"text": text}) as resp:
                await resp.read()
            latencies.append(time.perf_counter() - started)
    return {
        "count": count,
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
    }


def _start_own_stack() -> Tuple[Stack, Settings]:
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
    print("No running gateway: starting a stack for the benchmark…", flush=True)
    stack.start_all(model)
    return stack, settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--parse", type=int, default=300, help="sequential /model/parse calls")
    parser.add_argument("--long", type=int, default=150, help="turns of one long conversation")
    args = parser.parse_args()

    settings = load_settings()
    stack: Optional[Stack] = None
    base = f"http://127.0.0.1:{settings.gateway_port}"
    if not http_ok(f"{base}/healthz", headers=monitoring_headers(settings)):
        stack, settings = _start_own_stack()
        base = f"http://127.0.0.1:{settings.gateway_port}"
    try:
        gateway = asyncio.run(run_gateway_bench(settings, base, args.messages, args.users))
        parse = asyncio.run(run_parse_bench(settings, args.parse))
        long_run = asyncio.run(run_long_conversation(settings, base, args.long))
        _report(gateway, parse, long_run)
        points_bench = Path(__file__).with_name("bench_points.py")
        if points_bench.exists():
            subprocess.run([sys.executable, str(points_bench)], check=False)
    finally:
        if stack is not None:
            stack.stop()
    return 0


def _report(gateway: Dict, parse: Dict, long_run: Dict) -> None:
    print(
        f"\nGateway (WeChat-signed text, {gateway['users']} concurrent users, "
        f"{gateway['messages']} messages in {gateway['wall_s']:.1f}s)\n"
        f"  throughput : {gateway['rate']:.1f} msg/s\n"
        f"  latency    : p50 {gateway['p50']:.0f} ms · p95 {gateway['p95']:.0f} ms · "
        f"p99 {gateway['p99']:.0f} ms · max {gateway['max']:.0f} ms\n"
        f"  errors     : {gateway['errors']} · answered later via 客服消息 (passive 'success'): "
        f"{gateway['unanswered']}\n"
        f"Rasa NLU parse (sequential, {parse['count']} calls): p50 {parse['p50']:.1f} ms · "
        f"p99 {parse['p99']:.1f} ms\n"
        + _long_run_line(long_run),
        flush=True,
    )


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
