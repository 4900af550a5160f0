"""scripts/bench_corpus.py and its corpus: distinct, not training data; feeding, cache counters, report."""
from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))  # the scripts import each other as siblings

corpus = importlib.import_module("bench_corpus")


def test_the_corpus_has_a_few_hundred_distinct_texts_in_real_conversations():
    conversations = corpus.load_conversations()
    turns = corpus.all_turns(conversations)
    assert len(turns) >= 300
    assert len(set(turns)) == len(turns), "a text appears twice in scripts/bench_corpus.yml"
    assert len(conversations) >= 50
    assert all(len(conversation) >= 3 for conversation in conversations)


def test_no_corpus_text_is_a_training_example():
    examples = corpus.training_examples(ROOT / "nlu_data")
    assert len(examples) > 500  # the reader found the training data
    copied = [t for t in corpus.all_turns(corpus.load_conversations()) if corpus.normalise(t) in examples]
    assert copied == []


def test_normalise_drops_annotations_spaces_and_punctuation():
    assert corpus.normalise("帮我约[周二早上](time)的[简历指导](workshop_topic)！") == "帮我约周二早上的简历指导"
    assert corpus.normalise('我在[济南]{"entity": "city"} 历下区?') == "我在济南历下区"
    assert corpus.normalise("OK 好的") == "ok好的"


def test_conversations_that_leave_the_bot_stay_out_of_the_long_run():
    everything = corpus.load_conversations()
    staying = corpus.load_conversations(staying_with_the_bot=True)
    assert 0 < len(everything) - len(staying) < 10
    assert "机器人听不懂 找个人跟我说" not in corpus.all_turns(staying)


def test_the_feed_hands_each_user_the_next_conversation_and_starts_over():
    feed = corpus.ConversationFeed([["a", "b"], ["c"]])
    assert [feed.next_conversation() for _ in range(3)] == [["a", "b"], ["c"], ["a", "b"]]


def test_distinct_share_counts_what_a_cache_could_not_help_with():
    assert corpus.distinct_share(["a", "b", "a", "c"]) == (3, 4, 0.75)
    assert corpus.distinct_share([]) == (0, 0, 0.0)


METRICS_PAGE = """\
# HELP zhinan_messages_total User turns handled
zhinan_messages_total{channel="wechat",handled_by="rasa"} 12.0
zhinan_nlu_cache_hits_total{process="a"} 3.0
zhinan_nlu_cache_hits_total{process="b"} 2.0
zhinan_nlu_cache_misses_total 15.0
"""


def test_cache_counters_are_read_and_summed_over_labels():
    assert corpus.read_cache_counters(METRICS_PAGE) == {"zhinan_nlu": (5.0, 15.0)}
    assert corpus.read_cache_counters("zhinan_messages_total 3.0\n") == {}


def test_cache_lines_give_the_rate_during_the_run_or_say_there_is_no_cache():
    before = {"zhinan_nlu": (1.0, 4.0)}
    assert corpus.cache_lines(before, {"zhinan_nlu": (5.0, 20.0)}) == [
        "cache hit rate : zhinan_nlu 20.0% (4 hits, 16 misses)"
    ]
    assert "no cache" in corpus.cache_lines({}, {})[0]
    assert "not read" in corpus.cache_lines(None, {})[0]


@pytest.fixture(scope="module")
def bench():
    return importlib.import_module("bench")


def test_the_load_walks_whole_conversations_one_new_user_each(bench):
    seen = []

    async def send(session, openid, text):
        seen.append((openid, text))
        return 0.01, True, ["ok"] if text != "c" else []

    feed = corpus.ConversationFeed([["a", "b"], ["c"]])
    figures = asyncio.run(bench.run_load(send, feed, messages=5, users=1))
    measured = seen[len(bench.WARM_UP):]
    assert [text for _, text in measured] == ["a", "b", "c", "a", "b"]
    assert len({openid for openid, _ in measured}) == 3
    assert (figures["messages"], figures["unanswered"], figures["errors"]) == (5, 1, 0)
    assert (figures["distinct"], figures["sent"]) == (3, 5)


def test_the_report_prints_distinct_share_and_cache_lines(bench):
    gateway = {"users": 4, "messages": 60, "wall_s": 2.0, "rate": 30.0, "p50": 100, "p95": 200,
               "p99": 250, "max": 300, "errors": 0, "unanswered": 1, "distinct": 60, "sent": 60,
               "distinct_share": 1.0}
    text = bench.report({
        "gateway": gateway,
        "parse": {"count": 10, "p50": 7.0, "p99": 9.0},
        "long": {"turns": 20, "rate_limited": 0, "first": 30, "last": 31, "window": 5},
        "caches": ["cache hit rate : no cache (…)"],
    })
    assert "60 distinct of 60 sent (100% distinct" in text
    assert "  cache hit rate : no cache" in text
    assert "30.0 msg/s" in text
