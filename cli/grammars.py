"""`hybrid-trm grammar check`: load a Lark grammar as a domain would, report its
conflicts and unused rules by line, and parse a sample text with it. No torch on
this path."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import user_errors

app = typer.Typer(help="Write and check the Lark grammars domains parse with.", no_args_is_help=True)


@app.command("check")
@user_errors
def check_command(
    file: Annotated[Path, typer.Argument(help="The grammar, a .lark file with a `start` rule.")],
    text: Annotated[Optional[str], typer.Argument(help="Text to parse with it; its tree is printed.")] = None,
) -> None:
    """Load FILE as an LALR parser (as every domain does), list its conflicts and
    unused rules and terminals with their lines, and parse TEXT. Exits 1 when it
    finds anything, or TEXT does not parse."""
    from hybrid_trm.errors import ParseError
    from hybrid_trm.grammar import parse_with, pretty
    from hybrid_trm.grammar_check import check

    result = check(file)
    for finding in result.findings:
        where = f"{file}:{finding.line}" if finding.line else str(file)
        typer.echo(f"{where}: {finding.severity}: {finding.message}", err=True)
    if result.parser is None:
        raise typer.Exit(1)
    summary = f"{file}: an LALR grammar of {result.rules} rules and {result.terminals} terminals"
    typer.echo(summary + (", no conflicts, every rule used" if result.clean else f", {len(result.findings)} findings above"), err=True)
    failed = not result.clean
    if text is not None:
        try:
            typer.echo(pretty(parse_with(result.parser, text, file.name)))
        except ParseError as err:
            typer.echo(f"error: {err}", err=True)
            failed = True
    if failed:
        raise typer.Exit(1)
