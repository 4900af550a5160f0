"""Playing one corpus conversation (scripts/dialogue_corpus.py) as a WeChat user and judging it.

`play` sends each turn through the gateway with a `tests/helpers/wechat_user.WeChatUser`, reads
what Rasa made of it (intent, actions) and evaluates the turn's checks and the checks every
in-domain turn gets: no "没太明白"/fallback, no question for a fact the user already stated, no
question asked twice in one reply, an answer at all, no error text. The conversation's `finally`
checks read what the user holds through the owning services. In an agenda conversation (one with a
`persona`) a simulated user (scripts/dialogue_simulator.py) answers the bot's questions between the
scripted turns and after the last; its answers get the standing checks too, and a fact it gave counts
as stated.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple

from bot.services.camp import load_catalogue
from bot.services.my_things import camp_holdings
from dialogue_corpus import ASKS, AT_DONE, Conversation, Placeholders, Turn
from dialogue_simulator import SIM_LIMIT, next_answer

# "没太明白" (utter_default) and the knowledge answer's "cannot answer yet": both say "not understood".
FALLBACK_TEXTS = ("没太明白", "这个问题我还答不上来")
FALLBACK_ACTIONS = ("action_default_fallback", "utter_default")
ERROR_TEXTS = ("Traceback", "Internal Server Error", "系统正在维护")


@dataclass(frozen=True)
class Failure:
    conversation: str
    turn: int  # 1-based; 0 for the `finally` checks
    said: str
    check: str
    expected: str
    got: str
    sim: int = 0  # the n-th simulated answer after turn `turn` (agenda conversations); 0: the turn itself


@dataclass
class Outcome:
    conversation: Conversation
    failures: List[Failure] = field(default_factory=list)
    transcript: List[str] = field(default_factory=list)
    simulated: int = 0  # answers the simulated user gave
    unknown: int = 0  # of them "不知道": the bot asked for a fact the persona lacks

    @property
    def completed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class Observed:
    reply: str
    intent: str
    actions: Sequence[str]


def _listed(value: Any) -> List[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def _question_twice(reply: str) -> str:
    """A question (a line ending in ？) or a paragraph that the one reply contains twice."""
    lines = [line.strip() for line in reply.splitlines() if line.strip().endswith(("？", "?"))]
    paragraphs = [p.strip() for p in reply.split("\n\n") if len(p.strip()) >= 20]
    for items in (lines, paragraphs):
        twice = next((item for item in items if items.count(item) > 1), "")
        if twice:
            return twice
    return ""


def _expected_checks(expect: Mapping[str, Any], seen: Observed) -> List[tuple]:
    """(check, expected, passed) for each check the turn names."""
    reply, results = seen.reply, []
    for check, value in expect.items():
        wanted = _listed(value)
        if check == "has":
            ok = all(w in reply for w in wanted)
        elif check == "has_any":
            ok = any(w in reply for w in wanted)
        elif check == "lacks":
            ok = not any(w in reply for w in wanted)
        elif check == "matches":
            ok = re.search(wanted[0], reply) is not None
        elif check == "intent":
            ok = seen.intent in wanted
        elif check == "action":
            ok = any(w in seen.actions for w in wanted)
        elif check == "no_action":
            ok = not any(w in seen.actions for w in wanted)
        else:  # asks
            ok = re.search(ASKS[wanted[0]], reply) is not None
        results.append((check, " | ".join(wanted), ok))
    return results


def _standing_checks(turn: Turn, seen: Observed, stated: Sequence[str]) -> List[tuple]:
    results = [
        ("answered", "a reply", bool(seen.reply.strip())),
        ("no error", "no error text", not any(t in seen.reply for t in ERROR_TEXTS)),
    ]
    twice = _question_twice(seen.reply)
    results.append(("said once", "each question once", not twice))
    if turn.in_domain:
        fell_back = any(t in seen.reply for t in FALLBACK_TEXTS) or any(a in seen.actions for a in FALLBACK_ACTIONS)
        results.append(("no fallback", "no “没太明白”/“答不上来” on an in-domain turn", not fell_back))
    for fact in stated:
        results.append(("not asked again", f"no question for {fact} (already stated)",
                        re.search(ASKS[fact], seen.reply) is None))
    return results


def judge_turn(turn: Turn, seen: Observed, stated: Sequence[str], fill: Callable[[Any], Any]) -> List[tuple]:
    """(check, expected, passed) of a turn: its own checks (placeholders filled) and the standing ones."""
    expect = {check: fill(value) for check, value in turn.expect.items()}
    return _expected_checks(expect, seen) + _standing_checks(turn, seen, stated)


async def _send(user, turn: Turn, text: str) -> str:
    if turn.kind == "location":
        lat, lng, *label = turn.value
        return await user.send_location(float(lat), float(lng), str(label[0]) if label else "")
    if turn.kind == "event":
        return await user.event(text)
    if turn.kind == "click":
        return await user.event("CLICK", text)
    return await user.say(text)


async def observe(user, turn: Turn, text: str, pushed_seen: int) -> tuple:
    """(what the user got for this turn, how many pushes they have now)."""
    reply = await _send(user, turn, text)
    pushed = await user.pushed()
    if not reply.strip():  # past the reply budget the answer comes as a customer-service message
        reply = "\n".join(pushed[pushed_seen:])
    intent, actions = await user.last_turn() if turn.kind == "say" else ("", [])
    return Observed(reply, intent, actions), len(pushed)


async def holdings_count(user, kind: str) -> int:
    services, openid = user.services, user.openid
    if kind == "bookings":
        return len(await services.booking.my_bookings(openid))
    today = services.clock().date()
    catalogue = load_catalogue(services.settings.camp_cohorts_file, today)
    return len(await camp_holdings(services.enrolments, catalogue, openid, today))


async def has_handoff_item(handoff, openid: str) -> bool:
    """An open item (queued, claimed, or a callback left off hours) or a closed one for this user."""
    if await handoff.active_item(openid):
        return True
    if any(item.get("openid") == openid for item in await handoff.snapshot()):
        return True
    return bool(await handoff.items_for_openid(openid))


async def judge_state(user, final: Mapping[str, Any]) -> List[tuple]:
    results = []
    for check, wanted in final.items():
        if check in ("bookings", "enrolments"):
            got: Any = await holdings_count(user, check)
        elif check == "handoff":
            got = await has_handoff_item(user.services.handoff, user.openid)
        else:  # opted_out
            got = await user.services.push.preferences.is_opted_out(user.openid)
        results.append((check, str(wanted), got == wanted, str(got)))
    return results


def _short(text: str, limit: int = 160) -> str:
    flat = " ⏎ ".join(line for line in text.splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[:limit] + "…"


@dataclass
class _Player:
    """One conversation being played: what has been stated, reported and seen so far."""

    conversation: Conversation
    user: Any
    values: Placeholders
    outcome: Outcome
    stated: List[str] = field(default_factory=list)
    reported: set = field(default_factory=set)
    pushed_seen: int = 0
    last_reply: str = ""

    def fail(self, number: int, said: str, check: str, expected: str, got: str, sim: int = 0) -> None:
        self.outcome.failures.append(Failure(self.conversation.id, number, said, check, expected, got, sim))

    async def send(self, turn: Turn, number: int, text: str, sim: int = 0, gives: Tuple[str, ...] = ()) -> bool:
        """Send one turn and judge the reply; False when the gateway answered with an error."""
        try:
            seen, self.pushed_seen = await observe(self.user, turn, text, self.pushed_seen)
        except Exception as exc:  # the gateway answered with an error: a failure, not a crash of ours
            self.fail(number, text, "no error", "HTTP 200", repr(exc), sim)
            return False
        self.stated = list(dict.fromkeys(self.stated + list(turn.states) + list(gives)))
        self.outcome.transcript += [f"用户: {'(sim) ' if sim else ''}{text}", f"职引: {seen.reply}"]
        for check, expected, ok in judge_turn(turn, seen, self.stated, self.values.fill_any):
            # A check that failed once stays failed as the script runs on: report its first turn only.
            if not ok and (check, expected) not in self.reported:
                self.reported.add((check, expected))
                got = f"{_short(seen.reply)}  [intent {seen.intent or '-'}; {', '.join(seen.actions) or '-'}]"
                self.fail(number, text, check, expected, got, sim)
        self.values.remember_codes(seen.reply)
        self.last_reply = seen.reply
        return True

    async def simulate(self, number: int, until: Optional[str] = None) -> Optional[str]:
        """The simulated user answers the bot after turn `number`: "reached" when the bot asks for
        `until`, "done" when it asks nothing the user can answer, "limit" after SIM_LIMIT answers in a
        row; None when the gateway answered with an error."""
        persona = self.conversation.persona
        for count in range(1, SIM_LIMIT + 2):
            answer = next_answer(self.last_reply, persona) if persona else None
            if until and answer and answer.fact == until:
                return "reached"
            if answer is None:
                return "done"
            if count > SIM_LIMIT:
                return "limit"
            text = self.values.fill(answer.text)
            self.outcome.simulated += 1
            self.outcome.unknown += answer.kind == "unknown"
            gives = (answer.fact,) if answer.kind == "fact" else ()
            if not await self.send(Turn("say", text), number, text, count, gives):
                return None
        return "limit"


def _text(turn: Turn, values: Placeholders) -> str:
    return values.fill(turn.value) if isinstance(turn.value, str) else str(turn.value)


async def _reach(player: _Player, turn: Turn, number: int) -> bool:
    """Before an `at:` turn: the simulated user answers until the bot asks for that fact (`at: done`:
    until it asks nothing the user can answer)."""
    until_done = turn.at == AT_DONE
    status = await player.simulate(number - 1, until=None if until_done else turn.at)
    if status is None:
        return False
    if status != ("done" if until_done else "reached"):
        within = f" within {SIM_LIMIT} simulated answers" if status == "limit" else ""
        wanted = "stops asking" if until_done else f"asks for {turn.at}"
        got = "the bot kept asking" if until_done else f"the bot never asked for {turn.at}"
        player.fail(number, _text(turn, player.values), "at", f"the bot {wanted}",
                    f"{got}{within}; last reply {_short(player.last_reply)}")
        return False
    return True


async def play(conversation: Conversation, user) -> Outcome:
    """Every turn of `conversation` from `user` (a fresh WeChat user), every check judged; an agenda
    conversation's simulated user answering the bot's questions (docs/dialogues.md)."""
    player = _Player(conversation, user, Placeholders(user.services.clock().date()), Outcome(conversation))
    for number, turn in enumerate(conversation.turns, 1):
        if turn.at and not await _reach(player, turn, number):
            return player.outcome
        if not await player.send(turn, number, _text(turn, player.values)):
            return player.outcome
    if conversation.persona is not None:
        status = await player.simulate(len(conversation.turns))
        if status is None:
            return player.outcome
        if status == "limit":
            player.fail(len(conversation.turns), "", "stuck", f"the bot stops asking within {SIM_LIMIT} simulated answers",
                        f"still asking: {_short(player.last_reply)}", SIM_LIMIT)
    for check, expected, ok, got in await judge_state(user, conversation.final):
        if not ok:
            player.fail(0, "", check, expected, got)
    return player.outcome
