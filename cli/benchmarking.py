"""`hybrid-trm bench speed`: level-batched vs per-node recursion, and solve latency;
`hybrid-trm bench logic`: the logic models against the symbolic verifier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .common import user_errors

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
