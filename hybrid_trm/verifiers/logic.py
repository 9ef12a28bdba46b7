"""Symbolic ground truth for logic: a formula's verdict, `A |= B`, and Bowman's
relation of two formulas, decided with sympy's SAT solver (dpll2) on expressions
built from the parse tree (never from a string), each within a time budget and with
evidence a person can check: the countermodel or satisfying interpretation.

Input trees are resolved (`domains.logic.resolve`): leaves are PROP, VAR, CONST, PRED.

Propositional formulas are decided exactly. A first-order formula is decided by
grounding it over every finite domain {0..n-1} up to a bound and asking sympy for a
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

import math
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import product

import sympy
from sympy.logic.boolalg import And, Equivalent, Not, Or
from sympy.logic.inference import satisfiable

from ..errors import HybridTRMError, VerifierTimeout
from ..grammar import Node, children, kind, postorder

RELATIONAL_BOUND = 3  # largest domain searched when a predicate has arity >= 2

# Bowman et al.'s seven relations between the sets of worlds of A and B, in the order
# they are tested: degenerate pairs (A or B valid or unsatisfiable) take the first that fits.
RELATIONS = ("=", "<", ">", "^", "|", "v", "#")

# Distributing & over | (sympy's CNF conversion) can grow exponentially; a subformula
# whose CNF would exceed this many clauses, or nest deeper than _DEPTH, is named by a
# fresh symbol defined as equivalent to it (Tseitin), which keeps satisfiability.
_CLAUSES = 64
_DEPTH = 40


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
    domain sizes the signature calls for."""

    def __init__(self, sig: Signature, budget_s: float, max_size: int):
        self.sig = sig
        self.budget = _Budget(budget_s)
        self.groundings: dict[tuple, _Grounding] = {}  # one per (size, constants), shared by the searches
        if not sig.first_order:
            self.sizes, self.exact, self.bound_note = [0], True, ""
            return
        if sig.monadic:
            k = sum(1 for _, arity in sig.predicates if arity == 1)
            q = len(sig.variables) + len(sig.constants)
            bound = max(1, 2**k * q if sig.equality else 2**k)
            how = f"2^{k}·{q}" if sig.equality else f"2^{k}"
            self.exact = True
            self.bound_note = (
                f"{bound} = {how} elements suffice for a monadic formula with {k} predicate(s)"
                + (f", {q} variable(s) and constant(s) and equality" if sig.equality else " and no equality")
            )
        else:
            bound = max_size
            arity = max(arity for _, arity in sig.predicates)
            self.exact = False
            self.bound_note = f"bounded search: a predicate has arity {arity}, so no finite-model bound applies"
        self.sizes = list(range(1, bound + 1))

    def no(self, what: str) -> str:
        if not self.sig.first_order:
            return f"no {what} among the truth assignments (sympy dpll2)"
        return f"no {what} with ≤ {self.sizes[-1]} elements ({self.bound_note})"

    def scope(self) -> str:
        """What "unsatisfiable" meant in a search that is not exact."""
        return "" if self.exact else f" (domains of ≤ {self.sizes[-1]} elements searched; {self.bound_note})"

    def find(self, parts: list[tuple[Node, bool]]) -> str | None:
        """A readable interpretation satisfying every part, or None if there is none in range."""
        for n in self.sizes:
            for constants in _canonical_constants(len(self.sig.constants), n):
                key = (n, constants)
                if key not in self.groundings:
                    self.groundings[key] = _Grounding(self.sig, n, dict(zip(self.sig.constants, constants)), self.budget)
                ground = self.groundings[key]
                exprs = [ground.formula(tree) if truth else Not(ground.formula(tree)) for tree, truth in parts]
                model = self.budget.satisfiable(And(*ground.definitions, *exprs))
                if model is not False:
                    return ground.describe(model)
        return None


def _canonical_constants(count: int, n: int):
    """Assignments of `count` constants to {0..n-1}, one per renaming of the elements
    (restricted growth: each constant takes an element already used or the next new
    one). Predicates are free, so renaming elements loses no model."""
    if n == 0:  # propositional: no domain
        yield ()
        return

    def grow(prefix: tuple[int, ...]):
        if len(prefix) == count:
            yield prefix
            return
        for e in range(min(n, max(prefix, default=-1) + 2)):
            yield from grow(prefix + (e,))

    yield from grow(())


class _Grounding:
    """A formula as a sympy expression over one finite domain: quantifiers become
    conjunctions and disjunctions over the elements, atoms become symbols `P(0,1)`."""

    def __init__(self, sig: Signature, n: int, constants: dict[str, int], budget: "_Budget"):
        self.sig, self.n, self.constants, self.budget = sig, n, constants, budget
        self.definitions: list = []
        self.atoms: dict[sympy.Symbol, tuple[str, tuple[int, ...]]] = {}
        self.grounded: dict[int, object] = {}

    def formula(self, tree: Node):
        """The ground expression of a formula whose every term is bound or a constant."""
        if id(tree) not in self.grounded:
            self.grounded[id(tree)] = self._ground(tree)
        return self.grounded[id(tree)]

    def _ground(self, tree: Node):
        free: dict[int, tuple[str, ...]] = {}
        tables: dict[int, dict] = {}  # node -> {values of its free variables: (expr, clauses, negated clauses, depth)}
        for node in postorder(tree):
            k = kind(node)
            if k in ("VAR", "CONST", "PRED"):
                continue
            self.budget.check()
            if k in ("pred", "eq"):
                names = tuple(sorted({str(t) for t in node.children if kind(t) == "VAR"}))
            elif k in ("forall", "exists"):
                names = tuple(v for v in free[id(node.children[1])] if v != str(node.children[0]))
            else:
                names = tuple(sorted({v for c in children(node) for v in free[id(c)]}))
            free[id(node)] = names
            table = {}
            for values in product(range(self.n), repeat=len(names)):
                env = dict(zip(names, values))
                table[values] = self._node(k, node, env, free, tables)
            for c in children(node):
                tables.pop(id(c), None)
            tables[id(node)] = table
        return tables[id(tree)][()][0]

    def _node(self, k: str, node: Node, env: dict[str, int], free, tables):
        def child(c, bind: dict[str, int] | None = None):
            e = {**env, **(bind or {})}
            return tables[id(c)][tuple(e[v] for v in free[id(c)])]

        if k == "PROP":
            return _leaf(sympy.Symbol(str(node)))
        if k == "true":
            return _leaf(sympy.true)
        if k == "false":
            return _leaf(sympy.false)
        if k == "pred":
            name, args = str(node.children[0]), tuple(self._term(t, env) for t in node.children[1:])
            symbol = sympy.Symbol(f"{name}({','.join(map(str, args))})")
            self.atoms[symbol] = (name, args)
            return _leaf(symbol)
        if k == "eq":
            left, right = (self._term(t, env) for t in node.children)
            return _leaf(sympy.true if left == right else sympy.false)
        if k == "not":
            return _negate(child(node.children[0]))
        if k in ("forall", "exists"):
            var, body = str(node.children[0]), node.children[1]
            parts = [child(body, {var: e}) for e in range(self.n)]
            return self._junction(And if k == "forall" else Or, parts)
        a, b = (child(c) for c in node.children)
        if k == "and":
            return self._junction(And, [a, b])
        if k == "or":
            return self._junction(Or, [a, b])
        if k == "implies":
            return self._junction(Or, [_negate(a), b])
        if k == "iff":
            a, b = self._named(a), self._named(b)
            return (Equivalent(a[0], b[0]), 2, 2, 2)
        raise HybridTRMError(f"logic: cannot ground a {k!r} node")

    def _term(self, token: Node, env: dict[str, int]) -> int:
        return env[str(token)] if kind(token) == "VAR" else self.constants[str(token)]

    def _junction(self, op, parts: list[tuple]) -> tuple:
        """And / Or of parts. The CNF of an Or multiplies its parts' clauses (of an
        And, its parts' negations'); the biggest parts are named until that product
        stays under _CLAUSES, and parts nested too deep are named as well."""
        grows = 1 if op is Or else 2  # index of the size the product runs over
        parts = list(parts)
        while math.prod(p[grows] for p in parts) > _CLAUSES:
            i = max(range(len(parts)), key=lambda j: parts[j][grows])
            parts[i] = self._named(parts[i])
        parts = [self._named(p) if p[3] >= _DEPTH else p for p in parts]
        product_, sum_ = math.prod(p[grows] for p in parts), sum(p[3 - grows] for p in parts)
        pos, neg = (product_, sum_) if op is Or else (sum_, product_)
        # sympy merges a part that is itself an `op` into this one: it adds no depth.
        depth = max(p[3] if isinstance(p[0], op) else p[3] + 1 for p in parts)
        return (op(*(p[0] for p in parts)), pos, neg, depth)

    def _named(self, part: tuple) -> tuple:
        expr, pos, neg, depth = part
        if depth <= 1 and pos <= 1 and neg <= 1:
            return part
        symbol = sympy.Dummy("t")
        self.definitions.append(Equivalent(symbol, expr))
        return _leaf(symbol)

    def describe(self, model: dict) -> str:
        """`a=T b=F` for a propositional interpretation; `domain {0,1}; P = {0}; a = 1`
        for a first-order one. Symbols the solver left open do not matter; they read F."""
        truth = {str(s): bool(v) for s, v in model.items() if not isinstance(s, sympy.Dummy)}
        relations = {
            name: {args for symbol, (p, args) in self.atoms.items() if p == name and truth.get(str(symbol), False)}
            for name, _ in self.sig.predicates
        }
        props = {p: truth.get(p, False) for p in self.sig.props}
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


def _leaf(expr) -> tuple:
    return (expr, 1, 1, 1)


def _negate(part: tuple) -> tuple:
    expr, pos, neg, depth = part
    return (Not(expr), neg, pos, depth + 1)


# --- the time budget ----------------------------------------------------------------


class _Budget:
    """A deadline, checked while grounding and between solver calls. One solver call
    is interrupted by SIGALRM when this runs on the main thread and nothing else
    holds that signal; elsewhere the call finishes before the budget is checked."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise VerifierTimeout(f"verifier ran past its budget of {self.seconds:g}s")

    def satisfiable(self, expr):
        self.check()
        with self._alarm():
            return satisfiable(expr)

    @contextmanager
    def _alarm(self):
        usable = (
            hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
        )
        if not usable:
            yield
            return

        def expire(signum, frame):
            raise VerifierTimeout(f"verifier ran past its budget of {self.seconds:g}s")

        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, max(1e-3, self.deadline - time.monotonic()))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
