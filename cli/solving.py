"""`hybrid-trm solve`: answer one input with a shipped (or given) checkpoint,
verify the answer symbolically, and show the tree with every node's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (
    DEFAULT_DEVICE, DEFAULT_TIMEOUT, REJECTED, Device, HaltThreshold, InnerSteps, MaxCycles, Runtime, Timeout, Worlds,
    input_text, user_errors,
)


@user_errors
def solve(
    text: Annotated[Optional[str], typer.Argument(help=(
        "The input, e.g. \"3 - -2 * (4 + 1)\" or \"[MAX 2 9 [MIN 4 7 ] 0 ]\"; - reads it from standard input."
    ))] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help=(
        "Read the input from this file (UTF-8; - for standard input): a program does not fit on a command line."
    ))] = None,
    domain: Annotated[Optional[str], typer.Option(help="Domain (default: the one whose grammar accepts the input).")] = None,
    task: Annotated[Optional[str], typer.Option(help="Task (default: the domain's first whose model knows every node of the input).")] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(help="Checkpoint, or folder `hybrid-trm export` wrote, to use (default: the shipped one).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    trace: Annotated[bool, typer.Option(help="Show the tree with every node's predicted answer.")] = False,
    verify: Annotated[bool, typer.Option(help="Check the answer with the domain's symbolic verifier.")] = True,
    worlds: Worlds = None,
    inner_steps: InnerSteps = None,
    max_cycles: MaxCycles = None,
    halt_threshold: HaltThreshold = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    runtime: Runtime = None,
    device: Device = DEFAULT_DEVICE,
) -> None:
    """Answer one input with the tiny recursive model and check it symbolically."""
    from hybrid_trm.loading import Recursion
    from hybrid_trm.api import solve as solve_input

    result = solve_input(
        input_text(text, file), domain, task, checkpoint, timeout=timeout, verify=verify, trace=trace, worlds=worlds,
        recursion=Recursion(inner_steps, max_cycles, halt_threshold), runtime=runtime, device=device,
    )
    domain, task_name = result.domain, result.task
    if json_output:
        typer.echo(json.dumps({**result.to_json(), **({"trace": result.trace_nodes()} if trace else {})}, allow_nan=False))
        _exit_if_rejected(result.verified)
        return
    verdict = {True: "verified ✓", False: "WRONG ✗", None: "not checked"}[result.verified]
    typer.echo(f"{result.answer}")
    who = f"confidence {result.confidence:.3f}" if result.answered_by == "model" else f"no model: the {result.answered_by} answered"
    typer.echo(f"  {domain}/{task_name}  {who}  {verdict}  {result.nodes} nodes  {result.ms:.1f} ms")
    if result.witness:
        typer.echo(f"  model: {result.witness}")
    if result.verified is not None or result.evidence:
        typer.echo(f"  verifier: {result.evidence}")
    if trace:
        for line in result.trace_lines():
            typer.echo(line)
    _exit_if_rejected(result.verified)


def _exit_if_rejected(verified: bool | None) -> None:
    """Exit code 3 where the verifier rejected the answer, so that a script can tell."""
    if verified is False:
        raise typer.Exit(REJECTED)
