"""Every registered domain and task: generated text parses, labels are right for
every subtree, the verifier accepts the label and rejects a wrong answer, and
generation is a pure function of (seed, index)."""

from __future__ import annotations

import pytest

import naive
from hybrid_trm.domains import registry
from hybrid_trm.domains.base import Domain, Example, IntegerTask
from hybrid_trm.errors import HybridTRMError, UnknownDomainError
from hybrid_trm.grammar import postorder
from hybrid_trm.trees import tensorize

N = 200

# Difficulty settings per (domain, task); a domain not listed here (a plugin) runs
# with its defaults only.
VARIANTS = {
    ("arith", "exact"): [{}, {"operands": 8, "digits": 3, "ops": "+-"}, {"depth": 10, "digits": 2}],
    ("arith", "mod10"): [{}, {"depth": 12, "digits": 3}, {"operands": 10, "digits": 3, "neg": 0.5}],
    ("listops", "value"): [{}, {"binarised": True}, {"depth": 3, "arity": 9, "arity_min": 6}],
}


def cases():
    for name in registry.names():
        domain = registry.get(name)
        for task in domain.tasks:
            for knobs in VARIANTS.get((name, task), [{}]):
                label = ",".join(f"{k}={v}" for k, v in knobs.items()) or "default"
                yield pytest.param(name, task, knobs, id=f"{name}-{task}-{label}")


def wrong_answer(domain: Domain, task: str, answer: str) -> str:
    spec = domain.tasks[task]
    if isinstance(spec, IntegerTask) or answer not in spec.answers:
        return str(int(answer) + 1)
    return spec.answers[(spec.answers.index(answer) + 1) % len(spec.answers)]


def test_builtin_domains_are_registered():
    assert {"arith", "listops", "logic"} <= set(registry.names())
    assert set(registry.get("arith").tasks) == {"exact", "mod10"}
    assert set(registry.get("listops").tasks) == {"value"}
    assert set(registry.get("logic").tasks) == {"verdict", "entails", "relation"}


@pytest.mark.parametrize("name,task,knobs", list(cases()))
def test_generated_examples_parse_label_and_verify(name, task, knobs):
    domain = registry.get(name)
    difficulty = domain.difficulty(**knobs)
    checked_reference = name in ("arith", "listops")
    for i in range(N):
        ex = domain.example(11, i, difficulty, task)
        assert isinstance(ex, Example) and ex.task == task
        tree = domain.parse(ex.input)
        labels = domain.label_subtrees(tree, task)
        assert len(labels) == len(postorder(tree))
        assert labels[-1] == ex.answer, ex.input
        assert ex.answer is not None, f"unlabelled root: {ex.input}"

        verdict = domain.verify(ex.input, ex.answer, task)
        assert verdict.correct is True, (ex.input, ex.answer, verdict)
        assert verdict.expected is not None
        if isinstance(domain.tasks[task], IntegerTask):
            assert int(verdict.expected) == int(ex.answer)
        else:
            assert verdict.expected == ex.answer
        wrong = wrong_answer(domain, task, ex.answer)
        bad = domain.verify(ex.input, wrong, task)
        assert bad.correct is False, (ex.input, wrong, bad)
        assert bad.expected == verdict.expected

        # The labels fit the task: every labelled node encodes.
        spec = domain.tasks[task]
        for label in labels:
            if label is not None:
                spec.encode(label)

        if "depth" in ex.meta:  # what eval groups by: the tree's height
            assert ex.meta["depth"] == int(tensorize(domain, tree, spec).height.max()), ex.input

        if checked_reference:
            assert labels == naive.expected_labels(name, task, tree), ex.input
            assert int(ex.answer) == naive.text_value(name, task, ex.input), ex.input


@pytest.mark.parametrize("name", registry.names())
def test_generation_is_deterministic_per_seed_and_index(name):
    domain = registry.get(name)
    difficulty = domain.difficulty()
    for task in domain.tasks:
        first = [domain.example(5, i, difficulty, task).to_json() for i in range(30)]
        # Any single item on its own, in any order, is the same.
        again = {i: domain.example(5, i, difficulty, task).to_json() for i in reversed(range(30))}
        assert first == [again[i] for i in range(30)]
        other = [domain.example(6, i, difficulty, task).to_json() for i in range(30)]
        assert first != other
        assert len({item["input"] for item in first}) > 20  # a stream, not one item repeated


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


def test_listops_binarised_is_the_same_tree_as_written():
    listops = registry.get("listops")
    written, binarised = listops.difficulty(), listops.difficulty(binarised=True)
    for i in range(50):
        a = listops.example(4, i, written, "value")
        b = listops.example(4, i, binarised, "value")
        assert "(" not in a.input and b.input.startswith("(")
        assert a.answer == b.answer
        assert listops.parse(a.input) == listops.parse(b.input)


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
