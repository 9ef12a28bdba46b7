"""`hybrid-trm bench speed`: level-batched vs per-node recursion, and solve latency;
`hybrid-trm bench logic`: the logic models against the symbolic verifier;
`hybrid-trm bench halting`: halting models against their fixed maximum depth;
`hybrid-trm bench curriculum`: a curriculum against uniform sampling;
`hybrid-trm bench adapt`: a new task from the meta-level's cell against from scratch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from hybrid_trm.errors import HybridTRMError

from .common import Worlds, correlation_text, parse_knobs, strategy_table, user_errors

app = typer.Typer(help="Benchmarks measured side by side in one run.", no_args_is_help=True)

# The shipped models timed by `solve`, each on a ~100-node input from its own generator.
SOLVE_INPUTS = {
    ("listops", "value"): {"depth": 6},
    ("arith", "mod10"): {"operands": 50, "operands_min": 50, "digits": 3},
    ("arith", "exact"): {"operands": 50, "operands_min": 50, "digits": 3, "ops": "+-"},
}


@app.command("speed")
@user_errors
def speed_command(
    checkpoint: Annotated[Optional[Path], typer.Option(help="Model for the batched-vs-naive run (default: shipped listops-value).")] = None,
    trees: Annotated[int, typer.Option(min=1, help="Generated trees in the batch.")] = 256,
    nodes: Annotated[int, typer.Option(min=2, help="Size of each solve input, in nodes.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the generated inputs.")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Time the level-batched forward against a per-node recursion of the same
    model on the same trees, and `solve` per shipped model after it is loaded."""
    from hybrid_trm import bench, pretrained
    from hybrid_trm.evaluate import load

    loaded = load(checkpoint or pretrained.require("listops", "value"))
    domain = loaded.domain
    texts = [domain.example(seed, i, domain.difficulty(), loaded.task.name).input for i in range(trees)]
    comparison = bench.batched_vs_naive(loaded, texts)
    latencies = []
    for (dom, task), knobs in SOLVE_INPUTS.items():
        model = load(pretrained.require(dom, task))
        latencies.append(bench.solve_latency(model, bench.input_near(model, nodes, seed, knobs)))
    if json_output:
        out = comparison.to_json()
        out["solve"] = [vars(s) for s in latencies]
        typer.echo(json.dumps(out))
        return
    out = comparison.to_json()
    table = Table(title=f"level-batched vs per-node: {domain.name}/{loaded.task.name}, {out['trees']} trees, {out['nodes']} nodes")
    table.add_column("forward")
    table.add_column("nodes/s", justify="right")
    table.add_row("level-batched", f"{out['level_batched_nodes_per_s']:,.0f}")
    table.add_row("per-node recursion, same model", f"{out['naive_nodes_per_s']:,.0f}")
    table.add_row("ratio", f"{out['level_batched_vs_naive']:.1f}x")
    table.add_row("largest logit difference", f"{out['max_abs_difference']:.1e}")
    Console().print(table)
    solve_table = Table(title="solve after loading (parse + tensorize + model + verify)")
    for column in ("model", "nodes", "median ms", "p90 ms"):
        solve_table.add_column(column, justify="right")
    for s in latencies:
        solve_table.add_row(s.model, str(s.nodes), f"{s.ms_median:.1f}", f"{s.ms_p90:.1f}")
    Console().print(solve_table)


# First-order formulas at quantifier nesting 4 with four variables: every structure
# of two predicates, with every element for each variable (680 positions).
NESTING_4 = {"first_order": 1, "variables": 4, "predicates": 2, "depth": 8, "quantifier_depth": 4, "quantifier_depth_min": 4}


@app.command("logic")
@user_errors
def logic_command(
    n: Annotated[int, typer.Option("-n", min=1, help="Inputs of each kind.")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the generated formulas.")] = 0,
    budget: Annotated[float, typer.Option(min=0.1, help="The verifier's time budget per input, seconds.")] = 10.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Median time per input of the shipped logic models and of the symbolic
    verifier on the same inputs: first-order verdicts at quantifier nesting 4
    (generated) and the entailment pairs of test_massive."""
    from hybrid_trm import bench, benchmarks, pretrained
    from hybrid_trm.domains import registry
    from hybrid_trm.evaluate import load

    logic = registry.get("logic")
    difficulty = logic.difficulty(**NESTING_4)
    nested = [logic.example(seed, i, difficulty, "verdict").input for i in range(n)]
    massive = [e.input for e in benchmarks.load("evans:test_massive")[2][:n]]
    rows = [
        bench.model_vs_verifier(load(pretrained.require("logic", "verdict")), nested, "first-order verdict, nesting 4", budget),
        bench.model_vs_verifier(load(pretrained.require("logic", "entails")), massive, "entails, evans test_massive", budget),
    ]
    if json_output:
        typer.echo(json.dumps([r.to_json() for r in rows]))
        return
    table = Table(title="model vs symbolic verifier, one input at a time (median ms, parse included)")
    for column in ("inputs", "n", "model ms", "verifier ms", "verifier / model", "agreement", "verifier timeouts"):
        table.add_column(column, justify="right")
    for r in rows:
        out = r.to_json()
        table.add_row(
            r.inputs, str(r.n), f"{r.model_ms_median:.2f}", f"{r.verifier_ms_median:.2f}",
            f"{out['model_vs_verifier']:.1f}x", f"{r.agreement:.1%}", str(r.verifier_timeouts),
        )
    Console().print(table)


@app.command("halting")
@user_errors
def halting_command(
    checkpoint: Annotated[Optional[list[Path]], typer.Option(help="Halting model(s) (default: every shipped one).")] = None,
    benchmark: Annotated[Optional[str], typer.Option(help="Score on this benchmark instead of generated examples.")] = None,
    knob: Annotated[Optional[list[str]], typer.Option(help="Generate with these knobs (name=value) instead of the model's eval knobs.")] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Examples per model.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the generated examples (training used 0, its evaluation 1).")] = 5,
    worlds: Worlds = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Each halting model on the same examples twice, every node run for all its
    cycles and each node stopping on its own: accuracy, latent updates per node,
    and how answer updates track the domain's node difficulty. The examples are
    the model's held-out set from training (its eval knobs), or --benchmark."""
    from hybrid_trm import bench, benchmarks, checkpoints, pretrained
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
        saved = checkpoints.load(path)[1]
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
        rows.append(bench.halting_vs_fixed(path, examples[:n], name, worlds))
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
) -> None:
    """Train one recipe twice from the same seed, sampling its whole training range
    uniformly and with the curriculum (easiest level first): steps to reach the
    target in distribution, and accuracy out of distribution at the end."""
    import dataclasses

    from rich.progress import Progress

    from hybrid_trm import bench
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
        runs = bench.curriculum_vs_uniform(
            config, out, target, n, seed, on_step=lambda name, step, _: progress.update(bars[name], completed=step),
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
@user_errors
def adapt_command(
    meta: Annotated[Path, typer.Option(help="A meta-level checkpoint (train --meta).")],
    preset: Annotated[str, typer.Option(help="The task to learn: a preset none of the meta-level's tasks is from.")] = "listops-value",
    steps: Annotated[Optional[int], typer.Option(min=1, help="Optimizer steps of each run (default: the preset's).")] = None,
    eval_every: Annotated[int, typer.Option(min=1, help="Steps between in-distribution evaluations.")] = 100,
    share: Annotated[float, typer.Option(min=0.0, max=1.0, help="The goal, as a share of the from-scratch final accuracy.")] = 0.99,
    out: Annotated[Path, typer.Option(help="Folder for the two checkpoints.")] = Path("runs/adaptation"),
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Learn a preset's task twice, same seed and data: from scratch and from the
    meta-level's shared cell. Reports the examples each needs to reach `share` of
    the from-scratch run's final in-distribution accuracy."""
    import dataclasses

    from rich.progress import Progress

    from hybrid_trm import bench
    from hybrid_trm.training.presets import PRESETS

    if preset not in PRESETS:
        raise HybridTRMError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    config = dataclasses.replace(PRESETS[preset], eval_every=eval_every, **({"steps": steps} if steps else {}))
    with Progress(console=Console(stderr=True), transient=True, disable=json_output) as progress:
        bars = {name: progress.add_task(f"from {name}", total=config.steps) for name in ("scratch", "meta")}
        goal, runs = bench.adaptation(
            meta, config, out, share, on_step=lambda name, step, _: progress.update(bars[name], completed=step),
        )
    scratch, adapted = runs
    ratio = (
        adapted.examples_to_goal / scratch.examples_to_goal
        if adapted.examples_to_goal is not None and scratch.examples_to_goal else None
    )
    if json_output:
        typer.echo(json.dumps({"preset": preset, "goal": goal, "examples_ratio": ratio, "runs": [vars(r) for r in runs]}))
        return
    table = Table(title=f"{preset} from scratch and from the meta-level's cell: goal {goal:.2%} ({share:.0%} of scratch's final)")
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
