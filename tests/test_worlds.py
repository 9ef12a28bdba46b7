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
from hybrid_trm.grammar import postorder
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


def test_a_signature_too_large_to_enumerate_gets_sampled_structures():
    """Four predicates and five nested quantifiers: far too many structures to list,
    so the grid samples them; it still shows this formula both true and false, and
    the world it shows false checks out exactly."""
    text = "forall x. forall y. forall z. forall u. forall v. P(x) & Q(y) & R(z) & S(u) -> P(v)"
    tree = LOGIC.parse(text)
    worlds = LOGIC.worlds(tree, "verdict", 1024)
    cells = worlds.labels[-1].tolist()
    assert LOGIC.task("verdict").read(frozenset(cells)) == "contingent"
    assert LOGIC.witness(tree, "verdict", cells, 1024).endswith("(checked ✓)")


def test_quantifiers_that_never_nest_share_a_slot():
    """Positions hold an element per level of nesting, not per variable name."""
    from hybrid_trm.domains.logic.grid import _slots

    tree = LOGIC.parse("(forall x. P(x)) & (exists y. Q(y)) & (forall z. exists u. R(z, u))")
    assert _slots(tree)[1] == 2


@pytest.mark.parametrize(
    "text,answer",
    [
        ("exists x. exists y. exists z. (~(x = y) & ~(x = z) & ~(y = z))", "contingent"),
        ("forall x. forall y. (R(x, y) -> R(x, y))", "valid"),
        ("(forall x. exists y. R(x, y)) & ~(exists x. R(x, x)) & (forall x. ~R(x, x))", "contingent"),
        ("P(a, b, c) & ~P(a, b, c)", "unsatisfiable"),
        ("forall x. (T(x, x, x, x, x, x, x, x, x, x) | ~T(x, x, x, x, x, x, x, x, x, x))", "valid"),
        ("(forall x. P(x) -> Q(x, a)) -> (P(a) -> exists y. Q(y, y))", "valid"),
    ],
)
def test_sampled_structures_show_the_answer(text, answer):
    """Relations of any arity, constants and equality: the sampled grid's reading
    is the verifier's answer on these."""
    tree = LOGIC.parse(text)
    worlds = LOGIC.worlds(tree, "verdict", 1024)
    assert LOGIC.task("verdict").read(frozenset(worlds.labels[-1].tolist())) == answer
    assert LOGIC.verify(text, answer, "verdict", budget_s=10).correct is True


def test_a_sampled_world_is_the_structure_the_grid_computed_on():
    """Every position's truth is the exact truth of the formula in its world."""
    from hybrid_trm.domains.logic.grid import _grid
    from hybrid_trm.verifiers.logic import holds

    tree = LOGIC.parse("forall x. exists y. (R(x, y) & ~(x = y)) | P(a, x)")
    grid = _grid(tree, 256)
    assert not grid.exhaustive
    root = LOGIC.worlds(tree, "verdict", 256).labels[-1]
    for j in range(0, grid.count, 7):
        assert bool(root[j]) == holds(tree, grid.structure(j))


def test_generated_relational_formulas_carry_the_verifiers_answer():
    """Predicates of 1..3 arguments, constants and equality: too many structures to
    list, so the generator's answer is the verifier's, and the drawn answers vary."""
    from hybrid_trm.verifiers.logic import signature

    difficulty = LOGIC.difficulty(first_order=1, variables=3, predicates=4, arity=3, constants=2, equality=0.2, quantifier_depth=3)
    answers = set()
    for i in range(12):
        example = LOGIC.example(11, i, difficulty, "verdict")
        assert LOGIC.verify(example.input, example.answer, "verdict", budget_s=10).correct is True, example.input
        assert all(1 <= arity <= 3 for _, arity in signature(LOGIC.parse(example.input)).predicates)
        answers.add(example.answer)
    assert answers == {"valid", "contingent", "unsatisfiable"}
    natural = LOGIC.difficulty(first_order=1, variables=3, predicates=4, arity=2, quantifier_depth=2, balance="natural")
    example = LOGIC.example(11, 0, natural, "verdict")
    assert LOGIC.verify(example.input, example.answer, "verdict", budget_s=10).correct is True


def test_a_universal_answer_read_off_sampled_worlds_is_not_sure():
    """No sample shows that no countermodel exists: such an answer's confidence is
    capped; an answer a world on the grid shows is not, nor one off every world."""
    from hybrid_trm import checkpoints, pretrained, solver

    if not checkpoints.exists(pretrained.path("logic", "verdict")):
        pytest.skip("no shipped logic-verdict checkpoint")
    task = LOGIC.task("verdict")
    cases = [
        ("forall x. forall y. (R(x, y) -> R(x, y))", "valid", False),  # sampled: capped
        ("P(a) | ~P(a)", "valid", True),  # every world listed: a decision
        ("exists x. R(x, a) & ~R(x, x)", "contingent", False),  # a world on the grid shows it
    ]
    trees = tensorize_worlds(LOGIC, [LOGIC.parse(t) for t, _, _ in cases], task, 1024, labelled=False)
    assert [t.exhaustive for t in trees] == [listed for _, _, listed in cases]
    for text, answer, listed in cases:
        solution = solver.solve(text, "logic", "verdict")
        assert solution.answer == answer, (text, solution)
        if not listed and not task.witnessed(answer):
            assert solution.confidence <= task.sampled_confidence
        else:
            assert solution.confidence > 0.99, (text, solution.confidence)


def test_a_large_formula_gets_fewer_worlds_unless_asked():
    """Nodes x worlds stay within the task's cells by default; --worlds is kept."""
    from hybrid_trm.inference import inference_tensors

    task = LOGIC.task("verdict")
    small = LOGIC.parse("forall x. forall y. R(x, y) | ~R(y, x)")  # sampled: fills its grid
    large = LOGIC.parse(" & ".join(f"(exists x. R(x, c{i}))" for i in range(60)))
    widths = [t.literal.shape[1] for t in inference_tensors(LOGIC, task, [small, large])]
    nodes = len(postorder(large))
    assert widths == [task.worlds, max(task.min_worlds, task.cells // nodes)] and widths[1] < task.worlds
    assert [t.literal.shape[1] for t in inference_tensors(LOGIC, task, [large], worlds=1024)] == [1024]
