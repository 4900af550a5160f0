"""The dialogue corpus (tests/dialogues/*.yml): conversations a real user would have, each with a task
and the checks that say whether the task got done. Read by scripts/eval_dialogues.py.

A file is `split: dev|heldout` plus `conversations:`, each one

    id: camp-age-stated-early        # unique across the corpus
    category: profile                # which issue-21 item it exercises (CATEGORIES)
    task: 先说了年龄和毕业年份，再报名实训营   # what the user wants done
    turns:
      - say: 我{last_year}年毕业的，今年23   # text; or `location: [lat, lng, label]`, `event: subscribe`,
                                        # `click: ZN_MY_BOOKINGS` (a menu key of data/wechat_menu.json)
        states: [graduation_year, age]  # facts given here: no later reply may ask for them
        expect: {has_any: [实训营]}      # checks on this turn (TURN_CHECKS)
        in_domain: false                # a turn the bot may not understand: no fallback check
    finally: {enrolments: 1}            # checks on what the user holds afterwards (STATE_CHECKS)

With `persona:` (the facts a user knows, keys of ASKS, and optionally `choose`/`confirm`) it is an
agenda conversation: `turns:` are the user's own initiatives only, and a simulated user answers
whatever the bot asks (scripts/dialogue_simulator.py); a turn's `at: <fact>` is sent instead of the
answer the first time the bot asks for that fact.

Placeholders in texts and checks: the years around today ({this_year}, {last_year},
{year_before_last}, {next_year}) from the Beijing clock, {final_year_class} (when this academic
year's final-year students graduate: this year until August, next year from September), {phone} (a
mobile number of this conversation's own), {phone_spaced} (the same typed 3-4-4 with spaces) and
{phone_tail} (its last four digits, what a masked number shows), {last_year_short} and
{this_year_short} (two digits, "25年"), and the last booking or enrolment code a reply showed ({code}, {code_spaced}
as a user types it with a space, {code_lower}, {code_dashed} lower case split by a dash,
{code_fullwidth} as a Chinese keyboard in full-width mode types it).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "dialogues"
HELD_OUT = "heldout"  # never tuned on: reports name its failures without their words
SPLITS = ("dev", HELD_OUT)
# Issue 21's items, by the name a conversation's `category` uses.
CATEGORIES = {
    "profile": "1 a profile that listens",
    "digression": "2 digressions and repair in forms",
    "eligibility": "3 eligibility as a question",
    "self_service": "4 self-service for what the user holds",
    "nearby": "5 nearby search that shows enough",
    "instructions": "6 every instruction works",
    "handoff": "7 handoff",
}
# How a reply asks for each fact a user can state (the forms' prompts and re-prompts, in a key phrase).
ASKS = {
    "age": r"多少周岁|周岁年龄|您多大|几岁了",
    "graduation_year": r"哪一年毕业|毕业年份（|4位数的毕业年份|预计毕业年份）",
    "identity": r"选择您的身份",
    "school": r"学校全称|哪所学校",
    "city": r"哪个城市",
    "name": r"告诉我您的姓名",
    "phone": r"请输入您的手机号|请输入11位",
    "topic": r"选择想预约的指导类型",
    "time": r"想约什么时间",
    "major": r"您的专业是",  # the camp form's optional question: a persona may know it, else "不知道"
}
# What a persona may hold besides facts: the answer at a numbered list, and at a yes/no confirmation.
PERSONA_CHOICES = {"choose": "1", "confirm": "对"}
# `at: done`: the turn waits until the bot asks nothing the simulated user can answer (a form finished)
AT_DONE = "done"
TURN_CHECKS = ("has", "has_any", "lacks", "matches", "intent", "action", "no_action", "asks")
STATE_CHECKS = ("bookings", "enrolments", "handoff", "opted_out")
TURN_KINDS = ("say", "location", "event", "click")
_CODE = re.compile(r"(?:预约码|报名编号|编号)[：:]\s*([A-Z0-9]{4,12})")


@dataclass(frozen=True)
class Turn:
    kind: str  # say | location | event | click
    value: Any
    expect: Mapping[str, Any] = field(default_factory=dict)
    states: Tuple[str, ...] = ()
    in_domain: bool = True
    at: Optional[str] = None  # agenda conversations: sent when the bot first asks for this fact


@dataclass(frozen=True)
class Persona:
    """What the simulated user of an agenda conversation knows, given only when the bot asks."""

    facts: Mapping[str, str] = field(default_factory=dict)  # fact (a key of ASKS) -> what they type
    choose: str = PERSONA_CHOICES["choose"]
    confirm: str = PERSONA_CHOICES["confirm"]


@dataclass(frozen=True)
class Conversation:
    id: str
    split: str
    category: str
    task: str
    turns: Tuple[Turn, ...]
    final: Mapping[str, Any] = field(default_factory=dict)
    persona: Optional[Persona] = None  # an agenda conversation when given


class CorpusError(ValueError):
    """A corpus file the runner cannot read: names the file and the conversation."""


def _as_tuple(value: Any) -> Tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, (list, tuple)) else (str(value),)


def _turn(raw: Mapping[str, Any], where: str) -> Turn:
    kinds = [k for k in TURN_KINDS if k in raw]
    if len(kinds) != 1:
        raise CorpusError(f"{where}: a turn needs exactly one of {', '.join(TURN_KINDS)}")
    expect = dict(raw.get("expect") or {})
    unknown = set(expect) - set(TURN_CHECKS)
    states = _as_tuple(raw.get("states"))
    unknown |= {f"states:{s}" for s in states if s not in ASKS}
    if "asks" in expect and str(expect["asks"]) not in ASKS:
        unknown.add(f"asks:{expect['asks']}")
    if unknown:
        raise CorpusError(f"{where}: unknown check(s) {sorted(unknown)}")
    at = raw.get("at")
    if at is not None and str(at) not in ASKS and str(at) != AT_DONE:
        raise CorpusError(f"{where}: `at: {at}` is not a fact; one of {', '.join(ASKS)}, or {AT_DONE}")
    value = raw[kinds[0]]
    return Turn(kinds[0], value if kinds[0] == "location" else str(value), expect, states,
                bool(raw.get("in_domain", True)), None if at is None else str(at))


def _persona(raw: Any, where: str) -> Persona:
    if not isinstance(raw, Mapping):
        raise CorpusError(f"{where}: `persona` must map facts to what the user types, e.g. {{age: 20}}")
    unknown = sorted(str(k) for k in raw if k not in ASKS and k not in PERSONA_CHOICES)
    if unknown:
        raise CorpusError(f"{where}: unknown persona key(s) {unknown}; facts are {', '.join(ASKS)}, "
                          f"besides {' and '.join(PERSONA_CHOICES)}")
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
            raise CorpusError(f"{where}: persona `{key}` must be what the user types (a text or a number), "
                              f"not {value!r}")
    values = {str(k): str(v).strip() for k, v in raw.items()}
    facts = {k: v for k, v in values.items() if k in ASKS}
    return Persona(facts, **{k: values.get(k, default) for k, default in PERSONA_CHOICES.items()})


def _conversation(raw: Mapping[str, Any], split: str, where: str) -> Conversation:
    for key in ("id", "category", "task", "turns"):
        if not raw.get(key):
            raise CorpusError(f"{where}: `{key}` is missing")
    where = f"{where} ({raw['id']})"
    if raw["category"] not in CATEGORIES:
        raise CorpusError(f"{where}: category must be one of {', '.join(CATEGORIES)}")
    final = dict(raw.get("finally") or {})
    if set(final) - set(STATE_CHECKS):
        raise CorpusError(f"{where}: unknown final check(s) {sorted(set(final) - set(STATE_CHECKS))}")
    turns = tuple(_turn(t, f"{where} turn {i + 1}") for i, t in enumerate(raw["turns"]))
    persona = _persona(raw["persona"], where) if "persona" in raw else None
    timed = [i + 1 for i, t in enumerate(turns) if t.at]
    if timed and persona is None:
        raise CorpusError(f"{where} turn {timed[0]}: `at` needs a `persona` (an agenda conversation)")
    if timed and timed[0] == 1:
        raise CorpusError(f"{where} turn 1: the opening cannot wait for a question (`at`)")
    return Conversation(str(raw["id"]), split, str(raw["category"]), str(raw["task"]), turns, final, persona)


def load_file(path: Path) -> List[Conversation]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    split = data.get("split")
    if split not in SPLITS:
        raise CorpusError(f"{path}: `split` must be one of {', '.join(SPLITS)}")
    return [_conversation(raw, split, f"{path.name} #{i + 1}") for i, raw in enumerate(data.get("conversations") or [])]


def load_corpus(paths: Optional[Sequence[Path]] = None) -> List[Conversation]:
    """Every conversation of the given files (default: tests/dialogues/*.yml); ids must be unique."""
    files = list(paths) if paths else sorted(CORPUS_DIR.glob("*.yml"))
    conversations = [c for path in files for c in load_file(path)]
    seen: Dict[str, int] = {}
    for c in conversations:
        seen[c.id] = seen.get(c.id, 0) + 1
    twice = sorted(i for i, n in seen.items() if n > 1)
    if twice:
        raise CorpusError(f"conversation ids used twice: {', '.join(twice)}")
    return conversations


def fresh_phone() -> str:
    """A mobile number of one conversation's own (one camp enrolment per number and cohort)."""
    return "139" + f"{uuid.uuid4().int % 10**8:08d}"


@dataclass
class Placeholders:
    """What `{name}` stands for in one conversation: years from today, its phone, the last code seen."""

    today: date
    phone: str = field(default_factory=fresh_phone)
    code: str = ""

    def values(self) -> Dict[str, str]:
        year = self.today.year
        half = len(self.code) // 2
        return {
            "this_year": str(year), "last_year": str(year - 1), "year_before_last": str(year - 2),
            "next_year": str(year + 1), "final_year_class": str(year + (self.today.month >= 9)),
            "last_year_short": str(year - 1)[-2:], "this_year_short": str(year)[-2:],
            "phone": self.phone, "phone_tail": self.phone[-4:], "code": self.code,
            "phone_spaced": f"{self.phone[:3]} {self.phone[3:7]} {self.phone[7:]}",
            "code_spaced": f"{self.code[:half]} {self.code[half:]}", "code_lower": self.code.lower(),
            "code_dashed": f"{self.code[:half]}-{self.code[half:]}".lower(),
            # a Chinese keyboard left in full-width mode types "ＡＢ１２"
            "code_fullwidth": "".join(chr(ord(c) + 0xFEE0) for c in self.code),
        }

    def fill(self, text: str) -> str:
        values = self.values()
        return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)

    def fill_any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.fill(value)
        if isinstance(value, (list, tuple)):
            return [self.fill_any(v) for v in value]
        return value

    def remember_codes(self, reply: str) -> None:
        found = _CODE.findall(reply)
        if found:
            self.code = found[-1]
