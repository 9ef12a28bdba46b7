"""Run the numpy reasoner on tensorized trees and read its answers back per tree
and per node: inference.predict_trees, without torch."""

from __future__ import annotations

import time


from ..domains.base import Task
from ..inference import Prediction, add_time, per_width, read_out
from ..trees import TreeTensors, batch_arrays
from .reasoner import TreeReasoner


def predict_trees(
    model: TreeReasoner, task: Task, trees: list[TreeTensors], node_answers: bool = False, halting: str | None = None,
    timings: dict[str, float] | None = None,
) -> list[Prediction]:
    """As inference.predict_trees: trees of different grid widths run as one batch
    per width; `timings` gets "tensorize" (batching), "model" and "answers"."""

    def one_width(group: list[TreeTensors]) -> list[Prediction]:
        start = time.perf_counter()
        tree_batch = batch_arrays(group)
        start = add_time(timings, "tensorize", start)
        output = model.forward(tree_batch, halting=halting)
        start = add_time(timings, "model", start)
        return read_out(
            task, group, tree_batch.tree, tree_batch.roots, output.final, output.steps, output.cycles, node_answers, timings, start,
            tree_batch.rows,
        )

    return per_width(trees, one_width)
