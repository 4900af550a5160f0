"""The everyday-questions corpus (tests/questions/everyday_*.yml): loading and its vocabulary.

One home for reading the corpus: tests/questions/test_corpus_format.py checks it with this module and
the `make eval-questions` command can score a bot against what `load_questions` returns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Tuple

import yaml

QUESTIONS_DIR = Path(__file__).resolve().parents[1] / "tests" / "questions"
DEV_PATH = QUESTIONS_DIR / "everyday_dev.yml"
# Never used for training or tuning: only run and reported.
HELDOUT_PATH = QUESTIONS_DIR / "everyday_heldout.yml"

DECLINE = "decline"
GROUPS = ("在校生", "应届毕业生", "离校未就业毕业生", "失业青年", "就业困难人员", "退役军人", "残疾人",
          "农民工", "灵活就业", "通用")
STYLES = ("plain", "colloquial", "dialect", "voice_runon", "typo", "mixed_script", "emoji", "long")
_FIELDS = {"text", "expect", "group", "style"}
_LABEL = re.compile(r"^(intent|kb):[a-z][a-z0-9_]*$")


class CorpusError(ValueError):
    """The corpus file does not have the agreed shape; the message names the entry."""


@dataclass(frozen=True)
class Question:
    text: str
    expect: Tuple[str, ...]  # every label that counts as a right answer; one for most messages
    group: str
    style: str

    @property
    def ambiguous(self) -> bool:
        return len(self.expect) > 1


def is_label(label: str) -> bool:
    """`intent:<name>`, `kb:<id>` or `decline`."""
    return label == DECLINE or bool(_LABEL.match(label))


def load_questions(path: Path) -> List[Question]:
    """Every message of one corpus file, in file order; CorpusError if any entry is malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CorpusError(f"{path.name}: not valid YAML: {error}") from error
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("messages"), list):
        raise CorpusError(f"{path.name}: expected `version: 1` and a `messages:` list")
    return [_question(path.name, number, entry) for number, entry in enumerate(data["messages"], 1)]


def _question(source: str, number: int, entry: Any) -> Question:
    where = f"{source} message {number}"
    if not isinstance(entry, dict) or set(entry) != _FIELDS:
        raise CorpusError(f"{where}: needs exactly the fields {sorted(_FIELDS)}, got {entry!r}")
    text, group, style = entry["text"], entry["group"], entry["style"]
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: text must be a non-empty string")
    if group not in GROUPS:
        raise CorpusError(f"{where} ({text}): unknown group {group!r}")
    if style not in STYLES:
        raise CorpusError(f"{where} ({text}): unknown style {style!r}")
    return Question(text=text, expect=_labels(f"{where} ({text})", entry["expect"]), group=group, style=style)


def _labels(where: str, expect: Any) -> Tuple[str, ...]:
    labels = (expect,) if isinstance(expect, str) else tuple(expect) if isinstance(expect, list) else ()
    if not labels or not all(isinstance(label, str) and is_label(label) for label in labels):
        raise CorpusError(f"{where}: expect must be a label or a list of labels, got {expect!r}")
    if len(set(labels)) != len(labels):
        raise CorpusError(f"{where}: a label is listed twice in {list(labels)}")
    if DECLINE in labels and len(labels) > 1:
        raise CorpusError(f"{where}: `decline` cannot share a message with another answer")
    return labels
