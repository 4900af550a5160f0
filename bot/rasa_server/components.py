"""Custom Rasa 3.6 graph components for Zhinan's Chinese NLU: the text before any featurizer.

Pipeline order (config.yml): ChineseNormalizer -> PreloadedJiebaTokenizer (here) -> featurizers ->
DIET -> CharNgramIntentClassifier (intent_components.py) -> EntitySynonymMapper -> PlaceNormalizer ->
TimeNormalizer (entity_components.py) -> KnowledgeRetriever (knowledge_retriever.py) -> Fallback.
The logic lives in plain helpers (text_normalize, places, time_parser); these classes adapt them.
"""
from __future__ import annotations

import glob
import logging
import os
import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.text_normalize import normalize_text

from bot.rasa_server import model_loading

# Before any model loads (the graph imports this module first): DIET/TED without a training step.
model_loading.install()

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
