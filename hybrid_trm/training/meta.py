"""The meta-level: one recursive cell trained on several tasks at once.

Each task keeps what is its own: the embeddings of its node kinds and literals,
the summaries of its children's answers, its heads and its carry (its task
embedding, in effect: nothing else tells the cell which task a node belongs to);
the cell's network (up, down, norm) and the latent and answer start states are
one set of weights, shared by every task. Every step takes one batch of each
task, from its preset's generator, and descends the sum of their losses.

The checkpoint keeps the shared weights under `model.` (named as in any
TreeReasoner) and each task's own under `task.<preset>.`, so `train --init` on a
domain none of the tasks covers starts from the shared cell (training/loop.py's
`initialise` copies every weight whose name and shape fit).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch

from .. import checkpoints, devices
from ..domains import registry
from ..errors import HybridTRMError
from ..evaluate import evaluate_examples
from ..model.reasoner import TreeReasoner
from .loop import GeneratedBatches, build_model, checkpoint_config, learning_rate, trained_node_kinds
from .presets import PRESETS

SHARED = ("cell.up", "cell.down", "cell.norm", "z_init", "y_init")  # weights every task's model uses


@dataclass
class MetaConfig:
    presets: list[str]  # the tasks, each trained on its preset's data (and scan, summary, grid width)
    steps: int = 2000
    batch_size: int = 32  # trees per task per step
    lr: float = 3e-3
    warmup: int = 200
    weight_decay: float = 0.01
    seed: int = 0
    # One cell shape for every task:
    hidden: int = 32
    expansion: int = 2
    inner_steps: int = 1
    outer_cycles: int = 2
    halting: bool = False
    # How every task scans and summarises its children (None: each preset's own).
    scan: str | None = None
    summary: str | None = None
    eval_examples: int = 200  # per task, in distribution, at the end
    extra: dict = field(default_factory=dict)  # provenance the caller adds


def task_configs(config: MetaConfig):
    unknown = [name for name in config.presets if name not in PRESETS]
    if unknown or len(config.presets) < 2:
        raise HybridTRMError(
            f"the meta-level trains on two or more presets ({', '.join(PRESETS)})"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    shape = dict(
        hidden=config.hidden, expansion=config.expansion, inner_steps=config.inner_steps,
        outer_cycles=config.outer_cycles, halting=config.halting, seed=config.seed, batch_size=config.batch_size,
        steps=config.steps, **{k: v for k, v in (("scan", config.scan), ("summary", config.summary)) if v is not None},
    )
    return {name: replace(PRESETS[name], **shape) for name in config.presets}


def build(config: MetaConfig) -> dict[str, TreeReasoner]:
    """One model per task, all holding the same shared modules."""
    torch.manual_seed(config.seed)
    models = {name: build_model(task) for name, task in task_configs(config).items()}
    first = next(iter(models.values()))
    for model in models.values():
        model.cell.up, model.cell.down, model.cell.norm = first.cell.up, first.cell.down, first.cell.norm
        model.z_init, model.y_init = first.z_init, first.y_init
    return models


def train_meta(
    config: MetaConfig, out: str | Path, on_step: Callable[[int, dict], None] | None = None, device: str | None = None,
) -> dict:
    """Train the shared cell and every task's own weights on `device` (devices.py;
    default the CPU); write the checkpoint to `out`."""
    tasks = task_configs(config)
    where = devices.resolve(device)
    models = {name: model.to(where) for name, model in build(config).items()}  # shared modules move once
    parameters = list({id(p): p for m in models.values() for p in m.parameters()}.values())
    optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    streams = {
        name: iter(torch.utils.data.DataLoader(GeneratedBatches(task, 0), batch_size=None, num_workers=1))
        for name, task in tasks.items()
    }
    clock = time.monotonic()
    metrics: dict = {}
    for step in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        losses = {name: models[name](next(streams[name]).to(where), explore=tasks[name].halt_explore).loss for name in tasks}
        optimizer.zero_grad(set_to_none=True)
        (sum(losses.values()) / len(losses)).backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        metrics = {"loss": {k: round(v.item(), 5) for k, v in losses.items()}, "train_seconds": time.monotonic() - clock}
        if on_step:
            on_step(step + 1, metrics)
    metrics["eval_accuracy"] = {}
    for name, task in tasks.items():
        domain = registry.get(task.domain)
        difficulty = domain.difficulty(**task.difficulty)
        held_out = [domain.example(config.seed + 1, i, difficulty, task.task) for i in range(config.eval_examples)]
        report = evaluate_examples(models[name], domain, domain.task(task.task), held_out, width=task.width, strict=True)
        metrics["eval_accuracy"][name] = report.accuracy
    _save(out, config, tasks, models, metrics)
    return metrics


def _save(out, config: MetaConfig, tasks, models: dict[str, TreeReasoner], metrics: dict) -> None:
    first = next(iter(models.values()))
    shared = {k: v for k, v in first.state_dict().items() if k.startswith(SHARED)}
    tensors = checkpoints.prefixed("model", shared)
    saved_tasks = {}
    for name, model in models.items():
        own = {k: v for k, v in model.state_dict().items() if not k.startswith(SHARED)}
        tensors.update(checkpoints.prefixed(f"task.{name}", own))
        saved_tasks[name] = checkpoint_config(tasks[name], model, config.steps, {}, trained_node_kinds(tasks[name]))
    checkpoints.save(out, tensors, {
        "meta": asdict(config), "tasks": saved_tasks, "metrics": metrics,
        "parameters": sum(t.numel() for t in tensors.values()),
    })
