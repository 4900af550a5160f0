"""bot/rasa_server/nlu_batching.py on the trained model: messages parsed together get the parse each
gets alone (intent ranking to 6 decimals, entities with their values, times and facts included),
one message's error stays its own, and turns of concurrent users really share a graph run."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from bot.rasa_server import nlu_batching, sentence_embedding
from bot.rasa_server.entity_components import PlaceNormalizer

# Loads the trained model into TensorFlow here: not under libfaketime (TensorFlow hangs there, bot/clock.py).
pytestmark = pytest.mark.tensorflow

# As users type them on a phone (none from the training data): times and dates read against the
# clock, ages and graduation years against today, places, a menu trigger, emoji and near-empty text.
TEXTS = [
    "明天下午两点济南有招聘会吗", "下周三上午想去面试辅导", "后天能约个老师不", "这个月底青岛有没有双选会",
    "俺今年24了 去年大专毕业的 能报实训营不", "我是退役军人，前年退伍的", "历城那块有就业驿站没",
    "黄岛区人力资源市场在哪", "淄博张店零工市场几点开门", "失业金咋领啊", "简历不会写咋整", "转人工",
    "嗯嗯", "好滴谢谢", "👍👍", "  ", "/greet", "我叫王小丽 手机13912345678", "周六下午有空吗",
    "12月20号的招聘会还有不", "你们那个实训营我能报不 我25岁 本科", "灵活就业社保咋交",
    "烟台芝罘区有啥招聘会", "今天天气咋样", "不想聊了拜拜", "1",
]

Signature = Tuple[Any, ...]


def signature(parse: Dict[str, Any]) -> Signature:
    ranking = tuple((i["name"], round(i["confidence"], 6)) for i in parse.get("intent_ranking") or [])
    intent = (parse["intent"].get("name"), round(parse["intent"].get("confidence") or 0.0, 6))
    entities = tuple(
        (e["entity"], e.get("start"), e.get("end"), str(e.get("value")), str(e.get("additional_info")))
        for e in parse.get("entities") or []
    )
    return parse["text"], intent, ranking, entities, str(parse.get("knowledge"))


@pytest.fixture
def batching() -> Iterator[None]:
    nlu_batching.install(enabled=True, max_size=8, max_wait_ms=5.0)
    try:
        yield
    finally:
        nlu_batching.install(enabled=False)


def parse_alone(agent: Agent, texts: List[str]) -> List[Signature]:
    nlu_batching.install(enabled=False)
    sentence_embedding.clear_cache()
    return [signature(asyncio.run(agent.parse_message(text))) for text in texts]


async def parse_at_once(agent: Agent, texts: List[str]) -> List[Any]:
    return list(await asyncio.gather(*(agent.parse_message(t) for t in texts), return_exceptions=True))


def batcher(agent: Agent):
    found = nlu_batching.batcher_of(agent.processor)
    assert found is not None
    return found


def test_parses_together_equal_parses_alone(agent, frozen_clock):
    alone = parse_alone(agent, TEXTS)
    nlu_batching.install(enabled=True, max_size=8, max_wait_ms=5.0)
    try:
        sentence_embedding.clear_cache()  # e5 sees these texts first in a batch
        together = asyncio.run(parse_at_once(agent, TEXTS))
        sizes = batcher(agent).batch_sizes[-4:]
    finally:
        nlu_batching.install(enabled=False)
    assert sizes == [8, 8, 8, 2]  # 26 messages at once, at most 8 a run
    for text, expected, parsed in zip(TEXTS, alone, together):
        assert signature(parsed) == expected, text
    # the times were read against the frozen clock: tomorrow's date is in "明天下午"
    tomorrow = (frozen_clock() + timedelta(days=1)).date().isoformat()
    assert tomorrow in str(together[0]["entities"])


def test_one_failing_message_fails_alone(agent, frozen_clock, batching, monkeypatch):
    texts = ["济南历下区有招聘会吗", "烟台有就业驿站吗 炸", "明天上午能约老师不", "失业登记在哪办"]
    expected = parse_alone(agent, [texts[0], texts[2], texts[3]])
    nlu_batching.install(enabled=True, max_size=8, max_wait_ms=5.0)
    rasa_process_message = PlaceNormalizer.process_message

    def fails_on_one(self, message):  # type: ignore[no-untyped-def]
        if "炸" in (message.get("text") or ""):
            raise RuntimeError("a component failed on this message")
        return rasa_process_message(self, message)

    monkeypatch.setattr(PlaceNormalizer, "process_message", fails_on_one)
    results = asyncio.run(parse_at_once(agent, texts))
    assert isinstance(results[1], Exception)
    assert [signature(results[i]) for i in (0, 2, 3)] == expected
    assert batcher(agent).batch_sizes[-1] == 4


def test_concurrent_turns_share_a_run_and_log_their_own_parse(agent, frozen_clock, batching):
    """Through Rasa's log_message (the start of every turn): several users' turns at once."""
    texts = TEXTS[:6]
    expected = parse_alone(agent, texts)
    nlu_batching.install(enabled=True, max_size=8, max_wait_ms=5.0)

    async def turns() -> List[Any]:
        messages = [UserMessage(text, sender_id=f"batch-user-{i}") for i, text in enumerate(texts)]
        return list(await asyncio.gather(*(agent.processor.log_message(m) for m in messages)))

    trackers = asyncio.run(turns())
    assert batcher(agent).batch_sizes[-1] == 6
    assert batcher(agent).announced == 0
    for tracker, text, wanted in zip(trackers, texts, expected):
        assert tracker.latest_message.text == text
        assert signature(tracker.latest_message.parse_data) == wanted, text


def test_e5_on_a_list_equals_e5_one_by_one():
    """The engine packs several texts into one call without padding: each vector is its own."""
    texts = [t.strip()[:16] for t in TEXTS] + ["济南哪里可以改简历"]
    sentence_embedding.clear_cache()
    alone = [sentence_embedding.embed_one(t).copy() for t in texts]
    sentence_embedding.clear_cache()
    together = sentence_embedding.embed_cached(texts)
    for text, one, many in zip(texts, alone, together):
        assert one.tobytes() == many.tobytes(), text
    assert sentence_embedding.embed_one(texts[0]) is together[0]  # cached by the list call
