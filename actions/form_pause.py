"""A form left for another flow, and "继续" back to it: one mechanism for every form (issue #21 item 2).

While a form waits for an answer, a message that starts another flow ("我想报实训营" inside the
booking, "约个简历修改" inside the camp enrolment) is not an answer: the form's validation rejects it
(`actions.forms.DigressionAwareValidation`), and the generated rules (scripts/digressions_to_rules.py,
`SWITCHES` below) run `action_pause_form` before that flow starts. The pause keeps the form's answers
and its pending question in the `paused_form` slot (with the time, so it is kept for `PAUSE_MINUTES`
only), empties the form's slots so that the other flow starts clean, and says how to come back.

"继续" (intent `more`) while `form_paused` is set runs `action_resume_form` (rule in
nlu_data/rules/forms.yml): the answers come back, the form is active again and asks where it stopped.
Starting the same form again with words that point back ("接着约刚才那个") restores it too
(`resume_events`, called by the validation at the form's activation).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Text

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.clock import system_clock
from bot.settings import PROJECT_ROOT
from bot.services.knowledge.flow_preference import POINTS_BACK

PAUSE_SLOT = "paused_form"  # {form, slots, requested, at}: not featurised
PAUSED_FLAG = "form_paused"  # featurised: the rule for "继续" looks at it
PAUSE_MINUTES = 120  # an answer half given two hours ago is no longer "刚才"
# An explicit "继续" brings back a form paused this long ago (the next day, after the session
# expired): the answers about the person are kept, the choices of a date are asked again.
RESUME_DAYS = 7
# The form's answers that go stale with time (a session, a time, a cohort, a confirmation).
TIME_BOUND_ENDINGS = ("_when", "_slot_id", "_offered", "_cohort", "booking_confirm")
REQUESTED_SLOT = "requested_slot"
# Flows that run outside Rasa's forms and may interrupt one: they end when the form resumes.
# Each flag's action: "继续" after a side question inside such a flow goes back to it.
INTERRUPTING_FLOWS = {"assessment_active": "action_career_assessment"}
INTERRUPTING_FLAGS = tuple(INTERRUPTING_FLOWS)

# intent that starts another flow -> that flow's opening steps (what its own rules run).
SWITCHES: Dict[str, Sequence[str]] = {
    "book_workshop": ("action: workshop_booking_form", "active_loop: workshop_booking_form"),
    "enroll_camp": ("action: action_camp_enroll_start", "action: camp_enrollment_form", "active_loop: camp_enrollment_form"),
    "career_assessment": ("action: action_career_assessment",),
    "cancel_booking": ("action: action_cancel_booking",),
}
# form -> whether a message answers its pending question in words ("报网上的那个吧" at the cohort list),
# whatever other flow NLU read in it ("跑不了" read as cancelling): such a message stays with the form.
# Each form registers its own reader (actions/camp.py).
ANSWERS_IN_WORDS: Dict[str, Callable[[str, str], bool]] = {}


def answers_in_words(form: str, requested: Optional[str], text: str) -> bool:
    reader = ANSWERS_IN_WORDS.get(form)
    return bool(reader and requested and reader(requested, text or ""))


# What the user calls each form's task, for "刚才的预约还没完成".
FORM_LABELS = {"workshop_booking_form": "预约", "camp_enrollment_form": "实训营报名"}
# The words that name each form's task in the user's mouth: "取消预约" inside the booking quits it,
# "继续报名" inside another flow brings the paused enrolment back.
TASK_WORDS = {"workshop_booking_form": r"预约|约", "camp_enrollment_form": r"报名|实训营|训练营|报"}
RESUME_MAX_CHARS = 14  # longer, and the message is about something else that happened "刚才"
# Words that point back to the paused task when the same form is started again: one pattern,
# shared with the NLU's flow preference.
BACK_RE = POINTS_BACK


def own_intent(form: str) -> Optional[str]:
    """The intent that starts `form` ("报名实训营" for the enrolment)."""
    return next((intent for intent, steps in SWITCHES.items() if f"action: {form}" in steps), None)


def switches_for(form: str) -> List[str]:
    """The intents that leave `form` for another flow (its own opening intent is no switch)."""
    return [intent for intent, steps in SWITCHES.items() if f"action: {form}" not in steps]


def form_label(form: str) -> str:
    return FORM_LABELS.get(form, "填写")


def names_task(form: str, text: str) -> bool:
    """The text names `form`'s task ("继续报名" for the enrolment, "接着约" for the booking)."""
    words = TASK_WORDS.get(form)
    return bool(words and re.search(words, text or ""))


@lru_cache(maxsize=1)
def _domain_file() -> DomainDict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")) or {}


def form_slots(form: str, domain: DomainDict) -> List[str]:
    """The form's required slots plus the slots of its own that they depend on (offered choices …):
    those sharing the required slots' prefix ("booking_", "camp_"); featurised ones stay (the rules
    and stories would have to name them)."""
    # endpoints.yml enables Rasa's selective domain: this action gets no domain, so domain.yml it is
    domain = domain if domain.get("forms") else _domain_file()
    required = list(((domain.get("forms") or {}).get(form) or {}).get("required_slots") or [])
    prefixes = {slot.split("_", 1)[0] + "_" for slot in required}
    own = [
        name for name, slot in (domain.get("slots") or {}).items()
        if name.split("_", 1)[0] + "_" in prefixes and name not in required and not slot.get("influence_conversation")
    ]
    return required + own


def paused_record(tracker: Tracker, now: Optional[float] = None) -> Optional[Mapping[str, Any]]:
    """The paused form, if it was left less than `PAUSE_MINUTES` ago."""
    record = tracker.get_slot(PAUSE_SLOT)
    if not isinstance(record, Mapping) or not record.get("form"):
        return None
    now = system_clock().timestamp() if now is None else now
    return record if now - float(record.get("at") or 0) <= PAUSE_MINUTES * 60 else None


def left_by_session_end(tracker: Tracker, domain: DomainDict) -> Optional[Mapping[str, Any]]:
    """A form that was waiting for an answer when the conversation session expired: Rasa's new
    session carries its slots (and its pending question) over but not the form itself. As a
    record like a pause's, stale (its time is unknown)."""
    requested = tracker.get_slot(REQUESTED_SLOT)
    if tracker.active_loop_name or not requested:
        return None
    domain = domain if domain.get("forms") else _domain_file()
    form = next((name for name, spec in (domain.get("forms") or {}).items()
                 if requested in ((spec or {}).get("required_slots") or [])), None)
    if form is None:
        return None
    slots = {name: tracker.get_slot(name) for name in form_slots(form, domain) if tracker.get_slot(name) is not None}
    return {"form": form, "slots": slots, "requested": requested, "at": 0} if slots else None


def kept_record(tracker: Tracker, now: Optional[float] = None, domain: Optional[DomainDict] = None) -> Optional[Mapping[str, Any]]:
    """The paused form for an explicit "继续": left less than `RESUME_DAYS` ago; past
    `PAUSE_MINUTES` without the answers that went stale (`stale: True`); else the form the
    session's end left (`left_by_session_end`)."""
    record = tracker.get_slot(PAUSE_SLOT)
    if not isinstance(record, Mapping) or not record.get("form"):
        left = left_by_session_end(tracker, domain or {})
        return _without_stale(left) if left else None
    now = system_clock().timestamp() if now is None else now
    age_s = now - float(record.get("at") or 0)
    if age_s <= PAUSE_MINUTES * 60:
        return record
    return None if age_s > RESUME_DAYS * 86400 else _without_stale(record)


def _without_stale(record: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
    slots = {k: v for k, v in (record.get("slots") or {}).items() if not k.endswith(TIME_BOUND_ENDINGS)}
    return {**record, "slots": slots, "stale": True} if slots else None


def cleared() -> List[EventType]:
    return [SlotSet(PAUSE_SLOT, None), SlotSet(PAUSED_FLAG, None)]


def resume_events(record: Mapping[str, Any]) -> List[EventType]:
    """The paused answers back (the form then asks its next empty question) and the pause forgotten."""
    slots = record.get("slots") or {}
    return [SlotSet(name, value) for name, value in slots.items()] + cleared()


def points_back(text: str) -> bool:
    return bool(BACK_RE.search(text or ""))


def resume_asked(tracker: Tracker, naming_task: bool = False) -> Optional[List[EventType]]:
    """A short message NLU could not place that points back ("继续报名", "接着弄刚才那个") while a form
    is paused and none is active: the fallback and the knowledge answer resume the form instead.
    `naming_task`: only when the message also names the paused form's task (inside another flow a
    bare "继续" belongs to that flow)."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    if tracker.active_loop_name or len(text) > RESUME_MAX_CHARS or not points_back(text):
        return None
    record = kept_record(tracker)  # "继续报名" the next day too
    if record is None or (naming_task and not names_task(str(record.get("form")), text)):
        return None
    return [FollowupAction("action_resume_form")]


def continue_interrupted(tracker: Tracker) -> Optional[List[EventType]]:
    """"继续" (intent `more`) that no list can page on, while a flow that runs outside Rasa's forms
    (the assessment) was interrupted by a side question: back to that flow, which asks its current
    question again. Called by the action the rule for `more` runs."""
    flow = next((action for flag, action in INTERRUPTING_FLOWS.items() if tracker.get_slot(flag)), None)
    if flow is None and left_by_session_end(tracker, {}):  # the form the session's end left (next day)
        flow = "action_resume_form"
    return [FollowupAction(flow)] if flow and not tracker.active_loop_name else None


def asked_to_confirm(events: Sequence[Mapping[str, Any]], form: str) -> bool:
    """This run of `form` asked a yes/no question: "确定放弃吗" or its own confirmation step."""
    events = list(events or [])
    start = max((i for i, e in enumerate(events) if e.get("event") == "active_loop" and e.get("name") == form), default=-1)
    return any(e.get("event") == "slot" and e.get("name") == REQUESTED_SLOT and str(e.get("value") or "").endswith("_confirm")
               for e in events[start + 1:])


def kept_on_leaving(tracker: Tracker, form: str, domain: DomainDict) -> List[EventType]:
    """A form the user left at once ("算了不约了", nothing asked) keeps its answers as a pause does, so
    that "继续" right after brings them back instead of starting over. Left after saying so to "确定放弃吗"
    (or "no" to the confirmation), nothing is kept: the user was asked."""
    if asked_to_confirm(tracker.events, form):
        return []
    names = [name for name in form_slots(form, domain) if not name.endswith("_confirm")]
    slots = {name: tracker.get_slot(name) for name in names if tracker.get_slot(name) is not None}
    if not slots:
        return []
    record = {"form": form, "slots": slots, "requested": None, "at": system_clock().timestamp()}
    return [SlotSet(PAUSE_SLOT, record), SlotSet(PAUSED_FLAG, True)]


class ActionPauseForm(Action):
    """Leaves the active form for another flow, keeping its answers (see the module doc)."""

    def name(self) -> Text:
        return "action_pause_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        form = tracker.active_loop_name
        if not form:
            return [ActiveLoop(None)]
        if answers_in_words(form, tracker.get_slot(REQUESTED_SLOT), (tracker.latest_message or {}).get("text") or ""):
            return [FollowupAction(form)]  # an answer after all: the form takes it, nothing is paused
        names = form_slots(form, domain)
        slots = {name: tracker.get_slot(name) for name in names if tracker.get_slot(name) is not None}
        requested = tracker.get_slot(REQUESTED_SLOT)
        events: List[EventType] = [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        events += [SlotSet(name, None) for name in slots]
        if slots:
            record = {"form": form, "slots": slots, "requested": requested, "at": system_clock().timestamp()}
            dispatcher.utter_message(text=f"刚才的{form_label(form)}还没完成，已为您保留；办完这件事后回复“继续”接着办。")
            events += [SlotSet(PAUSE_SLOT, record), SlotSet(PAUSED_FLAG, True)]
        return events


class ActionResumeForm(Action):
    """"继续": the paused form again with its answers, asking where it stopped."""

    def name(self) -> Text:
        return "action_resume_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        record = kept_record(tracker, domain=domain)
        if record is None:
            dispatcher.utter_message(text=f"之前没办完的事项已超过{RESUME_DAYS}天，没有保留。请重新开始，比如回复“预约指导”或“报名实训营”。")
            return cleared()
        form = str(record["form"])
        if record.get("stale"):  # the next day: what was said about the person is kept, dates are asked again
            dispatcher.utter_message(text=f"好的，接着您上次没办完的{form_label(form)}，已填的信息都保留了，时间相关的选项请重新选一下。")
        else:
            dispatcher.utter_message(text=f"好的，接着刚才的{form_label(form)}。")
        ended = [SlotSet(flag, False) for flag in INTERRUPTING_FLAGS if tracker.get_slot(flag)]
        stale = [SlotSet(name, None) for name in form_slots(form, domain) if record.get("stale") and name.endswith(TIME_BOUND_ENDINGS)]
        return stale + resume_events(record) + ended + [ActiveLoop(form)]
