"""Symbolic ground truth for logic: a formula's verdict, `A |= B`, and Bowman's
relation of two formulas, decided with the z3 SAT/SMT solver on expressions built
from the parse tree (never from a string), each within a time budget and with
evidence a person can check: the countermodel or satisfying interpretation.

Input trees are resolved (`domains.logic.resolve`): leaves are PROP, VAR, CONST, PRED.

Propositional formulas are decided exactly. A first-order formula is decided by
grounding it over every finite domain {0..n-1} up to a bound and asking z3 for a
model of the ground formula:
  - monadic (every predicate unary), with or without equality: exact, by the
    finite-model bound below;
  - a predicate of arity >= 2: a bounded search up to `max_size` elements, and the
    evidence says so ("no countermodel with <= N elements").

The finite-model bound used for monadic formulas, with k unary predicates, r
variable names and c constants: a formula that has a model has one with at most
2^k * (r + c) elements, and without equality one with at most 2^k. Sources: Boolos,
Burgess & Jeffrey, "Computability and Logic", 5th ed. (2007), ch. 21 (Lemma 21.8:
2^k without identity; the chapter extends the argument to identity); Pietruszczak,
"Cardinalities of models and the expressive power of monadic predicate logic (with
equality and individual constants)", Reports on Mathematical Logic 30 (1996) 49-64,
which gives a sharper bound of the form c + 2^k * r; the result goes back to Löwenheim (1915). Why,
briefly: an element's type is the set of predicates it satisfies (2^k types). Keep
the constants' elements and, of each type, up to r others; a formula with r
variables (reusable) cannot tell a class of >= r such elements from a bigger one (an
Ehrenfeucht-Fraïssé game with r pebbles), so the submodel satisfies the same
formulas. Without equality elements of one type cannot be told apart at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import product

import z3

from .. import budget
from ..errors import HybridTRMError, VerifierTimeout
from ..grammar import Node, children, kind, postorder

RELATIONAL_BOUND = 3  # largest domain searched when a predicate has arity >= 2

# Bowman et al.'s seven relations between the sets of worlds of A and B, in the order
# they are tested: degenerate pairs (A or B valid or unsatisfiable) take the first that fits.
RELATIONS = ("=", "<", ">", "^", "|", "v", "#")


@dataclass(frozen=True)
class Signature:
    """What a formula (or a pair) talks about: the symbols a structure interprets."""

    props: tuple[str, ...]
    predicates: tuple[tuple[str, int], ...]  # (name, arity), sorted by name
    constants: tuple[str, ...]
    variables: tuple[str, ...]  # every name a quantifier binds
    equality: bool

    @property
    def first_order(self) -> bool:
        return bool(self.predicates or self.constants or self.variables or self.equality)

    @property
    def monadic(self) -> bool:
        return all(arity <= 1 for _, arity in self.predicates)


def signature(tree: Node) -> Signature:
    props, preds, consts, variables, eq = set(), {}, set(), set(), False
    for node in postorder(tree):
        k = kind(node)
        if k == "PROP":
            props.add(str(node))
        elif k == "CONST":
            consts.add(str(node))
        elif k == "VAR":
            variables.add(str(node))
        elif k == "pred":
            preds[str(node.children[0])] = len(node.children) - 1
        elif k == "eq":
            eq = True
    return Signature(tuple(sorted(props)), tuple(sorted(preds.items())), tuple(sorted(consts)), tuple(sorted(variables)), eq)


# --- the three questions ------------------------------------------------------------


def verdict(tree: Node, budget_s: float = 2.0, max_size: int = RELATIONAL_BOUND) -> tuple[str, str]:
    """("valid" | "contingent" | "unsatisfiable", evidence) of one formula."""
    search = _Search(signature(tree), budget_s, max_size)
    model = search.find([(tree, True)])
    if model is None:
        return "unsatisfiable", f"unsatisfiable: {search.no('model')}"
    counter = search.find([(tree, False)])
    if counter is None:
        return "valid", f"valid: {search.no('countermodel')}"
    return "contingent", f"contingent: true in {model}; false in (countermodel) {counter}"


def entails(tree: Node, budget_s: float = 2.0, max_size: int = RELATIONAL_BOUND) -> tuple[str, str]:
    """("yes" | "no", evidence) of a pair `A |= B`."""
    a, b = _pair(tree, "entails")
    search = _Search(signature(tree), budget_s, max_size)
    counter = search.find([(a, True), (b, False)])
    if counter is None:
        return "yes", f"A ∧ ¬B is unsatisfiable: {search.no('countermodel')}"
    return "no", f"countermodel (A true, B false): {counter}"


def relation(tree: Node, budget_s: float = 2.0, max_size: int = RELATIONAL_BOUND) -> tuple[str, str]:
    """(one of RELATIONS, evidence) of a pair `A ; B`, from four satisfiability checks."""
    a, b = _pair(tree, "relation")
    search = _Search(signature(tree), budget_s, max_size)
    cases = {"A∧¬B": (True, False), "¬A∧B": (False, True), "A∧B": (True, True), "¬A∧¬B": (False, False)}
    found = {name: search.find([(a, pa), (b, pb)]) for name, (pa, pb) in cases.items()}
    a_in_b, b_in_a = found["A∧¬B"] is None, found["¬A∧B"] is None
    disjoint, cover = found["A∧B"] is None, found["¬A∧¬B"] is None
    answer = bowman_relation(a_in_b, b_in_a, disjoint, cover)
    facts = [f"{name} in {model}" if model is not None else f"{name} unsatisfiable" for name, model in found.items()]
    return answer, f"{answer}: " + "; ".join(facts) + search.scope()


def bowman_relation(a_entails_b: bool, b_entails_a: bool, disjoint: bool, cover: bool) -> str:
    if a_entails_b and b_entails_a:
        return "="
    if a_entails_b:
        return "<"
    if b_entails_a:
        return ">"
    if disjoint and cover:
        return "^"
    if disjoint:
        return "|"
    if cover:
        return "v"
    return "#"


def _pair(tree: Node, task: str) -> tuple[Node, Node]:
    if kind(tree) != task:
        shape = {"entails": "A |= B", "relation": "A ; B"}[task]
        raise HybridTRMError(f"logic/{task} takes a pair written `{shape}`, not a {kind(tree)} node")
    return tree.children[0], tree.children[1]


# --- model search -------------------------------------------------------------------


class _Search:
    """Finds an interpretation making each (formula, truth) part hold, over the
    domain sizes the signature calls for. Its z3 objects live in a context of its
    own: z3's default context is not thread-safe, and verifiers run in threads."""

    def __init__(self, sig: Signature, budget_s: float, max_size: int):
        self.sig = sig
        self.budget = _Budget(budget_s)
        self.ctx = z3.Context()
        self.groundings: dict[tuple, _Grounding] = {}  # one per (size, constants), shared by the searches
        if not sig.first_order:
            self.sizes, self.exact, self.bound_note = range(0, 1), True, ""
            return
        if sig.monadic:
            k = sum(1 for _, arity in sig.predicates if arity == 1)
            q = len(sig.variables) + len(sig.constants)
            bound = max(1, 2**k * q if sig.equality else 2**k)
            how = f"2^{k}·{q}" if sig.equality else f"2^{k}"
            self.exact = True
            short = bound < 10**15  # 2^k for many predicates has more digits than Python prints
            self.largest = f"{bound}" if short else how
            self.bound_note = (
                (f"{bound} = " if short else "") + f"{how} elements suffice for a monadic formula with {k} predicate(s)"
                + (f", {q} variable(s) and constant(s) and equality" if sig.equality else " and no equality")
            )
        else:
            bound = max_size
            self.largest = f"{bound}"
            arity = max(arity for _, arity in sig.predicates)
            self.exact = False
            self.bound_note = f"bounded search: a predicate has arity {arity}, so no finite-model bound applies"
        self.sizes = range(1, bound + 1)  # a range: with many predicates the bound is astronomical

    def no(self, what: str) -> str:
        if not self.sig.first_order:
            return f"no {what} among the truth assignments (z3)"
        return f"no {what} with ≤ {self.largest} elements ({self.bound_note})"

    def scope(self) -> str:
        """What "unsatisfiable" meant in a search that is not exact."""
        return "" if self.exact else f" (domains of ≤ {self.largest} elements searched; {self.bound_note})"

    def find(self, parts: list[tuple[Node, bool]]) -> str | None:
        """A readable interpretation satisfying every part, or None if there is none in range."""
        for n in self.sizes:
            for constants in _canonical_constants(len(self.sig.constants), n):
                self.budget.check()
                key = (n, constants)
                if key not in self.groundings:
                    named = dict(zip(self.sig.constants, constants))
                    self.groundings[key] = _Grounding(self.sig, n, named, self.budget, self.ctx)
                ground = self.groundings[key]
                exprs = [ground.formula(tree) if truth else z3.Not(ground.formula(tree)) for tree, truth in parts]
                model = self.budget.model(self.ctx, exprs)
                if model is not None:
                    return ground.describe(model)
        return None


def _canonical_constants(count: int, n: int):
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


class _Grounding:
    """A formula as a z3 expression over one finite domain: quantifiers become
    conjunctions and disjunctions over the elements, atoms become Boolean constants
    named `P(0,1)`. z3 shares equal subterms and does its own clausal form, so a
    grounding is linear in the cells it visits."""

    def __init__(self, sig: Signature, n: int, constants: dict[str, int], deadline: "_Budget", ctx: z3.Context):
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
        free: dict[int, tuple[str, ...]] = {}
        tables: dict[int, dict] = {}  # node -> {values of its free variables: expression}
        for node in postorder(tree):
            k = kind(node)
            if k in ("VAR", "CONST", "PRED"):
                continue
            if k in ("pred", "eq"):
                names = tuple(sorted({str(t) for t in node.children if kind(t) == "VAR"}))
            elif k in ("forall", "exists"):
                names = tuple(v for v in free[id(node.children[1])] if v != str(node.children[0]))
            else:
                names = tuple(sorted({v for c in children(node) for v in free[id(c)]}))
            free[id(node)] = names
            table = {}
            for values in product(range(self.n), repeat=len(names)):  # n^free cells: checked one by one
                self.deadline.check()
                table[values] = self._node(k, node, dict(zip(names, values)), free, tables)
            for c in children(node):
                tables.pop(id(c), None)
            tables[id(node)] = table
        return tables[id(tree)][()]

    def _node(self, k: str, node: Node, env: dict[str, int], free, tables) -> z3.BoolRef:
        def child(c, bind: dict[str, int] | None = None):
            e = {**env, **(bind or {})}
            return tables[id(c)][tuple(e[v] for v in free[id(c)])]

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
        a, b = (child(c) for c in node.children)
        if k == "and":
            return z3.And(a, b)
        if k == "or":
            return z3.Or(a, b)
        if k == "implies":
            return z3.Implies(a, b)
        if k == "iff":
            return a == b
        raise HybridTRMError(f"logic: cannot ground a {k!r} node")

    def _term(self, token: Node, env: dict[str, int]) -> int:
        return env[str(token)] if kind(token) == "VAR" else self.constants[str(token)]

    def describe(self, model: z3.ModelRef) -> str:
        """`a=T b=F` for a propositional interpretation; `domain {0,1}; P = {0}; a = 1`
        for a first-order one. Symbols z3 left open do not matter: its completion
        of the model (false) is shown."""
        def holds(name: str) -> bool:
            return z3.is_true(model.eval(z3.Bool(name, self.ctx), model_completion=True))

        relations = {name: set() for name, _ in self.sig.predicates}
        for atom, (name, args) in self.atoms.items():
            if holds(atom):
                relations[name].add(args)
        props = {p: holds(p) for p in self.sig.props}
        return describe(self.sig, self.n, relations, self.constants, props)


def describe(sig: Signature, n: int, relations: dict, constants: dict, props: dict) -> str:
    """An interpretation, readably: `a=T b=F`, or `domain {0,1}; P = {0}; a = 1`.
    `relations` maps each predicate to the argument tuples it holds of."""
    shown_props = [f"{p}={'T' if props[p] else 'F'}" for p in sig.props]
    if not sig.first_order:
        return " ".join(shown_props) if shown_props else "any assignment"
    parts = [f"domain {{{','.join(map(str, range(n)))}}}"]
    for name, arity in sig.predicates:
        members = sorted(relations[name])
        shown = [str(a[0]) if arity == 1 else f"({','.join(map(str, a))})" for a in members]
        parts.append(f"{name} = {{{','.join(shown)}}}")
    parts += [f"{c} = {e}" for c, e in constants.items()]
    return "; ".join(parts + shown_props)


# --- the time budget ----------------------------------------------------------------


class _Budget:
    """The verifier's deadline: its own `seconds`, or the caller's budget
    (hybrid_trm.budget) where that ends first. Checked at every grounded cell and
    before each solver call; a solver call stops itself at the deadline (z3's
    `timeout`), so the budget holds in any thread, without signals."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        budget.check()  # the caller's: BudgetExceeded
        if time.monotonic() > self.deadline:
            raise VerifierTimeout(f"verifier ran past its budget of {self.seconds:g}s")

    def model(self, ctx: z3.Context, formulas: list[z3.BoolRef]) -> z3.ModelRef | None:
        """z3's model of the conjunction, None when it has none; past the deadline,
        BudgetExceeded (the caller's) or VerifierTimeout (ours)."""
        self.check()
        left = budget.remaining(self.deadline - time.monotonic())
        # QF_FD: z3's SAT core for finite domains; the general solver's start-up made
        # the benchmark pairs' checks twice as slow.
        solver = z3.SolverFor("QF_FD", ctx=ctx)
        solver.set("timeout", max(1, min(int(left * 1000), 2**31 - 1)))  # milliseconds
        solver.add(*formulas)
        result = solver.check()
        if result == z3.sat:
            return solver.model()
        if result == z3.unsat:
            return None
        caller = budget.current()
        if caller is not None and caller.at <= self.deadline:
            raise caller.exceeded()
        why = solver.reason_unknown()
        if why in ("timeout", "canceled"):
            raise VerifierTimeout(f"verifier ran past its budget of {self.seconds:g}s")
        raise VerifierTimeout(f"verifier: z3 gave no answer ({why}) within its budget of {self.seconds:g}s")
