"""The verifier's deadline: its own `seconds`, or the caller's budget
(hybrid_trm.budget) where that ends first. Checked at every grounded cell and
before each solver call; a solver call stops itself at the deadline (z3's
`timeout`), so the budget holds in any thread, without signals."""

from __future__ import annotations

import time

import z3

from ... import budget
from ...errors import VerifierTimeout


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left, the caller's budget included."""
        return budget.remaining(self.deadline - time.monotonic())

    def check(self) -> None:
        budget.check()  # the caller's: BudgetExceeded
        if time.monotonic() > self.deadline:
            raise VerifierTimeout(f"verifier ran past its budget of {self.seconds:g}s")

    def solve(self, solver: z3.Solver, formulas: list, seconds: float | None = None) -> z3.ModelRef | None | str:
        """z3's model of the conjunction, None when it has none, or z3's reason when
        it gives up within `seconds` (default: the time left). Past the deadline:
        BudgetExceeded (the caller's) or VerifierTimeout (ours)."""
        self.check()
        limit = self.left() if seconds is None else min(seconds, self.left())
        solver.set("timeout", max(1, min(int(limit * 1000), 2**31 - 1)))  # milliseconds
        solver.add(*formulas)
        result = solver.check()
        if result == z3.sat:
            return solver.model()
        if result == z3.unsat:
            return None
        self.check()
        caller = budget.current()
        if caller is not None and caller.at <= time.monotonic() + 0.01:
            raise caller.exceeded()
        return solver.reason_unknown() or "unknown"
