"""Programs run by a model (domains/programs/execute.py): the loaded model answers
each closed expression the executor asks, as `return E;`, batched, each distinct
question once (the model is deterministic). A run answers `output` (the value it
returns) and `trips` (the statements it executes: Domain.run_by). Torch-free:
the model answers through Loaded.predict, so the numpy runtime runs programs too."""

from __future__ import annotations

from typing import Callable

import lark

from . import budget
from .domains.base import Domain, Task
from .domains.programs.execute import Execution, Model, execute_many
from .domains.programs.syntax import STATEMENTS
from .grammar import Node, kind, postorder
from .inference import INFERENCE_TREES, Prediction, inference_tensors
from .trees import TreeTensors

Predict = Callable[[list[TreeTensors]], list[Prediction]]


def executes(config: dict) -> bool:
    """Whether a checkpoint's model answers programs by running them: one trained
    on closed expressions (the programs domain's `expressions` knob)."""
    training = config.get("training", {})
    return config.get("domain") == "programs" and bool(training.get("difficulty", {}).get("expressions"))


def closed_model(domain: Domain, task: Task, width: int | None, predict: Predict) -> Model:
    """A model (`predict` on tensorized trees, trained on a grid `width` wide) as the
    executor's: closed expressions in, (answer, confidence) out. Each round of
    questions checks the time budget (budget.py)."""
    cache: dict[str, tuple[str, float]] = {}

    def answer(texts: list[str]) -> list[tuple[str, float]]:
        budget.check()
        new = [t for t in dict.fromkeys(texts) if t not in cache]
        for i in range(0, len(new), INFERENCE_TREES):
            chunk = new[i : i + INFERENCE_TREES]
            trees = [domain.parse(f"return {t};") for t in chunk]
            predictions = predict(inference_tensors(domain, task, trees, width))
            cache.update((t, (p.answer, p.confidence)) for t, p in zip(chunk, predictions))
        return [cache[t] for t in texts]

    return answer


def run_predictions(domain: Domain, task: Task, width: int | None, predict: Predict, trees: list[Node]) -> list[Prediction]:
    """The programs run by the model, each as a Prediction of `task`: `output` (the
    model's own: the closed expressions') or `trips` (counted by the run). Its
    confidence is the least of its questions'; per node (in postorder) its answer
    (`output`: its last value; `trips`: a statement's runs, a loop's trips, the
    statements executed at the root) and its steps, the questions asked for it (a
    loop's: those of its condition, one a trip and one to stop; a `for`'s, its counting)."""
    closed = domain.task(domain.model_task(task.name))
    runs = execute_many(trees, closed_model(domain, closed, width, predict))
    return [_prediction(tree, run, task.name) for tree, run in zip(trees, runs)]


def _prediction(tree: Node, run: Execution, task: str) -> Prediction:
    order = postorder(tree)
    if task == "trips":
        answers = [str(run.counts.get(id(n), 0)) if kind(n) in STATEMENTS else "" for n in order]
        answers[-1] = str(run.executed)
    else:
        answers = ["" if run.values.get(id(n)) is None else str(run.values[id(n)]) for n in order]
        answers[-1] = run.answer
    steps = []
    for node in order:
        asked = run.asks.get(id(node), 0)
        if isinstance(node, lark.Tree) and node.data == "while":
            asked += run.asks.get(id(node.children[0]), 0)
        steps.append(asked)
    cycles = [min(1, s) for s in steps]
    return Prediction(
        answers[-1], run.confidence, sum(steps) / len(steps), node_answers=answers, node_steps=steps, node_cycles=cycles,
    )
