"""Parse trees to tensors: TreeTensors per tree, TreeBatch level-sorted across
trees, and to_pyg. Checked against the lark trees they came from."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid_trm.domains import registry
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.grammar import children, kind, postorder
from hybrid_trm.trees import IGNORE, NO_LITERAL, batch, encode_texts, tensorize, to_pyg

SETS = [
    ("arith", "mod10", {"depth": 6, "digits": 3}),
    ("arith", "exact", {"operands": 8, "digits": 3, "ops": "+-"}),
    ("listops", "value", {"depth": 5}),
    ("listops", "value", {"binarised": True, "depth": 4, "arity": 7}),
]


def generated(name, task, knobs, n=12, seed=3):
    domain = registry.get(name)
    d = domain.difficulty(**knobs)
    texts = [domain.example(seed, i, d, task).input for i in range(n)]
    trees = [domain.parse(t) for t in texts]
    tensors = [tensorize(domain, tr, domain.task(task), domain.label_subtrees(tr, task)) for tr in trees]
    return domain, domain.task(task), trees, tensors


def batch_positions(tensors):
    """(tree, postorder index) -> position in the batch: sorted by height, then
    tree, then postorder (the documented stable order)."""
    keys = [(int(t.height[j]), b, j) for b, t in enumerate(tensors) for j in range(t.nodes)]
    return {(b, j): p for p, (_, b, j) in enumerate(sorted(keys))}


def batch_children(tb) -> dict[int, list[int]]:
    """Each node's children as the batch lists them, in edge order."""
    out = {i: [] for i in range(tb.nodes)}
    for c, p, r in zip(tb.child.tolist(), tb.child_parent.tolist(), tb.child_rank.tolist()):
        assert r == len(out[p])  # edges come in child order
        out[p].append(c)
    return out


@pytest.mark.parametrize("name,task,knobs", SETS, ids=lambda v: str(v))
def test_tree_tensors_match_the_lark_tree(name, task, knobs):
    domain, spec, trees, tensors = generated(name, task, knobs)
    for tree, t in zip(trees, tensors):
        order = postorder(tree)
        index = {id(n): i for i, n in enumerate(order)}
        assert t.nodes == len(order)
        labels = domain.label_subtrees(tree, task)
        for i, node in enumerate(order):
            assert domain.node_kinds[t.kind[i]] == kind(node)
            kids = [index[id(c)] for c in children(node)]
            assert [int(x) for x in np.nonzero(t.parent == i)[0]] == sorted(kids)
            assert [int(t.child_rank[c]) for c in kids] == list(range(len(kids)))
            assert int(t.height[i]) == (1 + max(int(t.height[c]) for c in kids) if kids else 0)
            assert t.labels[i].tolist() == spec.encode(labels[i])
            if kids:
                assert (t.literal[i] == NO_LITERAL).all()
            else:
                digits = [int(c) for c in str(node)[::-1]][: spec.positions]
                assert t.literal[i, : len(digits)].tolist() == digits
        assert t.parent[-1] == -1 and (t.parent[:-1] >= 0).all()


@pytest.mark.parametrize("name,task,knobs", SETS, ids=lambda v: str(v))
def test_batch_levels_children_roots_labels(name, task, knobs):
    domain, spec, trees, tensors = generated(name, task, knobs)
    tb = batch(tensors)
    assert tb.nodes == sum(t.nodes for t in tensors) and tb.trees == len(tensors)

    # Levels: contiguous, non-empty slices of heights 0, 1, 2, ... covering every node.
    assert tb.levels[0][0] == 0 and tb.levels[-1][1] == tb.nodes
    for h, (start, end) in enumerate(tb.levels):
        assert end > start
        assert (tb.height[start:end] == h).all()
        if h:
            assert tb.levels[h - 1][1] == start
    assert len(tb.levels) == max(int(t.height.max()) for t in tensors) + 1

    # edge_range: the child edges of exactly the parents in a slice.
    covered = 0
    for h, (start, end) in enumerate(tb.levels):
        lo, hi = tb.edge_range(start, end)
        assert lo == covered
        assert ((tb.child_parent[lo:hi] >= start) & (tb.child_parent[lo:hi] < end)).all()
        covered = hi
    assert covered == len(tb.child)

    pos = batch_positions(tensors)
    kids = batch_children(tb)
    for b, (tree, t) in enumerate(zip(trees, tensors)):
        order = postorder(tree)
        index = {id(n): i for i, n in enumerate(order)}
        labels = domain.label_subtrees(tree, task)
        assert int(tb.roots[b]) == pos[(b, len(order) - 1)]
        for j, node in enumerate(order):
            p = pos[(b, j)]
            assert int(tb.tree[p]) == b
            assert domain.node_kinds[tb.kind[p]] == kind(node)
            assert tb.labels[p].tolist() == spec.encode(labels[j])
            assert tb.literal[p].tolist() == t.literal[j].tolist()
            want = [pos[(b, index[id(c)])] for c in children(node)]
            got = kids[p]
            # Children in order: the scan reads them so (a - b is not b - a).
            assert got == want, (b, j)
            assert all(tb.height[c] < tb.height[p] for c in got)
    # Every node except the roots is somebody's child, exactly once.
    all_children = sorted(c for cs in kids.values() for c in cs)
    assert all_children == sorted(set(range(tb.nodes)) - set(tb.roots.tolist()))


def test_batch_keeps_the_order_of_later_children():
    """Module doc: conversion 'keeps child order; arity is unbounded'. With children
    of different heights, the batch must still list them as the text does."""
    listops = registry.get("listops")
    text = "[MAX [MIN 1 2 ] 3 [SM [MED 1 2 3 ] 4 ] 5 ]"
    tree = listops.parse(text)
    tensors = [tensorize(listops, tree, listops.task("value"))]
    pos = batch_positions(tensors)
    order = postorder(tree)
    index = {id(n): i for i, n in enumerate(order)}
    tb = batch(tensors)
    kids = batch_children(tb)
    for j, node in enumerate(order):
        want = [pos[(0, index[id(c)])] for c in children(node)]
        assert kids[pos[(0, j)]] == want, f"children of {kind(node)} out of order"


def reference_values(domain_name, task_name, tb):
    """Evaluate every node of a TreeBatch from its kind ids, literals and children,
    level by level (no lark, no labeller)."""
    domain = registry.get(domain_name)
    kinds = [domain.node_kinds[k] for k in tb.kind.tolist()]
    kids = batch_children(tb)
    values = [None] * tb.nodes
    for start, end in tb.levels:
        for p in range(start, end):
            k, args = kinds[p], [values[c] for c in kids[p]]
            if not args:
                digits = [d for d in tb.literal[p].tolist() if d != NO_LITERAL]
                values[p] = sum(d * 10**i for i, d in enumerate(digits))
            elif k == "add":
                values[p] = args[0] + args[1]
            elif k == "sub":
                values[p] = args[0] - args[1]
            elif k == "mul":
                values[p] = args[0] * args[1]
            elif k == "neg":
                values[p] = -args[0]
            elif k == "max":
                values[p] = max(args)
            elif k == "min":
                values[p] = min(args)
            elif k == "sm":
                values[p] = sum(args) % 10
            elif k == "med":
                s = sorted(args)
                values[p] = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) // 2
            else:
                raise AssertionError(k)
    return values


@pytest.mark.parametrize("name,task,knobs", SETS, ids=lambda v: str(v))
def test_evaluating_the_tensors_reproduces_the_labels(name, task, knobs):
    domain, spec, trees, tensors = generated(name, task, knobs, n=20, seed=9)
    tb = batch(tensors)
    values = reference_values(name, task, tb)
    for p in range(tb.nodes):
        v = values[p] % 10 if task == "mod10" else values[p]
        assert spec.decode(tb.labels[p].tolist()) == str(v)


@pytest.mark.parametrize("name,task,knobs", SETS[:3], ids=lambda v: str(v))
def test_to_pyg(name, task, knobs):
    pytest.importorskip("torch_geometric")
    domain, spec, trees, tensors = generated(name, task, knobs, n=5)
    g = to_pyg(tensors)
    total = sum(t.nodes for t in tensors)
    assert g.num_nodes == total
    assert g.num_graphs == len(tensors)
    assert g.edge_index.shape == (2, total - len(tensors))
    offsets = np.cumsum([0] + [t.nodes for t in tensors])
    want = set()
    for t, o in zip(tensors, offsets):
        for c in range(t.nodes):
            if t.parent[c] >= 0:
                want.add((c + o, int(t.parent[c]) + o, int(t.child_rank[c])))
    got = set(zip(g.edge_index[0].tolist(), g.edge_index[1].tolist(), g.edge_attr.tolist()))
    assert got == want  # child -> parent, with the child's rank
    assert g.kind.tolist() == np.concatenate([t.kind for t in tensors]).tolist()
    assert g.y.tolist() == np.concatenate([t.labels for t in tensors]).tolist()
    assert g.batch.tolist() == np.repeat(np.arange(len(tensors)), [t.nodes for t in tensors]).tolist()


def test_child_order_is_kept():
    arith = registry.get("arith")
    task = arith.task("exact")
    a, b = encode_texts(arith, task, ["5 - 3", "3 - 5"], label_subtrees=True)
    tb = batch([a, b])
    for tree, first, answer in ((0, 5, "2"), (1, 3, "-2")):
        root = int(tb.roots[tree])
        first_child = tb.child[(tb.child_parent == root) & (tb.child_rank == 0)]
        assert tb.literal[first_child, 0].item() == first
        assert task.decode(tb.labels[root].tolist()) == answer
    # The two trees differ only in order, and their tensors say so.
    assert a.literal[:, 0].tolist() != b.literal[:, 0].tolist()


def test_unlabelled_nodes_are_ignored_and_unknown_kinds_refused():
    arith = registry.get("arith")
    exact = arith.task("exact")
    tree = arith.parse("999999 * 999999 * 9")  # root > 12 digits: no label
    t = tensorize(arith, tree, exact, arith.label_subtrees(tree, "exact"))
    assert (t.labels[-1] == IGNORE).all() and (t.labels[:-1] != IGNORE).all()
    t = tensorize(arith, tree, exact)
    assert (t.labels == IGNORE).all()
    with pytest.raises(HybridTRMError, match="node_kinds"):
        tensorize(registry.get("listops"), tree, exact)
    with pytest.raises(HybridTRMError):
        batch([])


@pytest.mark.parametrize("digits,ok", [(12, True), (13, False), (14, False)])
def test_exact_task_refuses_literals_over_12_digits(digits, ok):
    """The exact task holds integers of up to 12 digits; the 13th grid cell is the
    sign. A longer literal must be refused, not folded into the sign cell."""
    arith = registry.get("arith")
    text = "9" * digits
    if ok:
        t = tensorize(arith, arith.parse(text), arith.task("exact"))
        assert t.literal[0].tolist() == [9] * 12 + [0]
    else:
        with pytest.raises(HybridTRMError, match="more than 12 digits"):
            tensorize(arith, arith.parse(text), arith.task("exact"))


def test_mod10_literal_is_its_last_digit():
    arith = registry.get("arith")
    t = tensorize(arith, arith.parse("12345678901234567890"), arith.task("mod10"))
    assert t.literal.tolist() == [[0]]


@pytest.mark.parametrize("name,task,knobs", SETS)
def test_batch_rows_find_each_trees_nodes_in_postorder(name, task, knobs):
    """TreeBatch.rows: node j of tree b (postorder) is batch row rows[offset_b + j];
    reading answers through it (inference.read_out) gives what sorting found again gives."""
    from hybrid_trm.inference import read_out
    from hybrid_trm.trees import batch_arrays

    domain, task_, _, tensors = generated(name, task, knobs)
    arrays = batch_arrays(tensors)
    where = batch_positions(tensors)
    flat = [where[(b, j)] for b, t in enumerate(tensors) for j in range(t.nodes)]
    assert arrays.rows.tolist() == flat
    rng = np.random.default_rng(0)
    final = rng.standard_normal((arrays.nodes, tensors[0].literal.shape[1], task_.classes)).astype(np.float32)
    steps, cycles = rng.integers(1, 9, arrays.nodes), rng.integers(1, 3, arrays.nodes)
    kept, found = (
        read_out(task_, tensors, arrays.tree, arrays.roots, final, steps, cycles, True, None, 0.0, rows)
        for rows in (arrays.rows, None)
    )
    assert kept == found
