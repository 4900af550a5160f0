"""Running a rasa-sdk action in a test: a Tracker for one user message, and the action's replies and
slot events. (Older action tests each carry their own copy; new ones use this.)"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

SENDER = "oTestUser0001"


def make_tracker(
    text: str = "",
    intent: str = "",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    sender: str = SENDER,
) -> Tracker:
    """The tracker as the action server gets it: `events` happened before this user message."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []}
    history = list(events or []) + [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker(sender, dict(slots or {}), latest, history, False, None, {}, "action_listen")


def entities(**values: Any) -> List[Dict[str, Any]]:
    return [{"entity": name, "value": value} for name, value in values.items()]


def bot_said(action_name: str, after_text: str = "") -> List[Dict[str, Any]]:
    """Events of an earlier turn: the user wrote `after_text` and the bot ran `action_name`."""
    return [
        {"event": "user", "text": after_text, "parse_data": {"text": after_text}},
        {"event": "action", "name": action_name},
        {"event": "action", "name": "action_listen"},
    ]


async def run_action(action: Action, tracker: Tracker) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """(messages the action sent, {slot: value} it set)."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
