"""`hybrid-trm bench accuracy`: the recursive model against baselines of the same
parameter count (model/baselines.py), each trained by the same loop for the same
steps on the same generated stream (same seed), then loaded back from its
checkpoint and scored on the same held-out examples: in distribution, and at
the preset's depths beyond training.

The entrants per domain: the preset's recursive model; the same cell with the
least recursion it runs (1 inner step, 1 outer cycle; 0 inner steps would leave
a leaf's answer blind to its own label, since the answer update reads only y
and z); a TreeLSTM, a GIN with as many layers as training's depth, a
bidirectional LSTM and a Transformer over the token sequence, each sized to the
recursive model's parameter count; and a Transformer of 10x the parameters.
The shipped checkpoint is scored as well, for reference (trained for the
preset's full steps; it is not one of the compared runs).

Accuracy by depth groups examples by tree height (the longest root-to-leaf path
in the parse, which for these generators is the generated depth). Every figure
comes from this run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from . import checkpoints, pretrained
from .domains import registry
from .errors import HybridTRMError
from .evaluate import Report, evaluate_examples, load, trained_width
from .model.baselines import BaselineConfig, sized
from .training.loop import TrainConfig, build_model, train
from .training.presets import PRESETS


@dataclass(frozen=True)
class Suite:
    preset: str
    trained_depth: int  # the preset's training depth (also the GIN's layers)
    beyond: dict[str, dict]  # held-out sets deeper than training: name -> generator knobs
    steps: int  # per model, sized for a suite of about 30 minutes on a 2-core CPU (the README has the measured time)
    quick_steps: int  # --quick: the suite in about 3 minutes (a smoke test, not a result)
    eval_every: int  # steps between the in-distribution checks behind "time to target"


SUITES = {
    "listops": Suite(
        "listops-value", 10, {"depth 11-20": {"depth": 20, "depth_min": 11}}, steps=250, quick_steps=12, eval_every=25,
    ),
    "arith": Suite(
        "arith-mod10", 6,
        {"depth 20": {"depth": 20, "depth_min": 20, "digits": 3}, "depth 40": {"depth": 40, "depth_min": 40, "digits": 3}},
        steps=1200, quick_steps=40, eval_every=100,
    ),
}

OURS = "recursive"
SHIPPED = "recursive (shipped)"
# name -> (what it is, baseline name or None for the cell, layers, parameters as a multiple of ours)
ENTRANTS = {
    "recursive": ("the preset's recursive cell", None, 0, 1),
    "recursive-no-inner": ("the same cell, 1 inner step and 1 outer cycle", None, 0, 1),
    "treelstm": ("child-sum TreeLSTM, one step per node", "treelstm", 1, 1),
    "gin": ("GIN on the parse tree, one layer per trained level", "gin", -1, 1),
    "lstm": ("bidirectional LSTM over the tokens, 2 layers", "lstm", 2, 1),
    "transformer": ("Transformer encoder over the tokens, 4 layers", "transformer", 4, 1),
    "transformer-10x": ("Transformer encoder, 8 layers, 10x the parameters", "transformer", 8, 10),
}


@dataclass
class ModelResult:
    model: str
    description: str
    parameters: int
    steps: int
    in_distribution: float
    beyond: dict[str, float]  # held-out set -> accuracy
    by_depth: dict[str, dict]  # tree height -> {"accuracy", "n"}, over every set scored
    train_seconds: float
    steps_to_target: int | None  # first in-distribution check at or above the target (None: never)
    seconds_to_target: float | None  # training seconds by then (the periodic checks included)
    trained_here: bool = True  # False: the shipped checkpoint, scored for reference


@dataclass
class AccuracyBench:
    domain: str
    task: str
    preset: str
    quick: bool
    steps: int
    target: float
    trained_depth: int
    n_in_distribution: int
    n_beyond: int
    models: list[ModelResult] = field(default_factory=list)
    wall_seconds: float = 0.0

    def to_json(self) -> dict:
        return {**asdict(self), "gaps": self.gaps(), "targets": self.targets()}

    def _row(self, name: str) -> ModelResult | None:
        return next((m for m in self.models if m.model == name and m.trained_here), None)

    def gaps(self) -> dict:
        """Per set beyond training, in points: our accuracy less the best
        baseline's (the cell without inner recursion included), less the best other
        architecture's (it excluded), and less the 10x Transformer's."""
        ours = self._row(OURS)
        rivals = [m for m in self.models if m.trained_here and m.model != OURS]
        others = [m for m in rivals if ENTRANTS[m.model][1] is not None]
        big = self._row("transformer-10x")
        out = {}
        for name in (ours.beyond if ours else {}):
            gap = {"ours": ours.beyond[name]}
            for key, pool in (("best_baseline", rivals), ("best_other_architecture", others)):
                best = max(pool, key=lambda m: m.beyond[name], default=None)
                gap[key] = None if best is None else best.model
                gap[f"vs_{key}_points"] = None if best is None else 100 * (ours.beyond[name] - best.beyond[name])
            gap["vs_transformer_10x_points"] = None if big is None else 100 * (ours.beyond[name] - big.beyond[name])
            out[name] = gap
        return out

    def targets(self) -> dict:
        """Whether ours is strictly ahead on every set beyond training (a tie is not)."""
        gaps = self.gaps().values()

        def ahead(key: str) -> bool:
            return bool(gaps) and all(g[key] is not None and g[key] > 0 for g in gaps)

        return {
            "ahead_of_every_baseline_beyond_training": ahead("vs_best_baseline_points"),
            "ahead_of_every_other_architecture_beyond_training": ahead("vs_best_other_architecture_points"),
            "transformer_10x_below_beyond_training": ahead("vs_transformer_10x_points"),
        }


def entrant_configs(suite: Suite, steps: int, eval_examples: int, names: list[str] | None = None) -> dict[str, tuple[str, TrainConfig]]:
    """name -> (description, config): the preset with this model, steps and width.
    Warmup is a tenth of the steps and the weight average short (EMA 0.98), so a
    budget of a few hundred steps is not spent warming up or averaged away."""
    preset = PRESETS[suite.preset]
    base = replace(
        preset, steps=steps, warmup=min(preset.warmup, max(1, steps // 10)), ema=min(preset.ema, 0.98),
        eval_every=min(suite.eval_every, steps), eval_examples=eval_examples, save_every=steps, init=None,
        eval_difficulty={},
    )
    ours = build_model(base).parameter_count()
    kinds = len(registry.get(base.domain).node_kinds)
    task = registry.get(base.domain).task(base.task)
    out = {}
    for name in names or list(ENTRANTS):
        if name not in ENTRANTS:
            raise HybridTRMError(f"unknown model {name!r}; models: {', '.join(ENTRANTS)}")
        description, baseline, layers, scale = ENTRANTS[name]
        if baseline is None:
            config = base if name == OURS else replace(base, inner_steps=1, outer_cycles=1)
        else:
            layers = suite.trained_depth if layers == -1 else layers
            shape = sized(BaselineConfig(baseline, kinds, task.classes, layers=layers), scale * ours)
            config = replace(base, model=baseline, hidden=shape.hidden, layers=layers)
        out[name] = (description, config)
    return out


Progress = Callable[[str, int, int], None]  # (model, step, steps)


def run(
    domain: str, out: Path, quick: bool = False, steps: int | None = None, n: int | None = None,
    target: float = 0.9, models: list[str] | None = None, seed: int = 5, on_step: Progress | None = None,
) -> AccuracyBench:
    """Train every entrant (or `models`) on `domain`'s suite and score each on the
    same held-out examples: `n` in distribution and `n` per set beyond training
    (seeds `seed`, `seed` + 1, ...; training used 0 and its checks 1)."""
    import time

    if domain not in SUITES:
        raise HybridTRMError(f"bench accuracy runs on {', '.join(SUITES)}, not {domain!r}")
    clock = time.monotonic()
    suite = SUITES[domain]
    steps = steps or (suite.quick_steps if quick else suite.steps)
    n = n or (40 if quick else 500)
    configs = entrant_configs(suite, steps, 50 if quick else 200, models)
    preset = PRESETS[suite.preset]
    dom = registry.get(preset.domain)
    held_out = {"in distribution": [dom.example(seed, i, dom.difficulty(**preset.difficulty), preset.task) for i in range(n)]}
    for offset, (name, knobs) in enumerate(suite.beyond.items(), 1):
        held_out[name] = [dom.example(seed + offset, i, dom.difficulty(**knobs), preset.task) for i in range(n)]
    bench = AccuracyBench(domain, preset.task, suite.preset, quick, steps, target, suite.trained_depth, n, n)
    for name, (description, config) in configs.items():
        history: dict[int, float] = {}

        def progress(step: int, metrics: dict, name=name, history=history) -> None:
            history[step] = metrics["train_seconds"]
            if on_step:
                on_step(name, step, config.steps)

        path = out / domain / name
        metrics = train(config, path, resume=False, on_step=progress)
        reached = next((s for s, a in metrics.get("eval_history", []) if a >= target), None)
        loaded = load(path)  # scored as saved: the checkpoint round-trips
        bench.models.append(_scored(
            name, description, loaded, held_out, steps, metrics["train_seconds"], reached,
            None if reached is None else history[reached],
        ))
    path = pretrained.path(preset.domain, preset.task)
    if checkpoints.exists(path) and (models is None or OURS in models):
        loaded = load(path)
        saved = loaded.config
        bench.models.append(_scored(
            SHIPPED, f"the shipped checkpoint ({saved['step']:,} steps), for reference", loaded, held_out, saved["step"],
            saved.get("metrics", {}).get("train_seconds", 0.0), None, None, trained_here=False,
        ))
    bench.wall_seconds = time.monotonic() - clock
    return bench


def _scored(
    name, description, loaded, held_out, steps, seconds, reached, seconds_to_target, trained_here: bool = True,
) -> ModelResult:
    reports: dict[str, Report] = {
        set_name: evaluate_examples(loaded.model, loaded.domain, loaded.task, examples, width=trained_width(loaded.config))
        for set_name, examples in held_out.items()
    }
    by_depth: dict[int, list[int]] = {}
    for report in reports.values():
        for depth, (accuracy, count) in report.by_depth.items():
            right, total = by_depth.setdefault(depth, [0, 0])
            by_depth[depth] = [right + round(accuracy * count), total + count]
    return ModelResult(
        name, description, loaded.model.parameter_count(), steps, reports["in distribution"].accuracy,
        {k: r.accuracy for k, r in reports.items() if k != "in distribution"},
        {str(d): {"accuracy": r / t, "n": t} for d, (r, t) in sorted(by_depth.items())},
        seconds, reached, seconds_to_target, trained_here,
    )


def plot(bench: AccuracyBench, path: Path) -> Path:
    """Accuracy against tree height, one line per model, the training depth marked."""
    from .plotting import pyplot

    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 5))
    for m in bench.models:
        depths = sorted(int(d) for d in m.by_depth)
        axes.plot(
            depths, [m.by_depth[str(d)]["accuracy"] for d in depths], marker="o", markersize=3,
            linestyle="--" if not m.trained_here else "-", label=f"{m.model} ({m.parameters:,})",
        )
    axes.axvline(bench.trained_depth + 0.5, color="grey", linewidth=1)
    axes.text(bench.trained_depth + 0.7, 0.02, "beyond training", color="grey")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("tree height")
    axes.set_ylabel("accuracy")
    axes.set_ylim(0, 1.02)
    axes.set_title(f"{bench.domain}/{bench.task}: {bench.steps} steps each, same data")
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
