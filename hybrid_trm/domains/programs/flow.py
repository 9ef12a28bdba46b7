"""The labeller's static analyses over the tree: which statements are dead, and
which reads may find their variable unset (docs/programs.md, `dead`, `unset`).

Both follow the program's structure, not a graph: a statement's reachability,
and the variables set on every path to it, flow down the blocks in order, into
the branches an `if` can take (a constant condition folded: run.fold) and round
the loops to a fixpoint; what leaves a block early (`break`, `continue`, `return`)
is carried up to the loop or function it leaves. The verifier builds networkx
control-flow graphs instead; the two are compared in tests/test_programs.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...grammar import Node, kind, postorder
from .run import fold
from .syntax import functions, if_parts, reads, top_statements
from .trampoline import drive


def _taken(c: int | None) -> bool:
    """Whether a condition folded to `c` (None: not constant) may hold."""
    return c is None or c != 0


def _skipped(c: int | None) -> bool:
    """Whether it may fail."""
    return c is None or c == 0


# -- dead: can a statement be reached, can it complete ---------------------------


@dataclass(frozen=True)
class Exits:
    normal: bool  # it can complete and go on to the next statement
    breaks: bool  # a break it may reach leaves the loop around it
    continues: bool  # a continue it may reach goes to the loop's next trip


def dead_statements(tree: Node) -> set[int]:
    """The ids of the statements no path from their function's entry (or the top
    level's) reaches."""
    dead: set[int] = set()
    for function in functions(tree).values():
        drive(_reach_all(function.body.children, True, dead))
    drive(_reach_all(top_statements(tree), True, dead))
    return dead


def _reach_all(statements: list[Node], live: bool, dead: set[int]):
    breaks = continues = False
    for node in statements:
        exits = yield _reach(node, live, dead)
        live, breaks, continues = exits.normal, breaks or exits.breaks, continues or exits.continues
    return Exits(live, breaks, continues)


def _reach(node, live: bool, dead: set[int]):
    if not live:
        dead.add(id(node))
    k = node.data
    if k in ("assign", "return", "break", "continue"):
        return Exits(live and k == "assign", live and k == "break", live and k == "continue")
    if k in ("if", "if_else"):
        cond, then, other = if_parts(node)
        c = fold(cond)
        taken = yield _reach_all(then.children, live and _taken(c), dead)
        skipped = live and _skipped(c)
        if other is None:
            rest = Exits(skipped, False, False)
        elif kind(other) == "block":
            rest = yield _reach_all(other.children, skipped, dead)
        else:  # else if: a statement of its own
            rest = yield _reach(other, skipped, dead)
        return Exits(taken.normal or rest.normal, taken.breaks or rest.breaks, taken.continues or rest.continues)
    if k == "while":
        cond, body = node.children
        c = fold(cond)
        inner = yield _reach_all(body.children, live and _taken(c), dead)
        # A constant non-zero condition never fails: the loop ends by a break alone.
        return Exits(live and (_skipped(c) or inner.breaks), False, False)
    # for: never folded; its range may be empty, so it can always complete.
    yield _reach_all(node.children[3].children, live, dead)
    return Exits(live, False, False)


# -- unset: the variables set on every path to a read ----------------------------
# A state is the frozenset of variables set on every path to a point, or None where
# no path reaches it (the meet's identity: it adds no path).


def _meet(*states: frozenset | None) -> frozenset | None:
    reached = [s for s in states if s is not None]
    return frozenset.intersection(*reached) if reached else None


@dataclass(frozen=True)
class Flow:
    normal: frozenset | None  # after the statement, where it completes
    breaks: frozenset | None  # at the breaks it may reach
    continues: frozenset | None  # at the continues it may reach


class Unset:
    """Marks every read `ok` or `unset`: unset where some path from its scope's
    entry reaches it without setting its variable; ok in dead code."""

    def __init__(self, tree: Node):
        self.reads = reads(tree)
        self.marks: dict[int, str] = {}
        for function in functions(tree).values():
            drive(self.block(function.body.children, frozenset(function.params)))
        drive(self.block(top_statements(tree), frozenset()))

    def names(self, tree: Node) -> list[str]:
        """The variables with a read marked unset, sorted."""
        return sorted({str(n) for n in postorder(tree) if self.marks.get(id(n)) == "unset"})

    def mark(self, expr: Node, state: frozenset | None) -> None:
        # An expression sets nothing (a call's variables are its own): every read
        # in it sees the state before its statement.
        for node in postorder(expr):
            if id(node) in self.reads:
                self.marks[id(node)] = "ok" if state is None or str(node) in state else "unset"

    def block(self, statements: list[Node], state: frozenset | None):
        breaks = continues = None
        for node in statements:
            flow = yield self.statement(node, state)
            state, breaks, continues = flow.normal, _meet(breaks, flow.breaks), _meet(continues, flow.continues)
        return Flow(state, breaks, continues)

    def statement(self, node, state: frozenset | None):
        k = node.data
        if k == "assign":
            target, expr = node.children
            self.mark(expr, state)
            return Flow(None if state is None else state | {str(target)}, None, None)
        if k in ("return", "break", "continue"):
            if k == "return":
                self.mark(node.children[0], state)
            return Flow(None, state if k == "break" else None, state if k == "continue" else None)
        if k in ("if", "if_else"):
            return (yield self.branch(node, state))
        if k == "while":
            cond, body = node.children
            c = fold(cond)
            head = state
            while True:  # a trip only adds variables: one round reaches the fixpoint
                self.mark(cond, head)
                inner = yield self.block(body.children, head if _taken(c) else None)
                again = _meet(state, inner.normal, inner.continues)
                if again == head:
                    break
                head = again
            return Flow(_meet(head if _skipped(c) else None, inner.breaks), None, None)
        target, low, high, body = node.children
        self.mark(low, state)
        self.mark(high, state)
        head = state
        while True:
            inner = yield self.block(body.children, None if head is None else head | {str(target)})
            again = _meet(state, inner.normal, inner.continues)
            if again == head:
                break
            head = again
        # The range may be empty: the loop's variable is not set on the way out.
        return Flow(_meet(head, inner.breaks), None, None)

    def branch(self, node, state: frozenset | None):
        cond, then, other = if_parts(node)
        self.mark(cond, state)
        c = fold(cond)
        taken = yield self.block(then.children, state if _taken(c) else None)
        skipped = state if _skipped(c) else None
        if other is None:
            rest = Flow(skipped, None, None)
        elif kind(other) == "block":
            rest = yield self.block(other.children, skipped)
        else:
            rest = yield self.statement(other, skipped)
        return Flow(_meet(taken.normal, rest.normal), _meet(taken.breaks, rest.breaks), _meet(taken.continues, rest.continues))
