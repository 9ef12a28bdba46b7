"""The `hybrid-trm` command: one Typer app, one module per verb group."""

from __future__ import annotations

import typer

from . import benchmarking, data, evaluation, solving, training

app = typer.Typer(
    name="hybrid-trm",
    help="A tiny recursive model that reasons over parse trees, checked by symbolic verifiers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("solve")(solving.solve)
app.command("generate")(data.generate)
app.command("train")(training.train)
app.command("eval")(evaluation.eval_command)
app.add_typer(benchmarking.app, name="bench")


def main() -> None:
    app()
