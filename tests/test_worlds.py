"""The grid of worlds the logic models compute on: read off every world, the grid
gives the labeller's exact answer; a quantifier reads its body at its partners;
grids of different widths batch together without changing any tree's answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hybrid_trm.domains import registry
from hybrid_trm.domains.logic import LogicTask
from hybrid_trm.model.reasoner import ModelConfig, TreeReasoner
from hybrid_trm.trees import batch, encode_texts, tensorize_worlds

LOGIC = registry.get("logic")

KNOBS = [
    ("verdict", {"variables": 4, "depth": 5}),
    ("entails", {"variables": 5, "depth": 4}),
    ("relation", {"variables": 3, "depth": 4, "ops": "not,and,or"}),
    ("verdict", {"first_order": True, "variables": 2, "predicates": 2, "quantifier_depth": 3}),
    ("verdict", {"first_order": True, "variables": 3, "predicates": 2, "constants": 1, "quantifier_depth": 2}),
    ("entails", {"first_order": True, "variables": 2, "predicates": 2, "quantifier_depth": 2}),
    ("verdict", {"first_order": 0.5, "variables": 3, "predicates": 1, "quantifier_depth": 2}),
]


@pytest.mark.parametrize("task,knobs", KNOBS)
def test_every_world_gives_the_labellers_answer(task, knobs):
    """With room for every world, the root's grid decides the task exactly."""
    difficulty = LOGIC.difficulty(**knobs)
    for i in range(40):
        example = LOGIC.example(7, i, difficulty, task)
        worlds = LOGIC.worlds(LOGIC.parse(example.input), task, 4096)
        assert LOGIC.task(task).read(frozenset(worlds.labels[-1].tolist())) == example.answer, example.input


def test_a_quantifier_reads_its_body_at_every_element():
    tree = LOGIC.parse("forall x. exists y. P(x) <-> P(y)")
    worlds = LOGIC.worlds(tree, "verdict", 4096)
    # One predicate: worlds {P}, {not P}, {P, not P}: 1 + 1 + 4 positions (x, y).
    assert worlds.labels.shape[1] == 6
    assert worlds.reads is not None and worlds.reads.shape[2] == 2
    assert LOGIC.task("verdict").read(frozenset(worlds.labels[-1].tolist())) == "valid"


def test_sampled_worlds_are_seeded_and_bounded():
    letters = "abcdefghijklmnop"  # 2^16 worlds: a sample of 256
    text = " | ".join(f"({a} & ~{b})" for a, b in zip(letters, letters[1:]))
    tree = LOGIC.parse(text)
    first = LOGIC.worlds(tree, "verdict", 256)
    again = LOGIC.worlds(LOGIC.parse(text), "verdict", 256)
    assert first.labels.shape == (len(first.labels), 256)
    assert np.array_equal(first.atoms, again.atoms)


def test_a_tree_answers_the_same_alone_and_batched():
    torch.manual_seed(0)
    task = LOGIC.task("verdict")
    model = TreeReasoner(ModelConfig(kinds=len(LOGIC.node_kinds), classes=task.classes, hidden=16, expansion=2, carry=False))
    model.eval()
    texts = ["a & ~a", "forall x. P(x) -> exists y. P(y)", "(a -> b) -> c", "exists x. Q(x) & ~P(x)"]
    trees = [LOGIC.parse(t) for t in texts]
    together = tensorize_worlds(LOGIC, trees, task, 1024, labelled=False)
    assert len({t.literal.shape[1] for t in together}) == 1
    with torch.no_grad():
        out = model(batch(together), with_loss=False).final
        joint = batch(together)
        for i, tree in enumerate(trees):
            alone_tensors = tensorize_worlds(LOGIC, [tree], task, 1024, labelled=False)
            alone = model(batch(alone_tensors), with_loss=False).final
            width = alone.shape[1]
            root = joint.roots[i]
            # The batched grid repeats the tree's own: its first copy is the same.
            assert torch.allclose(out[root, :width], alone[batch(alone_tensors).roots[0]], atol=1e-5)


def test_a_grid_of_worlds_has_no_carry():
    model = TreeReasoner(ModelConfig(kinds=len(LOGIC.node_kinds), classes=2, hidden=16, carry=False))
    names = {name for name, _ in model.named_parameters()}
    assert not any("carry" in name for name in names)


def test_training_batches_are_labelled_at_every_world():
    task = LOGIC.task("relation")
    trees = encode_texts(LOGIC, task, ["a & b ; a | b", "~a ; a"], label_subtrees=True, width=64)
    labelled = batch(trees).labels
    assert labelled.shape[1] == 4  # two letters: four worlds, the whole grid
    assert isinstance(task, LogicTask) and task.classes == 6


def test_sampled_worlds_lean_toward_the_deciding_case():
    """A |= B fails only where all of A's 14 letters are true and B is false: one
    world in 2^15, which 1024 uniform worlds miss, and worlds leaning toward A true
    and B false find."""
    letters = "abcdefghijklmn"
    text = " & ".join(letters) + " |= z"
    worlds = LOGIC.worlds(LOGIC.parse(text), "entails", 1024)
    assert worlds.labels.shape[1] == 1024
    assert LOGIC.task("entails").read(frozenset(worlds.labels[-1].tolist())) == "no"


@pytest.mark.parametrize(
    "text,task,witness",
    [
        ("a | b |= a", "entails", "A true, B false in a=F b=T"),
        ("(a & b) | c", "verdict", "false in a=F b=F c=F"),
        ("P(a) -> forall x. P(x)", "verdict", "false in domain {0,1}; P = {"),
        ("a | ~a", "verdict", ""),  # valid: no countermodel to show
        ("a & ~a", "verdict", ""),
    ],
)
def test_the_witness_is_the_world_that_shows_the_answer(text, task, witness):
    tree = LOGIC.parse(text)
    cells = LOGIC.worlds(tree, task, 1024).labels[-1].tolist()  # a perfect model's root grid
    shown = LOGIC.witness(tree, task, cells, 1024)
    assert shown.startswith(witness) and (witness or not shown)


def test_a_signature_too_large_for_the_grid_is_a_clear_error():
    from hybrid_trm.errors import HybridTRMError

    text = "forall x. forall y. forall z. forall u. forall v. P(x) & Q(y) & R(z) & S(u) -> P(v)"
    with pytest.raises(HybridTRMError, match="grid of worlds cannot hold"):
        LOGIC.worlds(LOGIC.parse(text), "verdict", 1024)
