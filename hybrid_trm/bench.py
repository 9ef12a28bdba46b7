"""Speed, measured side by side in one run: the level-batched forward against a
per-node recursion of the same model on the same trees, `solve` latency per
model on an input of about 100 nodes, after the model is loaded, and a model's
answer against the symbolic verifier's on the same inputs, one at a time; and a
halting model's accuracy and steps at its fixed maximum against halting; and a
curriculum against uniform sampling, and a task learnt from scratch against from
the meta-level's shared cell, each pair trained from the same seed.

Every figure is a ratio or a time from this run; nothing is compared against
numbers measured elsewhere."""

from __future__ import annotations

import functools
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch

from . import checkpoints
from .domains import registry
from .domains.base import Example
from .evaluate import Loaded, Report, Strategy, evaluate_examples, inference_tensors, load, predict_trees, same_answer, strategies, trained_width
from .solver import solve_text
from .errors import HybridTRMError
from .training.loop import TrainConfig, train
from .trees import batch, encode_texts


@dataclass
class BatchedVsNaive:
    trees: int
    nodes: int
    level_batched_s: float
    naive_s: float
    max_abs_difference: float  # between the two forwards' logits: the same numbers

    def to_json(self) -> dict:
        return {
            **asdict(self),
            "level_batched_nodes_per_s": self.nodes / self.level_batched_s,
            "naive_nodes_per_s": self.nodes / self.naive_s,
            "level_batched_vs_naive": self.naive_s / self.level_batched_s,
        }


@dataclass
class SolveLatency:
    model: str  # domain/task
    nodes: int
    ms_median: float
    ms_p90: float


def _best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@torch.inference_mode()
def batched_vs_naive(loaded: Loaded, texts: list[str], repeats: int = 3) -> BatchedVsNaive:
    """The level loop against the same model run one node at a time (children first)."""
    model = loaded.model
    tree_batch = batch(encode_texts(loaded.domain, loaded.task, texts))
    one_by_one = [(i, i + 1) for i in range(tree_batch.nodes)]
    batched = model(tree_batch, with_loss=False).final
    naive = model(tree_batch, with_loss=False, groups=one_by_one).final
    return BatchedVsNaive(
        trees=len(texts), nodes=tree_batch.nodes,
        level_batched_s=_best_time(lambda: model(tree_batch, with_loss=False), repeats),
        naive_s=_best_time(lambda: model(tree_batch, with_loss=False, groups=one_by_one), 1),
        max_abs_difference=float((batched - naive).abs().max()),
    )


def solve_latency(loaded: Loaded, text: str, repeats: int = 50) -> SolveLatency:
    """`solve` end to end (parse, tensorize, model, verify) on one input, warm."""
    solve_text(loaded, text)
    times = sorted(solve_text(loaded, text).ms for _ in range(repeats))
    return SolveLatency(
        model=f"{loaded.domain.name}/{loaded.task.name}",
        nodes=encode_texts(loaded.domain, loaded.task, [text])[0].nodes,
        ms_median=statistics.median(times), ms_p90=times[int(0.9 * (len(times) - 1))],
    )


def input_near(loaded: Loaded, nodes: int, seed: int, knobs: dict, tries: int = 300) -> str:
    """The generated input (of the model's domain and task) whose size is nearest `nodes`."""
    domain, task = loaded.domain, loaded.task
    difficulty = domain.difficulty(**knobs)
    texts = [domain.example(seed, i, difficulty, task.name).input for i in range(tries)]
    sizes = [t.nodes for t in encode_texts(domain, task, texts)]
    return min(zip(texts, sizes), key=lambda pair: abs(pair[1] - nodes))[0]


@dataclass
class ModelVsVerifier:
    inputs: str  # what was timed
    n: int
    model_ms_median: float  # parse + tensorize + forward, one input at a time
    verifier_ms_median: float  # parse + the symbolic decision procedure
    agreement: float  # share of inputs where the model gives the verifier's answer
    verifier_timeouts: int  # inputs the verifier did not decide within its budget (timed at the budget)

    def to_json(self) -> dict:
        return {**asdict(self), "model_vs_verifier": self.verifier_ms_median / self.model_ms_median}


def model_vs_verifier(loaded: Loaded, texts: list[str], inputs: str, budget_s: float = 10.0) -> ModelVsVerifier:
    """Median time per input of the model's answer and of the verifier's, on the
    same inputs, alternating so that both see the same machine load."""
    domain, task = loaded.domain, loaded.task
    width = trained_width(loaded.config)

    def model_answer(text: str) -> str:
        trees = inference_tensors(domain, task, [domain.parse(text)], width)
        return predict_trees(loaded.model, task, trees)[0].answer

    domain.verify(texts[0], model_answer(texts[0]), task.name, budget_s)  # warm-up
    model_ms, verifier_ms, agree, timeouts = [], [], 0, 0
    for text in texts:
        start = time.perf_counter()
        answer = model_answer(text)
        model_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        verdict = domain.verify(text, answer, task.name, budget_s)
        verifier_ms.append((time.perf_counter() - start) * 1000)
        agree += verdict.expected is not None and same_answer(task, answer, verdict.expected)
        timeouts += verdict.expected is None
    return ModelVsVerifier(
        inputs=inputs, n=len(texts), model_ms_median=statistics.median(model_ms),
        verifier_ms_median=statistics.median(verifier_ms), agreement=agree / len(texts), verifier_timeouts=timeouts,
    )


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


def halting_vs_fixed(path, examples: list[Example], name: str, worlds: int | None = None) -> HaltingVsFixed:
    """Score checkpoint `path` (a halting model) at its fixed maximum and halting."""
    loaded = load(path)
    reports = [
        evaluate_examples(
            loaded.model, loaded.domain, loaded.task, examples, width=trained_width(loaded.config), worlds=worlds, halting=mode,
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
    on_step: Callable[[str, int, dict], None] | None = None,
) -> list[CurriculumRun]:
    """Train the same config twice from the same seed, with uniform sampling over
    its training range and with the curriculum; each is evaluated in distribution
    every config.eval_every steps (steps to reach `target`), and at the end on
    `ood_examples` examples of its eval knobs (seed `seed`)."""
    domain = registry.get(config.domain)
    ood = domain.difficulty(**config.eval_difficulty)
    held_out = [domain.example(seed, i, ood, config.task) for i in range(ood_examples)]
    runs = []
    for schedule in ("uniform", "curriculum"):
        run = replace(config, curriculum=schedule == "curriculum", eval_difficulty={}, save_every=config.steps)
        path = out / schedule
        progress = None if on_step is None else functools.partial(on_step, schedule)
        metrics = train(run, path, resume=False, on_step=progress)
        loaded = load(path)
        report = evaluate_examples(loaded.model, loaded.domain, loaded.task, held_out, width=trained_width(loaded.config))
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
    on_step: Callable[[str, int, dict], None] | None = None,
) -> tuple[float, list[AdaptationRun]]:
    """Train `preset` (in the meta checkpoint's cell shape) from scratch and from the
    meta checkpoint's shared cell, same seed and data: how many examples each needs
    to reach `share` of the from-scratch run's final in-distribution accuracy.
    Returns (that goal, the two runs)."""
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
        metrics = train(config, out / start, resume=False, on_step=progress)
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
