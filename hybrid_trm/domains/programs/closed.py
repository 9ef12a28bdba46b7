"""Closed programs: a program of integers and operators only, no names and no
calls, such as a digit fact the executor asks (`return ((7 + 8) + 1);`,
schoolbook.py): how wide their values can be (the answer grid that holds them),
and how the facts write a value.
"""

from __future__ import annotations

from ...grammar import Node, children, kind, postorder


def literal(value: int) -> str:
    """A value as the grammar writes it: a negative one as a negation in parentheses."""
    return str(value) if value >= 0 else f"(-{-value})"


_WIDE = 10**100  # past any answer grid: a bound this large only says "wide"


def closed_digits(tree: Node) -> int | None:
    """Decimal digits enough for every literal and value of a closed program (only
    literals, no names or calls; None for any other): |a + b| <= |a| + |b|,
    |a * b| = |a| |b|, |a / b| <= |a|, |a % b| < |b|, a comparison or a connective
    is 0 or 1, and the grid holds the widest of them all (`5 < 100000`: 6 digits)."""
    bounds: dict[int, int] = {}
    widest = 0
    for node in postorder(tree):
        k = kind(node)
        args = [bounds.pop(id(c)) for c in children(node)]
        if k == "INT":
            bound = int(node) if len(node) < 100 else _WIDE
        elif k in ("NAME", "call", "funcdef"):
            return None
        elif k in ("add", "sub"):
            bound = args[0] + args[1]
        elif k == "mul":
            bound = args[0] * args[1]
        elif k in ("div", "neg"):
            bound = args[0]
        elif k == "mod":
            bound = args[1]
        elif k in ("program", "return", "block"):
            bound = max(args, default=0)
        elif k in ("assign", "if", "if_else", "while", "for"):
            return None
        else:
            bound = 1
        bounds[id(node)] = min(bound, _WIDE)
        widest = max(widest, bounds[id(node)])
    return len(str(widest))
