"""Curriculum: train from the shallowest difficulty up to the training difficulty.

A domain names the integer knobs a curriculum moves and each one's easiest value
(`Domain.curriculum_start`: depth from 1, arity from 2, ...). Level 0 sets every
such knob to its easiest value; the last level is the training difficulty itself;
in between, each knob moves in proportion, so all of them arrive together. A knob
with a `<knob>_min` partner (depth_min) keeps its range below the knob's value.
The training loop moves to the next level when the model's accuracy on held-out
examples of the current level passes a threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..domains.base import Domain


@dataclass
class Curriculum:
    levels: list[dict[str, Any]]  # the difficulty knobs of each level; the last is the training difficulty

    @classmethod
    def up_to(cls, domain: Domain, target: dict[str, Any]) -> Curriculum:
        full = asdict(domain.difficulty(**target))
        ramps = {
            knob: (start, full[knob])
            for knob, start in domain.curriculum_start.items()
            if isinstance(full.get(knob), int) and not isinstance(full[knob], bool) and full[knob] > start
        }
        span = max((end - start for start, end in ramps.values()), default=0)
        levels: list[dict[str, Any]] = []
        for level in range(span):
            knobs = dict(target)
            for knob, (start, end) in ramps.items():
                value = start + round(level * (end - start) / span)
                knobs[knob] = value
                if f"{knob}_min" in full:
                    knobs[f"{knob}_min"] = min(full[f"{knob}_min"], value)
            if not levels or knobs != levels[-1]:
                levels.append(knobs)
        return cls(levels + [dict(target)])

    def describe(self, level: int) -> str:
        knobs = ", ".join(f"{k}={v}" for k, v in self.levels[level].items())
        return knobs or "the domain's default difficulty"
