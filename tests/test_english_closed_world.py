"""The english domain's closed world (docs/english.md, "The closed world"):
`THEORY Q (closed world): STATEMENT` read with negation as failure. The
labeller's stratified chaining (closed.py) agrees with the verifier's
well-founded model (verifiers/english.py) on generated theories, answers and
proof depths; the run with exact answers gives the labeller's labels and depths;
an unstratified theory, and a negated fact or conclusion, are refused; the
generator's knobs are respected."""

from __future__ import annotations

import collections
import re

import pytest

import naive
from hybrid_trm.domains import contract
from hybrid_trm.domains.english import EnglishDomain, rounds
from hybrid_trm.domains.english.labels import proof_depths, truth_labels
from hybrid_trm.errors import HybridTRMError, ParseError
from hybrid_trm.grammar import kind, load_grammar, postorder

DOMAIN = EnglishDomain()
exact = naive.round_verdicts
CLOSED = {"world": "closed"}
DEEP = {"world": "closed", "depth": 10, "depth_min": 4, "entities": 4, "rules": 6, "facts": 6, "negation": 0.5}


def examples(n: int, seed: int, **knobs):
    difficulty = DOMAIN.difficulty(**knobs)
    return [DOMAIN.example(seed, i, difficulty, "truth") for i in range(n)]


@pytest.mark.parametrize("knobs", [CLOSED, DEEP], ids=["d0-3", "d4-10"])
def test_the_labeller_agrees_with_the_verifier_and_its_proof_depths(knobs):
    """Stratified forward chaining vs the alternating fixpoint over the
    translation: the same answer, and where the atom follows the same proof depth."""
    disagreements, kinds = [], collections.Counter()
    for ex in examples(60, 31, **knobs):
        verdict = DOMAIN.verify(ex.input, ex.answer, "truth", budget_s=10.0)
        if verdict.correct is not True:
            disagreements.append((ex.input, ex.answer, verdict.evidence))
            continue
        depth = proof_depths(DOMAIN.parse(ex.input))[-1]
        shown = re.search(r"follows at proof depth (\d+)|(is stated)", verdict.evidence)
        want = None if shown is None else 0 if shown.group(2) else int(shown.group(1))
        assert depth == want == (ex.meta["proof_depth"] if ex.meta["follows"] else None), (ex.input, verdict.evidence)
        kinds[(ex.answer, " not " in ex.input.split("Q (closed world): ")[1])] += 1
    assert not disagreements, disagreements[:3]
    # a positive statement and a negated one, each true and false: no answer by its shape
    assert set(kinds) == {("true", False), ("true", True), ("false", False), ("false", True)}, kinds


@pytest.mark.parametrize("knobs", [CLOSED, DEEP], ids=["d0-3", "d4-10"])
def test_exact_answers_reproduce_the_labellers_stratified_chaining(knobs):
    trees = [DOMAIN.parse(ex.input) for ex in examples(40, 32, **knobs)]
    for tree, run in zip(trees, DOMAIN.run(trees, "truth", exact)):
        labels, depths = truth_labels(tree), proof_depths(tree)
        assert run.answer == labels[-1] in ("true", "false")
        for answer, steps, label, depth in zip(run.node_answers, run.node_steps, labels, depths):
            if label is not None:
                assert answer == label
            if depth is not None:  # an atom derived in the round of its proof depth
                assert steps == depth


def test_both_worlds_run_in_one_batch_as_they_run_apart():
    closed = [DOMAIN.parse(ex.input) for ex in examples(15, 37, **DEEP)]
    open_ = [DOMAIN.parse(ex.input) for ex in examples(15, 37, depth=6)]
    together = DOMAIN.run(closed + open_, "truth", exact)
    apart = DOMAIN.run(closed, "truth", exact) + DOMAIN.run(open_, "truth", exact)
    assert [(r.answer, r.node_answers, r.node_steps) for r in together] == [
        (r.answer, r.node_answers, r.node_steps) for r in apart
    ]


def test_a_negated_condition_is_decided_by_the_pass_below():
    text = (
        "Bob is big. If someone is big then they are red. If someone is not red then they are kind. "
        "Q (closed world): Bob is kind."
    )
    tree = DOMAIN.parse(text)
    asked: list[str] = []

    def recording(texts):
        asked.extend(texts)
        return exact(texts)

    run = rounds.truths([tree], recording)[0]
    # pass 1: Red(bob); pass 2 again, with Kind(bob), whose `not red` the pass below made false
    assert asked == ["(true)", "(true)", "(false)"]
    assert (run.answer, truth_labels(tree)[-1]) == ("false", "false")
    assert DOMAIN.verify(text, "false", "truth").correct
    flipped = text.replace("Bob is big.", "Bob is small.")  # nothing makes Bob red: he is kind
    assert DOMAIN.label_subtrees(DOMAIN.parse(flipped), "truth")[-1] == "true"
    assert rounds.truths([DOMAIN.parse(flipped)], exact)[0].answer == "true"


@pytest.mark.parametrize(
    "text,answer,depth",
    [
        ("The cat is big. Q (closed world): The cat is not red.", "true", None),
        ("The cat is big. Q (closed world): The cat is red.", "false", None),
        ("The cat is big. All big things are red. Q (closed world): The cat is not red.", "false", 1),
        ("Anne is kind. If someone is kind and not rough then they are nice. Nice people are young. "
         "Q (closed world): Anne is young.", "true", 2),
        ("All things are big. Q (closed world): Bob is big.", "true", 1),
    ],
)
def test_negation_as_failure_by_hand(text, answer, depth):
    tree = DOMAIN.parse(text)
    assert (truth_labels(tree)[-1], proof_depths(tree)[-1]) == (answer, depth)
    verdict = DOMAIN.verify(text, answer, "truth")
    assert verdict.correct and verdict.evidence.startswith("closed world (negation as failure): ")


UNSTRATIFIED = (
    "Bob is big. If someone is not red then they are kind. If someone is kind then they are red. "
    "Q (closed world): Bob is red."
)


def test_an_unstratified_theory_is_refused_with_one_line():
    tree = DOMAIN.parse(UNSTRATIFIED)  # it parses: what it means is refused
    for answer in (
        lambda: DOMAIN.label_subtrees(tree, "truth"),
        lambda: DOMAIN.verify(UNSTRATIFIED, "true", "truth"),
        lambda: DOMAIN.run([tree], "truth", exact),
    ):
        with pytest.raises(HybridTRMError, match="not stratified: Red depends on its own negation") as err:
            answer()
        assert "\n" not in str(err.value)
    itself = "Bob is big. If someone is not red then they are red. Q (closed world): Bob is red."
    with pytest.raises(HybridTRMError, match=r"Red depends on its own negation \(not Red -> Red\)"):
        DOMAIN.label_subtrees(DOMAIN.parse(itself), "truth")
    # the same rules in the open world are a theory like any other
    assert DOMAIN.label_subtrees(DOMAIN.parse(UNSTRATIFIED.replace(" (closed world)", "")), "truth")[-1] == "unknown"


@pytest.mark.parametrize(
    "text,column,found",
    [
        ("Bob is not big. Q (closed world): Bob is red.", 12, "'big'"),
        ("Bob is big and not red. Q (closed world): Bob is red.", 20, "'red'"),
        ("If Bob is big then Bob is not red. Q (closed world): Bob is red.", 31, "'red'"),
        ("Every cat is not big. Q (closed world): Bob is red.", 18, "'big'"),
        ("The cat is big. The cat does not chase Bob. Q (closed world): Bob is red.", 34, "'chase'"),
    ],
)
def test_a_negated_fact_or_conclusion_is_refused_in_the_closed_world(text, column, found):
    with pytest.raises(ParseError) as err:
        DOMAIN.parse(text)
    assert (err.value.line, err.value.column, err.value.found) == (1, column, found)
    assert "states no negation" in str(err.value)
    DOMAIN.parse(text.replace(" (closed world)", ""))  # the open world states negations


def test_the_marker_parses_and_asks_for_truth():
    tree = DOMAIN.parse("Bob is big. Q (closed world): Bob is not red.")
    assert kind(tree) == "ask_closed" and kind(DOMAIN.parse("Bob is big. Q: Bob is not red.")) == "ask"
    assert {kind(n) for n in postorder(tree)} <= set(DOMAIN.node_kinds)
    assert DOMAIN.task_for(tree) == "truth"
    with pytest.raises(ParseError, match="'Q \\(closed world\\):', 'Q:'"):
        DOMAIN.parse("Bob is big. Q (open world): Bob is red.")
    parser = load_grammar("english")
    from hybrid_trm.fast_lalr import fast_parser

    fast = fast_parser(parser)
    for ex in examples(30, 33, **DEEP):
        assert " Q (closed world): " in ex.input and fast.parse(ex.input) == parser.parse(ex.input)


def test_the_logic_task_does_not_translate_the_closed_world():
    text = "Bob is big. Q (closed world): Bob is red."
    with pytest.raises(HybridTRMError, match="negation as failure"):
        DOMAIN.verify(text, "Big(bob) |= Red(bob)", "logic")
    with pytest.raises(HybridTRMError, match="world=closed is for truth"):
        DOMAIN.example(1, 0, DOMAIN.difficulty(**CLOSED), "logic")


@pytest.mark.parametrize("knobs", [CLOSED, DEEP], ids=["default", "deep"])
def test_generated_closed_world_theories_keep_the_contract(knobs):
    failed = [f"{c.name}: {c.failure}" for c in contract.check(DOMAIN, "truth", knobs, n=30) if not c.passed]
    assert not failed, failed


def test_the_closed_world_knobs():
    d = DOMAIN.difficulty(world="closed", depth=6, depth_min=6)
    drawn = examples(40, 34, world="closed", depth=6, depth_min=6)
    assert {e.meta["proof_depth"] for e in drawn} == {6} and {e.answer for e in drawn} == {"true", "false"}
    for e in drawn:
        if e.meta["follows"]:
            assert proof_depths(DOMAIN.parse(e.input))[-1] == 6
    assert {e.answer for e in examples(20, 35, world="closed", answers="false,unknown")} == {"false"}
    assert not any(" not " in e.input.split("Q (")[0] for e in examples(20, 36, world="closed", negation=0.0))
    with pytest.raises(HybridTRMError, match="true or false"):
        DOMAIN.example(1, 0, DOMAIN.difficulty(world="closed", answers="unknown"), "truth")
    with pytest.raises(HybridTRMError, match="world='shut'"):
        DOMAIN.example(1, 0, DOMAIN.difficulty(world="shut"), "truth")
    assert DOMAIN.example(2, 0, d, "truth").to_json() == DOMAIN.example(2, 0, d, "truth").to_json()


def test_the_shipped_model_answers_the_closed_world():
    import hybrid_trm

    r = hybrid_trm.load("english/truth", runtime="numpy")
    text = (
        "Anne is kind. Bob is kind. Bob is rough. If someone is kind and not rough then they are nice. "
        "Q (closed world): Bob is not nice."
    )
    solution = r.solve(text, trace=True)
    assert (solution.answer, solution.verified) == ("true", True)
    assert solution.evidence.startswith("closed world (negation as failure): Nice(bob) does not follow")
