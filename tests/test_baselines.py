"""The baselines of `bench accuracy` (model/baselines.py) run in the same loop and
evaluation as the recursive model, at its parameter count, and load back."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from typer.testing import CliRunner

from hybrid_trm import checkpoints
from hybrid_trm.bench import accuracy as bench_accuracy
from hybrid_trm.cli.main import app
from hybrid_trm.domains import registry
from hybrid_trm.errors import CheckpointError, HybridTRMError
from hybrid_trm.evaluate import evaluate_examples
from hybrid_trm.loading import load, Recursion
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
    assert model(tree_batch).loss.item() < first


def test_an_unknown_model_is_refused():
    with pytest.raises(HybridTRMError, match="model must be"):
        TrainConfig(domain="arith", task="mod10", model="mlp")


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_answers_each_world_apart(name):
    """On a grid of worlds a baseline answers world p from world p's atoms alone:
    its answers there are those it gives on a one-world grid holding only them."""
    config = TrainConfig(
        domain="logic", task="relation", difficulty={"variables": 3, "depth": 2}, batch_size=4, width=8,
        model=name, hidden=16, layers=2,
    )
    torch.manual_seed(0)
    model = build_model(config)
    tree_batch = next(iter(GeneratedBatches(config, 0)))
    output = model(tree_batch)
    assert output.final.shape == (tree_batch.nodes, 8, model.config.classes)
    output.loss.backward()
    assert any(float(p.grad.abs().sum()) > 0 for p in model.parameters() if p.grad is not None)
    model.eval()
    with torch.no_grad():
        whole = model(tree_batch, with_loss=False).final
        for world in (0, 5):
            alone = dataclasses.replace(
                tree_batch, literal=tree_batch.literal[:, world : world + 1], labels=tree_batch.labels[:, world : world + 1],
                prefix_labels=tree_batch.prefix_labels[:, world : world + 1],
            )
            assert torch.allclose(model(alone, with_loss=False).final[:, 0], whole[:, world], atol=1e-5)


def test_a_baseline_refuses_quantifiers():
    config = TrainConfig(
        domain="logic", task="verdict", difficulty={"first_order": 1, "variables": 2, "depth": 2}, batch_size=2, width=8,
        model="treelstm", hidden=16,
    )
    tree_batch = next(iter(GeneratedBatches(config, 0)))
    assert tree_batch.reads is not None
    with pytest.raises(HybridTRMError, match="quantifier reads its body in other worlds"):
        build_model(config)(tree_batch)


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_answers_an_integers_digit_grid(name):
    """On arith/exact a baseline reads each number's digits and answers every digit
    of every node on the grid it trained on, and learns from those labels."""
    config = TrainConfig(
        domain="arith", task="exact", difficulty={"operands": 4, "digits": 2, "ops": "+-"}, batch_size=8, width=5,
        model=name, hidden=16, layers=2,
    )
    torch.manual_seed(0)
    model = build_model(config)
    assert model.config.positions == 5
    tree_batch = next(iter(GeneratedBatches(config, 0)))
    assert tree_batch.literal.shape[1] == 5
    output = model(tree_batch)
    assert output.final.shape == (tree_batch.nodes, 5, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = output.loss.item()
    for _ in range(15):
        optimizer.zero_grad()
        model(tree_batch).loss.backward()
        optimizer.step()
    assert model(tree_batch).loss.item() < first
    # Two numbers that differ only in their tens digit embed differently.
    domain, task = registry.get("arith"), registry.get("arith").task("exact")
    a, b = (model.node_embedding(batch(encode_texts(domain, task, [t], width=5)))[0] for t in ("15", "25"))
    assert not torch.allclose(a, b)


def test_baseline_pads_a_narrower_grid_and_refuses_a_wider_one():
    domain, task = registry.get("arith"), registry.get("arith").task("exact")
    torch.manual_seed(0)
    model = build_model(TrainConfig(domain="arith", task="exact", width=6, model="treelstm", hidden=16)).eval()
    texts = ["12 + 3 - 40", "7 - 8"]
    with torch.no_grad():
        wide = model(batch(encode_texts(domain, task, texts, width=6)), with_loss=False).final
        narrow = model(batch(encode_texts(domain, task, texts, width=4)), with_loss=False).final
    assert narrow.shape[1] == 4
    assert torch.allclose(narrow, wide[:, :4])  # the same number read on either grid
    with pytest.raises(HybridTRMError, match="grid of 6 position"):
        model(batch(encode_texts(domain, task, texts, width=8)), with_loss=False)


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


def test_lstm_is_a_bidirectional_lstm_that_never_reads_padding():
    """The padded run with per-sequence reversal computes what a packed
    bidirectional LSTM with the same weights computes, at every real token."""
    torch.manual_seed(0)
    model = build_model(TrainConfig(domain="listops", task="value", model="lstm", hidden=8, layers=2))
    packed_lstm = torch.nn.LSTM(8, 8, 2, batch_first=True, bidirectional=True)
    weights = {}
    for layer in range(2):
        for suffix, directions in (("", model.ahead), ("_reverse", model.behind)):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                weights[f"{name}_l{layer}{suffix}"] = getattr(directions[layer], f"{name}_l0")
    packed_lstm.load_state_dict(weights)
    x, lengths = torch.randn(3, 7, 8), torch.tensor([7, 4, 2])
    padding = torch.arange(7)[None] >= lengths[:, None]
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected = torch.nn.utils.rnn.pad_packed_sequence(packed_lstm(packed)[0], batch_first=True, total_length=7)[0]
    with torch.no_grad():
        assert torch.allclose(model.encode(x, padding)[~padding], expected[~padding], atol=1e-6)


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


SUITES = [(domain, task) for domain, tasks in bench_accuracy.SUITES.items() for task in tasks]


@pytest.mark.parametrize("domain,task", SUITES)
def test_entrants_match_the_recursive_models_parameters(domain, task):
    suite = bench_accuracy.suite_for(domain, task)
    configs = bench_accuracy.entrant_configs(suite, steps=10, eval_examples=10)
    counts = {name: build_model(config).parameter_count() for name, (_, config) in configs.items()}
    ours = counts["recursive"]
    for name, count in counts.items():
        scale = bench_accuracy.ENTRANTS[name][3]
        assert 0.85 * scale * ours <= count <= 1.15 * scale * ours, (name, count, ours)
    ablation = configs["recursive-no-inner"][1]
    assert (ablation.inner_steps, ablation.outer_cycles, ablation.model) == (1, 1, "recursive")
    gin = configs["gin"][1]
    assert gin.layers == suite.trained_depth
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
        "bench", "accuracy", "--domain", "arith", "--task", "mod10", "--quick", "--steps", "2", "-n", "6",
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
    result = CliRunner().invoke(app, ["bench", "accuracy", "--domain", "circuits", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "bench accuracy runs on" in result.output
    result = CliRunner().invoke(app, ["bench", "accuracy", "--domain", "arith", "--model", "mlp", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown model" in result.output
    result = CliRunner().invoke(app, ["bench", "accuracy", "--domain", "arith", "--task", "value", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "on task exact or mod10" in result.output


def test_bench_accuracy_runs_in_this_process_with_one_job(tmp_path):
    steps = []
    result = bench_accuracy.run(
        "logic", tmp_path, quick=True, steps=2, n=3, models=["recursive", "treelstm"], jobs=1,
        on_step=lambda name, step, total: steps.append((name, step, total)),
    )
    assert [m.model for m in result.models] == ["recursive", "treelstm", "recursive (shipped)"]
    assert steps == [("recursive", 1, 2), ("recursive", 2, 2), ("treelstm", 1, 2), ("treelstm", 2, 2)]
    assert all(set(m.beyond) == {"depth 7-9", "depth 10-13"} for m in result.models)
    with pytest.raises(HybridTRMError, match="jobs must be at least 1"):
        bench_accuracy.run("logic", tmp_path, quick=True, jobs=0)
    assert sorted(bench_accuracy.HEAVIEST_FIRST) == sorted(bench_accuracy.ENTRANTS)  # every entrant has its place in the queue


def test_reuse_scores_a_checkpoint_of_the_same_recipe_and_trains_a_changed_one(tmp_path):
    def run(steps, reuse):
        seen = []
        result = bench_accuracy.run(
            "arith", tmp_path, quick=True, steps=steps, n=3, models=["recursive", "treelstm"], jobs=1, task="mod10",
            on_step=lambda name, step, total: seen.append(name), reuse=reuse,
        )
        return {m.model: m for m in result.models}, set(seen)

    first, trained = run(2, reuse=False)
    assert trained == {"recursive", "treelstm"} and not any(m.reused for m in first.values())
    again, trained = run(2, reuse=True)  # the same recipe and steps: scored, not trained
    assert trained == set() and again["recursive"].reused and again["treelstm"].reused
    for name in ("recursive", "treelstm"):
        assert again[name].in_distribution == first[name].in_distribution and again[name].beyond == first[name].beyond
        assert again[name].train_seconds == first[name].train_seconds
    longer, trained = run(3, reuse=True)  # another recipe (more steps): trained again
    assert trained == {"recursive", "treelstm"} and not any(m.reused for m in longer.values())


def test_arith_runs_exact_by_default():
    assert bench_accuracy.suite_for("arith").preset == "arith-exact"
    assert bench_accuracy.suite_for("arith", "mod10").preset == "arith-mod10"


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
