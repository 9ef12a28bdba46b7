"""programs/dead, unset and recursive answered by rounds over the program's flow
(domains/programs/flow_rounds.py) and call graph (call_rounds.py) whose formulas a
model evaluates: with exact answers, the labeller's answers and labels (flow.py,
calls.py) on generated programs, larger than training's too; a statement's round
is its distance from the entry; a cycle of k calls closes in round k - 1; the
shipped logic model answers through the API on both runtimes."""

from __future__ import annotations

import pytest

import naive
from hybrid_trm.domains.programs import ProgramsDomain
from hybrid_trm.domains.programs.call_rounds import recursive_many
from hybrid_trm.domains.programs.flow_rounds import dead_many
from hybrid_trm.domains.programs.labels import answer

DOMAIN = ProgramsDomain()
MUTUAL = (
    "def a(n) { return b(n); } def b(n) { return c(n); } def c(n) { if (n < 1) { return 0; } return a(n - 1); }\n"
    "def d(n) { return d(n); } def e(n) { return a(n); }\nreturn e(2);"
)


def test_exact_answers_give_the_labellers_functions_and_labels():
    difficulty = DOMAIN.difficulty(statements=15, depth=3, functions=4, recursion=0.5)
    trees = [DOMAIN.parse(DOMAIN.example(3, i, difficulty, "recursive").input) for i in range(60)]
    runs = recursive_many(trees, naive.round_verdicts)
    answers = set()
    for tree, run in zip(trees, runs):
        labels = DOMAIN.label_subtrees(tree, "recursive")
        assert run.answer == answer(tree, "recursive") == DOMAIN.answer_from_labels(tree, "recursive", run.node_answers)
        assert all(a == label for a, label in zip(run.node_answers[:-1], labels[:-1]) if label is not None)
        answers.add(run.answer.count(",") + (run.answer != "none"))
    assert {0, 1} <= answers  # programs without recursion and with


def test_a_cycle_of_k_calls_closes_in_round_k_minus_1_and_the_model_decides():
    tree = DOMAIN.parse(MUTUAL)
    run = recursive_many([tree], naive.round_verdicts)[0]
    assert run.answer == "a,b,c,d"
    steps = {str(n.children[0]): s for n, s in zip(_order(tree), run.node_steps) if getattr(n, "data", "") == "funcdef"}
    assert steps == {"a": 2, "b": 2, "c": 2, "d": 0, "e": 1}  # e: asked once (nothing it waits on followed), never closed
    never = recursive_many([tree], lambda texts: [("unsatisfiable", 1.0)] * len(texts))[0]
    assert never.answer == "d"  # only the call stated in its own body


@pytest.mark.parametrize("task", ["dead", "unset"])
@pytest.mark.parametrize(
    "knobs", [{"statements": 15, "depth": 3}, {"statements": 60, "statements_min": 45, "depth": 6, "functions": 4}],
    ids=["as-trained", "4x-longer"],
)
def test_exact_answers_give_the_labellers_dead_statements_and_unset_reads(task, knobs):
    difficulty = DOMAIN.difficulty(**knobs)
    trees = [DOMAIN.parse(DOMAIN.example(11, i, difficulty, task).input) for i in range(40)]
    runs = DOMAIN.run(trees, task, naive.round_verdicts)
    for tree, run in zip(trees, runs):
        labels = DOMAIN.label_subtrees(tree, task)
        assert run.answer == answer(tree, task)
        assert all(a == label for a, label in zip(run.node_answers[:-1], labels[:-1]) if label is not None)


def test_a_statements_round_is_its_distance_from_the_entry_and_folded_branches_stay_dead():
    tree = DOMAIN.parse("x = 1; if (1 > 2) { x = 2; } else { x = 3; } while (0) { x = 4; } return x;")
    run = dead_many([tree], naive.round_verdicts)[0]
    assert run.answer == "2"  # x = 2 and x = 4
    steps = [s for n, s in zip(_order(tree), run.node_steps) if getattr(n, "data", "") in ("assign", "return")]
    # x = 1 one edge from the entry; x = 3 behind x = 1's end, the if_else and its
    # skip (5); the return behind the while's head (12); the dead ones asked once
    assert steps == [1, 1, 5, 1, 12]


def _order(tree):
    from hybrid_trm.grammar import postorder

    return postorder(tree)


@pytest.mark.parametrize("runtime", ["torch", "numpy"])
def test_the_analyses_load_the_logic_model_and_are_answered_by_its_rounds(runtime):
    import hybrid_trm

    r = hybrid_trm.load("programs/recursive", runtime=runtime)
    assert (r.task.name, r.config["domain"], r.loaded.own_task.name) == ("recursive", "logic", "verdict")
    solution = r.solve(MUTUAL)
    assert (solution.answer, solution.verified) == ("a,b,c,d", True)
    text = "y = 0; if (1 > 2) { x = 1; } z = x + y; return z; w = 1;"
    for task, want in (("dead", "2"), ("unset", "x")):
        solution = hybrid_trm.load(f"programs/{task}", runtime=runtime).solve(text)
        assert (solution.task, solution.answer, solution.verified) == (task, want, True)
