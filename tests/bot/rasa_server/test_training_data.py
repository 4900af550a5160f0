"""Guards on the NLU data: coverage, token alignment (rasa #7409), held-out separation, generated files."""
from collections import Counter
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.language import build_resources
from bot.rasa_server.components import PreloadedJiebaTokenizer
from bot.language.places import divisions
from bot.language.text_normalize import normalize_text
from bot.language.time_parser import TIME_HINTS

ROOT = Path(__file__).resolve().parents[3]
INTENTS = ["greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "out_of_scope", "inform",
           "find_service_point", "book_workshop", "my_bookings", "cancel_booking", "enroll_camp",
           "ask_camp_info", "request_human", "career_assessment", "ask_courses", "ask_policy",
           "unsubscribe", "more", "stop", "find_job", "find_job_fair", "subscribe",
           "find_expert"]
INFORM_ENTITIES = ["city", "district", "time", "phone", "person_name", "school", "education",
                   "identity", "age", "number"]


@pytest.fixture(scope="module")
def train():
    return load_data(str(ROOT / "nlu_data" / "nlu"))


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    path = tmp_path_factory.mktemp("storage")
    config = {**PreloadedJiebaTokenizer.get_default_config(), "dictionary_path": str(ROOT / "nlu_data" / "jieba")}
    return PreloadedJiebaTokenizer.create(config, LocalModelStorage(path), Resource("t"),
                                          ExecutionContext(GraphSchema({}), "t"))


def test_at_least_40_examples_per_intent(train):
    counts = Counter(m.get("intent") for m in train.intent_examples)
    assert {i: counts[i] for i in INTENTS if counts[i] < 40} == {}


def test_inform_has_40_examples_per_entity(train):
    counts = Counter(e["entity"] for m in train.intent_examples if m.get("intent") == "inform"
                     for e in m.get("entities") or [])
    assert {e: counts[e] for e in INFORM_ENTITIES if counts[e] < 40} == {}


@pytest.mark.parametrize("source", ["nlu_data/nlu", "tests/nlu_test.yml"])
def test_every_entity_is_on_token_boundaries(source, tokenizer):
    misaligned = []
    for m in load_data(str(ROOT / source)).training_examples:
        text = normalize_text(m.get("text"))
        tokens = tokenizer.tokenize(Message(data={"text": text}), "text")
        starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
        for e in m.get("entities") or []:
            if e["start"] not in starts or e["end"] not in ends:
                misaligned.append((text, e["entity"], text[e["start"]:e["end"]]))
    assert misaligned == []


def test_held_out_set_is_not_in_training_data(train):
    seen = {m.get("text") for m in train.training_examples}
    held = load_data(str(ROOT / "tests" / "nlu_test.yml")).training_examples
    assert len(held) >= 100
    assert [m.get("text") for m in held if m.get("text") in seen] == []


def test_generated_resources_are_up_to_date():
    jieba_file = ROOT / "nlu_data" / "jieba" / "zhinan_userdict.txt"
    assert jieba_file.read_text(encoding="utf-8") == "\n".join(build_resources.jieba_lines()) + "\n"
    lookups = ROOT / "nlu_data" / "nlu" / "lookups.yml"
    assert lookups.read_text(encoding="utf-8") == build_resources.render_lookups()
    words = {line.split(" ")[0] for line in jieba_file.read_text(encoding="utf-8").splitlines()}
    assert {d.name for d in divisions()} <= words


def test_every_annotated_time_span_is_touched_by_a_time_hint(train):
    # The time_hint regexes are DIET's token features for time spans: a span none of them
    # touches gets no help from them, which means a pattern is missing for that kind of expression.
    import re

    hints = [re.compile(p) for p in TIME_HINTS]
    spans = {
        (m.get("text") or "")[e["start"]:e["end"]]
        for m in train.training_examples
        for e in m.get("entities") or []
        if e["entity"] == "time"
    }
    assert len(spans) > 100
    untouched = sorted(s for s in spans if not any(h.search(s) for h in hints))
    assert untouched == []
    assert not any(h.search(t) for h in hints for t in ("你好", "我想改简历", "周杰伦的歌", "转人工"))
