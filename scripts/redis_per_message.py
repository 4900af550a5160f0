"""Redis commands one WeChat message costs, from Redis's own counters (INFO commandstats).

Against a running stack (`python -m bot.stack`, or `make run`): first counts what the idle stack
sends (the gateway's job runner polls) for `--idle` seconds, then sends every conversation of
scripts/bench_corpus.yml, one user each, turn after turn, and subtracts the idle rate over the
sending time. Prints commands per message, by command, for docs/capacity.md.
Redis must be this stack's own: CONFIG RESETSTAT clears the counters for everyone.

    python scripts/redis_per_message.py --gateway http://127.0.0.1:8080
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import aiohttp
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import effective_redis_url, load_settings  # noqa: E402

from bench import gateway_sender  # noqa: E402  (scripts/ is on sys.path when a script here runs)
from bench_corpus import load_conversations  # noqa: E402


def command_counts(client: redis.Redis) -> Dict[str, int]:
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in stats.items()}


def idle_rates(client: redis.Redis, seconds: float) -> Dict[str, float]:
    client.config_resetstat()
    time.sleep(seconds)
    counts = command_counts(client)
    return {name: calls / seconds for name, calls in counts.items()}


async def send_all(settings, base: str, conversations: List[List[str]]) -> Tuple[int, int]:
    send = gateway_sender(settings, base)
    sent = answered = 0
    async with aiohttp.ClientSession() as session:
        for turns in conversations:
            openid = "o" + uuid.uuid4().hex[:27]
            for text in turns:
                _, ok, texts = await send(session, openid, text)
                sent += 1
                answered += bool(ok and texts)
    return sent, answered


def per_message(busy: Dict[str, int], idle: Dict[str, float], elapsed: float, messages: int) -> Dict[str, float]:
    costs = {name: (calls - idle.get(name, 0.0) * elapsed) / messages for name, calls in busy.items()}
    # INFO and CONFIG are this script's own; rounding noise below 0.05 is dropped.
    return {name: cost for name, cost in costs.items() if cost >= 0.05 and name not in ("info", "config|resetstat")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", required=True, help="base URL of the running gateway")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds to measure the idle stack")
    args = parser.parse_args()
    settings = load_settings()
    client = redis.Redis.from_url(effective_redis_url(settings))
    idle = idle_rates(client, args.idle)
    conversations = load_conversations()
    client.config_resetstat()
    started = time.monotonic()
    sent, answered = asyncio.run(send_all(settings, args.gateway.rstrip("/"), conversations))
    elapsed = time.monotonic() - started
    costs = per_message(command_counts(client), idle, elapsed, sent)
    print(f"{sent} messages from {len(conversations)} users in {elapsed:.1f} s, {answered} answered")
    print(f"idle stack: {sum(idle.values()):.2f} commands/s")
    print(f"per message: {sum(costs.values()):.1f} commands")
    for name, cost in sorted(costs.items(), key=lambda item: -item[1]):
        print(f"  {name:28s} {cost:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
