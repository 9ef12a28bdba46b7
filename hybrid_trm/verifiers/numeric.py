"""Exact ground truth for numeric trees: arithmetic and ListOps, computed from
the parse tree (never from a string) with Python's integers, which are exact at
any size, within a time budget.

The values are integers throughout (+, -, *, negation; MAX, MIN, sum mod 10 and a
floored median), so the verifier needs no computer algebra: it computed with
sympy until issue 20, whose integers are Python's (or gmpy's) all the same, and
whose import was 0.27 s of a 0.5 s cold start on the torch-free runtime.
tests/test_numeric_verifier.py checks these values against sympy's. The domains'
labellers (domains/arith.py, domains/listops.py) compute the same values their own
way; this is the independent check of every answer a user gets."""

from __future__ import annotations

import time
from typing import Callable

import lark

from ..errors import HybridTRMError, VerifierTimeout
from ..grammar import Node, postorder

Combine = Callable[[str, Node, list], int]


def evaluate(tree: Node, combine: Combine, budget_s: float) -> int:
    """The value of the root, folding `combine(kind, node, child_values)` bottom-up."""
    clock, tree_class = time.monotonic, lark.Tree
    deadline = clock() + budget_s
    values: dict[int, int] = {}
    for node in postorder(tree):
        if clock() > deadline:  # every node: one product of long numbers can take long
            raise VerifierTimeout(f"verifier ran past its budget of {budget_s:g}s")
        if isinstance(node, tree_class):  # grammar.kind and grammar.children, inline
            values[id(node)] = combine(node.data, node, [values.pop(id(c)) for c in node.children])
        else:
            values[id(node)] = combine(node.type, node, [])
    return values[id(tree)]


MAX_LITERAL_DIGITS = 4000  # Python refuses to read longer decimal strings (int_max_str_digits)


def literal(node: Node) -> int:
    """A number token's value, refusing one too long to read safely."""
    if len(node) > MAX_LITERAL_DIGITS:
        raise HybridTRMError(f"a literal of {len(node)} digits; at most {MAX_LITERAL_DIGITS} are accepted")
    return int(node)


def readable(value: int, limit: int = 40) -> str:
    """An integer for a person: in full when short, else its size and last digits."""
    if abs(value) < 10**limit:
        return str(value)
    digits = int(abs(value).bit_length() * 0.30103) + 1
    sign = "-" if value < 0 else ""
    return f"{sign}…{abs(value) % 10**12:012d} (about {digits} digits)"


def clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def arith_combine(node_kind: str, node: Node, args: list[int]) -> int:
    if node_kind == "NUMBER":
        return literal(node)
    if node_kind == "add":
        return sum(args)
    if node_kind == "sub":
        return args[0] - args[1]
    if node_kind == "mul":
        product = 1
        for a in args:
            product *= a
        return product
    if node_kind == "neg":
        return -args[0]
    raise ValueError(f"unknown arithmetic node {node_kind!r}")


def listops_combine(node_kind: str, node: Node, args: list[int]) -> int:
    if node_kind == "DIGIT":
        return int(node)
    if node_kind == "max":
        return max(args)
    if node_kind == "min":
        return min(args)
    if node_kind == "sm":
        return sum(args) % 10
    if node_kind == "med":
        # The benchmark's MED is int(numpy.median): the mean of the two middle
        # values for an even count, rounded down (floor division is exact: a floor).
        ordered = sorted(args)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) // 2
    raise ValueError(f"unknown ListOps node {node_kind!r}")
