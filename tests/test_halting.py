"""Dynamic depth: per-node halting, the depth reward, the curriculum, and how a
node's steps are reported against its difficulty."""

from __future__ import annotations

import json

import pytest
import torch

from hybrid_trm import checkpoints
from hybrid_trm.domains import registry
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.evaluate import evaluate_examples
from hybrid_trm.inference import predict_trees
from hybrid_trm.loading import load, Recursion
from hybrid_trm.model.reasoner import ModelConfig, TreeReasoner
from hybrid_trm.training.curriculum import Curriculum
from hybrid_trm.training.depth_rl import DepthRLConfig, fine_tune
from hybrid_trm.training.loop import TrainConfig, initialise, train
from hybrid_trm.training.presets import PRESETS
from hybrid_trm.trees import batch, encode_texts, tensorize

ARITH = registry.get("arith")
LISTOPS = registry.get("listops")
TEXTS = ["1 + 2 * 3", "(4 - 5) * -6 + 7", "8", "9 * (1 + 2) - 3 * 4"]


def _model(cycles=3, bias=None, threshold=0.5, seed=0):
    torch.manual_seed(seed)
    model = TreeReasoner(ModelConfig(kinds=5, hidden=16, inner_steps=2, outer_cycles=cycles, halting=True, halt_threshold=threshold))
    if bias is not None:
        torch.nn.init.constant_(model.halt_head.bias, bias)
    return model.eval()


def _batch(texts=TEXTS, labelled=False):
    return batch(encode_texts(ARITH, ARITH.task("mod10"), texts, label_subtrees=labelled))


def test_threshold_one_runs_every_node_to_the_maximum():
    model = _model(threshold=1.0)
    tb = _batch()
    with torch.no_grad():
        halting, fixed = model(tb, with_loss=False), model(tb, with_loss=False, halting="off")
    assert torch.equal(halting.final, fixed.final)
    assert halting.cycles.tolist() == [3] * tb.nodes


def test_a_node_that_stops_keeps_the_answer_of_its_last_cycle():
    """A halting head that always says stop: every node runs one cycle, and the
    answers are those of the same weights run for one cycle."""
    model = _model(bias=30.0)
    tb = _batch()
    one = TreeReasoner(ModelConfig(kinds=5, hidden=16, inner_steps=2, outer_cycles=1, halting=True))
    one.load_state_dict(model.state_dict())
    with torch.no_grad():
        out = model(tb, with_loss=False)
        want = one(tb, with_loss=False, halting="off").final
    assert out.cycles.tolist() == [1] * tb.nodes
    assert torch.allclose(out.final, want, atol=1e-6)
    arity = torch.zeros(tb.nodes, dtype=torch.long).index_add(0, tb.child_parent, torch.ones_like(tb.child_parent))
    assert out.steps.tolist() == (arity + 2).tolist()  # the latent scan reads each child, then n = 2


def test_halting_nodes_answer_the_same_alone_as_batched():
    """Some nodes stop early, others run on: a tree's answers and steps do not
    depend on the trees batched with it."""
    spec = ARITH.task("mod10")
    model = _model(bias=0.0, seed=3)
    trees = [tensorize(ARITH, ARITH.parse(t), spec) for t in TEXTS]
    together = predict_trees(model, spec, trees, node_answers=True)
    cycles = {c for p in together for c in p.node_cycles}
    assert len(cycles) > 1, cycles  # the test needs nodes that stop at different cycles
    for tree, pred in zip(trees, together):
        alone = predict_trees(model, spec, [tree], node_answers=True)[0]
        assert (pred.node_answers, pred.node_cycles, pred.node_steps) == (alone.node_answers, alone.node_cycles, alone.node_steps)


def test_the_halting_head_learns_whether_the_answer_is_right():
    model = _model(bias=0.0).train()
    out = model(_batch(labelled=True))
    out.loss.backward()
    assert model.halt_head.weight.grad is not None and float(model.halt_head.weight.grad.abs().sum()) > 0


def test_exploration_makes_nodes_run_past_where_they_would_stop():
    model = _model(bias=30.0).train()
    tb = _batch(labelled=True)
    assert model(tb).cycles.tolist() == [1] * tb.nodes
    torch.manual_seed(0)
    assert min(model(tb, explore=1.0).cycles.tolist()) >= 2


def test_sampled_halting_gives_log_probabilities_and_first_right_cycles():
    model = _model(bias=30.0)
    tb = _batch(labelled=True)
    out = model(tb, with_loss=False, halting="sample")
    assert out.cycles.tolist() == [1] * tb.nodes
    assert out.halt_log_prob.shape == (tb.nodes,) and float(out.halt_log_prob.detach().abs().max()) < 1e-6
    right = (out.final.argmax(-1) == tb.labels).all(-1)
    assert out.first_right.tolist() == right.long().tolist()  # right at cycle 1, or never


def test_a_model_without_a_halting_head_refuses_to_halt(arith_mod10_checkpoint):
    model = TreeReasoner(ModelConfig(kinds=5, hidden=8))
    with pytest.raises(HybridTRMError, match="no halting head"):
        model(_batch(), with_loss=False, halting="threshold")
    with pytest.raises(HybridTRMError, match="no halting head"):
        load(arith_mod10_checkpoint, recursion=Recursion(halt_threshold=0.5))


def test_recursion_overrides_how_deep_a_loaded_model_runs(halting_checkpoint):
    loaded = load(halting_checkpoint, recursion=Recursion(max_cycles=5, halt_threshold=1.0))
    assert (loaded.model.config.outer_cycles, loaded.model.config.halt_threshold) == (5, 1.0)
    with torch.no_grad():
        out = loaded.model(_batch(), with_loss=False)
    assert out.cycles.tolist() == [5] * out.cycles.numel()
    with pytest.raises(HybridTRMError, match="probability"):
        load(halting_checkpoint, recursion=Recursion(halt_threshold=1.5))


def test_init_copies_every_weight_that_fits(arith_mod10_checkpoint):
    config = TrainConfig(domain="arith", task="mod10", hidden=8, halting=True, outer_cycles=4)
    from hybrid_trm.training.loop import build_model

    model = build_model(config)
    fresh = initialise(model, arith_mod10_checkpoint)
    assert sorted(fresh) == ["halt_head.bias", "halt_head.weight"]
    source = checkpoints.section(checkpoints.load(arith_mod10_checkpoint)[0], "model")
    assert torch.equal(model.state_dict()["cell.up.weight"], source["cell.up.weight"])
    with pytest.raises(checkpoints.CheckpointError, match="no weight"):
        initialise(build_model(TrainConfig(domain="logic", task="verdict", hidden=12)), arith_mod10_checkpoint)


def test_depth_reward_fine_tunes_only_the_halting_head(halting_checkpoint, tmp_path):
    out = tmp_path / "rl"
    metrics = fine_tune(halting_checkpoint, out, DepthRLConfig(steps=3, batch_size=4))
    assert -1.0 <= metrics["reward"] <= 1.0 and metrics["verifier_timeouts"] == 0
    before = checkpoints.section(checkpoints.load(halting_checkpoint)[0], "model")
    tensors, saved = checkpoints.load(out)
    after = checkpoints.section(tensors, "model")
    changed = sorted(k for k in before if not torch.equal(before[k], after[k]))
    assert changed and all(k.startswith("halt_head.") for k in changed), changed
    assert saved["depth_rl"]["steps"] == 3 and saved["model"]["halting"]
    load(out)  # loads for inference like any checkpoint


def test_depth_reward_needs_a_halting_model(arith_mod10_checkpoint, tmp_path):
    with pytest.raises(HybridTRMError, match="no halting head"):
        fine_tune(arith_mod10_checkpoint, tmp_path / "rl", DepthRLConfig(steps=1))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_curriculum_climbs_from_the_easiest_level_to_the_training_difficulty(name):
    preset = PRESETS[name]
    domain = registry.get(preset.domain)
    levels = Curriculum.up_to(domain, preset.difficulty).levels
    assert len(levels) >= 3 and levels[-1] == preset.difficulty
    for knob, start in domain.curriculum_start.items():
        values = [level[knob] for level in levels[:-1] if knob in level]
        assert not values or values[0] == start
        assert values == sorted(values)
    for level in levels:  # every level generates
        domain.example(0, 0, domain.difficulty(**level), preset.task)


def test_training_moves_up_the_curriculum(tmp_path):
    """With a threshold of 0 every check passes: one level per check."""
    config = TrainConfig(
        domain="arith", task="mod10", difficulty={"depth": 3}, steps=6, batch_size=4, hidden=8,
        curriculum=True, curriculum_threshold=0.0, curriculum_every=2, curriculum_examples=4,
        eval_every=6, eval_examples=4, save_every=6,
    )
    metrics = train(config, tmp_path / "c")
    assert [level for _, level, _ in metrics["curriculum_schedule"]] == [0, 1, 2]
    assert metrics["curriculum_schedule"][-1][2] == "depth=3"
    assert [step for step, _, _ in metrics["curriculum_schedule"]] == [0, 2, 4]
    assert metrics["eval_history"] == [[6, metrics["eval_accuracy"]]]


@pytest.mark.parametrize("text,positions,chain", [
    ("999 + 1", 6, 2), ("5 - 7", 6, 5), ("100 - 1", 6, 1), ("12 + 34", 6, 0), ("-3", 4, 3), ("-0", 4, 0), ("123 + 456", 6, 0),
])
def test_carry_chain_of_an_exact_node(text, positions, chain):
    assert ARITH.node_difficulty(ARITH.parse(text), "exact", positions)[-1] == chain
    assert ARITH.node_difficulty(ARITH.parse(text), "mod10", positions)[-1] is None


def test_listops_difficulty_is_the_arity_of_sums_and_medians():
    tree = LISTOPS.parse("[SM 1 2 [MED 3 4 5 ] [MAX 1 2 ] ]")
    assert LISTOPS.node_difficulty(tree, "value", 1) == [None] * 5 + [3] + [None] * 3 + [4]


def test_eval_reports_steps_against_difficulty(listops_checkpoint):
    loaded = load(listops_checkpoint)
    examples = [LISTOPS.example(0, i, LISTOPS.difficulty(depth=3), "value") for i in range(20)]
    report = evaluate_examples(loaded.model, LISTOPS, loaded.task, examples)
    hard = report.difficulty
    assert hard.measure == "arguments of SM and MED" and hard.nodes > 0
    # The latent scan reads every argument: a node's latent updates grow with its arity.
    assert hard.steps_correlation > 0.9
    assert set(hard.steps_by_difficulty) == set(hard.cycles_by_difficulty)
    assert json.loads(json.dumps(report.to_json()))["difficulty"]["nodes"] == hard.nodes


def test_cli_halting_options(cli, halting_checkpoint, arith_mod10_checkpoint):
    fixed = json.loads(cli("solve", "1 + 2 * 3", "--checkpoint", halting_checkpoint, "--halt-threshold", 1, "--json").stdout)
    longer = json.loads(cli("solve", "1 + 2 * 3", "--checkpoint", halting_checkpoint, "--halt-threshold", 1, "--max-cycles", 6, "--json").stdout)
    assert longer["steps_mean"] == pytest.approx(2 * fixed["steps_mean"])  # every node runs 6 cycles, not 3
    traced = cli("solve", "1 + 2", "--checkpoint", halting_checkpoint, "--trace").stdout
    assert "cycles]" in traced
    bad = cli("eval", "--benchmark", "listops", "--checkpoint", arith_mod10_checkpoint, "--halt-threshold", 0.5)
    assert bad.exit_code == 2
    wrong = cli("solve", "1 + 2", "--checkpoint", arith_mod10_checkpoint, "--halt-threshold", 0.5)
    assert wrong.exit_code == 2 and "no halting head" in wrong.output


def test_cli_depth_rl(cli, halting_checkpoint, arith_mod10_checkpoint):
    done = cli("train", "--depth-rl", "--init", halting_checkpoint, "--steps", 2, "--batch-size", 4, "--out", "rl")
    assert done.exit_code == 0, done.output
    assert "reward" in done.output and checkpoints.exists("rl")
    for args, message in (
        (["--depth-rl", "--steps", 1], "--init"),
        (["--depth-rl", "--init", halting_checkpoint, "--hidden", 8], "--hidden"),
        (["--depth-rl", "--init", arith_mod10_checkpoint, "--steps", 1], "no halting head"),
        (["arith", "--step-penalty", 0.2], "--depth-rl"),
    ):
        result = cli("train", *args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_cli_bench_halting(cli, halting_checkpoint):
    result = cli("bench", "halting", "--checkpoint", halting_checkpoint, "-n", 6, "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["model"] == "arith/mod10" and row["n"] == 6
    assert row["fixed_cycles_mean"] == 3.0 and row["halting_cycles_mean"] <= 3.0
    assert row["steps_cut"] == pytest.approx(1 - row["halting_steps_mean"] / row["fixed_steps_mean"])


def test_meta_level_shares_one_cell_across_tasks(tmp_path):
    from hybrid_trm.training.meta import MetaConfig, build, train_meta

    config = MetaConfig(presets=["arith-mod10", "logic-verdict"], steps=2, batch_size=4, hidden=8, eval_examples=4)
    models = build(config)
    mod10, verdict = models["arith-mod10"], models["logic-verdict"]
    assert mod10.cell.up is verdict.cell.up and mod10.z_init is verdict.z_init
    assert mod10.kind_embedding is not verdict.kind_embedding
    assert mod10.cell.has_carry and not verdict.cell.has_carry  # digits carry; worlds do not
    metrics = train_meta(config, tmp_path / "meta")
    assert set(metrics["eval_accuracy"]) == {"arith-mod10", "logic-verdict"}
    tensors, saved = checkpoints.load(tmp_path / "meta")
    shared = checkpoints.section(tensors, "model")
    assert sorted(shared) == ["cell.down.bias", "cell.down.weight", "cell.norm.weight", "cell.up.bias", "cell.up.weight", "y_init", "z_init"]
    assert checkpoints.section(tensors, "task.logic-verdict")["head.weight"].shape == (2, 8)
    # A task none of the meta-level's covers starts from the shared cell.
    from hybrid_trm.training.loop import build_model

    listops = build_model(TrainConfig(domain="listops", task="value", hidden=8, expansion=2))
    fresh = initialise(listops, tmp_path / "meta")
    assert "cell.up.weight" not in fresh and "kind_embedding.weight" in fresh and "head.weight" in fresh
    assert torch.equal(listops.cell.up.weight, shared["cell.up.weight"])
    with pytest.raises(checkpoints.CheckpointError, match="train --init"):
        load(tmp_path / "meta")


def test_meta_level_takes_one_scan_and_summary_for_every_task():
    from hybrid_trm.training.meta import MetaConfig, build

    models = build(MetaConfig(presets=["arith-mod10", "logic-verdict"], hidden=8, scan="answer", summary="share"))
    assert {(m.config.scan, m.config.summary) for m in models.values()} == {("answer", "share")}
    own = build(MetaConfig(presets=["arith-mod10", "listops-value"], hidden=8))
    assert own["arith-mod10"].config.scan == "latent" and own["listops-value"].config.scan == "answer"  # each preset's


def test_meta_level_needs_two_known_presets():
    from hybrid_trm.training.meta import MetaConfig, build

    with pytest.raises(HybridTRMError, match="two or more"):
        build(MetaConfig(presets=["arith-mod10"]))
    with pytest.raises(HybridTRMError, match="unknown: nope"):
        build(MetaConfig(presets=["arith-mod10", "nope"]))


def test_a_curriculum_batch_can_mix_in_the_whole_range():
    from hybrid_trm.training.loop import GeneratedBatches

    config = TrainConfig(domain="listops", task="value", difficulty={"depth": 6, "depth_min": 6}, batch_size=8)
    easy = {"depth": 1, "depth_min": 1}
    pure = next(iter(GeneratedBatches(config, 0, easy)))
    mixed = next(iter(GeneratedBatches(config, 0, easy, mix=0.5)))
    assert len(pure.levels) == 2  # digits and one list above them
    heights = [int(mixed.height[mixed.roots[i]]) for i in range(8)]
    assert sorted(heights) == [1] * 4 + [6] * 4, heights


def test_cli_bench_curriculum_and_adapt(cli, tmp_path):
    result = cli("bench", "curriculum", "--preset", "logic-relation", "--steps", 2, "--eval-every", 1, "-n", 5, "--json", "--out", "c")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [r["schedule"] for r in out["runs"]] == ["uniform", "curriculum"]
    assert out["runs"][1]["levels"][0][:2] == [0, 0] and out["runs"][0]["levels"] == []
    from hybrid_trm.training.meta import MetaConfig, train_meta

    train_meta(MetaConfig(presets=["arith-mod10", "logic-verdict"], steps=1, batch_size=2, hidden=8, eval_examples=2), tmp_path / "meta")
    result = cli("bench", "adapt", "--meta", tmp_path / "meta", "--preset", "logic-relation", "--steps", 2, "--eval-every", 1, "--json", "--out", "a")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [r["start"] for r in out["runs"]] == ["scratch", "meta"]
    assert 0 <= out["goal"] <= 1
    bad = cli("bench", "adapt", "--meta", tmp_path / "nope", "--preset", "logic-relation")
    assert bad.exit_code == 2
    args = ("bench", "adapt", "--meta", tmp_path / "meta", "--steps", 2, "--eval-every", 1, "--json")
    result = cli(*args, "--domain", "listops", "--knob", "depth=2", "--out", "b")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["task"] == "listops/value"
    assert cli(*args, "--domain", "listops", "--preset", "listops-value").exit_code == 2
    unknown = cli(*args, "--domain", "listops", "--knob", "deep=2")
    assert unknown.exit_code == 2 and "unknown difficulty knob" in unknown.output


def test_root_supervision_labels_only_the_root():
    from hybrid_trm.training.loop import GeneratedBatches

    config = TrainConfig(domain="listops", task="value", difficulty={"depth": 3}, batch_size=4, supervision="root")
    tb = next(iter(GeneratedBatches(config, 0)))
    labelled = (tb.labels != -100).any(-1)
    assert labelled.nonzero().squeeze(1).tolist() == sorted(tb.roots.tolist())
    assert bool((tb.prefix_labels == -100).all())
    full = next(iter(GeneratedBatches(TrainConfig(domain="listops", task="value", difficulty={"depth": 3}, batch_size=4), 0)))
    assert torch.equal(full.labels[tb.roots], tb.labels[tb.roots]) and int((full.labels != -100).any(-1).sum()) > 4
    with pytest.raises(HybridTRMError, match="supervision must be"):
        TrainConfig(domain="listops", task="value", supervision="leaves")
