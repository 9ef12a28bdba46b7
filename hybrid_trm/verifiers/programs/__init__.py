"""Symbolic ground truth for programs: the answer to each of the five tasks of
docs/programs.md, and the evidence a person checks it by, computed on the parse
tree with no code shared with the domain's labeller.

  output, trips   run the program (interpreter.py): "ran 57 statements; returned 18",
                  or which error stopped it, and where
  dead            control-flow graphs, constant conditions folded (flow.py): the
                  dead statements, grouped under what cuts each off
  unset           a may-be-unset fixpoint on those graphs (flow.py): for each
                  variable read unset, a path from the entry that never assigns it
  recursive       the call graph (calls.py): a cycle through each recursive group

The tree must be a well-formed program (calls.functions says why not, in one line:
HybridTRMError). Past `budget_s` the verifier raises VerifierTimeout saying what it
was doing; past the caller's budget (hybrid_trm.budget), BudgetExceeded.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ... import budget
from ...errors import HybridTRMError, VerifierTimeout
from ...grammar import Node
from . import calls, interpreter

if TYPE_CHECKING:
    from . import flow

__all__ = ["TASKS", "expected"]

TASKS = ("output", "trips", "dead", "unset", "recursive")
MAX_EVIDENCE_LINES = 6  # of dead groups, of statements in one, of unset variables; the rest are counted


class _Clock:
    """The verifier's own deadline, checked with the caller's (budget.check)."""

    def __init__(self, task: str, seconds: float):
        if not seconds > 0:  # also NaN
            raise HybridTRMError(f"programs/{task}: a time budget must be a positive number of seconds, not {seconds}")
        self.task, self.seconds, self.at = task, seconds, time.monotonic() + seconds
        self.doing = "checking the program"

    def __call__(self) -> None:
        budget.check()
        if time.monotonic() > self.at:
            raise VerifierTimeout(f"programs/{self.task}: ran past its {self.seconds:g} s budget while {self.doing}")


def expected(tree: Node, task: str, budget_s: float = 2.0) -> tuple[str, str]:
    """(the answer to `task` for the program `tree`, as docs/programs.md writes it; evidence)."""
    if task not in TASKS:
        raise HybridTRMError(f"programs has no task {task!r}; its tasks: {', '.join(TASKS)}")
    clock = _Clock(task, budget_s)
    clock()
    defs = calls.functions(tree, clock)
    if task in ("output", "trips"):
        clock.doing = "running the program"
        ran = interpreter.run(tree, defs, clock)
        return str(ran.result if task == "output" else ran.counted()), ran.evidence()
    if task == "recursive":
        clock.doing = "finding cycles of the call graph"
        names, cycles = calls.recursive(defs)
        evidence = _joined([" -> ".join(c) for c in cycles]) or f"no call cycle among {len(defs)} function(s)"
        return ",".join(names) or "none", evidence
    clock.doing = "building control-flow graphs"
    from . import flow  # networkx, imported where a graph is built: `output` needs none

    source = flow.Source(tree, clock)
    scopes = flow.scopes(tree, defs, source, clock)
    if task == "dead":
        clock.doing = "finding dead statements"
        return _dead(scopes, source, clock)
    clock.doing = "computing the may-be-unset fixpoint"
    return _unset(scopes, source, clock)


def _dead(scopes: list[flow.Scope], source: flow.Source, clock: _Clock) -> tuple[str, str]:
    from . import flow

    lines, total = [], 0
    for scope in scopes:
        for cuts, gone in flow.dead(scope, source, clock).items():
            total += len(gone)
            places = ", ".join(source.place(n) for n in gone[:MAX_EVIDENCE_LINES])
            more = f" and {len(gone) - MAX_EVIDENCE_LINES:,} more" if len(gone) > MAX_EVIDENCE_LINES else ""
            lines.append(f"in {scope.title()}, {flow.cause(cuts, source)}: {places}{more}")
    if not total:
        return "0", f"every statement is reachable from its entry ({len(source.statements)} statements)"
    return str(total), f"{total} dead: " + _joined(lines)


def _unset(scopes: list[flow.Scope], source: flow.Source, clock: _Clock) -> tuple[str, str]:
    from . import flow

    first: dict[str, tuple] = {}  # variable -> (scope, statement, token) of its first unset read
    checked = 0
    for scope in scopes:
        for n, read, unset in flow.unset_reads(scope, clock):
            checked += 1
            if unset and str(read) not in first:
                first[str(read)] = scope, n, read
    if not first:
        return "none", f"every one of {checked} read(s) follows an assignment on every path"
    lines = []
    for name in sorted(first)[:MAX_EVIDENCE_LINES]:  # a witness path each: a graph search
        scope, n, read = first[name]
        where = "" if scope.name is None else f"in {scope.name}: "
        path = flow.witness(scope, source, n, name)
        lines.append(f"{where}{name} read at line {read.line} before any assignment on the path: {path}")
    more = len(first) - len(lines)
    return ",".join(sorted(first)), "; ".join(lines) + (f"; and {more:,} more" if more else "")


def _joined(lines: list[str]) -> str:
    shown = lines[:MAX_EVIDENCE_LINES]
    more = len(lines) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more else "")
