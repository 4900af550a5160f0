"""Rasa's graph runner without dask's per-run scheduling (issue #23).

A turn runs the model's graph about three times (the NLU parse, then one prediction per action).
Each time `DaskGraphRunner.run` works out again which nodes the targets need, builds a dask graph
and hands it to `dask.get`, whose synchronous scheduler orders the tasks and keeps its own
bookkeeping around every node: about 2 ms of CPU a turn (`scripts/profile_turn.py stages`,
"graph runner overhead"), although the schema and its nodes never change once the model is loaded.

Here the first run of each set of targets goes through `dask.get` as in Rasa, recording the order
in which dask called the nodes; later runs call the same nodes in that same order, each with the
outputs of the nodes it needs, which is what dask does. The order is kept because a node may rely
on an earlier one having run (`bot/rasa_server/policies.py`: TED looks up RulePolicy's decision
for the same tracker). Installed by `bot/rasa_server/patches.py`.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Text, Tuple

import dask
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

_rasa_run = DaskGraphRunner.run
_PLANS = "_zhinan_plans"  # per runner: targets -> (dask graph without inputs, node order or None)


class _Recorded:
    """A node's callable that notes, when dask calls it, that it ran."""

    def __init__(self, key: Text, call: Callable[..., Any], order: List[Text]) -> None:
        self.key, self.call, self.order = key, call, order

    def __call__(self, *args: Any) -> Any:
        self.order.append(self.key)
        return self.call(*args)


def _plan(runner: DaskGraphRunner, targets: List[Text]) -> List[Any]:
    plans: Dict[Tuple[Text, ...], List[Any]] = runner.__dict__.setdefault(_PLANS, {})
    key = tuple(targets)
    if key not in plans:
        graph = runner._build_dask_graph(runner._graph_schema.minimal_graph_schema(targets))
        plans[key] = [graph, None]
    return plans[key]


def _with_inputs(runner: DaskGraphRunner, graph: Dict[Text, Any], inputs: Optional[Dict[Text, Any]]) -> Dict[Text, Any]:
    run_graph = dict(graph)
    if inputs:
        runner._add_inputs_to_graph(inputs, run_graph)
    return run_graph


def _first_run(run_graph: Dict[Text, Any], targets: List[Text], plan: List[Any]) -> Dict[Text, Any]:
    """dask.get, as Rasa runs it, noting the order of the nodes."""
    order: List[Text] = []
    recorded = {
        key: (_Recorded(key, task[0], order), *task[1:]) if isinstance(task, tuple) and task and callable(task[0]) else task
        for key, task in run_graph.items()
    }
    result = dict(dask.get(recorded, targets))
    plan[1] = order
    return result


def _replay(run_graph: Dict[Text, Any], targets: List[Text], order: List[Text]) -> Dict[Text, Any]:
    """The nodes in dask's order; an argument naming a key gets that key's value, as in dask."""
    done: Dict[Text, Any] = {}

    def value(argument: Any) -> Any:
        if isinstance(argument, str):
            if argument in done:
                return done[argument]
            if argument in run_graph:  # an input: dask passes its (name, value) tuple as it is
                return run_graph[argument]
        return argument

    for key in order:
        call, *arguments = run_graph[key]
        done[key] = call(*(value(argument) for argument in arguments))
    return dict(done[target] for target in targets)


def _run(
    self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
) -> Dict[Text, Any]:
    """`DaskGraphRunner.run`: the first run of these targets through dask, later ones replayed."""
    run_targets = targets if targets else self._graph_schema.target_names
    plan = _plan(self, run_targets)
    run_graph = _with_inputs(self, plan[0], inputs)
    try:
        if plan[1] is None:
            return _first_run(run_graph, run_targets, plan)
        return _replay(run_graph, run_targets, plan[1])
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def install() -> None:
    DaskGraphRunner.run = _run


def uninstall() -> None:
    """Rasa's own run again (the profile's before/after)."""
    DaskGraphRunner.run = _rasa_run
