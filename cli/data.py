"""`hybrid-trm generate`: seeded examples of a domain as JSONL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from hybrid_trm.domains import registry

from .common import parse_knobs, user_errors


@user_errors
def generate(
    domain: Annotated[str, typer.Argument(help="Domain name, e.g. arith or listops.")],
    task: Annotated[Optional[str], typer.Option(help="Task of the domain (default: its first).")] = None,
    n: Annotated[int, typer.Option("-n", "--count", min=1, help="Number of examples.")] = 100,
    seed: Annotated[int, typer.Option(help="Stream seed; example i is a function of (seed, i).")] = 0,
    knob: Annotated[Optional[list[str]], typer.Option(help="Difficulty knob name=value, repeatable (e.g. depth=8).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write JSONL here instead of stdout.")] = None,
) -> None:
    """Write n generated examples, one JSON object a line: input, answer, task, depth, ..."""
    dom = registry.get(domain)
    task_name = dom.task(task).name
    difficulty = dom.difficulty(**parse_knobs(knob))
    lines = (json.dumps(dom.example(seed, i, difficulty, task_name).to_json()) for i in range(n))
    if out is None:
        for line in lines:
            typer.echo(line)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(out)
    typer.echo(f"wrote {n} examples to {out}", err=True)
