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

A suite per domain and task (SUITES): arith runs `exact` by default, where a
carry climbs one digit per inner step, and `mod10`, where one step per node
suffices; logic runs Bowman's `relation`, every world of the grid answered by
the baselines one at a time (see model/baselines.py) and every entrant scored on
the grid of all 64 assignments of its six letters. Where ours answers by a run
whose questions its cell learnt (programs: digit facts; english truth:
rounds of rules, their formulas in the logic domain's syntax), the baselines
learn whole inputs' answers, and so does one more entrant, the recursive cell
without the run.

Accuracy by depth groups examples by tree height (the longest root-to-leaf path
in the parse, which for these generators is the generated depth). Every figure
comes from this run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from .. import checkpoints, devices, pretrained
from ..domains import registry
from ..errors import HybridTRMError
from ..evaluate import evaluate_examples, Report
from ..execution import executes
from ..loading import load, trained_width
from ..model.baselines import sized
from ..training.loop import TrainConfig, baseline_config, build_model, train
from ..training.presets import PRESETS


@dataclass(frozen=True)
class Suite:
    preset: str
    trained_depth: int  # the preset's training depth (also the GIN's layers)
    beyond: dict[str, dict]  # held-out sets deeper than training: name -> generator knobs
    steps: int  # per model, sized for a suite of about 30 minutes on a 2-core CPU (docs/baselines.md has the measured time)
    quick_steps: int  # --quick: the suite in 1-2 minutes (a smoke test, not a result; docs/baselines.md)
    eval_every: int  # steps between the in-distribution checks behind "time to target"
    # A grid of worlds: how many every entrant is scored on (64: every assignment of
    # six letters, so exact); None: the task's own grid.
    worlds: int | None = None
    # Knobs over the preset's training ones, for every entrant and the in-distribution set.
    knobs: dict = field(default_factory=dict)
    # Knobs over those, for the recursive cell's entrants' training alone: on programs,
    # the cell learns digit facts and answers a program by running it (the
    # executor, domains/programs/execute.py); the baselines, which have no executor,
    # learn whole programs' answers. Every entrant is scored on the same programs.
    recursive_knobs: dict = field(default_factory=dict)
    # TrainConfig fields over the preset's for the baselines alone (programs: the
    # whole answer grid, where the cell's digit facts need 2 digits).
    baseline_changes: dict = field(default_factory=dict)
    # TrainConfig fields over those for the recursive cell's entrants alone: where
    # a run of the input asks another domain's questions (english truth: rounds of
    # forward chaining whose formulas the logic cell evaluates, rounds.py), or where
    # its questions are far smaller than the baselines' inputs (programs: digit facts).
    recursive_changes: dict = field(default_factory=dict)
    # The recipe every entrant follows where the suite's task has no preset of its
    # own (english truth is answered by the logic model's runs: no checkpoint).
    training: TrainConfig | None = None

    def recipe(self) -> TrainConfig:
        return self.training or PRESETS[self.preset]

    @property
    def runs(self) -> bool:
        """Whether ours answers by a run whose questions its cell learnt (programs,
        english), so that the cell reading whole inputs is an entrant too."""
        return bool(self.recursive_knobs or self.recursive_changes)


# domain -> task -> suite; a domain's first task is its default (`--task`), the one
# where its nodes need the most thought: on arith, exact integers, whose carries
# climb one digit per inner step (mod 10 needs none).
SUITES = {
    "listops": {
        "value": Suite(
            "listops-value", 10, {"depth 11-20": {"depth": 20, "depth_min": 11}}, steps=1000, quick_steps=12, eval_every=50,
        ),
    },
    "logic": {
        # Bowman's relations between two propositional formulas; the baselines answer
        # each of the 64 worlds apart and the relation is read off their grid, as ours is.
        "relation": Suite(
            "logic-relation", 6,
            {
                "depth 7-9": {"variables": 6, "depth": 8, "depth_min": 6, "operators": 12, "truth_constants": 0.05},
                "depth 10-13": {"variables": 6, "depth": 11, "depth_min": 9, "operators": 24, "truth_constants": 0.05},
            },
            steps=400, quick_steps=20, eval_every=50, worlds=64,
            knobs={"first_order": 0},  # the preset's first-order pairs: the baselines answer each world apart
        ),
    },
    "programs": {
        # What a program returns. Trained on programs of <= 15 top-level statements,
        # nesting <= 3 (trees up to ~17 high: the GIN's layers), loop bounds <= 9,
        # call depth <= 2; beyond: issue 19's larger programs.
        "output": Suite(
            "programs-output", 17,
            {
                "30-100 statements": {
                    "statements": 100, "statements_min": 30, "depth": 8, "loop_bound": 30, "call_depth": 6, "functions": 4,
                },
            },
            steps=1000, quick_steps=30, eval_every=250, knobs={"expressions": 0}, recursive_knobs={"expressions": 1},
            baseline_changes={"width": None},
            # A digit fact is a tree of 3-7 nodes: 256 of them a step are fewer nodes than
            # the baselines' 64 programs of up to ~400 tokens. At the preset's 64 and
            # 3e-3, 1,000 steps taught the cell 205 of the 510 facts; at these, 505.
            recursive_changes={"lr": 1e-2, "batch_size": 256},
        ),
    },
    "english": {
        # true / false / unknown of a statement about a theory, trained at proof depth
        # <= 3 (theory trees ~6 high: the GIN's layers); beyond: issue 21's depths 4-10.
        # Ours answers by rounds of forward chaining whose formulas its cell, trained
        # on closed formulas of the logic domain (true, false, &, |), evaluates; the
        # baselines and the cell without rounds learn whole theories' answers.
        "truth": Suite(
            "english-truth", 6,
            {"proof depth 4-6": {"depth": 6, "depth_min": 4}, "proof depth 7-10": {"depth": 10, "depth_min": 7}},
            steps=600, quick_steps=20, eval_every=100,
            recursive_changes={
                "domain": "logic", "task": "verdict", "width": 8, "batch_size": 32,
                "difficulty": {"truth_constants": 1, "ops": "and,or", "balance": "natural", "depth": 4},
            },
            training=TrainConfig(
                domain="english", task="truth", difficulty={"depth": 3}, steps=600, lr=3e-3, hidden=32,
                expansion=2, inner_steps=1, outer_cycles=2, batch_size=32,
            ),
        ),
    },
    "arith": {
        "exact": Suite(
            "arith-exact", 5,
            {
                "7-12 operands": {"operands": 12, "operands_min": 7, "digits": 3, "ops": "+-"},
                "13-18 operands": {"operands": 18, "operands_min": 13, "digits": 3, "ops": "+-"},
            },
            steps=1500, quick_steps=40, eval_every=100,
        ),
        "mod10": Suite(
            "arith-mod10", 6,
            {"depth 20": {"depth": 20, "depth_min": 20, "digits": 3}, "depth 40": {"depth": 40, "depth_min": 40, "digits": 3}},
            steps=1200, quick_steps=40, eval_every=100,
        ),
    },
}


def suite_for(domain: str, task: str | None = None) -> Suite:
    """The suite of `domain` for `task` (default: the domain's first)."""
    if domain not in SUITES:
        raise HybridTRMError(f"bench accuracy runs on {', '.join(SUITES)}, not {domain!r}")
    tasks = SUITES[domain]
    if task is not None and task not in tasks:
        raise HybridTRMError(f"bench accuracy runs {domain} on task {' or '.join(tasks)}, not {task!r}")
    return tasks[task or next(iter(tasks))]


OURS = "recursive"
NO_RUN = "recursive-no-run"
SHIPPED = "recursive (shipped)"
# name -> (what it is, baseline name or None for the cell, layers, parameters as a multiple of ours)
ENTRANTS = {
    "recursive": ("the preset's recursive cell", None, 0, 1),
    "recursive-no-inner": ("the same cell, 1 inner step and 1 outer cycle", None, 0, 1),
    # Only where ours answers by a run (Suite.runs): the cell trained on whole inputs.
    "recursive-no-run": ("the recursive cell reading whole inputs, without the run", None, 0, 1),
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
    reused: bool = False  # trained by an earlier run of the suite, to the same recipe and steps (--reuse)


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
    preset = suite.recipe()
    base = replace(
        preset, steps=steps, warmup=min(preset.warmup, max(1, steps // 10)), ema=min(preset.ema, 0.98),
        eval_every=min(suite.eval_every, steps), eval_examples=eval_examples, save_every=steps, init=None,
        eval_difficulty={}, difficulty={**preset.difficulty, **suite.knobs},
    )
    ours = build_model(_recursive(base, suite)).parameter_count()
    out = {}
    for name in names or [n for n in ENTRANTS if n != NO_RUN or suite.runs]:
        if name not in ENTRANTS:
            raise HybridTRMError(f"unknown model {name!r}; models: {', '.join(ENTRANTS)}")
        description, baseline, layers, scale = ENTRANTS[name]
        if name == NO_RUN:
            if not suite.runs:
                raise HybridTRMError(f"{NO_RUN} is for suites whose model answers by a run (english, programs)")
            config = replace(base, **suite.baseline_changes)
            config = replace(config, hidden=_cell_hidden(config, ours))
        elif baseline is None:
            config = _recursive(base, suite)
            config = config if name == OURS else replace(config, inner_steps=1, outer_cycles=1)
        else:
            layers = suite.trained_depth if layers == -1 else layers
            config = replace(base, model=baseline, layers=layers, **suite.baseline_changes)
            config = replace(config, hidden=sized(baseline_config(config), scale * ours).hidden)
        out[name] = (description, config)
    return out


def _cell_hidden(config: TrainConfig, parameters: int) -> int:
    """The recursive cell's width whose parameter count comes closest to `parameters`."""
    return min(range(4, 257, 2), key=lambda h: abs(build_model(replace(config, hidden=h)).parameter_count() - parameters))


def _recursive(base: TrainConfig, suite: Suite) -> TrainConfig:
    """The recipe with the recursive cell's own knobs and changes (Suite)."""
    changes = dict(suite.recursive_changes)
    knobs = changes.pop("difficulty", {**base.difficulty, **suite.recursive_knobs})
    return replace(base, difficulty=knobs, **changes)


Progress = Callable[[str, int, int], None]  # (model, step, steps)


def run(
    domain: str, out: Path, quick: bool = False, steps: int | None = None, n: int | None = None,
    target: float = 0.9, models: list[str] | None = None, seed: int = 5, on_step: Progress | None = None,
    task: str | None = None, jobs: int = 1, device: str | None = None, reuse: bool = False,
) -> AccuracyBench:
    """Train every entrant (or `models`) on the suite of `domain` (and `task`) and
    score each on the same held-out examples: `n` in distribution and `n` per set
    beyond training (seeds `seed`, `seed` + 1, ...; training used 0 and its checks 1).
    With `jobs` > 1, that many entrants train at once, each in its own process on
    one thread (the models are small: two one-thread runs on two cores finish
    sooner than two two-thread runs one after the other). Every entrant trains and
    is scored on `device` (devices.py; default the CPU). `reuse`: an entrant whose
    checkpoint in `out` was trained by the same recipe to the same steps (an
    earlier run, cut off or with other entrants changed) is scored, not trained
    again."""
    import time

    if jobs < 1:
        raise HybridTRMError(f"jobs must be at least 1, not {jobs}")
    devices.resolve(device)  # one this machine lacks is refused here, not in each worker
    clock = time.monotonic()
    suite = suite_for(domain, task)
    steps = steps or (suite.quick_steps if quick else suite.steps)
    n = n or (40 if quick else 500)
    configs = entrant_configs(suite, steps, 50 if quick else 200, models)
    preset = suite.recipe()
    dom = registry.get(preset.domain)
    knobs = {**preset.difficulty, **suite.knobs}
    held_out = {"in distribution": [dom.example(seed, i, dom.difficulty(**knobs), preset.task) for i in range(n)]}
    for offset, (name, knobs) in enumerate(suite.beyond.items(), 1):
        held_out[name] = [dom.example(seed + offset, i, dom.difficulty(**knobs), preset.task) for i in range(n)]
    bench = AccuracyBench(domain, preset.task, suite.preset, quick, steps, target, suite.trained_depth, n, n)
    work = [
        (name, description, config, out / domain / preset.task / name, held_out, target, suite.worlds, device, dom.name, preset.task, reuse)
        for name, (description, config) in configs.items()
    ]
    if jobs == 1 or len(work) == 1:
        results = {args[0]: _entrant(*args, on_step) for args in work}
    else:
        results = _in_parallel(work, jobs, on_step)
    bench.models.extend(results[name] for name in configs)
    path = pretrained.path(*dom.model_of(preset.task))
    if checkpoints.exists(path) and (models is None or OURS in models):
        loaded = load(path, dom.name, preset.task, device=device)
        saved = loaded.config
        bench.models.append(_scored(
            SHIPPED, f"the shipped checkpoint ({saved['step']:,} steps), for reference", loaded, held_out, suite.worlds,
            saved["step"], saved.get("metrics", {}).get("train_seconds", 0.0), None, None, trained_here=False,
        ))
    bench.wall_seconds = time.monotonic() - clock
    return bench


def _entrant(
    name: str, description: str, config: TrainConfig, path: Path, held_out: dict, target: float, worlds: int | None,
    device: str | None, domain: str, task: str, reuse: bool, on_step: Progress | None,
) -> ModelResult:
    """Train one entrant to `path` (with `reuse`, not where it was trained there to
    the same recipe and steps), load it back and score it on domain/task (scored
    as saved: the checkpoint round-trips)."""
    metrics = trained_before(config, path) if reuse else None
    reused = metrics is not None
    if metrics is None:
        metrics = train(
            config, path, resume=False, on_step=(lambda step, _: on_step(name, step, config.steps)) if on_step else None,
            device=device,
        )
    checks = metrics.get("eval_history", [])
    seconds = metrics.get("eval_seconds", [])  # training seconds at each check (not kept before 2026-12-05)
    seconds = seconds + [None] * (len(checks) - len(seconds))
    reached, by = next(((step, s) for (step, a), s in zip(checks, seconds) if a >= target), (None, None))
    return _scored(
        name, description, load(path, domain, task, device=device), held_out, worlds, config.steps, metrics["train_seconds"],
        reached, by, reused=reused,
    )


def trained_before(config: TrainConfig, path: Path) -> dict | None:
    """The metrics of the checkpoint at `path` where it was trained by `config`
    (every field the same) to its last step; None where there is none or it differs."""
    import json

    if not checkpoints.exists(path):
        return None
    _, saved = checkpoints.load(path)
    same = saved.get("training") == json.loads(json.dumps(asdict(config))) and saved.get("step") == config.steps
    return saved.get("metrics", {}) if same else None


# The heaviest first, so that the last to start are the quick ones (ListOps, one
# thread, per step: the 10x Transformer ~0.6 s, the LSTM ~0.6, the Transformer ~0.3,
# the recursive cell ~0.2, TreeLSTM and GIN < 0.1).
HEAVIEST_FIRST = ("transformer-10x", "lstm", "transformer", OURS, NO_RUN, "recursive-no-inner", "gin", "treelstm")


def _in_parallel(work: list[tuple], jobs: int, on_step: Progress | None) -> dict[str, ModelResult]:
    """_entrant for every item of `work`, `jobs` at a time in worker processes
    (spawned: a forked copy of a process that has run torch's thread pool can hang),
    their progress passed back through a queue."""
    import multiprocessing
    import queue as queues
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    progress = context.Queue()
    work = sorted(work, key=lambda args: HEAVIEST_FIRST.index(args[0]))
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker, initargs=(progress,)) as pool:
        running = {pool.submit(_entrant_in_worker, *args): args[0] for args in work}
        results: dict[str, ModelResult] = {}
        while running:
            done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                results[running.pop(future)] = future.result()
            while on_step:  # the steps reported so far
                try:
                    on_step(*progress.get_nowait())
                except queues.Empty:
                    break
    return results


_progress = None  # a worker's queue back to the parent


def _worker(progress) -> None:
    import torch

    global _progress
    _progress = progress
    torch.set_num_threads(1)


def _entrant_in_worker(*args) -> ModelResult:
    return _entrant(*args, on_step=lambda name, step, steps: _progress.put((name, step, steps)))


def _scored(
    name, description, loaded, held_out, worlds, steps, seconds, reached, seconds_to_target, trained_here: bool = True,
    reused: bool = False,
) -> ModelResult:
    reports: dict[str, Report] = {
        set_name: evaluate_examples(
            loaded.model, loaded.domain, loaded.task, examples, width=trained_width(loaded.config), worlds=worlds,
            strict=True, execute=executes(loaded),
        )
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
        seconds, reached, seconds_to_target, trained_here, reused,
    )


def plot(bench: AccuracyBench, path: Path) -> Path:
    """Accuracy against tree height, one line per model, the training depth marked."""
    from ..plotting import pyplot

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
