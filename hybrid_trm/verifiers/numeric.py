"""Symbolic ground truth for numeric trees: arithmetic and ListOps, computed with
sympy from the parse tree (never from a string), within a time budget. sympy is
imported where a value is first computed, not with the module: its import is a
fifth of a torch-free `solve`'s cold start."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from ..errors import HybridTRMError, VerifierTimeout
from ..grammar import Node, children, kind, postorder

if TYPE_CHECKING:
    import sympy

Combine = Callable[[str, Node, list], "sympy.Integer"]


def evaluate(tree: Node, combine: Combine, budget_s: float) -> sympy.Integer:
    """The value of the root, folding `combine(kind, node, child_values)` bottom-up."""
    deadline = time.monotonic() + budget_s
    values: dict[int, sympy.Integer] = {}
    for node in postorder(tree):
        if time.monotonic() > deadline:  # every node: one sympy operation costs far more
            raise VerifierTimeout(f"verifier ran past its budget of {budget_s:g}s")
        values[id(node)] = combine(kind(node), node, [values.pop(id(c)) for c in children(node)])
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


def arith_combine(node_kind: str, node: Node, args: list[sympy.Integer]) -> sympy.Integer:
    import sympy

    if node_kind == "NUMBER":
        return sympy.Integer(literal(node))
    if node_kind == "add":
        return sympy.Add(*args)
    if node_kind == "sub":
        return args[0] - args[1]
    if node_kind == "mul":
        return sympy.Mul(*args)
    if node_kind == "neg":
        return -args[0]
    raise ValueError(f"unknown arithmetic node {node_kind!r}")


def listops_combine(node_kind: str, node: Node, args: list[sympy.Integer]) -> sympy.Integer:
    import sympy

    if node_kind == "DIGIT":
        return sympy.Integer(int(node))
    if node_kind == "max":
        return sympy.Max(*args)
    if node_kind == "min":
        return sympy.Min(*args)
    if node_kind == "sm":
        return sympy.Mod(sympy.Add(*args), 10)
    if node_kind == "med":
        # The benchmark's MED is int(numpy.median): the mean of the two middle
        # values for an even count, rounded down.
        ordered = sorted(args)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else sympy.Rational(ordered[mid - 1] + ordered[mid], 2)
        return sympy.floor(median)
    raise ValueError(f"unknown ListOps node {node_kind!r}")
