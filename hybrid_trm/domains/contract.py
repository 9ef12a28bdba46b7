"""What every domain promises, checked on its own generated examples: the text
parses, the labeller gives one label per node (or None) and a labelled root's is
the answer, the labels fit the task, the node kinds are declared, the verifier
accepts the answer and rejects a wrong one, and generation is a pure function of
(seed, index).

The built-ins' tests run these checks, and `hybrid-trm domain check` runs them on
a user's domain, saying for each what failed and on which input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..errors import HybridTRMError
from ..grammar import kind, postorder
from .base import Domain, Example


LABELS = "one label per node, None where unlabelled; a labelled root's is the answer"


@dataclass
class Check:
    name: str  # what is promised
    failure: str | None = None  # the first example that breaks it (None: it holds)

    @property
    def passed(self) -> bool:
        return self.failure is None


def wrong_answer(domain: Domain, task: str, answer: str) -> str | None:
    """An answer the verifier must reject (None: the task has only one answer):
    the task's own `wrong_answer` (Task: the next answer, or an integer plus one)."""
    return domain.task(task).wrong_answer(answer)


def check(domain: Domain, task: str, knobs: dict[str, Any] | None = None, n: int = 200, seed: int = 11) -> list[Check]:
    """Run every check on n examples of `task` at difficulty `knobs` (default: the domain's)."""
    difficulty = domain.difficulty(**(knobs or {}))
    checks = {name: Check(name) for name in (
        "generates examples of the task", "generated text parses", LABELS,
        "every label is an answer of the task", "every node kind is declared in node_kinds",
        "the verifier accepts the answer", "the verifier rejects a wrong answer",
        "generation is a pure function of (seed, index)",
    )}

    def fail(name: str, example: Example | None, message: str) -> None:
        if checks[name].failure is None:
            checks[name].failure = f"{message}" + (f" (input {example.input!r})" if example is not None else "")

    examples = []
    for i in range(n):
        try:
            example = domain.example(seed, i, difficulty, task)
        except Exception as err:  # the user's generator
            fail("generates examples of the task", None, f"example {i}: {type(err).__name__}: {err}")
            continue
        if not isinstance(example, Example) or example.task != task:
            fail("generates examples of the task", None, f"example {i} is {example!r}, not an Example of task {task}")
            continue
        examples.append(example)
        _check_example(domain, task, example, fail)
    _check_determinism(domain, task, difficulty, seed, examples, fail)
    return list(checks.values())


def _check_example(domain: Domain, task: str, example: Example, fail: Callable) -> None:
    try:
        tree = domain.parse(example.input)
    except HybridTRMError as err:
        fail("generated text parses", example, str(err).splitlines()[0])
        return
    nodes = postorder(tree)
    undeclared = sorted({kind(node) for node in nodes} - set(domain.node_kinds))
    if undeclared:
        fail("every node kind is declared in node_kinds", example, f"kinds {', '.join(undeclared)} are not in node_kinds")
    try:
        labels = domain.label_subtrees(tree, task)
    except Exception as err:  # the user's labeller
        fail(LABELS, example, f"label_subtrees: {type(err).__name__}: {err}")
        return
    if len(labels) != len(nodes) or labels[-1] not in (None, example.answer):
        fail(LABELS, example,
             f"{len(labels)} labels for {len(nodes)} nodes, root label {labels[-1] if labels else None!r}, answer {example.answer!r}")
    for label in labels:
        if label is not None:
            try:
                domain.task(task).encode(label)
            except HybridTRMError as err:
                fail("every label is an answer of the task", example, str(err))
                break
    for name, answer, want in (
        ("the verifier accepts the answer", example.answer, True),
        ("the verifier rejects a wrong answer", wrong_answer(domain, task, example.answer), False),
    ):
        if answer is None:
            continue
        try:
            verdict = domain.verify(example.input, answer, task)
        except Exception as err:  # the user's verifier
            fail(name, example, f"verify: {type(err).__name__}: {err}")
            continue
        if verdict.correct is not want:
            fail(name, example, f"verdict {verdict.correct} on answer {answer!r}: {verdict.evidence}")


def _check_determinism(domain: Domain, task: str, difficulty, seed: int, examples: list[Example], fail: Callable) -> None:
    name = "generation is a pure function of (seed, index)"
    first = [e.to_json() for e in examples[:30]]
    if not first:
        return
    again = [domain.example(seed, i, difficulty, task).to_json() for i in reversed(range(len(first)))][::-1]
    if first != again:
        index = next(i for i, (a, b) in enumerate(zip(first, again)) if a != b)
        fail(name, examples[index], f"example {index} differs when made again")
    other = [domain.example(seed + 1, i, difficulty, task).to_json() for i in range(len(first))]
    if len(first) > 1 and first == other:
        fail(name, None, f"seeds {seed} and {seed + 1} give the same examples: the generator ignores its rng")
    if len(first) >= 30 and len({e["input"] for e in first}) <= len(first) // 2:
        fail(name, None, f"{len(first)} examples hold only {len({e['input'] for e in first})} inputs: a stream, not one repeated")
