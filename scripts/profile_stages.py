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

It also prints the size of the action server's request body (the tracker Rasa sends), and with
`--long N` times `--users` conversations of N turns each by turn number (the first turns against
the last: a turn's cost should not grow with the conversation; e5's cache of texts is emptied
before each turn, since the users share texts and hits in one span only would skew the comparison). `--rasa-defaults` switches off
the endpoints.yml keys of issue #23 (`ENDPOINT_SWITCHES`), `--off KEY,…` some of them, so one
session measures before and after.
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
# Request bodies sent to the action server (bytes), and the turn number each was sent in.
PAYLOADS: List[Tuple[int, int]] = []
CURRENT_TURN = [0]
# The changes of issue #23: endpoints.yml keys (endpoint, key), and the graph runner's patch.
ENDPOINT_SWITCHES = {
    "slim_tracker": ("action", "slim_tracker"),
    "compact_json": ("action", "compact_json"),
    "keep_alive": ("action", "keep_alive"),
    "lock_scripted": ("lock_store", "scripted"),
    "graph_cache": None,
}


def switch_off(endpoints: Any, names: List[str]) -> List[str]:
    """Turn the named ENDPOINT_SWITCHES off in the endpoints read from endpoints.yml."""
    from bot.rasa_server import graph_runner

    for name in names:
        if ENDPOINT_SWITCHES[name] is None:
            graph_runner.uninstall()
            continue
        endpoint_name, key = ENDPOINT_SWITCHES[name]
        getattr(endpoints, endpoint_name).kwargs[key] = False
    return [f"{name}={'off' if name in names else 'on'}" for name in ENDPOINT_SWITCHES]


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

    from bot.rasa_server import patches
    from bot.rasa_server.lock_store import AtomicRedisLockStore
    from bot.rasa_server.tracker_store import AppendOnlyRedisTrackerStore

    patches.install()  # before the wrappers below (the tracker store installs it again: no-op)
    _wrap_sync(GraphNode, "__call__", _node_label)
    _wrap_sync(DaskGraphRunner, "run", lambda _: "graph runs (whole)")
    _wrap_sync(AtomicRedisLockStore, "_change", lambda _: "lock store (Redis)")
    _wrap_sync(AtomicRedisLockStore, "_run_script", lambda _: "lock store (Redis)")
    _wrap_sync(AtomicRedisLockStore, "get_lock", lambda _: "lock store (Redis)")
    _record_payloads(RemoteAction)
    _wrap_async(AppendOnlyRedisTrackerStore, "retrieve", "tracker read (Redis)")
    _wrap_async(AppendOnlyRedisTrackerStore, "save", "tracker write (Redis)")
    _wrap_async(RemoteAction, "run", "action round trip")


def _record_payloads(remote_action: Any) -> None:
    """The size of each request body as sent (compact or Rasa's json.dumps)."""
    import json

    from bot.rasa_server import action_client

    original = remote_action._action_call_format

    def recorded(self, tracker, domain):  # type: ignore[no-untyped-def]
        body = original(self, tracker, domain)
        compact = self.action_endpoint is not None and self.action_endpoint.kwargs.get(action_client.COMPACT_JSON)
        size = len(action_client.dumps(body)) if compact else len(json.dumps(body).encode("utf-8"))
        if TIMINGS.enabled:
            PAYLOADS.append((CURRENT_TURN[0], size))
        return body

    remote_action._action_call_format = recorded


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


async def walk_long(agent: Any, turns: int, users: int) -> Dict[int, List[Tuple[float, float]]]:
    """`users` conversations of `turns` turns each (the corpus's texts in order, one user after
    another); (CPU, wall) seconds of each turn by its number, 1 the first."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    texts = [text for conversation in load_conversations(staying_with_the_bot=True) for text in conversation]
    run_id = uuid.uuid4().hex[:6]
    by_turn: Dict[int, List[Tuple[float, float]]] = defaultdict(list)
    TIMINGS.enabled = True
    for user in range(users):
        for number in range(1, turns + 1):
            text = texts[(user * 37 + number) % len(texts)]
            message = UserMessage(text, CollectingOutputChannel(), sender_id=f"profile-long-{run_id}-{user}")
            CURRENT_TURN[0] = number
            _forget_embeddings()  # users share texts: an e5 cache hit in one span only would skew it
            stages_before = dict(TIMINGS.cpu)
            cpu, wall = _clocks()
            await agent.handle_message(message)
            by_turn[number].append((time.thread_time() - cpu, time.perf_counter() - wall))
            for name, seconds in TIMINGS.cpu.items():
                STAGES_BY_TURN[number][name] += seconds - stages_before.get(name, 0.0)
    return by_turn


def _forget_embeddings() -> None:
    from bot.rasa_server import sentence_embedding

    cached = getattr(sentence_embedding, "_cached", None)
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()


# CPU seconds of each stage by turn number (--long): which stages grow with the conversation.
STAGES_BY_TURN: Dict[int, Dict[str, float]] = defaultdict(lambda: defaultdict(float))


def _growing_stages(spans: Dict[str, range], users: int, top: int = 8) -> List[str]:
    first, last = (
        {name: sum(STAGES_BY_TURN[n][name] for n in span) / (len(span) * users) for name in TIMINGS.cpu}
        for span in spans.values()
    )
    grown = sorted(TIMINGS.cpu, key=lambda name: last[name] - first[name], reverse=True)[:top]
    return [f"  {name[:50]:50} CPU ms {1000 * first[name]:6.2f} -> {1000 * last[name]:6.2f}" for name in grown]


def long_report(by_turn: Dict[int, List[Tuple[float, float]]], window: int = 20) -> str:
    """Turns 2..window+1 against the last `window`: CPU mean and p99, wall median, request bytes."""
    last = max(by_turn)
    spans = {f"turns 2-{window + 1}": range(2, window + 2), f"turns {last - window + 1}-{last}": range(last - window + 1, last + 1)}
    lines = [f"one conversation of {last} turns, {len(by_turn[1])} users; turn 1 (session start) CPU "
             f"{1000 * sum(c for c, _ in by_turn[1]) / len(by_turn[1]):.1f} ms"]
    for label, span in spans.items():
        cpu = sorted(c for n in span for c, _ in by_turn[n])
        wall = sorted(w for n in span for _, w in by_turn[n])
        sizes = [size for turn, size in PAYLOADS if turn in span]
        lines.append(
            f"{label:14} CPU ms mean {1000 * sum(cpu) / len(cpu):6.1f}  p99 {1000 * _percentile(cpu, 99):6.1f}"
            f"  | wall ms p50 {1000 * _percentile(wall, 50):6.1f}  p99 {1000 * _percentile(wall, 99):6.1f}"
            f"  | action request {(sum(sizes) / len(sizes) / 1024) if sizes else 0:6.1f} KB mean,"
            f" {(max(sizes) / 1024) if sizes else 0:6.1f} KB max ({len(sizes)})"
        )
    lines.append("stages that grew most (mean per turn, first span -> last span):")
    lines += _growing_stages(spans, len(by_turn[1]))
    return "\n".join(lines)


def _percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share / 100 * (len(ordered) - 1))))]


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
    if PAYLOADS:
        sizes = [size for _turn, size in PAYLOADS]
        lines.append(f"action server request body: mean {sum(sizes) / len(sizes) / 1024:.1f} KB, "
                     f"max {max(sizes) / 1024:.1f} KB ({len(sizes)} requests)")
    return "\n".join(lines)


def run(model: Path, turns: int, warm_up: int, off: List[str], long_turns: int = 0, users: int = 5) -> str:
    stack, _settings = start_backends()
    try:
        from rasa.core.agent import load_agent
        from rasa.core.utils import AvailableEndpoints

        from bot.rasa_server import patches

        patches.install()  # what the tracker store installs, so that the switches can undo it
        endpoints = AvailableEndpoints.read_endpoints("endpoints.yml")
        switches = "  ".join(switch_off(endpoints, off))  # before instrument() wraps the graph runner
        instrument()
        quiet_rasa()
        loop = asyncio.new_event_loop()
        agent = loop.run_until_complete(load_agent(model_path=str(model), endpoints=endpoints))
        action_pid = stack.processes["actions"].pid
        loop.run_until_complete(walk(agent, 0, warm_up))
        if long_turns:
            return switches + "\n" + long_report(loop.run_until_complete(walk_long(agent, long_turns, users)))
        action_before = proc_stats.tree_cpu_seconds(action_pid)
        done, cpu, wall = loop.run_until_complete(walk(agent, turns, 0))
        action_cpu = proc_stats.tree_cpu_seconds(action_pid) - action_before
        return switches + "\n" + report(done, cpu, wall, action_cpu)
    finally:
        stack.stop()
