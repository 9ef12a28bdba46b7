"""Speed, measured side by side in one run: the level-batched forward against a
per-node recursion of the same model on the same trees, and `solve` latency per
model on an input of about 100 nodes, after the model is loaded.

Every figure is a ratio or a time from this run; nothing is compared against
numbers measured elsewhere."""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import torch

from .evaluate import Loaded
from .solver import solve_text
from .trees import batch, encode_texts


@dataclass
class BatchedVsNaive:
    trees: int
    nodes: int
    level_batched_s: float
    naive_s: float
    max_abs_difference: float  # between the two forwards' logits: the same numbers

    def to_json(self) -> dict:
        return {
            **asdict(self),
            "level_batched_nodes_per_s": self.nodes / self.level_batched_s,
            "naive_nodes_per_s": self.nodes / self.naive_s,
            "level_batched_vs_naive": self.naive_s / self.level_batched_s,
        }


@dataclass
class SolveLatency:
    model: str  # domain/task
    nodes: int
    ms_median: float
    ms_p90: float


def _best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@torch.inference_mode()
def batched_vs_naive(loaded: Loaded, texts: list[str], repeats: int = 3) -> BatchedVsNaive:
    """The level loop against the same model run one node at a time (children first)."""
    model = loaded.model
    tree_batch = batch(encode_texts(loaded.domain, loaded.task, texts))
    one_by_one = [(i, i + 1) for i in range(tree_batch.nodes)]
    batched = model(tree_batch, with_loss=False).final
    naive = model(tree_batch, with_loss=False, groups=one_by_one).final
    return BatchedVsNaive(
        trees=len(texts), nodes=tree_batch.nodes,
        level_batched_s=_best_time(lambda: model(tree_batch, with_loss=False), repeats),
        naive_s=_best_time(lambda: model(tree_batch, with_loss=False, groups=one_by_one), 1),
        max_abs_difference=float((batched - naive).abs().max()),
    )


def solve_latency(loaded: Loaded, text: str, repeats: int = 50) -> SolveLatency:
    """`solve` end to end (parse, tensorize, model, verify) on one input, warm."""
    solve_text(loaded, text)
    times = sorted(solve_text(loaded, text).ms for _ in range(repeats))
    return SolveLatency(
        model=f"{loaded.domain.name}/{loaded.task.name}",
        nodes=encode_texts(loaded.domain, loaded.task, [text])[0].nodes,
        ms_median=statistics.median(times), ms_p90=times[int(0.9 * (len(times) - 1))],
    )


def input_near(loaded: Loaded, nodes: int, seed: int, knobs: dict, tries: int = 300) -> str:
    """The generated input (of the model's domain and task) whose size is nearest `nodes`."""
    domain, task = loaded.domain, loaded.task
    difficulty = domain.difficulty(**knobs)
    texts = [domain.example(seed, i, difficulty, task.name).input for i in range(tries)]
    sizes = [t.nodes for t in encode_texts(domain, task, texts)]
    return min(zip(texts, sizes), key=lambda pair: abs(pair[1] - nodes))[0]
