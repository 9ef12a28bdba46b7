"""Integer arithmetic: + - * and unary minus over multi-digit literals.

Tasks: `exact` (the integer value, any sign, up to 12 digits) and `mod10` (the
value mod 10, 0..9; mathematical mod, so -3 mod 10 = 7).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import HybridTRMError, VerifierTimeout
from ..grammar import Node, children, kind, postorder
from ..verifiers.numeric import arith_combine, clip, evaluate, literal, readable
from .base import Domain, Example, IntegerTask, Task, Verdict, parse_integer

DIGITS = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class ArithDifficulty:
    # Tree height, drawn uniformly in [depth_min, depth]. One path from the root
    # reaches that height; side branches stay shallow (side_depth), so deep trees
    # stay small and test depth, not size.
    depth: int = 6
    depth_min: int = 1
    side_depth: int = 2
    # When set, the tree instead has this many operands (drawn in [operands_min,
    # operands]) bracketed at random: the shape of the `exact` benchmark.
    operands: int | None = None
    operands_min: int = 2
    digits: int = 1  # literals have 1..digits digits
    ops: str = "+-*"  # binary operators to draw from
    neg: float = 0.1  # chance that an operand is negated (unary minus)
    # Chance that a literal is written as a run (_run): a leading digit, then one
    # digit, 0 or 9, repeated, then at most two others (1000000, 5999991). Sums and
    # differences of such literals carry or borrow across the whole run, the
    # chains that uniform digits almost never make and the grid's carry must climb.
    runs: float = 0.0


class ArithDomain(Domain):
    name = "arith"
    grammar = "arith"
    tasks = {
        "exact": IntegerTask("exact", DIGITS, "the integer value, any sign, up to 12 digits", digits=12),
        "mod10": Task("mod10", DIGITS, "the value mod 10 (0..9)"),
    }
    Difficulty = ArithDifficulty
    curriculum_start = {"depth": 1, "operands": 2, "digits": 1}
    node_kinds = ("NUMBER", "add", "sub", "mul", "neg")

    def generate(self, rng: random.Random, difficulty: ArithDifficulty, task: str) -> Example:
        if difficulty.operands is not None:
            n = rng.randint(difficulty.operands_min, difficulty.operands)
            tree = _bracketed(rng, difficulty, n)
        else:
            tree = _spine(rng, difficulty, rng.randint(difficulty.depth_min, difficulty.depth))
        text = _render(tree)
        labels = self.label_subtrees(self.parse(text), task)
        return Example(text, labels[-1], task, {"depth": _height(tree), "operands": _count_operands(tree)})

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        check_value_size(tree)
        values: dict[int, int] = {}
        labels: list[str | None] = []
        limit = 10**self.tasks["exact"].digits
        for node in postorder(tree):
            args = [values.pop(id(c)) for c in children(node)]
            value = _apply(kind(node), node, args)
            values[id(node)] = value
            if task == "mod10":
                labels.append(str(value % 10))
            else:
                labels.append(str(value) if abs(value) < limit else None)
        return labels

    difficulty_measure = {"exact": "longest carry path"}

    def node_difficulty(self, tree: Node, task: str, positions: int) -> list[int | None]:
        """exact: for + and - and negation, the most digit positions one carry (or
        borrow) crosses, in ten's complement over `positions` digits (_carry_chain):
        the grid's carry climbs one position per latent step. None elsewhere."""
        if task != "exact":
            return super().node_difficulty(tree, task, positions)
        values: dict[int, int] = {}
        out: list[int | None] = []
        for node in postorder(tree):
            args = [values.pop(id(c)) for c in children(node)]
            node_kind = kind(node)
            values[id(node)] = _apply(node_kind, node, args)
            if node_kind == "add":
                out.append(_carry_chain(args[0], args[1], positions))
            elif node_kind == "sub":
                out.append(_carry_chain(args[0], args[1], positions, subtract=True))
            elif node_kind == "neg":
                out.append(_carry_chain(0, args[0], positions, subtract=True))
            else:
                out.append(None)
        return out

    def answer_digits(self, tree: Node, task: str) -> int | None:
        """|a ± b| <= |a| + |b|, |a * b| = |a| |b|: a bound on every subtree's magnitude."""
        bounds: dict[int, int] = {}
        for node in postorder(tree):
            args = [bounds.pop(id(c)) for c in children(node)]
            node_kind = kind(node)
            if node_kind == "NUMBER":
                bound = literal(node)
            elif node_kind == "mul":
                bound = args[0] * args[1]
            else:
                bound = sum(args)
            # Past any grid's width the bound only says "wide": clipped, so that a
            # chain of products never computes a number of millions of digits.
            bounds[id(node)] = min(bound, _WIDE)
        bound = bounds[id(tree)]
        return int(bound.bit_length() * 0.30103) + 1  # decimal digits, never too few

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        tree = self.parse(text) if tree is None else tree
        check_value_size(tree)
        try:
            value = evaluate(tree, arith_combine, budget_s)
        except VerifierTimeout as err:
            return Verdict(None, None, str(err))
        value = int(value)
        expected = value % 10 if task == "mod10" else value
        evidence = f"{clip(text)} = {readable(value)}" + (f" ≡ {expected} (mod 10)" if task == "mod10" else "")
        try:
            correct = parse_integer(answer, f"answer to {task}") == expected
        except HybridTRMError as err:
            return Verdict(False, readable(expected), f"{err}; {evidence}")
        return Verdict(bool(correct), readable(expected), evidence)


_WIDE = 10**100  # wider than any answer grid (answer_digits)
MAX_VALUE_DIGITS = 100_000  # the most digits a value is computed exactly with (docs/limits.md)


def check_value_size(tree: Node) -> None:
    """Refuse a tree whose values may pass MAX_VALUE_DIGITS digits, before any is
    computed: a chain of products of long literals grows without bound, and one
    multiplication of numbers of millions of digits takes seconds no budget can
    interrupt. The bound adds digits under a product and one under a sum."""
    digits: dict[int, int] = {}
    for node in postorder(tree):
        args = [digits.pop(id(c)) for c in children(node)]
        node_kind = kind(node)
        if node_kind == "NUMBER":
            digits[id(node)] = len(node)
        elif node_kind == "mul":
            digits[id(node)] = args[0] + args[1]
        else:
            digits[id(node)] = max(args) + (node_kind != "neg")
        if digits[id(node)] > MAX_VALUE_DIGITS:
            raise HybridTRMError(
                f"arith: a value in this input may have up to {digits[id(node)]:,} digits; "
                f"at most {MAX_VALUE_DIGITS:,} are computed exactly (docs/limits.md)"
            )


def _apply(node_kind: str, node: Node, args: list[int]) -> int:
    """Plain-integer arithmetic for labels; the verifier computes independently (verifiers/numeric.py)."""
    if node_kind == "NUMBER":
        return literal(node)
    if node_kind == "add":
        return args[0] + args[1]
    if node_kind == "sub":
        return args[0] - args[1]
    if node_kind == "mul":
        return args[0] * args[1]
    if node_kind == "neg":
        return -args[0]
    raise HybridTRMError(f"arith: unknown node {node_kind!r}")


def _carry_chain(a: int, b: int, positions: int, subtract: bool = False) -> int:
    """The most digit positions one carry crosses when a + b (subtract: a - b, with
    borrows) is worked digit by digit in ten's complement over `positions` digits:
    a carry made at one position travels on through each position above whose
    digits pass it without making or ending one (digit sum 9; equal digits for a
    borrow). Position i's digit depends on position i - k only across such a run,
    so this is the longest dependency the cell's carry must climb: 999 + 1 crosses
    2 (the tens and hundreds), 5 - 7 on a 6-digit grid 5 (the borrow climbs to the
    sign digit), 123 + 456 none."""
    modulus = 10**positions
    x, y = a % modulus, b % modulus
    longest = run = 0
    carry = 0
    for _ in range(positions):
        dx, dy = x % 10, y % 10
        x, y = x // 10, y // 10
        passes = dx == dy if subtract else dx + dy == 9
        run = run + 1 if carry and passes else 0
        longest = max(longest, run)
        carry = int(dx - dy - carry < 0) if subtract else int(dx + dy + carry >= 10)
    return longest


# Generated trees are tuples: ("num", int) | ("neg", t) | (op, left, right).


def _literal(rng: random.Random, d: ArithDifficulty) -> tuple:
    digits = rng.randint(1, d.digits)
    if d.runs and rng.random() < d.runs:  # no draw at 0: the stream stays as it was
        leaf = ("num", _run(rng, digits))
    else:
        low = 0 if digits == 1 else 10 ** (digits - 1)
        leaf = ("num", rng.randint(low, 10**digits - 1))
    return ("neg", leaf) if rng.random() < d.neg else leaf


def _run(rng: random.Random, digits: int) -> int:
    """A literal of `digits` digits written as a run: a leading digit (1-9), one
    digit repeated (0 or 9), and a tail of up to two random digits, the run as long
    as the rest leaves: 1000000, 999, 5999991, 9."""
    if digits == 1:
        return rng.choice((0, 9))
    tail = rng.randint(0, min(2, digits - 1))
    text = str(rng.randint(1, 9)) + rng.choice("09") * (digits - 1 - tail)
    text += "".join(rng.choice("0123456789") for _ in range(tail))
    return int(text)


def _spine(rng: random.Random, d: ArithDifficulty, height: int) -> tuple:
    """A tree of exactly `height` levels above its deepest literal."""
    if height <= 0:
        if d.runs and rng.random() < d.runs:
            return ("num", _run(rng, rng.randint(1, d.digits)))
        return ("num", rng.randint(0, 10**rng.randint(1, d.digits) - 1))
    if rng.random() < d.neg:
        return ("neg", _spine(rng, d, height - 1))
    deep = _spine(rng, d, height - 1)
    side = _spine(rng, d, rng.randint(0, min(d.side_depth, height - 1)))
    left, right = (deep, side) if rng.random() < 0.5 else (side, deep)
    return (rng.choice(d.ops), left, right)


def _bracketed(rng: random.Random, d: ArithDifficulty, n: int) -> tuple:
    """n operands joined by random operators under a random bracketing."""
    if n == 1:
        return _literal(rng, d)
    k = rng.randint(1, n - 1)
    return (rng.choice(d.ops), _bracketed(rng, d, k), _bracketed(rng, d, n - k))


_PRECEDENCE = {"+": 1, "-": 1, "*": 2}


def _render(tree: tuple) -> str:
    """Text that parses back to exactly this tree, with parentheses only where needed."""
    if tree[0] == "num":
        return str(tree[1])
    if tree[0] == "neg":
        inner = tree[1]
        text = _render(inner)
        return f"-({text})" if inner[0] in _PRECEDENCE else f"-{text}"
    op, left, right = tree
    lt, rt = _render(left), _render(right)
    if left[0] in _PRECEDENCE and _PRECEDENCE[left[0]] < _PRECEDENCE[op]:
        lt = f"({lt})"
    if right[0] in _PRECEDENCE and _PRECEDENCE[right[0]] <= _PRECEDENCE[op]:
        rt = f"({rt})"
    return f"{lt} {op} {rt}"


def _height(tree: tuple) -> int:
    if tree[0] == "num":
        return 0
    return 1 + max(_height(t) for t in tree[1:])


def _count_operands(tree: tuple) -> int:
    if tree[0] == "num":
        return 1
    return sum(_count_operands(t) for t in tree[1:])
