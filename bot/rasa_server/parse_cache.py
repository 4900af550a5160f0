"""A Rasa worker's cache of whole NLU parses, for messages that recur verbatim (issue #23).

WeChat traffic repeats short texts ("1", "好的", "继续", menu texts, campaign replies). Their parse
(intent ranking, entities, the knowledge decision: everything `MessageProcessor.parse_message`
returns) is computed once and then served from here, skipping e5, DIET and the rest of the graph.

What a parse depends on, component by component (config.yml), and why the key is what it is:
- the text: every component reads it; Rasa's NLUMessageConverter also copies the message id and
  metadata into the message, but no component reads them and they are not output properties, so
  only parses asked with `only_output_properties=True` (every turn's) are cached;
- the model: the cache belongs to the processor, and a new model comes with a new processor (a
  knowledge edit needs a model load as well: the retriever is fitted then);
- the tracker: Rasa 3.6's NLU graph does not read it; a graph that would is not cached
  (`nlu_batching.graph_reads_tracker`);
- the clock: ProfileFactExtractor reads today's date (去年毕业 -> a year), so the key holds the
  Beijing date; TimeNormalizer reads the current time for each time span (三点 / 过两个小时), so a
  parse during which it read one is never stored (`entity_components.time_spans_read`), nor one
  that ran across midnight;
- FallbackClassifier, RegexMessageHandler, FlowIntentPreference, PlaceNormalizer, the e5 LRU:
  functions of the components before them and of files loaded with the model.

Entries are pickled (an independent copy each time; Rasa and our tracker store hold on to the
parse data and may change it), bounded (LRU, `NLU_PARSE_CACHE_SIZE`), behind a lock. Hits and
misses are counted per process and flushed to Redis with each tracker save
(bot/services/cache_stats.py); the gateway exports them as `zhinan_nlu_parse_cache_*_total`.
Switched by `NLU_PARSE_CACHE` (.env.example); installed by `patches.install` in every worker.
"""
from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from datetime import date
from typing import Any, Dict, Hashable, Optional, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_server import entity_components
from bot.rasa_server.nlu_batching import graph_reads_tracker
from bot.services.cache_stats import PendingCounts

ParseData = Dict[str, Any]

# Longer texts hardly ever recur verbatim; keeping them out bounds an entry's size.
MAX_TEXT_CHARS = 64
COUNTS = PendingCounts("zhinan_nlu_parse")  # -> zhinan_nlu_parse_cache_hits_total on the gateway
_CACHE_ATTRIBUTE = "_zhinan_parse_cache"


class ParseCache:
    """A bounded LRU map of parses, pickled; thread-safe."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: "OrderedDict[Hashable, bytes]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Optional[ParseData]:
        with self._lock:
            blob = self._entries.get(key)
            if blob is None:
                return None
            self._entries.move_to_end(key)
        return pickle.loads(blob)

    def put(self, key: Hashable, parse: ParseData) -> None:
        blob = pickle.dumps(parse, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._entries[key] = blob
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class _Config:
    enabled = False
    max_entries = 4096
    inner: Any = None  # the parse_message the cache wraps (Rasa's, or nlu_batching's)


def beijing_today() -> date:
    """The date the components read (through the clock they use, so tests that freeze it move it)."""
    return entity_components.system_clock().date()


def cache_of(processor: MessageProcessor) -> Optional[ParseCache]:
    """The processor's cache (made on first use), or None when it is off or cannot apply."""
    if not _Config.enabled or processor.http_interpreter is not None:
        return None
    made: Optional[Tuple[int, Optional[ParseCache]]] = processor.__dict__.get(_CACHE_ATTRIBUTE)
    if made is None or made[0] != _Config.max_entries:
        cache = None if graph_reads_tracker(processor) else ParseCache(_Config.max_entries)
        made = processor.__dict__[_CACHE_ATTRIBUTE] = (_Config.max_entries, cache)
    return made[1]


def _cacheable(text: Any) -> bool:
    return isinstance(text, str) and 0 < len(text) <= MAX_TEXT_CHARS


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> ParseData:
    """Rasa's `parse_message`, served from the cache when the same text was parsed today."""
    cache = cache_of(self) if only_output_properties else None
    if cache is None:
        return await _Config.inner(self, message, tracker, only_output_properties)
    if not _cacheable(message.text):
        COUNTS.count(hit=False)
        return await _Config.inner(self, message, tracker, only_output_properties)
    day = beijing_today()
    key = (message.text, day)
    cached = cache.get(key)
    COUNTS.count(hit=cached is not None)
    if cached is not None:
        return cached
    clock_reads = entity_components.time_spans_read()
    parsed = await _Config.inner(self, message, tracker, only_output_properties)
    if entity_components.time_spans_read() == clock_reads and beijing_today() == day:
        cache.put(key, parsed)
    return parsed


def install(enabled: bool, max_entries: int = 4096) -> None:
    """Idempotent. Wraps whatever `MessageProcessor.parse_message` is when called, so call it after
    `nlu_batching.install` (patches.install does). `enabled` False puts that method back."""
    current = MessageProcessor.parse_message
    if current is not parse_message:
        _Config.inner = current
    _Config.enabled = enabled and max_entries > 0
    _Config.max_entries = max_entries
    MessageProcessor.parse_message = parse_message if _Config.enabled else _Config.inner  # type: ignore[assignment]
