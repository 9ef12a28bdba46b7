"""The fuzzer (hybrid_trm/fuzz.py, `bench fuzz`): its inputs reproduce from (seed,
index); a seeded run over every family and domain ends every input in an answer or
a project error, within its budget, with no payload run; the size limits' edges
end in time at full size. The runner's own checks are shown to fire (a fake solve
that crashes, stalls, hangs or runs a payload), so that a clean report means
something."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from hybrid_trm import fuzz, solver
from hybrid_trm.domains import registry

# The extremes' shapes at sizes a test affords (`bench fuzz` draws them full size;
# test_limits_end_in_time_at_full_size covers the limits themselves).
SMALL = fuzz.Sizes(depth=1000, width=2000, digits=6000, chars=12_000)
N = 1600  # 400 inputs of each family
TIMEOUT = 0.25  # small, so that the inputs the budget stops cost little


@pytest.fixture(scope="module")
def report() -> fuzz.FuzzReport:
    return fuzz.run(N, seed=0, timeout=TIMEOUT, sizes=SMALL)


def test_an_input_reproduces_from_its_seed_and_index():
    forward = [fuzz.fuzz_input(7, i) for i in range(40)]
    backward = [fuzz.fuzz_input(7, i) for i in reversed(range(40))][::-1]
    assert forward == backward  # each drawn on its own, whatever was drawn before
    assert [x.text for x in forward] != [fuzz.fuzz_input(8, i).text for i in range(40)]
    assert [x.family for x in forward[:8]] == list(fuzz.FAMILIES) * 2  # in turn
    marked = [i for i in range(3, 800, 4) if "touch CANARY" in fuzz.fuzz_input(7, i).text]  # injections
    assert marked and "touch /tmp/c/CANARY" in fuzz.fuzz_input(7, marked[0], canary="/tmp/c/CANARY").text


def test_the_inputs_cover_every_family_shape_and_domain():
    items = [fuzz.fuzz_input(0, i, SMALL) for i in range(N)]
    shapes = {x.shape for x in items}
    for form in ("deep", "wide", "long", "whitespace", "bytes", "code points"):
        assert any(s.startswith(form) for s in shapes), form
    for name in registry.names():
        assert f"mutated {name}" in shapes and any(s.startswith(f"deep {name}") for s in shapes)
        assert name in {x.domain for x in items}  # given explicitly as well as detected
    for kind in fuzz.PAYLOADS:
        assert {f"{kind} alone", f"{kind} as names", f"{kind} inside valid"} <= shapes
    assert None in {x.domain for x in items}
    defaults = {name: next(iter(registry.get(name).tasks)) for name in registry.names()}
    assert any(x.task not in (None, defaults.get(x.domain)) for x in items)  # a task that is not the default
    assert any(len(x.text) > 10_000 for x in items)


def test_a_seeded_run_ends_every_input_in_an_answer_or_a_clear_error(report):
    failures = "\n".join(f"{c.outcome} {c.family}/{c.shape} fuzz_input(0, {c.index}): {c.error} {c.text}" for c in report.failures)
    assert report.total("other exception") == 0, failures
    assert report.total("over budget") == 0, failures
    assert report.payloads_executed == []
    assert sum(sum(counts.values()) for counts in report.counts.values()) == N
    for family, counts in report.counts.items():
        # Not vacuous: every family reaches the model (answers) and is refused (errors).
        assert counts["answered"] > 0 and counts["project error"] > 0, (family, counts)
    assert "ParseError" in report.project_errors and "BudgetExceeded" in report.project_errors
    out = json.loads(json.dumps(report.to_json()))
    assert out["n"] == N and len(out["slowest"]) == fuzz.SLOWEST


def test_the_same_seed_solves_the_same_inputs(report):  # `report`: the models are loaded already
    runs = [fuzz.run(24, seed=5, timeout=TIMEOUT, sizes=SMALL) for _ in range(2)]
    # Outcomes, where no time budget decides them (the extremes' may fall either side of theirs).
    cheap = [f for f in fuzz.FAMILIES if f != "extreme"]
    assert [runs[0].counts[f] for f in cheap] == [runs[1].counts[f] for f in cheap]
    assert {f: sum(c.values()) for f, c in runs[0].counts.items()} == dict.fromkeys(fuzz.FAMILIES, 6)


# The limits of budget.py, crossed at full size: each is refused with one line, or
# stopped by its budget, never later than the slack allows.
LIMITS = {
    "depth past MAX_DEPTH, arith": ("1+(" * 25_000 + "1" + ")" * 25_000, None),
    "depth past MAX_DEPTH, listops": ("[MAX 1 " * 24_000 + "1" + " ]" * 24_000, "listops"),
    "depth past MAX_DEPTH, logic": ("~" * 30_000 + "p", None),
    "arity past MAX_ARITY": ("[SM " + "1 " * 120_000 + "]", None),
    "nodes past MAX_NODES": ("1+" * 80_000 + "1", "arith"),
    "characters past MAX_INPUT_CHARS": ("1+" * 150_000 + "1", None),
    "a 6,000-digit product": ("9" * 6_000 + "*" + "7" * 6_000, None),
    "a wide formula": (" | ".join(f"a{i}" for i in range(3_000)), "logic"),
    "40-place predicates": (f"P({','.join(f'c{i}' for i in range(40))}) | ~P({','.join(f'c{i}' for i in reversed(range(40)))})", None),
}


@pytest.mark.parametrize("what", LIMITS)
def test_limits_end_in_time_at_full_size(report, what):  # `report`: the models are loaded already
    text, domain = LIMITS[what]
    case = fuzz.solve_case(fuzz.FuzzInput(0, -1, "extreme", what, text, domain, None), timeout=1.0)
    assert case.outcome in ("answered", "project error"), case.error


def fake_solve(text, domain=None, task=None, *, timeout, **_):
    """solve standing in for a broken one, by the input's length: it crashes, runs
    past its budget, ignores it entirely, or runs the payload it was given."""
    payload = re.search(r"/[^\s'\"`)$;]*CANARY", text)
    if payload and "touch" in text:
        Path(payload.group()).touch()
    if len(text) % 5 == 0:
        raise ZeroDivisionError("the fake divided by zero")
    if len(text) % 5 == 1:
        time.sleep(0.25)  # past timeout + slack (0.15), before the alarm (0.35)
    if len(text) % 5 == 2:
        while True:  # only the runner's alarm ends this
            pass


def test_the_runner_records_crashes_overruns_hangs_and_payloads(monkeypatch):
    monkeypatch.setattr(solver, "solve", fake_solve)
    monkeypatch.setattr(fuzz.runner, "_warm_up", lambda: None)  # no model to load
    monkeypatch.setattr(fuzz.runner, "HARD_STOP_S", 0.2)
    got = fuzz.run(30, seed=3, timeout=0.05, slack=0.1)
    assert got.failed and got.payloads_executed and Path(got.payloads_executed[0]).name == "CANARY"
    crash = next(c for c in got.failures if c.outcome == "other exception")
    assert crash.error == "ZeroDivisionError: the fake divided by zero"
    assert len(fuzz.fuzz_input(3, crash.index, canary=got.payloads_executed[0]).text) % 5 == 0  # reproducible from (seed, index)
    stalls = [c for c in got.failures if c.outcome == "over budget"]
    assert any("stopped by the fuzzer" in c.error for c in stalls)
    assert any(c.error.startswith("answered after") for c in stalls)
    assert got.summary().startswith("30 inputs: ") and " 0 payloads" not in got.summary()


def test_bench_fuzz_exit_code_says_whether_anything_failed(cli, report, monkeypatch):
    clean = cli("bench", "fuzz", "--n", "8", "--seed", "0", "--timeout", "2")
    assert clean.exit_code == 0, clean.output
    assert "8 inputs: 0 other exceptions, 0 over budget, 0 payloads executed" in clean.output
    monkeypatch.setattr(solver, "solve", fake_solve)
    monkeypatch.setattr(fuzz.runner, "_warm_up", lambda: None)  # no model to load
    monkeypatch.setattr(fuzz.runner, "HARD_STOP_S", 0.2)
    broken = cli("bench", "fuzz", "--n", "12", "--seed", "3", "--timeout", "0.05", "--json")
    assert broken.exit_code == 1
    out = json.loads(broken.stdout)
    assert out["n"] == 12 and out["failures"] and all({"seed", "index", "family", "error", "text"} <= set(f) for f in out["failures"])
    table = cli("bench", "fuzz", "--n", "12", "--seed", "3", "--timeout", "0.05")
    assert table.exit_code == 1 and "ZeroDivisionError: the fake divided by zero" in table.stdout
    assert re.search(r"other exception \([\d.]+ s\) \w+/[^:]+: fuzz_input\(3, \d+\)", table.stdout)  # the reproducer
    assert re.search(r"12 inputs: [1-9]\d* other exceptions", table.stdout)
