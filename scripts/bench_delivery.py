"""Did every turn of a `make bench` load get its answer exactly once? (issue #23, 128 users)

A WeChat passive reply must come within the reply budget (WECHAT_REPLY_BUDGET_S, 4.5 s); a turn
answered later gets the passive "success" and its answer goes out as 客服 (customer-service)
messages. The bench's own stack sends those to the gateway's fake WeChat API, which records every
message per user (bot/gateway/wechat/fake_api.py, `GET /fake-wechat/_sent?touser=`). Here, after
the load: each user's turns without a passive answer must have been followed by at least as many
客服 messages (a turn's answer can be several messages), and no 客服 message may repeat a text the
same user already got passively for one of its turns (an answer sent twice — or the same words
answering two turns, which this cannot tell apart; "beyond one a late turn" can).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Dict, List, Set

import aiohttp


@dataclass
class Answers:
    """What each simulated user got passively, noted during the load."""

    late_turns: Dict[str, int] = field(default_factory=dict)  # openid -> turns with no passive answer
    passive_texts: Dict[str, Set[str]] = field(default_factory=dict)

    def note(self, openid: str, replies: List[str]) -> None:
        self.passive_texts.setdefault(openid, set()).update(replies)
        if not replies:
            self.late_turns[openid] = self.late_turns.get(openid, 0) + 1


async def _custom_texts(session: aiohttp.ClientSession, base: str, openid: str) -> List[str]:
    async with session.get(f"{base}/fake-wechat/_sent", params={"touser": openid}) as resp:
        if resp.status != 200:
            return []
        records = (await resp.json()).get("messages", [])
    texts = []
    for record in records:
        if record.get("kind") == "custom":
            payload = record.get("payload") or {}
            texts.append(str((payload.get("text") or {}).get("content") or payload.get("msgtype") or ""))
    return texts


async def _all_custom(base: str, openids: List[str]) -> Dict[str, List[str]]:
    limit = asyncio.Semaphore(16)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def one(openid: str) -> List[str]:
            async with limit:
                return await _custom_texts(session, base, openid)

        return dict(zip(openids, await asyncio.gather(*(one(o) for o in openids))))


async def check(base: str, answers: Answers, settle_s: float = 20.0) -> str:
    """One line: late turns, whether each was answered by 客服 messages, and answers sent twice.
    Waits up to `settle_s` for the last late answers to go out."""
    openids = sorted(answers.passive_texts)
    deadline = time.monotonic() + settle_s
    while True:
        custom = await _all_custom(base, openids)
        missing = {o: n - len(custom.get(o, [])) for o, n in answers.late_turns.items() if len(custom.get(o, [])) < n}
        if not missing or time.monotonic() > deadline:
            break
        await asyncio.sleep(2.0)
    late = sum(answers.late_turns.values())
    repeated = sum(
        1 for openid, texts in custom.items() for text in texts if text and text in answers.passive_texts.get(openid, set())
    )
    unexpected = sum(len(texts) for openid, texts in custom.items() if openid not in answers.late_turns)
    # the gateway puts a turn's messages into one reply: more 客服 messages than late turns is a
    # late answer sent in pieces or twice
    extra = sum(max(0, len(custom.get(o, [])) - n) for o, n in answers.late_turns.items())
    return (
        f"late answers : {late} turns of {len(answers.late_turns)} users had no passive answer; "
        f"{late - sum(missing.values())} answered by 客服 messages, {sum(missing.values())} not, "
        f"{extra} 客服 messages beyond one a late turn; to users with no late turn: {unexpected}; "
        f"客服 messages with a text the user also got passively (another turn's, or twice): {repeated}"
    )
