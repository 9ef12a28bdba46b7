"""Speed, measured side by side in one run: the level-batched forward against a
per-node recursion of the same model on the same trees, and `solve` latency.

Every figure is a ratio or a time from this run; nothing is compared against
numbers measured elsewhere."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch

from .evaluate import Loaded
from .solver import solve_text
from .trees import batch, encode_texts


@dataclass
class SpeedReport:
    trees: int
    nodes: int
    level_batched_s: float
    naive_s: float
    max_abs_difference: float  # between the two forwards' logits: the same numbers
    solve_nodes: int
    solve_ms_median: float
    solve_ms_p90: float

    @property
    def level_batched_vs_naive(self) -> float:
        return self.naive_s / self.level_batched_s

    def to_json(self) -> dict:
        return {
            "trees": self.trees, "nodes": self.nodes,
            "level_batched_nodes_per_s": self.nodes / self.level_batched_s,
            "naive_nodes_per_s": self.nodes / self.naive_s,
            "level_batched_vs_naive": self.level_batched_vs_naive,
            "max_abs_difference": self.max_abs_difference,
            "solve_nodes": self.solve_nodes, "solve_ms_median": self.solve_ms_median,
            "solve_ms_p90": self.solve_ms_p90,
        }


def _timed(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@torch.no_grad()
def speed(
    loaded: Loaded, texts: list[str], solve_input: str, solve_loaded: Loaded | None = None,
    repeats: int = 3, solve_repeats: int = 50,
) -> SpeedReport:
    """`texts` run through `loaded` both ways; `solve_input` is solved with `solve_loaded`."""
    model, domain, task = loaded.model, loaded.domain, loaded.task
    tree_batch = batch(encode_texts(domain, task, texts))
    one_by_one = [(i, i + 1) for i in range(tree_batch.nodes)]  # height order: children first
    batched = model(tree_batch, with_loss=False).final
    naive = model(tree_batch, with_loss=False, groups=one_by_one).final
    level_s = _timed(lambda: model(tree_batch, with_loss=False), repeats)
    naive_s = _timed(lambda: model(tree_batch, with_loss=False, groups=one_by_one), 1)
    solver = solve_loaded or loaded
    solve_text(solver, solve_input)  # warm-up
    times = [solve_text(solver, solve_input).ms for _ in range(solve_repeats)]
    nodes = encode_texts(solver.domain, solver.task, [solve_input])[0].nodes
    return SpeedReport(
        trees=len(texts), nodes=tree_batch.nodes, level_batched_s=level_s, naive_s=naive_s,
        max_abs_difference=float((batched - naive).abs().max()),
        solve_nodes=nodes, solve_ms_median=statistics.median(times),
        solve_ms_p90=sorted(times)[int(0.9 * (len(times) - 1))],
    )
