"""Calling a form's validation action as Rasa does while the form waits for `requested_slot`
(the forms' tests: tests/actions/test_forms.py, test_form_repair.py)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.booking.form import ValidateWorkshopBookingForm
from actions.camp import ValidateCampEnrollmentForm
from bot.settings import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
CAMP, BOOKING = "camp_enrollment_form", "workshop_booking_form"
VALIDATORS = {CAMP: ValidateCampEnrollmentForm, BOOKING: ValidateWorkshopBookingForm}


def form_tracker(
    form: str,
    requested: str,
    text: str,
    intent: str,
    *,
    extracted: Optional[Dict[str, Any]] = None,
    knowledge_decision: Optional[Dict[str, Any]] = None,
    after_user: Optional[List[Dict[str, Any]]] = None,
    filled: Optional[Dict[str, Any]] = None,
    before: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """The tracker Rasa sends the validation action: the user's message, what the slot mappings
    extracted from it, and (`after_user`) what ran since; `filled` are answers of earlier turns,
    `before` the events of those turns."""
    latest: Dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    if knowledge_decision is not None:
        latest["knowledge"] = knowledge_decision
    slots = {name: None for name in DOMAIN["slots"]}
    slots.update({"requested_slot": requested, **(filled or {}), **(extracted or {})})
    events: List[Dict[str, Any]] = list(before or []) + [{"event": "user", "text": text, "parse_data": latest}]
    events += list(after_user or [])
    # as Rasa builds it: the form's run, then the slot candidates last
    events += [{"event": "action", "name": form}]
    events += [{"event": "slot", "name": k, "value": v} for k, v in (extracted or {}).items()]
    return Tracker("oDigress01", slots, latest, events, False, None, {"name": form}, form)


def earlier_turns(form: str, answers: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The form started, then the user answered each of `answers` in a turn of its own."""
    events: List[Dict[str, Any]] = [{"event": "user", "text": "开始"}, {"event": "active_loop", "name": form}]
    for slot, value in answers.items():
        events += [{"event": "user", "text": str(value)}, {"event": "slot", "name": slot, "value": value}]
    return events


async def validate(form: str, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = await VALIDATORS[form]().run(dispatcher, tracker, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return dispatcher.messages, slots, events
