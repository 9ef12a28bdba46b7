"""bench.speed: the per-node recursion it compares against computes the same numbers."""

from __future__ import annotations

from hybrid_trm import bench
from hybrid_trm.domains import registry
from hybrid_trm.evaluate import load


def test_speed_compares_the_same_computation(listops_checkpoint, arith_mod10_checkpoint):
    loaded = load(listops_checkpoint)
    listops = registry.get("listops")
    texts = [listops.example(0, i, listops.difficulty(depth=4), "value").input for i in range(6)]
    report = bench.speed(loaded, texts, "1 + 2 * 3 - 4", solve_loaded=load(arith_mod10_checkpoint), repeats=1, solve_repeats=3)
    out = report.to_json()
    assert report.max_abs_difference < 1e-4  # one node at a time gives the level loop's logits
    assert out["trees"] == 6 and out["nodes"] > 6
    assert out["level_batched_vs_naive"] > 0 and out["solve_nodes"] == 7
    assert out["solve_ms_median"] > 0
