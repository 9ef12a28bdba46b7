"""Checkpoints (safetensors + JSON, never pickle) and the training loop that
writes them: round trip, refusal of mismatched or missing files, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from hybrid_trm import checkpoints
from hybrid_trm.errors import CheckpointError
from hybrid_trm.loading import load
from hybrid_trm.training.loop import TrainConfig, train

TINY = dict(domain="arith", task="mod10", save_every=2, eval_every=2, eval_examples=8, batch_size=4, hidden=16)


def sample_config(**more):
    """The smallest config a checkpoint's loader accepts: one model's."""
    vocab = {"node_kinds": ["NUMBER", "add"], "answers": ["0", "1"]}
    return {"domain": "arith", "task": "mod10", "vocab": vocab, "model": {"kinds": 2}, **more}


def sample_tensors():
    g = torch.Generator().manual_seed(0)
    return {"model.w": torch.randn(3, 4, generator=g), "model.b": torch.arange(5), "train.x": torch.zeros(2, dtype=torch.float64)}


def test_round_trip(tmp_path):
    tensors = sample_tensors()
    config = sample_config(step=7, nested={"a": [1, 2]})
    base = checkpoints.save(tmp_path / "run", tensors, config)
    assert checkpoints.exists(base)
    assert (tmp_path / "run.safetensors").is_file() and (tmp_path / "run.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "run.safetensors"]  # no temp files left
    for name in ("run", "run.safetensors", "run.json"):
        loaded, cfg = checkpoints.load(tmp_path / name)
        assert set(loaded) == set(tensors)
        for k in tensors:
            assert loaded[k].dtype == tensors[k].dtype and torch.equal(loaded[k], tensors[k])
        assert cfg["step"] == 7 and cfg["nested"] == {"a": [1, 2]} and cfg["format"] == 1
    assert checkpoints.section(loaded, "model").keys() == {"w", "b"}
    assert checkpoints.prefixed("model", {"w": 1}) == {"model.w": 1}


def test_a_name_with_a_dot_is_its_own_checkpoint(tmp_path):
    """`--out runs/lr0.003` and `--out runs/lr0.001` are two runs, not one file pair
    `runs/lr0.*` that the second overwrites."""
    checkpoints.save(tmp_path / "lr0.003", sample_tensors(), sample_config(step=3))
    checkpoints.save(tmp_path / "lr0.001", sample_tensors(), sample_config(step=1))
    assert checkpoints.load(tmp_path / "lr0.003")[1]["step"] == 3
    assert checkpoints.load(tmp_path / "lr0.001")[1]["step"] == 1
    assert (tmp_path / "lr0.003.safetensors").is_file()


def test_mismatched_pair_is_refused(tmp_path):
    checkpoints.save(tmp_path / "a", sample_tensors(), sample_config(step=10))
    checkpoints.save(tmp_path / "b", sample_tensors(), sample_config(step=20))
    (tmp_path / "a.json").write_text((tmp_path / "b.json").read_text())
    with pytest.raises(CheckpointError, match="step"):
        checkpoints.load(tmp_path / "a")
    # Editing the step in the JSON alone is caught the same way.
    cfg = json.loads((tmp_path / "b.json").read_text())
    cfg["step"] = 21
    (tmp_path / "b.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError):
        checkpoints.load(tmp_path / "b")


def test_missing_or_unreadable_files_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="missing"):
        checkpoints.load(tmp_path / "nothing")
    checkpoints.save(tmp_path / "c", sample_tensors(), sample_config(step=1))
    (tmp_path / "c.json").unlink()
    assert not checkpoints.exists(tmp_path / "c")
    with pytest.raises(CheckpointError, match="c.json"):
        checkpoints.load(tmp_path / "c")

    checkpoints.save(tmp_path / "d", sample_tensors(), sample_config(step=1))
    (tmp_path / "d.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(CheckpointError, match="unreadable"):
        checkpoints.load(tmp_path / "d")

    checkpoints.save(tmp_path / "e", sample_tensors(), sample_config(step=1))
    (tmp_path / "e.json").write_text("{ not json")
    with pytest.raises(CheckpointError, match="unreadable"):
        checkpoints.load(tmp_path / "e")

    checkpoints.save(tmp_path / "f", sample_tensors(), sample_config(step=1))
    cfg = json.loads((tmp_path / "f.json").read_text())
    cfg["format"] = 99
    (tmp_path / "f.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="format"):
        checkpoints.load(tmp_path / "f")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One uninterrupted 4-step run and one run of 2 steps resumed to 4."""
    root = tmp_path_factory.mktemp("runs")
    full_metrics = train(TrainConfig(steps=4, **TINY), root / "full")
    first = train(TrainConfig(steps=2, **TINY), root / "resumed")
    after_two = checkpoints.load(root / "resumed")
    seen = []
    resumed_metrics = train(TrainConfig(steps=4, **TINY), root / "resumed", on_step=lambda s, m: seen.append(s))
    return root, full_metrics, first, after_two, resumed_metrics, seen


def test_training_writes_a_loadable_checkpoint(runs):
    root, metrics, *_ = runs
    tensors, cfg = checkpoints.load(root / "full")
    assert cfg["step"] == 4
    assert (cfg["domain"], cfg["task"]) == ("arith", "mod10")
    assert cfg["model"]["hidden"] == 16
    assert cfg["vocab"]["answers"] == [str(d) for d in range(10)]
    assert cfg["training"]["steps"] == 4
    assert 0.0 <= cfg["metrics"]["eval_accuracy"] <= 1.0 and cfg["metrics"]["loss"] > 0
    assert any(k.startswith("model.") for k in tensors) and any(k.startswith("train.optim.") for k in tensors)
    loaded = load(root / "full")
    assert loaded.model.config.hidden == 16 and loaded.task.name == "mod10"
    assert not loaded.model.training
    # The inference weights are the EMA ("model."), not the raw ones.
    state = loaded.model.state_dict()
    assert all(torch.equal(state[k], tensors["model." + k]) for k in state)
    assert set(metrics) >= {"loss", "eval_accuracy", "train_seconds"}


def test_resume_continues_from_the_saved_step(runs):
    root, full_metrics, first, after_two, resumed_metrics, seen = runs
    assert after_two[1]["step"] == 2
    assert seen == [3, 4]  # only the steps not yet done
    full, full_cfg = checkpoints.load(root / "full")
    resumed, resumed_cfg = checkpoints.load(root / "resumed")
    assert resumed_cfg["step"] == 4
    assert set(full) == set(resumed)
    # Batches are a function of (seed, step), and the optimizer state is restored:
    # the resumed run ends on exactly the weights of the uninterrupted one.
    different = [k for k in full if not torch.equal(full[k], resumed[k])]
    assert different == []
    assert resumed_metrics["loss"] == full_metrics["loss"]


def test_resume_refuses_another_shape_and_load_refuses_another_task(runs, tmp_path):
    root = runs[0]
    with pytest.raises(CheckpointError, match="another"):
        train(TrainConfig(steps=6, **{**TINY, "hidden": 8}), root / "resumed")
    with pytest.raises(CheckpointError, match="arith/mod10"):
        load(root / "full", "arith", "exact")
    with pytest.raises(CheckpointError, match="arith/mod10"):
        load(root / "full", "listops", None)
    assert load(root / "full", "arith", "mod10").domain.name == "arith"


def test_a_training_killed_mid_run_leaves_a_checkpoint_that_resumes_to_the_same_weights(tmp_path):
    """SIGKILL a `hybrid-trm train` once its first checkpoint is written (the CLI
    saves every TrainConfig.save_every steps): the checkpoint loads, and the run
    resumed from it ends on exactly the weights, raw and averaged, and the
    optimizer moments of an uninterrupted run of the same seed."""
    steps, every = 300, TrainConfig.save_every  # 250: the kill lands in the 50 steps after it
    out = tmp_path / "killed"
    command = [
        sys.executable, "-c", "from hybrid_trm.cli.main import main; main()", "train", "arith", "--task", "mod10",
        "--steps", str(steps), "--hidden", "8", "--batch-size", "1", "--knob", "depth=2", "--eval-every", str(steps),
        "--out", str(out),
    ]
    # Its own process group, so the kill takes its batch worker too, as a machine's would.
    run = subprocess.Popen(
        command, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not checkpoints.exists(out) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert run.poll() is None, f"the run ended before it could be killed: {run.stderr.read().decode()[-2000:]}"
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert run.returncode == -signal.SIGKILL
    saved, config = checkpoints.load(out)
    assert config["step"] == every and load(out).model.config.hidden == 8
    # Resumed here, as `train` resumes (the same function, the same config; eval only
    # writes metrics, so a smaller held-out set changes no weight), and run through here.
    same = TrainConfig(
        domain="arith", task="mod10", steps=steps, hidden=8, batch_size=1, difficulty={"depth": 2}, eval_every=steps,
        eval_examples=8,
    )
    seen = []
    train(same, out, on_step=lambda step, _: seen.append(step))
    assert seen == list(range(every + 1, steps + 1))
    train(same, tmp_path / "whole")
    resumed, _ = checkpoints.load(out)
    whole, _ = checkpoints.load(tmp_path / "whole")
    assert resumed.keys() == whole.keys() and any(k.startswith("train.optim.") for k in whole)
    assert [k for k in whole if not torch.equal(resumed[k], whole[k])] == []
