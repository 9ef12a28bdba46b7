"""What training choices buy, each pair trained or scored from the same seed: a
halting model's accuracy and steps at its fixed maximum against halting; a
curriculum against uniform sampling; and a task learnt from scratch against from
the meta-level's shared cell."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from .. import checkpoints
from ..domains import registry
from ..domains.base import Example
from ..errors import HybridTRMError
from ..evaluate import evaluate_examples, Report
from ..loading import load, strategies, Strategy, trained_width
from ..training.loop import TrainConfig, train


@dataclass
class HaltingVsFixed:
    """One halting model on the same examples twice: every node for all its cycles
    (its fixed maximum) and each node stopping on its own."""

    model: str  # domain/task
    examples: str  # what it was scored on
    n: int
    fixed: Report  # every node runs n inner steps and every cycle
    halting: Report  # the model's own threshold (and its controller's strategy)
    strategy: list[Strategy] = field(default_factory=list)  # per node kind, where it has a controller

    def to_json(self) -> dict:
        return {
            "model": self.model, "examples": self.examples, "n": self.n,
            "fixed_accuracy": self.fixed.accuracy, "halting_accuracy": self.halting.accuracy,
            "accuracy_lost_points": 100 * (self.fixed.accuracy - self.halting.accuracy),
            "fixed_steps_mean": self.fixed.steps_mean, "halting_steps_mean": self.halting.steps_mean,
            "steps_cut": 1 - self.halting.steps_mean / self.fixed.steps_mean,
            "fixed_cycles_mean": self.fixed.cycles_mean, "halting_cycles_mean": self.halting.cycles_mean,
            "difficulty": None if self.halting.difficulty is None else asdict(self.halting.difficulty),
            "strategy": [asdict(s) for s in self.strategy],
        }


def halting_vs_fixed(
    path, examples: list[Example], name: str, worlds: int | None = None, device: str | None = None,
) -> HaltingVsFixed:
    """Score checkpoint `path` (a halting model) at its fixed maximum and halting, on `device` (devices.py)."""
    loaded = load(path, device=device)
    reports = [
        evaluate_examples(
            loaded.model, loaded.domain, loaded.task, examples, width=trained_width(loaded.config), worlds=worlds, halting=mode,
            strict=True,
        )
        for mode in ("off", None)
    ]
    return HaltingVsFixed(f"{loaded.domain.name}/{loaded.task.name}", name, len(examples), *reports, strategies(loaded))


@dataclass
class CurriculumRun:
    schedule: str  # "uniform" or "curriculum"
    steps_to_target: int | None  # first evaluation at or above the target (None: never)
    final_accuracy: float  # in distribution, at the end
    ood_accuracy: float  # on the held-out knobs (deeper / wider), at the end
    train_seconds: float
    levels: list  # the curriculum's [step, level, knobs]; empty for uniform


def curriculum_vs_uniform(
    config: TrainConfig, out: Path, target: float, ood_examples: int, seed: int,
    on_step: Callable[[str, int, dict], None] | None = None, device: str | None = None,
) -> list[CurriculumRun]:
    """Train the same config twice from the same seed, with uniform sampling over
    its training range and with the curriculum; each is evaluated in distribution
    every config.eval_every steps (steps to reach `target`), and at the end on
    `ood_examples` examples of its eval knobs (seed `seed`). Both on `device`."""
    domain = registry.get(config.domain)
    ood = domain.difficulty(**config.eval_difficulty)
    held_out = [domain.example(seed, i, ood, config.task) for i in range(ood_examples)]
    runs = []
    for schedule in ("uniform", "curriculum"):
        run = replace(config, curriculum=schedule == "curriculum", eval_difficulty={}, save_every=config.steps)
        path = out / schedule
        progress = None if on_step is None else functools.partial(on_step, schedule)
        metrics = train(run, path, resume=False, on_step=progress, device=device)
        loaded = load(path, device=device)
        report = evaluate_examples(loaded.model, loaded.domain, loaded.task, held_out, width=trained_width(loaded.config), strict=True)
        runs.append(CurriculumRun(
            schedule, _first_reaching(metrics, target), metrics["eval_accuracy"], report.accuracy,
            metrics["train_seconds"], metrics.get("curriculum_schedule", []),
        ))
    return runs


@dataclass
class AdaptationRun:
    start: str  # "scratch" or "meta"
    steps_to_goal: int | None  # first evaluation at or above the goal (None: never)
    examples_to_goal: int | None  # steps_to_goal x trees per step
    final_accuracy: float  # in distribution, at the end
    train_seconds: float


def adaptation(
    meta: Path, preset: TrainConfig, out: Path, share: float = 0.99,
    on_step: Callable[[str, int, dict], None] | None = None, device: str | None = None,
) -> tuple[float, list[AdaptationRun]]:
    """Train `preset` (in the meta checkpoint's cell shape) from scratch and from the
    meta checkpoint's shared cell, same seed and data, on `device`: how many examples
    each needs to reach `share` of the from-scratch run's final in-distribution
    accuracy. Returns (that goal, the two runs)."""
    shape = checkpoints.load(meta)[1].get("meta")
    if shape is None:
        raise HybridTRMError(f"checkpoint {checkpoints.stem(meta)} is not a meta-level checkpoint (train --meta)")
    keys = ("hidden", "expansion", "inner_steps", "outer_cycles", "halting", "scan", "summary")
    cell = {k: shape[k] for k in keys if shape.get(k) is not None}  # scan, summary: None where each task kept its own
    base = replace(preset, **cell, eval_difficulty={}, save_every=preset.steps, init=None)
    runs, history = [], {}
    for start in ("scratch", "meta"):
        config = base if start == "scratch" else replace(base, init=str(meta))
        progress = None if on_step is None else functools.partial(on_step, start)
        metrics = train(config, out / start, resume=False, on_step=progress, device=device)
        history[start] = metrics
    goal = share * history["scratch"]["eval_accuracy"]
    for start, metrics in history.items():
        step = _first_reaching(metrics, goal)
        runs.append(AdaptationRun(
            start, step, None if step is None else step * base.batch_size, metrics["eval_accuracy"], metrics["train_seconds"],
        ))
    return goal, runs


def _first_reaching(metrics: dict, accuracy: float) -> int | None:
    """The step of the first periodic evaluation at or above `accuracy` (None: none was)."""
    return next((step for step, a in metrics.get("eval_history", []) if a >= accuracy), None)
