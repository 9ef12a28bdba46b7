"""Control-flow graphs, for `dead` and `unset` (docs/programs.md).

Each function body, and the top level, is a networkx DiGraph: nodes ENTRY, EXIT
and its statements (by their number: their place in the text), an edge from each
statement to every statement that can run next. A constant condition (`fold`) is
folded: an `if` gets an edge to the branch it takes only, `while (0)` none into
its body, `while (1)` none out but by `break`. `return` goes to EXIT, `break` past
its loop, `continue` back to its loop's head; a `for` head's edge into its body
sets the loop's variable. A statement no path from ENTRY reaches is dead.

Why a dead statement is dead is read off a second graph of the same scope, the
*syntactic* one: no condition folded, and `return`, `break`, `continue` running on
to the next statement as if they did not jump. There every statement is reachable,
and a live statement with an edge into dead ones cuts them off: the `return` before
them, the `if (0)` around them, the `while (1)` they follow. The dominators of the
dead part, below a root above the cuts, say which cut each dead statement is
behind, or that it is behind several.

May-be-unset is a forward data-flow fixpoint over the graph (a worklist, sets of
variables as bit vectors): the variables that some path from ENTRY leaves unset,
on entry to each statement. A read is `unset` where its variable is among them; a
statement never reached keeps none, so a read in dead code is `ok`. The witness path is a shortest path from
ENTRY to the read that assigns the variable nowhere on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import lark
import networkx as nx

from ...errors import HybridTRMError
from ...grammar import Node, kind
from .calls import STATEMENTS, call_arguments, parameters
from .interpreter import fold

ENTRY, EXIT = "entry", "exit"
MAX_PATH_STEPS = 10  # shown of a witness path
CUTS = "cuts"  # the root above the statements that cut off dead ones (`dead`)


class Source:
    """Every statement of a program, numbered in the order of the text, and where it is."""

    def __init__(self, tree: lark.Tree, check: Callable[[], None]):
        self.number: dict[int, int] = {}  # id(statement) -> its number
        self.statements: list[lark.Tree] = []
        self.lines: list[list] = []  # [line of its first token (or of the last token before it), of the next token]
        waiting: list[int] = []  # token-less statements (break, continue) waiting for the next token's line
        last, stack = None, [tree]
        while stack:
            node = stack.pop()
            if isinstance(node, lark.Token):
                last = node.line
                for n in waiting:
                    self.lines[n][1] = last
                waiting.clear()
                continue
            if kind(node) in STATEMENTS:
                n = len(self.statements)
                if not n & 1023:
                    check()
                self.number[id(node)] = n
                self.statements.append(node)
                self.lines.append([_first_token(node).line if node.children else last, None])
                if not node.children:
                    waiting.append(n)
            stack.extend(reversed(node.children))

    def place(self, n: int) -> str:
        """`assign at line 3`; a `break` or `continue` has no token: `break between lines 3 and 4`."""
        what, (line, following) = kind(self.statements[n]), self.lines[n]
        if self.statements[n].children or following == line:
            return f"{what} at line {line}"
        if following is None:
            return f"{what} after line {line}"
        return f"{what} between lines {line} and {following}"


def _first_token(node: lark.Tree) -> lark.Token:
    """A statement's first token: every child of a statement with children starts with one."""
    while isinstance(node, lark.Tree):
        node = node.children[0]
    return node


@dataclass
class Scope:
    name: str | None  # the function's; None: the top level
    params: list[str]
    body: list[Node]
    graph: nx.DiGraph
    statements: dict[int, lark.Tree]  # graph node -> statement

    def title(self) -> str:
        return "the top level" if self.name is None else f"function {self.name}"


def scopes(tree: lark.Tree, defs: dict[str, lark.Tree], source: Source, check: Callable[[], None]) -> list[Scope]:
    """The top level's graph, then each function's, constant conditions folded."""
    found = [(None, [], [s for s in tree.children if kind(s) != "funcdef"])]
    found += [(name, parameters(d), d.children[-1].children) for name, d in defs.items()]
    return [Scope(name, params, body, *graph(body, source, check)) for name, params, body in found]


def graph(
    body: list[Node], source: Source, check: Callable[[], None], folded: bool = True, jumps: bool = True,
) -> tuple[nx.DiGraph, dict[int, lark.Tree]]:
    """The control-flow graph of one scope's statements, and its statement nodes.
    `folded=False, jumps=False` gives the syntactic graph (module docstring)."""
    g = nx.DiGraph()
    g.add_nodes_from((ENTRY, EXIT))
    _edge(g, ENTRY, _first(body, EXIT, source))
    statements: dict[int, lark.Tree] = {}
    work: list[tuple[list[Node], object, tuple | None]] = [(body, EXIT, None)]  # (block, what follows it, its loop)
    while work:
        block, after, loop = work.pop()
        for i, node in enumerate(block):
            here = source.number[id(node)]
            if not here & 1023:
                check()
            statements[here] = node
            g.add_node(here)
            following = source.number[id(block[i + 1])] if i + 1 < len(block) else after
            work.extend(_edges(g, node, here, following, loop, source, folded, jumps))
    return g, statements


def _edges(
    g: nx.DiGraph, node: lark.Tree, here: int, following, loop, source: Source, folded: bool, jumps: bool,
) -> list:
    """Add the edges out of one statement; return the blocks inside it, to be built."""
    what, c = kind(node), node.children
    if what == "assign":
        _edge(g, here, following)
    elif what == "return":
        _edge(g, here, EXIT if jumps else following)
    elif what in ("break", "continue"):
        if loop is None:
            raise HybridTRMError(f"programs: `{what}` outside a loop ({source.place(here)})")
        head, after = loop
        _edge(g, here, (after if what == "break" else head) if jumps else following)
    elif what == "for":
        body = c[3].children
        _edge(g, here, _first(body, here, source), "runs a trip", sets=str(c[0]))
        _edge(g, here, following, "runs no trip")
        return [(body, here, (here, following))]
    else:
        value = fold(c[0]) if folded else None
        if what == "while":
            body = c[1].children
            if value != 0:
                _edge(g, here, _first(body, here, source), "condition true")
            if value is None or value == 0:
                _edge(g, here, following, "condition false")
            return [(body, here, (here, following))]
        then = c[1].children
        other = [] if what == "if" else c[2].children if kind(c[2]) == "block" else [c[2]]
        if value != 0:
            _edge(g, here, _first(then, following, source), "true branch")
        if value is None or value == 0:
            _edge(g, here, _first(other, following, source), "false branch")
        return [(then, following, loop), (other, following, loop)]
    return []


def _first(block: list[Node], otherwise, source: Source):
    return source.number[id(block[0])] if block else otherwise


def _edge(g: nx.DiGraph, a, b, branch: str | None = None, sets: str | None = None) -> None:
    if g.has_edge(a, b):  # `if (c) { }`: both branches go on to the same statement
        g.edges[a, b]["branch"] = "either branch"
    else:
        g.add_edge(a, b, branch=branch, sets=sets)


def dead(scope: Scope, source: Source, check: Callable[[], None]) -> dict[tuple[int, ...], list[int]]:
    """The scope's dead statements, grouped by the live statements that cut them off.

    Cuts are read off the syntactic graph: the live statements with an edge there
    into a dead one (the `return` before it, the `if (0)` around it). Under a root
    above all cuts, a dead statement whose chain of immediate dominators meets a cut
    is cut off by that one alone; one dominated by the root only, by several."""
    live = nx.descendants(scope.graph, ENTRY)
    gone = [n for n in sorted(scope.statements) if n not in live]
    if not gone:
        return {}
    syntactic, _ = graph(scope.body, source, check, folded=False, jumps=False)
    region = nx.DiGraph()
    region.add_node(CUTS)
    dead_ones = set(gone)
    for n in gone:
        # Each statement's in-edges latest-built first: the innermost of nested ifs
        # first, so that networkx's intersect climbs the dominator tree once, not
        # once an edge (the join of 10,000 nested ifs: 0.3 s, not 5).
        for cut in reversed(list(syntactic.pred[n])):
            if cut not in dead_ones:  # a live statement: a cut
                region.add_edge(CUTS, cut)
            region.add_edge(cut, n)
    dominator = nx.immediate_dominators(region, CUTS)
    below: dict | None = None  # each cut's dead statements, where a statement has several cuts
    groups: dict[tuple[int, ...], list[int]] = {}
    behind: dict = {}  # dead statement -> its nearest dominator that is not dead
    for n in gone:
        chain, cut = [], n
        while cut in dead_ones and cut not in behind:
            chain.append(cut)
            cut = dominator[cut]
        cut = behind.get(cut, cut)
        behind.update((c, cut) for c in chain)
        if cut != CUTS:
            groups.setdefault((cut,), []).append(n)
            continue
        if below is None:
            below = {c: nx.descendants(region, c) for c in region.successors(CUTS)}
        groups.setdefault(tuple(sorted(c for c in below if n in below[c])), []).append(n)
    return groups


def cause(cuts: tuple[int, ...], source: Source) -> str:
    """What cuts off a group of dead statements: `cut off by the return at line 4`."""
    said = []
    for n in cuts:
        node = source.statements[n]
        value = fold(node.children[0]) if kind(node) in ("if", "if_else", "while") else None
        said.append(f"the {source.place(n)}" + (f" (its condition is always {value})" if value is not None else ""))
    return "cut off by " + (" and ".join(said) if len(said) < 3 else ", ".join(said[:-1]) + " and " + said[-1])


def reads(node: lark.Tree) -> list[lark.Token]:
    """The variables a statement reads itself (not in the blocks inside it), in order."""
    c = node.children
    parts = {"assign": c[1:2], "for": c[1:3], "return": c[:1], "if": c[:1], "if_else": c[:1], "while": c[:1]}
    names, stack = [], list(reversed(parts.get(kind(node), [])))
    while stack:
        item = stack.pop()
        if isinstance(item, lark.Token):
            if item.type == "NAME":
                names.append(item)
        else:
            stack.extend(reversed(call_arguments(item) if kind(item) == "call" else item.children))
    return names


def unset_reads(scope: Scope, check: Callable[[], None]) -> list[tuple[int, lark.Token, bool]]:
    """Each read of the scope, in the order of the text: (its statement, the name
    read, whether some path from ENTRY reaches it with the name unset)."""
    reading = {n: reads(scope.statements[n]) for n in sorted(scope.statements)}
    # A set of variables is an int, a bit per variable: 50,000 statements reading
    # 50,000 names cost 300 MB as bits, gigabytes as sets.
    bit = {name: 1 << i for i, name in enumerate(sorted({str(t) for ts in reading.values() for t in ts}))}
    entering = _may_unset(scope, bit, check)
    return [(n, t, bool(entering.get(n, 0) & bit[str(t)])) for n, ts in reading.items() for t in ts]


def _may_unset(scope: Scope, bit: dict[str, int], check: Callable[[], None]) -> dict:
    """For each statement a path from ENTRY reaches: the variables (bits) that some
    such path leaves unset on entry to it. The least fixpoint, by a worklist."""
    kills = {n: bit.get(str(s.children[0]), 0) for n, s in scope.statements.items() if kind(s) == "assign"}
    entering = {ENTRY: ((1 << len(bit)) - 1) & ~sum(bit.get(p, 0) for p in set(scope.params))}
    work, steps = [ENTRY], 0
    while work:
        steps += 1
        if not steps & 1023:
            check()
        node = work.pop()
        leaving = entering[node] & ~kills.get(node, 0)
        for succ, edge in scope.graph.adj[node].items():
            carried = leaving & ~bit.get(edge["sets"], 0)
            known = entering.get(succ)
            if known is None or carried & ~known:
                entering[succ] = carried if known is None else known | carried
                work.append(succ)
    return entering


def witness(scope: Scope, source: Source, target: int, name: str) -> str:
    """A path from ENTRY to the statement `target` on which nothing assigns `name`."""
    g = scope.graph
    blocked = {
        n for n, s in scope.statements.items() if n != target and kind(s) == "assign" and str(s.children[0]) == name
    }
    view = nx.subgraph_view(
        g, filter_node=lambda n: n not in blocked, filter_edge=lambda a, b: g.edges[a, b]["sets"] != name,
    )
    try:
        path = nx.shortest_path(view, ENTRY, target)
    except nx.NetworkXNoPath:
        return "(no path found: the fixpoint and the path search disagree)"
    steps = ["entry" if scope.name is None else f"entry of {scope.name}"]
    for a, b in zip(path[1:-1], path[2:]):
        if g.out_degree(a) > 1:
            steps.append(f"line {source.lines[a][0]} ({kind(source.statements[a])}, {g.edges[a, b]['branch']})")
    steps.append(f"line {source.lines[target][0]}")
    if len(steps) > MAX_PATH_STEPS:  # a read under 10,000 nested ifs: the ends say enough
        hidden = len(steps) - MAX_PATH_STEPS + 1
        head, tail = steps[: MAX_PATH_STEPS // 2], steps[len(steps) - MAX_PATH_STEPS // 2 + 1 :]
        steps = head + [f"({hidden:,} more branches)"] + tail
    return " -> ".join(steps)
