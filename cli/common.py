"""What every command shares: turning user errors into one clear line and exit 2,
and reading difficulty knobs from `--knob name=value`."""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from hybrid_trm.errors import HybridTRMError, TorchMissing
from hybrid_trm.grammar import printable

from .output import Table


# Options of the commands that run a model (eval, solve).
# Their largest values are the library's (inference.MAX_WORLDS, ModelConfig.LIMITS; a
# test holds them equal), written out so that --help needs no torch: each multiplies
# the model's work or memory (docs/limits.md).
Worlds = Annotated[Optional[int], typer.Option(min=1, max=65_536, help=(
    "Logic: worlds each formula is evaluated in (default 1024, fewer for a large formula, at least 256: see docs/logic.md; all of them when fewer exist; at most 65,536)."
))]
InnerSteps = Annotated[Optional[int], typer.Option(min=1, max=1000, help=(
    "Latent updates per answer update, instead of the number the model trained with (at most 1,000)."
))]
MaxCycles = Annotated[Optional[int], typer.Option(min=1, max=1000, help=(
    "Answer updates a node may run, instead of the most it trained with (a halting model stops each node before; at most 1,000)."
))]
HaltThreshold = Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help=(
    "Halting models: a node stops once its halting probability exceeds this (default 0.5; 1: every node runs every cycle)."
))]

Runtime = Annotated[Optional[str], typer.Option(help=(
    "Run the model on torch or numpy (the torch-free runtime; see `hybrid-trm export`). "
    "Default: numpy for an exported folder or where torch is not installed, torch otherwise."
))]

# Where a command's torch model runs (hybrid_trm/devices.py resolves it; a plain
# string here, so that --help imports no torch).
DEFAULT_DEVICE = "cpu"
Device = Annotated[str, typer.Option(help=(
    "Where the model runs: cpu (the default), cuda, cuda:N, mps, or auto (cuda if a GPU is visible, else mps, else cpu). "
    "A device this machine lacks is refused, exit 2."
))]


MAX_INPUT_CHARS = 250_000  # hybrid_trm.budget.MAX_INPUT_CHARS (a test holds them equal)
DEFAULT_TIMEOUT = 10.0  # hybrid_trm.budget.DEFAULT_SECONDS, without importing the library for --help
Timeout = Annotated[float, typer.Option(min=0.001, help=(
    "Seconds one input may take: parse, model and verifier together (the model's first load is not counted). "
    "Past it, one line says which stage ran out, and the exit code is 2."
))]


# Torch's threads where a command runs a model. One by default: with torch's own
# default (a thread per core), a second process on a 2-core machine made training
# and benchmarks 10x slower or more (idle OpenMP threads spin, waiting for a core the
# other process holds); `hybrid-trm bench threads` measures it. OMP_NUM_THREADS, if
# set, is the default instead.
DEFAULT_THREADS = 1
Threads = Annotated[Optional[int], typer.Option(min=1, max=1024, help=(
    "CPU threads torch may use (default 1, or OMP_NUM_THREADS: several threads run slower, not faster, "
    "when another process holds a core; see `hybrid-trm bench threads`)."
))]


_GIVEN_THREADS = os.environ.get("OMP_NUM_THREADS", "")  # the user's, before any command set it


def use_threads(threads: int | None) -> int:
    """Set torch's threads for this process (before its import, through
    OMP_NUM_THREADS, so a command that never loads torch does not import it)."""
    given = int(_GIVEN_THREADS) if _GIVEN_THREADS.isdigit() and int(_GIVEN_THREADS) > 0 else None
    count = threads or given or DEFAULT_THREADS
    os.environ["OMP_NUM_THREADS"] = str(count)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(count)
    return count


def with_threads(command: Callable) -> Callable:
    """The command with a --threads option, applied before it runs."""

    @functools.wraps(command)
    def run(*args, threads: int | None = None, **kwargs):
        use_threads(threads)
        return command(*args, **kwargs)

    signature = inspect.signature(command, eval_str=True)
    parameter = inspect.Parameter("threads", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Threads)
    run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), parameter])
    run.__annotations__ = {**command.__annotations__, "threads": Threads}
    return run


REJECTED = 3  # the exit code of a `solve` whose answer the verifier rejected (0: verified or not checked)


def user_errors(command: Callable) -> Callable:
    """Run a command; a HybridTRMError becomes its message on stderr and exit code 2
    (with --json also one JSON object on stdout: error, and line and column where
    the input did not parse), and so does torch missing where the command needs it."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            try:
                return command(*args, **kwargs)
            except ModuleNotFoundError as err:
                # The base install has no torch (the `torch` extra adds it): a command
                # that needs it says what to install, wherever it first imports it.
                if err.name not in ("torch", "torch_geometric"):
                    raise
                raise TorchMissing("this command", err.name) from None
        except HybridTRMError as err:
            if kwargs.get("json_output"):  # and the line on stderr as always, for a person watching
                where = {"line": getattr(err, "line", None), "column": getattr(err, "column", None)}
                typer.echo(json.dumps({"error": str(err), **where}))
            # Messages quote the input; its control characters stay escaped (lines stay lines).
            typer.echo("error: " + "\n".join(printable(line) for line in str(err).split("\n")), err=True)
            raise typer.Exit(2) from None

    return run


def input_text(text: str | None, file: Path | None) -> str:
    """The one input a command answers: TEXT, or the file `--file` names, or
    standard input where either is `-`. Read as UTF-8, at most a character past
    the input limit (budget.MAX_INPUT_CHARS: the solver then says how long it is)."""
    if (text is None) == (file is None):
        raise HybridTRMError("give the input as TEXT or as --file PATH (- for standard input), not both or neither")
    if text is not None and text != "-":
        return text
    source = "standard input" if text == "-" or str(file) == "-" else str(file)
    try:
        if source == "standard input":
            read = sys.stdin.read(MAX_INPUT_CHARS + 1)
        else:
            with open(file, encoding="utf-8") as handle:
                read = handle.read(MAX_INPUT_CHARS + 1)
    except OSError as err:
        raise HybridTRMError(f"cannot read {source}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise HybridTRMError(f"{source} is not UTF-8 text (byte {err.start}: {err.reason})") from None
    if len(read) > MAX_INPUT_CHARS:
        raise HybridTRMError(f"{source} holds more than {MAX_INPUT_CHARS:,} characters, the most accepted (docs/limits.md)")
    return read


def parse_knobs(knobs: list[str] | None) -> dict[str, Any]:
    """`["depth=6", "ops=+-"]` -> `{"depth": 6, "ops": "+-"}`; values typed as they read."""
    out: dict[str, Any] = {}
    for item in knobs or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise HybridTRMError(f"--knob takes name=value, got {item!r}")
        out[name.strip()] = _typed(value.strip())
    return out


def _typed(value: str) -> Any:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def correlation_text(correlation: float | None) -> str:
    """Pearson's r as a table shows it (None: one side never varied)."""
    return "undefined (all equal)" if correlation is None else f"{correlation:+.3f}"


def strategy_table(strategy) -> Table:
    """A controller's recursion strategy, one row per node kind."""
    table = Table(title="recursion strategy (the controller's, per node kind)")
    for column in ("node kind", "inner steps", "halting threshold"):
        table.add_column(column, justify="right")
    for s in strategy:
        table.add_row(s.kind, str(s.inner_steps), f"{s.halt_threshold:.3f}")
    return table
