"""The Python API (hybrid_trm.api, exported from hybrid_trm): loading by name or
path, one input or a batch with the same answers, scoring examples, and an import
that pulls in no torch until a model is loaded."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hybrid_trm
from hybrid_trm.errors import HybridTRMError, ParseError, UnknownDomainError


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_package_and_generating_need_no_torch():
    out = _python(
        "import sys, hybrid_trm\n"
        "examples = hybrid_trm.generate('logic', 3, task='verdict', seed=1, depth=3)\n"
        "print(len(examples), {'arith', 'listops', 'logic'} <= set(hybrid_trm.domain_names()), 'torch' in sys.modules)\n"
        "hybrid_trm.load('listops')\n"
        "print('torch' in sys.modules)\n"
    )
    assert out.split("\n")[:2] == ["3 True False", "True"]


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "hybrid_trm", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"hybrid-trm {hybrid_trm.__version__}"


def test_load_by_name_domain_or_path(arith_mod10_checkpoint):
    assert (hybrid_trm.load("logic/entails").task.name, hybrid_trm.load("logic").task.name) == ("entails", "verdict")
    by_path = hybrid_trm.load(arith_mod10_checkpoint)
    assert (by_path.domain.name, by_path.task.name) == ("arith", "mod10")
    with pytest.raises(UnknownDomainError, match="no task 'nope'"):
        hybrid_trm.load("logic/nope")
    with pytest.raises(HybridTRMError, match="missing"):
        hybrid_trm.load("no/such/checkpoint")


@pytest.mark.parametrize("name,texts", [
    ("logic/verdict", ["a | ~a", "a & ~a", "forall x. P(x) -> exists y. P(y)", "exists x. (P(x) & ~R(x, a))", "(p -> q) -> p"]),
    ("arith/exact", ["1 + 2", "99999 + 1", "-(40 - 2)", "123456789 - 1"]),
    ("listops/value", ["[MAX 2 9 [MIN 4 7 ] 0 ]", "[SM 1 2 3 ]", "[MED 5 [MAX 1 3 ] 8 ]"]),
    # programs run by the executor, in lockstep
    ("programs/output", ["x = 3; return x * 2;", "i = 0; while (i < 4) { i = i + 1; } return i;", "return 7 / 0;"]),
    ("programs/trips", ["i = 0; while (i < 4) { i = i + 1; } return i;", "for j in range(0, 3) { x = j; } return 1;"]),
])
def test_a_batch_answers_as_one_at_a_time(name, texts):
    reasoner = hybrid_trm.load(name)
    alone = [reasoner.solve(t) for t in texts]
    together = reasoner.solve_many(texts)
    assert [s.answer for s in together] == [s.answer for s in alone]
    assert [s.confidence for s in together] == pytest.approx([s.confidence for s in alone], abs=1e-5)
    assert [s.verified for s in together] == [s.verified for s in alone] and all(s.verified is not None for s in alone)
    assert reasoner.solve_many([]) == []


def test_a_bad_input_in_a_batch_is_named():
    reasoner = hybrid_trm.load("logic/verdict")
    with pytest.raises(ParseError, match="^input 1: logic: cannot parse") as caught:
        reasoner.solve_many(["a | b", "a &", "b"])
    assert (caught.value.line, caught.value.column) == (1, 4)


def test_evaluate_takes_examples_or_dicts():
    reasoner = hybrid_trm.load("arith/exact")
    examples = hybrid_trm.generate("arith", 20, task="exact", seed=4, depth=2)
    report = reasoner.evaluate(examples)
    again = reasoner.evaluate([{"input": e.input, "answer": e.answer} for e in examples])
    assert report.n == again.n == 20 and report.accuracy == again.accuracy > 0.5
    with pytest.raises(HybridTRMError, match="example 0"):
        reasoner.evaluate([{"input": "1 + 1"}])
