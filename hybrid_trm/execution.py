"""Inputs answered by a run (Domain.run) whose questions a model answers: programs
run by the executor, which works out every operator by hand and asks each digit
fact of it (domains/programs/execute.py), and english theories chained forward in rounds,
each round asking which literals now follow (domains/english/rounds.py). The
loaded model answers the questions, batched, each distinct question once (the
model is deterministic). Torch-free: the model answers through Loaded.predict,
so the numpy runtime runs them too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from . import budget
from .domains import registry
from .domains.base import Answerer, Domain, Task
from .inference import INFERENCE_TREES, Prediction, inference_tensors
from .trees import TreeTensors

if TYPE_CHECKING:
    from .loading import Loaded

Predict = Callable[[list[TreeTensors]], list[Prediction]]


def runs(config: dict, domain: Domain, task: str) -> bool:
    """Whether a checkpoint (its config) answers domain/task by runs whose questions
    its model answers: the task is run by another domain's model (Domain.run_by),
    or by a model of its own domain trained on the questions a run asks (programs:
    digit facts, the `expressions` knob)."""
    if domain.model_of(task) != (config.get("domain"), config.get("task")):
        return False
    return domain.name != config["domain"] or bool(config.get("training", {}).get("difficulty", {}).get("expressions"))


def executes(loaded: Loaded) -> bool:
    """Whether a loaded model answers its task by runs (`runs`)."""
    return runs(loaded.config, loaded.domain, loaded.task.name)


def question_task(domain: Domain, task: Task) -> tuple[Domain, Task]:
    """The domain and task of the questions a run of domain/task asks."""
    name, asked = domain.model_of(task.name)
    other = registry.get(name)
    return other, other.task(asked)


KEPT = 100_000  # most answers a loaded model keeps (Loaded.answered); past it, they start again


def closed_model(
    domain: Domain, task: Task, width: int | None, predict: Predict, cache: dict | None = None,
) -> Answerer:
    """A model (`predict` on tensorized trees of domain/task, trained on a grid
    `width` wide) as a run's: question texts in, (answer, confidence) out, each
    distinct question asked once: `cache` holds the answers (a loaded model's
    Loaded.answered, kept between inputs; None: this answerer's own). Each batch of
    questions checks the time budget (budget.py)."""
    cache = {} if cache is None else cache
    if len(cache) > KEPT:
        cache.clear()

    def answer(texts: list[str]) -> list[tuple[str, float]]:
        budget.check()
        new = [t for t in dict.fromkeys(texts) if t not in cache]
        for i in range(0, len(new), INFERENCE_TREES):
            chunk = new[i : i + INFERENCE_TREES]
            trees = [domain.question(t) for t in chunk]
            predictions = predict(inference_tensors(domain, task, trees, width))
            cache.update((t, (p.answer, p.confidence)) for t, p in zip(chunk, predictions))
        return [cache[t] for t in texts]

    return answer


def run_predictions(
    domain: Domain, task: Task, width: int | None, predict: Predict, trees: list, answered: dict | None = None,
) -> list[Prediction]:
    """Each tree's answer to domain/task from a run (Domain.run) whose questions
    `predict` answers, as a Prediction: its confidence the least of its answers',
    per node (in postorder) the run's answer and its steps (what the domain's run
    counts: questions asked for the node, or rounds). `answered`: the model's
    answers kept from earlier runs (Loaded.answered; closed_model)."""
    asked_domain, asked_task = question_task(domain, task)
    out = []
    for run in domain.run(trees, task.name, closed_model(asked_domain, asked_task, width, predict, answered)):
        steps = run.node_steps
        out.append(Prediction(
            run.answer, run.confidence, sum(steps) / max(1, len(steps)), node_answers=run.node_answers,
            node_steps=steps, node_cycles=[min(1, s) for s in steps],
        ))
    return out
