"""The Python API: a shipped model by name, or a checkpoint, ready to answer.

    import hybrid_trm

    r = hybrid_trm.load("logic/verdict")        # "domain/task", a domain alone, or a checkpoint path
    s = r.solve("forall x. P(x) -> exists y. P(y)")
    s.answer, s.confidence, s.verified, s.evidence
    r.solve_many(["a | ~a", "a & ~a"])          # one batch: the same answers as one at a time
    r.evaluate(hybrid_trm.generate("logic", 100, task="verdict")).accuracy
    hybrid_trm.solve("[MAX 2 9 [MIN 4 7 ] 0 ]")  # the domain and task found as `hybrid-trm solve` finds them

`import hybrid_trm` imports no torch; loading a model does, unless it runs on
the numpy runtime (`runtime="numpy"`, or torch is not installed: hybrid_trm/runtime).
Every error a user can cause is a `HybridTRMError` with one clear line
(`ParseError` carries the line and column).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from typing import TYPE_CHECKING

from . import budget
from .domains import registry
from .domains.base import Domain, Example, Task
from .errors import HybridTRMError

if TYPE_CHECKING:  # imported where used: the torch runtime loads torch with its first model
    from .loading import Loaded, Recursion
    from .solver import Solution

__all__ = ["Reasoner", "Recursion", "Solution", "domain", "domain_names", "generate", "load", "solve"]


def __getattr__(name: str):
    if name in ("Recursion", "Solution"):
        from . import loading, solver

        return {"Recursion": loading.Recursion, "Solution": solver.Solution}[name]
    raise AttributeError(f"module 'hybrid_trm.api' has no attribute {name!r}")


@dataclass
class Reasoner:
    """A loaded model with its domain and task: answers inputs one at a time or
    in a batch, and scores examples."""

    loaded: Loaded

    @property
    def domain(self) -> Domain:
        return self.loaded.domain

    @property
    def task(self) -> Task:
        return self.loaded.task

    @property
    def config(self) -> dict:
        """The checkpoint's JSON: its model's shape, vocabulary and training recipe."""
        return self.loaded.config

    def solve(
        self, text: str, *, verify: bool = True, trace: bool = False, worlds: int | None = None,
        timeout: float | None = budget.DEFAULT_SECONDS,
    ) -> Solution:
        """One input: the model's answer, how sure it is, and (verify) the symbolic
        verifier's verdict; within `timeout` seconds (None: no limit)."""
        from .solver import solve_text

        with budget.limit(timeout, "solve"):
            return solve_text(self.loaded, text, verify=verify, trace=trace, worlds=worlds)

    def solve_many(
        self, texts: Iterable[str], *, verify: bool = True, trace: bool = False, worlds: int | None = None,
        timeout: float | None = budget.DEFAULT_SECONDS,
    ) -> list[Solution]:
        """Many inputs, the model run once over all of them: the same answers as
        `solve` one at a time. `timeout` is per input (parse and verify each; the
        batch's model run gets the inputs' budgets together). An input that cannot
        be answered raises HybridTRMError naming its index; `evaluate` scores a
        file and lists such inputs instead."""
        from .execution import executes, run_predictions
        from .loading import trained_width
        from .solver import finished, prepared

        texts = list(texts)
        start = time.perf_counter()
        ready = []
        for index, text in enumerate(texts):
            with budget.limit(timeout, f"input {index}"):
                ready.append(_named(index, prepared, self.loaded, text, None, worlds))
        if not ready:
            return []
        with budget.limit(None if timeout is None else timeout * len(texts), f"the model on {len(texts)} inputs"):
            if executes(self.loaded):  # runs in lockstep (programs, english theories)
                width = trained_width(self.config)
                trees = [tree for tree, _ in ready]
                predictions = run_predictions(self.domain, self.task, width, self.loaded.predict, trees, self.loaded.answered)
            else:
                predictions = self.loaded.predict([t for _, t in ready], node_answers=trace)
        shared = (time.perf_counter() - start) / len(texts)  # each input's share of the work so far
        out = []
        for index, (text, (tree, tensors), prediction) in enumerate(zip(texts, ready, predictions)):
            with budget.limit(timeout, f"input {index}"):
                began = time.perf_counter() - shared
                out.append(_named(index, finished, self.loaded, text, tree, tensors, prediction, began, verify, trace, worlds))
        return out

    def evaluate(self, examples: Iterable[Example | dict[str, Any]], *, worlds: int | None = None, jobs: int = 1):
        """Accuracy on examples (Example objects, or dicts with `input` and `answer`
        as in a JSONL file): the report `hybrid-trm eval --json` prints
        (evaluate.Report: accuracy, n, by depth, steps, errors by example index)."""
        from .evaluate import evaluate_examples
        from .execution import executes
        from .loading import trained_width

        rows = [e if isinstance(e, Example) else _example(e, self.task.name, i) for i, e in enumerate(examples)]
        return evaluate_examples(
            self.loaded.model, self.domain, self.task, rows, width=trained_width(self.config), worlds=worlds, jobs=jobs,
            execute=executes(self.loaded),
        )


def load(
    name: str | Path, *, recursion: Recursion | None = None, runtime: str | None = None, device: str | None = None,
) -> Reasoner:
    """A model ready to answer: a shipped one as "domain/task" ("logic/verdict"), a
    domain alone for its first task ("listops"), or a checkpoint's path (with or
    without its .safetensors / .json suffix) or an exported folder. `recursion`
    runs it deeper or shallower than it trained (see Recursion). `runtime`: "torch"
    or "numpy" (hybrid_trm/runtime: no torch); None: numpy for an exported folder
    or where torch does not import, torch otherwise. `device`: where the torch
    runtime runs it, "cpu" (the default), "cuda", "cuda:N", "mps" or "auto" (CUDA,
    else MPS, else the CPU); one this machine lacks is a HybridTRMError."""
    from . import checkpoints, pretrained
    from .runtime.loading import checked_runtime
    from .solver import cached_load

    runtime = checked_runtime(runtime, name)
    text = str(name)
    domain_name, _, task_name = text.partition("/")
    if not checkpoints.exists(Path(text)) and domain_name in registry.names() and "/" not in task_name:
        task = registry.get(domain_name).task(task_name or None).name
        path = pretrained.require(domain_name, task)
        return Reasoner(cached_load(str(path), domain_name, task, recursion, runtime, device))
    return Reasoner(cached_load(text, None, None, recursion, runtime, device))


def solve(
    text: str, domain: str | None = None, task: str | None = None, checkpoint: str | Path | None = None, **options: Any,
) -> Solution:
    """One input, answered as `hybrid-trm solve` answers it: the domain whose grammar
    accepts it (unless given), the first task whose shipped model knows every node
    of it (unless given), or `checkpoint`'s model; `options` are solver.solve's
    (timeout, verify, trace, worlds, recursion, runtime, device)."""
    from .solver import solve as solve_input

    return solve_input(text, domain, task, checkpoint, **options)


def domain_names() -> list[str]:
    """The names of every registered domain (built-in and plugins)."""
    return registry.names()


def domain(name: str) -> Domain:
    """A registered domain by name: its grammar, tasks, generator and verifier."""
    return registry.get(name)


def generate(name: str, n: int, *, task: str | None = None, seed: int = 0, **knobs: Any) -> list[Example]:
    """n examples of a domain's task (default: its first), seeded, at the difficulty
    the knobs set (the same as `hybrid-trm generate NAME -n N --seed S --knob k=v`)."""
    dom = registry.get(name)
    difficulty = dom.difficulty(**knobs)
    return [dom.example(seed, index, difficulty, task) for index in range(n)]


def _named(index: int, step, *args):
    """Run one input's step; its error (of whatever kind: a ParseError keeps its
    line and column) names the input."""
    try:
        return step(*args)
    except HybridTRMError as err:
        err.args = (f"input {index}: {err}",)
        raise


def _example(row: dict[str, Any], task: str, index: int) -> Example:
    if not isinstance(row, dict) or not isinstance(row.get("input"), str) or not isinstance(row.get("answer"), str):
        raise HybridTRMError(f"example {index}: an example is an Example or a dict with string `input` and `answer`")
    return Example(row["input"], row["answer"], row.get("task", task))
