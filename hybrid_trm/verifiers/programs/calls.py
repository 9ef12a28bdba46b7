"""A program's functions and its call graph.

`functions` is the verifier's own check that a tree is a well-formed program (the
domain refuses the others when it parses them, docs/programs.md): every node of a
kind and arity the grammar makes, no function defined twice, no parameter named
twice, no call to a function that is not defined or with the wrong number of
arguments, no `break` or `continue` outside a loop, `def` only at the top level.
A malformed tree gets HybridTRMError with one line naming the problem.

`recursive` answers the `recursive` task from the call graph: an edge from each
function to every function whose call appears in its body (reachable or not); a
function is recursive where it lies on a cycle, a call to itself included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import lark

from ...errors import HybridTRMError
from ...grammar import Node, kind

if TYPE_CHECKING:  # networkx is imported where a graph is built: `output` needs none (a fresh solve's time)
    import networkx as nx

STATEMENTS = ("assign", "if", "if_else", "while", "for", "break", "continue", "return")
BINARY = ("or", "and", "lt", "le", "gt", "ge", "eq", "ne", "add", "sub", "mul", "div", "mod")
# What a child may be, by class: the kinds (rule names, token types) of each class.
CLASSES = {
    "NAME": {"NAME"}, "expr": {"NAME", "INT", "call", "neg", "not", *BINARY}, "block": {"block"},
    "params": {"params"}, "args": {"args"}, "stmt": set(STATEMENTS), "top": {*STATEMENTS, "funcdef"},
    "else": {"block", "if", "if_else"},
}
# The children of each kind of node, as the grammar makes them: one class a child...
FIXED = {
    "funcdef": [("NAME", "block"), ("NAME", "params", "block")], "call": [("NAME",), ("NAME", "args")],
    "assign": [("NAME", "expr")], "if": [("expr", "block")], "if_else": [("expr", "block", "else")],
    "while": [("expr", "block")], "for": [("NAME", "expr", "expr", "block")], "return": [("expr",)],
    "break": [()], "continue": [()], "neg": [("expr",)], "not": [("expr",)],
    **{op: [("expr", "expr")] for op in BINARY},
}
# ... or any number of one class, at least so many.
LISTS = {"program": ("top", 0), "block": ("stmt", 0), "params": ("NAME", 1), "args": ("expr", 1)}
LOOPS = ("while", "for")


def line_of(node: Node) -> int | None:
    """The line of the node's first token, or None where it has none (`break`)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, lark.Token):
            return item.line
        stack.extend(reversed(item.children))
    return None


def parameters(funcdef: lark.Tree) -> list[str]:
    return [str(p) for p in funcdef.children[1].children] if len(funcdef.children) == 3 else []


def call_arguments(call: lark.Tree) -> list[Node]:
    return call.children[1].children if len(call.children) == 2 else []


def functions(tree: Node, check: Callable[[], None]) -> dict[str, lark.Tree]:
    """The program's `def`s by name, once the tree is checked well-formed (above)."""
    if not isinstance(tree, lark.Tree) or kind(tree) != "program":
        raise HybridTRMError(f"programs: the verifier takes a `program` tree, not a {kind(tree)} node")
    _check_shape(tree)
    defs: dict[str, lark.Tree] = {}
    for node in tree.children:
        if kind(node) == "funcdef":
            _check_def(node, defs)
    calls, steps = [], 0
    stack: list[tuple[lark.Tree, int]] = [(child, 0) for child in tree.children]  # (node, loops around it in its scope)
    while stack:
        steps += 1
        if not steps & 1023:
            check()
        node, loops = stack.pop()
        _check_shape(node)
        what = kind(node)
        if what in ("break", "continue") and not loops:
            raise HybridTRMError(f"programs: `{what}` outside a loop (near line {_near(node, tree)})")
        if what == "call":
            calls.append(node)
        inner = 0 if what == "funcdef" else loops + (what in LOOPS)
        stack.extend((child, inner) for child in node.children if isinstance(child, lark.Tree))
    for call in calls:
        _check_call(call, defs)
    return defs


def _check_def(node: lark.Tree, defs: dict[str, lark.Tree]) -> None:
    _check_shape(node)
    name = node.children[0]
    if str(name) in defs:
        first = defs[str(name)].children[0].line
        raise HybridTRMError(f"programs: function {name} is defined twice (lines {first} and {name.line})")
    names = parameters(node)
    twice = sorted({p for p in names if names.count(p) > 1})
    if twice:
        raise HybridTRMError(f"programs: function {name} (line {name.line}) names parameter {twice[0]} twice")
    defs[str(name)] = node


def _check_shape(node: lark.Tree) -> None:
    what = kind(node)
    got = [kind(c) if isinstance(c, (lark.Tree, lark.Token)) else type(c).__name__ for c in node.children]
    if what in LISTS:
        group, fewest = LISTS[what]
        fits = len(got) >= fewest and all(k in CLASSES[group] for k in got)
    elif what in FIXED:
        fits = any(len(s) == len(got) and all(k in CLASSES[c] for c, k in zip(s, got)) for s in FIXED[what])
    else:
        raise HybridTRMError(f"programs: unexpected node {what!r} in a program tree")
    if not fits and what == "block" and "funcdef" in got:
        where = line_of(node)
        raise HybridTRMError(f"programs: a `def` near line {where} is inside a block: functions are defined at the top level only")
    if not fits:
        shown = ", ".join(got[:6]) + (", ..." if len(got) > 6 else "") or "none"
        raise HybridTRMError(f"programs: a malformed {what} node (children: {shown}) near line {line_of(node)}")


def _check_call(call: lark.Tree, defs: dict[str, lark.Tree]) -> None:
    name = call.children[0]
    if str(name) not in defs:
        raise HybridTRMError(f"programs: call to undefined function {name} at line {name.line}")
    want, got = len(parameters(defs[str(name)])), len(call_arguments(call))
    if want != got:
        raise HybridTRMError(f"programs: {name} takes {want} argument(s), called with {got} at line {name.line}")


def _near(node: Node, root: Node) -> str:
    """Where a token-less node sits: the line of the last token before it."""
    last, stack = None, [root]
    while stack:
        item = stack.pop()
        if item is node:
            return str(last) if last is not None else "the start"
        if isinstance(item, lark.Token):
            last = item.line
        else:
            stack.extend(reversed(item.children))
    return "?"


def call_graph(defs: dict[str, lark.Tree]) -> nx.DiGraph:
    """Functions, with an edge f -> g for each call of g written in f's body."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(defs)
    for name, funcdef in defs.items():
        stack = [funcdef.children[-1]]
        while stack:
            node = stack.pop()
            if isinstance(node, lark.Tree):
                if kind(node) == "call":
                    graph.add_edge(name, str(node.children[0]))
                stack.extend(node.children)
    return graph


def recursive(defs: dict[str, lark.Tree]) -> tuple[list[str], list[list[str]]]:
    """(recursive functions, sorted; one call cycle per group of them, as names
    from a function back to itself)."""
    import networkx as nx

    graph = call_graph(defs)
    names, cycles = [], []
    components = [sorted(c) for c in nx.strongly_connected_components(graph)]
    for component in sorted(components):
        if len(component) == 1 and not graph.has_edge(component[0], component[0]):
            continue
        names.extend(component)
        edges = nx.find_cycle(graph.subgraph(component), source=component[0])
        cycles.append([a for a, _ in edges] + [edges[-1][1]])
    return sorted(names), cycles
