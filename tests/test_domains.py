"""Every registered domain and task keeps the domain contract (domains/contract.py:
generated text parses, every subtree is labelled, the verifier accepts the label
and rejects a wrong answer, generation is a pure function of (seed, index)), and
the built-ins' labels match an independent reference."""

from __future__ import annotations

import pytest

import naive
from hybrid_trm.domains import contract, registry
from hybrid_trm.domains.base import Verdict
from hybrid_trm.evaluate import same_answer
from hybrid_trm.errors import HybridTRMError, UnknownDomainError
from hybrid_trm.trees import tensorize

N = 200

# Difficulty settings per (domain, task); a domain not listed here (a plugin) runs
# with its defaults only.
VARIANTS = {
    ("arith", "exact"): [
        {}, {"operands": 8, "digits": 3, "ops": "+-"}, {"depth": 10, "digits": 2},
        {"operands": 2, "digits": 11, "ops": "+-", "runs": 0.5},
    ],
    ("arith", "mod10"): [{}, {"depth": 12, "digits": 3}, {"operands": 10, "digits": 3, "neg": 0.5}],
    ("listops", "value"): [{}, {"binarised": True}, {"depth": 3, "arity": 9, "arity_min": 6}],
    **{("programs", task): [{}, {"statements": 30, "depth": 5, "loop_bound": 12, "call_depth": 4}]
       for task in ("output", "trips", "dead", "unset", "recursive")},
}


def cases():
    for name in registry.names():
        domain = registry.get(name)
        for task in domain.tasks:
            for knobs in VARIANTS.get((name, task), [{}]):
                label = ",".join(f"{k}={v}" for k, v in knobs.items()) or "default"
                yield pytest.param(name, task, knobs, id=f"{name}-{task}-{label}")


def test_builtin_domains_are_registered():
    assert {"arith", "listops", "logic", "programs"} <= set(registry.names())
    assert set(registry.get("arith").tasks) == {"exact", "mod10"}
    assert set(registry.get("listops").tasks) == {"value"}
    assert set(registry.get("logic").tasks) == {"verdict", "entails", "relation"}


@pytest.mark.parametrize("name,task,knobs", list(cases()))
def test_generated_examples_parse_label_and_verify(name, task, knobs):
    domain = registry.get(name)
    failed = [f"{c.name}: {c.failure}" for c in contract.check(domain, task, knobs, n=N) if not c.passed]
    assert not failed, failed
    # Beyond the contract: the verifier's expected answer is the label, eval's depth
    # is the tree's height, and the labels match an independent reference.
    difficulty = domain.difficulty(**knobs)
    spec = domain.tasks[task]
    for i in range(N):
        ex = domain.example(11, i, difficulty, task)
        tree = domain.parse(ex.input)
        expected = domain.verify(ex.input, ex.answer, task).expected
        assert same_answer(spec, expected, ex.answer), (expected, ex.answer)
        wrong = contract.wrong_answer(domain, task, ex.answer)
        assert domain.verify(ex.input, wrong, task).expected == expected
        if "depth" in ex.meta:  # what eval groups by: the tree's height
            assert ex.meta["depth"] == int(tensorize(domain, tree, spec).height.max()), ex.input
        if name in ("arith", "listops"):
            assert domain.label_subtrees(tree, task) == naive.expected_labels(name, task, tree), ex.input
            assert int(ex.answer) == naive.text_value(name, task, ex.input), ex.input


def test_the_contract_finds_a_broken_domain():
    class Broken(type(registry.get("listops"))):
        name = "broken"
        node_kinds = ("DIGIT", "max", "min", "med")  # sm is missing

        def verify(self, text, answer, task, budget_s=2.0):
            return Verdict(True, answer, "takes any answer")

    failed = {c.name: c.failure for c in contract.check(Broken(), "value", n=50) if not c.passed}
    assert set(failed) == {"every node kind is declared in node_kinds", "the verifier rejects a wrong answer"}, failed
    assert "kinds sm are not in node_kinds (input '[" in failed["every node kind is declared in node_kinds"]


def test_arith_knobs_are_respected():
    import re

    arith = registry.get("arith")
    d = arith.difficulty(operands=8, digits=3, ops="+-")
    for i in range(N):
        ex = arith.example(2, i, d, "exact")
        assert "*" not in ex.input
        assert 2 <= ex.meta["operands"] <= 8
        assert len(re.findall(r"\d+", ex.input)) == ex.meta["operands"]
        assert all(len(n) <= 3 for n in re.findall(r"\d+", ex.input))
    d = arith.difficulty(depth=7, depth_min=7)
    assert {arith.example(2, i, d, "mod10").meta["depth"] for i in range(50)} == {7}


def test_arith_runs_write_literals_whose_carries_cross_the_run():
    import re

    arith = registry.get("arith")
    plain = arith.difficulty(operands=2, digits=9, ops="+-")
    assert arith.example(4, 0, plain, "exact") == arith.example(4, 0, arith.difficulty(operands=2, digits=9, ops="+-", runs=0.0), "exact")
    literals = [
        n for i in range(N) for n in re.findall(r"\d+", arith.example(4, i, arith.difficulty(operands=2, digits=9, ops="+-", runs=1.0), "exact").input)
    ]
    assert all(len(n) <= 9 for n in literals)
    # a leading digit, then one digit (0 or 9) repeated, then at most two others
    assert all(re.fullmatch(r"[09]|[1-9](0*|9*)\d{0,2}", n) for n in literals)
    runs = [n for n in literals if len(n) >= 6]
    assert runs and all(re.fullmatch(r"[1-9](0{3,}|9{3,})\d{0,2}", n) for n in runs)
    # the chains uniform digits almost never make: a carry across the run
    longest = max(arith.node_difficulty(arith.parse(f"{n} + 1"), "exact", 13)[-1] for n in runs if "9" * 4 in n)
    assert longest >= 4
    deep = arith.difficulty(depth=4, digits=9, runs=1.0)  # the other shape of tree draws its leaves as runs too
    leaves = [n for i in range(50) for n in re.findall(r"\d+", arith.example(4, i, deep, "exact").input)]
    assert all(re.fullmatch(r"[09]|[1-9](0*|9*)\d{0,2}", n) for n in leaves)


def test_listops_binarised_is_the_same_tree_as_written():
    listops = registry.get("listops")
    written, binarised = listops.difficulty(), listops.difficulty(binarised=True)
    for i in range(50):
        a = listops.example(4, i, written, "value")
        b = listops.example(4, i, binarised, "value")
        assert "(" not in a.input and b.input.startswith("(")
        assert a.answer == b.answer
        assert listops.parse(a.input) == listops.parse(b.input)


def test_listops_lra_shape_draws_inside_its_lengths():
    """LRA's distribution: lists nest at most depth - 1 deep, 2..10 arguments, and a
    length (a digit 1, a list 2 besides its arguments) strictly inside the bounds."""
    listops = registry.get("listops")
    lra = listops.difficulty(shape="lra", depth=10, arity=10, binarised=True)
    for i in range(20):
        ex = listops.example(5, i, lra, "value")
        assert 500 < ex.meta["length"] < 2000 and ex.meta["depth"] <= 9 and ex.meta["arity"] <= 10
        assert ex.meta["length"] == len([t for t in ex.input.split() if t not in "()"])
        assert listops.verify(ex.input, ex.answer, "value").correct
    with pytest.raises(HybridTRMError, match="chain or lra"):
        listops.example(5, 0, listops.difficulty(shape="tall"), "value")


def test_unknown_domain_task_and_knob_are_named_errors():
    with pytest.raises(UnknownDomainError, match="nope"):
        registry.get("nope")
    with pytest.raises(UnknownDomainError, match="exact, mod10"):
        registry.get("arith").task("nope")
    with pytest.raises(HybridTRMError, match="zzz"):
        registry.get("arith").difficulty(zzz=1)
    assert registry.get("arith").task(None).name == "exact"  # the first task is the default


@pytest.mark.parametrize(
    "domain,task,text,answer,wrong",
    [
        ("arith", "exact", "3 - -2", "5", "-1"),
        ("arith", "exact", "2+3*4", "14", "20"),
        ("arith", "mod10", "0 - 3", "7", "-3"),  # mathematical mod: -3 mod 10 = 7
        ("arith", "mod10", "123 * 45", "5", "35"),
        ("listops", "value", "[MED 1 2 3 4 ]", "2", "3"),  # floored mean of the middle pair
        ("listops", "value", "[MED 9 0 ]", "4", "5"),
        ("listops", "value", "[SM 9 9 9 ]", "7", "27"),
        ("listops", "value", "[MAX 2 9 [MIN 4 7 ] 0 ]", "9", "4"),
    ],
)
def test_verify_known_answers(domain, task, text, answer, wrong):
    dom = registry.get(domain)
    assert dom.label_subtrees(dom.parse(text), task)[-1] == answer
    ok = dom.verify(text, answer, task)
    assert ok.correct is True and ok.expected == answer
    assert dom.verify(text, wrong, task).correct is False


@pytest.mark.parametrize("answer", ["five", "", "1.0", "0x5", "5 5"])
def test_verify_rejects_non_integers_without_raising(answer):
    verdict = registry.get("arith").verify("2 + 3", answer, "exact")
    assert verdict.correct is False
    assert verdict.expected == "5"
