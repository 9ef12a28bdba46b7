"""The search for a model of some (formula, truth) parts: propositional formulas by
z3's SAT core; first-order ones by a quick finite search on one and two elements,
then z3 on the quantified formula, then the finite search up to a bound (see the
package's docstring). A model found is checked (`structures.holds`) before it is
returned; "no model" comes with the proof's method (`Search.proof`); a search
that cannot decide within its budget raises VerifierTimeout saying what it tried."""

from __future__ import annotations

import time
from itertools import islice

import z3

from ...errors import VerifierTimeout
from ...grammar import Node
from .deadline import Deadline
from .grounding import Grounding, canonical_constants
from .quantified import Encoding
from .structures import Signature, Structure, holds

RELATIONAL_BOUND = 3  # largest domain of the finite search when a predicate has arity >= 2
QUICK_SIZES = 2  # the finite search first tries domains of up to this many elements
QUICK_NAMINGS = 32  # ... and this many ways of naming the constants on each
Z3_SHARE = 0.85  # of the time left, what z3 on the quantified formula may spend


def _solver(**options):
    def make(ctx: z3.Context) -> z3.Solver:
        solver = z3.Solver(ctx=ctx)
        for key, value in options.items():
            solver.set(key, value)
        return solver
    return make


MBQI = ("model-based quantifier instantiation", _solver(ematching=False))
QE = ("quantifier elimination", lambda ctx: z3.Then("simplify", "nnf", "qe", "smt", ctx=ctx).solver())
DEFAULT = ("z3's default quantifier instantiation", _solver())
EMATCHING = ("E-matching", _solver(mbqi=False))

# z3's ways with quantifiers and the time each gets, in order: (strategy, a probe
# of so many seconds, None) or (strategy, None, that share of z3's time left then).
# Model-based instantiation alone settles most problems at once and gets the long
# turn (Pelletier 53 takes it 2-4 s, and restarting it on short slices never got
# there), but never settles Pelletier 54, which quantifier elimination ahead of the
# SMT core settles in 0.2 s; z3's default and E-matching alone settle others
# (E-matching spends seconds on some, 37 among them).
SCHEDULE = (
    (MBQI, 0.5, None), (QE, 0.25, None), (DEFAULT, 0.25, None), (EMATCHING, 0.25, None),
    (MBQI, None, 0.7), (QE, None, 0.33), (DEFAULT, None, 0.5), (EMATCHING, None, 1.0),
)


class Search:
    """One verifier question's searches, sharing their groundings and z3 context (a
    context of its own: z3's default one is not thread-safe, and verifiers run in
    threads)."""

    def __init__(self, sig: Signature, budget_s: float, max_size: int = RELATIONAL_BOUND):
        self.sig = sig
        self.deadline = Deadline(budget_s)
        self.ctx = z3.Context()
        self.groundings: dict[tuple, Grounding] = {}
        self.method = ""  # how the last search that found no model proved there is none
        if not sig.first_order:
            self.bound, self.exact, self.bound_note = 0, True, ""
        elif sig.monadic:
            k = sum(1 for _, arity in sig.predicates if arity == 1)
            q = len(sig.variables) + len(sig.constants)
            self.bound = max(1, 2**k * q if sig.equality else 2**k)
            how = f"2^{k}·{q}" if sig.equality else f"2^{k}"
            self.exact = True
            self.largest = f"{self.bound}" if self.bound < 10**15 else how  # 2^k for many predicates: too long to print
            self.bound_note = (
                (f"{self.bound} = " if self.bound < 10**15 else "") + f"{how} elements suffice for a monadic formula "
                f"with {k} predicate(s)" + (f", {q} variable(s) and constant(s) and equality" if sig.equality else " and no equality")
            )
        else:
            self.bound, self.exact, self.largest = max_size, False, f"{max_size}"
            arity = max(arity for _, arity in sig.predicates)
            self.bound_note = f"a predicate has arity {arity}: no finite-model bound applies"

    def proof(self, what: str) -> str:
        """How the last search proved that no `what` (model, countermodel) exists."""
        return self.method.format(what=what)

    def find(self, parts: list[tuple[Node, bool]]) -> str | None:
        """A readable structure in which every formula has its truth value (checked),
        or None when there is provably none (see `proof`)."""
        if not self.sig.first_order:
            model = self._finite(parts, range(0, 1))
            self.method = "no {what} among the truth assignments (z3)"
            return model
        model = self._finite(parts, range(1, min(QUICK_SIZES, self.bound) + 1), QUICK_NAMINGS)
        if model is not None:
            return model
        tried, verdict = self._quantified(parts)
        if verdict is not False:
            return verdict
        try:
            model = self._finite(parts, range(1, self.bound + 1))
        except VerifierTimeout as err:
            searched = f"the finite search ({self.bound_note}) was cut off: {err}"
            raise VerifierTimeout(f"unknown within the budget: {tried}; {searched}") from None
        if model is not None or self.exact:
            self.method = "no {what} with ≤ " + self.largest + f" elements ({self.bound_note}; finite search, z3)"
            return model
        raise VerifierTimeout(
            f"unknown within the budget: {tried}; no model with ≤ {self.largest} elements (finite search; {self.bound_note})"
        )

    def _quantified(self, parts) -> tuple[str, str | None | bool]:
        """(what happened, the structure found / None proved / False undecided) of z3
        on the quantified formulas: its strategies as SCHEDULE says, within Z3_SHARE
        of the time left; a strategy that gives up for another reason than time is
        not tried again."""
        until = time.monotonic() + self.deadline.left() * Z3_SHARE
        why, dropped = {}, set()
        for (name, make), probe, share in SCHEDULE:
            left = until - time.monotonic()
            if left <= 0:
                break
            if name in dropped:
                continue
            seconds = min(probe, left) if probe is not None else left * share
            # Each attempt in a z3 context of its own: what an attempt cut off at its
            # deadline left behind in a shared one changed the next one's search
            # (Pelletier 53 took 1.2 s to past 8 s, run after run in one process).
            encoding = Encoding(self.sig, z3.Context())
            formulas = [encoding.formula(t) if truth else z3.Not(encoding.formula(t)) for t, truth in parts]
            result = self.deadline.solve(make(encoding.ctx), formulas, seconds=seconds)
            if result is None:
                self.method = "z3 found the first-order formula has no {what} of any size (" + name + ")"
                return "", None
            if isinstance(result, str):
                why[name] = result
                if result not in ("timeout", "canceled"):
                    dropped.add(name)
                continue
            structure = encoding.structure(result)
            if structure is not None and all(holds(tree, structure) == truth for tree, truth in parts):
                return "", structure.describe(self.sig)
            why[name] = "a model " + ("too large to read back" if structure is None else "that did not check out")
            dropped.add(name)
        tried = "; ".join(f"{name}: {reason}" for name, reason in why.items()) or "no time left"
        return f"z3 on the quantified formula gave up ({tried})", False

    def _solver(self) -> z3.Solver:
        """A first-order grounding's: QF_FD, z3's SAT core for finite domains (the
        general solver's start-up made the benchmark pairs' checks twice as slow).
        A propositional formula's: the simple solver, which holds 14-20 MB less
        (a fresh `solve` of a logic model: 100-101 MB with QF_FD) and took 0.32 s
        against 1.49 s for 150 default formulas, the first QF_FD's start-up
        included, 0.46-0.66 s against 0.42-0.55 s for 150 of 12-20 letters."""
        if self.sig.first_order:
            return z3.SolverFor("QF_FD", ctx=self.ctx)
        return z3.SimpleSolver(ctx=self.ctx)

    def _finite(self, parts, sizes: range, namings: int | None = None) -> str | None:
        for n in sizes:
            for constants in islice(canonical_constants(len(self.sig.constants), n), namings):
                self.deadline.check()
                key = (n, constants)
                if key not in self.groundings:
                    named = dict(zip(self.sig.constants, constants))
                    self.groundings[key] = Grounding(self.sig, n, named, self.deadline, self.ctx)
                ground = self.groundings[key]
                exprs = [ground.formula(tree) if truth else z3.Not(ground.formula(tree)) for tree, truth in parts]
                model = self.deadline.solve(self._solver(), exprs)
                if isinstance(model, str):  # z3 stopped at the deadline, or gave up
                    if model in ("timeout", "canceled"):
                        raise VerifierTimeout(f"verifier ran past its budget of {self.deadline.seconds:g}s")
                    raise VerifierTimeout(f"z3 gave no answer ({model}) on {n} element(s)")
                if model is not None:
                    structure: Structure = ground.structure(model)
                    return structure.describe(self.sig)
        return None
