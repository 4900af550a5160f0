"""The custom Rasa graph components, each on its own, with real Chinese messages."""
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_server.components import ChineseNormalizer, PreloadedJiebaTokenizer
from bot.rasa_server.entity_components import PlaceNormalizer, TimeNormalizer
from bot.rasa_server.intent_components import CharNgramIntentClassifier, SentenceEmbeddingFeaturizer
from bot.clock import SHANGHAI

ROOT = Path(__file__).resolve().parents[3]
JIEBA_DIR = str(ROOT / "nlu_data" / "jieba")


@pytest.fixture
def storage(tmp_path):
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


@pytest.fixture
def ctx():
    return ExecutionContext(GraphSchema({}), "test")


def _tokenizer(storage, ctx, name="tok"):
    config = {**PreloadedJiebaTokenizer.get_default_config(), "dictionary_path": JIEBA_DIR}
    return PreloadedJiebaTokenizer.create(config, storage, Resource(name), ctx)


def test_normalizer_keeps_entity_offsets_and_simplifies_values(storage, ctx):
    norm = ChineseNormalizer.create({}, storage, Resource("n"), ctx)
    msg = Message(data={"text": "濟南歷下區有沒有驛站😀", "intent": "find_service_point", "entities": [
        {"entity": "city", "start": 0, "end": 2, "value": "濟南"},
        {"entity": "point_type", "start": 8, "end": 10, "value": "社区就业驿站"},
    ]})
    norm.process_training_data(TrainingData([msg]))
    assert msg.get("text") == "济南历下区有没有驿站 "
    assert msg.get("entities")[0]["value"] == "济南"  # was equal to its span: follows 繁->简
    assert msg.get("entities")[1]["value"] == "社区就业驿站"  # an explicit synonym is kept


@pytest.mark.parametrize(
    "typed", ["😀/restart", "\u200b/restart", "[微笑]/restart", '😀/inform{"city":"济南"}']
)
def test_typed_text_behind_an_emoji_is_not_an_intent_trigger(storage, ctx, typed):
    # The normaliser meets Rasa's trigger handling: RegexMessageHandler runs on its output.
    norm = ChineseNormalizer.create({}, storage, Resource("n"), ctx)
    handler = RegexMessageHandler.create({}, storage, Resource("r"), ctx)
    msg = handler.process(norm.process([Message(data={"text": typed})]))[0]
    assert msg.get("intent") is None and not msg.get("entities")


def test_gateway_triggers_still_reach_rasa_as_triggers(storage, ctx):
    norm = ChineseNormalizer.create({}, storage, Resource("n"), ctx)
    handler = RegexMessageHandler.create({}, storage, Resource("r"), ctx)
    text = '/find_service_point{"latitude": 36.6, "longitude": 117.1}'
    msg = handler.process(norm.process([Message(data={"text": text})]))[0]
    assert msg.get("intent")["name"] == "find_service_point"
    assert {e["entity"] for e in msg.get("entities")} == {"latitude", "longitude"}


def test_tokenizer_rejects_a_file_as_dictionary_path(storage, ctx):
    config = {**PreloadedJiebaTokenizer.get_default_config(),
              "dictionary_path": str(ROOT / "nlu_data" / "jieba" / "zhinan_userdict.txt")}
    with pytest.raises(ValueError, match="directory"):
        PreloadedJiebaTokenizer.create(config, storage, Resource("t"), ctx)


def test_tokenizer_is_warm_and_splits_on_place_names(storage, ctx):
    import jieba

    tok = _tokenizer(storage, ctx)
    assert jieba.dt.initialized  # loaded at construction, not on the first message
    words = [t.text for t in tok.tokenize(Message(data={"text": "济南市中区有没有能帮忙改简历的地方"}), "text")]
    assert words[:2] == ["济南", "市中区"]
    assert "改简历" in words


def test_tokenizer_drops_spaces_and_splits_scripts(storage, ctx):
    tok = _tokenizer(storage, ctx)
    tokens = tok.tokenize(Message(data={"text": "找 hr 聊聊 tel13812345678 我二十三岁"}), "text")
    words = [t.text for t in tokens]
    assert " " not in words and "" not in words
    assert "hr" in words and "tel" in words and "13812345678" in words
    assert "二十三" in words and "岁" in words
    t = tokens[words.index("13812345678")]
    assert "找 hr 聊聊 tel13812345678 我二十三岁"[t.start:t.end] == "13812345678"


def test_tokenizer_persists_and_reloads_dictionary(storage, ctx):
    tok = _tokenizer(storage, ctx, "tok2")
    tok.train(TrainingData([]))
    loaded = PreloadedJiebaTokenizer.load(
        {**PreloadedJiebaTokenizer.get_default_config(), "dictionary_path": JIEBA_DIR},
        storage, Resource("tok2"), ctx,
    )
    assert [t.text for t in loaded.tokenize(Message(data={"text": "枣庄市中区"}), "text")] == ["枣庄", "市中区"]


def test_place_normalizer_adds_city_for_district(storage, ctx):
    comp = PlaceNormalizer.create({}, storage, Resource("p"), ctx)
    msg = Message(data={"text": "我在莱芜", "entities": [
        {"entity": "district", "start": 2, "end": 4, "value": "莱芜", "extractor": "DIETClassifier"}]})
    comp.process([msg])
    ents = {e["entity"]: e for e in msg.get("entities")}
    assert ents["district"]["value"] == "莱芜区"
    assert ents["city"]["value"] == "济南市" and ents["city"]["extractor"] == "PlaceNormalizer"


def test_place_normalizer_resolves_ambiguous_district_with_city(storage, ctx):
    comp = PlaceNormalizer.create({}, storage, Resource("p"), ctx)
    msg = Message(data={"text": "枣庄市中区", "entities": [
        {"entity": "city", "start": 0, "end": 2, "value": "枣庄"},
        {"entity": "district", "start": 2, "end": 5, "value": "市中区"}]})
    comp.process([msg])
    ents = msg.get("entities")
    assert [(e["entity"], e["value"]) for e in ents] == [("city", "枣庄市"), ("district", "市中区")]
    alone = Message(data={"text": "市中区", "entities": [{"entity": "district", "start": 0, "end": 3, "value": "市中区"}]})
    comp.process([alone])
    assert [e["entity"] for e in alone.get("entities")] == ["district"]


def test_time_normalizer_uses_message_time(storage, ctx):
    comp = TimeNormalizer.create(TimeNormalizer.get_default_config(), storage, Resource("t"), ctx)
    sent = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI).timestamp()
    msg = Message(data={"text": "约明天下午", "entities": [{"entity": "time", "start": 1, "end": 5, "value": "明天下午"}]}, time=sent)
    bad = Message(data={"text": "2月30号", "entities": [{"entity": "time", "start": 0, "end": 5, "value": "2月30号"}]}, time=sent)
    comp.process([msg, bad])
    e = msg.get("entities")[0]
    assert e["value"] == "2026-11-29T13:00:00+08:00/2026-11-29T17:59:59+08:00"
    assert e["start"] == 1 and e["end"] == 5  # the span is untouched
    assert e["additional_info"]["raw"] == "明天下午"
    b = bad.get("entities")[0]
    assert b["value"] == "2月30号" and b["additional_info"]["start"] is None


def test_time_normalizer_drops_a_name_mistaken_for_a_time(storage, ctx):
    comp = TimeNormalizer.create(TimeNormalizer.get_default_config(), storage, Resource("t"), ctx)
    name = {"entity": "person_name", "start": 5, "end": 7, "value": "苏瑶"}
    msg = Message(data={"text": "我的名字叫苏瑶", "entities": [
        {"entity": "time", "start": 5, "end": 7, "value": "苏瑶"}, dict(name)]})
    comp.process([msg])
    assert msg.get("entities") == [name]


def _examples():
    data = {
        "request_human": ["转人工", "人工客服", "我要找真人", "帮我转人工服务", "找个活人聊"],
        "unsubscribe": ["退订", "别再推送了", "取消订阅", "关闭推送", "不要再发消息"],
        "enroll_camp": ["实训营怎么报名", "我要报名实训营", "报名求职实训营", "帮我报个实训营", "参加实训营"],
    }
    return [Message(data={"text": t, "intent": i}) for i, ts in data.items() for t in ts]


def test_char_ngram_classifier_trains_persists_and_ensembles(storage, ctx):
    tok = _tokenizer(storage, ctx, "tok3")
    examples = _examples()
    for m in examples:
        m.set("text_tokens", tok.tokenize(m, "text"))
    config = CharNgramIntentClassifier.get_default_config()
    clf = CharNgramIntentClassifier.create(config, storage, Resource("clf"), ctx)
    clf.train(TrainingData(examples))
    loaded = CharNgramIntentClassifier.load(config, storage, Resource("clf"), ctx)

    msg = Message(data={"text": "我想转个人工"})
    msg.set("text_tokens", tok.tokenize(msg, "text"))
    loaded.process([msg])
    assert msg.get("intent")["name"] == "request_human"
    ranking = msg.get("intent_ranking")
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6

    # With a previous (DIET) ranking, the result mixes both: a confident DIET vote moves it.
    msg2 = Message(data={"text": "我想转个人工"})
    msg2.set("text_tokens", tok.tokenize(msg2, "text"))
    msg2.set("intent_ranking", [{"name": "unsubscribe", "confidence": 1.0}])
    loaded.process([msg2])
    conf = {r["name"]: r["confidence"] for r in msg2.get("intent_ranking")}
    assert conf["unsubscribe"] >= config["diet_weight"] - 1e-9
    assert abs(sum(conf.values()) - 1.0) < 1e-6

    # Emoji-only text (blank after normalisation): uniform, low confidence -> fallback path.
    blank = Message(data={"text": "   "})
    loaded.process([blank])
    assert blank.get("intent")["confidence"] == pytest.approx(1 / 3)


def _embedder(ctx):
    return SentenceEmbeddingFeaturizer.create(SentenceEmbeddingFeaturizer.get_default_config(), None, Resource("e5"), ctx)


def test_sentence_embedding_featurizer_adds_a_normalised_sentence_vector(ctx):
    messages = [Message(data={"text": t}) for t in ("济南哪里能改简历", "历下区有没有改简历的地方", "今天天气怎么样", "")]
    _embedder(ctx).process(messages)
    assert messages[3].get_dense_features("text") == (None, None)  # emoji-only, blank after normalising
    vectors = []
    for m in messages[:3]:
        sequence, sentence = m.get_dense_features("text")
        assert sequence is None and sentence.features.shape == (1, 384)
        vectors.append(sentence.features[0])
    assert abs(float(vectors[0] @ vectors[0]) - 1.0) < 1e-3
    # Two ways to ask for the same service are closer than an off-topic question.
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


def test_sentence_embeddings_match_between_training_and_inference(ctx):
    texts = ["我要报名实训营", "转人工", "附近的零工市场"]
    training = TrainingData([Message(data={"text": t, "intent": "x"}) for t in texts])
    featurizer = _embedder(ctx)
    featurizer.process_training_data(training)
    single = Message(data={"text": "转人工"})
    featurizer.process([single])
    batch = [m.get_dense_features("text")[1].features[0] for m in training.training_examples]
    assert abs(float(batch[1] @ single.get_dense_features("text")[1].features[0]) - 1.0) < 1e-3
    assert len(batch) == 3 and float(batch[0] @ batch[2]) < 0.99


def test_sentence_embedding_reads_only_the_first_max_characters(ctx):
    from bot.rasa_server import sentence_embedding

    limit = SentenceEmbeddingFeaturizer.get_default_config()["max_characters"]
    long_text = "我是今年的应届毕业生想问问济南有没有能帮忙改简历的地方谢谢老师"
    assert len(long_text) > limit
    short, long = Message(data={"text": "转人工"}), Message(data={"text": long_text})
    _embedder(ctx).process([short, long])
    long_vector = long.get_dense_features("text")[1].features[0]
    assert np.allclose(long_vector, sentence_embedding.embed_one(long_text[:limit]), atol=1e-5)
    assert not np.allclose(long_vector, sentence_embedding.embed_one(long_text), atol=1e-3)
    assert np.allclose(short.get_dense_features("text")[1].features[0], sentence_embedding.embed_one("转人工"), atol=1e-5)

    uncapped = SentenceEmbeddingFeaturizer.create({"max_characters": 0}, None, Resource("e5all"), ctx)
    whole = Message(data={"text": long_text})
    uncapped.process([whole])
    assert np.allclose(whole.get_dense_features("text")[1].features[0], sentence_embedding.embed_one(long_text), atol=1e-5)


def test_sentence_embedding_prefix_selects_e5_passage_or_query_input(ctx):
    from bot.rasa_server import sentence_embedding

    text = "济南哪里能改简历"
    by_default, as_query = Message(data={"text": text}), Message(data={"text": text})
    _embedder(ctx).process([by_default])
    SentenceEmbeddingFeaturizer.create({"prefix": "query"}, None, Resource("e5q"), ctx).process([as_query])
    passage_vector = by_default.get_dense_features("text")[1].features[0]
    query_vector = as_query.get_dense_features("text")[1].features[0]
    assert np.allclose(passage_vector, sentence_embedding.embed_one(text, "passage"), atol=1e-5)
    assert np.allclose(query_vector, sentence_embedding.embed_one(text, "query"), atol=1e-5)
    assert not np.allclose(passage_vector, query_vector, atol=1e-3)  # the prefix reaches the model
    with pytest.raises(ValueError):
        SentenceEmbeddingFeaturizer.create({"prefix": "document"}, None, Resource("e5x"), ctx)


def test_char_ngram_classifier_uses_dense_features_when_present(storage, ctx):
    tok = _tokenizer(storage, ctx, "tok4")
    embedder = _embedder(ctx)
    examples = _examples()
    for m in examples:
        m.set("text_tokens", tok.tokenize(m, "text"))
    embedder.process_training_data(TrainingData(examples))
    config = {**CharNgramIntentClassifier.get_default_config(), "diet_weight": 0.0}
    CharNgramIntentClassifier.create(config, storage, Resource("clf_dense"), ctx).train(TrainingData(examples))
    loaded = CharNgramIntentClassifier.load(config, storage, Resource("clf_dense"), ctx)
    assert loaded._model["dense_dimensions"] == 384

    # No n-gram overlap with any training example: only the sentence meaning can decide.
    msg = Message(data={"text": "能让真人客服来回答吗"})
    msg.set("text_tokens", tok.tokenize(msg, "text"))
    embedder.process([msg])
    loaded.process([msg])
    assert msg.get("intent")["name"] == "request_human"

    # Scoring block by block gives the margins of the fitted LinearSVC on the stacked features.
    from scipy.sparse import csr_matrix, hstack

    model = loaded._model
    stacked = hstack([model["char"].transform([msg.get("text")]),
                      model["word"].transform([CharNgramIntentClassifier._words(msg)]),
                      csr_matrix(loaded._dense([msg], 384))]).tocsr()
    z = model["clf"].decision_function(stacked) / loaded._config["temperature"]
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert np.allclose(loaded.linear_probabilities([msg]), expected, atol=1e-9)

    # A message without dense features still gets a ranking (the dense block is zeros).
    bare = Message(data={"text": "实训营报名"})
    bare.set("text_tokens", tok.tokenize(bare, "text"))
    loaded.process([bare])
    assert bare.get("intent")["name"] == "enroll_camp"


def test_tokenizer_loads_a_user_dictionary_once_whatever_its_path(storage, ctx, tmp_path):
    import shutil

    import jieba

    _tokenizer(storage, ctx, "tok5")
    total = jieba.dt.total
    copy = tmp_path / "persisted"
    shutil.copytree(JIEBA_DIR, copy)  # what the trained model carries
    PreloadedJiebaTokenizer._load_custom_dictionary(str(copy))
    _tokenizer(storage, ctx, "tok6")
    assert jieba.dt.total == total  # reloading would add its frequencies again and shift cuts


def test_scripts_embed_with_the_clip_and_prefix_config_yml_gives_the_retriever(tmp_path):
    from bot.rasa_server.knowledge_retriever import KnowledgeRetriever, configured_embedder

    name = f"{KnowledgeRetriever.__module__}.KnowledgeRetriever"
    config = tmp_path / "config.yml"
    config.write_text(f"pipeline:\n  - name: WhitespaceTokenizer\n  - name: {name}\n    max_characters: 8\n"
                      "    prefix: query\n", encoding="utf-8")
    embedder = configured_embedder(config)
    assert (embedder.max_characters, embedder.prefix) == (8, "query")
