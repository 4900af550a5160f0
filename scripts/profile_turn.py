"""Profile one message through Zhinan: CPU and wall time per process and stage, memory per piece.

    .venv/bin/python scripts/profile_turn.py memory  [--as-served]      # a worker's memory, piece by piece
    .venv/bin/python scripts/profile_turn.py stages  [--turns 200]      # inside Rasa, stage by stage
    .venv/bin/python scripts/profile_turn.py stages  --long 150 [--rasa-defaults | --off KEY,…]  # turn 1 vs 150
    .venv/bin/python scripts/profile_turn.py stack   [--turns 150 --users 4 [16 32] --rasa-workers 2 --nlu-batch on|off --bursts]

`stack` starts its own stack (bot/stack.py, free ports), sends WeChat messages through the gateway,
one user at a time and then `--users` at once (one phase per number given), and prints msg/s,
p50/p95/p99 latency (with the load average) and for each process the CPU seconds it spent per message (from /proc, so other jobs on the machine barely move it), latency,
start-up time, and each process's RSS/PSS/USS (PSS sums to what the stack really occupies; RSS
counts pages forked workers share with their parent once per process). `--rasa-launcher rasa`
starts Rasa with the stock `rasa run` instead of `python -m bot.rasa_server.serve run`, to compare.
Figures and how to read them: docs/benchmarks.md, "Profile of a turn".
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import aiohttp

import bench  # first: it puts the project root on sys.path (scripts/ is there when a script here runs)
import proc_stats
from bench_corpus import ConversationFeed, cache_lines, distinct_share, load_conversations
from bot import stack as stack_module
from bot.stack import Stack, latest_model

SCRIPTS = Path(__file__).resolve().parent


def stock_rasa_command(settings, model: Path) -> List[str]:
    """`rasa run` as before bot/rasa_server/serve.py (the comparison of --rasa-launcher rasa)."""
    command = OUR_RASA_COMMAND(settings, model)
    return [str(stack_module.rasa_bin(settings) / "rasa"), *command[command.index("run"):]]


OUR_RASA_COMMAND = stack_module.rasa_command


def process_pids(stack: Stack) -> Dict[str, List[int]]:
    """Each started process and, under its name, its forked children (Rasa's Sanic workers)."""
    pids: Dict[str, List[int]] = {}
    for name, proc in stack.processes.items():
        pids[name] = proc_stats.tree(proc.pid)
    return pids


def cpu_by_process(stack: Stack) -> Dict[str, float]:
    return {name: proc_stats.tree_cpu_seconds(proc.pid) for name, proc in stack.processes.items()}


async def send_turns(send: bench.Send, feed: ConversationFeed, turns: int, users: int) -> Tuple[List[float], float]:
    """`users` simulated users at once until `turns` messages are sent; latencies and wall seconds."""
    latencies: List[float] = []
    remaining = [turns]
    serial = [0]
    run_id = str(time.time_ns())[-8:]

    async def user(session: aiohttp.ClientSession) -> None:
        while remaining[0] > 0:
            serial[0] += 1
            openid = f"profile-{run_id}-{serial[0]}"
            for text in feed.next_conversation():
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                feed.record(text)
                elapsed, _ok, _replies = await send(session, openid, text)
                latencies.append(elapsed)

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(user(session) for _ in range(users)))
        return latencies, time.perf_counter() - started


async def send_bursts(send: bench.Send, feed: ConversationFeed, turns: int, users: int) -> Tuple[List[float], float]:
    """`users` users write at the same instant (a campaign push answered by a cohort), each its
    conversation's next turn; when all are answered, the next burst; until `turns` are sent."""
    latencies: List[float] = []
    run_id = str(time.time_ns())[-8:]
    walks = [[f"burst-{run_id}-{u}-0", iter(feed.next_conversation()), 0] for u in range(users)]

    def next_turn(walk: list) -> Tuple[str, str]:
        text = next(walk[1], None)
        if text is None:  # conversation over: a new user takes the next one
            walk[2] += 1
            walk[0] = f"{walk[0].rsplit('-', 1)[0]}-{walk[2]}"
            walk[1] = iter(feed.next_conversation())
            text = next(walk[1])
        return walk[0], text

    async def one(session: aiohttp.ClientSession, openid: str, text: str) -> None:
        feed.record(text)
        elapsed, _ok, _replies = await send(session, openid, text)
        latencies.append(elapsed)

    connector = aiohttp.TCPConnector(limit=users)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        started = time.perf_counter()
        while len(latencies) < turns:
            burst = [next_turn(walk) for walk in walks[: turns - len(latencies)]]
            await asyncio.gather(*(one(session, openid, text) for openid, text in burst))
        return latencies, time.perf_counter() - started


def measure_phase(
    stack: Stack, send: bench.Send, turns: int, users: int, bursts: bool = False,
    feed: Optional[ConversationFeed] = None, caches: Optional[Callable[[], Any]] = None,
) -> str:
    """One phase; `feed` None: the corpus from its start (texts an earlier phase sent come again)."""
    feed = feed or ConversationFeed(load_conversations(staying_with_the_bot=True))
    already_sent = len(feed.sent)
    cached_before = asyncio.run(caches()) if caches else None
    before = cpu_by_process(stack)
    sender = send_bursts if bursts and users > 1 else send_turns
    latencies, wall = asyncio.run(sender(send, feed, turns, users))
    after = cpu_by_process(stack)
    cache = "; ".join(cache_lines(cached_before, asyncio.run(caches()))) if caches else ""
    distinct, sent, _ = distinct_share(feed.sent[already_sent:])
    per_message = {name: 1000 * (after[name] - before[name]) / len(latencies) for name in after}
    total = sum(per_message.values())
    cpu = "  ".join(f"{name} {value:.1f}" for name, value in per_message.items())
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{users} user(s) at once{' in bursts' if bursts and users > 1 else ''}, {len(latencies)} messages in {wall:.1f} s ({len(latencies) / wall:.1f} msg/s): "
        f"latency p50 {1000 * statistics.median(latencies):.0f} ms, "
        f"p95 {1000 * bench.percentile(latencies, 95):.0f} ms, "
        f"p99 {1000 * bench.percentile(latencies, 99):.0f} ms (load average after: {load})\n"
        f"  CPU ms per message: {cpu}  | all {total:.1f}\n"
        f"  texts: {distinct} distinct of {sent}{'; ' + cache if cache else ''}"
    )


def memory_report(stack: Stack) -> str:
    lines = [f"{'process':44} {'RSS':>8} {'PSS':>8} {'USS':>8}  (MB)"]
    total = proc_stats.ZERO
    for name, pids in process_pids(stack).items():
        for index, pid in enumerate(pids):
            try:
                mem = proc_stats.memory(pid)
            except OSError:
                continue
            label = name if index == 0 else f"  {name} child {pid}"
            lines.append(f"{label[:44]:44} {mem.rss:8.1f} {mem.pss:8.1f} {mem.uss:8.1f}   {proc_stats.command_name(pid)[:60]}")
            total = total + mem
    lines.append(f"{'whole stack':44} {total.rss:8.1f} {total.pss:8.1f} {total.uss:8.1f}")
    return "\n".join(lines)


def start_stack(args: argparse.Namespace) -> Tuple[Stack, object, Dict[str, float]]:
    """bench.start_own_stack, timed per process; Rasa's launcher and worker count from args."""
    os.environ["RASA_WORKERS"] = str(args.rasa_workers)
    if args.nlu_batch:
        os.environ["NLU_BATCH"] = "1" if args.nlu_batch == "on" else "0"
    if args.parse_cache:
        os.environ["NLU_PARSE_CACHE"] = "1" if args.parse_cache == "on" else "0"
    if args.rasa_launcher == "rasa":
        stack_module.rasa_command = stock_rasa_command
    if args.tf_threads:
        environment = stack_module.rasa_environment
        threads = str(args.tf_threads)
        stack_module.rasa_environment = lambda settings: {
            **environment(settings), "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads,
        }
    timings: Dict[str, float] = {}
    original_start = {name: getattr(Stack, f"start_{name}") for name in ("redis", "action_server", "rasa", "gateway")}

    def timed(name):  # type: ignore[no-untyped-def]
        def start(self, *a, **k):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            original_start[name](self, *a, **k)
            timings[name] = time.perf_counter() - began
        return start

    for name in original_start:
        setattr(Stack, f"start_{name}", timed(name))
    began = time.perf_counter()
    stack, settings = bench.start_own_stack()
    timings["all"] = time.perf_counter() - began
    return stack, settings, timings


def run_stack(args: argparse.Namespace) -> str:
    stack, settings, timings = start_stack(args)
    try:
        base = f"http://127.0.0.1:{settings.gateway_port}"
        send = bench.gateway_sender(settings, base)
        # --distinct: one feed for the warm-up and every phase, so no text comes twice until the
        # corpus is used up (the case a parse cache cannot help); else each phase starts it over.
        shared = ConversationFeed(load_conversations(staying_with_the_bot=True)) if args.distinct else None
        asyncio.run(send_turns(send, shared or ConversationFeed(load_conversations()), args.warm_up, 2))
        caches = lambda: bench.read_gateway_caches(settings, base)  # noqa: E731
        started = "  ".join(f"{name} {seconds:.1f}" for name, seconds in timings.items())
        start_cpu = cpu_by_process(stack)
        lines = [
            f"Rasa launcher: {args.rasa_launcher}, RASA_WORKERS={args.rasa_workers}, TF threads {args.tf_threads or 1}, "
            f"NLU_BATCH={'on' if settings.nlu_batch else 'off'} (max {settings.nlu_batch_max}, "
            f"wait {settings.nlu_batch_wait_ms:g} ms), NLU_PARSE_CACHE={'on' if settings.nlu_parse_cache else 'off'}",
            f"start to ready, s: {started}",
            "CPU s used by start-up and warm-up: " + "  ".join(f"{n} {s:.1f}" for n, s in start_cpu.items()),
        ]
        for users in sorted(set([1] + args.users)):
            lines.append(measure_phase(stack, send, args.turns, users, args.bursts, shared, caches))
            print(lines[-1], flush=True)
        lines.append(memory_report(stack))
        return "\n".join(lines)
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    memory = sub.add_parser("memory", help="memory and start-up CPU of each piece, in a fresh process")
    memory.add_argument("--as-served", action="store_true", help="as bot/rasa_server/serve.py runs Rasa")
    stages = sub.add_parser("stages", help="CPU and wall time of each stage inside Rasa, one user")
    stages.add_argument("--turns", type=int, default=200)
    stages.add_argument("--warm-up", type=int, default=20)
    stages.add_argument("--long", type=int, default=0, help="N: --users conversations of N turns, first turns against last")
    stages.add_argument("--users", type=int, default=5, help="with --long")
    stages.add_argument("--rasa-defaults", action="store_true", help="the endpoints.yml keys of issue #23 off")
    stages.add_argument("--off", default="", help="some of them off: " + ",".join(
        ("slim_tracker", "compact_json", "keep_alive", "lock_scripted", "graph_cache")))
    stack = sub.add_parser("stack", help="CPU per message of each process, latency, memory, start-up")
    stack.add_argument("--turns", type=int, default=150)
    stack.add_argument("--users", type=int, nargs="+", default=[4], help="users at once after one at a time, e.g. 8 16 32")
    stack.add_argument("--bursts", action="store_true", help="the --users write at the same instant, burst after burst")
    stack.add_argument("--nlu-batch", choices=("on", "off"), default=None, help="NLU_BATCH for Rasa (default: settings)")
    stack.add_argument("--parse-cache", choices=("on", "off"), default=None, help="NLU_PARSE_CACHE for Rasa (default: settings)")
    stack.add_argument("--warm-up", type=int, default=20)
    stack.add_argument("--distinct", action="store_true", help="no text sent twice (one corpus walk across the phases)")
    stack.add_argument("--rasa-workers", type=int, default=2)
    stack.add_argument("--rasa-launcher", choices=("serve", "rasa"), default="serve")
    stack.add_argument("--tf-threads", type=int, default=0, help="TensorFlow intra/inter-op threads (default: bot/stack.py's 1)")
    for each in (memory, stages, stack):
        each.add_argument("--model", type=Path, default=None, help="default: newest in models/")
    args = parser.parse_args()
    model = args.model or latest_model()
    if model is None:
        raise SystemExit("no trained model in models/: run `make train`")
    if args.mode == "memory":
        command = [sys.executable, str(SCRIPTS / "profile_memory.py"), "--model", str(model)]
        return subprocess.call(command + (["--as-served"] if args.as_served else []))
    if args.mode == "stages":
        import profile_stages

        off = list(profile_stages.ENDPOINT_SWITCHES) if args.rasa_defaults else [k for k in args.off.split(",") if k]
        print(profile_stages.run(model, args.turns, args.warm_up, off, args.long, args.users), flush=True)
        return 0
    print(run_stack(args), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
