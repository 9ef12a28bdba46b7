"""`hybrid-trm bench speed`: level-batched vs per-node recursion, the cell against a matmul,
batch eval and solve by stage, the parser and the verifier alone;
`hybrid-trm bench runtime`: the torch-free runtime against the torch model;
`hybrid-trm bench threads`: training speed by thread count, idle and beside a busy process;
`hybrid-trm bench device`: training and eval speed on the CPU and on an accelerator (GPU).
Registered on the bench group in main.py."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from hybrid_trm.errors import HybridTRMError

from .output import Console, Table
from .common import user_errors

# The shipped models timed by `solve`, each on a ~100-node input from its own generator.
SOLVE_INPUTS = {
    ("listops", "value"): {"depth": 6},
    ("arith", "mod10"): {"operands": 50, "operands_min": 50, "digits": 3},
    ("arith", "exact"): {"operands": 50, "operands_min": 50, "digits": 3, "ops": "+-"},
}


@user_errors
def speed_command(
    checkpoint: Annotated[Optional[Path], typer.Option(help="Model for the batched, eval, parser and verifier runs (default: shipped listops-value).")] = None,
    trees: Annotated[Optional[int], typer.Option(min=1, help="Generated trees in the batched-vs-per-node batch (default 256; --quick 16).")] = None,
    examples: Annotated[Optional[int], typer.Option("-n", min=1, help="Generated inputs of the batch eval, parser and verifier runs (default 2000; --quick 300).")] = None,
    nodes: Annotated[int, typer.Option(min=2, help="Size of each solve input, in nodes.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the generated inputs.")] = 0,
    threads: Annotated[Optional[int], typer.Option(min=1, help="Torch threads for every model figure and the matmul peak (default: torch's, one per core).")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes and one thread (unless --threads): a smoke test in well under a minute, not a result.")] = False,
    plot: Annotated[Optional[Path], typer.Option(help="Also draw where the time goes and nodes/s per path to this PNG (needs matplotlib).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """In one run: nodes/s of the level-batched forward against a per-node recursion
    of the same model on the same trees; the cell's FLOP/s against a large matmul
    timed here; batch eval end to end (parse included) and by stage; the parser and
    the symbolic verifier alone on the same inputs; and `solve` by stage per shipped
    model after it is loaded."""
    import dataclasses

    import torch

    from hybrid_trm import pretrained
    from hybrid_trm.bench import speed
    from hybrid_trm.loading import load

    if plot is not None:
        from hybrid_trm.plotting import pyplot

        pyplot()  # checked before the run, not after
    if quick and threads is None:
        # Two threads spinning for each other on a busy machine (a CI runner) make a
        # 10 s run take minutes; one thread keeps the smoke test short anywhere.
        threads = 1
    if threads is not None:
        torch.set_num_threads(threads)
    sizes = speed.QUICK if quick else speed.SpeedSizes()
    sizes = dataclasses.replace(
        sizes, **({"trees": trees} if trees else {}), **({"eval_examples": examples} if examples else {}),
    )
    loaded = load(checkpoint or pretrained.require("listops", "value"))
    solve_inputs = []
    for (dom, task), knobs in SOLVE_INPUTS.items():
        model = load(pretrained.require(dom, task))
        solve_inputs.append((model, speed.input_near(model, nodes, seed, knobs, tries=30 if quick else 300)))
    report = speed.run(loaded, solve_inputs, sizes, seed)
    if plot is not None:
        speed.plot(report, plot)
    out = report.to_json()
    if json_output:
        typer.echo(json.dumps(out))
        return
    console = Console(width=max(120, Console().width))
    name = f"{loaded.domain.name}/{loaded.task.name}"
    table = Table(title=(
        f"{name}: nodes/s, {report.threads} thread(s), load average {report.load[0]:.1f} → {report.load[1]:.1f}"
    ))
    for column in ("path", "inputs", "nodes", "nodes/s", "ms per input"):
        table.add_column(column, justify="right")
    b = report.batched
    table.add_row("level-batched forward", str(b.trees), f"{b.nodes:,}", f"{out['level_batched_nodes_per_s']:,.0f}", f"{1000 * b.level_batched_s / b.trees:.3f}")
    if b.level_loop_s is not None:
        table.add_row("  level loop, every leaf computed", str(b.trees), f"{b.nodes:,}", f"{b.nodes / b.level_loop_s:,.0f}", f"{1000 * b.level_loop_s / b.trees:.3f}")
    table.add_row("per-node recursion, same model", str(b.trees), f"{b.nodes:,}", f"{out['naive_nodes_per_s']:,.0f}", f"{1000 * b.naive_s / b.trees:.3f}")
    evals = report.evals
    for e in evals:
        table.add_row(f"batch eval, end to end (parse included), {e.describe()}", str(e.items), f"{e.nodes:,}", f"{e.nodes / e.total_s:,.0f}", f"{1000 * e.total_s / e.items:.3f}")
    for what, item in (("parser alone", out["parser"]), ("symbolic verifier (parse included)", out["verifier"])):
        table.add_row(what, str(item["items"]), f"{item['nodes']:,}", f"{item['nodes_per_s']:,.0f}", f"{item['ms_per_item']:.3f}")
    console.print(table)
    console.print(
        f"level-batched / per-node: {out['level_batched_vs_naive']:.1f}x"
        + (f" (the level loop alone: {out['level_loop_vs_naive']:.1f}x)" if "level_loop_vs_naive" in out else "")
        + f"; largest logit difference {b.max_abs_difference:.1e}"
    )
    console.print(f"batch eval / verifier, per input: {out['neural_vs_verifier']:.1f}x faster")
    c = out["cell"]
    console.print(
        f"cell: {c['cell_flops_per_node']:,.0f} FLOP per node over {c['nodes']:,} nodes, {c['cell_flops_per_s'] / 1e9:.1f} GFLOP/s = "
        f"{c['cell_flops_fraction_of_peak']:.0%} of a {sizes.matmul_size}x{sizes.matmul_size} matmul's {c['peak_flops_per_s'] / 1e9:.1f} GFLOP/s"
        + (f" (the level loop, every leaf computed: {c['level_loop_fraction_of_peak']:.0%})" if "level_loop_fraction_of_peak" in c else "")
    )
    one = out["cell_one_thread"]
    if one is not None:
        console.print(
            f"cell on one thread (as each eval worker runs it): {one['cell_flops_per_s'] / 1e9:.1f} GFLOP/s = "
            f"{one['cell_flops_fraction_of_peak']:.0%} of one thread's matmul, {one['peak_flops_per_s'] / 1e9:.1f} GFLOP/s"
        )
    stages = Table(title=(
        "where the time goes: ms per input by stage (eval: batched, per input, with workers the sum of theirs; "
        "total: the wall time; solve: median of one input)"
    ))
    names = list(dict.fromkeys([*(k for e in evals for k in e.stages), *(k for s in report.solve for k in s.stages_ms)]))
    for column in ("run", "nodes", *names, "total"):
        stages.add_column(column, justify="right")
    for e in evals:
        stages.add_row(
            f"eval {name} ({e.items} inputs), {e.describe()}", f"{e.nodes / e.items:.0f}",
            *(f"{1000 * e.stages[k] / e.items:.3f}" if k in e.stages else "" for k in names), f"{1000 * e.total_s / e.items:.3f}",
        )
    for s in report.solve:
        stages.add_row(f"solve {s.model}", str(s.nodes), *(f"{s.stages_ms[k]:.2f}" if k in s.stages_ms else "" for k in names), f"{s.ms_median:.2f}")
    console.print(stages)
    if plot is not None:
        console.print(f"plot: {plot}")


# Generated first-order families (n each): monadic with six predicates; relational
# (binary, nesting up to 4); and the whole range (up to 6 predicates of 1..3
# arguments, 3 constants, equality, nesting up to 5). Drawn balanced over the
# answers (the search reads them off sampled worlds; see LogicDifficulty.balance)
# and as they come (`natural`).
@user_errors
def runtime_command(
    model: Annotated[Optional[list[str]], typer.Option(help="A shipped model as domain/task, repeatable (default: every one).")] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Inputs per model compared (its benchmark sets sampled evenly, or generated).")] = 200,
    repeats: Annotated[int, typer.Option(min=1, help="Timed solves of the ~100-node input, per runtime (the median is reported).")] = 50,
    cold: Annotated[int, typer.Option(min=0, help="Fresh `hybrid-trm solve` processes per runtime and model (0: no cold starts).")] = 10,
    eval_inputs: Annotated[int, typer.Option(min=0, help=(
        "Examples per model of the batch eval, end to end (its benchmark sets sampled evenly, or generated); 0: no eval."
    ))] = 1000,
    eval_jobs: Annotated[int, typer.Option(min=1, help="Worker processes of each eval (1: the bench's own process).")] = 1,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The torch-free runtime (numpy) against the torch model, per shipped model: answer
    agreement and the largest logit difference on the same inputs, solve latency after
    loading on a ~100-node input, batch `eval` end to end (parse included) on the same
    examples, and a fresh `hybrid-trm solve` process's cold start (wall time and peak
    memory) for each runtime."""
    from hybrid_trm import pretrained
    from hybrid_trm.bench.runtime import TOLERANCE, run

    shipped = [tuple(p.name.split("-", 1)) for p in pretrained.shipped()]
    chosen = [tuple(m.split("/", 1)) for m in model] if model else shipped
    for pair in chosen:
        if pair not in shipped:
            raise HybridTRMError(f"no shipped model {'/'.join(pair)}; shipped: {', '.join('/'.join(p) for p in shipped)}")
    report = run(chosen, n, repeats, cold, eval_n=eval_inputs, eval_jobs=eval_jobs)
    if json_output:
        typer.echo(json.dumps(report.to_json()))
        return
    table = Table(title=f"numpy runtime vs torch (logits accepted within {TOLERANCE:g} x the largest |logit|)")
    for column in ("model", "inputs", "answers agree", "nodes agree", "max |Δ logit|", "max |logit|",
                   "~100-node solve: torch ms", "runtime ms", "model: torch ms", "runtime ms"):
        table.add_column(column, justify="right")
    for a, t in zip(report.agreements, report.latencies):
        table.add_row(
            a.model, str(a.inputs), f"{a.answers_agree}/{a.inputs}", f"{a.nodes_agree}/{a.nodes}", f"{a.max_logit_difference:.1e}",
            f"{a.max_logit:.1f}", f"{t.torch_ms:.2f}", f"{t.runtime_ms:.2f}", f"{t.torch_model_ms:.2f}", f"{t.runtime_model_ms:.2f}",
        )
    console = Console(width=max(120, Console().width))
    console.print(table)
    if report.evals:
        evals = Table(title=(
            f"batch eval end to end, parse included ({'one process' if eval_jobs == 1 else f'{eval_jobs} worker processes'}; "
            "median of 3 runs each, alternately)"
        ))
        for column in ("model", "inputs", "nodes", "torch nodes/s", "runtime nodes/s", "runtime nodes per CPU s",
                       "same report (accuracy)", "runtime s: parse / tensorize / model / answers"):
            evals.add_column(column, justify="right")
        for e in report.evals:
            evals.add_row(
                e.model, str(e.inputs), f"{e.nodes:,}", f"{e.nodes / e.torch_s:,.0f}", f"{e.nodes / e.runtime_s:,.0f}",
                f"{e.nodes / max(e.runtime_cpu_s, 1e-9):,.0f}", f"{'yes' if e.same_report else 'NO'} ({e.runtime_accuracy:.2%})",
                " / ".join(f"{e.runtime_stages.get(k, 0.0):.2f}" for k in ("parse", "tensorize", "model", "answers")),
            )
        console.print(evals)
    if report.cold_starts:
        starts = Table(title=f"cold start of `hybrid-trm solve` (median of {cold}, wall and CPU time; peak memory, the largest)")
        for column in ("model", "runtime s", "CPU s", "MB", "torch s", "CPU s", "MB"):
            starts.add_column(column, justify="right")
        for name, (ours, theirs) in report.cold_starts.items():
            starts.add_row(name, *(f"{f:.{d}f}" for run in (ours, theirs) for f, d in (
                (run.seconds, 2), (run.cpu_seconds, 2), (run.max_rss_mb, 0),
            )))
        console.print(starts)
    load = os.getloadavg()
    console.print(f"load average {load[0]:.1f} (other processes share these cores: the times are theirs too)")


@user_errors
def threads_command(
    preset: Annotated[str, typer.Option(help="The recipe trained (a shipped checkpoint's preset).")] = "logic-verdict",
    threads: Annotated[Optional[list[int]], typer.Option(min=1, help="Thread counts compared, repeatable (default 1 and 2).")] = None,
    steps: Annotated[int, typer.Option(min=5, help="Optimizer steps timed per run (after 5 of warm-up).")] = 40,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Training steps/s by torch thread count, each a fresh process, on the machine as
    it is and beside one process spinning on a core (a second job, a user's program):
    how far each count falls when the machine is shared. Run it on an otherwise idle
    machine."""
    from hybrid_trm.bench.threads import threads_table
    from hybrid_trm.training.presets import PRESETS

    if preset not in PRESETS:
        raise HybridTRMError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    before = os.getloadavg()[0]
    rows = threads_table(preset, threads or [1, 2], steps)
    if json_output:
        typer.echo(json.dumps({"preset": preset, "steps": steps, "load_average_before": before,
                               "rows": [r.to_json() for r in rows]}))
        return
    table = Table(title=f"{preset}: training steps/s ({steps} steps each; load average before {before:.1f})")
    for column in ("threads", "idle", "beside a busy process", "busy / idle"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(str(r.threads), f"{r.idle_steps_per_s:.2f}", f"{r.busy_steps_per_s:.2f}", f"{r.busy_vs_idle:.0%}")
    Console(width=max(100, Console().width)).print(table)


@user_errors
def device_command(
    device: Annotated[str, typer.Option(help=(
        "The accelerator compared with the CPU: auto (cuda if a GPU is visible, else mps), cuda, cuda:N or mps; "
        "cpu measures the CPU alone. A device this machine lacks is refused, exit 2."
    ))] = "auto",
    preset: Annotated[str, typer.Option(help="The recipe trained, and the task whose shipped model is evaluated.")] = "listops-value",
    steps: Annotated[int, typer.Option(min=1, help="Training steps timed per device (after 3 of warm-up).")] = 20,
    batch_size: Annotated[Optional[int], typer.Option(min=1, help="Trees per training step (default: the preset's).")] = None,
    examples: Annotated[int, typer.Option("-n", min=1, help="Generated inputs of the eval (the preset's training distribution).")] = 1000,
    repeats: Annotated[int, typer.Option(min=1, help="Eval runs per device (the median is reported).")] = 3,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Training steps/s and eval nodes/s on the CPU and on the accelerator, side by
    side in one run, with the ratio, and whether the accelerator's eval answers are
    the CPU's. Without an accelerator it says so and measures the CPU alone. The
    CPU runs on --threads torch threads (default 1): pass the machine's cores for
    its best figure."""
    import dataclasses

    from hybrid_trm import devices
    from hybrid_trm.bench.device import run
    from hybrid_trm.training.presets import PRESETS

    if preset not in PRESETS:
        raise HybridTRMError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
    config = dataclasses.replace(PRESETS[preset], **({"batch_size": batch_size} if batch_size else {}))
    chosen = devices.resolve(device)
    missing = None
    if chosen.type == "cpu":
        missing = "--device cpu: the CPU alone" if devices.checked_name(device) == "cpu" else (
            "no accelerator here (torch sees neither a CUDA GPU nor MPS): the CPU alone"
        )
    with Console(stderr=True).status(f"timing {preset} on {'cpu' if missing else f'cpu and {chosen}'} ...", spinner="dots"):
        bench = run(preset, config, None if missing else chosen, steps, examples, repeats=repeats, accelerator_missing=missing)
    if json_output:
        typer.echo(json.dumps(bench.to_json()))
        return
    console = Console(width=max(120, Console().width))
    table = Table(title=(
        f"{preset}: {bench.batch_size} trees per training step, {bench.steps} steps timed; eval of {bench.eval_inputs:,} "
        f"inputs ({bench.eval_nodes:,} nodes), one process, median of {repeats}"
    ))
    columns = ("device", "training steps/s", "steps/s, model alone", "loss", "eval nodes/s", "nodes/s, model alone", "eval accuracy")
    for column in columns:
        table.add_column(column, justify="right")
    for r in bench.rows:
        table.add_row(
            r.name, f"{r.train_steps_per_s:.2f}", f"{r.train_model_steps_per_s:.2f}", f"{r.loss:.4f}",
            f"{r.eval_nodes_per_s:,.0f}", f"{r.eval_model_nodes_per_s:,.0f}", f"{r.eval_accuracy:.2%}",
        )
    ratios = bench.ratios()
    if ratios is not None:
        table.add_row(
            f"{bench.rows[1].device} / cpu", f"{ratios['train_steps_per_s']:.2f}x", f"{ratios['train_model_steps_per_s']:.2f}x", "",
            f"{ratios['eval_nodes_per_s']:.2f}x", f"{ratios['eval_model_nodes_per_s']:.2f}x", "",
        )
    console.print(table)
    agreement = bench.agreement()
    if agreement is not None:
        console.print(
            f"eval answers on {bench.rows[1].device} agree with the CPU's on {agreement['answers_agree']:,} of "
            f"{agreement['inputs']:,} inputs (confidence within {agreement['max_confidence_difference']:.1e})"
        )
    if bench.accelerator_missing:
        console.print(bench.accelerator_missing)
