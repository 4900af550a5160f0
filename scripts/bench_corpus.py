"""What `make bench` sends and what it reads back besides latency: the corpus and cache counters.

Imported by scripts/bench.py and scripts/bench_compare.py; tests/scripts/test_bench_corpus.py
checks the corpus against the training data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

import yaml

CORPUS_PATH = Path(__file__).with_name("bench_corpus.yml")

# Prometheus counters named <name>_cache_hits_total / <name>_cache_misses_total are read as a cache;
# a future cache that follows this naming shows up in the bench output without touching it.
_CACHE_LINE = re.compile(r"^([A-Za-z_:][\w:]*)_cache_(hits|misses)_total(\{[^}]*\})?\s+([0-9.eE+-]+)$")
# "[济南](city)" and '[济南]{"entity": "city"}' in Rasa training data are the text "济南".
_ANNOTATION = re.compile(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})")
_IGNORED = re.compile(r"[\s\W_]+", re.UNICODE)


def load_conversations(path: Path = CORPUS_PATH, staying_with_the_bot: bool = False) -> List[List[str]]:
    """The corpus's conversations, each a list of user turns in order; with staying_with_the_bot,
    only those not marked `hands_over` (which end with a counsellor or an unsubscribe)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [item for item in data["conversations"] if not (staying_with_the_bot and item.get("hands_over"))]
    conversations = [[str(turn) for turn in item["turns"]] for item in items]
    if not conversations or not all(conversations):
        raise ValueError(f"{path}: every conversation needs at least one turn")
    return conversations


def all_turns(conversations: Iterable[List[str]]) -> List[str]:
    return [turn for conversation in conversations for turn in conversation]


@dataclass
class ConversationFeed:
    """Hands each new simulated user the next conversation, starting over when all are used."""

    conversations: List[List[str]]
    _next: int = 0
    sent: List[str] = field(default_factory=list)

    def next_conversation(self) -> List[str]:
        conversation = self.conversations[self._next % len(self.conversations)]
        self._next += 1
        return conversation

    def record(self, text: str) -> None:
        self.sent.append(text)


def distinct_share(sent: List[str]) -> Tuple[int, int, float]:
    """(distinct texts, texts sent, share of distinct): a cache can only help with the rest."""
    distinct = len(set(sent))
    return distinct, len(sent), (distinct / len(sent) if sent else 0.0)


def normalise(text: str) -> str:
    """Text as NLU would see it for an equality check: annotations, spaces and punctuation gone."""
    return _IGNORED.sub("", _ANNOTATION.sub(r"\1", text)).lower()


def training_examples(nlu_dir: Path) -> Set[str]:
    """Every training example under nlu_dir (normalised), from each `examples: |` block."""
    examples: Set[str] = set()
    for path in sorted(nlu_dir.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.add(normalise(line[2:]))
    return examples


def read_cache_counters(metrics_text: str) -> Dict[str, Tuple[float, float]]:
    """{cache name: (hits, misses)} from a Prometheus text page, labels summed."""
    counters: Dict[str, List[float]] = {}
    for line in metrics_text.splitlines():
        match = _CACHE_LINE.match(line.strip())
        if match:
            name, kind, _, value = match.groups()
            pair = counters.setdefault(name, [0.0, 0.0])
            pair[0 if kind == "hits" else 1] += float(value)
    return {name: (hits, misses) for name, (hits, misses) in counters.items()}


def cache_lines(
    before: Optional[Dict[str, Tuple[float, float]]], after: Optional[Dict[str, Tuple[float, float]]]
) -> List[str]:
    """One line per cache with its hit rate during the run, or a line saying there is none."""
    if before is None or after is None:
        return ["cache hit rate : not read (the gateway's /metrics did not answer)"]
    if not after:
        return ["cache hit rate : no cache (no *_cache_hits_total counter on the gateway's /metrics; Rasa exposes none)"]
    lines = []
    for name, (hits, misses) in sorted(after.items()):
        old_hits, old_misses = before.get(name, (0.0, 0.0))
        run_hits, run_misses = hits - old_hits, misses - old_misses
        total = run_hits + run_misses
        rate = f"{run_hits / total:.1%}" if total else "no lookups"
        lines.append(f"cache hit rate : {name} {rate} ({run_hits:.0f} hits, {run_misses:.0f} misses)")
    return lines
