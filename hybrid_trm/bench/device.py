"""Training steps/s and eval nodes/s on the CPU and on an accelerator (CUDA or
MPS), measured side by side in one run: what `--device` buys on this machine
(`hybrid-trm bench device`).

Per device, on the same data:
- training: a preset's recipe through `train` (the loop as `hybrid-trm train`
  runs it: batches built by its data worker on the CPU, moved, forward, backward,
  AdamW, EMA), steps/s after a warm-up; and the same steps on batches built and
  moved beforehand, the device's own work alone (where the loop is much slower
  than this, the data worker, not the device, sets the pace);
- eval: the preset's shipped model through `evaluate_examples` (what `hybrid-trm
  eval` runs, parse included, in one process), nodes/s end to end and in its
  model stage alone (batch moved, forward, answers read back), the median of
  `repeats` runs; and whether its answers are the CPU's, input by input.

An accelerator runs a kernel after the call that queued it returns: every time
here ends where the results have come back (a loss read, logits copied to the
CPU), or after devices.synchronize.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from .. import devices, pretrained
from ..domains import registry
from ..domains.base import Example
from ..evaluate import evaluate_examples
from ..inference import predict
from ..loading import load, trained_width
from ..training.distributed import Ranks
from ..training.loop import GeneratedBatches, TrainConfig, _step, build_model, train

WARM_UP = 3  # steps (and eval runs on a few inputs) not timed: caches, kernels, the data worker, CUDA's context


@dataclass
class DeviceSpeed:
    device: str  # "cpu", "cuda:0"
    name: str  # the device as a person names it (devices.describe)
    train_steps_per_s: float  # the training loop end to end
    train_model_steps_per_s: float  # the same steps on batches built and moved before
    loss: float  # the loop's loss at its last step: near the CPU's (same seed, same data)
    eval_nodes_per_s: float  # evaluate_examples end to end, parse included, one process
    eval_model_nodes_per_s: float  # its model stage alone
    eval_accuracy: float
    answers: list[str] = field(default_factory=list, repr=False)  # per eval input: compared across devices
    confidences: list[float] = field(default_factory=list, repr=False)

    def to_json(self) -> dict:
        out = asdict(self)
        del out["answers"], out["confidences"]
        return out


@dataclass
class DeviceBench:
    preset: str
    batch_size: int  # trees per training step
    steps: int  # timed training steps per device
    eval_inputs: int
    eval_nodes: int
    rows: list[DeviceSpeed]  # the CPU first, then the accelerator (if any)
    # Why there is no accelerator row (None: there is one).
    accelerator_missing: str | None = None

    def ratios(self) -> dict[str, float] | None:
        """The accelerator's figures over the CPU's (None: CPU only)."""
        if len(self.rows) < 2:
            return None
        cpu, other = self.rows
        keys = ("train_steps_per_s", "train_model_steps_per_s", "eval_nodes_per_s", "eval_model_nodes_per_s")
        return {key: getattr(other, key) / getattr(cpu, key) for key in keys}

    def agreement(self) -> dict | None:
        """How the accelerator's eval answers compare with the CPU's, input by input (None: CPU only)."""
        if len(self.rows) < 2:
            return None
        cpu, other = self.rows
        return {
            "answers_agree": sum(a == b for a, b in zip(cpu.answers, other.answers)), "inputs": len(cpu.answers),
            "max_confidence_difference": max((abs(a - b) for a, b in zip(cpu.confidences, other.confidences)), default=0.0),
        }

    def to_json(self) -> dict:
        return {
            "preset": self.preset, "batch_size": self.batch_size, "steps": self.steps, "eval_inputs": self.eval_inputs,
            "eval_nodes": self.eval_nodes, "devices": [r.to_json() for r in self.rows], "vs_cpu": self.ratios(),
            "agreement": self.agreement(), "accelerator_missing": self.accelerator_missing,
        }


def training_loop_speed(config: TrainConfig, steps: int, device: torch.device) -> tuple[float, float]:
    """`train`'s steps/s on `device` (after WARM_UP steps; nothing kept) and its last loss.
    One step more than is timed: the last one evaluates and saves, which is not a step's work."""
    run = replace(config, steps=WARM_UP + steps + 1, eval_every=10**9, save_every=10**9, eval_examples=1)
    stamps: list[float] = []  # after step 1, 2, ...: `train` reads each step's loss, so the device is done
    with tempfile.TemporaryDirectory() as folder:
        metrics = train(run, Path(folder) / "run", resume=False, on_step=lambda *_: stamps.append(time.perf_counter()), device=device)
    return steps / (stamps[WARM_UP + steps - 1] - stamps[WARM_UP - 1]), metrics["loss"]


def training_model_speed(config: TrainConfig, steps: int, device: torch.device) -> float:
    """The loop's training step (training/loop.py's own: forward, backward, AdamW, EMA)
    on `device`, on batches of the same stream built and moved there before: steps/s."""
    torch.manual_seed(config.seed)
    model, ema = build_model(config).to(device), build_model(config).to(device)
    ema.load_state_dict(model.state_dict())
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    stream = iter(GeneratedBatches(config, 0))
    ready = [next(stream).to(device) for _ in range(WARM_UP + steps)]
    start = 0.0
    for step, tree_batch in enumerate(ready):
        if step == WARM_UP:
            devices.synchronize(device)
            start = time.perf_counter()
        _step(config, model, model, ema, optimizer, tree_batch, step, Ranks())
    devices.synchronize(device)
    return steps / (time.perf_counter() - start)


def eval_speed(path: Path, examples: list[Example], device: torch.device, repeats: int) -> tuple[float, float, float, list, int]:
    """The shipped model at `path` on `device`: evaluate_examples' nodes/s end to end
    and in its model stage (the run of median total of `repeats`), its accuracy, its
    predictions (answers compared across devices) and the nodes scored."""
    loaded = load(path, device=device)
    model, domain, task, width = loaded.model, loaded.domain, loaded.task, trained_width(loaded.config)
    evaluate_examples(model, domain, task, examples[:32], width=width, strict=True)  # warm-up
    runs = []
    for _ in range(repeats):
        timings: dict[str, float] = {}
        start = time.perf_counter()
        report = evaluate_examples(model, domain, task, examples, width=width, timings=timings, strict=True)
        runs.append((time.perf_counter() - start, timings["model"]))
    total, model_s = sorted(runs)[len(runs) // 2]
    nodes = sum(report.node_kinds.values())
    predictions = predict(model, domain, task, [e.input for e in examples], width=width)
    return nodes / total, nodes / model_s, report.accuracy, predictions, nodes


def run(
    preset: str, config: TrainConfig, accelerator: torch.device | None, steps: int, n: int, seed: int = 5, repeats: int = 3,
    accelerator_missing: str | None = None,
) -> DeviceBench:
    """Every figure on the CPU, then on `accelerator` (None: the CPU alone, and
    `accelerator_missing` says why), on the same training stream and eval inputs
    (`n` of the preset's training distribution, seed `seed`)."""
    domain = registry.get(config.domain)
    difficulty = domain.difficulty(**config.difficulty)
    examples = [domain.example(seed, i, difficulty, config.task) for i in range(n)]
    path = pretrained.require(config.domain, config.task)
    rows, nodes = [], 0
    for device in [torch.device("cpu")] + ([accelerator] if accelerator is not None else []):
        loop_rate, loss = training_loop_speed(config, steps, device)
        model_rate = training_model_speed(config, steps, device)
        eval_rate, eval_model_rate, accuracy, predictions, nodes = eval_speed(path, examples, device, repeats)
        rows.append(DeviceSpeed(
            str(device), devices.describe(device), loop_rate, model_rate, loss, eval_rate, eval_model_rate, accuracy,
            [p.answer for p in predictions], [p.confidence for p in predictions],
        ))
    return DeviceBench(preset, config.batch_size, steps, n, nodes, rows, accelerator_missing)

