"""Run a loaded reasoner on parsed trees: the trees as the model reads them
(an answer grid per tree), batched, and the predictions read back per tree and
per node, timed by stage. The trees and the Prediction are torch-free (the
runtime, hybrid_trm/runtime, uses them); predict_trees imports torch."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from . import budget
from .domains.base import Domain, Task, WorldTask
from .errors import HybridTRMError
from .grammar import postorder
from .trees import TreeTensors, batch, tensorize, tensorize_worlds

if TYPE_CHECKING:
    from .model.reasoner import TreeReasoner


# The most worlds a logic formula is evaluated in (`--worlds`): every world of 16
# letters. Each node holds a state per world: on 65,536 worlds, one latent state of
# a 100-node formula is 0.8 GB at hidden 32 (the default grid is 1,024 worlds).
MAX_WORLDS = 65_536


def inference_tensors(
    domain: Domain, task: Task, trees: list, trained_width: int | None = None, worlds: int | None = None
) -> list[TreeTensors]:
    """Trees as the model reads them. An integer answer's grid is as wide as the
    tree's values need (a sign digit above the domain's bound on their digits),
    never narrower than the grid the model was trained on, never wider than the
    task's: the cell's weights are shared across positions, but carries running
    through many more positions than it trained on are where it errs. Each tree
    gets its own width, so that its answer does not depend on the trees it is
    batched with (predict_trees runs each width apart).
    A WorldTask's grid has `worlds` positions (default: the task's, fewer for a
    large tree: WorldTask.grid_positions); trees of one width are tensorized together."""
    if isinstance(task, WorldTask):
        if worlds is not None and not 1 <= worlds <= MAX_WORLDS:
            raise HybridTRMError(f"worlds must be from 1 to {MAX_WORLDS:,}, not {worlds:,}")
        widths = []
        for tree in trees:
            nodes = len(postorder(tree))
            widths.append(task.grid_positions(nodes, worlds))
            budget.check_grid(nodes, widths[-1])
        out: list[TreeTensors | None] = [None] * len(trees)
        for width in sorted(set(widths)):
            rows = [i for i, w in enumerate(widths) if w == width]
            for i, tensors in zip(rows, tensorize_worlds(domain, [trees[i] for i in rows], task, width, labelled=False)):
                out[i] = tensors
        return out
    if worlds is not None:
        raise HybridTRMError(f"{domain.name}/{task.name} is not answered over worlds; a number of worlds applies to logic tasks")
    if task.positions == 1:
        return [tensorize(domain, tree, task) for tree in trees]
    out = []
    for tree in trees:
        digits = domain.answer_digits(tree, task.name)
        width = None if digits is None else min(task.positions, max(trained_width or 0, digits + 1))
        out.append(tensorize(domain, tree, task, width=width))
    return out


# Trees per inference batch. A level's rows are one matmul each: on 2,000 ListOps
# inputs of ~40 nodes, batches of 1,024 took 0.28-0.34 s in the model, of 256 0.47-0.55.
INFERENCE_TREES = 1024


def grid_batch_size(task: Task, trees: int, worlds: int | None = None) -> int:
    """Trees per inference batch: fewer on a wide grid of worlds, whose every node
    holds a state per world (256 trees of 300 nodes on 1024 worlds need gigabytes):
    two trees at a time on 1024 worlds, 32 on 64."""
    if not isinstance(task, WorldTask):
        return trees
    return max(1, trees * 2 // (worlds or task.positions))


@dataclass
class Prediction:
    answer: str
    confidence: float
    steps_mean: float  # latent updates per node of this tree
    node_answers: list[str] = field(default_factory=list)  # every node, in postorder
    node_steps: list[int] = field(default_factory=list)  # latent updates of every node, in postorder
    node_cycles: list[int] = field(default_factory=list)  # answer updates of every node, in postorder
    cells: list[int] = field(default_factory=list)  # the root's grid: digits, or one cell per world


def add_time(timings: dict[str, float] | None, stage: str, since: float) -> float:
    """Add the time from `since` to now to `timings[stage]` (None: not timed); returns now."""
    now = time.perf_counter()
    if timings is not None:
        timings[stage] = timings.get(stage, 0.0) + now - since
    return now


def add_timings(timings: dict[str, float], more: dict[str, float]) -> None:
    """Add `more`'s seconds per stage to `timings`'."""
    for stage, seconds in more.items():
        timings[stage] = timings.get(stage, 0.0) + seconds


def predict_trees(
    model: TreeReasoner, task: Task, trees: list[TreeTensors], node_answers: bool = False, halting: str | None = None,
    timings: dict[str, float] | None = None,
) -> list[Prediction]:
    """`halting`: as TreeReasoner.forward's ("off": every node at the fixed maximum).
    `timings`: seconds are added to its "tensorize" (batching), "model" and "answers".
    Trees of different grid widths (see inference_tensors) run as one batch per width."""
    import torch

    with torch.inference_mode():
        return _predicted(model, task, trees, node_answers, halting, timings)


def _predicted(
    model: TreeReasoner, task: Task, trees: list[TreeTensors], node_answers: bool, halting: str | None,
    timings: dict[str, float] | None,
) -> list[Prediction]:
    def one_width(group: list[TreeTensors]) -> list[Prediction]:
        start = time.perf_counter()
        tree_batch = batch(group)  # on the CPU: the model moves it to its device
        start = add_time(timings, "tensorize", start)
        output = model(tree_batch, with_loss=False, halting=halting)
        # Read back to the CPU within the model's time: an accelerator's work is done
        # once its results are here, not when the call that queued it returns.
        final, steps, cycles = (t.cpu().numpy() for t in (output.final, output.steps, output.cycles))
        start = add_time(timings, "model", start)
        return read_out(
            task, group, tree_batch.tree.numpy(), tree_batch.roots.numpy(), final, steps, cycles, node_answers, timings, start,
            None if tree_batch.rows is None else tree_batch.rows.numpy(),
        )

    return per_width(trees, one_width)


def per_width(trees: list[TreeTensors], predicted: Callable[[list[TreeTensors]], list[Prediction]]) -> list[Prediction]:
    """`predicted` run on the trees of each grid width apart (one batch each), the
    predictions back in the trees' order: a tree's answer never depends on the
    widths of the trees batched with it."""
    widths = sorted({t.literal.shape[1] for t in trees})
    if len(widths) == 1:
        return predicted(trees)
    out: list[Prediction | None] = [None] * len(trees)
    for width in widths:
        rows = [i for i, t in enumerate(trees) if t.literal.shape[1] == width]
        for i, prediction in zip(rows, predicted([trees[i] for i in rows])):
            out[i] = prediction
    return out


def read_out(
    task: Task, trees: list[TreeTensors], tree: np.ndarray, roots: np.ndarray, final: np.ndarray, steps: np.ndarray,
    cycles: np.ndarray, node_answers: bool, timings: dict[str, float] | None, start: float, rows: np.ndarray | None = None,
) -> list[Prediction]:
    """A batch's answers per tree and per node, from its final logits (N, P, C) and
    steps and cycles per node (N,), nodes in batch order (`tree`: each node's tree;
    `roots`: each tree's root; `rows`: TreeBatch.rows, found again where None);
    `start`: when reading began, for timings["answers"]."""
    probs = _softmax(final[roots])  # (B, P, C): the roots' (every node's for node_answers, below)
    grid, best = probs.argmax(axis=-1), probs.max(axis=-1)  # (B, P)
    # A grid of worlds is as sure as its least sure world; digits must all be right.
    confidence = best.min(axis=-1) if isinstance(task, WorldTask) else best.prod(axis=-1)
    sizes = np.array([t.nodes for t in trees], dtype=np.float64)
    steps_mean = np.bincount(tree, weights=steps, minlength=len(trees)) / sizes
    # Read out as Python lists in one call each, not an index per tree.
    out = [
        Prediction(task.decode(cells), c, s, cells=list(cells))
        for cells, c, s in zip(grid.tolist(), confidence.tolist(), steps_mean.tolist())
    ]
    if isinstance(task, WorldTask):  # a sample of worlds cannot show that none of a kind exists
        for prediction, t in zip(out, trees):
            if not t.exhaustive and not task.witnessed(prediction.answer):
                prediction.confidence = min(prediction.confidence, task.sampled_confidence)
    # Batch positions back to each tree's postorder: nodes were sorted stably by height.
    order = rows if rows is not None else np.argsort(tree * (len(tree) + 1) + _postorder_rank(trees), kind="stable")
    node_steps, node_cycles = steps[order].tolist(), cycles[order].tolist()
    node_grid = _softmax(final[order]).argmax(axis=-1).tolist() if node_answers else None
    hi = 0
    for prediction, t in zip(out, trees):
        lo, hi = hi, hi + t.nodes
        prediction.node_steps, prediction.node_cycles = node_steps[lo:hi], node_cycles[lo:hi]
        if node_grid is not None:
            prediction.node_answers = [task.decode(cells) for cells in node_grid[lo:hi]]
    add_time(timings, "answers", start)
    return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    """Over the last axis, row by row (a row's result does not depend on the others)."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _postorder_rank(trees: list[TreeTensors]) -> np.ndarray:
    """Each batch node's index in its own tree's postorder."""
    ranks = np.concatenate([np.arange(t.nodes) for t in trees])
    heights = np.concatenate([t.height for t in trees])
    return ranks[np.argsort(heights, kind="stable")]


def predict(
    model: TreeReasoner, domain: Domain, task: Task, texts: list[str], batch_size: int = INFERENCE_TREES, width: int | None = None,
    worlds: int | None = None,
) -> list[Prediction]:
    out: list[Prediction] = []
    batch_size = grid_batch_size(task, batch_size, worlds)
    for i in range(0, len(texts), batch_size):
        trees = inference_tensors(domain, task, [domain.parse(t) for t in texts[i : i + batch_size]], width, worlds)
        out.extend(predict_trees(model, task, trees))
    return out
