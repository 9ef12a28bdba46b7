"""english/truth answered by rounds of forward chaining (domains/rounds.py, domains/english/rounds.py)
whose formulas a model evaluates: with exact answers the run is the labeller's
chaining (answers, and each literal's round its proof depth); with wrong ones it
answers otherwise (the model decides); the shipped logic model answers through
the API, the CLI's path and the numpy runtime."""

from __future__ import annotations

import pytest

import naive
from hybrid_trm.domains.english import EnglishDomain, rounds
from hybrid_trm.domains.rounds import Chain, chain_many
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.domains.english.labels import proof_depths, truth_labels
from hybrid_trm.grammar import postorder

DOMAIN = EnglishDomain()
exact = naive.round_verdicts


def theories(n: int, seed: int, **knobs):
    difficulty = DOMAIN.difficulty(**knobs)
    return [DOMAIN.parse(DOMAIN.example(seed, i, difficulty, "truth").input) for i in range(n)]


@pytest.mark.parametrize("knobs", [{"depth": 3}, {"depth": 8, "depth_min": 4, "entities": 4, "rules": 6}], ids=["d3", "d4-8"])
def test_exact_answers_reproduce_the_labellers_chaining(knobs):
    trees = theories(40, 7, **knobs)
    runs = DOMAIN.run(trees, "truth", exact)
    assert len(runs) == len(trees)
    for tree, run in zip(trees, runs):
        labels, depths = truth_labels(tree), proof_depths(tree)
        assert run.answer == labels[-1]
        assert len(run.node_answers) == len(postorder(tree))
        for answer, steps, label, depth in zip(run.node_answers, run.node_steps, labels, depths):
            if label is not None:
                assert answer == label
            if depth is not None:  # a literal derived (or its negation) in round d of a proof d deep
                assert steps == depth


def test_the_model_decides_what_follows_and_when_the_rounds_stop():
    tree = DOMAIN.parse("Bob is big. If someone is big then they are red. If someone is red then they are kind. Q: Bob is kind.")
    run = rounds.truths([tree], exact)[0]
    assert (run.answer, run.node_steps[-1]) == ("true", 2)
    never = rounds.truths([tree], lambda texts: [("unsatisfiable", 0.7)] * len(texts))[0]
    assert (never.answer, never.confidence) == ("unknown", 0.7)  # asked once, nothing derived
    assert never.node_steps[-1] == 1  # the statement was asked in the one round that ran
    # a model that says every formula holds derives every conclusion in round 1
    eager = rounds.truths([tree], lambda texts: [("valid", 1.0)] * len(texts))[0]
    assert (eager.answer, eager.node_steps[-1]) == ("true", 1)


def test_the_questions_are_the_conditions_of_each_rule_that_concludes_a_literal():
    tree = DOMAIN.parse(
        "Anne is big. Anne is young. If someone is big and young then they are kind. Young people are kind. Q: Anne is kind."
    )
    asked: list[str] = []

    def recording(texts):
        asked.extend(texts)
        return exact(texts)

    rounds.truths([tree], recording)
    assert asked == ["(true & true) | (true)"]  # kind(anne), concluded by two rules; once, then derived


def test_rounds_end_when_one_derives_nothing():
    chains = [Chain.of(["a"], [(("a",), ("b",)), (("b",), ("c",)), (("x",), ("y",))]), Chain.of([], [])]
    chain_many(chains, exact)
    assert chains[0].derived == {"a": 0, "b": 1, "c": 2} and chains[0].rounds == 2
    assert chains[0].steps("y") == 1  # asked once: nothing it waits on followed
    assert sum(chains[0].asked.values()) == 4  # b, c and y in round 1; c again in round 2, once b followed
    assert chains[1].rounds == 0 and not chains[1].asked


@pytest.mark.parametrize("runtime", ["torch", "numpy"])
def test_truth_loads_the_logic_model_and_is_answered_by_its_rounds(runtime):
    import hybrid_trm

    r = hybrid_trm.load("english/truth", runtime=runtime)
    assert (r.domain.name, r.task.name, r.config["domain"], r.loaded.own_task.name) == ("english", "truth", "logic", "verdict")
    text = "Bob is big. If someone is big then they are red. If someone is red then they are not kind. Q: Bob is kind."
    solution = r.solve(text, trace=True)
    assert (solution.task, solution.answer, solution.verified) == ("truth", "false", True)
    assert solution.node_steps[-1] == 2  # the negation's proof is two rules deep
    many = r.solve_many([text, "Bob is big. Q: Bob is red."])
    assert [s.answer for s in many] == ["false", "unknown"] and all(s.verified for s in many)


def test_no_run_answers_the_logic_task_with_the_logic_model():
    from hybrid_trm import loading, pretrained
    from hybrid_trm.errors import CheckpointError

    with pytest.raises(CheckpointError, match="is for logic/verdict, not english/logic"):
        loading.load(pretrained.path("logic", "verdict"), "english", "logic")


@pytest.mark.parametrize("knobs", [{}, {"distance": 10, "distance_min": 3, "distractors": 6}], ids=["as-trained", "far"])
def test_exact_answers_pick_the_labellers_antecedents(knobs):
    difficulty = DOMAIN.difficulty(style="discourse", **knobs)
    trees = [DOMAIN.parse(DOMAIN.example(9, i, difficulty, "antecedent").input) for i in range(40)]
    for tree, run in zip(trees, DOMAIN.run(trees, "antecedent", exact)):
        labels = DOMAIN.label_subtrees(tree, "antecedent")
        assert run.answer == DOMAIN.symbolic_answer(tree, "antecedent")
        assert all(a == label for a, label in zip(run.node_answers[:-1], labels[:-1]) if label is not None)


def test_the_model_picks_each_antecedent():
    tree = DOMAIN.parse("A farmer owns a donkey. He beats it.")
    run = rounds.antecedents([tree], exact)[0]
    picks = [(a, s) for a, s in zip(run.node_answers, run.node_steps) if a in ("1", "2", "3")]
    assert picks == [("2", 2), ("2", 2)]  # He: the donkey (no), the farmer; it: the farmer (no: He's), the donkey
    # a model that takes the latest candidate whatever it is: `He` is the donkey
    eager = rounds.antecedents([tree], lambda texts: [("valid", 0.9)] * len(texts))[0]
    assert "Beat(x2" in eager.answer and eager.confidence == 0.9
    with pytest.raises(HybridTRMError, match="no antecedent for 'He'"):
        rounds.antecedents([tree], lambda texts: [("unsatisfiable", 1.0)] * len(texts))


def test_antecedent_loads_the_logic_model():
    import hybrid_trm

    solution = hybrid_trm.load("english/antecedent").solve("Bob likes a farmer. Anne sees him. She is old.", trace=True)
    assert solution.verified and solution.answered_by == "model"


def test_solve_picks_the_task_the_input_asks_for():
    from hybrid_trm.solver import solve

    picked = {
        text: solve(text, timeout=None).task
        for text in ("Bob is big. Q: Bob is big.", "A farmer owns a donkey. He beats it.", "Bob is big. Bob is red.")
    }
    assert list(picked.values()) == ["truth", "antecedent", "logic"]
