"""The tree reasoner at inference in numpy: TreeReasoner.forward (model/reasoner.py)
without the loss, run level by level on a batch of numpy arrays (trees.batch_arrays).

The same numbers as the torch model, node for node, within float32 rounding:
the same inputs (kind, literal, the children's answer summary, first child, the
scan), the same cycles, halting and recursion strategy, and memos of work whose
result does not change: a grid of worlds runs once per distinct cell
(model/cells.py), as in torch, equal subtrees once each (torch shares equal
leaves only): a node's answer is a function of its kind, its literal and its
children's answers alone; and in the answer scan, each step once for the nodes
that have read the same children so far (SamePrefixes). Every row is computed on
its own, so a tree's answer does not depend on the trees batched with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .. import budget
from ..errors import HybridTRMError
from ..model.cells import LevelCells, distinct_cells, unique_rows
from ..model.config import ModelConfig
from ..trees import TreeBatch
from .cell import Cell, linear, softmax
from .weights import Weights

# Grid cells (rows x positions) one step computes at once, as the torch model's
# PART_CELLS: a wide level runs in parts, and the time budget is checked between them.
PART_CELLS = 1 << 17
# Nodes in a level from which equal subtrees there run once each. Finding them
# costs numpy ~20 µs, where torch's per-call overhead set its threshold (for
# leaves) at 512: on a 100-node arith/mod10 input, 50 leaves are 10 distinct, and
# the leaf level took 0.2 ms instead of 0.6. In a batch of 256 generated
# arith/mod10 inputs, the 3,754 nodes one above the leaves are 310 distinct.
SHARED_FROM = 16
HALTING_MODES = ("off", "threshold")  # sampling the halting policy is training's, in torch


@dataclass
class Output:
    final: np.ndarray  # (N, P, C) each node's answer logits at the last cycle it ran
    steps: np.ndarray  # (N,) latent updates each node ran
    cycles: np.ndarray  # (N,) outer cycles each node ran


@dataclass
class _Level:
    """What one group of rows computed: logits, cycles run, inner steps per cycle."""

    final: np.ndarray  # (R, P, C)
    cycles: np.ndarray  # (R,)
    inner: int | np.ndarray  # n, or (R,) the controller's choice per row


@dataclass
class _Leaves:
    """A childless node's outputs (TreeReasoner._leaves), a row per kind and literal:
    row kind * literals + literal."""

    literals: int
    final: np.ndarray  # (K * L, 1, C)
    answers: np.ndarray  # (K * L, 1, C) the softmax its parent reads
    cycles: np.ndarray  # (K * L,)
    steps: np.ndarray  # (K * L,)


class TreeReasoner:
    """A recursive model's inference in numpy, from its config and weights."""

    def __init__(self, config: ModelConfig, weights: Weights):
        self.config = config
        self.w = weights
        self.cell = Cell(weights)
        self.leaf_table: _Leaves | None = None  # _leaves, made at its first use
        # Every kind's embedding plus every literal's, (K, L, H): a node's own input
        # in one lookup, the same sums node_input would add.
        self.own_inputs = weights.kind[:, None, :] + weights.literal[None, :, :]

    def forward(self, batch: TreeBatch, halting: str | None = None) -> Output:
        """Every node's answer logits, steps and cycles (TreeReasoner.forward at
        inference). `halting`: "off" runs every node for all cycles; "threshold"
        (the default with a halting head) stops a node once its head says so."""
        cfg = self.config
        mode = halting or ("threshold" if cfg.halting else "off")
        if mode not in HALTING_MODES:
            raise HybridTRMError(f"halting must be one of {', '.join(HALTING_MODES)} in the runtime, not {mode!r}")
        if mode != "off" and not cfg.halting:
            raise HybridTRMError("this model has no halting head; train it with halting to stop nodes early")
        if not cfg.carry and batch.literal.shape[1] > 1:  # a grid of worlds
            return self._by_cells(batch, mode)
        return self._by_levels(batch, mode)

    def _by_levels(self, batch: TreeBatch, mode: str) -> Output:
        if _leaves_read(batch, mode) and _widest(batch.levels[1:]) < SHARED_FROM:
            # Only the leaves could be shared, and they are read from a table: the
            # same answers as sharing them, 40 µs sooner on a solve's ~100-node tree
            return self._levels(batch, mode)
        distinct, same = distinct_subtrees(batch)
        out = self._levels(distinct, mode)
        return out if same is None else Output(out.final[same], out.steps[same], out.cycles[same])

    def _levels(self, batch: TreeBatch, mode: str) -> Output:
        cfg = self.config
        n, p = batch.nodes, batch.literal.shape[1]
        final = np.zeros((n, p, cfg.classes), dtype=np.float32)
        answers = np.zeros((n, p, cfg.classes), dtype=np.float32)  # read by each node's parent
        steps, cycles = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        rows_per_part = max(1, PART_CELLS // p)
        for start, end in batch.levels:
            if start == 0 and end >= 2 and _leaves_read(batch, mode):  # the leaves: read from a table
                budget.check()
                leaves = self._leaves()
                row = batch.kind[:end] * leaves.literals + batch.literal[:end, 0]
                final[:end], answers[:end] = leaves.final[row], leaves.answers[row]
                cycles[:end], steps[:end] = leaves.cycles[row], leaves.steps[row]
                continue
            for lo in range(start, end, rows_per_part):
                hi = min(lo + rows_per_part, end)
                budget.check()
                x, own, scan, present, arity = self.node_input(batch, lo, hi, answers)
                same = SamePrefixes.of(batch, lo, hi) if cfg.scan == "answer" and present is not None else None
                out = self._level(x, own, scan, present, batch.kind[lo:hi], mode, same=same)
                final[lo:hi], cycles[lo:hi] = out.final, out.cycles
                softmax(out.final, out=answers[lo:hi])
                read = 1 if cfg.scan == "answer" and present is not None else out.cycles
                steps[lo:hi] = read * arity + out.cycles * out.inner
        return Output(final, steps, cycles)

    def _leaves(self) -> _Leaves:
        """Every childless node's outputs on a one-position grid without halting, by
        kind and literal: a leaf's answer is a function of those two alone. Computed
        once, all pairs as one group of rows: a level of leaves reads what it would
        compute, within float32 rounding (OpenBLAS rounds some rows of a block, its
        last ones, by another kernel: a leaf's logits move by up to 1e-6, as
        batching with other trees moves them; ListOps' answers, steps and
        confidences were the same on the 1,300 inputs checked)."""
        if self.leaf_table is None:
            w = self.w
            kinds, literals = len(w.kind), len(w.literal)
            kind, literal = np.repeat(np.arange(kinds), literals), np.tile(np.arange(literals), kinds)
            x = self.own_inputs[kind[:, None], literal[:, None]]  # (K * L, 1, H)
            out = self._level(x, x, None, None, kind, "off")
            steps = out.cycles * 0 + out.cycles * out.inner  # as _levels: no children read
            self.leaf_table = _Leaves(literals, out.final, softmax(out.final), out.cycles, steps)
        return self.leaf_table

    def _by_cells(self, batch: TreeBatch, mode: str) -> Output:
        """A grid of worlds, once per distinct cell (model/cells.py)."""
        cfg = self.config
        cells = distinct_cells(batch, per_node=cfg.halting)
        final = np.zeros((cells.classes, cfg.classes), dtype=np.float32)
        answers = np.zeros((cells.classes, cfg.classes), dtype=np.float32)  # each class's, read by its parents
        cycles, inner = np.zeros(cells.classes, dtype=np.int64), np.zeros(cells.classes, dtype=np.int64)
        for group in cells.parts(PART_CELLS):
            budget.check()
            x, own, scan, present = self.cells_input(group, answers)
            out = self._level(x, own, scan, present, group.kind, mode, group.node)
            rows = slice(group.first, group.first + group.rows)
            final[rows], cycles[rows], inner[rows] = out.final[:, 0], out.cycles, out.inner
            answers[rows] = softmax(out.final[:, 0])
        node_cycles, node_inner = cycles[cells.node_row], inner[cells.node_row]
        arity = np.bincount(batch.child_parent, minlength=batch.nodes)
        steps = (1 if cfg.scan == "answer" else node_cycles) * arity + node_cycles * node_inner
        return Output(final[cells.cell], steps, node_cycles)

    def _level(
        self, x: np.ndarray, own: np.ndarray, scan: np.ndarray | None, present: np.ndarray | None, kinds: np.ndarray,
        mode: str, row_node: np.ndarray | None = None, same: SamePrefixes | None = None,
    ) -> _Level:
        """One group of rows through every outer cycle (the body of TreeReasoner.forward's
        level loop). `scan` (R, J, P, H) and `present` (R, J, 1, 1): the children's
        inputs by rank and which rows have each (None: no row has children).
        `row_node`: per-node classes of a grid of worlds, which halt together;
        `same`: which rows read the same children (the answer scan computes each once)."""
        cfg, w = self.config, self.w
        rows = len(x)
        partial = [] if present is None else [
            None if every else present[:, j] for j, every in enumerate(present.all(axis=0).reshape(-1).tolist())
        ]
        folded = self.cell.fold(own, scan, partial, self.scan_answer, same) if cfg.scan == "answer" and partial else None
        children = [] if folded is not None or scan is None else [scan[:, j] for j in range(scan.shape[1])]
        # y starts as y_init on every row: the vector itself, which the first cycle's
        # sums broadcast (the same numbers); z as z_init where no scan replaces it.
        y, z = w.y_init, None
        if folded is None:
            z = np.empty_like(x)
            z[...] = w.z_init
        inner: int | np.ndarray = cfg.inner_steps
        if cfg.controller and mode != "off":
            inner = self.strategy(kinds)
        if mode == "off":  # every row runs every cycle: the head reads the last
            for _ in range(cfg.outer_cycles):
                y, z = self.cell.cycle(x, y, z if folded is None else folded, inner, children, partial)
            return _Level(linear(y, w.head, w.head_bias), np.full(rows, cfg.outer_cycles, dtype=np.int64), inner)
        return self._halting(x, y, z, folded, inner, children, partial, kinds, row_node)

    def _halting(
        self, x: np.ndarray, y: np.ndarray, z: np.ndarray | None, folded: np.ndarray | None, inner: int | np.ndarray,
        scan: list[np.ndarray], partial: list[np.ndarray | None], kinds: np.ndarray, row_node: np.ndarray | None,
    ) -> _Level:
        """_level's cycles where the halting head stops rows (threshold)."""
        cfg, w = self.config, self.w
        rows = len(x)
        running: np.ndarray | None = None  # rows still running (None: all of them)
        final = None
        cycles = np.zeros(rows, dtype=np.int64)

        def part(v):
            return v if running is None else v[running]

        for t in range(cfg.outer_cycles):
            if folded is not None:
                z = part(folded)
            y, z = self.cell.cycle(
                part(x), y, z, part(inner) if isinstance(inner, np.ndarray) else inner, [part(c) for c in scan],
                [None if h is None else part(h) for h in partial],
            )
            if running is None:
                cycles += 1
            else:
                cycles[running] += 1
            logits = linear(y, w.head, w.head_bias)
            if running is None:
                final = logits
            else:
                final[running] = logits
            if t == cfg.outer_cycles - 1:
                break
            halt = linear(y, w.halt_head, w.halt_bias)[..., 0].min(axis=-1)  # (R,) the least sure position
            if row_node is not None:  # a node's classes stop together
                halt = _least_per_node(halt, part(row_node))
            if cfg.controller:
                halt = halt + w.strategy_halt[part(kinds)]
            stop = 1.0 / (1.0 + np.exp(-halt)) > cfg.halt_threshold
            if bool(stop.any()):
                go_on = ~stop
                running = (np.arange(rows) if running is None else running)[go_on]
                y, z = y[go_on], z[go_on]
                if not len(running):
                    break
        return _Level(final, cycles, inner)

    def strategy(self, kinds: np.ndarray) -> np.ndarray:
        """The controller's inner steps for rows of these kinds, (R,) from 1: its most likely choice."""
        logits = self.w.strategy_steps[kinds]
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # as torch's log_softmax
        return log_probs.argmax(axis=-1) + 1

    def scan_answer(self, z: np.ndarray | None) -> np.ndarray:
        """The answer scan's state after a child: the running answer z holds, embedded."""
        w = self.w
        if z is None:
            return w.scan_start
        flat = z.reshape(-1, z.shape[-1])  # linear's, written out: a call is most of its time
        logits = np.dot(flat, w.prefix_head) if flat.flags.c_contiguous else flat @ w.prefix_head
        logits += w.prefix_bias
        return np.dot(softmax(logits), w.running_answer).reshape(*z.shape[:-1], w.running_answer.shape[1])

    def node_input(self, batch: TreeBatch, start: int, end: int, answers: np.ndarray):
        """For nodes [start, end) (TreeReasoner.node_input): x (L, P, H), the node's
        own input, the scan's children by rank (L, J, P, H), which nodes have each
        (L, J, 1, 1) (both None where no node has children), and each node's number
        of children (L,) (0: none has any)."""
        x = self.own_inputs[batch.kind[start:end, None], batch.literal[start:end]]  # (L, P, H)
        lo, hi = batch.child_parent.searchsorted((start, end))
        if lo == hi:
            return x, x, None, None, 0
        rows, ranks = batch.child_parent[lo:hi] - start, batch.child_rank[lo:hi]
        child_answers = answers[batch.child[lo:hi]]  # (E, P, C)
        if batch.reads is not None:  # each class's presence among the positions a node reads
            reads = batch.reads[batch.child_parent[lo:hi]]  # (E, P, K)
            child_answers = np.maximum.reduce(child_answers[np.arange(hi - lo)[:, None, None], reads], axis=2)
        slots = np.zeros((end - start, int(np.maximum.reduce(ranks)) + 1, *answers.shape[1:]), dtype=np.float32)  # (L, J, P, C)
        slots[rows, ranks] = child_answers
        present = np.zeros((end - start, slots.shape[1], 1, 1), dtype=bool)
        present[rows, ranks] = True
        arity = np.add.reduce(present, axis=1)  # (L, 1, 1)
        return (*self.with_children(x, slots, present, arity), arity.reshape(-1))

    def cells_input(self, cells: LevelCells, answers: np.ndarray):
        """node_input for distinct cells, each a row of one position; `answers`
        (classes, C) holds every class below them."""
        x = (self.w.kind[cells.kind] + self.w.literal[cells.literal])[:, None, :]
        if not cells.reads.shape[1]:
            return x, x, None, None
        read = cells.reads >= 0  # (R, J, S) the child classes each reads, per rank
        slots = (answers[np.maximum(cells.reads, 0)] * read[..., None]).max(axis=2)  # (R, J, C)
        return self.with_children(x, slots[:, :, None, :], read.any(axis=2)[:, :, None, None])

    def with_children(self, x: np.ndarray, slots: np.ndarray, present: np.ndarray, arity: np.ndarray | None = None):
        """x with its children's summary and first child, the scan's inputs (L, J, P, H)
        and which children are present (TreeReasoner.with_children); `arity`:
        present.sum(axis=1). The ufuncs' reduce for sum and max: what those call."""
        w = self.w
        counts = np.add.reduce(slots, axis=1)
        if self.config.summary == "sum":
            summary = linear(counts, w.summary[0])
        else:
            arity = np.add.reduce(present, axis=1) if arity is None else arity  # (L, 1, 1)
            if self.config.summary == "ordinal":  # per answer, the children at or below it against those above
                balance = 2 * np.add.accumulate(counts, axis=-1) - arity  # float64, as numpy promotes it
                np.maximum(balance, -1.0, out=balance)  # np.clip(balance, -1, 1), two calls without its wrapper,
                balance = np.minimum(balance, 1.0, out=np.empty(balance.shape, np.float32), casting="same_kind")  # as float32
                read = np.concatenate([balance, 1 - np.abs(balance)], axis=-1)
            else:
                read = counts * (self.config.classes / np.maximum(arity, 1)).astype(np.float32)
            summary = linear(read, w.summary[0]) + linear(np.maximum.reduce(slots, axis=1), w.summary[1])
        scan = linear(slots, w.child_answer)  # (L, J, P, H)
        joined = x + summary + linear(slots[:, 0], w.first_child)
        return joined, x, scan, present


def _widest(levels: list[tuple[int, int]]) -> int:
    """The most nodes of any of these levels (0: none)."""
    widest = 0
    for start, end in levels:
        if end - start > widest:
            widest = end - start
    return widest


def _leaves_read(batch: TreeBatch, mode: str) -> bool:
    """Whether _levels reads the batch's leaves from TreeReasoner._leaves (where
    their level holds two nodes or more): a one-position grid, no halting."""
    return batch.literal.shape[1] == 1 and mode == "off"


def distinct_subtrees(batch: TreeBatch) -> tuple[TreeBatch, np.ndarray | None]:
    """The batch with each subtree that occurs more than once in a level of at least
    SHARED_FROM nodes kept once, and for every node of `batch` its node in the one
    returned (None: nothing was shared, the batch is returned as it is). Two nodes
    are one where their kind, literal and children (in order, themselves shared)
    are. A kept node's `tree` is one of the trees it stands for."""
    if batch.reads is not None:  # a node's reads are its own
        return batch, None
    same = np.empty(batch.nodes, dtype=np.int64)  # each node's node in the batch returned
    kept: list[np.ndarray] = []  # per level, the nodes kept
    levels: list[tuple[int, int]] = []  # and where they lie in the batch returned
    for start, end in batch.levels:
        budget.check()
        first = levels[-1][1] if levels else 0
        if end - start < SHARED_FROM:
            kept.append(np.arange(start, end))
            same[start:end] = np.arange(first, first + end - start)
        else:
            lo, hi = np.searchsorted(batch.child_parent, (start, end))
            arity = int(batch.child_rank[lo:hi].max()) + 1 if hi > lo else 0
            children = np.full((end - start, arity), -1, dtype=np.int64)
            children[batch.child_parent[lo:hi] - start, batch.child_rank[lo:hi]] = same[batch.child[lo:hi]]
            key = np.concatenate([batch.kind[start:end, None], batch.literal[start:end], children], axis=1)
            distinct, which = unique_rows(key)
            one = np.empty(len(distinct), dtype=np.int64)
            one[which] = np.arange(start, end)  # a node standing for each distinct subtree
            kept.append(one)
            same[start:end] = first + which
        levels.append((first, first + len(kept[-1])))
    if levels[-1][1] == batch.nodes:
        return batch, None
    nodes = np.concatenate(kept)
    edges = np.zeros(batch.nodes, dtype=bool)
    edges[nodes] = True
    edges = edges[batch.child_parent]  # the edges below a kept node
    parent, child, rank = same[batch.child_parent[edges]], same[batch.child[edges]], batch.child_rank[edges]
    order = np.lexsort((rank, parent))  # by parent, then in child order
    return replace(
        batch, kind=batch.kind[nodes], literal=batch.literal[nodes], labels=batch.labels[nodes],
        prefix_labels=batch.prefix_labels[nodes], height=batch.height[nodes],
        levels=levels, child=child[order], child_parent=parent[order],
        child_rank=rank[order], roots=same[batch.roots], tree=batch.tree[nodes], rows=None,
    ), same


class SamePrefixes:
    """Which rows of a level have read the same children so far, for the answer
    scan (Cell.fold): rows of one kind and literal whose children up to rank j are
    the same nodes (after distinct_subtrees, the same subtrees: the same answers)
    have the same z after child j, computed once. In a level of 2,467 distinct
    ListOps lists of digits, the first child's step has at most 40 (4 operators x
    10 digits); over 1,000 benchmark lines the scan's 29,399 rows are 21,271 groups."""

    def __init__(self, group: np.ndarray, children: np.ndarray):
        self.group = group  # (L,) each row's group so far
        self.children = children  # (L, J) each row's child at each rank (-1: none)

    @classmethod
    def of(cls, batch: TreeBatch, start: int, end: int) -> SamePrefixes | None:
        """For nodes [start, end) of a level; None where too few to gain (SHARED_FROM) or
        where a child's answer depends on its parent (a grid of worlds' reads)."""
        if end - start < SHARED_FROM or batch.reads is not None:
            return None
        lo, hi = np.searchsorted(batch.child_parent, (start, end))
        ranks = batch.child_rank[lo:hi]
        children = np.full((end - start, int(ranks.max()) + 1), -1, dtype=np.int64)
        children[batch.child_parent[lo:hi] - start, ranks] = batch.child[lo:hi]
        _, group = unique_rows(np.concatenate([batch.kind[start:end, None], batch.literal[start:end]], axis=1))
        return cls(group, children)

    def share(self, rank: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """See cell.Prefixes. The groups are refined by the child at `rank` whether or
        not they are used; where they would save under a tenth, every row is computed."""
        distinct, which = unique_rows(np.stack([self.group[rows], self.children[rows, rank]], axis=1))
        self.group[rows] = which
        if len(distinct) > 0.9 * len(rows):
            return None
        one = np.empty(len(distinct), dtype=np.int64)
        one[which] = rows
        return one, which


def _least_per_node(values: np.ndarray, node: np.ndarray) -> np.ndarray:
    """Each row's value replaced by the least among its node's rows."""
    least = np.full(int(node.max()) + 1, np.inf, dtype=values.dtype)
    np.minimum.at(least, node, values)
    return least[node]
