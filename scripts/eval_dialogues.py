#!/usr/bin/env python
"""`make eval-dialogues`: the dialogue corpus (tests/dialogues/) through the real stack, as WeChat users.

Starts the action server and Rasa (the trained model) on free ports, puts the gateway in front of
them in this process (the same set-up as the stack tests), plays every conversation as a fresh WeChat
user (signed XML, wechatpy) and prints the task-completion rate per split and per category, then
every failure: conversation, turn, what was expected, what happened.

    .venv-gateway/bin/python scripts/eval_dialogues.py                  # the whole corpus
    .venv-gateway/bin/python scripts/eval_dialogues.py --split dev --only camp-age-stated-early
    .venv-gateway/bin/python scripts/eval_dialogues.py --fail-under 0.95  # for CI

A measurement: the exit code is 0 whatever the rate, 2 when the runner itself could not run (the
stack did not start, the corpus cannot be read), 1 only below --fail-under. Runs in the gateway's
environment (.venv-gateway); Rasa and the actions start from RASA_PYTHON (.venv).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

from dialogue_checks import Failure, Outcome, play  # noqa: E402
from dialogue_corpus import CATEGORIES, HELD_OUT, SPLITS, Conversation, CorpusError, load_corpus  # noqa: E402

RUNNER_ERROR = "runner error"


def _rate(outcomes: Sequence[Outcome]) -> str:
    done = sum(o.completed for o in outcomes)
    return f"{done / len(outcomes):.1%} ({done}/{len(outcomes)})" if outcomes else "n/a"


def completion_rate(outcomes: Sequence[Outcome]) -> float:
    return sum(o.completed for o in outcomes) / len(outcomes) if outcomes else 0.0


def _failure_line(split: str, f: Failure, held_out: bool) -> str:
    where = (f"turn {f.turn}" + (f" sim {f.sim}" if f.sim else "")) if f.turn else "at the end"
    if held_out:
        return f"[{split}] {f.conversation} {where}: {f.check}"
    if f.turn:
        where += f" “{f.said}”" if f.said else ""
    return f"[{split}] {f.conversation} {where}: {f.check}: expected {f.expected}; got {f.got}"


def report_lines(outcomes: Sequence[Outcome], transcripts: bool = False) -> List[str]:
    """The printed report: rates per split and per category, standing-check counts, every failure."""
    lines = ["== task completion (a conversation completes when every check passes)"]
    for split in SPLITS:
        lines.append(f"{split:<12} {_rate([o for o in outcomes if o.conversation.split == split])}")
    lines.append(f"{'all':<12} {_rate(outcomes)}")
    lines.append("== per category (issue 21 item)")
    for category, item in CATEGORIES.items():
        for split in SPLITS:
            chosen = [o for o in outcomes if o.conversation.category == category and o.conversation.split == split]
            if chosen:
                lines.append(f"{category:<13} {split:<8} {_rate(chosen):<18} {item}")
    failures = [f for o in outcomes for f in o.failures]
    counts: Dict[str, int] = defaultdict(int)
    for failure in failures:
        counts[failure.check] += 1
    agenda = [o for o in outcomes if o.conversation.persona is not None]
    if agenda:
        lines.append(f"== simulated user: {sum(o.simulated for o in agenda)} answers in {len(agenda)} agenda "
                     f"conversations, {sum(o.unknown for o in agenda)} of them “不知道” (a fact the persona lacks)")
    lines.append("== failed checks by kind: " + (", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "none"))
    lines.append(f"== failures ({len(failures)}; held-out ones by id, turn and check only)")
    for outcome in outcomes:
        held_out = outcome.conversation.split == HELD_OUT
        for f in outcome.failures:
            lines.append(_failure_line(outcome.conversation.split, f, held_out))
        # held-out words and replies stay unread: what is read while changing the bot becomes tuning data
        if transcripts and outcome.failures and not held_out:
            lines += ["    " + line.replace("\n", "\n    ") for line in outcome.transcript]
    return lines


async def play_all(conversations: Iterable[Conversation], new_user: Callable[[], object],
                   progress: bool = False) -> List[Outcome]:
    """Each conversation from a fresh WeChat user (`new_user()`), one after the other."""
    outcomes = []
    for conversation in conversations:
        try:
            outcome = await play(conversation, new_user())
        except Exception as exc:  # a bug of the runner: reported, the others still run, exit code 2
            outcome = Outcome(conversation, [Failure(conversation.id, 0, "", RUNNER_ERROR, "no error", repr(exc))])
        outcomes.append(outcome)
        if progress:
            mark = "ok  " if outcome.completed else "FAIL"
            print(f"{mark} {conversation.split:<8} {conversation.id}", flush=True)
    return outcomes


def select(conversations: Sequence[Conversation], split: Optional[str], category: Optional[str],
           only: Sequence[str]) -> List[Conversation]:
    return [
        c for c in conversations
        if (split is None or c.split == split) and (category is None or c.category == category)
        and (not only or c.id in only)
    ]


async def _against_gateway(conversations: Sequence[Conversation]) -> List[Outcome]:
    """The gateway in this process in front of the Rasa side already started (settings from env)."""
    from aiohttp.test_utils import TestClient, TestServer

    from bot.gateway.app import create_app
    from bot.settings import load_settings
    from tests.helpers.wechat_user import WeChatUser

    settings = load_settings()
    client = TestClient(TestServer(create_app(settings), port=settings.gateway_port))
    await client.start_server()
    try:
        return await play_all(conversations, lambda: WeChatUser(client, settings), progress=True)
    finally:
        await client.close()


def run_on_stack(conversations: Sequence[Conversation], model: Path, log_dir: Path) -> List[Outcome]:
    """Start the action server and Rasa under a key prefix of this run's own, play, stop, clean up."""
    from bot.stack import free_port
    from tests.conftest import TEST_REDIS_URL, _delete_prefix
    from tests.helpers.rasa_side import rasa_side_variables, start_rasa_side

    prefix = "zd" + uuid.uuid4().hex[:12]
    port = free_port()
    env = {
        **rasa_side_variables(TEST_REDIS_URL, prefix),
        "GATEWAY_PORT": str(port),
        "WECHAT_API_BASE": f"http://127.0.0.1:{port}/fake-wechat",
        "PUSH_QUIET_HOURS": "",  # an answer pushed past the reply budget must arrive at any hour
    }
    os.environ.update(env)
    stack = start_rasa_side(env, log_dir, model)
    try:
        return asyncio.run(_against_gateway(conversations))
    finally:
        stack.stop()
        _delete_prefix(TEST_REDIS_URL, prefix)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, nargs="*", help="corpus files (default: tests/dialogues/*.yml)")
    ap.add_argument("--split", choices=SPLITS)
    ap.add_argument("--category", choices=list(CATEGORIES))
    ap.add_argument("--only", nargs="*", default=[], help="conversation ids")
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "zhinan.tar.gz")
    ap.add_argument("--fail-under", type=float, default=None, help="exit 1 when the completion rate (0-1) is lower")
    ap.add_argument("--transcripts", action="store_true", help="print the transcript of each failed conversation")
    args = ap.parse_args(argv)
    try:
        chosen = select(load_corpus(args.corpus), args.split, args.category, args.only)
    except (CorpusError, OSError) as exc:
        print(f"cannot read the corpus: {exc}", file=sys.stderr)
        return 2
    if not chosen:
        print("no conversation matches the selection", file=sys.stderr)
        return 2
    started = time.monotonic()
    log_dir = Path(tempfile.mkdtemp(prefix="eval-dialogues-"))
    try:
        outcomes = run_on_stack(chosen, args.model, log_dir)
    except Exception as exc:  # the stack did not start: a crash of the measurement, not a result
        print(f"the runner could not run: {exc!r} (logs in {log_dir})", file=sys.stderr)
        return 2
    print("\n".join(report_lines(outcomes, args.transcripts)))
    print(f"({len(outcomes)} conversations in {time.monotonic() - started:.0f}s; stack logs in {log_dir})")
    if any(f.check == RUNNER_ERROR for o in outcomes for f in o.failures):
        return 2
    if args.fail_under is not None and completion_rate(outcomes) < args.fail_under:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
