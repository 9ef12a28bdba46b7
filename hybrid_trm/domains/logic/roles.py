"""The node kinds of a logic tree, and `resolve`: every leaf of a parsed tree named
by its role (PROP, VAR, CONST, PRED). The lowest module of the package: the
others import the kinds from here."""

from __future__ import annotations

import lark

from ... import budget
from ...errors import HybridTRMError
from ...grammar import Node

TERMS = ("VAR", "CONST", "PRED")  # leaves that are not formulas: no label
PAIRS = ("entails", "relation")
QUANTIFIERS = ("forall", "exists")
BINARY = ("and", "or", "implies", "iff")


def resolve(root: Node) -> Node:
    """Name every leaf by its role, in place: PROP (a propositional variable, also a
    capitalised name without arguments), VAR (a term some enclosing quantifier binds,
    and the quantifier's own variable), CONST (a term no quantifier binds: free
    names are constants), PRED (the predicate of P(...)); `x != y` becomes
    `~(x = y)`. Iterative: any depth.
    Raises when one predicate is used with two arities."""
    arity: dict[str, int] = {}

    def retype(token: Node, role: str) -> lark.Token:
        return lark.Token.new_borrow_pos(role, str(token), token)

    def note_arity(name: str, n: int) -> None:
        if arity.setdefault(name, n) != n:
            raise HybridTRMError(
                f"logic: {name} is used with {arity[name]} and with {n} arguments; give each predicate one arity"
            )

    if isinstance(root, lark.Token):
        if root.type == "PRED":
            note_arity(str(root), 0)
        return retype(root, "PROP")
    # A name's enclosing quantifiers are counted on the way down and uncounted on
    # the way back (an exit event), so that scopes cost nothing to copy: linear in
    # the tree, however many distinct variables nest.
    binding: dict[str, int] = {}
    stack: list[tuple[lark.Tree, bool]] = [(root, False)]
    seen = 0
    while stack:
        node, leaving = stack.pop()
        k = node.data
        if leaving:
            binding[str(node.children[0])] -= 1
            continue
        seen += 1
        if seen % 4096 == 0:
            budget.check()
        if k == "neq":  # `x != y` is `~(x = y)`: a spelling, not a node kind of its own
            node.data, node.children = "not", [lark.Tree("eq", node.children)]
        if k in QUANTIFIERS:
            binding[str(node.children[0])] = binding.get(str(node.children[0]), 0) + 1
            stack.append((node, True))
        for i, child in enumerate(node.children):
            if not isinstance(child, lark.Token):
                stack.append((child, False))
            elif k == "pred" and i == 0:
                note_arity(str(child), len(node.children) - 1)
                node.children[i] = retype(child, "PRED")
            elif k in ("pred", "eq") or (k in QUANTIFIERS and i == 0):
                node.children[i] = retype(child, "VAR" if binding.get(str(child), 0) > 0 else "CONST")
            else:
                if child.type == "PRED":
                    note_arity(str(child), 0)
                node.children[i] = retype(child, "PROP")
    return root
