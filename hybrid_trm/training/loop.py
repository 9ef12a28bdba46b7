"""Training with deep supervision: every labelled subtree, every outer cycle.

Batches come from the domain's seeded generator, one stream per run: the batch
of step s is a pure function of (seed, s), so a resumed run sees exactly the
batches an uninterrupted one would. A background worker builds them while the
model trains. Weights are averaged (EMA) for evaluation and inference. Under
torchrun, each rank trains on its share of every batch (training/distributed.py).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from .. import checkpoints, devices
from ..domains import registry
from ..domains.base import WorldTask
from ..evaluate import evaluate_examples
from ..errors import HybridTRMError
from ..grammar import kind, postorder
from ..model import baselines
from ..model.baselines import BASELINES, BaselineConfig
from ..model.reasoner import ModelConfig, TreeReasoner
from ..trees import batch, encode_texts
from . import distributed
from .curriculum import Curriculum
from .distributed import Ranks


SUPERVISION = ("subtrees", "root")


@dataclass
class TrainConfig:
    domain: str
    task: str
    difficulty: dict[str, Any] = field(default_factory=dict)  # the domain's knobs for training data
    eval_difficulty: dict[str, Any] = field(default_factory=dict)  # held-out data for periodic eval
    steps: int = 3000
    batch_size: int = 64  # trees per step
    lr: float = 2e-3
    warmup: int = 200
    weight_decay: float = 0.01
    ema: float = 0.995  # weight average used for eval and inference
    seed: int = 0
    eval_every: int = 500
    eval_examples: int = 500
    save_every: int = 250
    hidden: int = 64
    expansion: int = 4
    inner_steps: int = 3
    outer_cycles: int = 2
    scan: str = "latent"  # see ModelConfig
    summary: str = "sum"
    # Answer grid positions in training (None: the task's; a grid of worlds: its
    # training_worlds); see trees.tensorize.
    width: int | None = None
    # Per-node halting (ModelConfig.halting): outer_cycles is then the most a node may
    # run, and halt_explore the share of nodes made to run a random 2..T cycles.
    halting: bool = False
    halt_explore: float = 0.1
    # A checkpoint to start from: every weight whose name and shape match is copied
    # (a halting head or more cycles added to a trained model, say).
    init: str | None = None
    # Curriculum (training/curriculum.py): start at the easiest level and move up when
    # the model scores curriculum_threshold on curriculum_examples held-out examples of
    # its level, checked every curriculum_every steps.
    curriculum: bool = False
    curriculum_threshold: float = 0.95
    curriculum_every: int = 50
    curriculum_examples: int = 100
    curriculum_mix: float = 0.0  # share of each batch drawn from the whole training range below the last level
    # What is labelled: "subtrees" (every node, and scan prefixes where the domain
    # has them) or "root" (the whole input's answer only, as in a domain that labels
    # no subtrees).
    supervision: str = "subtrees"
    # Which network: "recursive" (the cell; every option above is its) or a baseline
    # of model/baselines.py (transformer, lstm, gin, treelstm) of width `hidden`, for
    # `bench accuracy`; `layers` is a baseline's depth (GIN: how far a node sees), and
    # `width` (or the task's positions) the digit grid it answers, fixed.
    model: str = "recursive"
    layers: int = 2

    def __post_init__(self):
        if self.supervision not in SUPERVISION:
            raise HybridTRMError(f"supervision must be one of {', '.join(SUPERVISION)}, not {self.supervision!r}")
        if self.model != "recursive" and self.model not in BASELINES:
            raise HybridTRMError(f"model must be recursive or one of {', '.join(BASELINES)}, not {self.model!r}")


class GeneratedBatches(torch.utils.data.IterableDataset):
    """Step s's batch, for s = start, start+1, ...: built from examples seeded by (seed, s),
    at the difficulty `knobs` (default: the config's); with `mix`, that share of each
    batch (its first trees) comes from the config's whole training range instead.
    Of several `ranks`, each gets its share of every batch: examples rank, rank + N, ...
    (N = ranks.size), so that the ranks together see the batch one process would."""

    def __init__(
        self, config: TrainConfig, start: int, knobs: dict[str, Any] | None = None, mix: float = 0.0, ranks: Ranks = Ranks(),
    ):
        self.config, self.start = config, start
        self.knobs = config.difficulty if knobs is None else knobs
        self.mix = mix
        self.ranks = ranks

    def __iter__(self):
        cfg = self.config
        domain = registry.get(cfg.domain)
        task = domain.task(cfg.task)
        difficulty = domain.difficulty(**self.knobs)
        whole = domain.difficulty(**cfg.difficulty)
        mixed = round(self.mix * cfg.batch_size)
        width = cfg.width or (task.training_worlds if isinstance(task, WorldTask) else None)
        step = self.start
        while True:
            examples = [
                domain.example(cfg.seed, step * cfg.batch_size + i, whole if i < mixed else difficulty, task.name)
                for i in range(self.ranks.rank, cfg.batch_size, self.ranks.size)
            ]
            trees = encode_texts(
                domain, task, [e.input for e in examples], label_subtrees=True, width=width, answers=[e.answer for e in examples],
            )
            if cfg.supervision == "root":
                trees = [t.root_labels_only() for t in trees]
            yield batch(trees)
            step += 1


def baseline_config(config: TrainConfig) -> BaselineConfig:
    """The shape of the baseline `config.model` for this config's task: a grid of
    digits as wide as training's, or a grid of worlds answered one world at a time."""
    domain = registry.get(config.domain)
    task = domain.task(config.task)
    worlds = isinstance(task, WorldTask)
    return BaselineConfig(
        config.model, len(domain.node_kinds), task.classes, config.hidden, config.layers,
        positions=1 if worlds else config.width or task.positions, worlds=worlds,
    )


def build_model(config: TrainConfig) -> TreeReasoner:
    if config.model != "recursive":
        return baselines.build(baseline_config(config))
    domain = registry.get(config.domain)
    task = domain.task(config.task)
    return TreeReasoner(
        ModelConfig(
            kinds=len(domain.node_kinds), classes=task.classes,
            hidden=config.hidden, expansion=config.expansion,
            inner_steps=config.inner_steps, outer_cycles=config.outer_cycles,
            scan=config.scan, summary=config.summary, carry=not isinstance(task, WorldTask),
            carry_down=getattr(task, "carry_down", False), halting=config.halting,
        )
    )


def learning_rate(config, step: int) -> float:
    """Linear warmup, then cosine decay to a tenth; `config` has lr, warmup and steps
    (a TrainConfig, or the meta-level's MetaConfig)."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def trained_node_kinds(config: TrainConfig, sample: int = 500) -> list[str]:
    """The node kinds the training data holds (arith with ops "+-" never shows `mul`),
    read off a sample of the training stream; inference refuses the others."""
    domain = registry.get(config.domain)
    difficulty = domain.difficulty(**config.difficulty)
    seen: set[str] = set()
    for i in range(sample):
        tree = domain.parse(domain.example(config.seed, i, difficulty, config.task).input)
        seen.update(kind(node) for node in postorder(tree))
    seen.update(domain.walked_kinds(difficulty))
    return [k for k in domain.node_kinds if k in seen]


def checkpoint_config(config: TrainConfig, model: TreeReasoner, step: int, metrics: dict, kinds: list[str]) -> dict:
    domain = registry.get(config.domain)
    task = domain.task(config.task)
    return {
        "domain": config.domain,
        "task": config.task,
        "step": step,
        "vocab": {"node_kinds": list(domain.node_kinds), "answers": list(task.answers), "positions": task.positions},
        "trained_node_kinds": kinds,
        "model": model.config.to_json(),
        "parameters": model.parameter_count(),
        "training": asdict(config),
        "metrics": metrics,
    }


Progress = Callable[[int, dict], None]


def train(
    config: TrainConfig, out: str | Path, resume: bool = True, on_step: Progress | None = None, device: str | None = None,
) -> dict:
    """Train, writing `out` every save_every steps and at the end; resume from `out` if it exists.
    Launched by torchrun, this process is one rank of several that train one model
    (training/distributed.py): rank 0 alone evaluates, writes `out` and calls on_step.
    `device`: where the model trains (devices.py; default the CPU; under torchrun,
    cuda is each rank's GPU LOCAL_RANK). The batches are built on the CPU and moved;
    the checkpoint holds CPU tensors, so it resumes and loads on any device."""
    ranks = distributed.from_environment()
    distributed.check_batch(config.batch_size, ranks)
    device = distributed.rank_device(device, ranks)
    distributed.start(ranks, device)
    try:
        return _train(config, out, resume, on_step, ranks, device)
    finally:
        distributed.stop(ranks)


def _train(config: TrainConfig, out, resume: bool, on_step: Progress | None, ranks: Ranks, device: torch.device) -> dict:
    """`train` on this rank, the process group (if any) joined."""
    model, ema, optimizer, start, metrics = _start(config, out, resume, device)
    domain = registry.get(config.domain)
    if not distributed.same_everywhere([torch.tensor(start, device=device)], ranks):
        raise HybridTRMError(
            f"the ranks found checkpoint {out} at different steps: on several machines, --out must be on a filesystem they share"
        )
    net = distributed.wrap(model, ranks, device)
    if ranks.rank:  # halting's exploration: each rank its own draws (rank 0 those of one process)
        torch.manual_seed(config.seed + ranks.rank)
    eval_set = [
        domain.example(config.seed + 1, i, domain.difficulty(**(config.eval_difficulty or config.difficulty)), config.task)
        for i in range(config.eval_examples if ranks.lead else 0)
    ]
    kinds = trained_node_kinds(config) if ranks.lead else []
    curriculum = Curriculum.up_to(domain, config.difficulty) if config.curriculum else None
    if curriculum:
        metrics.setdefault("curriculum_schedule", [[start, 0, curriculum.describe(0)]])
    metrics["ranks"] = ranks.size
    metrics["device"] = device.type  # of the latest session: a run may resume on another

    def batches_from(step: int):
        """The batch stream from `step` on, at the curriculum's current level."""
        knobs = curriculum.levels[metrics["curriculum_schedule"][-1][1]] if curriculum else None
        mix = config.curriculum_mix if curriculum else 0.0
        stream = GeneratedBatches(config, step, knobs, mix, ranks)
        return iter(torch.utils.data.DataLoader(stream, batch_size=None, num_workers=1))

    batches = batches_from(start)
    clock = time.monotonic()
    seconds0 = metrics["train_seconds"]
    for step in range(start, config.steps):
        loss = _step(config, net, model, ema, optimizer, next(batches), step, ranks)
        done = step + 1
        metrics["train_seconds"] = seconds0 + time.monotonic() - clock
        metrics["loss"] = round(loss, 5)
        if ranks.lead and (done % config.eval_every == 0 or done == config.steps):
            report = evaluate_examples(ema, domain, domain.task(config.task), eval_set, width=config.width, strict=True)
            metrics["eval_accuracy"] = report.accuracy
            metrics.setdefault("eval_history", []).append([done, report.accuracy])
            metrics.setdefault("eval_seconds", []).append(metrics["train_seconds"])  # training seconds by each check
        if curriculum and done % config.curriculum_every == 0 and distributed.lead_says(
            ranks.lead and _level_passed(config, model, domain, curriculum, metrics), ranks,
        ):
            level = metrics["curriculum_schedule"][-1][1] + 1
            metrics["curriculum_schedule"].append([done, level, curriculum.describe(level)])
            batches = batches_from(done)
        if on_step and ranks.lead:
            on_step(done, metrics)
        if done % config.save_every == 0 or done == config.steps:
            _check_ranks_agree(model, ema, optimizer, ranks, done)
            if ranks.lead:
                _save(out, config, model, ema, optimizer, done, metrics, kinds)
    return metrics


def _start(config: TrainConfig, out, resume: bool, device: torch.device):
    """The model, its EMA, the optimizer, the step to start from and the metrics so
    far: from `out` where the run resumes, else new (from --init's weights, if given).
    The weights are made on the CPU (the same initial weights on every device) and
    moved before the optimizer is made, whose moments then live beside them."""
    torch.manual_seed(config.seed)
    model = build_model(config).to(device)
    ema = build_model(config).to(device)
    ema.load_state_dict(model.state_dict())
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start, metrics = 0, {"train_seconds": 0.0}
    if resume and checkpoints.exists(out):
        start, metrics = _restore(out, config, model, ema, optimizer)
    elif config.init:
        metrics["init_new_weights"] = initialise(model, config.init)
        ema.load_state_dict(model.state_dict())
    return model, ema, optimizer, start, metrics


def _step(config: TrainConfig, net, model, ema, optimizer, tree_batch, step: int, ranks: Ranks) -> float:
    """One optimizer step on this rank's share of step `step`'s batch (`net`: the
    model, or the model under DDP); returns the loss over the whole batch."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(config, step)
    output = net(tree_batch.to(devices.of(model)), explore=config.halt_explore)
    if ranks.distributed:
        loss, value = distributed.global_loss(output.loss_terms, ranks)
    else:
        loss = output.loss
        value = loss.item()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    with torch.no_grad():
        for e, p in zip(ema.parameters(), model.parameters()):
            e.lerp_(p, 1 - config.ema)
    return value


def _check_ranks_agree(model, ema, optimizer, ranks: Ranks, step: int) -> None:
    """Refuse to save what not every rank holds: the weights, the EMA and the
    optimizer's moments must be the same on every rank, bit for bit (DDP gives them
    the same gradients); a difference is a bug, named before it is written."""
    moments = [v for state in optimizer.state.values() for v in state.values() if torch.is_tensor(v)]
    if not distributed.same_everywhere([*model.parameters(), *ema.parameters(), *moments], ranks):
        raise HybridTRMError(f"step {step}: the ranks' weights differ; the checkpoint was not written")


def _level_passed(config: TrainConfig, model: TreeReasoner, domain, curriculum: Curriculum, metrics: dict) -> bool:
    """Whether the model passes the threshold on held-out examples of its current
    level (the last level is never passed: it is the training difficulty)."""
    level = metrics["curriculum_schedule"][-1][1]
    if level == len(curriculum.levels) - 1:
        return False
    difficulty = domain.difficulty(**curriculum.levels[level])
    held_out = [domain.example(config.seed + 1, i, difficulty, config.task) for i in range(config.curriculum_examples)]
    accuracy = evaluate_examples(model, domain, domain.task(config.task), held_out, width=config.width, strict=True).accuracy
    return accuracy >= config.curriculum_threshold


def initialise(model: TreeReasoner, path: str | Path) -> list[str]:
    """Copy into `model` every weight of checkpoint `path` whose name and shape match;
    returns the names of the model's weights left as initialised."""
    tensors, _ = checkpoints.load(path)
    source = checkpoints.section(tensors, "model")
    state = model.state_dict()
    fresh = [name for name, value in state.items() if name not in source or source[name].shape != value.shape]
    if len(fresh) == len(state):
        raise checkpoints.CheckpointError(f"checkpoint {checkpoints.stem(path)} has no weight that fits this model")
    model.load_state_dict({**state, **{k: v for k, v in source.items() if k in state and k not in fresh}})
    return fresh


def _save(out, config, model, ema, optimizer, step, metrics, kinds) -> None:
    tensors = checkpoints.prefixed("model", ema.state_dict())
    tensors.update(checkpoints.prefixed("train.raw", model.state_dict()))
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            tensors[f"train.optim.{index}.{key}"] = torch.as_tensor(value)
    checkpoints.save(out, tensors, checkpoint_config(config, model, step, dict(metrics), kinds))


def _restore(out, config, model, ema, optimizer) -> tuple[int, dict]:
    tensors, saved = checkpoints.load(out)
    if (saved.get("domain"), saved.get("task")) != (config.domain, config.task) or saved.get("model") != model.config.to_json():
        raise checkpoints.CheckpointError(
            f"checkpoint {checkpoints.stem(out)} was trained for {saved['domain']}/{saved['task']} with another "
            "model shape; pass another --out or --no-resume"
        )
    try:
        ema.load_state_dict(checkpoints.section(tensors, "model"))
        model.load_state_dict(checkpoints.section(tensors, "train.raw"))
        state = optimizer.state_dict()
        moments: dict[int, dict] = {}
        for key, value in checkpoints.section(tensors, "train.optim").items():
            index, name = key.split(".", 1)
            moments.setdefault(int(index), {})[name] = value
        state["state"] = moments
        optimizer.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError) as err:  # hand-edited tensors: no traceback, the file named
        raise checkpoints.CheckpointError(
            f"checkpoint {checkpoints.stem(out)}: what resuming needs does not fit the model ({str(err).splitlines()[0]}); "
            "pass another --out or --no-resume"
        ) from None
    return saved["step"], saved.get("metrics", {})
