#!/usr/bin/env python
"""`make eval-questions`: how Zhinan answers everyday first messages (tests/questions/).

Every message of the corpus goes through the trained model (the full NLU pipeline, including the
knowledge retrieval component) and is turned into the outcome the dialogue rules give a first
message:

* `intent:<name>` — a flow intent (its rule runs the action);
* `decline` — the `out_of_scope` intent;
* `kb:<id>` / `choose` / `none` — `ask_policy` or `nlu_fallback`, i.e. action_knowledge_answer: an
  answer, a numbered choice between close topics, or "cannot answer yet" (for an out-of-scope
  message that reply is a polite decline: it says what Zhinan can do).

Reported per split: right answer or action, clarification where one answer was clear, wrong
confident answers, out-of-scope declined, and the top confusions. Held-out confusions are printed as
labels and counts only, never the messages: reading held-out misses would turn them into tuning data.

    .venv/bin/python scripts/eval_questions.py                 # dev + held-out report
    .venv/bin/python scripts/eval_questions.py --tune          # also tune retrieval on dev (never held-out)
    .venv/bin/python scripts/eval_questions.py -v              # list every dev miss (held-out: counts only)
    .venv/bin/python scripts/eval_questions.py --split dev     # the dev split alone (while editing data)

`--tune` chooses the knowledge matcher settings (bot/services/knowledge/retrieval.tune) from the
items' own variants (k-fold), the off-topic calibration questions and the dev split. It first scores
dev fold by fold, each fold with settings tuned on the other folds (`DEV_FOLDS`): compare THAT figure
with the configured one, since settings tuned on all of dev and scored on dev (printed next, marked
in-sample) always look better. Only if the k-fold figure wins, put the printed all-of-dev values under
`matcher:` in data/knowledge/policy.yml.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

from everyday_questions import DECLINE, DEV_PATH, HELDOUT_PATH, Question, load_questions  # noqa: E402
from bot.services.knowledge.base import KnowledgeBase, MatcherSettings, load_knowledge  # noqa: E402
from bot.services.knowledge.retrieval import (  # noqa: E402
    ANSWER, CHOOSE, PARSE_KEY, Decision, EmbedMany, Retriever, decision_from_payload, reply_kind, tune,
)

CORPUS = {"dev": DEV_PATH, "heldout": HELDOUT_PATH}
KNOWLEDGE_INTENTS = ("ask_policy", "nlu_fallback")
DEV_FOLDS = 5  # --tune: dev is scored fold by fold, each with the matcher tuned on the other folds


@dataclass
class Tally:
    total: int = 0
    right: int = 0
    clarified: int = 0  # a numbered choice where one answer was expected
    clarified_with_right: int = 0
    wrong_confident: int = 0
    unanswered: int = 0  # "cannot answer yet" on an in-scope message
    out_of_scope: int = 0
    declined: int = 0
    confusions: Counter = field(default_factory=Counter)
    examples: Dict[Tuple[str, str], List[str]] = field(default_factory=dict)

    def share(self, n: int, of: Optional[int] = None) -> str:
        base = self.total if of is None else of
        return f"{n / base:.1%} ({n}/{base})" if base else "n/a"


def outcome(intent: str, decision: Optional[Decision]) -> Tuple[str, Tuple[str, ...]]:
    """(outcome label, the topics offered when it is a choice)."""
    if intent == "out_of_scope":
        return DECLINE, ()
    if intent not in KNOWLEDGE_INTENTS:
        return f"intent:{intent}", ()
    kind = reply_kind(intent, decision) if decision is not None else None
    if kind == ANSWER:
        return f"kb:{decision.item.id}", ()
    if kind == CHOOSE:
        return "choose", tuple(f"kb:{o.item.id}" for o in decision.options)
    return "none", ()


def score(cases: Sequence[Question], outcomes: Sequence[Tuple[str, Tuple[str, ...]]]) -> Tally:
    tally = Tally()
    for case, (got, offered) in zip(cases, outcomes):
        tally.total += 1
        if DECLINE in case.expect:
            tally.out_of_scope += 1
            ok = got in (DECLINE, "none")
            tally.declined += ok
        else:
            ok = got in case.expect
            if got == "choose":
                tally.clarified += 1
                tally.clarified_with_right += bool(set(offered) & set(case.expect))
            elif got == "none":
                tally.unanswered += 1
        tally.right += ok
        if not ok and got not in ("choose", "none"):
            tally.wrong_confident += 1
        if not ok:
            key = ("|".join(case.expect), got)
            tally.confusions[key] += 1
            tally.examples.setdefault(key, []).append(case.text)
    return tally


def report(name: str, tally: Tally, verbose: bool, show_messages: bool = True, top: int = 12) -> None:
    in_scope = tally.total - tally.out_of_scope
    print(f"\n== {name}: {tally.total} messages ({in_scope} in scope, {tally.out_of_scope} out of scope)")
    print(f"right answer or action:              {tally.share(tally.right)}")
    print(f"clarification where one was clear:   {tally.share(tally.clarified)}"
          f"  (the right topic among the choices: {tally.clarified_with_right})")
    print(f"wrong confident answers:             {tally.share(tally.wrong_confident)}")
    print(f"in scope but 'cannot answer yet':    {tally.share(tally.unanswered)}")
    print(f"out of scope declined:               {tally.share(tally.declined, tally.out_of_scope)}")
    print("top confusions (expected -> got: count, examples):")
    for (expected, got), n in tally.confusions.most_common(None if verbose else top):
        examples = tally.examples[(expected, got)] if show_messages else []
        print(f"  {expected} -> {got}: {n}  {' / '.join(examples[: (len(examples) if verbose else 3)])}".rstrip())


async def parse_all(model: Path, texts: Sequence[str]) -> List[dict]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa logs every parsed text at debug: no held-out message on screen

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def retuned_outcomes(
    parses: Sequence[dict], retriever: Retriever
) -> List[Tuple[str, Tuple[str, ...]]]:
    """Outcomes with decisions recomputed by `retriever` on the same normalised text."""
    out = []
    for parse in parses:
        intent = parse["intent"]["name"]
        decision = retriever.decide(parse.get("text") or "") if intent in KNOWLEDGE_INTENTS else None
        out.append(outcome(intent, decision))
    return out


def routed_to_knowledge(
    cases: Sequence[Question], parses: Sequence[dict], kb: KnowledgeBase
) -> List[Tuple[int, str, Optional[str]]]:
    """(position, text as NLU normalised it, expected item id or None) of the messages that NLU sends
    to the knowledge answer; None: no item is right (a flow, or a decline), so none may be answered."""
    known = {item.id for item in kb.items}
    routed = []
    for position, (case, parse) in enumerate(zip(cases, parses)):
        if parse["intent"]["name"] in KNOWLEDGE_INTENTS:
            wanted = next((label[3:] for label in case.expect if label.startswith("kb:") and label[3:] in known), None)
            routed.append((position, parse.get("text") or case.text, wanted))
    return routed


def tuned_settings(
    kb: KnowledgeBase, embedder: Optional[EmbedMany], routed: Sequence[Tuple[int, str, Optional[str]]]
) -> Tuple[MatcherSettings, float]:
    """`tune` on the items' variants (k-fold), the off-topic calibration and the `routed` messages."""
    questions = [(q, None) for q in kb.off_topic_calibration] + [(text, wanted) for _, text, wanted in routed]
    return tune(kb, embedder, questions)


def describe(settings: MatcherSettings) -> str:
    return (f"threshold {settings.threshold}, min_margin {settings.min_margin}, choice_floor {settings.choice_floor}, "
            f"dense_weight {settings.dense_weight}, temperature {settings.temperature}, "
            f"off_topic_class {settings.off_topic_class}")


def cross_validated_outcomes(
    cases: Sequence[Question], parses: Sequence[dict], kb: KnowledgeBase, embedder: Optional[EmbedMany],
    folds: int = DEV_FOLDS,
) -> List[Tuple[str, Tuple[str, ...]]]:
    """Every dev message's outcome with the matcher tuned WITHOUT its fold: the figure that says
    whether tuning helps. Scoring dev with settings tuned on all of dev would be in-sample (the
    settings have seen the very messages they are scored on) and always look better."""
    outcomes = [outcome(parse["intent"]["name"], None) for parse in parses]  # final unless routed below
    routed = routed_to_knowledge(cases, parses, kb)
    for fold in range(folds):
        scored = [r for k, r in enumerate(routed) if k % folds == fold]
        settings, _ = tuned_settings(kb, embedder, [r for k, r in enumerate(routed) if k % folds != fold])
        print(f"fold {fold + 1}/{folds}: {describe(settings)}", flush=True)
        decisions = Retriever(kb, embedder, settings).decide_many([text for _, text, _ in scored])
        for (position, _, _), decision in zip(scored, decisions):
            outcomes[position] = outcome(parses[position]["intent"]["name"], decision)
    return outcomes


def tuned_retriever(cases: Sequence[Question], parses: Sequence[dict], kb: KnowledgeBase, embedder: EmbedMany) -> Retriever:
    """The matcher tuned on all of dev: the settings to put under `matcher:` if the k-fold figure wins."""
    routed = routed_to_knowledge(cases, parses, kb)
    settings, cost = tuned_settings(kb, embedder, routed)
    print(f"tuned on {len(kb.items)} items' variants (k-fold), {len(kb.off_topic_calibration)} off-topic "
          f"and {len(routed)} dev messages routed to knowledge: cost {cost:.0f}")
    print(f"matcher settings (all of dev): {describe(settings)}\n(configured: {describe(kb.settings)})")
    return Retriever(kb, embedder, settings)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "zhinan.tar.gz")
    ap.add_argument("--tune", action="store_true", help="tune the knowledge matcher on dev")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--split", choices=("both", *CORPUS), default="both",
                    help="score one split only (dev while improving the data; --tune needs dev)")
    args = ap.parse_args(argv)
    if args.tune and args.split == "heldout":
        ap.error("--tune needs the dev split")
    logging.disable(logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    kb = load_knowledge()
    cases = {split: load_questions(path) for split, path in CORPUS.items() if args.split in ("both", split)}
    texts = [c.text for split in cases.values() for c in split]
    parses = asyncio.run(parse_all(args.model, texts))
    by_split: Dict[str, List[dict]] = {}
    offset = 0
    for split, split_cases in cases.items():
        by_split[split] = parses[offset: offset + len(split_cases)]
        offset += len(split_cases)

    retriever = None
    if args.tune:
        from bot.rasa_server.knowledge_retriever import configured_embedder

        embedder = configured_embedder()
        dev_outcomes = cross_validated_outcomes(cases["dev"], by_split["dev"], kb, embedder)
        report(f"dev, matcher tuned on the other {DEV_FOLDS} folds (k-fold: compare with the configured dev figure)",
               score(cases["dev"], dev_outcomes), args.verbose)
        retriever = tuned_retriever(cases["dev"], by_split["dev"], kb, embedder)
    for split, split_cases in cases.items():
        split_parses = by_split[split]
        if retriever is not None:
            outcomes = retuned_outcomes(split_parses, retriever)
        else:
            outcomes = [outcome(p["intent"]["name"], decision_from_payload(p.get(PARSE_KEY), kb)) for p in split_parses]
        name = f"{split}, matcher tuned on all of dev" + (" (in-sample)" if split == "dev" else "") if retriever else split
        report(name, score(split_cases, outcomes), args.verbose, show_messages=split != "heldout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
