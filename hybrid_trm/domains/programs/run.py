"""The labeller's executor: runs a program as docs/programs.md says and records,
for every node, what the `output` and `trips` tasks label it with.

A walk of the tree by generators (trampoline.py): calls nested 100 deep inside
loops nested as deep as the input likes never touch Python's recursion limit.
The verifier (verifiers/programs/) interprets the same trees with its own code;
the two are compared in tests/test_programs.py.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import lark

from ...grammar import Node, kind, postorder
from .syntax import BINARY, Function, LOOPS, call_args, functions, if_parts, top_statements
from .trampoline import drive

LIMIT = 10**12  # a value whose magnitude reaches this stops the run: `error`
MAX_STATEMENTS = 10_000  # the run stops, `timeout`, before the statement after this many
MAX_CALL_DEPTH = 100  # calls nested deeper than this: `error`


class Stop(Exception):
    """The run ends without a value: `answer` is `error` or `timeout`."""

    def __init__(self, answer: str, why: str):
        super().__init__(why)
        self.answer = answer
        self.why = why


class Return:
    __slots__ = ("value",)

    def __init__(self, value: int):
        self.value = value


BREAK, CONTINUE = "break", "continue"  # a block's other ways to end early


def _divide(a: int, b: int) -> int:
    if b == 0:
        raise Stop("error", "division by zero")
    return a // b


def _modulo(a: int, b: int) -> int:
    if b == 0:
        raise Stop("error", "% by zero")
    return a % b


def _compare(test):
    return lambda a, b: int(test(a, b))


OPERATIONS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": _divide, "mod": _modulo,
    "lt": _compare(operator.lt), "le": _compare(operator.le), "gt": _compare(operator.gt),
    "ge": _compare(operator.ge), "eq": _compare(operator.eq), "ne": _compare(operator.ne),
}
assert set(OPERATIONS) == BINARY


@dataclass
class Run:
    answer: str  # the program's value, or `error`, or `timeout`
    executed: int  # statements executed (the `trips` answer: 10,000 where it timed out)
    # id(node) -> its value the last time it was evaluated: expressions, assign, return
    values: dict[int, int] = field(default_factory=dict)
    # id(statement) -> times it was executed; a loop's: times its body ran
    counts: dict[int, int] = field(default_factory=dict)
    why: str = ""  # what stopped a run that ended in `error` or `timeout`


def run(tree: Node) -> Run:
    """Run the program; every statement count and value it had, as a Run."""
    machine = Machine(functions(tree))
    try:
        value = drive(machine.program(tree))
    except Stop as stop:
        executed = MAX_STATEMENTS if stop.answer == "timeout" else machine.executed
        return Run(stop.answer, executed, machine.values, machine.counts, stop.why)
    return Run(str(value), machine.executed, machine.values, machine.counts)


def fold(node: Node) -> int | None:
    """A condition's constant value (docs/programs.md, `dead`): None where it holds
    a name or a call, or where computing it stops the run (a division by zero, a
    value past the limit). `and` and `or` fold as they run: `0 and 1 / 0` is 0."""
    if isinstance(node, lark.Token):
        return int(node) if node.type == "INT" and int(node) < LIMIT else None
    if any(kind(n) in ("NAME", "call") for n in postorder(node)):
        return None
    try:
        return drive(Machine({}).expr(node, {}))
    except Stop:
        return None


class Machine:
    """One run's state: the functions, the statements executed, the call depth,
    and what every node was."""

    def __init__(self, defined: dict[str, Function]):
        self.functions = defined
        self.executed = 0
        self.depth = 0
        self.values: dict[int, int] = {}
        self.counts: dict[int, int] = {}

    def program(self, tree: Node):
        env: dict[str, int] = {}
        for node in top_statements(tree):
            signal = yield self.statement(node, env)
            if isinstance(signal, Return):
                return signal.value
        raise Stop("error", "the program ends without return")

    def block(self, node: lark.Tree, env: dict[str, int]):
        for child in node.children:
            signal = yield self.statement(child, env)
            if signal is not None:
                return signal
        return None

    def statement(self, node: lark.Tree, env: dict[str, int]):
        if self.executed == MAX_STATEMENTS:
            raise Stop("timeout", f"more than {MAX_STATEMENTS:,} statements")
        self.executed += 1
        k = node.data
        if k not in LOOPS:
            self.counts[id(node)] = self.counts.get(id(node), 0) + 1
        if k == "assign":
            target, expr = node.children
            value = yield from_expr(self, expr, env)
            env[str(target)] = self.values[id(node)] = value
            return None
        if k == "return":
            value = yield from_expr(self, node.children[0], env)
            self.values[id(node)] = value
            return Return(value)
        if k == "break":
            return BREAK
        if k == "continue":
            return CONTINUE
        if k == "while":
            return (yield self.loop_while(node, env))
        if k == "for":
            return (yield self.loop_for(node, env))
        cond, then, other = if_parts(node)
        if (yield from_expr(self, cond, env)):
            return (yield self.block(then, env))
        if other is None:
            return None
        return (yield (self.block if kind(other) == "block" else self.statement)(other, env))

    def loop_while(self, node: lark.Tree, env: dict[str, int]):
        cond, body = node.children
        key = id(node)
        self.counts.setdefault(key, 0)
        while True:
            before = self.executed
            if not (yield from_expr(self, cond, env)):
                return None
            self.counts[key] += 1
            ended, result = _trip_ended((yield self.block(body, env)))
            if ended:
                return result
            if self.executed == before:
                # A trip that ran no statement changed no variable (only statements
                # do): every later trip is the same, and the loop never ends.
                raise Stop("timeout", "a loop that runs no statement never ends")

    def for_head(self, node: lark.Tree, env: dict[str, int]):
        """A `for`'s key, variable, body and bounds (evaluated once, before any trip)."""
        target, low, high, body = node.children
        self.counts.setdefault(id(node), 0)
        start = yield from_expr(self, low, env)
        end = yield from_expr(self, high, env)
        return id(node), str(target), body, start, end

    def loop_for(self, node: lark.Tree, env: dict[str, int]):
        """Its counting (`value < end`, `value + 1`) computed as any operator is
        (`operate`): by the executor's model too."""
        key, name, body, value, end = yield self.for_head(node, env)
        if not body.children:  # nothing runs per trip: the trips at once, however many
            if (yield self.operate(node, "gt", end, value)):
                self.counts[key] += yield self.operate(node, "sub", end, value)
                env[name] = yield self.operate(node, "sub", end, 1)
            return None
        while (yield self.operate(node, "lt", value, end)):
            ended, result = yield self.trip(key, name, value, body, env)
            if ended:
                return result
            value = yield self.operate(node, "add", value, 1)
        return None

    def trip(self, key: int, name: str, value: int, body: lark.Tree, env: dict[str, int]):
        """One trip of the `for` `key`: its variable set to `value`, its body run;
        (whether the loop ends, what it hands on), as _trip_ended."""
        env[name] = value
        self.counts[key] += 1
        return _trip_ended((yield self.block(body, env)))

    def leaf(self, node: lark.Token, env: dict[str, int]) -> int:
        if node.type == "INT":
            value = int(node)
        elif str(node) in env:
            value = env[str(node)]
        else:
            raise Stop("error", f"{node} is read before it is set (line {node.line})")
        return self.keep(node, value)

    def keep(self, node: Node, value: int) -> int:
        if not -LIMIT < value < LIMIT:
            raise Stop("error", f"a value reaches 10^12: {value}")
        self.values[id(node)] = value
        return value

    def expr(self, node: lark.Tree, env: dict[str, int]):
        k = node.data
        first = node.children[0]
        a = self.leaf(first, env) if isinstance(first, lark.Token) and k != "call" else None
        if k == "call":
            return self.keep(node, (yield self.call(node, env)))
        if a is None:
            a = yield self.expr(first, env)
        b = None
        if k in ("and", "or"):
            if bool(a) != (k == "or"):  # not decided by the left side alone
                b = yield from_expr(self, node.children[1], env)
        elif k not in ("neg", "not"):
            b = yield from_expr(self, node.children[1], env)
        return self.keep(node, (yield self.operate(node, k, a, b)))

    def operate(self, node: Node, k: str, a: int, b: int | None):
        """The walk that computes operator `k` (a node kind) of `node` on a and b
        (None: unary, or the side `and` / `or` skips): here at once, in Python; the
        executor asks its model (execute.py)."""
        if k == "neg":
            return _now(-a)
        if k == "not":
            return _now(int(not a))
        if k in ("and", "or"):
            return _now(int(k == "or") if b is None else int(bool(b)))
        return _now(OPERATIONS[k](a, b))

    def call(self, node: lark.Tree, env: dict[str, int]):
        function = self.functions[str(node.children[0])]
        args = []
        for arg in call_args(node):
            args.append((yield from_expr(self, arg, env)))
        if self.depth == MAX_CALL_DEPTH:
            raise Stop("error", f"calls nested more than {MAX_CALL_DEPTH} deep")
        self.depth += 1
        signal = yield self.block(function.body, dict(zip(function.params, args)))
        self.depth -= 1
        if not isinstance(signal, Return):
            raise Stop("error", f"function {function.name} ends without return")
        return signal.value


def from_expr(machine: Machine, node: Node, env: dict[str, int]):
    """The walk that evaluates any expression node, a leaf included."""
    if isinstance(node, lark.Token):
        return _now(machine.leaf(node, env))
    return machine.expr(node, env)


def _now(value: int):
    return value
    yield  # a generator that returns at once


def _trip_ended(signal) -> tuple[bool, Return | None]:
    """After one trip of a loop's body: whether the loop ends (a `break`, or a
    `return` passing through), and what it hands on (the Return, or None)."""
    if signal == BREAK:
        return True, None
    if isinstance(signal, Return):
        return True, signal
    return False, None
