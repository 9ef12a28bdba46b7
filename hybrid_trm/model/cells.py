"""Distinct cells of a grid of worlds: each computation the cell would repeat, done once.

On a grid without a carry (logic's worlds), what a node computes at a position
depends only on its kind, its literal there and the answers of the child cells it
reads (its children where it stands; a quantifier, the set of its body's cells at
every element of its variable, through `reads`). Two grid cells alike in those
compute the same numbers, so they are one *class*, and classes are defined bottom
up by those same three things (hash-consing): an atom is one of two classes
however many worlds there are, `P(x) & Q(x)` at most four, and equal subformulas
anywhere in the tree share theirs. A formula of 300 nodes on 256 worlds holds
77k grid cells and a few thousand classes; the model runs once per class.

This is memoisation, not an approximation: a class's answer is what every cell in
it would compute. Equal subtrees have equal heights, so a class never spans two
levels, and a level's classes are computed after every level below it.

With a halting head a node stops as one (its least sure position decides), so
there the classes are kept per node (`per_node`): a class is never shared
between two nodes that might stop at different cycles.

Equal leaves elsewhere are one computation too (unique_rows: the reasoner's
distinct leaves). Numpy alone: the torch model and the torch-free runtime
(hybrid_trm/runtime) both run their grids of worlds through this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import budget
from ..trees import TreeBatch

ABSENT = -1  # in `reads`: no child cell (a node without a child of that rank, or a padded set)


@dataclass
class LevelCells:
    """One level's classes, rows first..first + R of the whole batch's classes."""

    first: int
    kind: np.ndarray  # (R,) each class's node kind
    literal: np.ndarray  # (R,) its literal
    reads: np.ndarray  # (R, J, S) per child rank, the classes of the child cells it reads (ABSENT-padded)
    node: np.ndarray | None  # (R,) with per-node classes: the level node (from 0) each class belongs to

    @property
    def rows(self) -> int:
        return len(self.kind)

    def part(self, lo: int, hi: int) -> LevelCells:
        node = None if self.node is None else self.node[lo:hi]
        return LevelCells(self.first + lo, self.kind[lo:hi], self.literal[lo:hi], self.reads[lo:hi], node)


@dataclass
class DistinctCells:
    levels: list[LevelCells]  # one per level of the batch, in order
    cell: np.ndarray  # (N, P) each grid cell's class (a row of the whole batch's classes)
    node_row: np.ndarray  # (N,) the class of each node's first cell (its cycles and steps are its node's)

    @property
    def classes(self) -> int:
        return self.levels[-1].first + self.levels[-1].rows

    def parts(self, most: int) -> list[LevelCells]:
        """Each level's classes in parts of at most `most` rows; per-node classes are
        cut only between nodes (a node's rows halt together)."""
        out = []
        for level in self.levels:
            if level.rows <= most:
                out.append(level)
                continue
            cuts = list(range(0, level.rows, most))
            if level.node is not None:  # classes are sorted by node: move each cut to a node's first row
                cuts = sorted({int(np.searchsorted(level.node, level.node[c])) for c in cuts})
            out.extend(level.part(lo, hi) for lo, hi in zip(cuts, cuts[1:] + [level.rows]))
        return out


def distinct_cells(batch: TreeBatch, per_node: bool = False) -> DistinctCells:
    """The classes of every grid cell of the batch, level by level (module docstring)."""
    kind, literal = _array(batch.kind), _array(batch.literal)
    child, parent, rank = _array(batch.child), _array(batch.child_parent), _array(batch.child_rank)
    reads = None if batch.reads is None else _array(batch.reads)
    n, p = literal.shape
    cell = np.empty((n, p), dtype=np.int64)
    levels: list[LevelCells] = []
    first = 0
    for start, end in batch.levels:
        budget.check()  # a level of a large grid takes milliseconds: a deep one stops at its budget
        lo, hi = np.searchsorted(parent, [start, end])
        nodes = end - start
        ranks = int(rank[lo:hi].max()) + 1 if hi > lo else 0
        seen = _seen(cell[child[lo:hi]], None if reads is None else reads[parent[lo:hi]])
        edge_of = np.full((nodes, ranks), -1, dtype=np.int64)
        edge_of[parent[lo:hi] - start, rank[lo:hi]] = np.arange(hi - lo)
        columns = [np.repeat(np.arange(nodes), p)] if per_node else []
        columns += [np.repeat(kind[start:end], p), literal[start:end].reshape(-1)]
        if ranks:
            view = _dense(seen.reshape((hi - lo) * p, -1)).reshape(hi - lo, p)  # one id per distinct set
            by_rank = np.where(edge_of[:, :, None] >= 0, view[edge_of], ABSENT)  # (L, J, P)
            columns += list(by_rank.transpose(1, 0, 2).reshape(ranks, -1))
        local = _dense(np.stack(columns, axis=1))  # (L * P,) classes from 0
        rows = int(local.max()) + 1
        where = np.empty(rows, dtype=np.int64)
        where[local] = np.arange(nodes * p)  # any cell of a class stands for it
        at_node, at_position = np.divmod(where, p)
        if ranks:
            edge = edge_of[at_node]  # (R, J)
            sets = np.where((edge >= 0)[:, :, None], seen[np.maximum(edge, 0), at_position[:, None]], ABSENT)
        else:
            sets = np.empty((rows, 0, 1), dtype=np.int64)
        levels.append(LevelCells(
            first, kind[start + at_node], literal[start + at_node, at_position], sets, at_node if per_node else None
        ))
        cell[start:end] = (local + first).reshape(nodes, p)
        first += rows
    return DistinctCells(levels, cell, cell[:, 0].copy())


def _array(values) -> np.ndarray:
    """A batch's field as numpy: the torch model's batch holds tensors (copied from
    the model's device where it is not the CPU), the runtime's arrays."""
    return values if isinstance(values, np.ndarray) else values.cpu().numpy()


def _seen(child_cells: np.ndarray, reads: np.ndarray | None) -> np.ndarray:
    """What each edge's parent reads of its child at each position, (E, P, S): the
    set of child classes at the positions it reads (`reads` (E, P, K); None, or a
    node that reads where it stands: the one class there), each set written one way."""
    e, p = child_cells.shape
    if reads is None:
        return child_cells[:, :, None]
    elsewhere = (reads != np.arange(p)[None, :, None]).any(axis=(1, 2))  # a quantifier's edges
    seen = np.full((e, p, reads.shape[2]), ABSENT, dtype=np.int64)
    seen[~elsewhere, :, -1] = child_cells[~elsewhere]  # as _canonical_sets writes a set of one
    if elsewhere.any():
        read = np.take_along_axis(child_cells[elsewhere][:, :, None], reads[elsewhere], axis=1)
        seen[elsewhere] = _canonical_sets(read)
    return seen


def _canonical_sets(seen: np.ndarray) -> np.ndarray:
    """(E, P, K) classes read -> the same sets, each written one way: sorted, every
    repeat ABSENT (a quantifier reads which answers are present, not how often)."""
    seen = np.sort(seen, axis=2)
    repeat = np.zeros_like(seen, dtype=bool)
    repeat[:, :, 1:] = seen[:, :, 1:] == seen[:, :, :-1]
    return np.sort(np.where(repeat, ABSENT, seen), axis=2)


def _dense(key: np.ndarray) -> np.ndarray:
    """(M, C) integer rows (each >= ABSENT) -> (M,) an id per distinct row, from 0,
    one column at a time: the ids so far and the next column make one integer, made
    dense again by a table where its range is small (no sort) and by np.unique where not."""
    ids = np.zeros(len(key), dtype=np.int64)
    count = 1
    for column in key.T:
        shifted = column - ABSENT
        span = int(shifted.max()) + 1 if len(shifted) else 1
        ids, count = _compress(ids * span + shifted, count * span)
    return ids


def _compress(key: np.ndarray, span: int) -> tuple[np.ndarray, int]:
    if span <= max(4 * len(key), 1 << 16):
        used = np.zeros(span, dtype=bool)
        used[key] = True
        number = np.cumsum(used) - 1
        return number[key], int(number[-1]) + 1
    distinct, ids = np.unique(key, return_inverse=True)
    return ids.reshape(-1), len(distinct)


def unique_rows(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of an integer array and, per row, its distinct row's index.
    One sort by every column (np.lexsort) and a comparison of neighbours: numpy's
    unique over rows sorts them as raw bytes, 25x slower on ListOps' 24k leaves,
    and torch's compares row by row."""
    order = np.lexsort(key.T[::-1])  # by the first column, then the second, ...
    ranked = key[order]
    starts = np.ones(len(key), dtype=bool)
    starts[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    which = np.empty(len(key), dtype=np.int64)
    which[order] = np.cumsum(starts) - 1
    return ranked[starts], which
