"""A conversation played through a loaded Rasa agent without an action server: each user turn is
parsed, then the bot's predicted actions are fed back as executed until it listens. Shared by the
tests that compare two ways of running the same model (tests/bot/rasa_server/)."""
from __future__ import annotations

import asyncio
from typing import List, Sequence, Tuple

from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

# (action, policy, confidence rounded to 6 decimals) for every prediction of the conversation
Prediction = Tuple[str, str, float]
MAX_ACTIONS_PER_TURN = 4


def predicted_actions(agent: Agent, turns: Sequence[str], sender: str = "predicted-actions") -> List[Prediction]:
    processor = agent.processor
    tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen")], processor.domain.slots)
    chosen: List[Prediction] = []
    for text in turns:
        parsed = asyncio.run(agent.parse_message(text))
        tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parse_data=parsed))
        for _ in range(MAX_ACTIONS_PER_TURN):
            prediction = processor._predict_next_with_tracker(tracker)
            action = processor.domain.action_names_or_texts[prediction.max_confidence_index]
            chosen.append((action, prediction.policy_name, round(prediction.max_confidence, 6)))
            tracker.update(ActionExecuted(action))
            if action == "action_listen":
                break
    return chosen
