"""First-order logic as z3 sees it: a formula over an uninterpreted sort of
elements, its predicates uninterpreted relations, its quantifiers z3's own. z3
then proves (no model: unsat, sound) or finds a model (finite, read back as a
Structure) by quantifier instantiation (E-matching and model-based); complete for
formulas whose Skolem form has no function symbols (the Bernays-Schönfinkel
class), and often decisive beyond it."""

from __future__ import annotations

from itertools import product

import z3

from ... import budget
from ...errors import HybridTRMError
from ...grammar import Node, kind, postorder
from .structures import Signature, Structure

MAX_DESCRIBED_CELLS = 200_000  # relation cells read back from one z3 model


class Encoding:
    """Trees of one signature as z3 formulas in `ctx`; symbols live in namespaces
    of their own (a variable x, a constant x and a letter x are three names)."""

    def __init__(self, sig: Signature, ctx: z3.Context):
        self.sig, self.ctx = sig, ctx
        self.U = z3.DeclareSort("U", ctx)
        self.preds = {
            name: z3.Function(f"pred {name}", *([self.U] * arity), z3.BoolSort(ctx)) for name, arity in sig.predicates
        }
        self.consts = {c: z3.Const(f"const {c}", self.U) for c in sig.constants}
        self.props = {p: z3.Bool(f"prop {p}", ctx) for p in sig.props}
        self.vars = {v: z3.Const(f"var {v}", self.U) for v in sig.variables}

    def formula(self, tree: Node) -> z3.BoolRef:
        """Bottom up, iteratively (any depth)."""
        done: dict[int, z3.ExprRef] = {}
        for i, node in enumerate(postorder(tree)):
            if i % 4096 == 0:
                budget.check()
            k = kind(node)
            if k == "VAR":
                done[id(node)] = self.vars[str(node)]
            elif k == "CONST":
                done[id(node)] = self.consts[str(node)]
            elif k == "PRED":
                continue
            elif k == "PROP":
                done[id(node)] = self.props[str(node)]
            elif k in ("true", "false"):
                done[id(node)] = z3.BoolVal(k == "true", self.ctx)
            elif k == "pred":
                done[id(node)] = self.preds[str(node.children[0])](*(done.pop(id(t)) for t in node.children[1:]))
            else:
                args = [done.pop(id(c)) for c in node.children]
                done[id(node)] = self._combine(k, args)
        return done[id(tree)]

    def _combine(self, k: str, args: list) -> z3.ExprRef:
        if k == "eq":
            return args[0] == args[1]
        if k == "not":
            return z3.Not(args[0])
        if k in ("forall", "exists"):
            return (z3.ForAll if k == "forall" else z3.Exists)([args[0]], args[1])
        return connective(k, *args)

    def structure(self, model: z3.ModelRef) -> Structure | None:
        """z3's model as a Structure on 0..n-1 (None where it is too large to read
        back: more than MAX_DESCRIBED_CELLS relation cells)."""
        universe = model.get_universe(self.U) if self.sig.first_order else None
        if not universe:  # no element ever mentioned: any one will do
            universe = [z3.FreshConst(self.U)]
        n = len(universe)
        if sum(n**arity for _, arity in self.sig.predicates) > MAX_DESCRIBED_CELLS:
            return None
        index = {e.get_id(): i for i, e in enumerate(universe)}

        def element(term: z3.ExprRef) -> int:
            value = model.eval(term, model_completion=True)
            return index.get(value.get_id(), 0)

        relations = {}
        for name, arity in self.sig.predicates:
            held = set()
            for i, args in enumerate(product(range(n), repeat=arity)):
                if i % 4096 == 0:
                    budget.check()
                if z3.is_true(model.eval(self.preds[name](*(universe[a] for a in args)), model_completion=True)):
                    held.add(args)
            relations[name] = frozenset(held)
        constants = {c: element(term) for c, term in self.consts.items()}
        props = {p: z3.is_true(model.eval(b, model_completion=True)) for p, b in self.props.items()}
        return Structure(n, relations, constants, props)


def connective(k: str, a: z3.BoolRef, b: z3.BoolRef) -> z3.BoolRef:
    """A binary connective of two z3 formulas."""
    if k == "and":
        return z3.And(a, b)
    if k == "or":
        return z3.Or(a, b)
    if k == "implies":
        return z3.Implies(a, b)
    if k == "iff":
        return a == b
    raise HybridTRMError(f"logic: cannot encode a {k!r} node")
