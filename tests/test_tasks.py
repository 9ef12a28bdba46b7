"""Answer vocabularies: a one-class task, and the exact task's ten's-complement
digit grid (least significant digit first, one extra cell for the sign)."""

from __future__ import annotations

import pytest

from hybrid_trm.domains import registry
from hybrid_trm.domains.base import IntegerTask, Task, parse_integer
from hybrid_trm.errors import HybridTRMError

EXACT = registry.get("arith").task("exact")


def test_exact_task_shape():
    assert isinstance(EXACT, IntegerTask)
    assert EXACT.positions == 13 and EXACT.classes == 10


@pytest.mark.parametrize(
    "value",
    [0, 1, -1, 7, -7, 10, -10, 42, -42, 999, -1000, 123456789012, -123456789012,
     10**12 - 1, -(10**12 - 1), 10**11, -(10**11), 5 * 10**11, -5 * 10**11],
)
def test_integer_round_trip(value):
    grid = EXACT.encode(str(value))
    assert len(grid) == 13 and all(0 <= d <= 9 for d in grid)
    assert EXACT.decode(grid) == str(value)


def test_ten_complement_digits():
    assert EXACT.encode("0") == [0] * 13
    assert EXACT.encode("-1") == [9] * 13
    assert EXACT.encode("-2") == [8] + [9] * 12
    assert EXACT.encode("123") == [3, 2, 1] + [0] * 10
    assert EXACT.encode("-123") == [7, 7, 8] + [9] * 10
    assert EXACT.encode(str(10**12 - 1)) == [9] * 12 + [0]  # the sign cell stays clear
    assert EXACT.encode(str(-(10**12 - 1))) == [1] + [0] * 11 + [9]


@pytest.mark.parametrize("text,value", [(" 42 ", 42), ("+42", 42), ("007", 7), ("-0", 0), ("-007", -7)])
def test_integer_spellings(text, value):
    assert EXACT.decode(EXACT.encode(text)) == str(value)


@pytest.mark.parametrize("value", [10**12, -(10**12), 1234567890123, -9999999999999, 10**20])
def test_encode_rejects_13_digit_values(value):
    with pytest.raises(HybridTRMError, match="more than 12 digits"):
        EXACT.encode(str(value))


@pytest.mark.parametrize("text", ["", "-", "1.5", "1e3", "0x10", "twelve", "1 2", "٣", "__import__('os')"])
def test_encode_rejects_non_integers(text):
    with pytest.raises(HybridTRMError):
        EXACT.encode(text)
    with pytest.raises(HybridTRMError):
        parse_integer(text, "answer")


def test_class_task_round_trip_and_rejection():
    mod10 = registry.get("arith").task("mod10")
    assert type(mod10) is Task and mod10.positions == 1 and mod10.classes == 10
    for d in range(10):
        assert mod10.encode(str(d)) == [d] and mod10.decode([d]) == str(d)
    assert mod10.encode(" 4 ") == [4]
    for bad in ("10", "-1", "x", ""):
        with pytest.raises(HybridTRMError, match="not one of"):
            mod10.encode(bad)


def test_inference_grid_fits_the_values_and_the_training_width():
    from hybrid_trm.domains import registry
    from hybrid_trm.inference import inference_tensors

    arith = registry.get("arith")
    exact = arith.task("exact")

    def width(text, trained):
        return inference_tensors(arith, exact, [arith.parse(text)], trained)[0].literal.shape[1]

    assert arith.answer_digits(arith.parse("999 + 999"), "exact") >= 4  # 1998
    assert width("3 - 5", 6) == 6  # never narrower than trained
    assert width("123456789 - 1", 6) == 10  # nine digits and a sign
    assert width("99999999999 * 99999999999", 6) == 13  # capped at the task's grid
    assert width("3 - 5", None) in (2, 3)  # the digit bound may be one too generous
    # The answer decodes the same at any width that holds it.
    for w in (2, 6, 13):
        assert exact.decode(exact.encode("-2", w)) == "-2"
    mod10 = arith.task("mod10")
    assert inference_tensors(arith, mod10, [arith.parse("123 * 4")], None)[0].literal.shape[1] == 1
    # Trees batched together keep their own grids.
    both = inference_tensors(arith, exact, [arith.parse("1 + 1"), arith.parse("123456789 + 1")], 6)
    assert [t.literal.shape[1] for t in both] == [6, 10]


def test_an_answer_does_not_depend_on_the_trees_batched_with_it():
    """A narrow sum batched with a wide one gets the answer it gets alone, node by
    node (the shipped model: trained on a grid of 6, run on wider ones)."""
    from hybrid_trm import pretrained
    from hybrid_trm.inference import inference_tensors, predict_trees
    from hybrid_trm.loading import load, trained_width

    loaded = load(pretrained.require("arith", "exact"))
    domain, task, trained = loaded.domain, loaded.task, trained_width(loaded.config)
    texts = ["12 + 34 - 5", "987654321 + 123456789 - 1", "7 - 9 + 3"]

    def predictions(chosen):
        trees = inference_tensors(domain, task, [domain.parse(t) for t in chosen], trained)
        return [(p.answer, p.node_answers, p.cells) for p in predict_trees(loaded.model, task, trees, node_answers=True)]

    together = predictions(texts)
    assert together == [predictions([t])[0] for t in texts]
    assert len({len(cells) for _, _, cells in together}) == 2  # two widths ran in one call
