"""Parse trees to tensors: lark tree -> TreeTensors (one tree) -> TreeBatch (many,
level-sorted), and `to_pyg` for users who want the same trees as a torch_geometric graph.

A TreeBatch sorts every node of every tree by height, so the nodes of one height
across the whole batch are one contiguous slice: the model runs one tensor
operation per level, and the number of sequential steps is the height of the
tallest tree, not the number of nodes. Conversion is iterative (any depth) and
keeps child order; arity is unbounded. A task answered over worlds (logic)
gets a grid of worlds instead (`tensorize_worlds`).

Nothing here imports torch until a batch is made of tensors (`batch`): the
torch-free runtime (hybrid_trm/runtime) batches the same trees as numpy arrays
(`batch_arrays`).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import lark
import numpy as np

from . import budget
from .domains.base import Domain, Task, WorldTask
from .errors import HybridTRMError
from .grammar import Node, postorder

if TYPE_CHECKING:  # a batch of tensors; imported where one is made (batch)
    import torch

NO_LITERAL = 10  # literal-digit id of a node that is not a number
IGNORE = -100  # label of a node or grid cell without a label (cross-entropy ignores it)


@dataclass
class TreeTensors:
    """One tree, nodes in postorder (children first, root last)."""

    kind: np.ndarray  # (N,) node kind id
    literal: np.ndarray  # (N, P) digits of a number leaf, least significant first; NO_LITERAL elsewhere
    parent: np.ndarray  # (N,) parent index, -1 at the root
    child_rank: np.ndarray  # (N,) 0 for a first child, 1.. for later ones
    height: np.ndarray  # (N,) 0 at leaves
    labels: np.ndarray  # (N, P) class ids, IGNORE where unlabelled
    prefix_labels: np.ndarray  # (N, P) as a child: its parent's answer over the children up to it
    # (N, P, K) positions at which a node reads its children (see domains.base.Worlds);
    # None: where it stands.
    reads: np.ndarray | None = None
    # A grid of worlds holding every world the answer depends on (False: a sample).
    exhaustive: bool = True

    @property
    def nodes(self) -> int:
        return len(self.kind)

    def root_labels_only(self) -> TreeTensors:
        """The same tree with its root's label alone: no subtree or prefix labels,
        as in a domain that can check only the whole input's answer."""
        labels = np.where((self.parent == -1)[:, None], self.labels, IGNORE)
        return dataclasses.replace(self, labels=labels, prefix_labels=np.full_like(self.prefix_labels, IGNORE))


def tensorize(
    domain: Domain, tree: Node, task: Task, labels: list[str | None] | None = None, width: int | None = None
) -> TreeTensors:
    """Turn a parsed tree (and optionally its subtree labels, in postorder) into arrays.

    `width` narrows an integer task's answer grid for training: the cell's weights
    are shared across positions, so a model trained on 6 positions runs on the
    task's 13. A label that does not fit the narrower grid is left out."""
    order = postorder(tree)
    n, p = len(order), width or task.positions
    kinds, parent, rank, height, numbers = _shape(domain, order)
    flat = [NO_LITERAL] * (n * p)  # made one array at the end: a row write from Python costs several list writes
    if p == 1:  # one position: a number's last digit (_digits(value, 1)), written as it is read
        for i in numbers:
            flat[i] = int(order[i].value[-1])
    for i in numbers if p > 1 else ():
        row = _digits(order[i].value, p)
        if row is None:  # the top position is the sign
            raise HybridTRMError(f"{domain.name}/{task.name}: the number {order[i].value} has more than {p - 1} digits")
        flat[i * p:(i + 1) * p] = row
    literal = np.array(flat, dtype=np.int64).reshape(n, p)
    grid, prefix_grid = np.full((2, n, p), IGNORE, dtype=np.int64)  # two arrays, made in one call
    if labels is not None:
        for target, answers in ((grid, labels), (prefix_grid, domain.label_prefixes(tree, task.name))):
            for i, answer in enumerate(answers):
                if answer is not None:
                    try:
                        target[i] = task.encode(answer, p)
                    except HybridTRMError:
                        if p == task.positions:
                            raise  # at the task's own width every label must fit
    return TreeTensors(kinds, literal, parent, rank, height, grid, prefix_grid)


@functools.lru_cache(maxsize=4096)
def _digits(number: str, p: int) -> tuple[int, ...] | None:
    """A number's grid row: its digits, least significant first, zeros above (one
    position: the last digit, which is all mod 10 needs); None where it does not
    fit below the sign position. Cached: a domain's literals repeat (ListOps' ten)."""
    if p > 1 and len(number) > p - 1:
        return None
    digits = number[::-1][:p]
    return tuple(int(c) for c in digits) + (0,) * (p - len(digits))


@functools.lru_cache(maxsize=64)
def _kind_ids(node_kinds: tuple[str, ...]) -> dict[str, int]:
    return {k: i for i, k in enumerate(node_kinds)}


def _shape(domain: Domain, order: list[Node]) -> tuple:
    """Kind ids, parent, rank among siblings and height of nodes in postorder (int64
    arrays), and where the number leaves (tokens of digits) are, in one pass."""
    n = len(order)
    kind_ids = _kind_ids(tuple(domain.node_kinds))
    # Plain lists, made arrays at the end: a numpy element write from Python costs
    # several list writes. In postorder a node's last child stands just before it,
    # and each earlier child just before the subtree of the next: subtree sizes
    # find the children without a lookup.
    kinds, parent, rank, height, size = [0] * n, [-1] * n, [0] * n, [0] * n, [1] * n
    numbers = []
    token = lark.Token
    for i, node in enumerate(order):
        if isinstance(node, token):
            k = node.type
            if node.value.isdigit():
                numbers.append(i)
        else:
            k = node.data
            below = node.children
            if below:
                c, tall, grown = i - 1, 0, 1
                for r in range(len(below) - 1, -1, -1):
                    parent[c], rank[c] = i, r
                    if height[c] >= tall:
                        tall = height[c] + 1
                    grown += size[c]
                    c -= size[c]
                height[i], size[i] = tall, grown
        kind = kind_ids.get(k)
        if kind is None:
            raise HybridTRMError(f"{domain.name}: node kind {k!r} is not among the domain's node_kinds")
        kinds[i] = kind
    kinds, parent, rank, height = np.array((kinds, parent, rank, height), dtype=np.int64)  # one array, a row each
    return kinds, parent, rank, height, numbers


def tensorize_worlds(domain: Domain, trees: list[Node], task: WorldTask, positions: int, labelled: bool) -> list[TreeTensors]:
    """Trees over grids of worlds, to be batched together: an atom's literal is its
    truth at each position (0 / 1), every node is labelled with its cell there
    (labelled: for training). A tree with fewer worlds than the others repeats its
    grid to their width (the reads stay within its first copy)."""
    out = []
    for tree in trees:
        kinds, parent, rank, height, _ = _shape(domain, postorder(tree))
        worlds = domain.worlds(tree, task.name, positions)
        literal = np.where(worlds.atoms >= 0, worlds.atoms, NO_LITERAL)
        labels = np.where(worlds.labels >= 0, worlds.labels, IGNORE) if labelled else np.full_like(literal, IGNORE)
        out.append(TreeTensors(
            kinds, literal, parent, rank, height, labels, np.full_like(literal, IGNORE), worlds.reads, worlds.exhaustive
        ))
    width = max(t.literal.shape[1] for t in out)
    for t in out:
        own = t.literal.shape[1]
        if own < width:
            tile = np.arange(width) % own
            t.literal, t.labels, t.prefix_labels = t.literal[:, tile], t.labels[:, tile], t.prefix_labels[:, tile]
            t.reads = None if t.reads is None else t.reads[:, tile]
    return out


@dataclass
class TreeBatch:
    """Many trees, nodes sorted by height: level h is the slice levels[h]. Its
    arrays are torch tensors (`batch`) or, for the runtime, numpy arrays
    (`batch_arrays`); the shapes and meaning are the same."""

    kind: torch.Tensor  # (N,)
    literal: torch.Tensor  # (N, P)
    labels: torch.Tensor  # (N, P)
    prefix_labels: torch.Tensor  # (N, P) see TreeTensors
    height: torch.Tensor  # (N,)
    levels: list[tuple[int, int]]  # [start, end) of each height
    child: torch.Tensor  # (E,) every parent-child edge: the child ...
    child_parent: torch.Tensor  # (E,) ... its parent (edges sorted by parent, then child order) ...
    child_rank: torch.Tensor  # (E,) ... and its place among its siblings (0 = first)
    roots: torch.Tensor  # (B,) root of each tree
    tree: torch.Tensor  # (N,) which tree a node belongs to
    reads: torch.Tensor | None = None  # (N, P, K) see TreeTensors
    # (N,) the batch row of each node of the trees taken in order, each in its postorder
    # (None: not kept); reading answers back per tree goes through it.
    rows: torch.Tensor | None = None

    @property
    def nodes(self) -> int:
        return len(self.kind)

    @property
    def trees(self) -> int:
        return len(self.roots)

    def edge_range(self, start: int, end: int) -> tuple[int, int]:
        """[lo, hi) into the edges: those whose parents lie in nodes [start, end)."""
        import torch

        bounds = torch.tensor([start, end], device=self.child_parent.device)
        lo, hi = torch.searchsorted(self.child_parent, bounds).tolist()
        return lo, hi

    def to(self, device: torch.device | str) -> TreeBatch:
        """The same batch with its tensors on `device` (itself where they are there
        already): a model moves each batch to its own device (devices.py)."""
        import torch

        device = torch.device(device)
        if self.kind.device == device:
            return self
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return TreeBatch(**{k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in fields.items()})


def batch(trees: list[TreeTensors]) -> TreeBatch:
    """batch_arrays as torch tensors (the arrays' memory, not copies)."""
    import torch

    arrays = batch_arrays(trees)
    fields = {f.name: getattr(arrays, f.name) for f in dataclasses.fields(TreeBatch)}
    return TreeBatch(**{k: v if k == "levels" or v is None else torch.from_numpy(v) for k, v in fields.items()})


def batch_arrays(trees: list[TreeTensors]) -> TreeBatch:
    """Concatenate trees and sort all nodes by height (stable: postorder within a
    level); the batch's fields are numpy arrays."""
    if not trees:
        raise HybridTRMError("cannot batch zero trees")
    if len(trees) == 1:  # (a solve's) its own arrays, read, never written: each is reordered below
        one = trees[0]
        kind, literal, labels, prefix_labels, height = one.kind, one.literal, one.labels, one.prefix_labels, one.height
        tree_id, parent, rank, roots = np.zeros(one.nodes, dtype=np.int64), one.parent, one.child_rank, np.array([one.nodes - 1])
    else:
        sizes = np.array([t.nodes for t in trees])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        kind = np.concatenate([t.kind for t in trees])
        literal = np.concatenate([t.literal for t in trees])
        labels = np.concatenate([t.labels for t in trees])
        prefix_labels = np.concatenate([t.prefix_labels for t in trees])
        height = np.concatenate([t.height for t in trees])
        tree_id = np.repeat(np.arange(len(trees)), sizes)
        parent = np.concatenate([t.parent for t in trees])
        parent = np.where(parent >= 0, parent + np.repeat(offsets, sizes), -1)
        rank = np.concatenate([t.child_rank for t in trees])
        roots = offsets + sizes - 1

    # A grid of worlds' reads (N, P, K) can be hundreds of MB (a 29k-node nest of
    # quantifiers on 256 worlds: 355 MB): each copy of it is checked against the budget.
    budget.check()
    reads = _reads(trees)
    budget.check()
    order = np.argsort(height, kind="stable")
    new_pos = np.empty_like(order)
    new_pos[order] = np.arange(len(order))
    kind, literal, labels, height, tree_id = kind[order], literal[order], labels[order], height[order], tree_id[order]
    prefix_labels = prefix_labels[order]
    parent = parent[order]
    parent = np.where(parent >= 0, new_pos[np.maximum(parent, 0)], -1)
    rank = rank[order]
    roots = new_pos[roots]

    bounds = np.searchsorted(height, np.arange(height[-1] + 2)).tolist()  # height is sorted: its last is its most
    levels = list(zip(bounds[:-1], bounds[1:]))

    child = np.nonzero(parent >= 0)[0]
    by_parent = np.lexsort((rank[child], parent[child]))  # by parent, then in child order
    child = child[by_parent]

    reads = None if reads is None else _reordered(reads, order)
    return TreeBatch(
        kind, literal, labels, prefix_labels, height, levels, child, parent[child], rank[child], roots, tree_id, reads,
        new_pos,
    )


def _reordered(reads: np.ndarray, order: np.ndarray, rows: int = 1024) -> np.ndarray:
    """reads[order], copied a block of rows at a time, the budget checked between
    blocks (the whole can be hundreds of MB)."""
    out = np.empty_like(reads)
    for lo in range(0, len(order), rows):
        budget.check()
        out[lo:lo + rows] = reads[order[lo:lo + rows]]
    return out


def _reads(trees: list[TreeTensors]) -> np.ndarray | None:
    """The trees' reads in one array, K padded by repeating a node's first column;
    a tree without reads reads where it stands."""
    if all(t.reads is None for t in trees):
        return None
    k = max(t.reads.shape[2] for t in trees if t.reads is not None)
    p = trees[0].literal.shape[1]
    out = []
    for t in trees:
        r = t.reads if t.reads is not None else np.broadcast_to(np.arange(p)[None, :, None], (t.nodes, p, 1))
        out.append(r if r.shape[2] == k else np.concatenate([r, np.repeat(r[:, :, :1], k - r.shape[2], axis=2)], axis=2))
    return out[0] if len(out) == 1 else np.concatenate(out)


def to_pyg(trees: list[TreeTensors]):
    """The same trees as a torch_geometric Batch: edges child -> parent, with the
    child's rank among its siblings as an edge attribute (order matters)."""
    import torch
    from torch_geometric.data import Batch, Data

    graphs = []
    for t in trees:
        child = np.nonzero(t.parent >= 0)[0]
        edge_index = torch.from_numpy(np.stack([child, t.parent[child]]))
        graphs.append(
            Data(
                kind=torch.from_numpy(t.kind), literal=torch.from_numpy(t.literal),
                y=torch.from_numpy(t.labels), height=torch.from_numpy(t.height),
                edge_index=edge_index, edge_attr=torch.from_numpy(t.child_rank[child]),
                num_nodes=t.nodes,
            )
        )
    return Batch.from_data_list(graphs)


def encode_texts(
    domain: Domain, task: Task, texts: list[str], label_subtrees: bool = False, width: int | None = None,
    answers: list[str] | None = None,
) -> list[TreeTensors]:
    """Parse and tensorize texts; with label_subtrees, every node the domain's
    labeller answers carries its exact answer, and `answers` (each text's) label
    the roots it leaves unlabelled: a domain may label no subtree at all."""
    if isinstance(task, WorldTask):
        return tensorize_worlds(domain, [domain.parse(t) for t in texts], task, width or task.positions, label_subtrees)
    out = []
    for i, text in enumerate(texts):
        tree = domain.parse(text)
        labels = domain.label_subtrees(tree, task.name) if label_subtrees else None
        if label_subtrees and answers is not None and labels[-1] is None:
            labels = labels[:-1] + [answers[i]]
        out.append(tensorize(domain, tree, task, labels, width))
    return out
