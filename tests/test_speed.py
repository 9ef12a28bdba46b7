"""`bench speed` and what it made faster: the quick run prints every promised
figure; the fast LALR path gives Lark's own trees (and leaves errors to Lark);
the forward's shared leaves and narrower fold give the level loop's numbers;
timing a stage changes no result; eval in worker processes reports what one
process does. No test asserts on a time."""

from __future__ import annotations

import json
import math
import multiprocessing
import pickle
import random

import lark
import pytest
import torch

from hybrid_trm import evaluate, pretrained
from hybrid_trm.bench import speed
from hybrid_trm.domains import registry
from hybrid_trm.errors import ParseError
from hybrid_trm.domains.base import Example
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.evaluate import evaluate_examples
from hybrid_trm.loading import load, trained_width
from hybrid_trm.fast_lalr import fast_parser
from hybrid_trm.grammar import load_grammar, parse_with
from hybrid_trm.model import reasoner
from hybrid_trm.trees import batch, encode_texts


def _same_tree(a, b) -> bool:
    """Equal kinds, children and tokens, and every token's position."""
    if type(a) is not type(b):
        return False
    if isinstance(a, lark.Token):
        fields = ("type", "value", "start_pos", "line", "column", "end_line", "end_column", "end_pos")
        return all(getattr(a, f) == getattr(b, f) for f in fields)
    return a.data == b.data and len(a.children) == len(b.children) and all(map(_same_tree, a.children, b.children))


def _mutations(text: str, rng: random.Random) -> list[str]:
    """The text with one character replaced, one dropped, and spaces made line breaks."""
    i = rng.randrange(len(text))
    return [
        text[:i] + rng.choice(" \n\t()[]+-*x9&|~.,;!=>") + text[i + 1 :],
        text[:i] + text[i + 1 :],
        text.replace(" ", "\n ", 3),
    ]


def _parsed_as_lark_does(parser: lark.Lark, texts: list[str]) -> tuple[int, int]:
    """Parse each text on the fast path and with Lark: the same tree, or both
    refuse (the fast path by declining). Returns (parsed, declined)."""
    fast = fast_parser(parser)
    assert fast is not None
    parsed = declined = 0
    for text in texts:
        try:
            expected = parser.parse(text)
        except lark.exceptions.UnexpectedInput:
            expected = None
        got = fast.parse(text)
        if got is None:
            declined += 1
            assert expected is None, f"the fast path declined a text Lark parses: {text!r}"
        else:
            parsed += 1
            assert expected is not None and _same_tree(got, expected), text
    return parsed, declined


@pytest.mark.parametrize("name", ["arith", "listops", "logic"])
def test_fast_parse_is_larks_tree_or_declines(name):
    domain = registry.get(name)
    rng = random.Random(11)
    texts = [domain.example(3, i, domain.difficulty(), task).input for task in domain.tasks for i in range(60)]
    texts += [m for t in texts[:80] for m in _mutations(t, rng)]
    parsed, declined = _parsed_as_lark_does(load_grammar(domain.grammar), texts)  # built-in grammars take the fast path
    assert parsed > 100 and declined > 10  # both ways were exercised


# Every way Lark shapes a tree: `?rule`s that pass one child up (with and without
# an alias), `_rule`s and a `_`-template spliced into their parents, a named
# template, a `!rule` that keeps the anonymous tokens another rule filters out,
# a filtered _TERMINAL, a rule left without children (`{ }`), and left recursion
# from `+`.
_SHAPES = r"""
?start: expr | "@" NAME "=" expr ";" expr -> let
?expr: term | expr "+" term -> add | expr _MINUS term -> sub
?term: atom | "-" term -> neg | "(" expr ")" | call | pair | bag{atom} | quoted
call: NAME "(" _args? ")"
_args: expr ("," expr)*
pair: "<" _two ">"
_two: atom atom
bag{x}: "{" _sep{x, ","} "}" | "{" "}"
_sep{x, s}: x (s x)*
!quoted: "'" NAME+ "(" "'"
atom: NUMBER | NAME
_MINUS: "~"
NUMBER: /[0-9]+/
NAME: /[a-z]+/
%ignore " "
%ignore "\n"
"""

_SHAPED = [
    "1", "a + 2 ~ b", "f(1, g(2), h())", "< 1 a > + < b 2 >", "{ 1, a, 3 }", "{ }", "' ab cd ( '",
    "@ x = 1 + 2 ; x ~ (3 + -4)", "-(-(1))", "f(\n1,\n 2)", "((((a))))", "f(<1 2>, {3}, ' x (')",
]


def test_fast_parse_shapes_trees_as_lark_does():
    rng = random.Random(5)
    texts = _SHAPED + [m for t in _SHAPED for m in _mutations(t, rng)]
    parsed, declined = _parsed_as_lark_does(lark.Lark(_SHAPES, parser="lalr", maybe_placeholders=False), texts)
    assert parsed >= len(_SHAPED) and declined > 0


def test_parse_errors_are_larks_own():
    """A bad input leaves the fast path and gets the error (position, expected) it always had."""
    parser = load_grammar("arith")
    with pytest.raises(ParseError) as caught:
        parse_with(parser, "3 + * 2", "arith")
    assert (caught.value.line, caught.value.column) == (1, 5)
    with pytest.raises(ParseError) as caught:
        parse_with(parser, "1 +\n 2 $", "arith")
    assert (caught.value.line, caught.value.column) == (2, 4)


def test_a_grammar_the_fast_path_could_misread_goes_to_lark():
    """A keyword inside a name's pattern is one the contextual lexer tells apart by
    parser state; the fast path steps aside and Lark parses as it always has."""
    grammar = 'start: "let" NAME\nNAME: /[a-z]+/\n%ignore " "\n'
    parser = lark.Lark(grammar, parser="lalr")
    assert fast_parser(parser) is None
    name = parse_with(parser, "let let", "toy")  # the keyword is filtered out; the name stays
    assert (name.type, name) == ("NAME", "let")


@pytest.fixture(autouse=True)
def _share_every_leaf_level(monkeypatch):
    """The tests' batches are small; share their leaves as a large batch's would be."""
    monkeypatch.setattr(reasoner, "SHARED_LEAVES_FROM", 0)


def test_a_small_leaf_level_is_run_as_it_is(monkeypatch, listops_checkpoint):
    monkeypatch.setattr(reasoner, "SHARED_LEAVES_FROM", 512)
    loaded = load(listops_checkpoint)
    texts = [loaded.domain.example(5, i, loaded.domain.difficulty(depth=3), "value").input for i in range(4)]
    tree_batch = batch(encode_texts(loaded.domain, loaded.task, texts))
    assert tree_batch.levels[0][1] < 512 and loaded.model.distinct_leaves(tree_batch, "off") is None
    monkeypatch.setattr(reasoner, "SHARED_LEAVES_FROM", 0)
    assert loaded.model.distinct_leaves(tree_batch, "off") is not None


def _forward_both_ways(model, tree_batch):
    with torch.inference_mode():
        shared = model(tree_batch, with_loss=False)
        each = model(tree_batch, with_loss=False, groups=tree_batch.levels)
    return shared, each


@pytest.mark.parametrize("fixture", ["listops_checkpoint", "arith_mod10_checkpoint", "halting_checkpoint"])
def test_shared_leaves_give_the_level_loops_numbers(fixture, request):
    loaded = load(request.getfixturevalue(fixture))
    domain, task = loaded.domain, loaded.task
    texts = [domain.example(5, i, domain.difficulty(depth=4), task.name).input for i in range(12)]
    tree_batch = batch(encode_texts(domain, task, texts))
    shared, each = _forward_both_ways(loaded.model, tree_batch)
    assert torch.allclose(shared.final, each.final, atol=1e-5)
    assert torch.equal(shared.steps, each.steps) and torch.equal(shared.cycles, each.cycles)
    assert torch.equal(shared.inner_steps, each.inner_steps)


def test_shared_leaves_on_a_shipped_model_over_its_benchmark_syntax():
    """The shipped ListOps model (answer fold over up to 5 children) on the
    benchmark's binarised syntax: the same answers with and without sharing."""
    loaded = load(pretrained.require("listops", "value"))
    domain = loaded.domain
    difficulty = domain.difficulty(binarised=True)
    texts = [domain.example(8, i, difficulty, "value").input for i in range(40)]
    tree_batch = batch(encode_texts(domain, loaded.task, texts))
    shared, each = _forward_both_ways(loaded.model, tree_batch)
    assert torch.allclose(shared.final, each.final, atol=1e-5)
    assert torch.equal(shared.final.argmax(-1), each.final.argmax(-1))


def test_timing_the_stages_changes_no_result(listops_checkpoint):
    loaded = load(listops_checkpoint)
    domain = loaded.domain
    examples = [domain.example(2, i, domain.difficulty(depth=3), "value") for i in range(20)]
    plain = evaluate_examples(loaded.model, domain, loaded.task, examples, batch_size=8)
    timings: dict[str, float] = {}
    timed = evaluate_examples(loaded.model, domain, loaded.task, examples, batch_size=8, timings=timings)
    assert timed.to_json() == plain.to_json()
    assert set(timings) == {"parse", "tensorize", "model", "answers"} and all(v >= 0 for v in timings.values())


@pytest.mark.parametrize("model", ["listops/value", "arith/exact", "logic/entails"])
def test_eval_in_workers_reports_what_one_process_does(model, monkeypatch):
    """The shipped models (one grid width; a width per tree; a grid of worlds),
    scored in three forked workers and in this process: the same report, the
    progress counted in order."""
    monkeypatch.setattr(evaluate, "WORKER_CHUNK_MIN", 1)
    loaded = load(pretrained.require(*model.split("/")))
    domain, task = loaded.domain, loaded.task
    examples = [domain.example(3, i, domain.difficulty(), task.name) for i in range(24)]
    width = trained_width(loaded.config)
    here = evaluate_examples(loaded.model, domain, task, examples, batch_size=8, width=width)
    progress, workers_seen = [], []

    def on_chunk(done: int) -> None:
        progress.append(done)
        workers_seen.append(len(multiprocessing.active_children()))

    there = evaluate_examples(loaded.model, domain, task, examples, batch_size=8, width=width, jobs=3, progress=on_chunk)
    assert there == here and here.n == 24
    assert progress == sorted(progress) and progress[-1] == 24
    assert max(workers_seen) >= 2  # it did run in workers


def test_a_parse_error_in_a_worker_is_reported_with_its_index(monkeypatch):
    monkeypatch.setattr(evaluate, "WORKER_CHUNK_MIN", 1)
    loaded = load(pretrained.require("listops", "value"))
    domain = loaded.domain
    examples = [domain.example(3, i, domain.difficulty(depth=3), "value") for i in range(12)]
    examples.insert(9, Example("[MAX 1 [MIN 2 ]", "2", "value"))
    # Reported with its index, the rest scored: in workers as in one process.
    report = evaluate_examples(loaded.model, domain, loaded.task, examples, batch_size=4, jobs=2)
    assert report.n == 13 and [i for i, _ in report.errors] == [9]
    assert "listops: cannot parse at line 1, column 16" in report.errors[0][1]
    assert report == evaluate_examples(loaded.model, domain, loaded.task, examples, batch_size=4, jobs=1)
    with pytest.raises(HybridTRMError, match="example 9: listops: cannot parse"):
        evaluate_examples(loaded.model, domain, loaded.task, examples, batch_size=4, jobs=2, strict=True)
    error = ParseError("listops", 1, 16, "  [MAX 1 [MIN 2 ]\n  ^", ["']'"], "end of input").with_hint("close it")
    again = pickle.loads(pickle.dumps(error))  # an error crosses from a worker as itself
    assert str(again) == str(error) and again.expected == error.expected and again.hint == "close it"
    with pytest.raises(HybridTRMError, match="jobs must be at least 1"):
        evaluate_examples(loaded.model, domain, loaded.task, examples, jobs=0)


def test_cell_flops_counts_the_cells_rows(listops_checkpoint):
    loaded = load(listops_checkpoint)
    domain = loaded.domain
    texts = [domain.example(1, i, domain.difficulty(depth=3), "value").input for i in range(5)]
    report = speed.cell_flops(loaded, texts, peak_flops_per_s=1e9, repeats=1)
    hidden = loaded.model.config.hidden
    assert report.flops_per_row == 2 * 2 * hidden * hidden * loaded.model.config.expansion
    # At least the cycles' updates of every distinct leaf and of every inner node ran.
    assert report.cell_rows > 0 and report.to_json()["cell_flops_per_node"] > 0


def test_bench_speed_quick_json_prints_every_promised_figure(cli, tmp_path):
    image = tmp_path / "speed.png"
    pytest.importorskip("matplotlib")
    result = cli("bench", "speed", "--quick", "--json", "--plot", image)  # --quick: one thread
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    for key in ("level_batched_vs_naive", "eval_nodes_per_s", "cell_flops_fraction_of_peak", "neural_vs_verifier"):
        assert isinstance(out[key], float) and math.isfinite(out[key]) and out[key] > 0, key
    assert 0 < out["cell_flops_fraction_of_peak"] < 1.5  # a fraction, give or take timing noise
    assert out["max_abs_difference"] < 1e-3  # the per-node forward computed the same numbers
    assert out["eval"]["items"] == speed.QUICK.eval_examples and out["eval"]["accuracy"] > 0.9
    assert set(out["eval"]["stages"]) == {"parse", "tensorize", "model", "answers"}
    # One thread: the eval in one process and the cell on one thread, each measured once.
    assert out["eval_jobs"] == 1 and out["eval_one_process"] is None and out["cell_one_thread"] is None
    assert [s["model"] for s in out["solve"]] == ["listops/value", "arith/mod10", "arith/exact"]
    assert all(set(s["stages_ms"]) == {"parse", "tensorize", "model", "answers", "verify"} for s in out["solve"])
    assert out["threads"] == 1 and out["cell"]["nodes"] >= 10_000
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
