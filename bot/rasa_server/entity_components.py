"""Rasa graph components after entity extraction: places to their canonical names and times to ISO
intervals (Asia/Shanghai). See components.py for the pipeline order."""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.clock import SHANGHAI, system_clock
from bot.language import places
from bot.language.time_parser import looks_like_time, parse_time_expression
from bot.language.time_parser import warm_up as warm_up_time_parser

logger = logging.getLogger(__name__)

# How many time spans this thread has read against the clock: a parse that read one cannot be
# reused later ("三点" depends on the hour), so the parse cache (parse_cache.py) compares it
# before and after a parse. Per thread, as Rasa runs a graph synchronously in its thread.
_clock_reads = threading.local()


def time_spans_read() -> int:
    return getattr(_clock_reads, "count", 0)


def _note_time_span_read() -> None:
    _clock_reads.count = time_spans_read() + 1


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
                _note_time_span_read()
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
