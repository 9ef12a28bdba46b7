"""The node kinds of a logic tree, and `resolve`: every leaf of a parsed tree named
by its role (PROP, VAR, CONST, PRED). The lowest module of the package: the
others import the kinds from here."""

from __future__ import annotations

import lark

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
    names are constants), PRED (the predicate of P(...)). Iterative: any depth.
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
    stack: list[tuple[lark.Tree, frozenset]] = [(root, frozenset())]
    while stack:
        node, bound = stack.pop()
        k = node.data
        if k in QUANTIFIERS:
            bound = bound | {str(node.children[0])}
        for i, child in enumerate(node.children):
            if not isinstance(child, lark.Token):
                stack.append((child, bound))
            elif k == "pred" and i == 0:
                note_arity(str(child), len(node.children) - 1)
                node.children[i] = retype(child, "PRED")
            elif k in ("pred", "eq") or (k in QUANTIFIERS and i == 0):
                node.children[i] = retype(child, "VAR" if str(child) in bound else "CONST")
            else:
                if child.type == "PRED":
                    note_arity(str(child), 0)
                node.children[i] = retype(child, "PROP")
    return root
