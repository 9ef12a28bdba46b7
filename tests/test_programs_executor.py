"""The programs executor (domains/programs/execute.py) and its arithmetic by hand
(schoolbook.py): with a model that answers every digit fact exactly, a run must be
the labeller's run, statement for statement; with a model that errs, the run
follows the model's answers."""

import itertools

import pytest

from hybrid_trm.domains import registry
from hybrid_trm.domains.programs import schoolbook
from hybrid_trm.domains.programs.closed import closed_digits
from hybrid_trm.domains.programs.execute import Executor, execute_many, facts_asked
from hybrid_trm.domains.programs.labels import answer
from hybrid_trm.domains.programs.run import OPERATIONS, Stop, run
from hybrid_trm.domains.programs.trampoline import advance
from hybrid_trm.errors import HybridTRMError

DOMAIN = registry.get("programs")
SMALL = {"expressions": 1, "statements": 15, "depth": 3, "loop_bound": 9, "call_depth": 2}


def exact_fact(text):
    """The labeller's value of a fact (a closed expression)."""
    return answer(DOMAIN.parse(f"return {text};"), "output")


def exact(texts):
    """A model that never errs."""
    return [(exact_fact(t), 1.0) for t in texts]


def programs(n, seed, **knobs):
    difficulty = DOMAIN.difficulty(**knobs)
    return [DOMAIN.parse(DOMAIN.example(seed, i, difficulty, "output").input) for i in range(n)]


def by_hand(k, a, b, asked):
    """schoolbook.operate with every fact answered exactly; each fact asked, in `asked`."""
    stack = [schoolbook.operate(k, a, b)]
    value = None
    while True:
        step = advance(stack, value, (schoolbook.Fact,))
        if not isinstance(step, schoolbook.Fact):
            return step.value
        asked.add(step.text)
        value = int(exact_fact(step.text))


VALUES = [0, 1, 7, 9, 10, 12, 99, 100, 101, 999, 1234, 90817, 10**11 + 7, 999_999_999_999]
VALUES = VALUES + [-v for v in VALUES if v]


def test_arithmetic_by_hand_is_the_languages_on_any_values_and_asks_only_its_facts():
    asked = set()
    for (a, b), k in itertools.product(itertools.product(VALUES, VALUES), sorted(OPERATIONS)):
        if k in ("div", "mod") and b == 0:
            with pytest.raises(Stop, match="by zero"):
                by_hand(k, a, b, asked)
        else:
            assert by_hand(k, a, b, asked) == OPERATIONS[k](a, b), (k, a, b)
    for a in VALUES:
        assert by_hand("neg", a, None, asked) == -a and by_hand("not", a, None, asked) == int(not a)
        for b, k in itertools.product(VALUES + [None], ("and", "or")):  # None: the side the connective skips
            assert by_hand(k, a, b, asked) == int(bool(a and b) if k == "and" else bool(a or b))
    every = set(schoolbook.facts())
    assert len(every) == 510 and asked <= every
    assert all(exact_fact(f).isdigit() and int(exact_fact(f)) < 100 for f in every)  # two digits: a column and its carry


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
        assert got.values == want.values  # every node's last value
        assert got.confidence == 1.0 and got.asked > 0


def test_an_executor_whose_arithmetic_asks_whole_sums_runs_as_the_labeller_does():
    """Executor.arithmetic is where another way of asking a model plugs in
    (benchmarks/programs_run.py --hybrid): here `+` and `-` asked whole, the rest
    by the schoolbook; loops, calls and products run as the labeller's run does."""

    def whole_sums(k, a, b):
        if k in ("add", "sub"):
            return (yield schoolbook.Fact(f"whole {a} {k} {b}"))
        return (yield schoolbook.operate(k, a, b))

    class WholeSums(Executor):
        arithmetic = staticmethod(whole_sums)

    def answers(texts):
        out = []
        for t in texts:
            if t.startswith("whole "):
                _, a, k, b = t.split()
                out.append((str(OPERATIONS[k](int(a), int(b))), 1.0))
            else:
                out.append(exact([t])[0])
        return out

    trees = programs(40, 12, **{k: v for k, v in SMALL.items() if k != "expressions"})
    for tree, got in zip(trees, execute_many(trees, answers, WholeSums)):
        want = run(tree)
        assert (got.answer, got.executed, got.counts) == (want.answer, want.executed, want.counts)
    loop = DOMAIN.parse("x = 0; for i in range(0, 4) { x = x + i * 3; } return x;")
    asked = []
    got = execute_many([loop], lambda texts: asked.extend(texts) or answers(texts), WholeSums)[0]
    assert got.answer == "18" and "whole 0 add 1" in asked and "whole 9 add 9" in asked
    assert "(3 * 3)" in asked  # a product still by its digit facts


def test_the_run_follows_the_models_answers():
    tree = DOMAIN.parse("i = 0; x = 0; while (i < 3) { x = x + 10; i = i + 1; } return x;")
    loop = tree.children[2]
    # 1 + 1 = 3: x = 10 + 10 takes 30, and i = 1 + 1 takes 3, so the loop ends after two trips
    wrong_sum = lambda texts: [("3", 0.5) if t == "((1 + 1) + 0)" else exact([t])[0] for t in texts]
    got = execute_many([tree], wrong_sum)[0]
    assert (got.answer, got.counts[id(loop)], got.confidence) == ("30", 2, 0.5)
    # 11 - 3 = 18 (no borrow): 1 < 3 is false, so the loop ran once
    stop_early = lambda texts: [("18", 0.9) if t == "(((1 + 10) - 3) - 0)" else exact([t])[0] for t in texts]
    got = execute_many([tree], stop_early)[0]
    assert (got.answer, got.counts[id(loop)]) == ("10", 1)
    refuses = lambda texts: [("error", 0.7) if t == "(((1 + 10) - 3) - 0)" else exact([t])[0] for t in texts]
    got = execute_many([tree], refuses)[0]
    assert got.answer == "error" and "the model answers error" in got.why


def test_stops_that_are_the_executors_own():
    divide = DOMAIN.parse("x = 5; y = 0; return x / y;")
    got = execute_many([divide], exact)[0]
    assert (got.answer, got.why) == ("error", "division by zero")
    unset = DOMAIN.parse("x = 1; if (x > 2) { y = 1; } return y;")
    assert execute_many([unset], exact)[0].answer == "error"
    skipped = DOMAIN.parse("x = 0; if (x and y > 1) { x = 1; } return x;")  # `and` never reads y
    assert execute_many([skipped], exact)[0].answer == "0"
    wide = DOMAIN.parse("x = 999999; return x * x * 2;")  # past 10^12: the run's digits say so
    assert execute_many([wide], exact)[0].answer == "error" == run(wide).answer


def test_the_facts_a_run_asks():
    tree = DOMAIN.parse("x = 3; return x * 4 + 12;")
    # 3 * 4 = 12: its units 2 and tens 1 (a column up) added; that partial product
    # added to the total 0; then 12 + 12
    assert facts_asked(tree) == [
        "(3 * 4)", "((2 + 0) + 0)", "((0 + 1) + 0)", "((0 + 2) + 0)", "((2 + 2) + 0)", "((1 + 1) + 0)",
    ]
    assert set(facts_asked(DOMAIN.parse("x = 0; if (x and 1) { x = 1; } return -x;"))) == {"(0 and 0)"}


def test_the_expressions_knob_draws_facts_and_names_the_walked_kinds():
    difficulty = DOMAIN.difficulty(**SMALL)
    every = set(schoolbook.facts())
    examples = [DOMAIN.example(0, i, difficulty, "output") for i in range(30)]
    assert examples == [DOMAIN.example(0, i, difficulty, "output") for i in range(30)]
    for example in examples:
        text = example.input.strip()
        assert text.startswith("return ") and text[len("return "):-1] in every
        tree = DOMAIN.parse(example.input)
        assert closed_digits(tree) <= 2  # a column and its carry
        assert DOMAIN.label_subtrees(tree, "output")[-1] == example.answer
    redrawn = DOMAIN.difficulty(**SMALL, redraw=1.0)  # evenly among all the facts
    drawn = {DOMAIN.example(0, i, redrawn, "output").input.strip()[len("return "):-1] for i in range(300)}
    assert len(drawn) > 200 and all(drawn & set(family) for family in schoolbook.families())
    assert DOMAIN.walked_kinds(difficulty) == frozenset(DOMAIN.node_kinds)
    assert DOMAIN.walked_kinds(DOMAIN.difficulty()) == frozenset()
    assert closed_digits(DOMAIN.parse("x = 1; return x;")) is None
    assert closed_digits(DOMAIN.parse("return 5 < 100000;")) == 6  # the grid holds the literal, not just the 0 or 1
    plain = DOMAIN.difficulty(**{**SMALL, "expressions": 0}, redraw=0.5)  # without `expressions`: programs
    assert "\n" in DOMAIN.example(3, 0, plain, "output").input.strip()
    with pytest.raises(HybridTRMError, match="out of range"):
        DOMAIN.example(3, 0, DOMAIN.difficulty(**SMALL, redraw=1.5), "output")


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
        else:  # every node the run evaluated: its last value
            assert all(a == (label or "") for a, label in pairs[:-1])
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



def test_the_shipped_model_answers_every_fact_and_is_asked_each_once():
    """Every fact right: with the test above (an exact model runs every program as
    the labeller does), the shipped model runs every program exactly."""
    import hybrid_trm
    from hybrid_trm import loading
    from hybrid_trm.execution import closed_model

    r = hybrid_trm.load("programs/output")
    loaded = r.loaded
    ask = closed_model(loaded.domain, loaded.own_task, loading.trained_width(loaded.config), loaded.predict)
    facts = schoolbook.facts()
    answers = ask(list(facts))
    assert [f for f, (a, _) in zip(facts, answers) if a != exact_fact(f)] == []
    # asked as the bare expression (ProgramsDomain.question): what the program `return F;` it trains on answers
    from hybrid_trm.inference import inference_tensors

    as_programs = loaded.predict(inference_tensors(
        loaded.domain, loaded.own_task, [loaded.domain.parse(f"return {f};") for f in facts], loading.trained_width(loaded.config),
    ))
    assert [p.answer for p in as_programs] == [a for a, _ in answers]
    program = "x = 0; for i in range(0, 12) { x = x + i * 7; } return x % 100;"
    assert r.solve(program).answer == "62" and loaded.answered  # 462 % 100; its facts kept while loaded
    kept = dict(loaded.answered)
    assert r.solve(program).answer == "62" and loaded.answered == kept  # the second run asks the model nothing
