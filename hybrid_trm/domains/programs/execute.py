"""The executor: a run of a program whose every value comes from a model.

It walks the program as the labeller's run does (run.Machine: statements in
order, a loop's body again for as long as its condition holds, a call into the
function's body with its own variables), but computes no operator itself: each
operator's value is worked out by hand (schoolbook.py), every digit fact of it
(`((7 + 8) + 1)`, `((3 * 4) + 2)`) asked of the model, whose answers are the
values the run goes on with: the variables hold values the model's facts built,
a loop runs while the model's facts say its condition holds, a `for` counts with
the model's `i + 1` and `i < end`. What stays symbolic is the bookkeeping a
machine does: which name holds which value, which statement and which column
come next, the statements executed (the timeout), the depth of calls, and a
value's sign, digits and whether it is zero (a division by zero stops the run
with `error`; so does a name read before it is set, and a model that answers
`error` for a fact).

Many programs run in lockstep (`execute_many`): each round asks the model one
batch holding the facts the programs still running wait on, each with the rest
of its kind (all 200 sums, say: a run that needs one sum needs many, and a
batch costs far less than the rounds that would ask them one at a time); a
fact is asked once (the model is deterministic), and a program goes on without
waiting where the model has answered its fact already.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ...grammar import Node, kind, parse, postorder
from ..base import Answerer, Run
from . import schoolbook
from .labels import answer
from .run import MAX_STATEMENTS, Machine, Stop
from .schoolbook import Fact
from .syntax import LOOPS, STATEMENTS, functions
from .trampoline import Done, advance


@dataclass
class Execution:
    answer: str  # the program's value, `error` or `timeout`
    executed: int  # statements executed (MAX_STATEMENTS where it timed out)
    counts: dict[int, int] = field(default_factory=dict)  # id(statement) -> runs; a loop's: trips
    values: dict[int, int] = field(default_factory=dict)  # id(node) -> its value the last time it was evaluated
    asks: dict[int, int] = field(default_factory=dict)  # id(node) -> facts asked for it (a `for`: its counting)
    decisions: dict[int, int] = field(default_factory=dict)  # id(loop) -> times it decided to run its body again or stop
    confidence: float = 1.0  # the least confidence of any of them
    why: str = ""

    @property
    def asked(self) -> int:
        """Facts the model answered for this run (as often as asked)."""
        return sum(self.asks.values())


class Executor(Machine):
    """run.Machine with every operator worked out by hand, its digit facts asked of
    the model (module docstring). `arithmetic` works an operator out (yielding the
    Facts it asks): the schoolbook's, or another way of asking a model that a
    measurement compares (benchmarks/programs_run.py)."""

    arithmetic = staticmethod(schoolbook.operate)

    def __init__(self, tree: Node):
        super().__init__(functions(tree))
        self.confidence = 1.0
        self.asks: dict[int, int] = {}
        self.node: Node | None = None  # the node whose operator is being worked out
        self.conditions = {id(n.children[0]): n for n in postorder(tree) if kind(n) == "while"}
        self.decisions: dict[int, int] = {}  # id(loop) -> Execution.decisions

    def operate(self, node: Node, k: str, a: int, b: int | None):
        self.node = node
        if k in ("lt", "gt") and kind(node) == "for":  # its test for one more trip (run.Machine.loop_for)
            self.decide(node)
        return self.arithmetic(k, a, b)

    def keep(self, node: Node, value: int) -> int:
        loop = self.conditions.get(id(node))
        if loop is not None:  # a `while`'s condition, evaluated: one more trip, or the end
            self.decide(loop)
        return super().keep(node, value)

    def decide(self, loop: Node) -> None:
        self.decisions[id(loop)] = self.decisions.get(id(loop), 0) + 1

    def count(self) -> None:
        """One more fact asked for the node being worked out."""
        self.asks[id(self.node)] = self.asks.get(id(self.node), 0) + 1


def execute_many(trees: list[Node], model: Answerer, machine: type[Executor] = Executor) -> list[Execution]:
    """Run every program with `model` (digit facts in, an integer's text or
    `error` out), in lockstep: one batch of facts not yet answered a round.
    `machine`: the Executor, or one whose `arithmetic` asks other facts."""
    machines = [machine(t) for t in trees]
    stacks = [[m.program(t)] for m, t in zip(machines, trees)]
    results: list[Execution | None] = [None] * len(trees)
    known: dict[str, tuple[str, float]] = {}  # fact -> the model's answer and confidence
    waiting: dict[int, Fact | None] = {i: None for i in range(len(trees))}  # program -> the fact it waits on
    while waiting:
        new = [f.text for f in waiting.values() if f is not None and f.text not in known]
        if new:  # each with its family: one batch now spares the many rounds that would find them one by one
            new = [t for t in dict.fromkeys(new + [t for f in new for t in schoolbook.family(f)]) if t not in known]
            known.update(zip(new, model(new)))
        for i, fact in list(waiting.items()):
            finished = _go_on(machines[i], stacks[i], fact, known)
            if isinstance(finished, Fact):
                waiting[i] = finished
            else:
                results[i] = finished
                del waiting[i]
    return [r for r in results if r is not None]


def _go_on(machine: Executor, stack: list, fact: Fact | None, known: dict[str, tuple[str, float]]):
    """Advance one program from the fact it waited on (None: its start) for as long
    as the model has answered the facts it asks: the Execution where it ends, or
    the Fact it waits on next."""
    while True:
        value = None
        if fact is not None:
            text, confidence = known[fact.text]
            machine.confidence = min(machine.confidence, confidence)
            try:
                value = int(text)
            except ValueError:  # `error`: the model says the fact stops the run
                return _finished(machine, "error", f"the model answers {text} for {fact.text}")
        try:
            step = advance(stack, value, (Fact,))
        except Stop as stop:
            return _finished(machine, stop.answer, stop.why)
        if isinstance(step, Done):
            return _finished(machine, str(step.value))
        machine.count()
        if step.text not in known:
            return step
        fact = step


@lru_cache(maxsize=None)
def _exact(text: str) -> str:
    """The labeller's answer to a fact (a closed expression)."""
    return answer(parse("programs", f"return {text};"), "output")


def facts_asked(tree: Node) -> list[str]:
    """The distinct facts a run of `tree` asks a model that answers each right, in
    the order first asked: what the executor's model learns from (the
    `expressions` knob)."""
    machine = Executor(tree)
    stack = [machine.program(tree)]
    asked: dict[str, None] = {}
    value = None
    while True:
        try:
            step = advance(stack, value, (Fact,))
        except Stop:
            return list(asked)
        if isinstance(step, Done):
            return list(asked)
        asked[step.text] = None
        value = int(_exact(step.text))


def _finished(machine: Executor, answer: str, why: str = "") -> Execution:
    executed = MAX_STATEMENTS if answer == "timeout" else machine.executed
    return Execution(
        answer, executed, machine.counts, machine.values, machine.asks, machine.decisions, machine.confidence, why,
    )


def run_of(tree: Node, execution: Execution, task: str) -> Run:
    """A run's answer to `task`, per node in postorder: `output`, each node's last
    value; `trips`, a statement's runs, a loop's trips and at the root the statements
    executed. A node's steps are the facts asked for it; a loop's, the times it
    decided whether to run its body again: its condition evaluated, each time
    decided by the model's facts where it holds an operator (`i < n`; `while (1)`:
    by its value alone), for a trip or for the end."""
    order = postorder(tree)
    if task == "trips":
        answers = [str(execution.counts.get(id(n), 0)) if kind(n) in STATEMENTS else "" for n in order]
        answers[-1] = str(execution.executed)
    else:
        answers = ["" if execution.values.get(id(n)) is None else str(execution.values[id(n)]) for n in order]
        answers[-1] = execution.answer
    steps = [
        execution.decisions.get(id(n), 0) if kind(n) in LOOPS else execution.asks.get(id(n), 0) for n in order
    ]
    return Run(answers[-1], execution.confidence, answers, steps)
