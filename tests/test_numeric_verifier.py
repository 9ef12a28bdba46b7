"""The numeric verifier (verifiers/numeric.py) computes with Python's integers:
its values must be sympy's, whose exact arithmetic it replaced (issue 20), on
generated inputs and on the edge cases (even medians, negative and huge values)."""

from __future__ import annotations

import random

import pytest

from hybrid_trm.domains import registry
from hybrid_trm.grammar import children, kind, postorder
from hybrid_trm.verifiers.numeric import arith_combine, evaluate, listops_combine

sympy = pytest.importorskip("sympy")


def sympy_arith(node_kind, node, args):
    if node_kind == "NUMBER":
        return sympy.Integer(int(node))
    return {"add": lambda: sympy.Add(*args), "sub": lambda: args[0] - args[1], "mul": lambda: sympy.Mul(*args),
            "neg": lambda: -args[0]}[node_kind]()


def sympy_listops(node_kind, node, args):
    if node_kind == "DIGIT":
        return sympy.Integer(int(node))
    if node_kind == "med":
        ordered = sorted(args)
        mid = len(ordered) // 2
        return sympy.floor(ordered[mid] if len(ordered) % 2 else sympy.Rational(ordered[mid - 1] + ordered[mid], 2))
    return {"max": lambda: sympy.Max(*args), "min": lambda: sympy.Min(*args),
            "sm": lambda: sympy.Mod(sympy.Add(*args), 10)}[node_kind]()


def every_value(tree, combine):
    """Every subtree's value, children first (the check covers inner nodes, not just the root)."""
    values = {}
    for node in postorder(tree):
        values[id(node)] = combine(kind(node), node, [values[id(c)] for c in children(node)])
    return [values[id(n)] for n in postorder(tree)]


CASES = {
    "arith": (arith_combine, sympy_arith, [
        "0", "-7", "12 - -7 - (40 + 13)", "3 - -2 * (4 + 1)", "-(-(-5))", "99999999999999999999 * 99999999999999999999 - 1",
        "(0 - 123456789) * (987654321 - 0) * -1", "1 - 2 - 3 - 4 * 5 * -6",
    ]),
    "listops": (listops_combine, sympy_listops, [
        "7", "[MED 1 2 ]", "[MED 1 4 ]", "[MED 0 9 8 1 ]", "[MED 3 ]", "[SM 9 9 9 ]", "[MAX 2 9 [MIN 4 7 ] 0 ]",
        "[MED [SM 5 6 ] [MAX 1 ] 4 7 [MIN 9 9 ] 2 ]",
    ]),
}


@pytest.mark.parametrize("domain", sorted(CASES))
def test_values_are_sympys(domain):
    ours, theirs, texts = CASES[domain]
    dom = registry.get(domain)
    rng_texts = [dom.example(11, i, dom.difficulty(), None).input for i in range(300)]
    for text in texts + rng_texts:
        tree = dom.parse(text)
        mine, reference = every_value(tree, ours), every_value(tree, theirs)
        assert all(type(v) is int for v in mine), text
        assert mine == [int(v) for v in reference], text
        assert evaluate(tree, ours, 10.0) == int(evaluate(tree, theirs, 10.0))


@pytest.mark.parametrize("domain,text,right,wrong", [
    ("arith", "12 - -7 - (40 + 13)", "-34", "-33"),
    ("listops", "[MED 0 9 8 1 ]", "4", "5"),
])
def test_verdicts(domain, text, right, wrong):
    dom = registry.get(domain)
    task = next(iter(dom.tasks)) if domain == "listops" else "exact"
    assert dom.verify(text, right, task).correct is True
    assert dom.verify(text, wrong, task).correct is False


def test_random_medians_floor_like_numpy():
    """An even count's median is the mean of the two middle values, rounded down (int(numpy.median))."""
    np = pytest.importorskip("numpy")
    rng = random.Random(3)
    for _ in range(500):
        args = [rng.randrange(10) for _ in range(rng.randrange(1, 9))]
        assert listops_combine("med", None, args) == int(np.median(args))
