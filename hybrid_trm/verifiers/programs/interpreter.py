"""The interpreter behind `output` and `trips`: it runs a program's parse tree, as
docs/programs.md defines the language, and never hands its text to Python.

It is a machine with two explicit stacks, not a recursive walk: `todo` holds what
is left to do (a statement to execute, an expression to evaluate, an operator
waiting for its operands, a loop's next test, a call's end) and `values` the
values computed so far. Any depth of blocks, expressions or calls costs stack
entries, never Python frames. `break`, `continue` and `return` pop `todo` down
to their loop's or call's marker.

A run ends with the value of the top-level `return`, with "error" (division or
`%` by zero, a variable read before it is set in its scope, a value of magnitude
10^12 or more, a call nested more than 100 deep, a program or function that ends
without `return`), or with "timeout" when it would execute its 10,001st statement.
A statement counts when its execution begins: one that stops with an error counts.
A `while` with an empty body whose condition holds, where testing it ran no
statement, would test the same condition on the same variables forever without
executing a statement: that is a timeout too, at once (trips counts it 10,000).
A `for` with an empty body runs all its trips at once: its variable ends at b-1.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Callable

import lark

from ...errors import HybridTRMError, VerifierTimeout
from ...grammar import Node, kind
from .calls import call_arguments, line_of, parameters

MAX_STATEMENTS = 10_000  # the 10,001st would time out
MAX_CALL_DEPTH = 100
MAX_MAGNITUDE = 10**12  # a value this large or larger is an error: the answer has 12 digits


def _floor_div(a: int, b: int) -> int:
    return a // b


def _floor_mod(a: int, b: int) -> int:
    return a % b


BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": _floor_div, "mod": _floor_mod,
    "lt": lambda a, b: int(a < b), "le": lambda a, b: int(a <= b), "gt": lambda a, b: int(a > b),
    "ge": lambda a, b: int(a >= b), "eq": lambda a, b: int(a == b), "ne": lambda a, b: int(a != b),
}
UNARY = {"neg": operator.neg, "not": lambda a: int(a == 0)}


class Stop(Exception):
    """The run ends: `result` is the value returned, "error" or "timeout"."""

    def __init__(self, result: int | str, why: str):
        super().__init__(why)
        self.result, self.why = result, why


@dataclass
class Run:
    result: int | str  # the program's value, "error" or "timeout"
    statements: int  # statements executed, at most MAX_STATEMENTS
    why: str  # "returned 18", "division by zero at line 4", ...
    trips: list[tuple[str, int | None, int]] = field(default_factory=list)  # (loop kind, line, body runs)

    def counted(self) -> int:
        """The `trips` answer: the statements executed; a run that timed out, 10,000."""
        return MAX_STATEMENTS if self.result == "timeout" else self.statements

    def evidence(self) -> str:
        loops = sorted((t for t in self.trips if t[2]), key=lambda t: -t[2])[:3]
        busiest = "; ".join(f"{k} at line {line}: body ran {n:,} time{'s' * (n != 1)}" for k, line, n in loops)
        ran = f"ran {self.statements:,} statement{'s' * (self.statements != 1)}"
        return f"{ran}; {self.why}" + (f" ({busiest})" if busiest else "")


def run(tree: lark.Tree, defs: dict[str, lark.Tree], check: Callable[[], None]) -> Run:
    """Run a well-formed program (calls.functions) to its end."""
    machine = Machine(defs, check)
    machine.push_block([s for s in tree.children if kind(s) != "funcdef"])
    try:
        machine.loop()
        raise Stop("error", "the program ended without `return`")
    except Stop as stop:
        trips = [(kind(loop), line_of(loop), n) for loop, n in machine.trips.values()]
        return Run(stop.result, machine.statements, stop.why, trips)
    except VerifierTimeout as err:
        raise VerifierTimeout(f"{err}, after running {machine.statements:,} statements") from None


def fold(expr: Node) -> int | None:
    """The value of a constant condition (only integers and operators, docs/programs.md
    `dead`), evaluated as a run would; None where it holds a name or a call, or where
    a run would stop with an error (a division by zero, a value of 10^12 or more)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, lark.Token):
            if node.type == "NAME":
                return None
        elif kind(node) == "call":
            return None
        else:
            stack.extend(node.children)
    machine = Machine({}, lambda: None)
    machine.todo.append(("eval", expr, None))
    try:
        machine.loop()
    except Stop:
        return None
    return machine.values[-1]


class Machine:
    """The two stacks, the scopes of the active calls, and the counts of a run."""

    def __init__(self, defs: dict[str, lark.Tree], check: Callable[[], None]):
        self.defs, self.check = defs, check
        self.todo: list[tuple[str, Node, object]] = []  # (what, node, what it needs), last first
        self.values: list[int] = []
        self.scopes: list[dict[str, int]] = [{}]  # the top level's variables, then each active call's
        self.statements = 0
        self.trips: dict[int, list] = {}  # id(loop) -> [loop, times its body ran]
        self.steps = {
            "exec": self.execute, "eval": self.evaluate, "binary": self.binary, "unary": self.unary,
            "and": self.short_circuit, "or": self.short_circuit, "truth": self.truth, "call": self.call,
            "end_call": self.end_call, "assign": self.assign, "if": self.branch, "while": self.while_test,
            "while_body": self.while_body, "for_range": self.for_range, "for": self.for_trip, "return": self.returns,
        }

    def loop(self) -> None:
        todo, steps, n = self.todo, self.steps, 0
        while todo:
            n += 1
            if not n & 511:
                self.check()
            what, node, arg = todo.pop()
            steps[what](node, arg)

    def push_block(self, statements: list[Node]) -> None:
        self.todo.extend(("exec", s, None) for s in reversed(statements))

    def value(self, v: int, node: Node) -> None:
        if abs(v) >= MAX_MAGNITUDE:
            raise Stop("error", f"value {v:,} reaches 10^12 at line {line_of(node)}")
        self.values.append(v)

    # Statements.

    def execute(self, node: lark.Tree, _) -> None:
        if self.statements == MAX_STATEMENTS:
            raise Stop("timeout", f"timed out: statement {MAX_STATEMENTS + 1:,} would run ({_where(node)})")
        self.statements += 1
        what, c, todo = kind(node), node.children, self.todo
        if what == "assign":
            todo += [("assign", node, None), ("eval", c[1], None)]
        elif what in ("if", "if_else"):
            todo += [("if", node, None), ("eval", c[0], None)]
        elif what == "while":
            self.trips.setdefault(id(node), [node, 0])
            todo.append(("while", node, None))
        elif what == "for":
            self.trips.setdefault(id(node), [node, 0])
            todo += [("for_range", node, None), ("eval", c[2], None), ("eval", c[1], None)]
        elif what == "return":
            todo += [("return", node, None), ("eval", c[0], None)]
        elif what in ("break", "continue"):
            self.jump(what)
        else:
            raise HybridTRMError(f"programs: a {what} node where a statement belongs")

    def assign(self, node: lark.Tree, _) -> None:
        self.scopes[-1][str(node.children[0])] = self.values.pop()

    def branch(self, node: lark.Tree, _) -> None:
        c = node.children
        if self.values.pop():
            self.push_block(c[1].children)
        elif kind(node) == "if_else":
            self.push_block(c[2].children if kind(c[2]) == "block" else [c[2]])

    def while_test(self, node: lark.Tree, _) -> None:
        """The loop's marker: what `continue` returns to and `break` pops."""
        self.todo += [("while_body", node, self.statements), ("eval", node.children[0], None)]

    def while_body(self, node: lark.Tree, statements_before_test: int) -> None:
        if not self.values.pop():
            return
        body = node.children[1].children
        if not body and self.statements == statements_before_test:
            # Nothing ran since the last test, so nothing changed: every later test
            # holds too. The run never ends; it counts as a timeout.
            raise Stop("timeout", f"timed out: the {_where(node)} loops forever, its body empty and its condition true")
        self.trips[id(node)][1] += 1
        self.todo.append(("while", node, None))
        self.push_block(body)

    def for_range(self, node: lark.Tree, _) -> None:
        stop = self.values.pop()
        self.for_trip(node, (self.values.pop(), stop))

    def for_trip(self, node: lark.Tree, bounds: tuple[int, int]) -> None:
        """The loop's marker; the next value comes from here, not from the variable."""
        start, stop = bounds
        if start >= stop:
            return
        variable, body = str(node.children[0]), node.children[3].children
        if not body:  # trips that run nothing: all of them at once (up to 2 x 10^12 of them)
            self.scopes[-1][variable] = stop - 1
            self.trips[id(node)][1] += stop - start
            return
        self.scopes[-1][variable] = start
        self.trips[id(node)][1] += 1
        self.todo.append(("for", node, (start + 1, stop)))
        self.push_block(body)

    def jump(self, what: str) -> None:
        todo = self.todo
        while todo and todo[-1][0] not in ("while", "for", "end_call"):
            todo.pop()
        if not todo or todo[-1][0] == "end_call":
            raise HybridTRMError(f"programs: `{what}` outside a loop")
        if what == "break":
            todo.pop()

    def returns(self, node: lark.Tree, _) -> None:
        todo, v = self.todo, self.values.pop()
        while todo and todo[-1][0] != "end_call":
            todo.pop()
        if not todo:
            raise Stop(v, f"returned {v}")
        todo.pop()
        self.scopes.pop()
        self.values.append(v)

    def end_call(self, node: lark.Tree, _) -> None:
        name = node.children[0]
        raise Stop("error", f"function {name} (called at line {name.line}) ended without `return`")

    # Expressions.

    def evaluate(self, node: Node, _) -> None:
        if isinstance(node, lark.Token):
            if node.type == "INT":
                self.value(int(node), node)
            elif str(node) in self.scopes[-1]:
                self.values.append(self.scopes[-1][str(node)])
            else:
                raise Stop("error", f"{node} read at line {node.line} before it is set")
            return
        what, c, todo = kind(node), node.children, self.todo
        if what in BINARY:
            todo += [("binary", node, None), ("eval", c[1], None), ("eval", c[0], None)]
        elif what in UNARY:
            todo += [("unary", node, None), ("eval", c[0], None)]
        elif what in ("and", "or"):
            todo += [(what, node, None), ("eval", c[0], None)]
        elif what == "call":
            args = call_arguments(node)
            todo.append(("call", node, len(args)))
            todo.extend(("eval", a, None) for a in reversed(args))
        else:
            raise HybridTRMError(f"programs: a {what} node where an expression belongs")

    def binary(self, node: lark.Tree, _) -> None:
        b, a = self.values.pop(), self.values.pop()
        if b == 0 and kind(node) in ("div", "mod"):
            raise Stop("error", f"{'division' if kind(node) == 'div' else '%'} by zero at line {line_of(node)}")
        self.value(BINARY[kind(node)](a, b), node)

    def unary(self, node: lark.Tree, _) -> None:
        self.value(UNARY[kind(node)](self.values.pop()), node)

    def short_circuit(self, node: lark.Tree, _) -> None:
        """`a and b`, `a or b` once `a` is known: `b` only where it decides."""
        a = self.values.pop()
        if (kind(node) == "and") == (a == 0):
            self.values.append(int(a != 0))
        else:
            self.todo += [("truth", node, None), ("eval", node.children[1], None)]

    def truth(self, node: lark.Tree, _) -> None:
        self.values.append(int(self.values.pop() != 0))

    def call(self, node: lark.Tree, count: int) -> None:
        name = node.children[0]
        if len(self.scopes) > MAX_CALL_DEPTH:
            raise Stop("error", f"call of {name} at line {name.line} nested more than {MAX_CALL_DEPTH} deep")
        funcdef = self.defs.get(str(name))
        if funcdef is None:
            raise HybridTRMError(f"programs: call to undefined function {name} at line {name.line}")
        args = self.values[len(self.values) - count:]
        del self.values[len(self.values) - count:]
        self.scopes.append(dict(zip(parameters(funcdef), args)))
        self.todo.append(("end_call", node, None))
        self.push_block(funcdef.children[-1].children)


def _where(node: lark.Tree) -> str:
    line = line_of(node)
    return f"{kind(node)} at line {line}" if line is not None else kind(node)
