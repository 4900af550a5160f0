"""RuleAwareTEDPolicy: TED idles only where a rule decides, and the chosen action never changes."""
from __future__ import annotations

import logging
from typing import List

import pytest
from rasa.core.agent import Agent
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected, ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_server import policies
from bot.rasa_server.policies import RuleAwareTEDPolicy, rule_decisions
from bot.stack import latest_model
from tests.helpers.predicted_actions import Prediction, predicted_actions

RULE_PRIORITY = RulePolicy.get_default_config()["priority"]
TED_PRIORITY = TEDPolicy.get_default_config()["priority"]


def _prediction(confidence: float, priority: int = RULE_PRIORITY) -> PolicyPrediction:
    return PolicyPrediction([0.0, confidence], "RulePolicy", policy_priority=priority)


def _tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("u1", [ActionExecuted("action_listen"), *events])


@pytest.fixture(autouse=True)
def clean_decisions():
    rule_decisions.forget()
    yield
    rule_decisions.forget()


def test_a_certain_rule_decision_counts_for_that_tracker_state_only():
    tracker, other = _tracker(UserUttered("你好")), _tracker(UserUttered("你好"))
    rule_decisions.record(tracker, _prediction(1.0))
    assert rule_decisions.decided_above(tracker, TED_PRIORITY)
    assert not rule_decisions.decided_above(other, TED_PRIORITY)  # another conversation
    assert not rule_decisions.decided_above(tracker, RULE_PRIORITY)  # TED configured as high
    tracker.update(ActionExecuted("utter_greet"))
    assert not rule_decisions.decided_above(tracker, TED_PRIORITY)  # the state moved on


@pytest.mark.parametrize(
    "confidence, events",
    [
        (0.3, [UserUttered("嗯嗯嗯")]),  # the rule policy's own fallback score: TED may win
        (0.99, [UserUttered("你好")]),
        (1.0, [UserUttered("你好"), ActionExecutionRejected("camp_enrollment_form")]),
    ],
)
def test_no_decision_is_recorded_when_ted_could_still_change_the_outcome(confidence, events):
    tracker = _tracker(*events)
    rule_decisions.record(tracker, _prediction(1.0))
    rule_decisions.record(tracker, _prediction(confidence))  # replaces the earlier decision
    assert not rule_decisions.decided_above(tracker, TED_PRIORITY)


def test_a_decision_dies_with_its_tracker():
    tracker = _tracker(UserUttered("你好"))
    rule_decisions.record(tracker, _prediction(1.0))
    del tracker
    assert not rule_decisions.decided_above(_tracker(UserUttered("你好")), TED_PRIORITY)


# --------------------------------------------------------------------------- with the trained model
TURNS = ["你好", "实训营是什么", "嗯嗯嗯随便说说", "我想预约改简历", "济南历下区有没有驿站", "谢谢", "再见"]


@pytest.fixture(scope="module")
def agent() -> Agent:
    logging.getLogger("rasa").setLevel(logging.WARNING)
    return Agent.load(str(latest_model()))


def _run_conversation(agent: Agent) -> List[Prediction]:
    return predicted_actions(agent, TURNS, "policy-test")


@pytest.mark.tensorflow
def test_the_model_uses_the_rule_aware_ted(agent):
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    components = [node._component for node in nodes]
    assert any(isinstance(c, RuleAwareTEDPolicy) for c in components)


@pytest.mark.tensorflow
def test_ted_runs_only_where_no_rule_decides_and_every_action_is_unchanged(agent, monkeypatch):
    ted_runs: List[int] = []
    stock_predict = TEDPolicy.predict_action_probabilities

    def counting_predict(self, *args, **kwargs):
        ted_runs.append(1)
        return stock_predict(self, *args, **kwargs)

    monkeypatch.setattr(TEDPolicy, "predict_action_probabilities", counting_predict)
    with_skip = _run_conversation(agent)
    runs_with_skip = len(ted_runs)

    ted_runs.clear()
    monkeypatch.setattr(policies.rule_decisions, "decided_above", lambda *_args: False)
    without_skip = _run_conversation(agent)

    assert with_skip == without_skip
    assert len(ted_runs) == len(without_skip)  # stock behaviour: TED runs for every prediction
    rule_decided = sum(1 for _, policy, conf in with_skip if "RulePolicy" in policy and conf == 1.0)
    assert rule_decided > 0 and runs_with_skip == len(with_skip) - rule_decided


DOMAIN = Domain.from_dict({"actions": ["action_knowledge_answer", "action_find_job"], "forms": {"camp_enrollment_form": {}}})


def _probabilities(best: str) -> List[float]:
    probabilities = [0.01] * len(DOMAIN.action_names_or_texts)
    probabilities[DOMAIN.index_for_action(best)] = 0.9
    return probabilities


def _best(probabilities: List[float]) -> str:
    return DOMAIN.action_names_or_texts[max(range(len(probabilities)), key=probabilities.__getitem__)]


def test_a_message_is_never_answered_with_silence():
    tracker = _tracker(UserUttered("我去年大专毕业到现在没找到活想约个职业规划"))
    assert _best(policies.never_silent(_probabilities("action_listen"), tracker, DOMAIN)) == "action_knowledge_answer"


@pytest.mark.parametrize(
    "events, best",
    [
        ([UserUttered("找工作"), ActionExecuted("action_find_job")], "action_listen"),  # answered: now listen
        ([UserUttered("找工作")], "action_find_job"),  # TED has an answer
        ([UserUttered("嗯"), ActionExecutionRejected("camp_enrollment_form")], "action_listen"),
    ],
)
def test_listening_after_an_answer_or_a_real_prediction_is_left_alone(events, best):
    tracker = _tracker(*events)
    assert policies.never_silent(_probabilities(best), tracker, DOMAIN) == _probabilities(best)


def test_inside_a_form_the_form_decides():
    tracker = _tracker(UserUttered("报名"), ActionExecuted("camp_enrollment_form"), ActiveLoop("camp_enrollment_form"),
                       ActionExecuted("action_listen"), UserUttered("张三"))
    assert policies.never_silent(_probabilities("action_listen"), tracker, DOMAIN) == _probabilities("action_listen")
