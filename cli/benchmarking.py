"""`hybrid-trm bench accuracy`: the recursive model against baselines of its parameter count;
`hybrid-trm bench logic`: the logic models against the symbolic verifier;
`hybrid-trm bench halting`: halting models against their fixed maximum depth;
`hybrid-trm bench curriculum`: a curriculum against uniform sampling;
`hybrid-trm bench adapt`: a new task from the meta-level's cell against from scratch
(`bench speed`, `runtime`, `threads` and `device` are speed_benchmarks.py's, `bench fuzz`
fuzzing.py's, registered in main.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from hybrid_trm.errors import HybridTRMError

from .output import Console, Table
from .common import DEFAULT_DEVICE, Device, Worlds, correlation_text, parse_knobs, strategy_table, user_errors, with_threads

app = typer.Typer(help="Benchmarks measured side by side in one run.", no_args_is_help=True)

LOGIC_FAMILIES = {
    "monadic, 4-6 predicates": {"first_order": 1, "variables": 3, "predicates": 6, "constants": 2, "depth": 6, "quantifier_depth": 3},
    "relational, arity 2, nesting <= 4": {
        "first_order": 1, "variables": 4, "predicates": 4, "arity": 2, "constants": 2, "depth": 6, "quantifier_depth": 4,
    },
    "6 predicates, arity <= 3, 3 constants, =, nesting <= 5": {
        "first_order": 1, "variables": 5, "predicates": 6, "constants": 3, "arity": 3, "equality": 0.15, "depth": 7,
        "quantifier_depth": 5,
    },
}


@app.command("logic")
@with_threads
@user_errors
def logic_command(
    n: Annotated[int, typer.Option("-n", min=1, help="Generated inputs of each family.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the generated formulas.")] = 0,
    budget: Annotated[float, typer.Option(min=0.1, help="The verifier's time budget per input, seconds.")] = 10.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    device: Device = DEFAULT_DEVICE,
) -> None:
    """The shipped logic models against the symbolic verifier, one input at a time:
    the verdict model on the Pelletier problems (each family, every line) and on
    generated first-order families; the entailment model on test_massive. Per row:
    the model's accuracy, confident mistakes, calibration, latency (median, p99);
    what the verifier decided and how fast."""
    from hybrid_trm import benchmarks, pretrained
    from hybrid_trm.bench.logic import model_vs_verifier
    from hybrid_trm.domains import registry
    from hybrid_trm.loading import load

    logic = registry.get("logic")
    verdict = load(pretrained.require("logic", "verdict"), device=device)
    rows = []
    for family in ("propositional", "monadic", "relational", "equality"):
        rows.append(model_vs_verifier(verdict, benchmarks.load(f"pelletier:{family}")[2], f"pelletier {family}", budget))
    for name, knobs in LOGIC_FAMILIES.items():
        for balance in ("", "natural"):
            difficulty = logic.difficulty(**knobs, balance=balance)
            examples = [logic.example(seed, i, difficulty, "verdict") for i in range(n)]
            rows.append(model_vs_verifier(verdict, examples, f"{name}, {balance or 'balanced'}", budget))
    massive = benchmarks.load("evans:test_massive")[2][:n]
    entails = load(pretrained.require("logic", "entails"), device=device)
    rows.append(model_vs_verifier(entails, massive, "entails, evans test_massive", budget))
    if json_output:
        typer.echo(json.dumps([r.to_json() for r in rows]))
        return
    table = Table(title="model vs symbolic verifier, one input at a time (ms per input, parse included)")
    columns = ("inputs", "n", "accuracy", "wrong > 0.99", "ECE", "model median", "model p99", "verifier median",
               "verifier / model", "verifier decided")
    for column in columns:
        table.add_column(column, justify="right")
    for r in rows:
        out = r.to_json()
        table.add_row(
            r.inputs, str(r.n), f"{r.accuracy:.1%}", str(r.confident_wrong), f"{r.calibration_error:.3f}",
            f"{r.model_ms_median:.1f}", f"{r.model_ms_p99:.1f}", f"{r.verifier_ms_median:.1f}",
            f"{out['model_vs_verifier']:.2f}x", f"{r.verifier_decided}/{r.n}",
        )
    Console().print(table)


@app.command("halting")
@with_threads
@user_errors
def halting_command(
    checkpoint: Annotated[Optional[list[Path]], typer.Option(help="Halting model(s) (default: every shipped one).")] = None,
    benchmark: Annotated[Optional[str], typer.Option(help="Score on this benchmark instead of generated examples.")] = None,
    knob: Annotated[Optional[list[str]], typer.Option(help="Generate with these knobs (name=value) instead of the model's eval knobs.")] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Examples per model.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the generated examples (training used 0, its evaluation 1).")] = 5,
    worlds: Worlds = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    device: Device = DEFAULT_DEVICE,
) -> None:
    """Each halting model on the same examples twice, every node run for all its
    cycles and each node stopping on its own: accuracy, latent updates per node,
    and how answer updates track the domain's node difficulty. The examples are
    the model's held-out set from training (its eval knobs), or --benchmark."""
    from hybrid_trm import benchmarks, checkpoints, pretrained
    from hybrid_trm.bench.training import halting_vs_fixed
    from hybrid_trm.domains import registry

    paths = checkpoint or [p for p in pretrained.shipped() if checkpoints.load(p)[1]["model"].get("halting")]
    if not paths:
        raise HybridTRMError("no shipped model halts yet; pass a halting --checkpoint")
    if benchmark is not None and knob:
        raise HybridTRMError("give either --benchmark or --knob, not both")
    if benchmark is not None and len(paths) != 1:
        raise HybridTRMError("--benchmark scores one model: pass one --checkpoint")
    rows = []
    for path in paths:
        saved = checkpoints.one_model(checkpoints.load(path)[1], path)
        if benchmark is not None:
            _, _, examples = benchmarks.load(benchmark)
            name = benchmark
        else:
            domain = registry.get(saved["domain"])
            training = saved.get("training", {})
            knobs = parse_knobs(knob) if knob else training.get("eval_difficulty") or training.get("difficulty", {})
            difficulty = domain.difficulty(**knobs)
            examples = [domain.example(seed, i, difficulty, saved["task"]) for i in range(n)]
            name = "generated " + ", ".join(f"{k}={v}" for k, v in knobs.items())
        rows.append(halting_vs_fixed(path, examples[:n], name, worlds, device))
    if json_output:
        typer.echo(json.dumps([r.to_json() for r in rows]))
        return
    table = Table(title="halting against the same model at its fixed maximum, on the same examples")
    for column in ("model", "n", "accuracy fixed → halting", "latent updates / node", "cut", "answer updates / node"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            r.model, str(r.n), f"{r.fixed.accuracy:.2%} → {r.halting.accuracy:.2%}",
            f"{r.fixed.steps_mean:.2f} → {r.halting.steps_mean:.2f}", f"{r.to_json()['steps_cut']:.1%}",
            f"{r.fixed.cycles_mean:.2f} → {r.halting.cycles_mean:.2f}",
        )
    Console(width=max(120, Console().width)).print(table)
    for r in rows:
        if r.strategy:
            Console().print(f"{r.model}:", strategy_table(r.strategy))
        hard = r.halting.difficulty
        if hard is None:
            continue
        Console().print(
            f"{r.model}, halting: work by {hard.measure} over {hard.nodes} nodes: Pearson r "
            f"{correlation_text(hard.steps_correlation)} for latent updates, {correlation_text(hard.cycles_correlation)} for answer updates"
        )
        for level, steps in hard.steps_by_difficulty.items():
            Console().print(f"  {level}: {steps:.2f} latent updates, {hard.cycles_by_difficulty[level]:.2f} answer updates")



@app.command("curriculum")
@with_threads
@user_errors
def curriculum_command(
    preset: Annotated[str, typer.Option(help="The training recipe both runs follow (see `train --preset`).")] = "arith-mod10",
    steps: Annotated[Optional[int], typer.Option(min=1, help="Optimizer steps of each run (default: the preset's).")] = None,
    target: Annotated[float, typer.Option(min=0.0, max=1.0, help="In-distribution accuracy to reach.")] = 0.99,
    eval_every: Annotated[int, typer.Option(min=1, help="Steps between in-distribution evaluations.")] = 100,
    n: Annotated[int, typer.Option("-n", min=1, help="Out-of-distribution examples (the preset's eval knobs).")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the out-of-distribution examples.")] = 5,
    level_threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help=(
        "The curriculum moves up when held-out accuracy on its level passes this."
    ))] = 0.95,
    level_every: Annotated[int, typer.Option(min=1, help="Steps between the curriculum's checks.")] = 50,
    mix: Annotated[float, typer.Option(min=0.0, max=1.0, help=(
        "Share of each curriculum batch drawn from the whole training range (0: only the current level)."
    ))] = 0.0,
    supervision: Annotated[str, typer.Option(help=(
        "What is labelled: subtrees (every node) or root (the whole input's answer only)."
    ))] = "subtrees",
    training_seed: Annotated[Optional[int], typer.Option(help="Seed of both runs' model and data (default: the preset's).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the two checkpoints.")] = Path("runs/curriculum-vs-uniform"),
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    device: Device = DEFAULT_DEVICE,
) -> None:
    """Train one recipe twice from the same seed, sampling its whole training range
    uniformly and with the curriculum (easiest level first): steps to reach the
    target in distribution, and accuracy out of distribution at the end."""
    import dataclasses

    from rich.progress import Progress

    from hybrid_trm.bench import training
    from hybrid_trm.training.presets import PRESETS

    if preset not in PRESETS:
        raise HybridTRMError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    config = dataclasses.replace(
        PRESETS[preset], eval_every=eval_every, curriculum_mix=mix, curriculum_threshold=level_threshold,
        curriculum_every=level_every, supervision=supervision, **({"steps": steps} if steps else {}),
        **({"seed": training_seed} if training_seed is not None else {}),
    )
    with Progress(console=Console(stderr=True), transient=True, disable=json_output) as progress:
        bars = {name: progress.add_task(name, total=config.steps) for name in ("uniform", "curriculum")}
        runs = training.curriculum_vs_uniform(
            config, out, target, n, seed, on_step=lambda name, step, _: progress.update(bars[name], completed=step),
            device=device,
        )
    if json_output:
        typer.echo(json.dumps({"preset": preset, "steps": config.steps, "target": target, "runs": [vars(r) for r in runs]}))
        return
    labelled = "every subtree labelled" if supervision == "subtrees" else "root labels only"
    table = Table(title=f"{preset}: curriculum against uniform sampling, {config.steps} steps each, same seed, {labelled}")
    for column in ("sampling", f"steps to {target:.0%} in distribution", "in distribution at the end", f"out of distribution (n={n})", "training s"):
        table.add_column(column, justify="right")
    for r in runs:
        table.add_row(
            r.schedule, "never" if r.steps_to_target is None else str(r.steps_to_target),
            f"{r.final_accuracy:.2%}", f"{r.ood_accuracy:.2%}", f"{r.train_seconds:.0f}",
        )
    Console(width=max(120, Console().width)).print(table)
    ood = ", ".join(f"{k}={v}" for k, v in config.eval_difficulty.items())
    Console().print(f"out of distribution: {ood}")
    for step, level, knobs in runs[1].levels:
        Console().print(f"  curriculum level {level + 1} from step {step}: {knobs}")


@app.command("adapt")
@with_threads
@user_errors
def adapt_command(
    meta: Annotated[Path, typer.Option(help="A meta-level checkpoint (train --meta).")],
    preset: Annotated[Optional[str], typer.Option(help="The task to learn: a preset none of the meta-level's tasks is from (default: listops-value).")] = None,
    domain: Annotated[Optional[str], typer.Option(help="Or a domain to learn (one of --domain-path's, say), with --task and --knob.")] = None,
    task: Annotated[Optional[str], typer.Option(help="--domain: its task (default: its first).")] = None,
    knob: Annotated[Optional[list[str]], typer.Option(help="--domain: training difficulty knob name=value, repeatable.")] = None,
    steps: Annotated[Optional[int], typer.Option(min=1, help="Optimizer steps of each run (default: the preset's).")] = None,
    eval_every: Annotated[int, typer.Option(min=1, help="Steps between in-distribution evaluations.")] = 100,
    share: Annotated[float, typer.Option(min=0.0, max=1.0, help="The goal, as a share of the from-scratch final accuracy.")] = 0.99,
    out: Annotated[Path, typer.Option(help="Folder for the two checkpoints.")] = Path("runs/adaptation"),
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    device: Device = DEFAULT_DEVICE,
) -> None:
    """Learn a task (a preset's, or a domain's) twice, same seed and data: from
    scratch and from the meta-level's shared cell. Reports the examples each needs to reach `share` of
    the from-scratch run's final in-distribution accuracy."""
    import dataclasses

    from rich.progress import Progress

    from hybrid_trm.bench import training
    from hybrid_trm.domains import registry
    from hybrid_trm.training.loop import TrainConfig
    from hybrid_trm.training.presets import PRESETS

    if domain is None:
        if task or knob:
            raise HybridTRMError("--task and --knob go with --domain; a preset has its own")
        preset = preset or "listops-value"
        if preset not in PRESETS:
            raise HybridTRMError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
        config = PRESETS[preset]
    elif preset is not None:
        raise HybridTRMError("learn a --preset or a --domain, not both")
    else:
        learnt = registry.get(domain)
        config = TrainConfig(domain=domain, task=learnt.task(task).name, difficulty=parse_knobs(knob))
        learnt.difficulty(**config.difficulty)  # unknown knobs fail here, before any work
    name = preset or f"{config.domain}/{config.task}"
    config = dataclasses.replace(config, eval_every=eval_every, **({"steps": steps} if steps else {}))
    with Progress(console=Console(stderr=True), transient=True, disable=json_output) as progress:
        bars = {name: progress.add_task(f"from {name}", total=config.steps) for name in ("scratch", "meta")}
        goal, runs = training.adaptation(
            meta, config, out, share, on_step=lambda name, step, _: progress.update(bars[name], completed=step),
            device=device,
        )
    scratch, adapted = runs
    ratio = (
        adapted.examples_to_goal / scratch.examples_to_goal
        if adapted.examples_to_goal is not None and scratch.examples_to_goal else None
    )
    if json_output:
        typer.echo(json.dumps({"task": name, "goal": goal, "examples_ratio": ratio, "runs": [vars(r) for r in runs]}))
        return
    table = Table(title=f"{name} from scratch and from the meta-level's cell: goal {goal:.2%} ({share:.0%} of scratch's final)")
    for column in ("start", "steps to goal", "examples to goal", "final accuracy", "training s"):
        table.add_column(column, justify="right")
    for r in runs:
        never = r.steps_to_goal is None
        table.add_row(
            r.start, "never" if never else str(r.steps_to_goal), "never" if never else f"{r.examples_to_goal:,}",
            f"{r.final_accuracy:.2%}", f"{r.train_seconds:.0f}",
        )
    Console(width=max(120, Console().width)).print(table)
    if ratio is not None:
        Console().print(f"examples from the meta-level / from scratch: {ratio:.2f}")


@app.command("accuracy")
@with_threads
@user_errors
def accuracy_command(
    domain: Annotated[str, typer.Option(help="The suite to run: listops (task value), logic (task relation), arith (task exact, or mod10), programs (task output) or english (task truth).")],
    task: Annotated[Optional[str], typer.Option(help="The domain's task (default: its first: listops value, logic relation, arith exact, programs output, english truth).")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="A few steps and examples per model: a smoke test, not a result; 40-65 s for arith, 80 s for listops, 130 s for logic (two models at a time, one thread each, beside another process busy on one of 2 cores).")] = False,
    steps: Annotated[Optional[int], typer.Option(min=1, help="Optimizer steps of every model (default: the suite's, or --quick's).")] = None,
    n: Annotated[Optional[int], typer.Option("-n", min=1, help="Held-out examples per set (default 500; --quick 40).")] = None,
    target: Annotated[float, typer.Option(min=0.0, max=1.0, help="In-distribution accuracy for the time-to-target column.")] = 0.9,
    model: Annotated[Optional[list[str]], typer.Option(help="Run only these models (repeatable; default: all).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the held-out examples (training used 0, its checks 1).")] = 5,
    jobs: Annotated[Optional[int], typer.Option(min=1, help="Models trained at once, each in its own process on one thread (default: one per CPU core).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the checkpoints.")] = Path("runs/bench-accuracy"),
    plot: Annotated[Optional[Path], typer.Option(help="Also draw accuracy against depth per model to this PNG (needs matplotlib).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    reuse: Annotated[bool, typer.Option("--reuse", help="Score, without training again, each model whose checkpoint in --out was trained by the same recipe to the same steps (a run cut off, or one with another entrant changed).")] = False,
    device: Device = DEFAULT_DEVICE,
) -> None:
    """Train the recursive model and baselines of its parameter count (TreeLSTM,
    GIN, LSTM, Transformer; the cell without inner recursion; a 10x Transformer)
    for the same steps on the same data, and score each in distribution and
    beyond the training depth: accuracy by depth, parameters, training time."""
    from rich.progress import Progress

    from hybrid_trm.bench import accuracy as bench_accuracy

    if plot is not None:
        from hybrid_trm.plotting import pyplot

        pyplot()  # checked before hours of training, not after
    names = list(bench_accuracy.ENTRANTS) if not model else model
    with Progress(console=Console(stderr=True), transient=True) as progress:
        bars: dict[str, int] = {}

        def on_step(name: str, step: int, total: int) -> None:
            if name not in bars:
                bars[name] = progress.add_task(name, total=total)
            progress.update(bars[name], completed=step)

        result = bench_accuracy.run(
            domain, out, quick, steps, n, target, names, seed, on_step=on_step, task=task, jobs=jobs or os.cpu_count() or 1,
            device=device, reuse=reuse,
        )
    if plot is not None:
        bench_accuracy.plot(result, plot)
    if json_output:
        typer.echo(json.dumps(result.to_json()))
        return
    beyond = list(bench_accuracy.suite_for(domain, result.task).beyond)
    table = Table(title=(
        f"{domain}/{result.task}: {result.steps} steps each, same seed and data; trained on depth ≤ {result.trained_depth}; "
        f"n={result.n_in_distribution} per set"
    ))
    for column in ("model", "parameters", "in distribution", *beyond, f"s to {target:.0%}", "training s"):
        table.add_column(column, justify="right")
    for m in result.models:
        table.add_row(
            m.model, f"{m.parameters:,}", f"{m.in_distribution:.1%}", *(f"{m.beyond[b]:.1%}" for b in beyond),
            ("never" if m.trained_here and m.steps_to_target is None else "-") if m.seconds_to_target is None
            else f"{m.seconds_to_target:.0f}",
            f"{m.train_seconds:.0f}",
        )
    console = Console(width=max(120, Console().width))
    console.print(table)
    for name, gap in result.gaps().items():
        parts = [f"{name}: recursive {gap['ours']:.1%}"]
        for key, label in (("best_baseline", "the best baseline"), ("best_other_architecture", "the best other architecture")):
            if gap[key] is not None:
                parts.append(f"against {label} ({gap[key]}) {gap[f'vs_{key}_points']:+.1f} points")
        if gap["vs_transformer_10x_points"] is not None:
            parts.append(f"against transformer-10x {gap['vs_transformer_10x_points']:+.1f}")
        console.print("; ".join(parts))
    depths = sorted({int(d) for m in result.models for d in m.by_depth})
    by_depth = Table(title="accuracy by tree height")
    by_depth.add_column("model")
    for d in depths:
        by_depth.add_column(str(d), justify="right")
    for m in result.models:
        by_depth.add_row(m.model, *(f"{m.by_depth[str(d)]['accuracy']:.0%}" if str(d) in m.by_depth else "" for d in depths))
    console.print(by_depth)
    reused = [m.model for m in result.models if m.reused]
    if reused:
        console.print(f"trained by an earlier run to the same recipe and steps (--reuse), scored in this one: {', '.join(reused)}")
    console.print(f"wall time {result.wall_seconds:.0f} s" + (f"; plot: {plot}" if plot else ""))
