"""Inputs 10,000 levels deep: nothing on the way from text to answer may recurse
in Python (the default recursion limit is 1,000)."""

from __future__ import annotations

import sys

import lark
import pytest
import torch

from hybrid_trm.domains import registry
from hybrid_trm.grammar import postorder
from hybrid_trm.model.reasoner import ModelConfig, TreeReasoner
from hybrid_trm.trees import batch, tensorize

DEPTH = 10_000


@pytest.fixture(scope="module")
def arith():
    assert sys.getrecursionlimit() < DEPTH  # otherwise these tests prove nothing
    return registry.get("arith")


def test_deep_parentheses_inline_to_one_number(arith):
    text = "(" * DEPTH + "1" + ")" * DEPTH
    tree = arith.parse(text)
    assert isinstance(tree, lark.Token) and str(tree) == "1"
    assert arith.label_subtrees(tree, "exact") == ["1"]
    assert arith.verify(text, "1", "exact").correct is True


@pytest.mark.parametrize(
    "text,exact,nodes",
    [
        ("-" * DEPTH + "1", 1, DEPTH + 1),  # an even number of minus signs
        ("-" * (DEPTH - 1) + "7", -7, DEPTH),
        ("1+(" * DEPTH + "1" + ")" * DEPTH, DEPTH + 1, 2 * DEPTH + 1),
        ("(" * DEPTH + "2" + "*3)" * DEPTH, None, 2 * DEPTH + 1),  # 2 * 3**10000: no exact label
    ],
    ids=["neg-chain-even", "neg-chain-odd", "add-chain", "mul-chain"],
)
def test_deep_chain_end_to_end(arith, text, exact, nodes):
    tree = arith.parse(text)
    order = postorder(tree)
    assert len(order) == nodes and order[-1] is tree

    mod10 = arith.label_subtrees(tree, "mod10")
    exact_labels = arith.label_subtrees(tree, "exact")
    assert len(mod10) == len(exact_labels) == nodes
    if exact is None:
        value = 2 * 3**DEPTH
        assert exact_labels[-1] is None  # over 12 digits: unlabelled, not wrong
    else:
        value = exact
        assert exact_labels[-1] == str(exact)
        assert arith.verify(text, str(exact), "exact").correct is True
        assert arith.verify(text, str(exact + 1), "exact").correct is False
    assert mod10[-1] == str(value % 10)
    assert arith.verify(text, str(value % 10), "mod10").correct is True

    height = DEPTH if nodes > DEPTH else DEPTH - 1
    for task in ("mod10", "exact"):
        tensors = tensorize(arith, tree, arith.task(task), arith.label_subtrees(tree, task))
        assert tensors.nodes == nodes
        assert int(tensors.height.max()) == height
        assert int(tensors.height[-1]) == height and tensors.parent[-1] == -1
    tree_batch = batch([tensors])
    assert len(tree_batch.levels) == height + 1


def test_model_forward_over_a_10000_deep_tree(arith):
    text = "1+(" * DEPTH + "1" + ")" * DEPTH
    task = arith.task("mod10")
    tree = arith.parse(text)
    tree_batch = batch([tensorize(arith, tree, task, arith.label_subtrees(tree, task.name))])
    torch.manual_seed(0)
    model = TreeReasoner(ModelConfig(kinds=len(arith.node_kinds), hidden=8, inner_steps=1, outer_cycles=1))
    with torch.no_grad():
        out = model(tree_batch)
    assert out.final.shape == (2 * DEPTH + 1, 1, 10)
    assert torch.isfinite(out.final).all()
    assert torch.isfinite(out.loss)
