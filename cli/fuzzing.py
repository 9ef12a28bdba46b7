"""`hybrid-trm bench fuzz`: seeded inputs no user should be able to break `solve`
with (hybrid_trm/fuzz), solved as `solve` does, and how each ended."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .output import Console, Table
from .common import user_errors


@user_errors
def fuzz_command(
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="Inputs to solve, drawn in turn from the four families.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed of the inputs: input i of seed s is hybrid_trm.fuzz.fuzz_input(s, i).")] = 0,
    timeout: Annotated[float, typer.Option(min=0.001, help=(
        "Each input's time budget in seconds, as `solve --timeout`; an input that takes more than 1 s past it is a failure."
    ))] = 10.0,
    jobs: Annotated[int, typer.Option(min=1, help="Worker processes, forked, one torch thread each.")] = 1,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Solve seeded hostile inputs the way `solve` does: random bytes and Unicode,
    mutated examples, extremes of depth, width and length, and injection payloads.
    Each must end in an answer or one clear error within its budget, and no payload
    may run; exit code 1 otherwise, with what reproduces each failure."""
    from rich.progress import Progress

    from hybrid_trm import fuzz

    with Progress(console=Console(stderr=True), transient=True, disable=json_output) as progress:
        bar = progress.add_task(f"fuzz seed {seed}", total=n)
        report = fuzz.run(n, seed, timeout=timeout, jobs=jobs, progress=lambda k: progress.advance(bar, k))
    if json_output:
        typer.echo(json.dumps(report.to_json()))
    else:
        _print_fuzz(report)
    if report.failed:
        raise typer.Exit(1)


def _print_fuzz(report) -> None:
    """The table per family, every failure with its reproducer, and the summary line."""
    from hybrid_trm import fuzz

    console = Console(width=max(120, Console().width))
    table = Table(title=(
        f"fuzz seed {report.seed}: {report.timeout:g} s budget (+{report.slack:g} s slack), "
        f"{report.seconds:.0f} s wall, {report.jobs} job(s)"
    ))
    for column in ("family", "inputs", "answered", "project errors", "other exceptions", "over budget", "slowest s"):
        table.add_column(column, justify="right")
    for family, counts in report.counts.items():
        table.add_row(
            family, f"{sum(counts.values()):,}", *(f"{counts[o]:,}" for o in fuzz.OUTCOMES), f"{report.slowest_s[family]:.2f}",
        )
    console.print(table)
    if report.project_errors:
        console.print("project errors: " + ", ".join(f"{kind} {count:,}" for kind, count in report.project_errors.items()))
    for case in report.failures[:50]:
        given = "".join(f", {k}={v!r}" for k, v in (("domain", case.domain), ("task", case.task)) if v is not None)
        console.print(
            f"{case.outcome} ({case.seconds:.2f} s) {case.family}/{case.shape}: fuzz_input({case.seed}, {case.index}){given}: "
            f"{case.error}; input {case.text}",
            markup=False, highlight=False, soft_wrap=True,  # one line each, to copy whole
        )
    if len(report.failures) > 50:
        console.print(f"... and {len(report.failures) - 50} more (--json lists every one)")
    for path in report.payloads_executed:
        console.print(f"payload executed: {path} was created", markup=False)
    console.print(report.summary())
