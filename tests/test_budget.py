"""Time budgets and size limits (hybrid_trm/budget.py): every input gets an answer
or one line naming the stage or the limit, within its budget, in any thread; the
parser takes linear time on wide lists; `solve` parses its text once."""

from __future__ import annotations

import json
import math
import threading
import time

import pytest

from hybrid_trm import budget, grammar, solver
from hybrid_trm.domains import registry
from hybrid_trm.errors import BudgetExceeded, HybridTRMError, ParseError
from hybrid_trm.grammar import load_grammar, measure, parse


def test_check_raises_past_the_deadline_and_names_the_stage_and_size():
    with budget.limit(0.05, "solve"):
        budget.stage("parsing", "12 characters")
        time.sleep(0.06)
        with pytest.raises(BudgetExceeded) as caught:
            budget.check()
    message = str(caught.value)
    assert "solve ran out of its 0.05 s budget while parsing" in message and "12 characters" in message
    assert caught.value.stage == "parsing"
    budget.check()  # no budget outside the block


def test_an_inner_budget_ends_at_the_earlier_deadline_and_none_lifts_it():
    with budget.limit(0.05):
        with budget.limit(100.0) as inner:
            assert inner.remaining() <= 0.05
        with budget.limit(None):  # uncharged work: no budget at all
            time.sleep(0.06)
            budget.check()
        with pytest.raises(BudgetExceeded):
            budget.check()
    with pytest.raises(HybridTRMError, match="positive"):
        with budget.limit(float("nan")):
            pass


def test_uncharged_time_moves_the_deadline():
    with budget.limit(0.05):
        with budget.uncharged():
            time.sleep(0.08)
        budget.check()  # the 80 ms were not charged


def test_a_budget_belongs_to_its_thread():
    seen = []

    def other():
        seen.append(budget.current())
        budget.check()  # another thread's budget never stops this one

    with budget.limit(0.001):
        time.sleep(0.01)
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
    assert seen == [None]


def test_remaining_is_capped_by_the_default_and_never_zero():
    assert budget.remaining(2.0) == 2.0
    with budget.limit(0.5):
        assert 0 < budget.remaining(2.0) <= 0.5
        assert budget.remaining(0.1) == 0.1
    with budget.limit(0.001):
        time.sleep(0.01)
        assert budget.remaining(2.0) == 1e-3


def test_size_limits_are_named():
    with pytest.raises(HybridTRMError, match=f"at most {budget.MAX_INPUT_CHARS:,}"):
        budget.check_text("1" * (budget.MAX_INPUT_CHARS + 1))
    for sizes, what in (
        ((budget.MAX_NODES + 1, 1, 1), "nodes"),
        ((10, budget.MAX_DEPTH + 1, 1), "levels deep"),
        ((10, 1, budget.MAX_ARITY + 1), "children under one node"),
    ):
        with pytest.raises(HybridTRMError, match=what):
            budget.check_tree(*sizes)
    budget.check_tree(budget.MAX_NODES, budget.MAX_DEPTH, budget.MAX_ARITY)


def test_measure_counts_nodes_height_and_widest_node():
    assert measure(parse("listops", "[MAX 1 [MIN 2 3 4 ] 5 ]")) == (7, 2, 3)
    assert measure(parse("arith", "7")) == (1, 0, 0)


def test_the_parser_stops_at_its_budget():
    text = "[SM " + "1 " * 50_000 + "]"
    with budget.limit(1e-4, "solve"):
        time.sleep(0.001)
        with pytest.raises(BudgetExceeded):
            parse("listops", text)


def test_a_wide_list_parses_to_lark_s_tree():
    # The repeated rule's list grows in place (fast_lalr._builder); the tree is Lark's.
    text = "[SM " + " ".join(str(i % 10) for i in range(20_000)) + " [MAX 1 2 ] ]"
    ours = parse("listops", text)
    theirs = load_grammar("listops").parse(text)
    assert ours == (theirs.children[0] if theirs.data == "start" else theirs)
    assert len(ours.children) == 20_001


def test_parse_errors_escape_control_characters_and_clip_long_tokens():
    with pytest.raises(ParseError) as caught:
        parse("arith", "1 + \x1b[2J\x1b]0;title\x07 2")
    context = caught.value.context
    assert "\x1b" not in context and "\x07" not in context and "\\x1b[2J" in context
    top, caret = context.split("\n")
    assert caret.index("^") == top.index("\\x1b")  # the caret under the escaped character
    with pytest.raises(ParseError) as caught:
        parse("arith", "1 + 2 " + "7" * 5000)
    assert len(str(caught.value)) < 400 and "5,000 characters" in caught.value.found


@pytest.fixture
def parses(monkeypatch):
    """Count parses, by grammar name."""
    counts: dict[str, int] = {}
    real = grammar.parse_with

    def counted(parser, text, name):
        counts[name] = counts.get(name, 0) + 1
        return real(parser, text, name)

    monkeypatch.setattr(grammar, "parse_with", counted)
    return counts


def test_solve_parses_its_text_once(parses):
    solver.solve("1 + 2", "arith")  # the model loads and warms up on inputs of its own
    solver.solve("[MAX 2 9 ]", "listops")
    parses.clear()
    result = solver.solve("12 - -7 - (40 + 13)", "arith", trace=True)
    assert result.verified is not None and parses == {"arith": 1}
    parses.clear()
    solver.solve("[MAX 2 9 [MIN 4 7 ] 0 ]")  # domain detection: once in each domain's grammar
    assert parses == {name: 1 for name in registry.names()}


def test_solve_answers_or_stops_within_its_budget_on_a_deep_input():
    text = "1+(" * 10_000 + "1" + ")" * 10_000
    solver.solve("1+2")  # the model's first load is not charged; this keeps the timing to the answer
    start = time.monotonic()
    try:
        result = solver.solve(text, timeout=1.0)
        assert result.answer.lstrip("-").isdigit()
    except BudgetExceeded as err:
        assert "while running the model" in str(err) and "depth 10,000" in str(err)
    assert time.monotonic() - start < 1.0 + 1.0


def test_solve_refuses_what_is_past_a_limit_before_the_work():
    with pytest.raises(HybridTRMError, match="250,000"):
        solver.solve("1+" * 200_000 + "1")
    with pytest.raises(HybridTRMError, match="children under one node"):
        solver.solve("[SM " + "1 " * (budget.MAX_ARITY + 1) + "]")
    with pytest.raises(HybridTRMError, match="100,000 are computed exactly"):
        solver.solve("*".join(["9" * 3000] * 40), "arith", "mod10")


def test_a_verifier_past_the_budget_says_what_the_model_answered(monkeypatch):
    from hybrid_trm.domains import registry

    listops = registry.get("listops")

    def slow(text, answer, task, budget_s=2.0, tree=None):  # overruns its own budget and the margin kept back
        time.sleep(budget_s + solver.VERIFY_MARGIN + 0.05)
        return listops.__class__.verify(listops, text, answer, task, budget_s, tree)

    solver.solve("[MAX 1 2 ]")
    monkeypatch.setattr(listops, "verify", slow)
    with pytest.raises(BudgetExceeded, match=r"while verifying.*the model answered '2', unverified"):
        solver.solve("[MAX 1 2 ]", timeout=0.2)
    assert solver.solve("[MAX 1 2 ]", timeout=0.2, verify=False).verified is None


def test_solve_json_never_prints_nan():
    result = solver.solve("[MAX 1 2 ]")
    result.confidence = math.nan
    assert json.loads(json.dumps(result.to_json(), allow_nan=False))["confidence"] is None


def test_the_cli_timeout_and_escaped_errors(cli):
    out = cli("solve", "--timeout", "0.001", "1+(" * 3000 + "1" + ")" * 3000)
    assert out.exit_code == 2 and "budget" in out.output and "Traceback" not in out.output
    out = cli("solve", "--domain", "arith", "1 + \x1b]0;title\x07")
    assert out.exit_code == 2 and "\x1b" not in out.output and "\\x1b" in out.output


def test_a_level_in_parts_computes_what_the_whole_level_does(monkeypatch):
    """At inference a level runs in parts of at most PART_CELLS grid cells (a wide
    formula on 1,024 worlds holds millions): the same numbers, and the budget is
    checked between the parts."""
    import torch

    from hybrid_trm.domains import registry
    from hybrid_trm.inference import inference_tensors
    from hybrid_trm.model import reasoner
    from hybrid_trm.model.reasoner import ModelConfig, TreeReasoner
    from hybrid_trm.trees import batch

    logic = registry.get("logic")
    task = logic.task("verdict")
    trees = [logic.parse(" | ".join(f"a{i}" for i in range(40))), logic.parse("forall x. P(x) -> P(a)")]
    tree_batch = batch(inference_tensors(logic, task, trees, worlds=64))
    torch.manual_seed(0)
    model = TreeReasoner(ModelConfig(kinds=len(logic.node_kinds), classes=task.classes, hidden=8, carry=False)).eval()
    monkeypatch.setattr(reasoner, "PART_CELLS", 64 * 3)  # three nodes a part
    assert len(reasoner._level_parts(tree_batch, False)) > len(tree_batch.levels)
    with torch.no_grad():
        parts = model(tree_batch, with_loss=False)
        whole = model(tree_batch, with_loss=False, groups=tree_batch.levels)
    # The parts run once per distinct cell (model/cells.py), the whole level per cell:
    # the same numbers but for float rounding.
    assert torch.allclose(parts.final, whole.final, atol=1e-5) and torch.equal(parts.steps, whole.steps)
    with budget.limit(1e-4):
        time.sleep(0.001)
        with pytest.raises(BudgetExceeded):
            model(tree_batch, with_loss=False)


def test_solve_loads_a_checkpoint_once_and_again_when_it_is_rewritten(tmp_path, arith_mod10_checkpoint, halting_checkpoint):
    import os
    import shutil

    from hybrid_trm import checkpoints

    mine = tmp_path / "mine"
    for source, target in zip(checkpoints.files(arith_mod10_checkpoint), checkpoints.files(mine)):
        shutil.copy(source, target)
    first = solver.cached_load(str(mine), None, None, None)
    assert solver.cached_load(str(mine), None, None, None) is first and not first.config["model"]["halting"]
    for source, target in zip(checkpoints.files(halting_checkpoint), checkpoints.files(mine)):
        shutil.copy(source, target)
        os.utime(target, ns=(time.time_ns() + 10**9,) * 2)  # a later write, whatever the clock's grain
    assert solver.cached_load(str(mine), None, None, None).config["model"]["halting"]
    assert solver.solve("1 + 2", checkpoint=mine).domain == "arith"
