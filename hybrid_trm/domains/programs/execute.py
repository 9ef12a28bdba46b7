"""The executor: a run of a program whose every value comes from a model.

It walks the program as the labeller's run does (run.Machine: statements in
order, a loop's body again for as long as its condition holds, a call into the
function's body with its own variables), but it computes nothing itself: each
expression it meets is closed (closed.py: its names and calls replaced by their
values) and asked of the model, whose answer is the value the run goes on with —
the variables hold the model's own answers, a loop runs while the model says its
condition holds, a `for` counts with the model's `i + 1` and `i < end`. What stays
symbolic is the bookkeeping a machine does: which name holds which value, which
statement comes next, the statements executed (the timeout) and the depth of
calls. A name read before it is set stops the run with `error`, as does a model
that answers `error` (a division by zero) for an expression.

Many programs run in lockstep (`execute_many`): each round asks the model one
batch holding the next expression of every program still running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import lark

from ...grammar import Node, kind, postorder
from ..base import Answerer, Run
from .closed import SYMBOLS, literal, render
from .run import MAX_STATEMENTS, Machine, Stop, from_expr
from .syntax import STATEMENTS, functions
from .trampoline import advance

# The node kinds the executor walks itself; the model answers the others (operators
# and integers) in the closed expressions it is asked.
WALKED = frozenset((
    "program", "funcdef", "params", "block", "assign", "if", "if_else", "while", "for", "break", "continue", "return",
    "call", "args", "NAME",
))



class Ask:
    """What a walk yields to have a closed expression evaluated by the model."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


@dataclass
class Execution:
    answer: str  # the program's value, `error` or `timeout`
    executed: int  # statements executed (MAX_STATEMENTS where it timed out)
    counts: dict[int, int] = field(default_factory=dict)  # id(statement) -> runs; a loop's: trips
    values: dict[int, int] = field(default_factory=dict)  # id(node) -> its value the last time it was evaluated
    asks: dict[int, int] = field(default_factory=dict)  # id(node) -> questions asked for it (a `for`: its counting)
    confidence: float = 1.0  # the least confidence of any of them
    why: str = ""

    @property
    def asked(self) -> int:
        """Questions the model answered for this run."""
        return sum(self.asks.values())


class Executor(Machine):
    """run.Machine with its expressions evaluated by the model (module docstring)."""

    def __init__(self, tree: Node):
        super().__init__(functions(tree))
        self.reads: dict[int, frozenset[str] | None] = {}  # id(expression) -> its names (None: it holds a call)
        self.confidence = 1.0
        self.asks: dict[int, int] = {}

    def ask(self, text: str, node: Node):
        """The model's value of the closed expression `text`, asked for `node`."""
        self.asks[id(node)] = self.asks.get(id(node), 0) + 1
        value = yield Ask(text)
        return value

    def _names(self, node: lark.Tree) -> frozenset[str] | None:
        """The names an expression reads; None where it holds a call (its value
        comes from a run of the function, not from one question)."""
        key = id(node)
        if key not in self.reads:
            below = postorder(node)
            calls = any(getattr(n, "data", None) == "call" for n in below)
            names = frozenset(str(n) for n in below if isinstance(n, lark.Token) and n.type == "NAME")
            self.reads[key] = None if calls else names
        return self.reads[key]

    def expr(self, node: lark.Tree, env: dict[str, int]):
        names = self._names(node)
        if names is not None and names <= env.keys():
            value = yield self.ask(render(node, lambda n: env[str(n)]), node)
            return self.keep(node, value)
        # A call below, or a name that may be unset (read, or skipped by `and` /
        # `or`): the operands first, each as its own question, then the operator.
        k = node.data
        if k == "call":
            return self.keep(node, (yield self.call(node, env)))
        a = yield from_expr(self, node.children[0], env)
        if k in ("neg", "not"):
            value = yield self.ask(f"(-{literal(a)})" if k == "neg" else f"(not {literal(a)})", node)
        elif k in ("and", "or") and bool(a) == (k == "or"):  # decided by the left side alone
            value = yield self.ask(f"({literal(a)} {k} 0)", node)
        else:
            b = yield from_expr(self, node.children[1], env)
            value = yield self.ask(f"({literal(a)} {SYMBOLS[k]} {literal(b)})", node)
        return self.keep(node, value)

    def loop_for(self, node: lark.Tree, env: dict[str, int]):
        key, name, body, value, end = yield self.for_head(node, env)
        if not body.children:  # nothing runs per trip: the trips at once, however many
            if (yield self.ask(f"({literal(end)} > {literal(value)})", node)):
                self.counts[key] += yield self.ask(f"({literal(end)} - {literal(value)})", node)
                env[name] = yield self.ask(f"({literal(end)} - 1)", node)
            return None
        while (yield self.ask(f"({literal(value)} < {literal(end)})", node)):
            ended, result = yield self.trip(key, name, value, body, env)
            if ended:
                return result
            value = yield self.ask(f"({literal(value)} + 1)", node)
        return None


def execute_many(trees: list[Node], model: Answerer) -> list[Execution]:
    """Run every program with `model` (closed expressions in, an integer's text or
    `error` / `timeout` out), in lockstep: one batch of questions a round."""
    machines = [Executor(t) for t in trees]
    stacks = [[m.program(t)] for m, t in zip(machines, trees)]
    results: list[Execution | None] = [None] * len(trees)
    sending: dict[int, object] = {i: None for i in range(len(trees))}
    while sending:
        asks: dict[int, Ask] = {}
        for i, value in sending.items():
            try:
                step = advance(stacks[i], value, (Ask,))
            except Stop as stop:
                results[i] = _finished(machines[i], stop.answer, stop.why)
                continue
            if isinstance(step, Ask):
                asks[i] = step
            else:
                results[i] = _finished(machines[i], str(step.value))
        sending = {}
        if not asks:
            break
        answers = model([a.text for a in asks.values()])
        for i, (answer, confidence) in zip(asks, answers):
            machine = machines[i]
            machine.confidence = min(machine.confidence, confidence)
            try:
                sending[i] = int(answer)
            except ValueError:  # `error`: the model says the expression stops the run
                results[i] = _finished(machine, "error", f"the model answers {answer} for {asks[i].text}")
    return [r for r in results if r is not None]


def _finished(machine: Executor, answer: str, why: str = "") -> Execution:
    executed = MAX_STATEMENTS if answer == "timeout" else machine.executed
    return Execution(answer, executed, machine.counts, machine.values, machine.asks, machine.confidence, why)


def run_of(tree: Node, execution: Execution, task: str) -> Run:
    """A run's answer to `task`, per node in postorder: `output`, each node's last
    value; `trips`, a statement's runs, a loop's trips and at the root the statements
    executed. A node's steps are the questions asked for it (a loop's: those of its
    condition, one a trip and one to stop; a `for`'s, its counting)."""
    order = postorder(tree)
    if task == "trips":
        answers = [str(execution.counts.get(id(n), 0)) if kind(n) in STATEMENTS else "" for n in order]
        answers[-1] = str(execution.executed)
    else:
        answers = ["" if execution.values.get(id(n)) is None else str(execution.values[id(n)]) for n in order]
        answers[-1] = execution.answer
    steps = []
    for node in order:
        asked = execution.asks.get(id(node), 0)
        if isinstance(node, lark.Tree) and node.data == "while":
            asked += execution.asks.get(id(node.children[0]), 0)
        steps.append(asked)
    return Run(answers[-1], execution.confidence, answers, steps)
