"""The english domain's tasks: `truth`, one of three answers; `logic`, a formula.

`logic`'s answer is the input's translation, a string in the logic domain's syntax,
not one class out of a vocabulary: its nodes carry no labels yet and no model
answers it (docs/english.md, "Not built yet"); the verifier checks an answer by
logical equivalence.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import HybridTRMError
from ..base import Task

ANSWERS = ("true", "false", "unknown")


@dataclass(frozen=True)
class TranslationTask(Task):
    """An answer that is a formula: compared by the verifier, never encoded as classes."""

    def encode(self, answer: str, width: int | None = None) -> list[int]:
        raise HybridTRMError(f"task {self.name}: the answer is a formula, not a class (no model answers it yet)")

    def wrong_answer(self, answer: str) -> str | None:
        """The translation with its statement negated, or the whole of it negated:
        never equivalent to it (a consistent theory is not its own negation)."""
        theory, pair, statement = answer.rpartition(" |= ")
        if pair:
            return f"{theory} |= ~({statement})"
        return f"~({answer})"
