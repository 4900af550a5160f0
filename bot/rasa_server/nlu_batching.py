"""Parse the messages of concurrent users with one run of Rasa's NLU graph (issue #23).

Rasa 3.6's `MessageProcessor.parse_message` runs the NLU graph for one message, although the graph
takes a list and every component's `process` takes a list. Under load a Rasa worker's event loop
holds several turns at once (each waiting on Redis or the action server while another parses), so
here each processor gets a `MicroBatcher` (bot/rasa_server/micro_batcher.py):

- a turn announces itself when it starts (`log_message`, the first step of Rasa's `handle_message`:
  fetch the tracker, parse), so a parse waits (at most `NLU_BATCH_WAIT_MS`) only for turns that
  are on their way to theirs; alone, a parse runs at once;
- the parses gathered run the NLU graph once on the list (at most `NLU_BATCH_MAX` messages), and
  each caller gets its own parse, then Rasa's own steps after the graph (retrieval intent, checks);
- the components that looped per message work on the list where that gives the same result: e5
  embeds the uncached texts in one engine call (`sentence_embedding.embed_cached`), the n-gram and
  knowledge classifiers score the list at once. DIET still predicts one message at a time: on a
  padded batch its scores for the shorter messages change (docs/benchmarks.md);
- when the graph fails on the list, each message is parsed alone, so an error reaches only the
  turn that caused it. The lock store still serialises each conversation: a parse is batched
  inside its turn, never across two turns of one user.

A message's parse is the one it gets alone (`tests/bot/rasa_server/test_nlu_batching.py`: intent
rankings to 6 decimals and entities, times included). Switched by `NLU_BATCH` (.env.example),
off by default: under steady load few turns reach their parse together, and the stack's CPU per
message did not move (docs/benchmarks.md). Installed in every Rasa worker by `patches.install`.
"""
from __future__ import annotations

import contextvars
import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

from bot.rasa_server.micro_batcher import MicroBatcher, Ticket

logger = logging.getLogger(__name__)

# A parse request: the message, its tracker, only_output_properties (Rasa's arguments).
Request = Tuple[UserMessage, Optional[DialogueStateTracker], bool]
ParseData = Dict[Text, Any]

_rasa_log_message = MessageProcessor.log_message
_rasa_parse_message = MessageProcessor.parse_message
_rasa_parse_with_graph = MessageProcessor._parse_message_with_graph

_BATCHER_ATTRIBUTE = "_zhinan_nlu_batcher"
# The turn's ticket (set by log_message) and the graph's parse for Rasa's parse_message.
_TICKET: contextvars.ContextVar[Optional[Ticket]] = contextvars.ContextVar("zhinan_nlu_ticket", default=None)
_PARSED: contextvars.ContextVar[Optional[ParseData]] = contextvars.ContextVar("zhinan_nlu_parsed", default=None)


class _Config:
    enabled = False
    max_size = 16
    max_wait_s = 0.005


def _tracker_for(request: Request) -> DialogueStateTracker:
    message, tracker, _ = request
    return tracker if tracker is not None else DialogueStateTracker.from_events(message.sender_id, [])


def parse_alone(processor: MessageProcessor, request: Request) -> ParseData:
    """Rasa's own graph parse of one message."""
    return _rasa_parse_with_graph(processor, request[0], _tracker_for(request), request[2])


def _as_parse_data(parsed_message: Any, only_output_properties: bool) -> ParseData:
    # The shape Rasa's _parse_message_with_graph gives (defaults, then the message's output).
    parse_data: ParseData = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
    parse_data.update(parsed_message.as_dict(only_output_properties=only_output_properties))
    return parse_data


def parse_together(processor: MessageProcessor, requests: List[Request]) -> List[ParseData]:
    """One NLU graph run on every request's message; each one's parse, in order."""
    target = processor.model_metadata.nlu_target
    results = processor.graph_runner.run(
        inputs={PLACEHOLDER_MESSAGE: [message for message, _, _ in requests]}, targets=[target]
    )
    parsed = results[target]
    if len(parsed) != len(requests):
        raise RuntimeError(f"the NLU graph gave {len(parsed)} messages for {len(requests)}")
    return [_as_parse_data(message, request[2]) for message, request in zip(parsed, requests)]


def graph_reads_tracker(processor: MessageProcessor) -> bool:
    """Whether a node of the NLU target needs the tracker (then messages cannot share a run); a
    graph runner whose schema cannot be read is taken to need it."""
    schema = getattr(processor.graph_runner, "_graph_schema", None)
    if schema is None:
        return True
    nodes = schema.minimal_graph_schema([processor.model_metadata.nlu_target]).nodes.values()
    return any(PLACEHOLDER_TRACKER in node.needs.values() for node in nodes)


def batcher_of(processor: MessageProcessor) -> Optional[MicroBatcher]:
    """The processor's batcher (made on first use), or None when batching is off or cannot apply."""
    if not _Config.enabled or processor.http_interpreter is not None:
        return None
    settings = (_Config.max_size, _Config.max_wait_s)
    made = processor.__dict__.get(_BATCHER_ATTRIBUTE)
    if made is None or made[0] != settings:
        batcher = None
        if graph_reads_tracker(processor):
            logger.warning("the NLU graph reads the tracker: parsing one message at a time")
        else:
            batcher = MicroBatcher(
                lambda requests: parse_together(processor, requests),
                lambda request: parse_alone(processor, request),
                max_size=_Config.max_size,
                max_wait_s=_Config.max_wait_s,
            )
        made = processor.__dict__[_BATCHER_ATTRIBUTE] = (settings, batcher)
    return made[1]


async def log_message(
    self: MessageProcessor, message: UserMessage, should_save_tracker: bool = True
) -> DialogueStateTracker:
    """Rasa's: fetch the tracker, parse, log the message (the first step of `handle_message`),
    announced to the batcher from its start to its end."""
    batcher = batcher_of(self)
    if batcher is None:
        return await _rasa_log_message(self, message, should_save_tracker)
    ticket = batcher.announce()
    token = _TICKET.set(ticket)
    try:
        return await _rasa_log_message(self, message, should_save_tracker)
    finally:
        ticket.release()
        _TICKET.reset(token)


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> ParseData:
    batcher = batcher_of(self)
    if batcher is None:
        return await _rasa_parse_message(self, message, tracker, only_output_properties)
    parsed = await batcher.submit((message, tracker, only_output_properties), _TICKET.get())
    token = _PARSED.set(parsed)
    try:  # Rasa's own parse_message, whose graph step (below) returns this parse
        return await _rasa_parse_message(self, message, tracker, only_output_properties)
    finally:
        _PARSED.reset(token)


def _parse_message_with_graph(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker,
    only_output_properties: bool = True,
) -> ParseData:
    parsed = _PARSED.get()
    if parsed is None:
        return _rasa_parse_with_graph(self, message, tracker, only_output_properties)
    _PARSED.set(None)
    return parsed


def install(enabled: bool, max_size: int = 16, max_wait_ms: float = 5.0) -> None:
    """Idempotent; `enabled` False puts Rasa's own methods back. A processor's batcher is made
    again when these settings change (benchmarks and tests switch them in one process)."""
    _Config.enabled = enabled and max_size > 1
    _Config.max_size = max_size
    _Config.max_wait_s = max_wait_ms / 1000.0
    if _Config.enabled:
        MessageProcessor.log_message = log_message  # type: ignore[assignment]
        MessageProcessor.parse_message = parse_message  # type: ignore[assignment]
        MessageProcessor._parse_message_with_graph = _parse_message_with_graph  # type: ignore[assignment]
    else:
        MessageProcessor.log_message = _rasa_log_message  # type: ignore[assignment]
        MessageProcessor.parse_message = _rasa_parse_message  # type: ignore[assignment]
        MessageProcessor._parse_message_with_graph = _rasa_parse_with_graph  # type: ignore[assignment]
