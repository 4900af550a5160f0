"""bot/rasa_server/model_loading.py: DIET and TED loaded without a training step predict as Rasa's
own load does — same weights, same parses, same next actions — on the trained model."""
from __future__ import annotations

import asyncio
import logging
from typing import Dict, List, Tuple

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

import bot.rasa_server.components  # noqa: F401  (installs the load, as loading the model does)
import bot.rasa_server.policies  # noqa: F401
from bot.rasa_server import model_loading
from bot.stack import latest_model
from tests.helpers.predicted_actions import Prediction, predicted_actions

# Loads the trained model into TensorFlow here: not under libfaketime (TensorFlow hangs there, bot/clock.py).
pytestmark = pytest.mark.tensorflow

# Users' words, none from the training data: greetings, places, times, the camp, nonsense.
TEXTS = [
    "您好呀", "历城那边有没有就业驿站", "下周三上午能去面试辅导不", "我今年23，大专毕业一年了能报实训营吗",
    "简历写不好咋整", "转人工", "嗯嗯", "123", "青岛黄岛区招聘会啥时候", "不想聊了拜拜",
]
TURNS = ["你好啊", "我想找个地方改改简历", "济南市中区的", "谢了"]


def _load(stock: bool) -> Agent:
    logging.getLogger("rasa").setLevel(logging.WARNING)
    installed = RasaModel.__dict__["load"]  # the classmethod itself, not a method bound to RasaModel
    if stock:
        RasaModel.load = classmethod(model_loading._rasa_load)
    try:
        return Agent.load(str(latest_model()))
    finally:
        RasaModel.load = installed


@pytest.fixture(scope="module")
def agents() -> Tuple[Agent, Agent]:
    assert RasaModel.load.__func__ is model_loading.load_for_prediction
    return _load(stock=True), _load(stock=False)


def _tf_models(agent: Agent) -> Dict[str, RasaModel]:
    nodes = agent.processor.graph_runner._instantiated_nodes  # type: ignore[union-attr]
    found = {name: getattr(node._component, "model", None) for name, node in nodes.items()}
    return {name: model for name, model in found.items() if isinstance(model, RasaModel)}


def test_diet_and_ted_hold_the_same_weights(agents):
    stock, ours = (_tf_models(agent) for agent in agents)
    assert {name.split("_")[1][:4] for name in stock} >= {"DIET", "bot."}  # DIET and our TED
    assert stock.keys() == ours.keys()
    for name, model in stock.items():
        # Ours holds only what prediction uses; each of those equals Rasa's.
        theirs = {v.name: v.numpy() for v in model.variables}
        mine = {v.name: v.numpy() for v in ours[name].variables}
        assert mine and set(mine) <= set(theirs), name
        for variable, value in mine.items():
            np.testing.assert_array_equal(value, theirs[variable], err_msg=f"{name} {variable}")


def _parse(agent: Agent, text: str) -> Tuple:
    parsed = asyncio.run(agent.parse_message(text))
    ranking = tuple((i["name"], round(i["confidence"], 6)) for i in parsed["intent_ranking"])
    entities = tuple((e["entity"], e["start"], e["end"], str(e.get("value"))) for e in parsed["entities"])
    return ranking, entities


def test_the_same_parses(agents):
    stock, ours = agents
    for text in TEXTS:
        assert _parse(ours, text) == _parse(stock, text), text


def _next_actions(agent: Agent) -> List[Prediction]:
    return predicted_actions(agent, TURNS, "load-test")


def test_the_same_next_actions(agents):
    stock, ours = agents
    assert _next_actions(ours) == _next_actions(stock)
