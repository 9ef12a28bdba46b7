"""Distinct cells (model/cells.py): a grid of worlds computed once per class of
alike cells gives the numbers the level loop computes at every cell, for the
shipped logic models, a halting model and a level cut into parts."""

from __future__ import annotations

import pytest
import torch

from hybrid_trm import pretrained
from hybrid_trm.domains import registry
from hybrid_trm.loading import load
from hybrid_trm.model import reasoner
from hybrid_trm.model.cells import distinct_cells
from hybrid_trm.model.reasoner import ModelConfig, TreeReasoner
from hybrid_trm.trees import batch, tensorize_worlds

LOGIC = registry.get("logic")

TEXTS = {
    "verdict": [
        "(a -> b) -> (~b -> ~a)",
        "forall x. (P(x) -> exists y. R(x, y)) & (forall y. ~R(y, y))",
        "exists x. forall y. (x = y | S(x, y, c)) -> exists z. (Q(z) & ~(z = c))",
        "(forall x. P(x)) & (forall y. P(y)) | (exists z. z = z)",  # equal subformulas, a vacuous one
    ],
    "entails": ["a & b |= a", "forall x. P(x) |= exists y. P(y)", "(exists x. R(x, a)) |= R(a, a)"],
    "relation": ["a & b ; a | b", "forall x. P(x) ; ~exists x. ~P(x)", "P(a) ; exists x. Q(x)"],
}


def _both_ways(model, trees, task, mode=None):
    tree_batch = batch(tensorize_worlds(LOGIC, trees, task, 512, labelled=False))
    with torch.inference_mode():
        by_class = model(tree_batch, with_loss=False, halting=mode)
        each_cell = model(tree_batch, with_loss=False, groups=tree_batch.levels, halting=mode)
    return by_class, each_cell


def _same(by_class, each_cell):
    assert torch.allclose(torch.softmax(by_class.final, -1), torch.softmax(each_cell.final, -1), atol=1e-5)
    assert torch.equal(by_class.steps, each_cell.steps) and torch.equal(by_class.cycles, each_cell.cycles)
    assert torch.equal(by_class.inner_steps, each_cell.inner_steps)


@pytest.mark.parametrize("task", sorted(TEXTS))
def test_distinct_cells_give_the_level_loops_numbers(task):
    path = pretrained.path("logic", task)
    loaded = load(path)
    trees = [LOGIC.parse(t) for t in TEXTS[task]]
    _same(*_both_ways(loaded.model, trees, loaded.task))


def test_a_level_in_parts_gives_the_same_numbers(monkeypatch):
    loaded = load(pretrained.path("logic", "verdict"))
    trees = [LOGIC.parse(t) for t in TEXTS["verdict"]]
    whole = _both_ways(loaded.model, trees, loaded.task)[0]
    monkeypatch.setattr(reasoner, "PART_CELLS", 3)
    _same(_both_ways(loaded.model, trees, loaded.task)[0], whole)


@pytest.mark.parametrize("part_cells", [reasoner.PART_CELLS, 2])
def test_a_halting_model_stops_a_node_as_one(part_cells, monkeypatch):
    monkeypatch.setattr(reasoner, "PART_CELLS", part_cells)  # 2: parts cut between a node's classes' rows
    torch.manual_seed(3)
    task = LOGIC.task("verdict")
    config = ModelConfig(kinds=len(LOGIC.node_kinds), classes=task.classes, hidden=16, expansion=2, carry=False,
                         outer_cycles=4, halting=True)
    model = TreeReasoner(config)
    with torch.no_grad():  # a head that stops some nodes early and not others
        model.halt_head.weight.normal_(std=2.0)
        model.halt_head.bias.zero_()
    model.eval()
    trees = [LOGIC.parse(t) for t in TEXTS["verdict"]]
    by_class, each_cell = _both_ways(model, trees, task, mode="threshold")
    assert 1 <= int(each_cell.cycles.min()) < int(each_cell.cycles.max())  # the test has stops to get right
    _same(by_class, each_cell)


def test_alike_cells_are_one_class():
    tree = LOGIC.parse("(P(a) & Q(b)) | ((P(a) & Q(b)) -> forall x. P(x))")
    tree_batch = batch(tensorize_worlds(LOGIC, [tree], LOGIC.task("verdict"), 512, labelled=False))
    cells = distinct_cells(tree_batch)
    leaves = tree_batch.levels[0]
    for node in range(*leaves):  # an atom is true or false: two classes at most, however many worlds
        assert len(set(cells.cell[node].tolist())) <= 2
    # The two `P(a) & Q(b)` are one computation: the same class at every position.
    ands = [i for i in range(tree_batch.nodes) if int(tree_batch.kind[i]) == LOGIC.node_kinds.index("and")]
    assert len(ands) == 2 and (cells.cell[ands[0]] == cells.cell[ands[1]]).all()
    assert cells.classes < cells.cell.size / 20
