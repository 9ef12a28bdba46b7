"""Closed expressions: an expression as a run evaluates it, each name and call
replaced by the value it had then (`x + f(2) % 7` with x = 4 and f(2) = 9 is
`4 + 9 % 7`). They are what the executor (execute.py) asks its model for, one at
a time, and what the model learns from (the `expressions` knob).
"""

from __future__ import annotations

import lark

from ...grammar import Node, children, kind, postorder
from .run import Machine, Stop
from .syntax import functions
from .trampoline import drive

SYMBOLS = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "lt": "<", "le": "<=", "gt": ">",
    "ge": ">=", "eq": "==", "ne": "!=", "and": "and", "or": "or",
}


def literal(value: int) -> str:
    """A value as the grammar writes it: a negative one as a negation in parentheses."""
    return str(value) if value >= 0 else f"(-{-value})"


def render(node: Node, value_of) -> str:
    """The expression's text, fully parenthesised, each NAME and call written as
    `value_of(node)` (an int, or None where this evaluation never reached it: 0)."""
    out: list[str] = []
    stack: list[object] = [node]
    while stack:  # an explicit stack: expressions nest as deep as a user writes them
        item = stack.pop()
        if not isinstance(item, (lark.Tree, lark.Token)):  # a piece of text (a Token is a str too)
            out.append(item)
            continue
        k = kind(item)
        if isinstance(item, lark.Token) and item.type == "INT":
            out.append(str(item))
        elif isinstance(item, lark.Token) or k == "call":
            value = value_of(item)
            out.append(literal(0 if value is None else value))
        elif k in ("neg", "not"):
            stack += [")", item.children[0], "(-" if k == "neg" else "(not "]
        else:
            left, right = item.children
            stack += [")", right, f" {SYMBOLS[k]} ", left, "("]
    return "".join(out)


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


class _Recorder(Machine):
    """A run that writes down every outermost expression it evaluates, closed."""

    def __init__(self, tree: Node):
        super().__init__(functions(tree))
        self.nesting = 0
        self.closed: list[str] = []

    def expr(self, node: lark.Tree, env: dict[str, int]):
        self.nesting += 1
        value = yield super().expr(node, env)
        self.nesting -= 1
        if self.nesting == 0:
            self.closed.append(render(node, lambda n: self.values.get(id(n))))
        return value

    def call(self, node: lark.Tree, env: dict[str, int]):
        outer, self.nesting = self.nesting, 0  # the arguments and the body are outermost in their turn
        value = yield super().call(node, env)
        self.nesting = outer
        return value


def closed_expressions(tree: Node) -> list[str]:
    """Every outermost expression the run of `tree` evaluates, closed, in the order
    evaluated (an expression that stops the run, a division by zero, is the last)."""
    recorder = _Recorder(tree)
    try:
        drive(recorder.program(tree))
    except Stop:
        pass
    return recorder.closed

