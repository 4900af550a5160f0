"""TED that stays idle when a rule has already decided the next action.

Rasa runs every policy for every prediction and then picks one: a policy's prediction wins on
(confidence, priority). A matching rule predicts its action with confidence 1.0 and RulePolicy
has the highest priority, so TED's output cannot change the outcome then, yet TED's TensorFlow
call is the largest single cost of a turn (about a third of a Rasa worker's CPU under load,
py-spy). ``RuleAwareTEDPolicy`` returns an empty prediction in exactly that case and runs TED
as usual otherwise.

Rasa's graph runs RulePolicy before TED with the same tracker object; RulePolicy's decision is
recorded for that object (a weak reference, plus its event count). If the order ever changes,
or anything else differs, no decision is found and TED runs, so the outcome never depends on
the order: only the saving does.

TED is skipped only when its own prediction could not win:
- the rule's confidence is 1.0 and its priority is above TED's;
- TED was not trained end to end on user text (an end-to-end prediction would outrank intents);
- the last action was not rejected (Rasa then zeroes that action in every prediction).

And TED never answers a user's message with silence: when its best guess right after a message,
outside a form, is to listen again (seen with a message NLU put just above the fallback threshold
as `inform` with no question pending: the user got nothing, and the gateway could only say it was
busy), the message goes to the action for messages nothing else placed (`UNPLACED_ACTION`, the
knowledge answer, which answers, offers the closest topics or starts the flow the text names).
"""
from __future__ import annotations

import functools
import threading
import weakref
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

from bot.rasa_server import model_loading

# Before any model loads (the graph imports this module first): DIET/TED without a training step.
model_loading.install()

CERTAIN = 1.0
UNPLACED_ACTION = "action_knowledge_answer"  # actions/knowledge.py; nlu_data/rules/knowledge.yml


class _RuleDecisions(threading.local):
    """The last certain rule decision made in this thread, for one tracker state."""

    def __init__(self) -> None:
        self.tracker: Optional[weakref.ReferenceType] = None
        self.events = -1
        self.priority = -1

    def record(self, tracker: DialogueStateTracker, prediction: PolicyPrediction) -> None:
        if prediction.max_confidence >= CERTAIN and not _last_action_rejected(tracker):
            self.tracker, self.events = weakref.ref(tracker), len(tracker.events)
            self.priority = prediction.policy_priority
        else:
            self.forget()

    def decided_above(self, tracker: DialogueStateTracker, priority: int) -> bool:
        if self.tracker is None or self.tracker() is not tracker:
            return False
        return self.events == len(tracker.events) and self.priority > priority

    def forget(self) -> None:
        self.tracker, self.events, self.priority = None, -1, -1


rule_decisions = _RuleDecisions()


def _awaits_first_answer(tracker: DialogueStateTracker) -> bool:
    """The user has spoken and the bot has not acted on it yet, and no form is running."""
    turn_events = (ActionExecuted, ActionExecutionRejected, UserUttered)
    last = next((e for e in reversed(tracker.events) if isinstance(e, turn_events)), None)
    return isinstance(last, UserUttered) and not tracker.active_loop_name


def never_silent(probabilities: List[float], tracker: DialogueStateTracker, domain: Domain) -> List[float]:
    """The probabilities with listening and the unplaced-message action swapped when listening
    would be the answer to a message (module doc); unchanged otherwise."""
    if not probabilities or not _awaits_first_answer(tracker) or UNPLACED_ACTION not in domain.action_names_or_texts:
        return probabilities
    listen = domain.index_for_action(ACTION_LISTEN_NAME)
    if max(range(len(probabilities)), key=probabilities.__getitem__) != listen:
        return probabilities
    unplaced = domain.index_for_action(UNPLACED_ACTION)
    swapped = list(probabilities)
    swapped[listen], swapped[unplaced] = probabilities[unplaced], probabilities[listen]
    return swapped


def _last_action_rejected(tracker: DialogueStateTracker) -> bool:
    action_events = (ActionExecuted, ActionExecutionRejected)
    last = next((e for e in reversed(tracker.events) if isinstance(e, action_events)), None)
    return isinstance(last, ActionExecutionRejected)


_rule_predict = RulePolicy.predict_action_probabilities


# `wraps` keeps RulePolicy's own signature and annotations, which Rasa's graph validation reads.
@functools.wraps(_rule_predict)
def _recording_rule_predict(self, tracker, domain, *args, **kwargs):  # type: ignore[no-untyped-def]
    prediction = _rule_predict(self, tracker, domain, *args, **kwargs)
    rule_decisions.record(tracker, prediction)
    return prediction


def install() -> None:
    """Record RulePolicy's decisions (its predictions are returned unchanged). Idempotent."""
    if RulePolicy.predict_action_probabilities is not _recording_rule_predict:
        RulePolicy.predict_action_probabilities = _recording_rule_predict


# At import, not later: Rasa's graph nodes bind each component's method when they are built, and
# this module is imported (config.yml names RuleAwareTEDPolicy) before any node exists.
install()


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class RuleAwareTEDPolicy(TEDPolicy):
    """TEDPolicy that returns an empty prediction when a certain rule outranks it (module doc)."""

    def _trained_end_to_end(self) -> bool:
        return TEXT in (self.fake_features or {})

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        decided = rule_decisions.decided_above(tracker, self.priority)
        rule_decisions.forget()
        if decided and self.model is not None and not self._trained_end_to_end():
            return self._prediction(self._default_predictions(domain))
        prediction = super().predict_action_probabilities(
            tracker, domain, rule_only_data=rule_only_data, **kwargs
        )
        prediction.probabilities = never_silent(prediction.probabilities, tracker, domain)
        return prediction
