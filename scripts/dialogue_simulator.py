"""The simulated user of agenda conversations (a corpus conversation with `persona:`; format in
docs/dialogues.md): given the bot's reply and the persona, what does the user type back?

A blind script answers the questions its writer expected, in the order expected; a simulated user
answers whichever question the bot asks, from the facts it has. Pure functions (no stack), played by
scripts/dialogue_checks.py. In this order, a reply that
- asks for a fact (a pattern of ASKS; the last one asked when it asks several) gets the persona's
  value, or "不知道" when the persona lacks it;
- asks for a yes/no confirmation gets the persona's `confirm` ("对");
- asks to pick from a numbered list by its number gets the persona's `choose` ("1");
- asks nothing else: the user stops.
The confirmation and list patterns are the bot's own wording (domain.yml responses, actions/); an
offer of something the user did not come for ("需要改约其他时间吗？", "还有什么可以帮您的吗？") is
not a confirmation: the user's agenda says whether they want it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from dialogue_corpus import ASKS, Persona

UNKNOWN = "不知道"  # what a user types for a fact they were not given
SIM_LIMIT = 8  # simulated answers in a row before the conversation is `stuck` (or its `at` never came)

# An offer, with the instruction that follows it: "需要改约其他时间吗？回复“是”重新预约，回复“否”结束。"
OFFER_RE = re.compile(r"(?:还有|需要|要不要)[^。！？?!\n]*[？?](?:[ \t]*(?:请)?回复[^。！\n]*[。！]?)?")
# A yes/no question: "…，对吗？", "确定放弃吗？", "确定取消吗？" — a question in 吗/确定/是否 without a
# question word ("还有什么…吗" asks what, "哪个城市？" asks a fact).
QUESTION_RE = re.compile(r"[^。！？?!\n]*[？?]")
YES_NO_WORD_RE = re.compile(r"[吗么]|确定|确认|是否")
QUESTION_WORD_RE = re.compile(r"什么|哪|几|多少|怎么|谁")
# An instruction to say yes: "请回复“对”确认", "回复“确认”提交预约", "回复“是”加入候补名单".
SAY_YES_RE = re.compile(r"回复[“\"](?:对|是|确定|确认)[”\"]")
# An instruction to answer with a list number: "请选择期次，回复序号", "请回复序号选择", "请回复1-3之间的
# 序号", "请回复要取消的序号", "请回复列表中的期次序号" — not the standing "想换别的场次，随时回复序号".
PICK_RE = re.compile(r"(?<!随时)回复[^，。；！？\n“”\"]{0,10}序号")


@dataclass(frozen=True)
class Answer:
    kind: str  # fact | unknown | confirm | choose
    text: str  # what the user types (placeholders not yet filled)
    fact: str = ""  # the fact asked for (fact, unknown)


def asked_fact(reply: str) -> Optional[str]:
    """The fact the reply asks for (ASKS); of several, the one asked last."""
    found = [(m.start(), fact) for fact, pattern in ASKS.items() for m in re.finditer(pattern, reply)]
    return max(found)[1] if found else None


def _without_offers(reply: str) -> str:
    return OFFER_RE.sub("", reply)


def is_confirmation(reply: str) -> bool:
    """The reply asks the user to confirm something (yes/no), an offer of something new aside."""
    text = _without_offers(reply)
    if SAY_YES_RE.search(text):
        return True
    return any(YES_NO_WORD_RE.search(q) and not QUESTION_WORD_RE.search(q) for q in QUESTION_RE.findall(text))


def is_choice(reply: str) -> bool:
    """The reply asks the user to pick from a numbered list by its number."""
    return PICK_RE.search(reply) is not None


def next_answer(reply: str, persona: Persona) -> Optional[Answer]:
    """What the simulated user types back to `reply`; None when the reply asks nothing it can answer."""
    fact = asked_fact(reply)
    if fact:
        if fact in persona.facts:
            return Answer("fact", persona.facts[fact], fact)
        return Answer("unknown", UNKNOWN, fact)
    if is_confirmation(reply):
        return Answer("confirm", persona.confirm)
    if is_choice(reply):
        return Answer("choose", persona.choose)
    return None
