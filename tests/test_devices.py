"""Devices (`--device cpu|cuda|cuda:N|mps|auto`): names resolved or refused in one
line, the CPU by default, every tensor the model makes on its device, and
`hybrid-trm bench device`.

Here (CI, no GPU) the CPU runs everything, a device the machine lacks is refused
through every command, and the forward is checked to make each tensor on the
model's device with the default device set to `meta` (a tensor made without
device= lands there, and mixing it with the model's fails). The tests marked
`cuda` run where torch sees a GPU (`pytest tests/test_devices.py` on a GPU
machine): the GPU gives the CPU's answers, trains to the CPU's weights within a
stated tolerance, and its checkpoints load on the CPU.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from hybrid_trm import checkpoints, devices, pretrained
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.inference import predict
from hybrid_trm.loading import load
from hybrid_trm.model.baselines import BASELINES
from hybrid_trm.training.distributed import Ranks, rank_device
from hybrid_trm.training.loop import GeneratedBatches, TrainConfig, build_model, train
from hybrid_trm.training.presets import PRESETS
from hybrid_trm.trees import batch, encode_texts
from test_cli import assert_answered, assert_user_error

CUDA = torch.cuda.is_available()
MPS = devices._mps_available()
cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (run on a GPU machine)")
no_cuda = pytest.mark.skipif(CUDA, reason="this machine has a CUDA GPU: cuda is not refused here")

# Where a GPU's answers and weights may differ from the CPU's: float32 sums in
# another order (a GPU's matmul reduces in blocks). On answers, a probability
# differs in the last bits; AdamW's first steps move each weight by about the
# learning rate whatever the gradient's size (2e-3 x warmup: 1e-5 a step), so
# three steps stay well within 1e-4 even where a tiny gradient's sign flips.
CONFIDENCE_TOLERANCE = 1e-4
WEIGHT_TOLERANCE = 1e-4


def generated(domain: str, task: str, n: int, seed: int = 3, **knobs) -> list[str]:
    from hybrid_trm.domains import registry

    dom = registry.get(domain)
    difficulty = dom.difficulty(**knobs)
    return [dom.example(seed, i, difficulty, task).input for i in range(n)]


# --- names ------------------------------------------------------------------------


def test_names_resolve_to_torch_devices():
    assert devices.resolve(None) == devices.resolve("cpu") == devices.resolve(" CPU ") == torch.device("cpu")
    assert devices.checked_name("Cuda:1") == "cuda:1"  # checked without torch; resolved where it exists
    for bad in ("gpu", "cuda:", "cuda:x", "cpu:0", "tpu", ""):
        with pytest.raises(HybridTRMError, match="device must be cpu, cuda, cuda:N, mps or auto"):
            devices.resolve(bad)


def test_auto_takes_cuda_then_mps_then_the_cpu():
    expected = "cuda" if CUDA else "mps" if MPS else "cpu"
    assert devices.resolve("auto").type == expected
    assert (devices.accelerator() is None) == (expected == "cpu")


@no_cuda
def test_cuda_is_refused_in_one_line_where_there_is_none():
    for name in ("cuda", "cuda:0", "cuda:3"):
        with pytest.raises(HybridTRMError) as err:
            devices.resolve(name)
        message = str(err.value)
        assert f"device {name} is not available" in message and "use cpu" in message and "\n" not in message


@pytest.mark.skipif(MPS, reason="this machine has MPS")
def test_mps_is_refused_where_there_is_none():
    with pytest.raises(HybridTRMError, match="device mps is not available"):
        devices.resolve("mps")


def test_names_are_checked_without_torch():
    code = (
        "import sys\nfrom hybrid_trm import devices\n"
        "print(devices.checked_name('AUTO'), 'torch' in sys.modules)\n"
        "try:\n    devices.checked_name('gpu')\nexcept Exception as err:\n    print(type(err).__name__, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["auto", "False", "HybridTRMError", "False"]


def test_a_rank_trains_on_the_cpu_or_its_own_gpu():
    assert rank_device("cpu", Ranks(1, 2, 1)) == torch.device("cpu")
    assert rank_device(None, Ranks()) == torch.device("cpu")
    if CUDA:
        assert rank_device("cuda", Ranks(0, 2, 0)) == torch.device("cuda", 0)
        with pytest.raises(HybridTRMError, match="pass --device cuda, not cuda:0"):
            rank_device("cuda:0", Ranks(1, 2, 1))
        with pytest.raises(HybridTRMError, match="processes per machine"):
            rank_device("cuda", Ranks(0, 2, torch.cuda.device_count()))


# --- every tensor on the model's device -------------------------------------------


@pytest.fixture
def default_device_meta():
    """Tensors made without a device land on `meta`; the model's stay on the CPU."""
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device("cpu")


@pytest.mark.parametrize("domain, task, n", [("listops", "value", 300), ("arith", "exact", 20), ("logic", "verdict", 20)])
def test_inference_makes_every_tensor_on_the_models_device(domain, task, n):
    """ListOps' 300 inputs share their leaves (distinct_leaves), arith's grid
    carries, logic runs its distinct cells (cells.py, numpy on the CPU) with halting."""
    loaded = load(pretrained.require(domain, task))
    texts = generated(domain, task, n)
    width = loaded.config.get("training", {}).get("width")
    expected = [p.answer for p in predict(loaded.model, loaded.domain, loaded.task, texts, width=width)]
    torch.set_default_device("meta")
    try:
        answers = [p.answer for p in predict(loaded.model, loaded.domain, loaded.task, texts, width=width)]
    finally:
        torch.set_default_device("cpu")
    assert answers == expected


@pytest.mark.parametrize("preset", ["listops-value", "arith-exact", "logic-verdict"])
def test_training_makes_every_tensor_on_the_models_device(preset, default_device_meta):
    """The loss with halting and exploration, and halting sampled (the depth reward's policy)."""
    torch.set_default_device("cpu")  # the model and its batch are made as a user makes them
    config = dataclasses.replace(PRESETS[preset], halting=True, batch_size=4, hidden=16)
    model = build_model(config)
    tree_batch = next(iter(GeneratedBatches(config, 0)))
    torch.set_default_device("meta")
    model(tree_batch, explore=0.5).loss.backward()
    assert model(tree_batch, with_loss=False, halting="sample").halt_log_prob.device.type == "cpu"


@pytest.mark.parametrize("baseline", BASELINES)
def test_baselines_make_every_tensor_on_their_device(baseline, default_device_meta):
    torch.set_default_device("cpu")
    config = dataclasses.replace(PRESETS["arith-exact"], model=baseline, batch_size=4, hidden=16)
    model = build_model(config)
    tree_batch = next(iter(GeneratedBatches(config, 0)))
    torch.set_default_device("meta")
    model(tree_batch).loss.backward()


def test_a_batch_moves_whole():
    tree_batch = batch(encode_texts(*_listops(), generated("listops", "value", 5)))
    assert tree_batch.to("cpu") is tree_batch  # already there: no copy
    moved = tree_batch.to("meta")
    fields = {f.name: getattr(moved, f.name) for f in dataclasses.fields(moved)}
    assert all(v.device.type == "meta" for k, v in fields.items() if isinstance(v, torch.Tensor))
    assert moved.levels == tree_batch.levels and moved.reads is None


def _listops():
    from hybrid_trm.domains import registry

    dom = registry.get("listops")
    return dom, dom.task("value")


# --- the commands on the CPU --------------------------------------------------------


def test_every_command_runs_on_the_cpu(cli, tmp_path, arith_mod10_checkpoint):
    for device in ("cpu", "auto") if not (CUDA or MPS) else ("cpu",):
        assert_answered(cli("solve", "[MAX 2 9 [MIN 4 7 ] 0 ]", "--device", device, "--json"))
    cli("generate", "arith", "--task", "mod10", "-n", 10, "--out", tmp_path / "data.jsonl")
    result = cli("eval", "arith", tmp_path / "data.jsonl", "--checkpoint", arith_mod10_checkpoint, "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 10
    out = tmp_path / "run"
    result = cli("train", "arith", "--task", "mod10", "--steps", 2, "--batch-size", 4, "--hidden", 8, "--out", out, "--device", "cpu")
    assert result.exit_code == 0, result.output
    tensors, config = checkpoints.load(out)
    assert config["metrics"]["device"] == "cpu"
    assert all(t.device.type == "cpu" for t in tensors.values())


@no_cuda
@pytest.mark.parametrize("command", [
    ("solve", "[MAX 2 9 [MIN 4 7 ] 0 ]"),
    ("eval", "--benchmark", "listops", "--limit", "5"),
    ("train", "arith", "--task", "mod10", "--steps", "2", "--batch-size", "4"),
    ("train", "--depth-rl", "--init", "nowhere"),
    ("bench", "device", "--steps", "1", "-n", "5"),
    ("bench", "logic", "-n", "1"),
])
def test_an_unavailable_device_is_a_user_error(cli, command):
    args = [*command, "--device", "cuda"]
    if command[0] == "train" and "--depth-rl" in command:
        args = [*command, "--device", "cuda:1"]
    assert_user_error(cli(*args), "is not available", "use cpu")


def test_a_device_name_is_checked(cli):
    assert_user_error(cli("solve", "[MAX 1 2 ]", "--device", "gpu"), "device must be cpu, cuda, cuda:N, mps or auto, not 'gpu'")


def test_the_numpy_runtime_runs_on_the_cpu(cli):
    assert_user_error(cli("solve", "[MAX 1 2 ]", "--runtime", "numpy", "--device", "cuda"), "the numpy runtime runs on the CPU")
    assert_answered(cli("solve", "[MAX 1 2 ]", "--runtime", "numpy", "--device", "auto", "--json"))


def test_the_python_api_takes_a_device():
    import hybrid_trm

    r = hybrid_trm.load("listops", device="cpu")
    assert devices.of(r.loaded.model) == torch.device("cpu")
    assert r.solve("[MAX 2 9 [MIN 4 7 ] 0 ]").answer == "9"
    with pytest.raises(HybridTRMError, match="numpy runtime runs on the CPU"):
        hybrid_trm.load("listops", runtime="numpy", device="mps")


def test_bench_device_on_the_cpu(cli):
    result = cli("bench", "device", "--device", "cpu", "--steps", 2, "-n", 20, "--repeats", 1, "--batch-size", 4, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [row["device"] for row in report["devices"]] == ["cpu"]
    assert report["vs_cpu"] is None and report["accelerator_missing"].startswith("--device cpu")
    row = report["devices"][0]
    assert row["train_steps_per_s"] > 0 and row["train_model_steps_per_s"] > 0 and row["eval_nodes_per_s"] > 0
    assert row["eval_model_nodes_per_s"] >= row["eval_nodes_per_s"]  # the model stage is part of the whole
    assert report["eval_inputs"] == 20 and report["eval_nodes"] > 20


@pytest.mark.skipif(CUDA or MPS, reason="this machine has an accelerator")
def test_bench_device_says_when_there_is_no_accelerator(cli):
    result = cli("bench", "device", "--steps", 1, "-n", 10, "--repeats", 1, "--batch-size", 4)
    assert result.exit_code == 0, result.output
    assert "no accelerator here" in result.stdout and "the CPU alone" in result.stdout


# --- on a GPU: the CPU's answers and weights ----------------------------------------


@cuda
@pytest.mark.parametrize("domain, task, n", [("listops", "value", 600), ("arith", "exact", 100), ("logic", "verdict", 60)])
def test_cuda_gives_the_cpus_answers(domain, task, n):
    texts = generated(domain, task, n)
    on_cpu, on_gpu = load(pretrained.require(domain, task)), load(pretrained.require(domain, task), device="cuda")
    assert devices.of(on_gpu.model).type == "cuda"
    width = on_cpu.config.get("training", {}).get("width")
    ours, theirs = (predict(loaded.model, loaded.domain, loaded.task, texts, width=width) for loaded in (on_gpu, on_cpu))
    assert [p.answer for p in ours] == [p.answer for p in theirs]
    assert max(abs(a.confidence - b.confidence) for a, b in zip(ours, theirs)) < CONFIDENCE_TOLERANCE
    assert [p.node_steps for p in ours] == [p.node_steps for p in theirs]  # halting decided alike


@cuda
def test_cuda_solve_and_eval_commands_match_the_cpu(cli):
    for device in ("cpu", "cuda"):
        solved = json.loads(cli("solve", "[MAX 2 9 [MIN 4 7 ] 0 ]", "--device", device, "--json").stdout)
        assert solved["answer"] == "9"
    scores = [
        json.loads(cli("eval", "--benchmark", "listops", "--limit", 200, "--device", device, "--json").stdout)
        for device in ("cpu", "cuda")
    ]
    assert scores[0]["accuracy"] == scores[1]["accuracy"] and scores[0]["n"] == scores[1]["n"] == 200


@cuda
@pytest.mark.parametrize("halting", [False, True])
def test_cuda_trains_the_cpus_weights(tmp_path, halting):
    """Same seed, same batches: three steps on the GPU end within WEIGHT_TOLERANCE
    of the CPU's (halting: exploration off, its draws are each device's own), and
    the checkpoint, written as CPU tensors, loads on the CPU."""
    config = TrainConfig(
        domain="arith", task="mod10", steps=3, batch_size=8, hidden=16, eval_every=3, eval_examples=8, save_every=3,
        halting=halting, halt_explore=0.0,
    )
    metrics = {device: train(config, tmp_path / device, resume=False, device=device) for device in ("cpu", "cuda")}
    (gpu, gpu_config), (cpu, _) = checkpoints.load(tmp_path / "cuda"), checkpoints.load(tmp_path / "cpu")
    assert gpu_config["metrics"]["device"] == "cuda"
    assert metrics["cuda"]["loss"] == pytest.approx(metrics["cpu"]["loss"], abs=1e-4)
    for name, tensor in cpu.items():
        assert gpu[name].device.type == "cpu"
        torch.testing.assert_close(gpu[name], tensor, rtol=0, atol=WEIGHT_TOLERANCE, msg=lambda m, name=name: f"{name}: {m}")
    loaded = load(tmp_path / "cuda")  # on the CPU, from the GPU's run
    assert devices.of(loaded.model).type == "cpu"


@cuda
def test_cuda_resumes_a_cpu_run(tmp_path):
    """A run started on the CPU continues on the GPU: AdamW's moments move with the weights."""
    config = TrainConfig(domain="arith", task="mod10", steps=2, batch_size=8, hidden=16, eval_every=4, eval_examples=8, save_every=2)
    train(config, tmp_path / "run", device="cpu")
    metrics = train(dataclasses.replace(config, steps=4), tmp_path / "run", device="cuda")
    assert checkpoints.load(tmp_path / "run")[1]["step"] == 4 and metrics["device"] == "cuda"


@cuda
def test_cuda_depth_reward_and_meta_level(tmp_path, halting_checkpoint):
    from hybrid_trm.training.depth_rl import DepthRLConfig, fine_tune
    from hybrid_trm.training.meta import MetaConfig, train_meta

    fine_tune(halting_checkpoint, tmp_path / "rl", DepthRLConfig(steps=2, batch_size=4, controller=True), device="cuda")
    assert load(tmp_path / "rl").model.config.controller
    metrics = train_meta(
        MetaConfig(presets=["arith-mod10", "logic-verdict"], steps=2, batch_size=4, eval_examples=4), tmp_path / "meta", device="cuda",
    )
    assert set(metrics["eval_accuracy"]) == {"arith-mod10", "logic-verdict"}


@cuda
@pytest.mark.parametrize("baseline", BASELINES)
def test_cuda_baselines_answer_as_on_the_cpu(baseline, monkeypatch):
    # cuDNN may run the LSTM in TF32 (10-bit mantissa) on recent GPUs: off, to compare float32 with float32.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    config = dataclasses.replace(PRESETS["arith-exact"], model=baseline, batch_size=8, hidden=16)
    torch.manual_seed(0)
    model = build_model(config).eval()
    tree_batch = next(iter(GeneratedBatches(config, 0)))
    with torch.no_grad():
        on_cpu = model(tree_batch).final
        on_gpu = model.to("cuda")(tree_batch).final
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, rtol=0, atol=1e-4)


@cuda
def test_bench_device_compares_cuda_with_the_cpu(cli):
    result = cli("bench", "device", "--device", "cuda", "--steps", 2, "-n", 50, "--repeats", 1, "--batch-size", 8, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [row["device"].split(":")[0] for row in report["devices"]] == ["cpu", "cuda"]
    assert set(report["vs_cpu"]) == {"train_steps_per_s", "train_model_steps_per_s", "eval_nodes_per_s", "eval_model_nodes_per_s"}
    assert report["agreement"]["answers_agree"] == report["agreement"]["inputs"] == 50


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs")
def test_torchrun_on_two_gpus_trains_with_nccl(tmp_path):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "hybrid_trm", "train",
        "arith", "--task", "mod10", "--batch-size", "8", "--hidden", "16", "--steps", "3", "--out", str(tmp_path / "two"),
        "--device", "cuda",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    metrics = checkpoints.load(tmp_path / "two")[1]["metrics"]
    assert metrics["ranks"] == 2 and metrics["device"] == "cuda"
