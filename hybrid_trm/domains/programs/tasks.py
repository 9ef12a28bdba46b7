"""The programs domain's tasks: how each answer is written, read and encoded.

- `output`: an integer on the 12-digit grid of IntegerTask, or one of two words,
  `error` and `timeout`, each a class of its own that fills every cell.
- `trips`, `dead`: plain IntegerTasks.
- `unset`, `recursive`: the answer is a set of names (`i,x`, or `none`); the
  model answers per node (`ok` / `unset` at each read, `yes` / `no` at each def
  and call), and the set is read off those (ProgramsDomain.answer_from_labels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import HybridTRMError
from ..base import IntegerTask, Task, parse_integer

DIGITS = tuple(str(d) for d in range(10))
WORDS = ("error", "timeout")  # a run that ends without a value
NONE = "none"  # the empty set of names
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class OutputTask(IntegerTask):
    """An integer in ten's complement over the digit cells (IntegerTask), or
    `error` / `timeout`: classes 10 and 11, written in every cell. A grid reads as
    a word where most of its cells say one (the more frequent; a tie: `error`);
    else as its digits, any stray word cell read as 0."""

    def encode(self, answer: str, width: int | None = None) -> list[int]:
        word = answer.strip().lower()
        if word in WORDS:
            return [self.answers.index(word)] * (width or self.positions)
        return super().encode(answer, width)

    def decode(self, grid: list[int]) -> str:
        words = [c for c in grid if c >= 10]
        if 2 * len(words) > len(grid):
            return self.answers[max(sorted(set(words)), key=words.count)]
        return super().decode([c if c < 10 else 0 for c in grid])

    def canonical(self, answer: str) -> str:
        """The answer as the verifier writes it; raises on one of another form."""
        word = answer.strip().lower()
        return word if word in WORDS else str(parse_integer(answer, f"answer to {self.name}"))

    def wrong_answer(self, answer: str) -> str | None:
        word = answer.strip().lower()
        if word in WORDS:
            return WORDS[1 - WORDS.index(word)]
        return super().wrong_answer(answer)


@dataclass(frozen=True)
class CountTask(IntegerTask):
    def canonical(self, answer: str) -> str:
        return str(parse_integer(answer, f"answer to {self.name}"))


@dataclass(frozen=True)
class NameSetTask(Task):
    """Per node one of `answers` (the labels); the whole program's answer is a set
    of names, sorted and comma-joined, or `none`."""

    def canonical(self, answer: str) -> str:
        text = answer.strip()
        if text.lower() == NONE:
            return NONE
        names = [n.strip() for n in text.split(",")]
        bad = [n for n in names if not _NAME.fullmatch(n)]
        if bad:
            raise HybridTRMError(
                f"answer to {self.name}: {answer!r} is not names joined by commas, or `none` ({bad[0]!r} is not a name)"
            )
        return join(names)

    def wrong_answer(self, answer: str) -> str | None:
        """`none` -> a name; a set -> the set without its last name."""
        names = self.canonical(answer).split(",")
        if names == [NONE]:
            return "x"
        return join(names[:-1])


def join(names) -> str:
    """Names as an answer: sorted, once each, comma-joined; `none` for no name."""
    return ",".join(sorted(set(names))) or NONE
