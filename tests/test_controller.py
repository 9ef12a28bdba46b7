"""The recursion controller: per node kind, the inner steps a node runs and its
halting threshold, learnt by the depth reward."""

from __future__ import annotations

import json

import pytest
import torch

from hybrid_trm import checkpoints
from hybrid_trm.domains import registry
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.evaluate import evaluate_examples
from hybrid_trm.loading import load, Recursion, strategies
from hybrid_trm.model.cell import RecursiveCell
from hybrid_trm.model.reasoner import ModelConfig, Output, TreeReasoner
from hybrid_trm.training.depth_rl import DepthRLConfig, fine_tune, rewards
from hybrid_trm.trees import batch, encode_texts

ARITH = registry.get("arith")
TEXTS = ["1 + 2 * 3", "(4 - 5) * -6 + 7", "8", "9 * (1 + 2) - 3 * 4"]


def _batch(texts=TEXTS, labelled=False):
    return batch(encode_texts(ARITH, ARITH.task("mod10"), texts, label_subtrees=labelled))


def test_a_cycle_with_inner_steps_per_node_matches_each_node_run_alone():
    torch.manual_seed(0)
    cell = RecursiveCell(8, 2)
    x, y, z = torch.randn(3, 4, 2, 8).unbind(0)
    steps = torch.tensor([1, 3, 2, 3])
    together = cell.cycle(x, y, z, steps, [], [])[0]
    for row, n in enumerate(steps.tolist()):
        alone = cell.cycle(x[row:row + 1], y[row:row + 1], z[row:row + 1], n, [], [])[0]
        assert torch.allclose(together[row], alone[0], atol=1e-6)


def _steered(choice: int) -> TreeReasoner:
    """A controller model whose strategy is `choice` inner steps for every kind, and
    the halting head's own threshold (offset 0), with a head that always goes on."""
    torch.manual_seed(1)
    model = TreeReasoner(ModelConfig(kinds=5, hidden=16, inner_steps=3, outer_cycles=2, halting=True, controller=True))
    with torch.no_grad():
        model.strategy_steps.zero_()
        model.strategy_steps[:, choice - 1] = 5.0
        model.halt_head.bias.fill_(-30.0)
    return model.eval()


def test_the_controller_runs_each_kind_for_its_chosen_inner_steps():
    model, tb = _steered(1), _batch()
    plain = TreeReasoner(ModelConfig(kinds=5, hidden=16, inner_steps=1, outer_cycles=2, halting=True))
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("strategy_")})
    with torch.no_grad():
        steered, same = model(tb, with_loss=False), plain(tb.__class__(**vars(tb)), with_loss=False)
        fixed = model(tb, with_loss=False, halting="off")
    assert torch.allclose(steered.final, same.final, atol=1e-6)
    assert steered.inner_steps.tolist() == [1] * tb.nodes
    assert fixed.inner_steps.tolist() == [3] * tb.nodes  # "off" is the fixed maximum: n for every node
    assert (fixed.steps > steered.steps).all()


def test_the_controller_needs_a_halting_model():
    with pytest.raises(HybridTRMError, match="halting model"):
        ModelConfig(kinds=5, controller=True)


def test_a_wrong_answer_costs_every_node_of_its_tree():
    tb = _batch(["1 + 2", "3 + 4"], labelled=True)
    final = torch.nn.functional.one_hot(tb.labels.clamp(min=0), 10).float()
    wrong_root = int(tb.roots[0])
    final[wrong_root, 0] = final[wrong_root, 0].roll(1)
    n = tb.nodes
    out = Output(final, None, torch.ones(n), torch.ones(n, dtype=torch.long), torch.full((n,), 2), first_right=torch.ones(n, dtype=torch.long))
    reward, right, _ = rewards(out, tb, torch.full((n,), -1), penalty=0.1, inner_max=4)
    first = tb.tree == 0
    assert reward[first].tolist() == [-1.0] * int(first.sum())  # its leaves were right
    assert right[first].sum() == int(first.sum()) - 1
    assert reward[~first].tolist() == pytest.approx([1 - 0.1 * 1 / 4] * int((~first).sum()))  # 1 inner step over 1


def test_depth_reward_learns_a_strategy_per_node_kind(halting_checkpoint, tmp_path):
    out = tmp_path / "steered"
    metrics = fine_tune(halting_checkpoint, out, DepthRLConfig(steps=3, batch_size=4, controller=True))
    assert 1.0 <= metrics["inner_steps"] <= 3.0
    before = checkpoints.section(checkpoints.load(halting_checkpoint)[0], "model")
    tensors, saved = checkpoints.load(out)
    after = checkpoints.section(tensors, "model")
    assert saved["model"]["controller"] and after["strategy_steps"].shape == (len(ARITH.node_kinds), 3)
    changed = sorted(k for k in before if not torch.equal(before[k], after[k]))
    assert all(k.startswith("halt_head.") for k in changed), changed
    loaded = load(out)
    rows = strategies(loaded)
    assert [s.kind for s in rows] == loaded.config["trained_node_kinds"]
    assert all(s.inner_steps in (1, 2, 3) and 0.0 < s.halt_threshold < 1.0 for s in rows)
    with pytest.raises(HybridTRMError, match="controller picks"):
        load(out, recursion=Recursion(inner_steps=4))
    examples = [ARITH.example(3, i, ARITH.difficulty(depth=3), "mod10") for i in range(4)]
    fixed = evaluate_examples(loaded.model, ARITH, loaded.task, examples, halting="off")  # the fixed maximum
    assert fixed.steps_mean > 0 and fixed.cycles_mean == loaded.model.config.outer_cycles


def test_cli_controller(cli, halting_checkpoint, tmp_path):
    wrong = cli("train", "arith", "--controller", "--steps", 1)
    assert wrong.exit_code == 2 and "go with --depth-rl" in wrong.output
    done = cli("train", "--depth-rl", "--controller", "--init", halting_checkpoint, "--steps", 2, "--batch-size", 4, "--out", "steered")
    assert done.exit_code == 0 and "inner steps" in done.output, done.output
    examples = tmp_path / "examples.jsonl"
    examples.write_text(json.dumps({"input": "1 + 2 * 3", "answer": "7"}) + "\n")
    shown = cli("eval", "arith", examples, "--checkpoint", "steered")
    assert shown.exit_code == 0 and "recursion strategy" in shown.output and "NUMBER" in shown.output, shown.output
    refused = cli("solve", "1 + 2", "--checkpoint", "steered", "--inner-steps", 5)
    assert refused.exit_code == 2 and "controller picks" in refused.output
    (row,) = json.loads(cli("bench", "halting", "--checkpoint", "steered", "-n", 4, "--json").stdout)
    assert row["fixed_cycles_mean"] == 3.0 and row["halting_steps_mean"] <= row["fixed_steps_mean"]
    assert {s["kind"] for s in row["strategy"]} <= set(ARITH.node_kinds) and row["strategy"]
