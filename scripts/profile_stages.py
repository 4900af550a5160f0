"""Where one turn's CPU and wall time go inside Rasa, stage by stage, for one user at a time.

Run by `scripts/profile_turn.py stages` (Rasa's environment, .venv). Loads the trained model in
this process with endpoints.yml (our tracker store, lock store and action endpoint) against its
own Redis and action server (started by bot/stack.py on free ports), walks conversations of
scripts/bench_corpus.yml one turn at a time through `Agent.handle_message` (what Rasa's REST
channel calls), and times each stage with this thread's CPU clock and the wall clock:

- every node of Rasa's graph (each NLU component, each policy, the graph's own steps);
- the lock store and the tracker store (Redis round trips included in their wall time);
- the action round trip (`RemoteAction.run`: request, the action server, response check) and the
  action server's own CPU (its process's CPU seconds over the run);
- the rest of Rasa's processor (events, slots, responses): the turn minus the stages above.

Turns go one after another, so the thread's CPU clock during an await is this turn's alone.
"""
from __future__ import annotations

import asyncio
import functools
import os
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import proc_stats
from bench_corpus import load_conversations
from bot.settings import load_settings
from bot.stack import Stack, free_port, rasa_environment


@dataclass
class Timings:
    """CPU and wall seconds and calls per stage name."""

    cpu: Dict[str, float] = field(default_factory=lambda: defaultdict(float))
    wall: Dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Dict[str, int] = field(default_factory=lambda: defaultdict(int))
    enabled: bool = False

    def add(self, name: str, cpu: float, wall: float) -> None:
        if self.enabled:
            self.cpu[name] += cpu
            self.wall[name] += wall
            self.calls[name] += 1


TIMINGS = Timings()


def quiet_rasa() -> None:
    """Rasa's structlog logs every turn at debug level to stdout unless told otherwise."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)


def _clocks() -> Tuple[float, float]:
    return time.thread_time(), time.perf_counter()


def _wrap_sync(owner: Any, attribute: str, name_of: Callable[[Any], str]) -> None:
    original = getattr(owner, attribute)

    @functools.wraps(original)
    def timed(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        cpu, wall = _clocks()
        try:
            return original(self, *args, **kwargs)
        finally:
            TIMINGS.add(name_of(self), time.thread_time() - cpu, time.perf_counter() - wall)

    setattr(owner, attribute, timed)


def _wrap_async(owner: Any, attribute: str, name: str) -> None:
    original = getattr(owner, attribute)

    @functools.wraps(original)
    async def timed(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        cpu, wall = _clocks()
        try:
            return await original(self, *args, **kwargs)
        finally:
            TIMINGS.add(name, time.thread_time() - cpu, time.perf_counter() - wall)

    setattr(owner, attribute, timed)


def _node_label(node: Any) -> str:
    name = node._node_name
    for prefix in ("run_", "bot.rasa_server."):
        name = name[len(prefix):] if name.startswith(prefix) else name
    return "graph: " + name


def instrument() -> None:
    """Patch the stages' methods in this process only (the served code is not touched)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.graph import GraphNode
    from rasa.engine.runner.dask import DaskGraphRunner

    from bot.rasa_server.lock_store import AtomicRedisLockStore
    from bot.rasa_server.tracker_store import AppendOnlyRedisTrackerStore

    _wrap_sync(GraphNode, "__call__", _node_label)
    _wrap_sync(DaskGraphRunner, "run", lambda _: "graph runs (whole)")
    _wrap_sync(AtomicRedisLockStore, "_change", lambda _: "lock store (Redis)")
    _wrap_async(AppendOnlyRedisTrackerStore, "retrieve", "tracker read (Redis)")
    _wrap_async(AppendOnlyRedisTrackerStore, "save", "tracker write (Redis)")
    _wrap_async(RemoteAction, "run", "action round trip")


def start_backends() -> Tuple[Stack, Any]:
    """Redis (embedded unless REDIS_URL) and the action server on free ports."""
    env = {
        "ACTION_SERVER_PORT": str(free_port()),
        "REDIS_KEY_PREFIX": "profile" + uuid.uuid4().hex[:6],
    }
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{env['ACTION_SERVER_PORT']}"
    if not os.environ.get("REDIS_URL"):
        env["EMBEDDED_REDIS_PORT"] = str(free_port())
        env["VAR_DIR"] = tempfile.mkdtemp(prefix="zhinan-profile-")
    os.environ.update(env)
    settings = load_settings()
    os.environ.update(rasa_environment(settings))  # what endpoints.yml interpolates
    stack = Stack(settings, Path(tempfile.mkdtemp(prefix="zhinan-profile-logs-")), env=env)
    stack.start_redis()
    stack.start_action_server()
    return stack, settings


async def walk(agent: Any, turns: int, warm_up: int) -> Tuple[int, float, float]:
    """Send `warm_up` untimed turns, then `turns` timed ones; returns (turns, cpu, wall)."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    conversations = load_conversations(staying_with_the_bot=True)
    run_id = uuid.uuid4().hex[:6]
    sent, cpu_total, wall_total = 0, 0.0, 0.0
    for number, conversation in enumerate(_cycle(conversations)):
        for text in conversation:
            if sent >= warm_up + turns:
                return turns, cpu_total, wall_total
            TIMINGS.enabled = sent >= warm_up
            message = UserMessage(text, CollectingOutputChannel(), sender_id=f"profile-{run_id}-{number}")
            cpu, wall = _clocks()
            await agent.handle_message(message)
            if TIMINGS.enabled:
                cpu_total += time.thread_time() - cpu
                wall_total += time.perf_counter() - wall
            sent += 1
    return turns, cpu_total, wall_total


def _cycle(conversations: List[List[str]]):
    while True:
        yield from conversations


def report(turns: int, cpu: float, wall: float, action_cpu: float) -> str:
    graph = {k: v for k, v in TIMINGS.cpu.items() if k.startswith("graph: ")}
    nodes_cpu = sum(graph.values())
    nodes_wall = sum(TIMINGS.wall[k] for k in graph)
    outside = ("lock store (Redis)", "tracker read (Redis)", "tracker write (Redis)", "action round trip")
    rows: List[Tuple[str, float, float, float]] = []
    for name in sorted(graph, key=graph.get, reverse=True):
        rows.append((name, TIMINGS.calls[name] / turns, graph[name], TIMINGS.wall[name]))
    whole = "graph runs (whole)"
    rows.append(("graph runner overhead", TIMINGS.calls[whole] / turns,
                 TIMINGS.cpu[whole] - nodes_cpu, TIMINGS.wall[whole] - nodes_wall))
    for name in outside:
        rows.append((name, TIMINGS.calls[name] / turns, TIMINGS.cpu[name], TIMINGS.wall[name]))
    counted_cpu = TIMINGS.cpu[whole] + sum(TIMINGS.cpu[n] for n in outside)
    counted_wall = TIMINGS.wall[whole] + sum(TIMINGS.wall[n] for n in outside)
    rows.append(("processor rest (events, slots, replies)", 1.0, cpu - counted_cpu, wall - counted_wall))
    calls = max(1, TIMINGS.calls["action round trip"])
    lines = [
        f"{turns} turns, one user at a time, in-process Agent.handle_message",
        f"{'stage':52} {'calls/turn':>10} {'CPU ms/turn':>12} {'wall ms/turn':>13}",
    ]
    for name, per_turn, stage_cpu, stage_wall in rows:
        lines.append(f"{name[:52]:52} {per_turn:10.2f} {1000 * stage_cpu / turns:12.2f} {1000 * stage_wall / turns:13.2f}")
    lines.append(f"{'turn (Rasa thread, all stages)':52} {1.0:10.2f} {1000 * cpu / turns:12.2f} {1000 * wall / turns:13.2f}")
    lines.append(f"action server process: {1000 * action_cpu / calls:.2f} ms CPU per remote action "
                 f"({calls} calls, {1000 * action_cpu / turns:.2f} ms per turn)")
    return "\n".join(lines)


def run(model: Path, turns: int, warm_up: int) -> str:
    stack, _settings = start_backends()
    try:
        from rasa.core.agent import load_agent
        from rasa.core.utils import AvailableEndpoints

        instrument()
        quiet_rasa()
        endpoints = AvailableEndpoints.read_endpoints("endpoints.yml")
        loop = asyncio.new_event_loop()
        agent = loop.run_until_complete(load_agent(model_path=str(model), endpoints=endpoints))
        action_pid = stack.processes["actions"].pid
        loop.run_until_complete(walk(agent, 0, warm_up))
        action_before = proc_stats.tree_cpu_seconds(action_pid)
        done, cpu, wall = loop.run_until_complete(walk(agent, turns, 0))
        action_cpu = proc_stats.tree_cpu_seconds(action_pid) - action_before
        return report(done, cpu, wall, action_cpu)
    finally:
        stack.stop()
