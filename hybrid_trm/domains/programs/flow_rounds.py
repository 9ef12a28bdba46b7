"""programs/dead and programs/unset answered by rounds run by a model (docs/programs.md,
"`dead` and `unset` by rounds"; the rounds themselves: domains/rounds.py).

The run keeps, as bookkeeping, the program's flow as the labeller's analyses
(flow.py) follow it: points before each statement, after it, at the breaks and
continues it may reach, at each loop's head, and the edges between them, a
constant condition folded as the labeller folds it (run.fold) so that an `if (1
> 2)` has no edge into its branch. An edge may set a variable: an assignment's
target, a `for`'s variable on the way into its body. Each variable read is read
at one point.

- `dead`: stated, each scope's entry (a function's body, the top level); a point
  follows where an edge comes from one that does. A statement is dead where the
  point before it never follows.
- `unset`: stated, for each variable a scope reads and does not take as a
  parameter, "unset here" at the scope's entry; it follows along every edge that
  does not set that variable. A read is `unset` where "unset here" follows at
  its point, `ok` where not (dead code included: nothing follows there).

The model says, round by round, which points follow (`domains/rounds.py`); a
statement's steps are the round its point was reached in: its distance from the
entry, in edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lark

from ...grammar import Node, kind, postorder
from ..base import Answerer, Run
from ..rounds import Chain, chain_many
from .labels import dead_labels
from .run import fold
from .syntax import STATEMENTS, functions, if_parts, reads, top_statements
from .tasks import join

Point = tuple[str, int]  # (what, id of the statement, block or scope)
# The statements a break or continue may leave a block through: itself, or an `if`
# holding one (a loop keeps its own; an assignment or a return has none).
LEAVING = frozenset(("break", "continue", "if", "if_else"))


@dataclass
class Flow:
    """One program's points and edges, per scope."""

    entries: list[tuple[Point, frozenset[str], int]] = field(default_factory=list)  # (entry, parameters, scope)
    edges: list[tuple[Point, Point, str | None, int]] = field(default_factory=list)  # (from, to, variable set, scope)
    read_at: dict[int, tuple[Point, int]] = field(default_factory=dict)  # id(read) -> (its point, scope)
    statements: list[Node] = field(default_factory=list)


def flow(tree: Node) -> Flow:
    """The points and edges of every scope (module docstring); an explicit stack:
    blocks nest as deep as a program writes them."""
    out = Flow()
    names = reads(tree)
    scopes = [(f.body.children, f.params, id(f.body)) for f in functions(tree).values()]
    scopes.append((top_statements(tree), (), id(tree)))
    for statements, params, scope in scopes:
        entry = ("entry", scope)
        out.entries.append((entry, frozenset(params), scope))
        walk = _Walk(out, names, scope)
        walk.block(statements, entry, scope)
        walk.run()
    return out


class _Walk:
    def __init__(self, out: Flow, names: set[int], scope: int):
        self.out, self.names, self.scope = out, names, scope
        self.stack: list[tuple[Node, ...]] = []

    def run(self) -> None:
        while self.stack:
            self.statement(self.stack.pop())

    def edge(self, a: Point, b: Point, sets: str | None = None) -> None:
        self.out.edges.append((a, b, sets, self.scope))

    def read(self, expr: Node, at: Point) -> None:
        for node in postorder(expr):
            if id(node) in self.names:
                self.out.read_at[id(node)] = (at, self.scope)

    def block(self, statements: list[Node], entry: Point, key: int) -> None:
        """A list of statements entered at `entry`; its exits are keyed by `key`."""
        before = entry
        for node in statements:
            self.edge(before, ("at", id(node)))
            self.stack.append(node)
            before = ("normal", id(node))
            if node.data in LEAVING:
                self.edge(("break", id(node)), ("break", key))
                self.edge(("continue", id(node)), ("continue", key))
        self.edge(before, ("normal", key))

    def exits(self, inner: int, node: Node, what=("normal", "break", "continue")) -> None:
        for exit in what:
            self.edge((exit, inner), (exit, id(node)))

    def statement(self, node: lark.Tree) -> None:
        self.out.statements.append(node)
        at, k = ("at", id(node)), node.data
        if k == "assign":
            target, expr = node.children
            self.read(expr, at)
            self.edge(at, ("normal", id(node)), str(target))
        elif k == "return":
            self.read(node.children[0], at)
        elif k in ("break", "continue"):
            self.edge(at, (k, id(node)))
        elif k in ("if", "if_else"):
            self.branch(node, at)
        elif k == "while":
            cond, body = node.children
            head = self.loop(node, at, body)
            self.read(cond, head)
            c = fold(cond)
            if c is None or c != 0:  # it may hold: the body may run
                self.edge(head, ("entry", id(body)))
            if c is None or c == 0:  # it may fail: the loop may end there
                self.edge(head, ("normal", id(node)))
            self.block(body.children, ("entry", id(body)), id(body))
        else:  # for: never folded; its range may be empty
            target, low, high, body = node.children
            self.read(low, at)
            self.read(high, at)
            head = self.loop(node, at, body)
            self.edge(head, ("entry", id(body)), str(target))
            self.edge(head, ("normal", id(node)))
            self.block(body.children, ("entry", id(body)), id(body))

    def loop(self, node: Node, at: Point, body: Node) -> Point:
        """A loop's head, reached from before it and from its body's end and continues;
        its body's breaks leave the loop."""
        head = ("head", id(node))
        self.edge(at, head)
        self.edge(("normal", id(body)), head)
        self.edge(("continue", id(body)), head)
        self.edge(("break", id(body)), ("normal", id(node)))
        return head

    def branch(self, node: lark.Tree, at: Point) -> None:
        cond, then, other = if_parts(node)
        self.read(cond, at)
        c = fold(cond)
        skip = ("skip", id(node))
        if c is None or c != 0:
            self.edge(at, ("entry", id(then)))
        if c is None or c == 0:
            self.edge(at, skip)
        self.block(then.children, ("entry", id(then)), id(then))
        self.exits(id(then), node)
        if other is None:
            self.edge(skip, ("normal", id(node)))
        elif kind(other) == "block":
            self.block(other.children, skip, id(other))
            self.exits(id(other), node)
        else:  # else if: a statement of its own, entered where the condition fails
            self.edge(skip, ("at", id(other)))
            self.stack.append(other)
            self.exits(id(other), node)


def dead_many(trees: list[Node], ask: Answerer) -> list[Run]:
    """Every program's dead statements from rounds over its flow, in lockstep:
    per statement `1` (dead) or `0`, per block, def and the program the dead
    statements inside (the labeller's labels), the root the count."""
    flows = [flow(tree) for tree in trees]
    chains = chain_many(
        [Chain.of([e for e, _, _ in f.entries], [((a,), (b,)) for a, b, _, _ in f.edges]) for f in flows], ask,
    )
    out = []
    for tree, f, chain in zip(trees, flows, chains):
        order = postorder(tree)
        dead = {id(s) for s in f.statements if ("at", id(s)) not in chain.derived}
        answers = [label or "" for label in dead_labels(order, dead)]
        steps = [chain.steps(("at", id(n))) if kind(n) in STATEMENTS else 0 for n in order]
        out.append(Run(answers[-1], chain.confidence, answers, steps))
    return out


def unset_many(trees: list[Node], ask: Answerer) -> list[Run]:
    """Every program's reads that may find their variable unset, from rounds over
    its flow, in lockstep: per read `unset` or `ok`, the root the sorted names."""
    flows = [flow(tree) for tree in trees]
    chains = chain_many([_unset_chain(f, tree) for f, tree in zip(flows, trees)], ask)
    out = []
    for tree, f, chain in zip(trees, flows, chains):
        answers, steps, names = [], [], set()
        for node in postorder(tree):
            if id(node) in f.read_at:
                at, scope = f.read_at[id(node)]
                atom = ("unset", str(node), at)
                answers.append("unset" if atom in chain.derived else "ok")
                steps.append(chain.steps(atom))
                if atom in chain.derived:
                    names.add(str(node))
            else:
                answers.append("")
                steps.append(0)
        answers[-1] = join(names)
        out.append(Run(answers[-1], chain.confidence, answers, steps))
    return out


def _unset_chain(f: Flow, tree: Node) -> Chain:
    variables: dict[int, set[str]] = {}  # scope -> the variables read in it
    for node in postorder(tree):
        if id(node) in f.read_at:
            variables.setdefault(f.read_at[id(node)][1], set()).add(str(node))
    stated = [("unset", v, entry) for entry, params, scope in f.entries for v in sorted(variables.get(scope, ())) if v not in params]
    rules = [
        ((("unset", v, a),), (("unset", v, b),))
        for a, b, sets, scope in f.edges for v in sorted(variables.get(scope, ())) if v != sets
    ]
    return Chain.of(stated, rules)
