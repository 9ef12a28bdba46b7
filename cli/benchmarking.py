"""`hybrid-trm bench speed`: level-batched vs per-node recursion, and solve latency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .common import user_errors

app = typer.Typer(help="Benchmarks measured side by side in one run.", no_args_is_help=True)


@app.command("speed")
@user_errors
def speed_command(
    checkpoint: Annotated[Optional[Path], typer.Option(help="Checkpoint (default: the shipped listops-value).")] = None,
    trees: Annotated[int, typer.Option(min=1, help="Generated trees in the batch.")] = 256,
    solve_operands: Annotated[int, typer.Option(min=2, help="Operands of the arith/exact input timed with solve.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the generated inputs.")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Time the level-batched forward against a per-node recursion of the same
    model on the same trees, and `solve` on one input after the model is loaded."""
    from hybrid_trm import bench, pretrained
    from hybrid_trm.domains import registry
    from hybrid_trm.evaluate import load

    loaded = load(checkpoint or pretrained.require("listops", "value"))
    solve_path = pretrained.require("arith", "exact")
    domain = loaded.domain
    texts = [domain.example(seed, i, domain.difficulty(), loaded.task.name).input for i in range(trees)]
    arith = registry.get("arith")
    solve_input = arith.example(
        seed, 0, arith.difficulty(operands=solve_operands, operands_min=solve_operands, digits=3, ops="+-"), "exact"
    ).input
    report = bench.speed(loaded, texts, solve_input, solve_loaded=load(solve_path))
    if json_output:
        typer.echo(json.dumps(report.to_json()))
        return
    out = report.to_json()
    table = Table(title=f"speed: {loaded.domain.name}/{loaded.task.name}, {out['trees']} trees, {out['nodes']} nodes")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("level-batched forward", f"{out['level_batched_nodes_per_s']:,.0f} nodes/s")
    table.add_row("per-node recursion, same model", f"{out['naive_nodes_per_s']:,.0f} nodes/s")
    table.add_row("level-batched vs per-node", f"{out['level_batched_vs_naive']:.1f}x")
    table.add_row("largest logit difference", f"{out['max_abs_difference']:.1e}")
    table.add_row(f"solve, {out['solve_nodes']}-node arith/exact input, median", f"{out['solve_ms_median']:.1f} ms")
    table.add_row("solve, 90th percentile", f"{out['solve_ms_p90']:.1f} ms")
    Console().print(table)
