"""One input, end to end: parse, tensorize, run the reasoner, verify. Timed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import lark

from .domains.base import Verdict, WorldTask
from .errors import HybridTRMError
from .evaluate import Loaded, add_time, inference_tensors, predict_trees, trained_width
from .grammar import Node, children, kind, postorder


@dataclass
class Solution:
    domain: str
    task: str
    answer: str
    confidence: float
    verified: bool | None
    expected: str | None
    evidence: str
    nodes: int
    # Where the model's grid of worlds shows its answer ('' if nowhere; None: the
    # task has no worlds, and --json leaves the key out).
    witness: str | None
    steps_mean: float  # inner steps per node (latent updates, all outer cycles)
    ms: float  # parse + model + verify, after the model is loaded
    tree: Node | None = None
    node_answers: list[str] = field(default_factory=list)
    node_steps: list[int] = field(default_factory=list)
    node_cycles: list[int] = field(default_factory=list)
    node_expected: list[str | None] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "domain": self.domain, "task": self.task, "answer": self.answer,
            "confidence": round(self.confidence, 6), "verified": self.verified,
            "expected": self.expected, "evidence": self.evidence, "nodes": self.nodes,
            "steps_mean": round(self.steps_mean, 3), "ms": round(self.ms, 3),
            **({} if self.witness is None else {"witness": self.witness}),
        }

    def trace_lines(self) -> list[str]:
        """The tree, one node a line, indented by depth, with predicted (and true)
        answers, and the latent updates (steps) and answer updates (cycles) each ran."""
        if self.tree is None:
            return []
        order = postorder(self.tree)
        index = {id(n): i for i, n in enumerate(order)}
        lines = []
        stack = [(self.tree, 0)]
        while stack:
            node, depth = stack.pop()
            i = index[id(node)]
            label = f"{kind(node)} {node}" if isinstance(node, lark.Token) else kind(node)
            note = ""
            if self.node_expected:
                truth = self.node_expected[i]
                note = "" if truth is None or truth == self.node_answers[i] else f"   (expected {truth})"
            lines.append(f"{'  ' * min(depth, 40)}{label} → {self.node_answers[i]}  [{self.node_steps[i]} steps, {self.node_cycles[i]} cycles]{note}")
            for child in reversed(children(node)):
                stack.append((child, depth + 1))
        return lines


def solve_text(
    loaded: Loaded, text: str, verify: bool = True, trace: bool = False, worlds: int | None = None,
    timings: dict[str, float] | None = None,
) -> Solution:
    """`timings`: seconds per stage (parse, tensorize, model, answers, verify) are added to it."""
    start = stage = time.perf_counter()
    domain, task, model = loaded.domain, loaded.task, loaded.model
    tree = domain.parse(text)
    loaded.check_kinds(tree)
    stage = add_time(timings, "parse", stage)
    tensors = inference_tensors(domain, task, [tree], trained_width(loaded.config), worlds)[0]
    add_time(timings, "tensorize", stage)
    prediction = predict_trees(model, task, [tensors], node_answers=trace, timings=timings)[0]
    stage = time.perf_counter()
    witness = domain.witness(tree, task.name, prediction.cells, worlds or task.positions) if isinstance(task, WorldTask) else None
    stage = add_time(timings, "answers", stage)
    verdict = domain.verify(text, prediction.answer, task.name) if verify else Verdict(None, None, "")
    add_time(timings, "verify", stage)
    ms = (time.perf_counter() - start) * 1000
    expected_nodes = domain.label_subtrees(tree, task.name) if trace else []
    return Solution(
        domain=domain.name, task=task.name, answer=prediction.answer, confidence=prediction.confidence,
        verified=verdict.correct, expected=verdict.expected, evidence=verdict.evidence,
        nodes=tensors.nodes, witness=witness, steps_mean=prediction.steps_mean, ms=ms,
        tree=tree if trace else None, node_answers=prediction.node_answers, node_steps=prediction.node_steps,
        node_cycles=prediction.node_cycles, node_expected=expected_nodes,
    )


def warm_up(loaded: Loaded) -> None:
    """Solve one small generated input, so that the first real answer is not charged
    with the libraries' start-up (torch's first forward, sympy's caches)."""
    difficulty = loaded.domain.difficulty()
    for index in range(100):
        text = loaded.domain.example(0, index, difficulty, loaded.task.name).input
        try:
            loaded.check_kinds(loaded.domain.parse(text))
        except HybridTRMError:
            continue  # e.g. a `*` for a model trained on + and -
        solve_text(loaded, text)
        return
