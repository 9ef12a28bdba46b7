"""Time budgets and size limits: every input gets an answer or one clear line, in time.

A budget is a deadline for one piece of work (one `solve`, one `eval` input), held
in a context variable: each thread (and each forked worker) has its own, so a
budget set by one caller never stops another's work. The stages check it as they
go (the parser every few thousand tokens, the model at every tree level, the
verifiers between steps), so a budget holds in any thread, without signals:

    with budget.limit(10.0, "solve"):
        budget.stage("parsing", f"{len(text):,} characters")
        tree = parse(...)            # calls budget.check() as it works
        budget.stage("the model", f"{nodes:,} nodes, depth {depth:,}")
        ...

Past the deadline, `check` raises BudgetExceeded naming the work, the stage and
how large the input was. Without a budget (`limit(None)`, or none set) `check`
never raises.

Sizes are checked before the work, against the limits below (documented in
docs/limits.md): what cannot be done in time or memory is refused at once, with
the limit named, rather than started.
"""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .errors import BudgetExceeded, HybridTRMError

DEFAULT_SECONDS = 10.0  # `solve --timeout` and `eval --timeout`'s default, per input

# Limits checked before the work (docs/limits.md). An input past one is refused
# with a line that names it: each guards time or memory that no budget could
# return once spent (a 10^6-node tree's tensors, a Lark parse that cannot be
# interrupted, a grid of 10^9 positions).
# Characters of one input: a parse that fails is parsed again by Lark for its error
# message, about 9 µs a character, and cannot be stopped midway: 250k is 2-3 s.
MAX_INPUT_CHARS = 250_000
MAX_NODES = 150_000  # parse-tree nodes of one input
MAX_DEPTH = 20_000  # tree height of one input: the model runs one level after another
MAX_ARITY = 10_000  # children of one node
# Nodes x positions of one tree on a grid of worlds (logic): every node holds a state
# per world, and a level's latent is rows x worlds x hidden floats (GBs past this).
MAX_GRID_CELLS = 8_000_000


@dataclass
class Deadline:
    """One piece of work's deadline, and where the work stands."""

    seconds: float
    at: float  # time.monotonic() past which the work is out of time
    what: str  # "solve", "eval input at line 12"
    stage: str = "starting"
    size: str = ""  # how large the input is, as far as known: "12,345 characters, 10,001 nodes"

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def exceeded(self) -> BudgetExceeded:
        size = f" (input: {self.size})" if self.size else ""
        return BudgetExceeded(
            f"{self.what} ran out of its {self.seconds:g} s budget while {self.stage}{size}; "
            "give a smaller input or a larger --timeout",
            stage=self.stage,
        )


_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("hybrid_trm_deadline", default=None)


@contextmanager
def limit(seconds: float | None, what: str = "solve") -> Iterator[Deadline | None]:
    """Run the block under a budget of `seconds`; None: without one, whatever the
    caller's (work that is not charged, like a model's warm-up). A budget set
    inside another ends at the earlier of the two deadlines."""
    deadline = None
    if seconds is not None:
        if not seconds > 0:  # also NaN
            raise HybridTRMError(f"a time budget must be a positive number of seconds, not {seconds}")
        outer = _CURRENT.get()
        at = time.monotonic() + seconds
        if outer is not None and outer.at < at:
            at, seconds = outer.at, outer.seconds
        deadline = Deadline(seconds, at, what)
    token = _CURRENT.set(deadline)
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


@contextmanager
def uncharged() -> Iterator[None]:
    """Time spent in the block is not charged to the current budget (loading a
    model the first time: a budget is for the answer's work)."""
    deadline, start = _CURRENT.get(), time.monotonic()
    try:
        yield
    finally:
        if deadline is not None:
            deadline.at += time.monotonic() - start


def current() -> Deadline | None:
    return _CURRENT.get()


def stage(name: str, size: str | None = None) -> None:
    """Say which stage the work is in (and, newly known, how large the input is),
    for the line a BudgetExceeded prints; checks the deadline."""
    deadline = _CURRENT.get()
    if deadline is None:
        return
    deadline.stage = name
    if size:
        deadline.size = size
    check()


def check() -> None:
    """Raise BudgetExceeded if the current budget is spent (no budget: never)."""
    deadline = _CURRENT.get()
    if deadline is not None and time.monotonic() > deadline.at:
        raise deadline.exceeded()


def remaining(default: float) -> float:
    """Seconds left in the current budget, at most `default` (no budget: `default`).
    Never below a millisecond: a callee given it still starts, then sees the deadline."""
    deadline = _CURRENT.get()
    if deadline is None:
        return default
    return max(1e-3, min(default, deadline.remaining()))


def check_text(text: str, what: str = "input") -> None:
    """Refuse an input longer than MAX_INPUT_CHARS, before parsing it."""
    if len(text) > MAX_INPUT_CHARS:
        raise HybridTRMError(
            f"the {what} is {len(text):,} characters; at most {MAX_INPUT_CHARS:,} are accepted (docs/limits.md)"
        )


def check_tree(nodes: int, depth: int, arity: int) -> None:
    """Refuse a parse tree past MAX_NODES, MAX_DEPTH or MAX_ARITY, before the model
    or a verifier runs on it."""
    for amount, most, what in (
        (nodes, MAX_NODES, "has {:,} nodes"), (depth, MAX_DEPTH, "is {:,} levels deep"),
        (arity, MAX_ARITY, "has {:,} children under one node"),
    ):
        if amount > most:
            raise HybridTRMError(
                f"the input's tree {what.format(amount)}; at most {most:,} are accepted (docs/limits.md)"
            )


def check_grid(nodes: int, positions: int) -> None:
    """Refuse a tree too large for its grid of worlds (MAX_GRID_CELLS), naming the
    number of worlds that would fit."""
    if nodes * positions > MAX_GRID_CELLS:
        fits = MAX_GRID_CELLS // nodes
        hint = f"pass --worlds {fits:,} or fewer" if fits else "a formula this large cannot be answered on a grid of worlds"
        raise HybridTRMError(
            f"the input's {nodes:,} nodes x {positions:,} worlds = {nodes * positions:,} grid cells; "
            f"at most {MAX_GRID_CELLS:,} are accepted (docs/limits.md): {hint}"
        )
