"""The `hybrid-trm` command: one Typer app, one module per verb group."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import with_threads
from . import benchmarking, data, domains, evaluation, exporting, fuzzing, grammars, solving, speed_benchmarks, training

app = typer.Typer(
    name="hybrid-trm",
    help="A tiny recursive model that reasons over parse trees, checked by symbolic verifiers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# An input may start with a minus sign ("-7 + 2"): read it as the TEXT, not an option.
app.command("solve", context_settings={"ignore_unknown_options": True})(with_threads(solving.solve))
app.command("generate")(data.generate)
app.command("train")(with_threads(training.train))
app.command("eval")(with_threads(evaluation.eval_command))
app.command("export")(exporting.export)
benchmarking.app.command("speed")(speed_benchmarks.speed_command)
benchmarking.app.command("runtime")(speed_benchmarks.runtime_command)
benchmarking.app.command("threads")(speed_benchmarks.threads_command)
benchmarking.app.command("device")(with_threads(speed_benchmarks.device_command))
benchmarking.app.command("fuzz")(fuzzing.fuzz_command)
app.add_typer(benchmarking.app, name="bench")
app.add_typer(grammars.app, name="grammar")
app.add_typer(domains.app, name="domain")


def _reflow(typer_app: typer.Typer) -> None:
    """Each command's help from its docstring, its lines joined within a paragraph:
    the terminal wraps the text, so the docstring's own line breaks would otherwise
    break sentences in the middle (`--help` and the command list)."""
    for info in typer_app.registered_commands:
        if info.help is None and info.callback is not None and info.callback.__doc__:
            paragraphs = inspect.cleandoc(info.callback.__doc__).split("\n\n")
            info.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    for group in typer_app.registered_groups:
        _reflow(group.typer_instance)


_reflow(app)


def _print_version(asked: bool) -> None:
    if asked:
        from hybrid_trm import __version__

        typer.echo(f"hybrid-trm {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    domain_path: Annotated[Optional[list[Path]], typer.Option(
        help="A folder of domain modules (*.py) to use beside the installed domains; repeatable.",
    )] = None,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True, callback=_print_version,
    )] = False,
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


if __name__ == "__main__":  # python -m hybrid_trm.cli.main
    main()
