"""The labeller's call graph: which functions can call themselves, directly or
through others (docs/programs.md, `recursive`). A call anywhere in a function's
body counts, reachable or not; the top level is not a function.

The verifier finds the cycles with networkx; here each function is searched for
itself, depth first, over the calls in the bodies it reaches.
"""

from __future__ import annotations

from ...grammar import Node, kind, postorder
from .syntax import functions


def callees(tree: Node) -> dict[str, set[str]]:
    """Each function's name -> the names of the functions called in its body."""
    return {
        name: {str(n.children[0]) for n in postorder(f.body) if kind(n) == "call"}
        for name, f in functions(tree).items()
    }


def recursive(tree: Node) -> set[str]:
    """The functions that lie on a cycle of calls (a call to itself included)."""
    graph = callees(tree)
    out = set()
    for name in graph:
        seen: set[str] = set()
        stack = list(graph[name])
        while stack:
            other = stack.pop()
            if other == name:
                out.add(name)
                break
            if other not in seen:
                seen.add(other)
                stack.extend(graph.get(other, ()))
    return out
