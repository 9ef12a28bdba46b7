"""The `hybrid-trm` command: one Typer app, one module per verb group."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import benchmarking, data, domains, evaluation, fuzzing, grammars, solving, training

app = typer.Typer(
    name="hybrid-trm",
    help="A tiny recursive model that reasons over parse trees, checked by symbolic verifiers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# An input may start with a minus sign ("-7 + 2"): read it as the TEXT, not an option.
app.command("solve", context_settings={"ignore_unknown_options": True})(solving.solve)
app.command("generate")(data.generate)
app.command("train")(training.train)
app.command("eval")(evaluation.eval_command)
benchmarking.app.command("fuzz")(fuzzing.fuzz_command)
app.add_typer(benchmarking.app, name="bench")
app.add_typer(grammars.app, name="grammar")
app.add_typer(domains.app, name="domain")


@app.callback()
def options(
    domain_path: Annotated[Optional[list[Path]], typer.Option(
        help="A folder of domain modules (*.py) to use beside the installed domains; repeatable.",
    )] = None,
) -> None:
    """A tiny recursive model that reasons over parse trees, checked by symbolic verifiers."""
    if domain_path:
        from hybrid_trm.domains import registry

        # The variable, not a setting in this process: data-loading workers read it too.
        given = [str(p.resolve()) for p in domain_path]
        before = [f for f in os.environ.get(registry.PATH_VARIABLE, "").split(os.pathsep) if f and f not in given]
        os.environ[registry.PATH_VARIABLE] = os.pathsep.join(given + before)


def main() -> None:
    app()
