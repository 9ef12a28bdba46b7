"""Pelletier's problems (datasets/classic-fol): the loader, and the verifier
deciding a sample of each family with the file's answer."""

from __future__ import annotations

import random

import pytest

from hybrid_trm import benchmarks
from hybrid_trm.domains import registry

LOGIC = registry.get("logic")


def _sample(name: str, k: int):
    examples = benchmarks.load(name)[2]
    return examples if len(examples) <= k else random.Random(name).sample(examples, k)


PELLETIER = {"propositional": 34, "monadic": 34, "relational": 28, "equality": 14}


def test_pelletier_loader():
    for family, size in PELLETIER.items():
        domain, task, examples = benchmarks.load(f"pelletier:{family}")
        assert (domain, task, len(examples)) == ("logic", "verdict", size)
        assert {e.meta["variant"] for e in examples} >= {"original", "weakened"}
        assert all(e.answer == "valid" for e in examples if e.meta["variant"] == "original")


@pytest.mark.parametrize("family", list(PELLETIER))
def test_the_verifier_decides_sampled_pelletier_problems(family):
    """Proved or refuted, with the file's answer (`hybrid-trm bench logic` runs all 110)."""
    for ex in _sample(f"pelletier:{family}", 8):
        verdict = LOGIC.verify(ex.input, ex.answer, "verdict", budget_s=10)
        assert verdict.correct is True, (ex.meta["name"], ex.meta["variant"], verdict)
        assert "proved" in verdict.evidence or "countermodel" in verdict.evidence
