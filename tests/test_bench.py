"""bench: the per-node recursion it compares against computes the same numbers."""

from __future__ import annotations

import pytest

from hybrid_trm import checkpoints, pretrained
from hybrid_trm.bench import logic as logic_bench
from hybrid_trm.bench import speed
from hybrid_trm.domains import registry
from hybrid_trm.loading import load


def test_batched_and_naive_forward_agree(listops_checkpoint):
    loaded = load(listops_checkpoint)
    listops = registry.get("listops")
    texts = [listops.example(0, i, listops.difficulty(depth=4), "value").input for i in range(6)]
    report = speed.batched_vs_naive(loaded, texts, repeats=1)
    out = report.to_json()
    assert report.max_abs_difference < 1e-3  # one node at a time gives the level loop's logits
    assert out["trees"] == 6 and out["nodes"] > 6 and out["level_batched_vs_naive"] > 0


def test_solve_latency_on_an_input_of_the_asked_size(arith_mod10_checkpoint):
    loaded = load(arith_mod10_checkpoint)
    text = speed.input_near(loaded, 21, seed=0, knobs={"operands": 11, "operands_min": 11}, tries=20)
    latency = speed.solve_latency(loaded, text, repeats=3)
    assert latency.nodes >= 21 and latency.model == "arith/mod10" and latency.ms_median > 0


def test_model_and_verifier_timed_on_the_same_formulas():
    path = pretrained.path("logic", "verdict")
    if not checkpoints.exists(path):
        pytest.skip("no shipped logic-verdict checkpoint yet")
    logic = registry.get("logic")
    difficulty = logic.difficulty(first_order=1, variables=2, predicates=2, quantifier_depth=2)
    examples = [logic.example(3, i, difficulty, "verdict") for i in range(5)]
    report = logic_bench.model_vs_verifier(load(path), examples, "nesting 2", budget_s=5.0)
    assert report.n == 5 and report.model_ms_median > 0 and report.verifier_ms_median > 0
    assert 0.0 <= report.agreement <= 1.0 and report.verifier_timeouts == 0 and report.verifier_right == 5
    assert report.model_ms_p99 >= report.model_ms_median and 0.0 <= report.calibration_error <= 1.0
    assert report.to_json()["model_vs_verifier"] > 0


def test_calibration_error_and_percentile():
    assert logic_bench.calibration_error([0.95, 0.95], [True, False]) == pytest.approx(0.45)
    assert logic_bench.calibration_error([1.0, 0.55], [True, True]) == pytest.approx(0.225)
    assert logic_bench.percentile(list(range(1, 101)), 0.99) == 99
