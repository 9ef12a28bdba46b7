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
- flow_rounds.py, call_rounds.py: `dead`, `unset` and `recursive` answered by
  rounds over the program's flow and call graph, run by a model;
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
from ..base import Answerer, Domain, Example, Run, Verdict
from .call_rounds import recursive_many
from .closed import closed_digits
from .flow_rounds import dead_many, unset_many
from .execute import execute_many, facts_asked, run_of
from .generator import ProgramsDifficulty, program, resolve
from .labels import answer, answer_from_labels, node_labels
from .run import MAX_STATEMENTS
from .schoolbook import facts
from .syntax import LOOPS, STATEMENTS, check
from .tasks import DIGITS, WORDS, CountTask, NameSetTask, OutputTask

__all__ = ["ProgramsDifficulty", "ProgramsDomain"]


class ProgramsDomain(Domain):
    name = "programs"
    grammar = "programs"
    tasks = {
        "output": OutputTask(
            "output", DIGITS + WORDS, "what the program returns (12 digits), or error, or timeout", digits=12,
            carry_down=True,
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

    def question(self, text: str) -> Node:
        """A fact the executor asks (a closed expression: `((7 + 8) + 1)`) as the
        tree its model reads: the expression as it stands in the program `return
        F;` that the model trains on, without the `return` and the program above
        it. A node's answer is a function of its subtree alone and the grid's
        width (closed_digits, the same for both), so it is the answer the program's
        root would copy, two levels sooner."""
        return self.parse(f"return {text};").children[0].children[0]

    def generate(self, rng: random.Random, difficulty: ProgramsDifficulty, task: str) -> Example:
        text = program(rng, resolve(difficulty, task))
        tree = self.parse(text)
        if difficulty.expressions:
            return self._fact(rng, difficulty, task, tree)
        statements = [n for n in postorder(tree) if kind(n) in STATEMENTS]
        meta = {
            "depth": measure(tree)[1], "statements": len(statements), "nesting": _nesting(tree),
            "functions": sum(kind(n) == "funcdef" for n in children(tree)),
        }
        return Example(text, answer(tree, task), task, meta)

    def _fact(self, rng: random.Random, difficulty: ProgramsDifficulty, task: str, tree: Node) -> Example:
        """One digit fact the executor's run of `tree` asks (execute.facts_asked),
        drawn evenly among the distinct ones, as `return F;` (a program that asks
        none: the next program drawn); at the `redraw` share, any fact the
        arithmetic asks (schoolbook.facts), drawn evenly."""
        asked = [rng.choice(facts())] if rng.random() < difficulty.redraw else facts_asked(tree)
        for _ in range(100):
            if asked:
                text = f"return {rng.choice(asked)};\n"
                closed = self.parse(text)
                meta = {"depth": measure(closed)[1], "statements": 1, "nesting": 0, "functions": 0}
                return Example(text, answer(closed, task), task, meta)
            tree = self.parse(program(rng, resolve(difficulty, task)))
            asked = facts_asked(tree)
        raise HybridTRMError("programs: 100 programs in a row asked no fact; check the knobs")

    # trips: the executor counts what it runs (execute.py); dead, unset, recursive:
    # rounds over the program's flow (flow_rounds.py) or call graph (call_rounds.py)
    # whose formulas the logic model evaluates.
    run_by = {"trips": "output", "dead": "logic/verdict", "unset": "logic/verdict", "recursive": "logic/verdict"}

    def run(self, trees: list[Node], task: str, ask: Answerer) -> list[Run]:
        """output, trips: each program run by the executor (execute.py), in lockstep,
        the model asked each digit fact (read as `question` reads it); dead, unset: rounds
        over each program's flow (flow_rounds.py); recursive: rounds on its call
        graph (call_rounds.py)."""
        rounds = {"dead": dead_many, "unset": unset_many, "recursive": recursive_many}
        if task in rounds:
            return rounds[task](trees, ask)
        if task not in ("output", "trips"):
            return super().run(trees, task, ask)
        runs = execute_many(trees, ask)
        return [run_of(tree, execution, task) for tree, execution in zip(trees, runs)]

    def walked_kinds(self, difficulty: ProgramsDifficulty) -> frozenset[str]:
        """A model trained on digit facts runs programs through the executor, which
        walks every node itself and asks the model only facts (execute.py)."""
        return frozenset(self.node_kinds) if difficulty.expressions else frozenset()

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        self.task(task)
        return node_labels(tree, task)

    def answer_from_labels(self, tree: Node, task: str, labels: list[str | None]) -> str:
        """The program's answer from per-node labels in postorder (a model's): for
        `unset` and `recursive` the names whose nodes say so, else the root's."""
        return answer_from_labels(tree, task, labels)

    difficulty_measure = {
        "trips": "the trips of a loop (times its body ran)", "output": "the trips of a loop (times its body ran)",
    }

    def node_difficulty(self, tree: Node, task: str, positions: int) -> list[int | None]:
        """trips, output: a loop's trips (the count its `trips` node answers); None elsewhere."""
        if task not in ("trips", "output"):
            return super().node_difficulty(tree, task, positions)
        labels = node_labels(tree, "trips")
        return [
            int(label) if label is not None and kind(n) in LOOPS else None for n, label in zip(postorder(tree), labels)
        ]

    def answer_digits(self, tree: Node, task: str) -> int | None:
        """trips: at most 10,000 statements; dead: at most every statement.
        output: a bound for a closed program (no names, no calls: what the executor
        asks); unknown before the run for others (None: the full grid)."""
        if task == "trips":
            return len(str(MAX_STATEMENTS))
        if task == "dead":
            return len(str(sum(kind(n) in STATEMENTS for n in postorder(tree))))
        if task == "output":
            return closed_digits(tree)
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
