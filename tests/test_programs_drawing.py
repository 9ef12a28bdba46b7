"""How the executor's model's closed expressions are drawn from runs of small
programs (closed.draw; the generator's `redraw`, `zero_divisors` and `rare`
knobs): the shape as the run asked it, other values, zero divisors."""

import random
import re

import pytest

from hybrid_trm.domains import registry
from hybrid_trm.domains.programs.closed import WIDEST, closed_digits, closed_expressions, draw
from hybrid_trm.domains.programs.labels import answer
from hybrid_trm.errors import HybridTRMError

DOMAIN = registry.get("programs")
SMALL = {"expressions": 1, "statements": 15, "depth": 3, "loop_bound": 9, "call_depth": 2}


def shape(text: str) -> str:
    return re.sub(r"\d+", "N", text)


def test_a_division_by_zero_is_the_last_closed_expression_in_a_function_too():
    divides = DOMAIN.parse("x = 0; y = 3 + 4; return y + 5 / x;")
    assert closed_expressions(divides, stopping=True) == ["(3 + 4)", "(7 + (5 / 0))"]
    assert closed_expressions(divides) == ["(3 + 4)"]  # the stream the shipped model learnt from
    called = DOMAIN.parse("def f(n) { return 7 % n; } x = 0; return 1 + f(x);")
    assert closed_expressions(called, stopping=True) == ["(7 % 0)"]  # the question the executor asks in the call
    assert closed_expressions(DOMAIN.parse("return 1 + 7 % 0;")) == ["(1 + (7 % 0))"]  # a closed program: its question
    unset = DOMAIN.parse("x = 1; return x + y;")  # not asked of a model: the executor stops the run itself
    assert closed_expressions(unset, stopping=True) == []


def test_redrawn_expressions_keep_their_shape_and_fit_the_grid():
    rng = random.Random(1)
    trees = [DOMAIN.parse(DOMAIN.example(7, i, DOMAIN.difficulty(statements=15, depth=3), "output").input) for i in range(40)]
    changed = 0
    for tree in trees:
        run = set(map(shape, closed_expressions(tree)))
        text = draw(rng, tree, redraw=1.0)
        if text is None:
            continue
        assert shape(text) in run  # the operators and their nesting as the run asked them
        closed = DOMAIN.parse(f"return {text};")
        assert closed_digits(closed) <= WIDEST and answer(closed, "output") != "timeout"
        changed += text not in closed_expressions(tree)
    assert changed > 20


def test_zero_divisors_and_rare_operators():
    rng = random.Random(2)
    trees = [DOMAIN.parse(DOMAIN.example(8, i, DOMAIN.difficulty(statements=15, depth=3), "output").input) for i in range(60)]
    errors = 0
    for tree in trees:
        text = draw(rng, tree, zero_divisors=1.0)
        if text is not None and ("/" in text or "%" in text):
            errors += answer(DOMAIN.parse(f"return {text};"), "output") == "error" or " 0)" in text
    assert errors > 30
    drawn = [draw(rng, tree, rare=1.0) for tree in trees]
    assert sum("/" in t or "*" in t for t in drawn if t) > sum(
        "/" in t or "*" in t for t in (draw(rng, tree) for tree in trees) if t
    )


def test_the_knobs_draw_closed_programs_deterministically_and_change_nothing_unset():
    difficulty = DOMAIN.difficulty(**SMALL, redraw=0.5, zero_divisors=0.1, rare=0.2)
    examples = [DOMAIN.example(3, i, difficulty, "output") for i in range(60)]
    assert examples == [DOMAIN.example(3, i, difficulty, "output") for i in range(60)]
    assert any(e.answer == "error" for e in examples)
    for example in examples:
        tree = DOMAIN.parse(example.input)
        assert closed_digits(tree) is not None and DOMAIN.label_subtrees(tree, "output")[-1] == example.answer
    plain = DOMAIN.difficulty(**{**SMALL, "expressions": 0}, redraw=0.5)  # without `expressions`: programs
    assert "\n" in DOMAIN.example(3, 0, plain, "output").input.strip()
    with pytest.raises(HybridTRMError, match="out of range"):
        DOMAIN.example(3, 0, DOMAIN.difficulty(**SMALL, zero_divisors=0.6, rare=0.6), "output")
