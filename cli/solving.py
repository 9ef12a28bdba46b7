"""`hybrid-trm solve`: answer one input with a shipped (or given) checkpoint,
verify the answer symbolically, and show the tree with every node's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from hybrid_trm.domains import registry
from hybrid_trm.errors import HybridTRMError, ParseError

from .common import HaltThreshold, InnerSteps, MaxCycles, Worlds, user_errors


def detect_domain(text: str) -> str:
    """The one registered domain whose grammar accepts the text."""
    accepted, errors = [], []
    for name in registry.names():
        try:
            registry.get(name).parse(text)
            accepted.append(name)
        except ParseError as err:
            errors.append(err)
    if len(accepted) == 1:
        return accepted[0]
    if accepted:
        raise HybridTRMError(f"the input parses in several domains ({', '.join(accepted)}); pass --domain")
    # Report the domain whose parser read furthest: most likely the one meant.
    raise max(errors, key=lambda e: (e.line, e.column))


def pick_task(domain, text: str) -> str | None:
    """The domain's first task whose shipped model was trained on every node kind
    of the input (arith: `exact` for + and -, `mod10` once there is a `*`); if none
    was, the one that lacks fewest, which will say what it lacks."""
    from hybrid_trm import checkpoints, pretrained
    from hybrid_trm.grammar import kind, postorder

    kinds = {kind(n) for n in postorder(domain.parse(text))}
    lacking: dict[str, int] = {}
    for name in domain.tasks:
        path = pretrained.path(domain.name, name)
        if checkpoints.exists(path):
            trained = checkpoints.load(path)[1].get("trained_node_kinds")
            lacking[name] = 0 if trained is None else len(kinds - set(trained))
            if lacking[name] == 0:
                return name
    return min(lacking, key=lacking.get) if lacking else None  # None: the domain's first task


@user_errors
def solve(
    text: Annotated[str, typer.Argument(help="The input, e.g. \"3 - -2 * (4 + 1)\" or \"[MAX 2 9 [MIN 4 7 ] 0 ]\".")],
    domain: Annotated[Optional[str], typer.Option(help="Domain (default: the one whose grammar accepts the input).")] = None,
    task: Annotated[Optional[str], typer.Option(help="Task (default: the domain's first whose model knows every node of the input).")] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(help="Checkpoint to use (default: the shipped one).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    trace: Annotated[bool, typer.Option(help="Show the tree with every node's predicted answer.")] = False,
    verify: Annotated[bool, typer.Option(help="Check the answer with the domain's symbolic verifier.")] = True,
    worlds: Worlds = None,
    inner_steps: InnerSteps = None,
    max_cycles: MaxCycles = None,
    halt_threshold: HaltThreshold = None,
) -> None:
    """Answer one input with the tiny recursive model and check it symbolically."""
    from hybrid_trm import pretrained
    from hybrid_trm.evaluate import Recursion, load
    from hybrid_trm.solver import solve_text, warm_up

    if checkpoint is not None:
        loaded = load(checkpoint, domain, task, Recursion(inner_steps, max_cycles, halt_threshold))  # domain and task default to the checkpoint's
    else:
        domain = domain or detect_domain(text)
        dom = registry.get(domain)
        if task is None:
            task = pick_task(dom, text)
        task_name = dom.task(task).name
        loaded = load(pretrained.require(domain, task_name), domain, task_name, Recursion(inner_steps, max_cycles, halt_threshold))
    domain, task_name = loaded.domain.name, loaded.task.name
    warm_up(loaded)  # the reported time is the answer's, not the libraries' start-up
    result = solve_text(loaded, text, verify=verify, trace=trace, worlds=worlds)
    if json_output:
        typer.echo(json.dumps(result.to_json()))
        return
    verdict = {True: "verified ✓", False: "WRONG ✗", None: "not checked"}[result.verified]
    typer.echo(f"{result.answer}")
    typer.echo(
        f"  {domain}/{task_name}  confidence {result.confidence:.3f}  {verdict}  "
        f"{result.nodes} nodes  {result.ms:.1f} ms"
    )
    if result.witness:
        typer.echo(f"  model: {result.witness}")
    if result.verified is not None or result.evidence:
        typer.echo(f"  verifier: {result.evidence}")
    if trace:
        for line in result.trace_lines():
            typer.echo(line)
