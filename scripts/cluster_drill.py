"""`make test-cluster`: the failure drills of issue #24 with real processes under steady load.

haproxy in front of two gateways, two Rasa replicas and two action servers, Redis primary +
replica + three Sentinels (scripts/cluster_topology.py); WeChat-signed users that retry as WeChat
does, some of them booking workshops (scripts/cluster_load.py). Then, one after the other:

  1. kill -9 one gateway        -> every message gets exactly one answer (passive or 客服)
  2. kill -9 one Rasa replica   -> answers continue; in-flight turns get an answer or a clear 稍后
  3. kill -9 the Redis primary  -> Sentinel promotes the replica; no acknowledged booking lost
  4. replacements for 1 and 2   -> they take load, no other process restarted

Prints the figures of each drill and writes them to <dir>/report.json; exits 1 if a drill failed.
Run: PYTHONPATH=. .venv/bin/python scripts/cluster_drill.py  (needs haproxy and a trained model)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.redis_client import create_redis  # noqa: E402
from bot.services.booking.service import BookingService  # noqa: E402
from bot.stack import latest_model  # noqa: E402
from cluster_load import LATER, Load, Message  # noqa: E402  (scripts/ is on sys.path)
from cluster_topology import Cluster, running_cluster, settings_for  # noqa: E402

BEFORE_KILL_S = 5.0  # messages sent this long before a kill count in its drill (they were in flight)
SETTLE_S = 20.0  # after the load stops: late customer-service messages arrive


@dataclass
class Drill:
    name: str
    killed: str
    killed_at: float
    ended_at: float = 0.0
    in_flight_at_kill: int = 0
    figures: Dict[str, object] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one message got: passive reply and customer-service sends in its window."""

    texts: List[str]
    answered_at: Optional[float]

    @property
    def answered(self) -> bool:
        return bool(self.texts)

    @property
    def duplicated(self) -> bool:
        return len(self.texts) != len(set(self.texts))

    @property
    def later(self) -> bool:
        return any(LATER in t for t in self.texts)


async def outcomes(load: Load, session: aiohttp.ClientSession) -> Dict[int, Outcome]:
    """Each message's answer: its passive reply plus the 客服 sends stamped between it and the
    user's next message (a user waits for one answer before typing the next)."""
    by_user: Dict[str, List[Message]] = {}
    for msg in load.messages:
        by_user.setdefault(msg.openid, []).append(msg)
    result: Dict[int, Outcome] = {}
    for openid, msgs in by_user.items():
        pushes = await load.pushes(session, openid)
        msgs.sort(key=lambda m: m.sent_at)
        for i, msg in enumerate(msgs):
            end = msgs[i + 1].sent_at if i + 1 < len(msgs) else float("inf")
            mine = [r for r in pushes if msg.sent_at <= r.get("at", 0) < end]
            texts = ([msg.passive] if msg.passive else []) + [r["payload"]["text"]["content"] for r in mine]
            first = msg.finished_at if msg.passive else (mine[0]["at"] if mine else None)
            result[id(msg)] = Outcome(texts, first)
    return result


def figures(load: Load, found: Dict[int, Outcome], start: float, end: float,
            killed_at: Optional[float]) -> Dict[str, object]:
    msgs = [m for m in load.messages if start <= m.sent_at < end]
    out = [found[id(m)] for m in msgs]
    normal_after = [o.answered_at for m, o in zip(msgs, out) if killed_at is not None
                    and m.sent_at >= killed_at and o.answered and not o.later and o.answered_at]
    return {
        "sent": len(msgs),
        "answered": sum(o.answered for o in out),
        "answered_later": sum(o.answered and o.later for o in out),
        "duplicated": sum(o.duplicated for o in out),
        "lost": sum(not o.answered for o in out),
        "retried": sum(m.tries > 1 for m in msgs),
        "resume_s": round(min(normal_after) - killed_at, 2) if normal_after else None,
        "booking_restarts": sum(start <= t < end for t in load.form_restarts),
        # What went wrong, message by message (seconds relative to the kill).
        "lost_messages": [_describe(m, killed_at) for m, o in zip(msgs, out) if not o.answered],
        "duplicated_messages": [_describe(m, killed_at) | {"texts": o.texts} for m, o in zip(msgs, out) if o.duplicated],
    }


def _describe(msg: Message, killed_at: Optional[float]) -> Dict[str, object]:
    return {"text": msg.text, "sent_s": round(msg.sent_at - (killed_at or 0), 2), "tries": msg.tries,
            "failed_tries": msg.failed_tries, "user": msg.openid[-8:]}


async def when_busy(load: Load, at_least: int = 2, patience_s: float = 10.0) -> None:
    """Wait for a moment with turns in flight: a kill then cuts some of them."""
    deadline = time.monotonic() + patience_s
    while load.in_flight < at_least and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def kill(cluster: Cluster, load: Load, name: str, label: str) -> Drill:
    drill = Drill(label, name, 0.0)
    await when_busy(load)
    drill.in_flight_at_kill = load.in_flight
    await asyncio.to_thread(cluster.replicas[name].kill9)
    drill.killed_at = time.time()
    print(f"[{time.strftime('%H:%M:%S')}] {label}: kill -9 {name}", flush=True)
    return drill


async def replace(cluster: Cluster, name: str, observe_s: float) -> Dict[str, object]:
    """Start a replacement on the same address; it must take load, the others keep their pids."""
    others = {n: r.stack.processes[r.kind].pid for n, r in cluster.replicas.items() if n != name}
    started = time.monotonic()
    before = cluster.sessions().get(name, 0)
    await asyncio.to_thread(cluster.restart, name)
    ready_s = time.monotonic() - started
    await asyncio.sleep(observe_s)
    after = cluster.sessions().get(name, 0)
    same = all(cluster.replicas[n].stack.processes[cluster.replicas[n].kind].pid == pid for n, pid in others.items())
    print(f"[{time.strftime('%H:%M:%S')}] replacement {name}: ready in {ready_s:.1f}s, {after - before} requests", flush=True)
    return {"replica": name, "ready_s": round(ready_s, 1), "requests_in_first_s": after - before,
            "observed_s": observe_s, "others_not_restarted": same, "haproxy_status": cluster.status(name)}


async def redis_drill(cluster: Cluster, load: Load) -> tuple:
    old = cluster.redis.current_primary()
    await when_busy(load)
    await asyncio.to_thread(cluster.redis.kill_primary)
    killed_at = time.time()
    print(f"[{time.strftime('%H:%M:%S')}] redis: kill -9 primary {old[1]}", flush=True)
    while cluster.redis.current_primary() == old and time.time() - killed_at < 30:
        await asyncio.sleep(0.05)
    promoted_s = time.time() - killed_at
    return Drill("redis primary", f"redis:{old[1]}", killed_at), round(promoted_s, 2), cluster.redis.current_primary()


async def bookings_found(cluster: Cluster, codes: List[str]) -> List[str]:
    settings = settings_for(cluster.base_env)
    redis = create_redis(settings)
    try:
        service = BookingService(redis, settings)
        return [code for code in codes if await service.get(code) is not None]
    finally:
        await redis.close()


async def run(args: argparse.Namespace, directory: Path) -> dict:
    model = args.model or latest_model()
    if model is None:
        raise SystemExit("no trained model in models/: run `make train`")
    started = time.monotonic()
    with running_cluster(directory, model) as cluster:
        up_s = time.monotonic() - started
        print(f"cluster up in {up_s:.0f}s: haproxy {cluster.url('wechat')}, logs in {directory}/logs", flush=True)
        load = Load(cluster.url("wechat"), settings_for(cluster.base_env).wechat_token)
        async with aiohttp.ClientSession() as session:
            users = [asyncio.create_task(load.chat_user(session, i)) for i in range(args.chat_users)]
            users += [asyncio.create_task(load.booking_user(session, i)) for i in range(args.booking_users)]
            await asyncio.sleep(args.steady)
            drills, replacements = [], []

            gateway = await kill(cluster, load, "gateway1", "gateway")
            await asyncio.sleep(args.steady)
            gateway.ended_at = time.time()
            replacements.append(await replace(cluster, "gateway1", args.steady))

            rasa = await kill(cluster, load, "rasa1", "rasa")
            await asyncio.sleep(args.steady)
            rasa.ended_at = time.time()
            replacements.append(await replace(cluster, "rasa1", args.steady))

            redis, promoted_s, new_primary = await redis_drill(cluster, load)
            await asyncio.sleep(args.steady * 1.5)
            redis.ended_at = time.time()
            drills = [gateway, rasa, redis]

            load.stopping = True
            await asyncio.gather(*users)
            await asyncio.sleep(SETTLE_S)
            found = await outcomes(load, session)
            for drill in drills:
                drill.figures = figures(load, found, drill.killed_at - BEFORE_KILL_S, drill.ended_at, drill.killed_at)
            codes = await bookings_found(cluster, load.codes_told)
            redis.figures.update(promoted_s=promoted_s, new_primary=new_primary[1],
                                 bookings_told=len(load.codes_told), bookings_found=len(codes),
                                 bookings_lost=sorted(set(load.codes_told) - set(codes)))
            whole = figures(load, found, 0, float("inf"), None)
    return {"cluster_up_s": round(up_s), "whole_run": whole, "drills": [asdict(d) for d in drills],
            "replacements": replacements, "bookings_started": load.bookings_started,
            "total_s": round(time.monotonic() - started)}


def verdict(report: dict) -> List[str]:
    """What failed: the promises of each drill, in the words of the issue."""
    problems = []
    for drill in report["drills"]:
        f = drill["figures"]
        if f["lost"] or f["duplicated"]:
            problems.append(f"{drill['name']}: {f['lost']} lost, {f['duplicated']} duplicated")
        if f["resume_s"] is None:
            problems.append(f"{drill['name']}: service did not resume")
        if f.get("bookings_lost"):
            problems.append(f"{drill['name']}: acknowledged bookings lost {f['bookings_lost']}")
    for rep in report["replacements"]:
        if rep["requests_in_first_s"] <= 0 or not rep["others_not_restarted"]:
            problems.append(f"replacement {rep['replica']}: {rep}")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--chat-users", type=int, default=8)
    parser.add_argument("--booking-users", type=int, default=3)
    parser.add_argument("--steady", type=float, default=20.0, help="seconds of load before/after each event")
    parser.add_argument("--dir", type=Path, default=None, help="logs and report (default: a temporary directory)")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="zhinan-cluster-"))
    directory.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(run(args, directory))
    (directory / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps(report, ensure_ascii=False, indent=2))
    problems = verdict(report)
    for problem in problems:
        print("FAILED:", problem)
    print("all drills passed" if not problems else f"{len(problems)} drill checks failed", f"({directory}/report.json)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
