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
        ("(" * DEPTH + "2" + "+3)" * DEPTH, 2 + 3 * DEPTH, 2 * DEPTH + 1),  # left-nested
    ],
    ids=["neg-chain-even", "neg-chain-odd", "add-chain-right", "add-chain-left"],
)
def test_deep_chain_end_to_end(arith, text, exact, nodes):
    tree = arith.parse(text)
    order = postorder(tree)
    assert len(order) == nodes and order[-1] is tree

    # Tensors first, the verifier last: a 10,000-deep tree must get through both.
    height = DEPTH if nodes > DEPTH else DEPTH - 1
    for task in ("mod10", "exact"):
        tensors = tensorize(arith, tree, arith.task(task), arith.label_subtrees(tree, task))
        assert tensors.nodes == nodes
        assert int(tensors.height.max()) == height
        assert int(tensors.height[-1]) == height and tensors.parent[-1] == -1
    tree_batch = batch([tensors])
    assert len(tree_batch.levels) == height + 1

    mod10 = arith.label_subtrees(tree, "mod10")
    exact_labels = arith.label_subtrees(tree, "exact")
    assert len(mod10) == len(exact_labels) == nodes
    assert exact_labels[-1] == str(exact)
    assert mod10[-1] == str(exact % 10)
    assert arith.verify(text, str(exact), "exact").correct is True
    assert arith.verify(text, str(exact + 1), "exact").correct is False
    assert arith.verify(text, str(exact % 10), "mod10").correct is True


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


def test_verifier_handles_values_past_4300_digits(arith):
    """Python refuses int<->str conversions past 4,300 digits; a product of small
    literals gets there quickly (3**10000 has 4,772 digits), and the mod 10 answer
    is still one digit. The verifier must give a verdict, not a ValueError.
    (Also a 10,000-long left-nested chain, height 9,999.)"""
    text = "3" + " * 3" * 9999
    tree = arith.parse(text)
    assert arith.label_subtrees(tree, "mod10")[-1] == str(pow(3, 10_000, 10))
    # A generous budget: the point is a verdict past 4,300 digits, not its speed
    # (about 1-2 s here, more on a loaded machine).
    verdict = arith.verify(text, str(pow(3, 10_000, 10)), "mod10", budget_s=30.0)
    assert verdict.correct is True
    assert arith.verify(text, "0", "mod10", budget_s=30.0).correct is False


def test_a_5000_digit_literal_is_answered_or_refused_cleanly(arith):
    """Either the right last digit or a HybridTRMError naming the problem; never a
    bare ValueError (which the CLI would show as a traceback with exit 1)."""
    from hybrid_trm.errors import HybridTRMError

    text = "7" * 5000 + " + 1"
    try:
        labels = arith.label_subtrees(arith.parse(text), "mod10")
        verdict = arith.verify(text, "8", "mod10")
    except HybridTRMError:
        return
    assert labels[-1] == "8"
    assert verdict.correct is True
