"""The english domain's tasks: `truth`, one of three answers; `logic`, a formula;
`antecedent`, a formula at the root and, at each reference, how many noun phrases
back its antecedent is (`new`: a definite description that introduces its referent).

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
MAX_BACK = 99  # the farthest antecedent a label names, in noun phrases
REFERENCES = ("new", *(str(n) for n in range(1, MAX_BACK + 1)))


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


@dataclass(frozen=True)
class ReferenceTask(TranslationTask):
    """A reference's label is a class (`new`, 1 .. MAX_BACK); the root's answer, the
    translation with every reference resolved, is a formula."""

    def encode(self, answer: str, width: int | None = None) -> list[int]:
        if answer.strip() not in self.answers:
            raise HybridTRMError(
                f"task {self.name}: {answer!r} is not a reference's label (new, or 1 to {MAX_BACK} noun phrases back); "
                "the root's answer is a formula, compared by the verifier"
            )
        return Task.encode(self, answer, width)
