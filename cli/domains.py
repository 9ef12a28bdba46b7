"""`hybrid-trm domain check`: run the domain contract (domains/contract.py) on a
domain, installed or from `--domain-path`, and say what fails, on which input."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from hybrid_trm.domains import registry

from .common import parse_knobs, user_errors

app = typer.Typer(help="Check the domains a model can be trained on, built-in or your own.", no_args_is_help=True)


@app.command("check")
@user_errors
def check_command(
    name: Annotated[str, typer.Argument(help="The domain (a folder's needs `hybrid-trm --domain-path DIR domain check NAME`).")],
    task: Annotated[Optional[list[str]], typer.Option(help="Only this task (repeatable; default: every task).")] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Examples per task.")] = 200,
    knob: Annotated[Optional[list[str]], typer.Option(help="Difficulty knob name=value for the examples, repeatable.")] = None,
) -> None:
    """Generate examples of each task and check what every domain promises: the text
    parses, one label per node with the root's the answer, labels fit the task,
    node kinds are declared, the verifier accepts the answer and rejects a wrong
    one, and generation is a pure function of (seed, index). Exits 1 if any fails."""
    from hybrid_trm.domains import contract

    domain = registry.get(name)
    tasks = [domain.task(t).name for t in task] if task else list(domain.tasks)
    knobs = parse_knobs(knob)
    domain.difficulty(**knobs)  # an unknown knob fails here, before any work
    failed = 0
    for task_name in tasks:
        typer.echo(f"{name}/{task_name}: {n} examples")
        for result in contract.check(domain, task_name, knobs, n):
            mark = "ok  " if result.passed else "FAIL"
            typer.echo(f"  {mark} {result.name}" + ("" if result.passed else f": {result.failure}"))
            failed += not result.passed
    if failed:
        typer.echo(f"{failed} check(s) failed", err=True)
        raise typer.Exit(1)
