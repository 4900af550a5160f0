"""A Redis tracker store for Rasa 3.6 whose cost per turn does not grow with the conversation.

Rasa's own `RedisTrackerStore` uses a blocking client on the event loop and, on every save,
reads, deserialises, replays, merges and rewrites the whole conversation. This store:

- keeps each conversation as a Redis list of events and appends only the new ones;
- uses `redis.asyncio`, so a save never blocks the Sanic loop;
- retrieves only the latest session, and inside a long session only the events after a
  checkpoint, prefixed by the slots and active loop recorded at that checkpoint.

So a turn reads and writes a bounded number of events however long the user has talked.
`retrieve_full_tracker` still returns everything (the staff console shows whole transcripts).

Keys (same layout as Rasa's, so tools that know `<prefix>:tracker:<sender>` still work):
`<prefix>:tracker:<sender>` the event list, `<prefix>:trackermeta:<sender>` a hash with the
index of the latest session start, the checkpoint and its snapshot, and the last event.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, Iterable, List, Optional, Text, Tuple

import redis.asyncio as aioredis
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_server import patches as rasa_patches
from bot.rasa_server.parse_cache import COUNTS as PARSE_CACHE_COUNTS
from bot.clock import system_clock
from bot.log_ids import log_id
from bot.redis_client import create_redis, endpoint_url
from bot.services.conversation_marks import queue_city_read
from bot.services.intent_stats import queue_intent_count, stats_day
from bot.services.knowledge.retrieval import ANSWER as KNOWLEDGE_ANSWER, PARSE_KEY as KNOWLEDGE_PARSE_KEY, QUESTION_INTENT
from bot.services.monthly_stats import queue_message
from bot.settings import load_settings

logger = logging.getLogger(__name__)

# A session longer than this many events (past its checkpoint) gets a new checkpoint …
CHECKPOINT_AFTER_EVENTS = 120
# … placed so that about this many recent events stay in every retrieved tracker.
EVENTS_KEPT_AFTER_CHECKPOINT = 60
SNAPSHOT_MARKER = "zhinan_snapshot"


def _dump(event: Event) -> str:
    return json.dumps(event.as_dict(), ensure_ascii=False, sort_keys=True)


def _answered_item(event: UserUttered) -> str:
    """The knowledge item action_knowledge_answer answers this message with: the NLU's retrieval
    decision in the parse data, for the intents that action runs on (nlu_data/rules/knowledge.yml)."""
    if event.intent_name not in (QUESTION_INTENT, "nlu_fallback"):
        return ""
    payload = (event.parse_data or {}).get(KNOWLEDGE_PARSE_KEY)
    if not isinstance(payload, dict) or payload.get("decision") != KNOWLEDGE_ANSWER:
        return ""
    options = payload.get("options") or [{}]
    return str((options[0] or {}).get("id") or "")


def _is_synthetic(event: Event) -> bool:
    return bool((getattr(event, "metadata", None) or {}).get(SNAPSHOT_MARKER))


class AppendOnlyRedisTrackerStore(TrackerStore):
    """Configured in endpoints.yml as `type: bot.rasa_server.tracker_store.AppendOnlyRedisTrackerStore`."""

    def __init__(
        self,
        domain: Domain,
        host: Text = "localhost",
        port: int = 6379,
        db: int = 0,
        password: Optional[Text] = None,
        username: Optional[Text] = None,
        key_prefix: Optional[Text] = None,
        record_exp: Optional[float] = None,
        use_ssl: bool = False,
        event_broker: Any = None,
        redis_client: Optional[aioredis.Redis] = None,
        **kwargs: Any,
    ) -> None:
        settings = load_settings()
        # The project's one factory: the same pool, and under REDIS_SENTINELS the same failover
        # handling, as every other process; endpoints.yml still names the server without Sentinel.
        self.red = redis_client or create_redis(
            settings, url=endpoint_url(host, port, db, password, username, bool(use_ssl))
        )
        self.key_prefix = (key_prefix or "rasa") + ":"
        self.record_exp = int(record_exp) if record_exp else None
        self._log_secret = settings.console_secret  # the gateway's key, so log ids match
        self._settings = settings
        super().__init__(domain, event_broker, **kwargs)
        rasa_patches.install(settings)  # Rasa server speed fixes; this store is created in every worker

    def _key(self, *parts: str) -> str:
        return self.key_prefix + ":".join(parts)

    def _events_key(self, sender_id: Text) -> str:
        return f"{self.key_prefix}tracker:{sender_id}"

    def _meta_key(self, sender_id: Text) -> str:
        return f"{self.key_prefix}trackermeta:{sender_id}"

    # -- save ----------------------------------------------------------------------------------

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        # The conversation's city (written by the gateway before this turn) rides on the read
        # this save makes anyway: the monthly count of each message costs no extra round trip.
        async with self.red.pipeline(transaction=False) as read:
            read.hgetall(self._meta_key(tracker.sender_id))
            queue_city_read(read, self._settings, tracker.sender_id)
            meta, city = await read.execute()
        new_events, dumped = self._events_since(tracker, meta.get("last"))
        if meta.get("last") and len(new_events) == len(tracker.events):
            logger.warning(
                "tracker of %s did not contain the last stored event", log_id(tracker.sender_id, self._log_secret)
            )
        if not new_events:
            return
        length = int(meta.get("length", 0))
        updates: Dict[str, Any] = {"last": dumped[-1], "length": length + len(dumped)}
        for offset, event in enumerate(new_events):
            if isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME:
                updates["session_start"] = length + offset
        updates.update(self._maybe_checkpoint(tracker, meta, updates))
        async with self.red.pipeline(transaction=True) as pipe:
            pipe.rpush(self._events_key(tracker.sender_id), *dumped)
            pipe.hset(self._meta_key(tracker.sender_id), mapping=updates)
            for event in new_events:
                if isinstance(event, UserUttered) and event.intent_name:
                    queue_intent_count(
                        pipe, self._key, stats_day(event.timestamp), event.intent_name, event.text or ""
                    )
                    # saved now: our clock, not the event's time.time(), carries the shift make test-clock
                    # gives Rasa (bot/clock.py), so the month is the one the other processes count in
                    queue_message(
                        pipe, self._settings, system_clock(), city, event.intent_name, _answered_item(event)
                    )
            if self.record_exp:
                pipe.expire(self._events_key(tracker.sender_id), self.record_exp)
                pipe.expire(self._meta_key(tracker.sender_id), self.record_exp)
            # this worker's parse-cache counts ride on the same write (the gateway exports them)
            queued = PARSE_CACHE_COUNTS.queue(pipe, self._key)
            try:
                await pipe.execute()
            except BaseException:
                PARSE_CACHE_COUNTS.give_back(*queued)
                raise

    @staticmethod
    def _events_since(tracker: DialogueStateTracker, last_stored: Optional[str]) -> Tuple[List[Event], List[str]]:
        """The tracker's events after the last one already stored (found from the end), and
        each as stored (dumped once: the search dumps them anyway)."""
        events = list(tracker.events)
        dumped: List[str] = []
        if last_stored is not None:
            for index in range(len(events) - 1, -1, -1):
                event_json = _dump(events[index])
                if event_json == last_stored:
                    return events[index + 1 :], dumped[::-1]
                dumped.append(event_json)
        new_events = [event for event in events if not _is_synthetic(event)]
        return new_events, [_dump(event) for event in new_events]

    def _maybe_checkpoint(
        self, tracker: DialogueStateTracker, meta: Dict[str, str], updates: Dict[str, Any]
    ) -> Dict[str, Any]:
        """A new checkpoint (index + slot snapshot) once the live part of a session is long."""
        length = updates["length"]
        session_start = int(updates.get("session_start", meta.get("session_start", 0)))
        checkpoint = int(meta.get("checkpoint", 0))
        base = max(session_start, checkpoint)
        if length - base <= CHECKPOINT_AFTER_EVENTS:
            return {}
        events = list(tracker.events)
        # global index of tracker.events[i] = length - len(events) + i
        first_global = length - len(events)
        target = length - EVENTS_KEPT_AFTER_CHECKPOINT
        position = max(0, target - first_global)
        while position < len(events) and events[position].type_name != "user":
            position += 1  # start the kept part at a user turn
        if position >= len(events):
            return {}
        replayed = DialogueStateTracker.from_events(
            tracker.sender_id, events[:position], slots=self.domain.slots
        )
        snapshot = {
            "slots": {
                name: value
                for name, value in replayed.current_slot_values().items()
                if value is not None
            },
            "active_loop": replayed.active_loop_name,
            "timestamp": events[position].timestamp,
        }
        return {"checkpoint": first_global + position, "snapshot": json.dumps(snapshot, ensure_ascii=False)}

    # -- retrieve ------------------------------------------------------------------------------

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        meta = await self.red.hgetall(self._meta_key(sender_id))
        if not meta:
            return None
        session_start = int(meta.get("session_start", 0))
        checkpoint = int(meta.get("checkpoint", 0))
        base = max(session_start, checkpoint)
        raw = await self.red.lrange(self._events_key(sender_id), base, -1)
        events = [json.loads(item) for item in raw]
        if checkpoint > session_start and meta.get("snapshot"):
            events = self._snapshot_prefix(json.loads(meta["snapshot"])) + events
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    @staticmethod
    def _snapshot_prefix(snapshot: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Events that rebuild the state at the checkpoint (marked so save() skips them)."""
        marker = {SNAPSHOT_MARKER: True}
        at = float(snapshot.get("timestamp", 0)) - 0.001
        prefix: List[Event] = [
            ActionExecuted(ACTION_SESSION_START_NAME, timestamp=at, metadata=marker),
            SessionStarted(timestamp=at, metadata=marker),
        ]
        prefix += [
            SlotSet(name, value, timestamp=at, metadata=marker)
            for name, value in snapshot.get("slots", {}).items()
        ]
        if snapshot.get("active_loop"):
            prefix.append(ActiveLoop(snapshot["active_loop"], timestamp=at, metadata=marker))
        # as a session start ends: without it a kept part made only of form turns (which rules
        # hide from the ML policies) leaves MemoizationPolicy no state at all, and it raises
        prefix.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=at, metadata=marker))
        return [event.as_dict() for event in prefix]

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        raw = await self.red.lrange(self._events_key(conversation_id), 0, -1)
        if not raw:
            return None
        return DialogueStateTracker.from_dict(
            conversation_id, [json.loads(item) for item in raw], self.domain.slots
        )

    async def keys(self) -> Iterable[Text]:
        prefix = self._events_key("")
        return [key[len(prefix) :] async for key in self.red.scan_iter(match=prefix + "*")]
