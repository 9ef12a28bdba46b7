"""`eval` goes on past the inputs it cannot score: each is reported with where it
is and why, counted as wrong, and the rest are scored as if it were not there;
each input has its own time budget; the recursion options are bounded."""

from __future__ import annotations

import json
import time

import pytest

from hybrid_trm import budget, evaluate
from hybrid_trm.cli import common
from hybrid_trm.domains.base import Example
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.evaluate import evaluate_examples, Report
from hybrid_trm.inference import MAX_WORLDS
from hybrid_trm.loading import load, Recursion
from hybrid_trm.model.reasoner import ModelConfig

from test_cli import assert_user_error

TOO_DEEP = "-" * (budget.MAX_DEPTH + 1) + "1"  # parses in a tenth of a second, one level per sign
TOO_LONG = "1" * (budget.MAX_INPUT_CHARS + 1)


def mixed_lines() -> tuple[bytes, dict[int, str]]:
    """A JSONL file of good and bad lines, and for each bad line what its error says."""
    lines = [
        (b'{"input": "1 + 2", "answer": "3"}', None),
        (b'{"input": "1 +", "answer": ', "not JSON"),
        (b'{"input": "4 * 2", "answer": "8"}', None),
        (b'{"input": "4 * 2"}', "no 'answer' key"),
        (b'{"input": "1 + $", "answer": "3"}', "cannot parse at line 1, column 5"),
        (json.dumps({"input": TOO_DEEP, "answer": "9"}).encode(), f"at most {budget.MAX_DEPTH:,} are accepted"),
        (json.dumps({"input": TOO_LONG, "answer": "1"}).encode(), f"at most {budget.MAX_INPUT_CHARS:,} are accepted"),
        (b'{"input": "7 - 9", "answer": "8"}', None),
        (b'{"input": "(1 + 2", "answer": "3"}', "cannot parse"),
        (b'\xff{"input": "2", "answer": "2"}', "not UTF-8"),
    ]
    return b"\n".join(text for text, _ in lines) + b"\n", {i: why for i, (_, why) in enumerate(lines, 1) if why}


def test_eval_scores_the_good_lines_and_reports_the_bad(cli, tmp_path, arith_mod10_checkpoint, monkeypatch):
    content, bad = mixed_lines()
    (tmp_path / "mixed.jsonl").write_bytes(content)
    args = ("eval", "arith", "mixed.jsonl", "--task", "mod10", "--checkpoint", arith_mod10_checkpoint)
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 10 and sum(row["n"] for row in report["by_depth"].values()) == 3
    assert [e["line"] for e in report["errors"]] == sorted(bad)
    assert report["refused"] == {"count": len(bad), "lines": sorted(bad)}  # the first REFUSED_SHOWN
    for error in report["errors"]:
        assert bad[error["line"]] in error["error"], error
    assert report["accuracy"] <= 3 / 10
    # The table shows the first five and how many there were, one line each.
    table = cli(*args)
    assert table.exit_code == 0, table.output
    assert "7 of 10 inputs could not be scored (counted as wrong):" in table.stdout
    shown = [line for line in table.stdout.splitlines() if line.startswith("  mixed.jsonl:")]
    assert [line.split(":")[1] for line in shown] == [str(n) for n in sorted(bad)[:5]]
    assert "... and 2 more (--json lists every one)" in table.stdout
    # In forked workers, a chunk of one or two inputs each: the same report.
    monkeypatch.setattr(evaluate, "WORKER_CHUNK_MIN", 1)
    workers = cli(*args, "--json", "--jobs", 3)
    assert workers.exit_code == 0, workers.output
    assert json.loads(workers.stdout) == report
    # --strict stops at the first bad line, naming it.
    assert_user_error(cli(*args, "--strict"), "mixed.jsonl:2: not JSON")


def test_a_file_of_inputs_none_of_which_can_be_scored_is_an_error(cli, tmp_path, arith_mod10_checkpoint):
    (tmp_path / "p.jsonl").write_text('{"input": "1 + $", "answer": "3"}\n{"input": "(", "answer": "3"}\n')
    err = assert_user_error(
        cli("eval", "arith", "p.jsonl", "--task", "mod10", "--checkpoint", arith_mod10_checkpoint),
        "p.jsonl: no input could be scored (2 bad; the first, p.jsonl:1: ", "column 5",
    )
    assert "^" in err  # the parse error's caret context


def test_eval_benchmark_errors_are_at_the_examples_index(cli, listops_checkpoint, monkeypatch):
    from hybrid_trm import benchmarks

    real = benchmarks.load

    def with_a_bad_one(name):
        domain, task, examples = real(name)
        return domain, task, examples[:3] + [Example("[MAX 1", "1", task)] + examples[3:]

    monkeypatch.setattr(benchmarks, "load", with_a_bad_one)
    result = cli("eval", "--benchmark", "listops", "--checkpoint", listops_checkpoint, "--limit", 6, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 6 and [e["index"] for e in report["errors"]] == [3]
    assert_user_error(
        cli("eval", "--benchmark", "listops", "--checkpoint", listops_checkpoint, "--limit", 6, "--strict"),
        "listops[3]: listops: cannot parse",
    )


# --- the library --------------------------------------------------------------------


def arith_examples(texts: list[str]) -> list[Example]:
    return [Example(t, "3", "mod10") for t in texts]


def test_an_input_past_its_time_budget_is_reported_and_the_rest_scored(arith_mod10_checkpoint, monkeypatch):
    loaded = load(arith_mod10_checkpoint)
    domain = loaded.domain
    parse = domain.parse

    def slow_on_one(text):  # parsing "2 + 1" takes a second; every other input a millisecond
        if text == "2 + 1":
            time.sleep(1.0)
        return parse(text)

    monkeypatch.setattr(domain, "parse", slow_on_one)
    examples = arith_examples(["1 + 2", "2 + 1", "0 + 3"])
    report = evaluate_examples(loaded.model, domain, loaded.task, examples, timeout=0.5, where=lambda i: f"f.jsonl:{i + 1}")
    assert report.n == 3 and sum(n for _, n in report.by_depth.values()) == 2
    [(index, why)] = report.errors
    assert index == 1 and why.startswith("the input at f.jsonl:2 ran out of its 0.5 s budget while")
    assert "larger --timeout" in why


def test_a_batch_past_its_budget_is_run_again_one_input_at_a_time(arith_mod10_checkpoint, monkeypatch):
    """The batch runs within timeout x its inputs; past that, each input runs alone
    within its own timeout, so only the one that takes too long is lost."""
    loaded = load(arith_mod10_checkpoint)
    slow = "1 + 2 + 3 + 4 + 5"  # the only input with 9 nodes
    real = evaluate.predict_trees
    calls = []

    def slow_with_one(model, task, trees, **kwargs):
        calls.append(len(trees))
        if any(t.nodes == 9 for t in trees):  # spends the whole budget, then checks it, as the model does
            time.sleep(budget.current().remaining() + 0.01)
            budget.check()
        return real(model, task, trees, **kwargs)

    monkeypatch.setattr(evaluate, "predict_trees", slow_with_one)
    examples = arith_examples(["1 + 2", slow, "0 + 3", "4 - 1"])
    report = evaluate_examples(loaded.model, loaded.domain, loaded.task, examples, timeout=0.1)
    assert calls == [4, 1, 1, 1, 1]  # the batch, then each alone
    assert report.n == 4 and sum(n for _, n in report.by_depth.values()) == 3
    [(index, why)] = report.errors
    assert index == 1 and why.startswith("the input at example 1 ran out of its 0.1 s budget while running the model")


def test_strict_raises_the_first_and_a_bug_is_never_counted_as_a_bad_input(arith_mod10_checkpoint, monkeypatch):
    loaded = load(arith_mod10_checkpoint)
    domain = loaded.domain
    examples = arith_examples(["1 + 2", "1 + $", "2 +"])
    with pytest.raises(HybridTRMError, match=r"^f.jsonl:2: arith: cannot parse at line 1, column 5"):
        evaluate_examples(loaded.model, domain, loaded.task, examples, strict=True, where=lambda i: f"f.jsonl:{i + 1}")
    parse = domain.parse

    def broken(text):
        if text == "2 + 1":
            raise ValueError("a bug, not a bad input")
        return parse(text)

    monkeypatch.setattr(domain, "parse", broken)
    with pytest.raises(ValueError, match="a bug"):
        evaluate_examples(loaded.model, domain, loaded.task, arith_examples(["1 + 2", "2 + 1"]))


def test_workers_report_the_errors_one_process_does(arith_mod10_checkpoint, monkeypatch):
    loaded = load(arith_mod10_checkpoint)
    domain = loaded.domain
    texts = [domain.example(4, i, domain.difficulty(depth=3), "mod10").input for i in range(10)]
    texts[2], texts[7], texts[8] = "1 + $", TOO_DEEP, "(("
    examples = arith_examples(texts)
    here = evaluate_examples(loaded.model, domain, loaded.task, examples, batch_size=3)
    monkeypatch.setattr(evaluate, "WORKER_CHUNK_MIN", 1)
    there = evaluate_examples(loaded.model, domain, loaded.task, examples, batch_size=3, jobs=3)
    assert there == here
    assert [i for i, _ in here.errors] == [2, 7, 8] and here.n == 10
    assert here.accuracy == pytest.approx(sum(n * a for a, n in here.by_depth.values()) / 10)


def test_a_formula_too_deep_for_its_grid_of_worlds_is_refused_before_it_is_built():
    """On a grid of worlds every node holds a row per world: the size is checked on
    the parse tree, before the grid is made."""
    from hybrid_trm import pretrained

    loaded = load(pretrained.require("logic", "verdict"))
    domain = loaded.domain
    good = domain.example(1, 0, domain.difficulty(), "verdict")
    examples = [good, Example("~" * (budget.MAX_DEPTH + 1) + "p", "contingent", "verdict"), Example("p &", "valid", "verdict")]
    report = evaluate_examples(loaded.model, domain, loaded.task, examples, timeout=10)
    assert report.n == 3 and [i for i, _ in report.errors] == [1, 2]
    assert f"levels deep; at most {budget.MAX_DEPTH:,}" in report.errors[0][1] and "cannot parse" in report.errors[1][1]


def test_a_report_located_in_its_file():
    report = Report(accuracy=0.5, n=4, by_depth={1: (2 / 3, 3)}, by_arity={2: (2 / 3, 3)}, errors=[(1, "cannot parse")])
    located = report.located([3, 5, 8, 9], [(4, "not JSON"), (1, "not UTF-8")])
    assert (located.n, located.accuracy, located.errors_at) == (6, 2 / 6, "line")
    assert located.errors == [(1, "not UTF-8"), (4, "not JSON"), (5, "cannot parse")]
    assert located.to_json()["errors"][0] == {"line": 1, "error": "not UTF-8"}
    assert report.to_json()["errors"] == [{"index": 1, "error": "cannot parse"}]


# --- bounds on the recursion options ------------------------------------------------


def test_recursion_options_are_bounded_in_the_library_and_the_cli(cli, arith_mod10_checkpoint):
    model = {"inner_steps": 3, "outer_cycles": 2}
    assert Recursion(1000, 1000).applied(model) == {"inner_steps": 1000, "outer_cycles": 1000}
    with pytest.raises(HybridTRMError, match="inner steps must be from 1 to 1,000, not 100,000,000"):
        Recursion(inner_steps=10**8).applied(model)
    with pytest.raises(HybridTRMError, match="max cycles must be from 1 to 1,000"):
        Recursion(max_cycles=10**8).applied(model)
    loaded = load(arith_mod10_checkpoint)
    with pytest.raises(HybridTRMError, match="worlds must be from 1 to 65,536"):
        evaluate_examples(loaded.model, loaded.domain, loaded.task, arith_examples(["1"]), worlds=20_000_000)
    # The CLI's bounds are the library's, refused before any work.
    assert common.InnerSteps.__metadata__[0].max == ModelConfig.LIMITS["inner_steps"]
    assert common.MaxCycles.__metadata__[0].max == ModelConfig.LIMITS["outer_cycles"]
    assert common.Worlds.__metadata__[0].max == MAX_WORLDS
    assert common.MAX_INPUT_CHARS == budget.MAX_INPUT_CHARS
    for option, value in (("--inner-steps", 100_000_000), ("--max-cycles", 100_000_000), ("--worlds", 20_000_000)):
        for command in (("solve", "1 + 2"), ("eval", "arith", "none.jsonl")):
            result = cli(*command, "--checkpoint", arith_mod10_checkpoint, option, value)
            assert result.exit_code == 2 and option in result.output, result.output
            assert "Traceback" not in result.output
