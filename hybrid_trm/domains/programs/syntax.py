"""The shape of a parsed program, as the labeller reads it: which nodes are
statements, which NAME leaves are variable reads, the functions it defines, and
the checks that refuse an ill-formed program when it is parsed (docs/programs.md,
"Refused when parsed").

Nothing here runs a program; run.py, flow.py and calls.py do, each on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import lark

from ...errors import HybridTRMError
from ...grammar import Node, children, kind, postorder

STATEMENTS = frozenset(("assign", "if", "if_else", "while", "for", "break", "continue", "return"))
LOOPS = frozenset(("while", "for"))
BINARY = frozenset(("add", "sub", "mul", "div", "mod", "lt", "le", "gt", "ge", "eq", "ne"))
# A NAME that is the first child of one of these names what is set or called, not a
# variable that is read.
NAMING = frozenset(("assign", "for", "funcdef", "call"))


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[str, ...]
    body: lark.Tree  # its block
    node: lark.Tree  # the funcdef


def functions(tree: Node) -> dict[str, Function]:
    """Every `def` of the program by name (the last of a name; `check` refuses two)."""
    out = {}
    for node in children(tree):
        if kind(node) == "funcdef":
            name, *rest = node.children
            params = tuple(str(p) for p in rest[0].children) if len(rest) == 2 else ()
            out[str(name)] = Function(str(name), params, rest[-1], node)
    return out


def top_statements(tree: Node) -> list[Node]:
    """The top level's statements, in order: the program without its defs."""
    return [node for node in children(tree) if kind(node) != "funcdef"]


def reads(tree: Node) -> set[int]:
    """The ids of the NAME leaves that read a variable (not a target, a loop
    variable, a function's or a parameter's name)."""
    out = set()
    for node in postorder(tree):
        if not isinstance(node, lark.Tree) or node.data == "params":
            continue
        for i, child in enumerate(node.children):
            if isinstance(child, lark.Token) and child.type == "NAME" and not (i == 0 and node.data in NAMING):
                out.add(id(child))
    return out


def call_args(node: lark.Tree) -> list[Node]:
    """The argument expressions of a `call` node."""
    return node.children[1].children if len(node.children) == 2 else []


def if_parts(node: lark.Tree) -> tuple[Node, Node, Node | None]:
    """(condition, then-block, else part or None) of an `if` or `if_else`; the else
    part is a block or, in an `else if` chain, an `if` / `if_else` statement."""
    cond, then, *rest = node.children
    return cond, then, (rest[0] if rest else None)


def check(tree: Node) -> None:
    """Refuse, in one line, what docs/programs.md says a program may not hold."""
    if kind(tree) != "program":
        raise HybridTRMError(f"programs: a program is statements and defs, not a lone {kind(tree)}")
    seen: dict[str, Node] = {}
    for node in children(tree):
        if kind(node) != "funcdef":
            continue
        name = node.children[0]
        if str(name) in seen:
            first = seen[str(name)]
            raise HybridTRMError(f"programs: function {name} is defined twice (lines {first.line} and {name.line})")
        seen[str(name)] = name
        if len(node.children) == 3:
            params = node.children[1].children
            for i, p in enumerate(params):
                if str(p) in map(str, params[:i]):
                    raise HybridTRMError(f"programs: function {name} has two parameters named {p} (line {p.line})")
    defined = functions(tree)
    for node in postorder(tree):
        if kind(node) == "NAME" and str(node).lower() == "none":
            raise HybridTRMError(
                f"programs: line {node.line}: the name {node} is reserved (`none` answers that no name qualifies); rename it"
            )
        if kind(node) == "call":
            name = node.children[0]
            if str(name) not in defined:
                raise HybridTRMError(f"programs: line {name.line}: call to {name}, which is not defined")
            want, got = len(defined[str(name)].params), len(call_args(node))
            if want != got:
                raise HybridTRMError(
                    f"programs: line {name.line}: {name} takes {want} argument{'s' * (want != 1)}, called with {got}"
                )
    _check_loops(tree)


def _check_loops(tree: Node) -> None:
    """`break` and `continue` only inside a loop of their own function (or of the
    top level): a function's body is not inside the loops around its calls."""
    stack: list[tuple[Node, bool, str]] = [(tree, False, "the top level")]
    while stack:
        node, in_loop, where = stack.pop()
        k = kind(node)
        if k in ("break", "continue") and not in_loop:
            raise HybridTRMError(f"programs: `{k}` outside a loop (in {where})")
        if k == "funcdef":
            in_loop, where = False, f"function {node.children[0]}"
        for child in children(node):
            stack.append((child, in_loop or (k in LOOPS and kind(child) == "block"), where))
