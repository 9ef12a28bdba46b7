"""Finite search: a formula grounded over the domain {0..n-1} as a propositional
z3 expression (quantifiers become conjunctions and disjunctions over the
elements, atoms Boolean constants named `P(0,1)`), solved by z3's SAT core. It
finds every model of n elements, so up to a finite-model bound it decides."""

from __future__ import annotations

import z3

from ...grammar import Node, kind
from .deadline import Deadline
from .quantified import connective
from .structures import Signature, Structure, tabulate


def canonical_constants(count: int, n: int):
    """Assignments of `count` constants to {0..n-1}, one per renaming of the elements
    (restricted growth: each constant takes an element already used or the next new
    one), in lexicographic order. Predicates are free, so renaming elements loses no
    model. Iterative: any number of constants."""
    if n == 0:  # propositional: no domain
        yield ()
        return
    stack = [((), -1)]  # (prefix, its largest element)
    while stack:
        prefix, top = stack.pop()
        if len(prefix) == count:
            yield prefix
            continue
        stack.extend((prefix + (e,), max(top, e)) for e in reversed(range(min(n, top + 2))))


class Grounding:
    """A formula as a z3 expression over one finite domain. z3 shares equal subterms
    and does its own clausal form, so a grounding is linear in the cells it visits."""

    def __init__(self, sig: Signature, n: int, constants: dict[str, int], deadline: Deadline, ctx: z3.Context):
        self.sig, self.n, self.constants, self.deadline, self.ctx = sig, n, constants, deadline, ctx
        self.atoms: dict[str, tuple[str, tuple[int, ...]]] = {}  # z3 name of P(0,1) -> ("P", (0, 1))
        self.grounded: dict[int, z3.BoolRef] = {}
        self.truth = {True: z3.BoolVal(True, ctx), False: z3.BoolVal(False, ctx)}

    def formula(self, tree: Node) -> z3.BoolRef:
        """The ground expression of a formula whose every term is bound or a constant."""
        if id(tree) not in self.grounded:
            self.grounded[id(tree)] = self._ground(tree)
        return self.grounded[id(tree)]

    def _ground(self, tree: Node) -> z3.BoolRef:
        return tabulate(tree, self.n, self._node, self.deadline.check)  # n^free cells: checked one by one

    def _node(self, k: str, node: Node, env: dict[str, int], child) -> z3.BoolRef:
        if k == "PROP":
            return z3.Bool(str(node), self.ctx)
        if k in ("true", "false"):
            return self.truth[k == "true"]
        if k == "pred":
            name, args = str(node.children[0]), tuple(self._term(t, env) for t in node.children[1:])
            atom = f"{name}({','.join(map(str, args))})"  # no name has parentheses: never a PROP's
            self.atoms[atom] = (name, args)
            return z3.Bool(atom, self.ctx)
        if k == "eq":
            left, right = (self._term(t, env) for t in node.children)
            return self.truth[left == right]
        if k == "not":
            return z3.Not(child(node.children[0]))
        if k in ("forall", "exists"):
            var, body = str(node.children[0]), node.children[1]
            parts = [child(body, {var: e}) for e in range(self.n)]
            return (z3.And if k == "forall" else z3.Or)(*parts)
        return connective(k, *(child(c) for c in node.children))

    def _term(self, token: Node, env: dict[str, int]) -> int:
        return env[str(token)] if kind(token) == "VAR" else self.constants[str(token)]

    def structure(self, model: z3.ModelRef) -> Structure:
        """The model as a Structure. Symbols z3 left open do not matter: its
        completion (false) is taken."""
        def holds(name: str) -> bool:
            return z3.is_true(model.eval(z3.Bool(name, self.ctx), model_completion=True))

        relations: dict[str, set] = {name: set() for name, _ in self.sig.predicates}
        for atom, (name, args) in self.atoms.items():
            if holds(atom):
                relations[name].add(args)
        props = {p: holds(p) for p in self.sig.props}
        return Structure(self.n, {k: frozenset(v) for k, v in relations.items()}, dict(self.constants), props)
