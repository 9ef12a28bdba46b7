"""The baselines of `bench accuracy` (model/baselines.py) run in the same loop and
evaluation as the recursive model, at its parameter count, and load back."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from typer.testing import CliRunner

from hybrid_trm import bench_accuracy, checkpoints
from hybrid_trm.cli.main import app
from hybrid_trm.domains import registry
from hybrid_trm.errors import CheckpointError, HybridTRMError
from hybrid_trm.evaluate import Recursion, evaluate_examples, load
from hybrid_trm.model.baselines import BASELINES, SequenceModel, preorder
from hybrid_trm.training.loop import GeneratedBatches, TrainConfig, build_model, train
from hybrid_trm.trees import batch, encode_texts

DOMAINS = [("listops", "value", {"depth": 3}), ("arith", "mod10", {"depth": 3, "digits": 2})]


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("domain,task,knobs", DOMAINS)
def test_baseline_trains_on_real_batches(name, domain, task, knobs):
    config = TrainConfig(domain=domain, task=task, difficulty=knobs, batch_size=6, model=name, hidden=16, layers=2)
    torch.manual_seed(0)
    model = build_model(config)
    tree_batch = next(iter(GeneratedBatches(config, 0)))
    output = model(tree_batch)
    assert output.final.shape == (tree_batch.nodes, 1, 10)
    output.loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and any(float(g.abs().sum()) > 0 for g in grads)
    # A few steps on one batch lower its loss: the read-out reaches the weights.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = output.loss.item()
    for _ in range(15):
        optimizer.zero_grad()
        loss = model(tree_batch).loss
        loss.backward()
        optimizer.step()
    assert float(model(tree_batch).loss) < first


def test_a_baseline_refuses_a_grid_task():
    with pytest.raises(HybridTRMError, match="one class per node"):
        build_model(TrainConfig(domain="arith", task="exact", model="lstm"))
    with pytest.raises(HybridTRMError, match="model must be"):
        TrainConfig(domain="arith", task="mod10", model="mlp")


def test_sequence_is_the_tree_in_preorder_with_closing_tokens():
    domain = registry.get("listops")
    tree_batch = batch(encode_texts(domain, domain.task("value"), ["[MAX 2 [MIN 4 7 ] ]"]))
    (sequence,) = preorder(tree_batch)
    n = tree_batch.nodes
    kinds = list(domain.node_kinds)
    words = []
    for token in sequence.tolist():
        if token >= n:
            words.append("]")
        else:
            k = kinds[int(tree_batch.kind[token])]
            words.append(str(int(tree_batch.literal[token, 0])) if k == "DIGIT" else k)
    assert words == ["max", "2", "min", "4", "7", "]", "]"]


def _root_logits(model, domain, task, texts):
    with torch.no_grad():
        tree_batch = batch(encode_texts(domain, domain.task(task), texts))
        return model(tree_batch, with_loss=False).final[tree_batch.roots]


def test_gin_sees_no_further_than_its_layers_and_the_tree_models_do():
    domain = registry.get("arith")
    # The two inputs differ only in a leaf four edges below the root.
    texts = ["1 + (2 + (3 + (4 + 5)))", "1 + (2 + (3 + (4 + 6)))"]
    torch.manual_seed(0)
    for name, layers, blind in (("gin", 3, True), ("gin", 4, False), ("treelstm", 1, False), ("transformer", 1, False)):
        model = build_model(TrainConfig(domain="arith", task="mod10", model=name, hidden=16, layers=layers)).eval()
        a, b = _root_logits(model, domain, "mod10", texts)
        assert torch.allclose(a, b) == blind, (name, layers)


def test_sequence_model_reads_long_inputs_in_chunks_as_one(monkeypatch):
    domain = registry.get("listops")
    texts = [domain.example(3, i, domain.difficulty(depth=4), "value").input for i in range(6)]
    torch.manual_seed(0)
    model = build_model(TrainConfig(domain="listops", task="value", model="transformer", hidden=16, layers=1)).eval()
    whole = _root_logits(model, domain, "value", texts)
    monkeypatch.setattr("hybrid_trm.model.baselines.CHUNK_BUDGET", 1)  # one tree per chunk
    assert isinstance(model, SequenceModel)
    assert torch.allclose(whole, _root_logits(model, domain, "value", texts), atol=1e-5)


@pytest.mark.parametrize("domain", list(bench_accuracy.SUITES))
def test_entrants_match_the_recursive_models_parameters(domain):
    configs = bench_accuracy.entrant_configs(bench_accuracy.SUITES[domain], steps=10, eval_examples=10)
    counts = {name: build_model(config).parameter_count() for name, (_, config) in configs.items()}
    ours = counts["recursive"]
    for name, count in counts.items():
        scale = bench_accuracy.ENTRANTS[name][3]
        assert 0.85 * scale * ours <= count <= 1.15 * scale * ours, (name, count, ours)
    ablation = configs["recursive-no-inner"][1]
    assert (ablation.inner_steps, ablation.outer_cycles, ablation.model) == (1, 1, "recursive")
    gin = configs["gin"][1]
    assert gin.layers == bench_accuracy.SUITES[domain].trained_depth
    seeds = {config.seed for _, config in configs.values()}
    assert len(seeds) == 1  # one data stream for every model


@pytest.mark.parametrize("name", ["gin", "lstm"])
def test_baseline_checkpoint_round_trips(tmp_path, name):
    config = TrainConfig(
        domain="arith", task="mod10", difficulty={"depth": 3, "digits": 2}, steps=2, batch_size=8, eval_every=2,
        eval_examples=8, model=name, hidden=16, layers=2,
    )
    train(config, tmp_path / name, resume=False)
    loaded = load(tmp_path / name)
    tensors, saved = checkpoints.load(tmp_path / name)
    assert type(loaded.model).__name__ == type(build_model(config)).__name__
    assert saved["model"]["baseline"] == name and saved["training"]["model"] == name
    state = loaded.model.state_dict()
    weights = checkpoints.section(tensors, "model")
    assert state.keys() == weights.keys() and all(torch.equal(state[k], weights[k]) for k in state)
    domain = registry.get("arith")
    examples = [domain.example(9, i, domain.difficulty(depth=3, digits=2), "mod10") for i in range(10)]
    report = evaluate_examples(loaded.model, domain, domain.task("mod10"), examples)
    assert report.n == 10 and 0.0 <= report.accuracy <= 1.0
    # Resuming the same run finds the same shape; a baseline has no recursion to change.
    train(dataclasses.replace(config, steps=3), tmp_path / name)
    with pytest.raises(CheckpointError, match="no recursion"):
        load(tmp_path / name, recursion=Recursion(inner_steps=2))


def test_bench_accuracy_json_has_the_promised_keys(tmp_path):
    result = CliRunner().invoke(app, [
        "bench", "accuracy", "--domain", "arith", "--quick", "--steps", "2", "-n", "6",
        "--model", "recursive", "--model", "treelstm", "--model", "transformer-10x",
        "--out", str(tmp_path), "--json",
    ])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"domain", "task", "steps", "trained_depth", "models", "gaps", "targets", "wall_seconds"} <= out.keys()
    assert out["domain"] == "arith" and out["steps"] == 2 and out["quick"] is True
    names = [m["model"] for m in out["models"]]
    assert names[:3] == ["recursive", "treelstm", "transformer-10x"]
    for m in out["models"]:
        assert {"parameters", "in_distribution", "beyond", "by_depth", "train_seconds", "seconds_to_target"} <= m.keys()
        assert set(m["beyond"]) == {"depth 20", "depth 40"}
        assert sum(v["n"] for v in m["by_depth"].values()) == 18  # every example of the 3 sets, once
    assert set(out["gaps"]) == {"depth 20", "depth 40"}
    assert set(out["targets"]) == {
        "ahead_of_every_baseline_beyond_training", "ahead_of_every_other_architecture_beyond_training",
        "transformer_10x_below_beyond_training",
    }
    gap = out["gaps"]["depth 20"]
    ours = next(m for m in out["models"] if m["model"] == "recursive")["beyond"]["depth 20"]
    rival = next(m for m in out["models"] if m["model"] == gap["best_baseline"])["beyond"]["depth 20"]
    assert gap["vs_best_baseline_points"] == pytest.approx(100 * (ours - rival))


def test_bench_accuracy_refuses_an_unknown_domain_or_model(tmp_path):
    result = CliRunner().invoke(app, ["bench", "accuracy", "--domain", "logic", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "bench accuracy runs on" in result.output
    result = CliRunner().invoke(app, ["bench", "accuracy", "--domain", "arith", "--model", "mlp", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown model" in result.output


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    bench = bench_accuracy.AccuracyBench("arith", "mod10", "arith-mod10", True, 1, 0.9, 6, 2, 2)
    bench.models.append(bench_accuracy.ModelResult(
        "recursive", "", 10, 1, 1.0, {"depth 20": 0.5}, {"3": {"accuracy": 1.0, "n": 2}, "20": {"accuracy": 0.5, "n": 2}},
        1.0, None, None,
    ))
    path = bench_accuracy.plot(bench, tmp_path / "acc.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_tie_with_the_cell_without_inner_recursion_is_not_ahead():
    bench = bench_accuracy.AccuracyBench("arith", "mod10", "arith-mod10", False, 1, 0.9, 6, 2, 2)

    def row(name, accuracy, trained_here=True):
        return bench_accuracy.ModelResult(name, "", 1, 1, 1.0, {"depth 20": accuracy}, {}, 1.0, None, None, trained_here)

    bench.models += [
        row("recursive", 1.0), row("recursive-no-inner", 1.0), row("treelstm", 0.45), row("transformer-10x", 0.15),
        row("recursive (shipped)", 1.0, trained_here=False),
    ]
    gap = bench.gaps()["depth 20"]
    assert gap["vs_best_baseline_points"] == 0.0
    assert gap["best_other_architecture"] == "treelstm" and gap["vs_best_other_architecture_points"] == pytest.approx(55.0)
    assert gap["vs_transformer_10x_points"] == pytest.approx(85.0)
    assert bench.targets() == {
        "ahead_of_every_baseline_beyond_training": False,
        "ahead_of_every_other_architecture_beyond_training": True,
        "transformer_10x_below_beyond_training": True,
    }
