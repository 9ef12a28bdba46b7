"""`hybrid-trm domain new`: write a working domain to start from; `hybrid-trm
domain check`: run the domain contract (domains/contract.py) on a domain,
installed or from `--domain-path`, and say what fails, on which input."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template
from typing import Annotated, Optional

import typer

from hybrid_trm.domains import registry

from hybrid_trm.errors import HybridTRMError

from .common import parse_knobs, user_errors

app = typer.Typer(help="Your own domains: `new` writes one to start from, `check` tests what every domain promises.", no_args_is_help=True)


# template file -> the name it is written as, for a domain called `name`
TEMPLATES = {
    "domain.lark": "{name}.lark", "domain.py.txt": "{name}.py", "test_domain.py.txt": "test_{name}.py",
    "README.md.txt": "README.md",
}


@app.command("new")
@user_errors
def new_command(
    name: Annotated[str, typer.Argument(help="The domain's name: lowercase letters, digits and _, e.g. circuits.")],
    out: Annotated[Optional[Path], typer.Option(help="The folder to write (default: ./NAME); it must not exist.")] = None,
) -> None:
    """Write a working domain to start from (boolean circuits): its grammar, its
    module, a README of the commands that check, train and evaluate it, and its
    tests. It trains as it is; then make it yours."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise HybridTRMError(f"a domain name is lowercase letters, digits and _, starting with a letter; not {name!r}")
    if name in registry.names():
        raise HybridTRMError(f"there is a domain {name!r} already; choose another name")
    folder = out or Path(name)
    if folder.exists():
        raise HybridTRMError(f"{folder} exists; choose another --out (nothing was written)")
    values = {"name": name, "Class": "".join(part.capitalize() for part in name.split("_"))}
    source = resources.files("hybrid_trm.templates")
    folder.mkdir(parents=True)
    for template, target in TEMPLATES.items():
        text = Template(source.joinpath(template).read_text(encoding="utf-8")).substitute(values)
        (folder / target.format(name=name)).write_text(text, encoding="utf-8")
    typer.echo(f"wrote {folder}/: {', '.join(t.format(name=name) for t in TEMPLATES.values())}")
    typer.echo(f"next: cd {folder} && hybrid-trm --domain-path . domain check {name}  (README.md has the rest)")


@app.command("check")
@user_errors
def check_command(
    name: Annotated[str, typer.Argument(help="The domain (a folder's needs `hybrid-trm --domain-path DIR domain check NAME`).")],
    task: Annotated[Optional[list[str]], typer.Option(help="Only this task (repeatable; default: every task).")] = None,
    n: Annotated[int, typer.Option("-n", min=1, help="Examples per task.")] = 200,
    knob: Annotated[Optional[list[str]], typer.Option(help="Difficulty knob name=value for the examples, repeatable.")] = None,
) -> None:
    """Generate examples of each task and check what every domain promises: the text
    parses, one label per node (None where unlabelled) and a labelled root's is the
    answer, labels fit the task, node kinds are declared, the verifier accepts the
    answer and rejects a wrong one, and generation is a pure function of (seed,
    index). Exits 1 if any fails."""
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
