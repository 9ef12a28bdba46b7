"""Programs: a small imperative language (grammars/programs.lark) and five
questions about each program (docs/programs.md): `output` (what it returns, or
`error` / `timeout`), `trips` (statements executed; each loop's trips), `dead`
(statements that can never run), `unset` (variables that may be read before they
are set) and `recursive` (functions on a cycle of calls).

The package, imports flowing one way:
- syntax.py: statements, reads, the defs, and the checks that refuse an
  ill-formed program when parsed;
- trampoline.py: walks written as generators, run without Python's stack;
- run.py: the labeller's executor (values and counts of every node);
- flow.py: dead statements and unset reads, over the tree's structure;
- calls.py: the call graph's cycles;
- labels.py: every node's label per task, and the answers;
- tasks.py: how each task's answers are written and encoded;
- generator.py: seeded programs (ProgramsDifficulty).
The verifier (verifiers/programs/) answers the same questions with its own
interpreter and networkx graphs; tests/test_programs.py compares the two.
"""

from __future__ import annotations

import random

from ...errors import HybridTRMError, VerifierTimeout
from ...grammar import Node, children, kind, measure, parse, postorder
from ..base import Domain, Example, Verdict
from .generator import ProgramsDifficulty, program, resolve
from .labels import answer, answer_from_labels, node_labels
from .run import MAX_STATEMENTS
from .syntax import LOOPS, STATEMENTS, check
from .tasks import DIGITS, WORDS, CountTask, NameSetTask, OutputTask

__all__ = ["ProgramsDifficulty", "ProgramsDomain"]


class ProgramsDomain(Domain):
    name = "programs"
    grammar = "programs"
    tasks = {
        "output": OutputTask(
            "output", DIGITS + WORDS, "what the program returns (12 digits), or error, or timeout", digits=12
        ),
        "trips": CountTask(
            "trips", DIGITS, "statements executed, at most 10,000 (each loop: how often its body ran)", digits=5
        ),
        "dead": CountTask("dead", DIGITS, "statements that can never run (each statement: 1 dead, 0 live)", digits=5),
        "unset": NameSetTask(
            "unset", ("ok", "unset"), "variables that may be read before set, sorted, or none (each read: ok / unset)"
        ),
        "recursive": NameSetTask(
            "recursive", ("no", "yes"), "functions that can call themselves, sorted, or none (each def and call: yes / no)"
        ),
    }
    Difficulty = ProgramsDifficulty
    curriculum_start = {"statements": 3, "depth": 1, "loop_bound": 2, "functions": 0}
    node_kinds = (
        "program", "funcdef", "params", "block", "assign", "if", "if_else", "while", "for", "break", "continue",
        "return", "or", "and", "not", "lt", "le", "gt", "ge", "eq", "ne", "add", "sub", "mul", "div", "mod", "neg",
        "call", "args", "NAME", "INT",
    )

    def parse(self, text: str) -> Node:
        tree = parse(self.grammar, text, domain=self.name)
        check(tree)
        return tree

    def generate(self, rng: random.Random, difficulty: ProgramsDifficulty, task: str) -> Example:
        text = program(rng, resolve(difficulty, task))
        tree = self.parse(text)
        statements = [n for n in postorder(tree) if kind(n) in STATEMENTS]
        meta = {
            "depth": measure(tree)[1], "statements": len(statements), "nesting": _nesting(tree),
            "functions": sum(kind(n) == "funcdef" for n in children(tree)),
        }
        return Example(text, answer(tree, task), task, meta)

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        self.task(task)
        return node_labels(tree, task)

    def answer_from_labels(self, tree: Node, task: str, labels: list[str | None]) -> str:
        """The program's answer from per-node labels in postorder (a model's): for
        `unset` and `recursive` the names whose nodes say so, else the root's."""
        return answer_from_labels(tree, task, labels)

    difficulty_measure = {"trips": "the trips of a loop (times its body ran)"}

    def node_difficulty(self, tree: Node, task: str, positions: int) -> list[int | None]:
        """trips: a loop's trips, the count its node answers; None elsewhere."""
        if task != "trips":
            return super().node_difficulty(tree, task, positions)
        labels = node_labels(tree, task)
        return [
            int(label) if label is not None and kind(n) in LOOPS else None for n, label in zip(postorder(tree), labels)
        ]

    def answer_digits(self, tree: Node, task: str) -> int | None:
        """trips: at most 10,000 statements; dead: at most every statement.
        output: unknown before the run (None: the full grid)."""
        if task == "trips":
            return len(str(MAX_STATEMENTS))
        if task == "dead":
            return len(str(sum(kind(n) in STATEMENTS for n in postorder(tree))))
        return None

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        from ...verifiers.programs import expected

        spec = self.task(task)
        tree = self.parse(text) if tree is None else tree
        try:
            want, evidence = expected(tree, task, budget_s)
        except VerifierTimeout as err:
            return Verdict(None, None, str(err))
        try:
            given = spec.canonical(answer)
        except HybridTRMError as err:
            return Verdict(False, want, f"{err}; {evidence}")
        return Verdict(given == spec.canonical(want), want, evidence)


def _nesting(tree: Node) -> int:
    """The most blocks nested inside one another, a def's own body not counted."""
    deepest = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in children(node):
            inner = depth + (kind(child) == "block" and kind(node) != "funcdef")
            stack.append((child, inner))
    return deepest
