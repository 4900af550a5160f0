"""bot.rasa_server.graph_runner: a run gives what Rasa's run gives, calling the same nodes in the
same order, and the graph of each set of targets is built once."""
from __future__ import annotations

from typing import Any, Dict, List, Text

import pytest
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from bot.rasa_server import graph_runner


class Step(GraphComponent):
    """Appends its name to what its parents gave (a diamond: both branches reach the end)."""

    calls: List[str] = []
    failing = ""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "Step":
        return cls(resource.name)

    def run(self, **parents: Any) -> List[str]:
        Step.calls.append(self.name)
        if self.name == Step.failing:
            raise ValueError("broken")
        merged: List[str] = []
        for key in sorted(parents):
            merged += parents[key] if isinstance(parents[key], list) else [str(parents[key])]
        return merged + [self.name]


def _node(needs: Dict[str, str]) -> SchemaNode:
    return SchemaNode(needs=needs, uses=Step, constructor_name="create", fn="run", config={}, eager=True)


SCHEMA = GraphSchema({
    "start": _node({"given": "__input__"}),
    "left": _node({"x": "start"}),
    "right": _node({"x": "start"}),
    "end": _node({"a": "left", "b": "right"}),
    "other": _node({"x": "start"}),
})


@pytest.fixture
def runner(tmp_path) -> DaskGraphRunner:
    storage = LocalModelStorage(tmp_path)
    return DaskGraphRunner(SCHEMA, storage, ExecutionContext(SCHEMA, "model"))


@pytest.mark.parametrize("targets", [["end"], ["other"], ["end", "other"], ["left"]])
def test_every_run_gives_what_rasas_run_gives_in_the_same_order(runner, targets):
    for text in ("hello", "again", "and again"):  # the first run records dask's order, the others replay it
        inputs = {"__input__": text}
        Step.calls = []
        expected = graph_runner._rasa_run(runner, inputs=inputs, targets=targets)
        rasa_calls, Step.calls = Step.calls, []
        assert graph_runner._run(runner, inputs=inputs, targets=targets) == expected
        assert Step.calls == rasa_calls


def test_a_failing_node_fails_the_run_as_in_rasa(runner, monkeypatch):
    graph_runner._run(runner, {"__input__": "x"}, ["end"])
    monkeypatch.setattr(Step, "failing", "right")
    errors = []
    for run in (graph_runner._rasa_run, graph_runner._run):
        with pytest.raises(Exception) as raised:
            run(runner, {"__input__": "x"}, ["end"])
        errors.append(type(raised.value))
    assert errors[0] is errors[1]


def test_the_graph_of_a_set_of_targets_is_built_once(runner, monkeypatch):
    built = []
    minimal = SCHEMA.minimal_graph_schema
    monkeypatch.setattr(SCHEMA, "minimal_graph_schema", lambda targets: built.append(targets) or minimal(targets))
    for text in ("a", "b", "c"):
        assert graph_runner._run(runner, {"__input__": text}, ["end"])["end"][-1] == "end"
        assert graph_runner._run(runner, {"__input__": text}, ["other"])["other"][0] == text
    assert built == [["end"], ["other"]]


def test_install_and_uninstall():
    graph_runner.install()
    assert DaskGraphRunner.run is graph_runner._run
    graph_runner.uninstall()
    assert DaskGraphRunner.run is graph_runner._rasa_run
    graph_runner.install()
