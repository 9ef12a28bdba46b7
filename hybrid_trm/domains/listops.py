"""ListOps (Nangia & Bowman 2018): nested lists of MAX, MIN, MED (median, rounded
down) and SM (sum mod 10) over single digits. One task, `value` (0..9)."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

from ..errors import HybridTRMError, VerifierTimeout
from ..grammar import Node, children, kind, postorder
from ..verifiers.numeric import evaluate, listops_combine
from .base import Domain, Example, Task, Verdict, parse_integer

OPS = {"max": "[MAX", "min": "[MIN", "med": "[MED", "sm": "[SM"}


@dataclass(frozen=True)
class ListOpsDifficulty:
    # Nesting depth, drawn uniformly in [depth_min, depth]; one argument chain
    # reaches it, the other arguments are lists with chance `sublist`.
    depth: int = 8
    depth_min: int = 1
    arity: int = 5  # arguments per list, drawn in [arity_min, arity]
    arity_min: int = 2
    sublist: float = 0.25  # as in the benchmark's generator
    ops: str = "max,min,med,sm"
    binarised: bool = False  # render as the benchmark files do: ( ( [MAX 2 ) 9 ) ] )


class ListOpsDomain(Domain):
    name = "listops"
    grammar = "listops"
    tasks = {"value": Task("value", tuple(str(d) for d in range(10)), "the value of the list, 0..9")}
    Difficulty = ListOpsDifficulty
    curriculum_start = {"depth": 1, "arity": 2}
    node_kinds = ("DIGIT", "max", "min", "med", "sm")

    def generate(self, rng: random.Random, difficulty: ListOpsDifficulty, task: str) -> Example:
        depth = rng.randint(difficulty.depth_min, difficulty.depth)
        tree = _list(rng, difficulty, depth)
        # The answer from the generated tree itself, by the labeller's semantics: a
        # parse of the text here cost a training batch a quarter of its making.
        return Example(_render(tree, difficulty.binarised), str(_value(tree)), task, {"depth": depth, "arity": _max_arity(tree)})

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        values: dict[int, int] = {}
        labels: list[str | None] = []
        for node in postorder(tree):
            value = _apply(kind(node), node, [values.pop(id(c)) for c in children(node)])
            values[id(node)] = value
            labels.append(str(value))
        return labels

    difficulty_measure = {"value": "arguments of SM and MED"}

    def node_difficulty(self, tree: Node, task: str, positions: int) -> list[int | None]:
        """The number of arguments of an SM or MED node (a sum or a median over more
        arguments is more work; MAX and MIN are not counted)."""
        return [len(children(n)) if kind(n) in ("sm", "med") else None for n in postorder(tree)]

    def label_prefixes(self, tree: Node, task: str) -> list[str | None]:
        values: dict[int, int] = {}
        prefix: dict[int, str] = {}
        order = postorder(tree)
        for node in order:
            args = [values[id(c)] for c in children(node)]
            for j, child in enumerate(children(node)):
                prefix[id(child)] = str(_apply(kind(node), node, args[: j + 1]))
            values[id(node)] = _apply(kind(node), node, args)
        return [prefix.get(id(node)) for node in order]

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        try:
            value = int(evaluate(self.parse(text) if tree is None else tree, listops_combine, budget_s))
        except VerifierTimeout as err:
            return Verdict(None, None, str(err))
        evidence = f"value of the list = {value}"
        try:
            correct = parse_integer(answer, f"answer to {task}") == value
        except HybridTRMError as err:
            return Verdict(False, str(value), f"{err}; {evidence}")
        return Verdict(correct, str(value), evidence)


def _apply(node_kind: str, node: Node, args: list[int]) -> int:
    """Plain-integer semantics for labels; the verifier computes independently with sympy."""
    if node_kind == "DIGIT":
        return int(node)
    if node_kind == "max":
        return max(args)
    if node_kind == "min":
        return min(args)
    if node_kind == "sm":
        return sum(args) % 10
    if node_kind == "med":
        return int(statistics.median(args))
    raise HybridTRMError(f"listops: unknown node {node_kind!r}")


# Generated trees: an int (a digit) or (op, [arguments]).


def _list(rng: random.Random, d: ListOpsDifficulty, depth: int) -> tuple:
    ops = d.ops.split(",")
    n = rng.randint(d.arity_min, d.arity)
    deep_slot = rng.randrange(n)
    args: list = []
    for i in range(n):
        if depth > 1 and i == deep_slot:
            args.append(_list(rng, d, depth - 1))
        elif depth > 1 and rng.random() < d.sublist:
            args.append(_list(rng, d, rng.randint(1, depth - 1)))
        else:
            args.append(rng.randint(0, 9))
    return (rng.choice(ops), args)


def _render(tree, binarised: bool) -> str:
    if isinstance(tree, int):
        return str(tree)
    op, args = tree
    parts = [_render(a, binarised) for a in args]
    if not binarised:
        return f"{OPS[op]} {' '.join(parts)} ]"
    # ( ( ( [OP a ) b ) c ) ] ) -- the benchmark files' left-branching binarisation.
    text = f"( {OPS[op]} {parts[0]} )"
    for part in parts[1:]:
        text = f"( {text} {part} )"
    return f"( {text} ] )"


def _value(tree) -> int:
    if isinstance(tree, int):
        return tree
    op, args = tree
    return _apply(op, None, [_value(a) for a in args])


def _max_arity(tree) -> int:
    if isinstance(tree, int):
        return 0
    return max([len(tree[1])] + [_max_arity(a) for a in tree[1]])
