"""Knowledge items and the knowledge base, loaded from every YAML file in data/knowledge/.

Each file holds `items:` and may hold `synonyms:` (merged across files). The settings that
belong to the whole base (`matcher:`, `defaults:`, `off_topic_calibration:`) may appear in one
file only, so that no two files disagree about them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from bot.settings import PROJECT_ROOT

KNOWLEDGE_DIR = PROJECT_ROOT / "data" / "knowledge"
SHARED_KEYS = ("matcher", "defaults", "off_topic_calibration")
REQUIRED = ("id", "title", "variants", "answer", "source", "last_reviewed")


@dataclass(frozen=True)
class KnowledgeItem:
    id: str
    title: str
    variants: Tuple[str, ...]
    answer: str
    source: str
    last_reviewed: str
    review_note: str = ""
    topic: str = ""
    audience: Tuple[str, ...] = ()
    # Words that name this item's subject and no other item's (简历, 三支一扶, 见习): between close items,
    # the one a message names is the answer (retrieval.answers_the_named_subject).
    key_terms: Tuple[str, ...] = ()


@dataclass(frozen=True)
class MatcherSettings:
    """When an answer is confident (`threshold`, `min_margin`), when a choice is offered
    (`choice_floor`), and how the item classifier scores (bot/services/knowledge/retrieval.py)."""

    threshold: float = 0.5
    min_margin: float = 0.1
    choice_floor: float = 0.3
    dense_weight: float = 2.0  # e5 features beside the character n-grams (0: n-grams only)
    temperature: float = 0.5  # softmax temperature of the classifier's margins
    off_topic_class: float = 0.0  # 1: the off-topic calibration questions are a class of their own


@dataclass(frozen=True)
class KnowledgeBase:
    items: Tuple[KnowledgeItem, ...]
    settings: MatcherSettings
    hotline: str
    off_topic_calibration: Tuple[str, ...]
    synonyms: Tuple[Tuple[str, str], ...] = ()

    def item(self, item_id: str) -> Optional[KnowledgeItem]:
        return next((i for i in self.items if i.id == item_id), None)


def load_knowledge(directory: Path = KNOWLEDGE_DIR) -> KnowledgeBase:
    paths = sorted(directory.glob("*.yml")) if directory.is_dir() else [directory]
    if not paths:
        raise ValueError(f"no knowledge files in {directory}")
    shared: Dict[str, Any] = {}
    items: List[KnowledgeItem] = []
    synonyms: Dict[str, List[str]] = {}
    for path in paths:
        raw = _read(path)
        for key in SHARED_KEYS:
            if key in raw:
                if key in shared:
                    raise ValueError(f"{path.name}: `{key}` is already set in another knowledge file")
                shared[key] = raw[key]
        for canonical, aliases in (raw.get("synonyms") or {}).items():
            synonyms.setdefault(str(canonical), []).extend(str(a) for a in aliases)
        items.extend(_item(entry, path.name, shared.get("defaults") or {}) for entry in raw.get("items") or ())
    if len({i.id for i in items}) != len(items):
        raise ValueError("knowledge item ids must be unique across files")
    defaults = shared.get("defaults") or {}
    return KnowledgeBase(
        items=tuple(items),
        settings=_settings(shared.get("matcher") or {}),
        hotline=str(defaults.get("hotline", "12333")),
        off_topic_calibration=tuple(str(q) for q in shared.get("off_topic_calibration") or ()),
        synonyms=synonym_pairs(synonyms),
    )


def _read(path: Path) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path.name}: expected a mapping with `items:`")
    return raw


def _item(entry: Dict[str, Any], file_name: str, defaults: Dict[str, Any]) -> KnowledgeItem:
    for required in REQUIRED:
        if not entry.get(required):
            raise ValueError(f"{file_name}: knowledge item {entry.get('id')!r} lacks {required}")
    return KnowledgeItem(
        id=str(entry["id"]),
        title=str(entry["title"]),
        variants=tuple(str(v) for v in entry["variants"]),
        answer="".join(str(entry["answer"]).split()),  # Chinese: no spaces from YAML folding
        source=str(entry["source"]),
        last_reviewed=str(entry["last_reviewed"]),
        review_note=str(entry.get("review_note") or defaults.get("review_note") or ""),
        topic=str(entry.get("topic") or ""),
        audience=tuple(str(a) for a in entry.get("audience") or ()),
        key_terms=tuple(str(t) for t in entry.get("key_terms") or ()),
    )


def _settings(raw: Dict[str, Any]) -> MatcherSettings:
    known = MatcherSettings.__dataclass_fields__
    unknown = set(raw) - set(known)
    if unknown:
        raise ValueError(f"unknown matcher settings: {sorted(unknown)}")
    return MatcherSettings(**{k: float(v) for k, v in raw.items()})


def synonym_pairs(table: Dict[str, Sequence[str]]) -> Tuple[Tuple[str, str], ...]:
    """(alias, canonical) pairs, longest alias first so that 主动离职 wins over 离职."""
    pairs = {(str(a), str(c)) for c, aliases in table.items() for a in aliases if str(a) != str(c)}
    return tuple(sorted(pairs, key=lambda p: (-len(p[0]), p[0])))
