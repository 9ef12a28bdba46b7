"""The programs executor (domains/programs/execute.py) and its questions
(closed.py): with a model that answers every closed expression exactly, a run
must be the labeller's run, statement for statement; with a model that errs, the
run follows the model's answers."""

import random

import pytest

from hybrid_trm.domains import registry
from hybrid_trm.domains.programs.closed import closed_digits, closed_expressions, literal
from hybrid_trm.domains.programs.execute import WALKED, execute_many
from hybrid_trm.domains.programs.labels import answer
from hybrid_trm.domains.programs.run import run

DOMAIN = registry.get("programs")


def exact(texts):
    """The labeller's value of each closed expression: a model that never errs."""
    return [(answer(DOMAIN.parse(f"return {t};"), "output"), 1.0) for t in texts]


def programs(n, seed, **knobs):
    difficulty = DOMAIN.difficulty(**knobs)
    return [DOMAIN.parse(DOMAIN.example(seed, i, difficulty, "output").input) for i in range(n)]


@pytest.mark.parametrize("knobs", [
    {},
    {"statements": 15, "depth": 3, "loop_bound": 9, "call_depth": 2, "errors": 0.3},
    {"statements": 30, "statements_min": 20, "depth": 5, "loop_bound": 12, "call_depth": 4, "functions": 3},
])
def test_an_exact_model_runs_every_program_as_the_labeller_does(knobs):
    trees = programs(60, 11, **knobs)
    runs = execute_many(trees, exact)
    assert len(runs) == len(trees)
    for tree, got in zip(trees, runs):
        want = run(tree)
        assert (got.answer, got.executed) == (want.answer, want.executed)
        assert got.counts == want.counts  # every statement's runs, every loop's trips
        assert got.confidence == 1.0 and got.asked > 0


def test_the_run_follows_the_models_answers():
    tree = DOMAIN.parse("i = 0; x = 0; while (i < 3) { x = x + 10; i = i + 1; } return x;")
    wrong_sum = lambda texts: [("7", 0.5) if t.startswith("(0 + 10") else exact([t])[0] for t in texts]
    got = execute_many([tree], wrong_sum)[0]
    assert got.answer == "27" and got.confidence == 0.5  # 7, then 17, 27: the model's first sum carried on
    stop_early = lambda texts: [("0", 0.9) if t == "(1 < 3)" else exact([t])[0] for t in texts]
    got = execute_many([tree], stop_early)[0]
    assert got.answer == "10"  # the loop ran while the model said its condition held: once
    loop = tree.children[2]
    assert got.counts[id(loop)] == 1


def test_a_model_answering_error_stops_the_run_and_unset_names_are_the_executors():
    divide = DOMAIN.parse("x = 5; y = 0; return x / y;")
    got = execute_many([divide], exact)[0]
    assert got.answer == "error"
    unset = DOMAIN.parse("x = 1; if (x > 2) { y = 1; } return y;")
    assert execute_many([unset], exact)[0].answer == "error"
    skipped = DOMAIN.parse("x = 0; if (x and y > 1) { x = 1; } return x;")  # `and` never reads y
    assert execute_many([skipped], exact)[0].answer == "0"


def test_closed_expressions_are_what_the_run_evaluated():
    tree = DOMAIN.parse("x = 3; i = 0; while (i < 2) { x = x - i * 2; i = i + 1; } return x % 5;")
    assert closed_expressions(tree) == [
        "(0 < 2)", "(3 - (0 * 2))", "(0 + 1)", "(1 < 2)", "(3 - (1 * 2))", "(1 + 1)", "(2 < 2)", "(1 % 5)",
    ]
    assert literal(-4) == "(-4)" and literal(4) == "4"
    rng = random.Random(0)
    for tree in programs(20, 3):
        for text in closed_expressions(tree):
            closed = DOMAIN.parse(f"return {text};")  # each parses, and has a value or stops the run
            assert answer(closed, "output") is not None
            if rng.random() < 0.2 and answer(closed, "output") not in ("error", "timeout"):
                digits = closed_digits(closed)
                assert digits is not None and abs(int(answer(closed, "output"))) < 10**digits


def test_the_expressions_knob_draws_closed_programs_and_names_the_walked_kinds():
    difficulty = DOMAIN.difficulty(expressions=1)
    for i in range(30):
        example = DOMAIN.example(0, i, difficulty, "output")
        assert example.input.startswith("return ")
        tree = DOMAIN.parse(example.input)
        assert closed_digits(tree) is not None  # no names, no calls
        assert DOMAIN.label_subtrees(tree, "output")[-1] == example.answer
    assert DOMAIN.walked_kinds(difficulty) == WALKED
    assert DOMAIN.walked_kinds(DOMAIN.difficulty()) == frozenset()
    assert closed_digits(DOMAIN.parse("x = 1; return x;")) is None
    assert closed_digits(DOMAIN.parse("return 5 < 100000;")) == 6  # the grid holds the literal, not just the 0 or 1


@pytest.mark.parametrize("task", ["output", "trips"])
def test_a_run_answers_output_and_trips_as_the_labeller_labels_them(task):
    from hybrid_trm.domains.programs.execute import run_of

    trees = programs(40, 12, statements=15, depth=3, loop_bound=9, call_depth=2)
    for tree, got in zip(trees, execute_many(trees, exact)):
        prediction = run_of(tree, got, task)
        labels = DOMAIN.label_subtrees(tree, task)
        assert prediction.answer == labels[-1]
        pairs = list(zip(prediction.node_answers, labels))
        if task == "trips":  # every statement's runs, every loop's trips
            assert all(a == label for a, label in pairs if label is not None)
        else:  # the nodes asked of the model (a closed expression's inner nodes are the model's own)
            assert all(a == label for a, label in pairs if a)
            assert any(a for a, _ in pairs[:-1])


@pytest.mark.parametrize("runtime", ["torch", "numpy"])
def test_trips_loads_the_output_model_and_is_answered_by_its_run(runtime):
    import hybrid_trm

    r = hybrid_trm.load("programs/trips", runtime=runtime)
    assert (r.task.name, r.loaded.own_task.name, r.config["task"]) == ("trips", "output", "output")
    solution = r.solve("i = 0; while (i < 3) { i = i + 1; } return i;")
    # i = 0, the while (once: a loop counts when reached), its body 3 times, the return
    assert solution.task == "trips" and solution.answer == "6" and solution.verified
    # a run that stops (a name read unset) has run the statements up to it
    stopped = r.solve("x = 5; y = 0; z = x + w; x = 1; return x;")
    assert stopped.answer == "3" and stopped.verified
    from hybrid_trm import loading, pretrained
    from hybrid_trm.errors import CheckpointError

    with pytest.raises(CheckpointError, match="is for programs/output, not programs/dead"):  # no run answers dead
        loading.load(pretrained.path("programs", "output"), "programs", "dead")

