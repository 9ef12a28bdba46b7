"""The programs domain (docs/programs.md): the contract on generated programs,
labels checked by hand, the refusals of ill-formed programs, the answers'
encodings, and the labeller agreeing with the independent verifier
(verifiers/programs/) on generated programs of every task."""

from __future__ import annotations

import os
import subprocess
import sys

import lark
import pytest

from hybrid_trm.domains import contract
from hybrid_trm.domains.programs import ProgramsDomain
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.grammar import kind, postorder

DOMAIN = ProgramsDomain()
TASKS = list(DOMAIN.tasks)
BIGGER = {"statements": 24, "depth": 5, "loop_bound": 9, "functions": 4, "call_depth": 3}
DOC_EXAMPLE = """
def fact(n) { if (n <= 1) { return 1; } return n * fact(n - 1); }
x = 0; i = 0;
while (i < 5) { x = x + i; i = i + 1; }
for j in range(0, 3) { if (j == 1) { continue; } x = x + j; }
return x + fact(3);     # 10 + 2 + 6 = 18
"""


def labelled(text: str, task: str) -> list[tuple[str, str, str]]:
    """(kind, token text or '', label) of every labelled node, in postorder."""
    tree = DOMAIN.parse(text)
    return [
        (kind(n), str(n) if isinstance(n, lark.Token) else "", label)
        for n, label in zip(postorder(tree), DOMAIN.label_subtrees(tree, task)) if label is not None
    ]


def of_kind(text: str, task: str, node_kind: str) -> list[str]:
    return [label for k, _, label in labelled(text, task) if k == node_kind]


@pytest.mark.parametrize("knobs", [{}, BIGGER], ids=["default", "bigger"])
@pytest.mark.parametrize("task", TASKS)
def test_generated_programs_keep_the_contract(task, knobs):
    failed = [f"{c.name}: {c.failure}" for c in contract.check(DOMAIN, task, knobs, n=40 if knobs else 60) if not c.passed]
    assert not failed, failed


def test_meta_depth_is_the_tree_height_and_statements_are_counted():
    from hybrid_trm.trees import tensorize

    for i in range(20):
        ex = DOMAIN.example(5, i, DOMAIN.difficulty(), "output")
        tree = DOMAIN.parse(ex.input)
        assert ex.meta["depth"] == int(tensorize(DOMAIN, tree, DOMAIN.tasks["output"]).height.max())
        statements = [n for n in postorder(tree) if kind(n) in ("assign", "if", "if_else", "while", "for", "break", "continue", "return")]
        assert ex.meta["statements"] == len(statements)
        assert ex.meta["nesting"] <= DOMAIN.difficulty().depth + 1  # a dead `if` may sit one level deeper


def test_generation_does_not_depend_on_the_hash_seed():
    script = (
        "from hybrid_trm.domains.programs import ProgramsDomain as P; d = P(); "
        "print([d.example(3, i, d.difficulty(), t).input for t in d.tasks for i in range(3)])"
    )
    outs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1


def test_generated_text_is_one_statement_a_line_and_indented():
    ex = DOMAIN.example(1, 0, DOMAIN.difficulty(functions_min=1, statements_min=8), "output")
    lines = ex.input.splitlines()
    assert any(line.startswith("    ") for line in lines)
    assert all(line.count(";") <= 1 for line in lines)


def test_a_loop_runs_at_most_loop_bound_trips():
    d = DOMAIN.difficulty(functions=0, depth=1, loop_bound=3)
    for i in range(60):
        ex = DOMAIN.example(2, i, d, "trips")
        tree = DOMAIN.parse(ex.input)
        for node, label in zip(postorder(tree), DOMAIN.label_subtrees(tree, "trips")):
            if kind(node) in ("while", "for"):
                assert int(label) <= 3, ex.input


def test_task_shares_balance_the_labels_at_default_knobs():
    for task, node_kinds, yes in (("dead", {"assign", "if", "if_else", "while", "for", "break", "continue", "return"}, "1"),
                                  ("unset", {"NAME"}, "unset"), ("recursive", {"funcdef", "call"}, "yes")):
        labels = []
        for i in range(80):
            tree = DOMAIN.parse(DOMAIN.example(9, i, DOMAIN.difficulty(), task).input)
            labels += [l for n, l in zip(postorder(tree), DOMAIN.label_subtrees(tree, task)) if l is not None and kind(n) in node_kinds]
        share = labels.count(yes) / len(labels)
        assert 0.3 < share < 0.7, (task, share)


# -- labels checked by hand ------------------------------------------------------


def test_output_labels_the_last_value_of_each_expression():
    assert DOMAIN.label_subtrees(DOMAIN.parse(DOC_EXAMPLE), "output")[-1] == "18"
    assert of_kind(DOC_EXAMPLE, "output", "call") == ["2", "6"]  # fact(n - 1) last returned 2; fact(3) 6
    assert of_kind(DOC_EXAMPLE, "output", "le") == ["1"]  # n <= 1 last held (n = 1)
    # The run stops at the division: it and what follows keep no value.
    assert labelled("x = 4; y = x - 4; z = x / y; return z;", "output") == [
        ("INT", "4", "4"), ("assign", "", "4"), ("NAME", "x", "4"), ("INT", "4", "4"), ("sub", "", "0"),
        ("assign", "", "0"), ("NAME", "x", "4"), ("NAME", "y", "0"), ("program", "", "error"),
    ]
    assert labelled("while (0) { y = 5; } return -7 / 2 + 7 % -3;", "output")[-1] == ("program", "", "-6")
    assert of_kind("while (0) { y = 5; } return 1;", "output", "assign") == []  # never evaluated


@pytest.mark.parametrize("text,answer", [
    ("return 999999999999;", "999999999999"),
    ("return 1000000 * 1000000;", "error"),  # a value reaching 10^12
    ("x = 1;", "error"),  # no return
    ("def f() { x = 1; } return f();", "error"),  # a function without return
    ("def f(n) { if (n <= 0) { return 0; } return f(n - 1); } return f(99);", "0"),  # 100 calls deep
    ("def f(n) { if (n <= 0) { return 0; } return f(n - 1); } return f(100);", "error"),  # 101
    ("i = 0; while (i < 9997) { i = i + 1; } return i;", "9997"),  # 10,000 statements
    ("i = 0; while (i < 9998) { i = i + 1; } return i;", "timeout"),
    ("x = 1; while (x) { } return x;", "timeout"),  # loops forever, running no statement
    ("for i in range(0, 100000000) { } return i;", "99999999"),
    ("return 1 or 1 / 0;", "1"),  # `or` does not evaluate its right side
    ("x = 0; return x and y;", "0"),
])
def test_output_edge_cases(text, answer):
    assert DOMAIN.label_subtrees(DOMAIN.parse(text), "output")[-1] == answer


def test_trips_counts_statements_and_loop_bodies():
    labels = labelled(DOC_EXAMPLE, "trips")
    assert labels[-1] == ("program", "", "27")
    assert of_kind(DOC_EXAMPLE, "trips", "while") == ["5"] and of_kind(DOC_EXAMPLE, "trips", "for") == ["3"]
    assert of_kind(DOC_EXAMPLE, "trips", "continue") == ["1"]
    assert of_kind(DOC_EXAMPLE, "trips", "if") == ["3", "3"]  # fact's, run by 3 calls; the for's, 3 trips
    assert of_kind(DOC_EXAMPLE, "trips", "return") == ["1", "2", "1"]  # return 1; return n * ...; the top's
    # A timed-out run counts 10,000; its loop the trips it began.
    assert of_kind("s = 0; while (1) { s = s + 1; } return s;", "trips", "while") == ["9999"]
    assert labelled("s = 0; while (1) { s = s + 1; } return s;", "trips")[-1][2] == "10000"
    assert labelled("x = 1; y = 0; z = x / y; w = 2; return z;", "trips")[-1][2] == "3"  # the failing one counts
    tree = DOMAIN.parse(DOC_EXAMPLE)
    hard = DOMAIN.node_difficulty(tree, "trips", 6)
    assert [h for h in hard if h is not None] == [5, 3]


def test_dead_marks_statements_and_counts_them_in_blocks():
    text = """
    x = 1;
    if (0) { x = 2; y = 3; }
    while (x < 3) { x = x + 1; break; x = 9; }
    if (2 > 1) { x = 4; } else { x = 5; }
    return x;
    x = 6;
    def f(a) { if (a) { return 1; } else { return 2; } a = 3; }
    def g() { while (1) { } return 0; }
    """
    assert of_kind(text, "dead", "assign") == ["0", "1", "1", "0", "1", "0", "1", "1", "1"]
    assert of_kind(text, "dead", "block") == ["2", "1", "0", "1", "0", "0", "1", "0", "1"]
    assert of_kind(text, "dead", "funcdef") == ["1", "1"]
    assert labelled(text, "dead")[-1] == ("program", "", "7")
    # Not constant where a name appears, however it folds: both branches live.
    assert labelled("x = 1; if (x - x) { x = 2; } return x;", "dead")[-1][2] == "0"
    # A constant division by zero is not constant.
    assert labelled("if (1 / 0) { x = 2; } return 1;", "dead")[-1][2] == "0"
    assert labelled("while (1) { x = 1; } return 2;", "dead")[-1][2] == "1"


def test_unset_marks_each_read():
    text = """
    x = 1;
    if (x > 0) { y = 2; }
    for i in range(0, x) { z = y; }
    while (0) { w = q; }
    return x + i + z;
    def f(a) { b = a + c; return b; }
    """
    # x, x, y, q (dead: ok), x, i (a for may run no trip), z, then f's a, c, b
    assert of_kind(text, "unset", "NAME") == ["ok", "ok", "unset", "ok", "ok", "unset", "unset", "ok", "unset", "ok"]
    tree = DOMAIN.parse(text)
    labels = DOMAIN.label_subtrees(tree, "unset")
    assert labels[-1] is None
    assert DOMAIN.answer_from_labels(tree, "unset", labels) == "c,i,y,z"
    assert DOMAIN.verify(text, "c,i,y,z", "unset").correct is True
    assert DOMAIN.verify(text, "z, y, i, c", "unset").correct is True  # a set: any order
    # Constant conditions are folded; a loop whose condition never fails leaves by its break.
    assert labelled("if (1) { x = 1; } while (1) { y = 2; break; } return x + y;", "unset")[-2:] == [
        ("NAME", "x", "ok"), ("NAME", "y", "ok"),
    ]
    assert labelled("x = x + 1; return x;", "unset")[0] == ("NAME", "x", "unset")


def test_recursive_labels_defs_and_calls():
    text = """
    def e(n) { if (n <= 0) { return 1; } return o(n - 1); }
    def o(n) { if (n <= 0) { return 0; } return e(n - 1); }
    def g() { return e(2); }
    def h(n) { if (0) { return h(n); } return n; }
    return g() + h(1);
    """
    assert of_kind(text, "recursive", "funcdef") == ["yes", "yes", "no", "yes"]
    assert of_kind(text, "recursive", "call") == ["yes", "yes", "yes", "yes", "no", "yes"]
    tree = DOMAIN.parse(text)
    labels = DOMAIN.label_subtrees(tree, "recursive")
    assert labels[-1] is None and DOMAIN.answer_from_labels(tree, "recursive", labels) == "e,h,o"


# -- refusals, encodings, verdicts -----------------------------------------------


@pytest.mark.parametrize("text,message", [
    ("def f() { return 1; } def f() { return 2; } return f();", "function f is defined twice"),
    ("return g(1);", "call to g, which is not defined"),
    ("def f(a) { return a; } return f(1, 2);", "f takes 1 argument, called with 2"),
    ("def f(a, a) { return a; } return f(1, 2);", "two parameters named a"),
    ("break; return 1;", "`break` outside a loop (in the top level)"),
    ("def f() { continue; return 1; } while (1) { x = f(); } return 1;", "`continue` outside a loop (in function f)"),
    ("while (1) { def f() { return 1; } } return 1;", "cannot parse"),
])
def test_ill_formed_programs_are_refused_in_one_line(text, message):
    with pytest.raises(HybridTRMError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        DOMAIN.parse(text)
    assert "\n" not in str(err.value) or "cannot parse" in message


def test_output_encodes_integers_and_both_words():
    task = DOMAIN.tasks["output"]
    assert task.positions == 13 and task.classes == 12
    for answer in ("0", "-5", "999999999999", "-999999999999", "error", "timeout"):
        assert task.decode(task.encode(answer)) == answer
    for answer in ("0", "-5", "99999", "error", "timeout"):  # a narrower grid, as in training
        assert task.decode(task.encode(answer, 6)) == answer
    assert task.encode("timeout", 4) == [11] * 4
    assert task.decode([10, 10, 3, 11, 10, 10]) == "error" and task.decode([11, 11, 10, 10, 11]) == "timeout"
    assert task.decode([10, 10, 11, 11]) == "error"  # a tie
    assert task.decode([3, 10, 0, 0]) == "3"  # a stray word cell in a number reads as 0
    assert contract.wrong_answer(DOMAIN, "output", "error") == "timeout"
    assert contract.wrong_answer(DOMAIN, "output", "41") == "42"


def test_name_sets_have_wrong_answers_and_a_canonical_form():
    task = DOMAIN.tasks["unset"]
    assert task.encode("ok") == [0] and task.encode("unset") == [1]
    assert contract.wrong_answer(DOMAIN, "unset", "none") == "x"
    assert contract.wrong_answer(DOMAIN, "recursive", "f,g") == "f"
    assert contract.wrong_answer(DOMAIN, "recursive", "f") == "none"
    assert task.canonical(" y , x,x ") == "x,y" and task.canonical("None") == "none"
    with pytest.raises(HybridTRMError, match="not names"):
        task.canonical("x;y")


@pytest.mark.parametrize("task,answer", [("output", "18.0"), ("trips", "many"), ("dead", ""), ("unset", "1x"), ("recursive", "f g")])
def test_an_answer_of_the_wrong_form_is_wrong_not_an_exception(task, answer):
    verdict = DOMAIN.verify(DOC_EXAMPLE, answer, task)
    assert verdict.correct is False and verdict.expected is not None


def test_verify_known_answers():
    for task, right, wrong in (("output", "18", "17"), ("trips", "27", "26"), ("dead", "0", "1"),
                               ("unset", "none", "x"), ("recursive", "fact", "none")):
        assert DOMAIN.verify(DOC_EXAMPLE, right, task).correct is True
        assert DOMAIN.verify(DOC_EXAMPLE, wrong, task).correct is False


def test_deep_nesting_needs_no_python_recursion():
    depth = 3000
    text = "x = 1;\n" + "if (x) {\n" * depth + "x = x + 1;\n" + "}\n" * depth + "return x + " + " + ".join(["1"] * 3000) + ";"
    tree = DOMAIN.parse(text)
    answers = {task: DOMAIN.label_subtrees(tree, task)[-1] for task in ("output", "trips", "dead")}
    assert answers == {"output": "3002", "trips": "3003", "dead": "0"}
    assert DOMAIN.label_subtrees(tree, "unset").count("unset") == 0


# -- the labeller and the verifier agree -----------------------------------------

AGREEMENT_KNOBS = [
    {},
    {"loop_bound": 9, "depth": 4, "statements": 20},
    {"dead": 0.6, "unset": 0.5, "recursion": 0.6, "functions": 3},
    {"loop_bound": 30, "functions": 3, "call_depth": 3, "errors": 0.2},
]


@pytest.mark.parametrize("task", TASKS)
def test_labeller_and_verifier_agree_on_generated_programs(task):
    pytest.importorskip("hybrid_trm.verifiers.programs")
    from hybrid_trm.verifiers.programs import expected

    spec = DOMAIN.tasks[task]
    disagree = []
    for k, knobs in enumerate(AGREEMENT_KNOBS):
        difficulty = DOMAIN.difficulty(**knobs)
        for i in range(60):
            ex = DOMAIN.example(100 + k, i, difficulty, task)
            tree = DOMAIN.parse(ex.input)
            want, evidence = expected(tree, task, 20.0)
            labels = DOMAIN.label_subtrees(tree, task)
            mine = DOMAIN.answer_from_labels(tree, task, labels)
            assert mine == ex.answer
            if spec.canonical(want) != spec.canonical(mine):
                disagree.append(f"labeller {mine!r}, verifier {want!r} ({evidence}) on\n{ex.input}")
    assert not disagree, f"{len(disagree)} of {60 * len(AGREEMENT_KNOBS)} disagree; the first: {disagree[0]}"
