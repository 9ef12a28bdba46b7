"""Closed expressions: an expression as a run evaluates it, each name and call
replaced by the value it had then (`x + f(2) % 7` with x = 4 and f(2) = 9 is
`4 + 9 % 7`). They are what the executor (execute.py) asks its model for, one at
a time, and what the model learns from (the `expressions` knob).
"""

from __future__ import annotations

import random
import re

import lark

from ...grammar import Node, children, kind, parse, postorder
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


def render(node: Node, value_of, integer=str) -> str:
    """The expression's text, fully parenthesised, each NAME and call written as
    `value_of(node)` (an int, or None where this evaluation never reached it: 0),
    each integer as `integer(token)`."""
    out: list[str] = []
    stack: list[object] = [node]
    while stack:  # an explicit stack: expressions nest as deep as a user writes them
        item = stack.pop()
        if not isinstance(item, (lark.Tree, lark.Token)):  # a piece of text (a Token is a str too)
            out.append(item)
            continue
        k = kind(item)
        if isinstance(item, lark.Token) and item.type == "INT":
            out.append(integer(item))
        elif isinstance(item, lark.Token) or k == "call":
            value = value_of(item)
            out.append(literal(0 if value is None else value))
        elif k in ("neg", "not"):
            stack += [")", item.children[0], "(-" if k == "neg" else "(not "]
        else:
            left, right = item.children
            stack += [")", right, f" {SYMBOLS[k]} ", left, "("]
    return "".join(out)


ZERO_DIVISORS = ("division by zero", "% by zero")  # what stops a run at an operator (run.py)

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
        self.current: lark.Tree | None = None  # the outermost expression being evaluated
        self.closed: list[str] = []

    def expr(self, node: lark.Tree, env: dict[str, int]):
        if self.nesting == 0:
            self.current = node
        self.nesting += 1
        value = yield super().expr(node, env)
        self.nesting -= 1
        if self.nesting == 0:
            self.closed.append(render(node, lambda n: self.values.get(id(n))))
        return value

    def call(self, node: lark.Tree, env: dict[str, int]):
        outer, current = self.nesting, self.current
        self.nesting = 0  # the arguments and the body are outermost in their turn
        value = yield super().call(node, env)
        self.nesting, self.current = outer, current
        return value


def closed_expressions(tree: Node, stopping: bool = False) -> list[str]:
    """Every outermost expression the run of `tree` evaluates, closed, in the order
    evaluated; with `stopping`, or where `tree` is itself closed (`return 7 % 0;`),
    the one that divides by zero too, last (the executor asks it; its answer is
    `error`). Without, the stream the shipped `programs-output` model learnt from."""
    recorder = _Recorder(tree)
    try:
        drive(recorder.program(tree))
    except Stop as stop:
        # An exception ends the whole walk (trampoline.drive): the expression that
        # divided by zero is the outermost one under way, in the innermost call.
        if (stopping or closed_digits(tree) is not None) and stop.why in ZERO_DIVISORS and recorder.nesting:
            recorder.closed.append(render(recorder.current, lambda n: recorder.values.get(id(n))))
    return recorder.closed


# Drawing the closed expressions a model learns from (the generator's `redraw`,
# `zero_divisors` and `rare` knobs). Runs of small programs ask mostly one-digit
# sums, remainders of small values and comparisons of one-digit numbers; a model
# that learns only from them answers `(10 < 20)`, `(28 % 5)` or `(7 / 0)` wrong.
# So a share of the expressions keeps its shape (its operators, as the run asked
# it) but takes other values of the widths such programs hold (up to three
# digits; a divisor of one digit stays one digit), a comparison often of two
# close numbers (a loop's `i < 17`); a share divides by zero; and a share is
# drawn among the run's expressions that hold a `/` or a `*`, the rarest operators.
WIDEST = 5  # digits of any value of a drawn expression: the training grid holds 6
_LONG_LITERAL = re.compile(rf"\d{{{WIDEST + 1}}}")
_COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")


def draw(rng: random.Random, tree: Node, redraw: float = 0.0, zero_divisors: float = 0.0, rare: float = 0.0) -> str | None:
    """One closed expression of the run of `tree`, for training (above): None where
    the run evaluates none (of at most WIDEST-digit literals)."""
    evaluated = [e for e in closed_expressions(tree, stopping=True) if not _LONG_LITERAL.search(e)]
    if not evaluated:
        return None
    pick = rng.random()
    if pick < zero_divisors:
        dividing = [e for e in evaluated if "/" in e or "%" in e]
        if dividing:
            return _zero_divisor(rng, _expression(rng.choice(dividing)))
    elif pick < zero_divisors + rare:
        evaluated = [e for e in evaluated if "/" in e or "*" in e] or evaluated
    text = rng.choice(evaluated)
    if rng.random() < redraw:
        for _ in range(10):
            other = _redrawn(rng, _expression(text))
            if closed_digits(parse("programs", f"return {other};")) <= WIDEST:
                return other
    return text


def _expression(text: str) -> Node:
    """The closed expression `text`, parsed (the `return` statement's operand)."""
    return parse("programs", f"return {text};").children[0].children[0]


def _parents(expression: Node) -> dict[int, tuple[Node, int]]:
    """id(node) -> (its parent, its place among the parent's children)."""
    return {id(c): (n, i) for n in postorder(expression) for i, c in enumerate(children(n))}


def _divisors(expression: Node) -> list[lark.Token]:
    """The integers a `/` or `%` divides by (under a negation too)."""
    parents = _parents(expression)
    out = []
    for node in postorder(expression):
        if not (isinstance(node, lark.Token) and node.type == "INT"):
            continue
        above, place = parents.get(id(node), (None, 0))
        if above is not None and kind(above) == "neg":
            above, place = parents.get(id(above), (None, 0))
        if above is not None and kind(above) in ("div", "mod") and place == 1:
            out.append(node)
    return out


def _with_literals(expression: Node, values: dict[int, int]) -> str:
    """The expression's text (render's form) with some integers replaced."""
    return render(expression, None, lambda token: str(values.get(id(token), token)))


def _zero_divisor(rng: random.Random, expression: Node) -> str:
    divisors = _divisors(expression)
    return _with_literals(expression, {id(rng.choice(divisors)): 0} if divisors else {})


def _redrawn(rng: random.Random, expression: Node) -> str:
    """The expression with every integer drawn anew: a divisor of one digit in
    1..9, a wider one in 2..99; a factor of `*` in 2..9; any other value of as many
    digits as it had, or of 1..3 digits; the right side of a comparison of two
    integers, in half the draws, within 2 of the left."""
    divisors = {id(t) for t in _divisors(expression)}
    parents = _parents(expression)
    values: dict[int, int] = {}
    for node in postorder(expression):
        if isinstance(node, lark.Token) and node.type == "INT":
            old = int(node)
            above = parents.get(id(node), (None, 0))[0]
            if id(node) in divisors:
                values[id(node)] = rng.randint(1, 9) if old < 10 else rng.randint(2, 99)
            elif above is not None and kind(above) == "mul":
                values[id(node)] = rng.randint(2, 9)
            else:
                digits = len(str(old)) if rng.random() < 0.5 else rng.choice((1, 2, 2, 3))
                values[id(node)] = rng.randint(0 if digits == 1 else 10 ** (digits - 1), 10**digits - 1)
        elif kind(node) in _COMPARISONS and rng.random() < 0.5:
            left, right = node.children
            if all(isinstance(side, lark.Token) for side in (left, right)):
                values[id(right)] = max(0, values[id(left)] + rng.randint(-2, 2))
    return _with_literals(expression, values)
