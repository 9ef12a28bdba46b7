"""`hybrid-trm eval`: accuracy of a checkpoint on a JSONL file or a named
benchmark, as a table by depth and by arity, or as JSON."""

from __future__ import annotations

import codecs
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Optional

import typer

from hybrid_trm import budget
from hybrid_trm.domains import registry
from hybrid_trm.domains.base import Example
from hybrid_trm.errors import HybridTRMError
from hybrid_trm.grammar import printable

from .output import Console, Progress, Table
from .common import (
    DEFAULT_DEVICE, Device, HaltThreshold, InnerSteps, MaxCycles, Runtime, Worlds, correlation_text, strategy_table,
    user_errors,
)

SHOWN_ERRORS = 5  # bad lines the table shows; --json lists every one


@dataclass
class JsonlExamples:
    """What a JSONL file holds: its examples, the line each is on, and the lines
    that hold none, with why."""

    examples: list[Example] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)


def read_jsonl(path: Path, task: str | None, strict: bool = False, limit: int | None = None) -> JsonlExamples:
    """The examples of a JSONL file, one object a line. A line that is not one (not
    UTF-8, not JSON, no `input` string or `answer`) is kept as a bad line, with its
    number and why, and the rest are read on (`strict`: it raises at once, naming
    it). `limit`: only the first that many lines that are not blank, bad or not.
    The file is split into lines as bytes, so that each line is decoded on its own."""
    if not path.is_file():
        raise HybridTRMError(f"no such file: {path}")
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # UTF-32's marks start the same way
        raise HybridTRMError(f"{path} is UTF-16 or UTF-32 text (it starts with that byte-order mark); JSONL is UTF-8: save it as UTF-8")
    out = JsonlExamples()
    for number, raw in enumerate(data.removeprefix(codecs.BOM_UTF8).split(b"\n"), 1):
        if not raw.strip():
            continue
        if limit is not None and len(out.lines) + len(out.bad) >= limit:
            break
        try:
            out.examples.append(_example(raw, task))
            out.lines.append(number)
        except HybridTRMError as err:
            if strict:
                raise HybridTRMError(f"{path}:{number}: {err}") from None
            out.bad.append((number, str(err)))
    if not out.examples and not out.bad:
        raise HybridTRMError(f"{path}: no examples")
    return out


def _example(raw: bytes, task: str | None) -> Example:
    """One JSONL line's example; a HybridTRMError says why the line is not one."""
    if b"\0" in raw:  # never in JSON text; every other byte of UTF-16's ASCII
        raise HybridTRMError("holds NUL bytes: UTF-16 text? JSONL is UTF-8: save the file as UTF-8")
    try:
        item = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise HybridTRMError(f"not UTF-8 text (byte {err.start + 1} is {raw[err.start:err.start + 1]!r}); JSONL is UTF-8") from None
    except (ValueError, RecursionError) as err:  # bad JSON, an integer of 5,000 digits; "[[[[..." thousands deep
        raise HybridTRMError(f"not JSON ({err})") from None
    if not isinstance(item, dict):
        kind = {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}.get(type(item), "null")
        raise HybridTRMError(f"a JSON {kind}, not an object with input and answer")
    for key in ("input", "answer"):
        if key not in item:
            raise HybridTRMError(f"no {key!r} key (an example is {{\"input\": ..., \"answer\": ...}})")
    answer = item["answer"]
    if not isinstance(item["input"], str):
        raise HybridTRMError(f"'input' must be a string, not {json.dumps(item['input'])[:40]}")
    if not isinstance(answer, (str, int)) or isinstance(answer, bool):
        raise HybridTRMError(f"'answer' must be a string or an integer, not {json.dumps(answer)[:40]}")
    named = item.get("task", task)
    if named is not None and not isinstance(named, str):
        raise HybridTRMError(f"'task' must be a string, not {json.dumps(named)[:40]}")
    return Example(item["input"], str(answer), named)


@user_errors
def eval_command(
    domain: Annotated[Optional[str], typer.Argument(help="Domain of the file's examples.")] = None,
    file: Annotated[Optional[Path], typer.Argument(help="JSONL: {\"input\": ..., \"answer\": ...} a line.")] = None,
    task: Annotated[Optional[str], typer.Option(help="Task (default: the domain's first).")] = None,
    benchmark: Annotated[Optional[str], typer.Option(help=(
        "A shipped benchmark instead of a file: listops, evans:<split> (validate, test_easy, "
        "test_hard, test_big, test_massive, test_exam), bowman:<7..12>."
    ))] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(help="Checkpoint or exported folder (default: the shipped one).")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N examples (of a file: N lines, bad ones included).")] = None,
    worlds: Worlds = None,
    inner_steps: InnerSteps = None,
    max_cycles: MaxCycles = None,
    halt_threshold: HaltThreshold = None,
    jobs: Annotated[Optional[int], typer.Option(min=1, help=(
        "Worker processes that score at once, each on one thread (default: one per core; "
        "1: all in this process). Forked, on Linux; elsewhere, and with a --device other than cpu, one process."
    ))] = None,
    timeout: Annotated[float, typer.Option(min=0.001, help=(
        "Seconds each input may take to be parsed, sized and tensorized, and again in the model: a batch of n inputs "
        "runs within n times this, and a batch past it is run again one input at a time, each within this, so that only "
        "the inputs that take too long are lost. An input past its budget is a bad line: reported, counted as wrong."
    ))] = budget.DEFAULT_SECONDS,
    strict: Annotated[bool, typer.Option("--strict", help=(
        "Stop at the first bad line (exit 2, naming it) instead of reporting it, counting it as wrong and going on."
    ))] = False,
    plot: Annotated[Optional[Path], typer.Option(help="Also draw steps per node (by latent updates, and by the domain's difficulty) to this PNG (needs matplotlib).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    device: Device = DEFAULT_DEVICE,
    runtime: Runtime = None,
) -> None:
    """Score a checkpoint: accuracy overall, by depth and by arity; steps per node.
    A line that cannot be scored (not an example, unparsable, too large, past its
    --timeout) is reported with its number and why, and counted as wrong."""
    from hybrid_trm import pretrained
    from hybrid_trm.evaluate import evaluate_examples, plot_steps, unseen_kinds
    from hybrid_trm.execution import executes
    from hybrid_trm.loading import Recursion, strategies, trained_width
    from hybrid_trm.runtime.loading import Exported, checked_runtime
    from hybrid_trm.solver import cached_load

    if plot is not None:
        from hybrid_trm.plotting import pyplot

        pyplot()  # checked before the run, not after

    runtime = checked_runtime(runtime, checkpoint)
    domain, task, examples, where, located = _examples(domain, file, task, benchmark, checkpoint, limit, strict)
    loaded = cached_load(
        str(checkpoint or pretrained.require(domain, task)), domain, task, Recursion(inner_steps, max_cycles, halt_threshold),
        runtime, device,
    )
    strategy = loaded.strategies() if isinstance(loaded, Exported) else strategies(loaded)
    console = Console(stderr=True)
    # Drawn at each chunk, not by rich's refresh thread: eval's workers are forked,
    # and a fork copies no thread but every lock one holds.
    with Progress(console=console, transient=True, disable=json_output, auto_refresh=False) as progress:
        bar = progress.add_task(f"eval {domain}/{task}", total=len(examples))
        progress.refresh()
        report = located(evaluate_examples(
            loaded.model, loaded.domain, loaded.task, examples,
            progress=lambda done: progress.update(bar, completed=done, refresh=True), width=trained_width(loaded.config),
            worlds=worlds, jobs=jobs or os.cpu_count() or 1, timeout=timeout, strict=strict, where=where,
            execute=executes(loaded),
        ))
    name = benchmark or str(file)
    if report.errors and len(report.errors) == report.n:  # not one input scored: nothing to report but the failures
        place, why = report.errors[0]
        raise HybridTRMError(
            f"{name}: no input could be scored ({report.n:,} bad; the first, {_at(report, name, place)}: {why})"
        )
    unseen = unseen_kinds(loaded, report)
    if unseen:
        console.print(f"[yellow]warning:[/] {unseen}")
    if plot is not None:
        plot_steps(report, f"{name} ({domain}/{task})", plot)
    if json_output:
        if report.errors:
            console.print(
                f"[yellow]warning:[/] {len(report.errors):,} of {report.n:,} inputs could not be scored and count as wrong; "
                "`errors` lists them", soft_wrap=True, highlight=False,
            )
        out = report.to_json()
        out.update({"domain": domain, "task": task, "benchmark": benchmark})
        out["strategy"] = [vars(s) for s in strategy]
        typer.echo(json.dumps(out))
        return
    Console(soft_wrap=True).print(  # one line however narrow the terminal, for whoever greps it
        f"[bold]{name}[/]  {domain}/{task}  accuracy {report.accuracy:.2%}  (n={report.n})  "
        f"latent updates per node {report.steps_mean:.2f}  answer updates per node {report.cycles_mean:.2f}"
    )
    _print_errors(report, name)
    _print_tables(report, strategy)


def _examples(domain, file, task, benchmark, checkpoint, limit, strict):
    """(domain, task, examples, where, located) of a file or a benchmark: `where(i)`
    names example i in messages ("data.jsonl:12", "listops[3]"); `located` turns
    evaluate_examples' report into the file's (errors at line numbers, the lines
    that held no example counted and listed)."""
    from hybrid_trm import benchmarks, checkpoints
    from hybrid_trm.runtime.loading import checkpoint_path

    if benchmark is not None:
        if file is not None:
            raise HybridTRMError("give either a FILE or --benchmark, not both")
        domain, task, examples = benchmarks.load(benchmark)
        task = registry.get(domain).task(task).name
        return domain, task, examples[:limit] if limit else examples, lambda i: f"{benchmark}[{i}]", lambda report: report
    if domain is None or file is None:
        raise HybridTRMError("give DOMAIN FILE.jsonl, or --benchmark NAME")
    dom = registry.get(domain)
    read = read_jsonl(file, None, strict=strict, limit=limit)
    named = {e.task for e in read.examples if e.task is not None}
    if task is None and len(named) == 1:
        task = named.pop()  # the file says which task its answers belong to
    elif task is None and checkpoint is not None:
        saved = checkpoints.load(checkpoint_path(checkpoint), framework="numpy")[1]  # an exported folder's too
        if saved.get("domain") == domain:  # (a meta-level checkpoint has none)
            task = saved["task"]  # the checkpoint says which task it answers
    task = dom.task(task).name
    examples = [Example(e.input, e.answer, e.task or task) for e in read.examples]
    wrong = {e.task for e in examples} - {task}
    if wrong:
        raise HybridTRMError(f"{file} holds examples of task(s) {', '.join(sorted(wrong))}, not {task}; pass --task")
    if not examples:
        line, why = read.bad[0]
        raise HybridTRMError(f"{file}: no line holds an example ({len(read.bad):,} bad; the first, {file}:{line}: {why})")
    lines = read.lines
    return domain, task, examples, lambda i: f"{file}:{lines[i]}", lambda report: report.located(lines, read.bad)


def _at(report, name: str, place: int) -> str:
    """Where an error of the report is: "data.jsonl:12", "listops[3]"."""
    return f"{name}:{place}" if report.errors_at == "line" else f"{name}[{place}]"


def _print_errors(report, name: str) -> None:
    """The first few inputs that could not be scored, a line each, and how many there were."""
    if not report.errors:
        return
    typer.echo(f"{len(report.errors):,} of {report.n:,} inputs could not be scored (counted as wrong):")
    for place, why in report.errors[:SHOWN_ERRORS]:
        # The first line of why: a parse error's caret context is in --json.
        typer.echo(f"  {_at(report, name, place)}: {printable(why.split(chr(10))[0])}")
    if len(report.errors) > SHOWN_ERRORS:
        typer.echo(f"  ... and {len(report.errors) - SHOWN_ERRORS:,} more (--json lists every one)")


def _print_tables(report, strategy) -> None:
    """Accuracy by depth and by arity, latent updates per node, the controller's
    strategy, and work by difficulty, as tables."""
    for title, rows in (("depth", report.by_depth), ("arity", report.by_arity)):
        table = Table(title=f"by {title}")
        table.add_column(title, justify="right")
        table.add_column("accuracy", justify="right")
        table.add_column("n", justify="right")
        for key, (acc, n) in sorted(rows.items()):
            table.add_row(str(key), f"{acc:.2%}", str(n))
        Console().print(table)
    table = Table(title="latent updates per node")
    table.add_column("updates", justify="right")
    table.add_column("nodes", justify="right")
    table.add_column("share", justify="right")
    total = sum(report.steps_histogram.values())
    for steps, count in sorted(report.steps_histogram.items()):
        table.add_row(str(steps), str(count), f"{count / total:.1%}")
    Console().print(table)
    if strategy:
        Console().print(strategy_table(strategy))
    hard = report.difficulty
    if hard is not None:
        table = Table(title=(
            f"work by {hard.measure} ({hard.nodes} nodes): Pearson r {correlation_text(hard.steps_correlation)} for latent updates, "
            f"{correlation_text(hard.cycles_correlation)} for answer updates"
        ))
        for column in (hard.measure, "mean latent updates", "mean answer updates"):
            table.add_column(column, justify="right")
        for level, steps in hard.steps_by_difficulty.items():
            table.add_row(str(level), f"{steps:.2f}", f"{hard.cycles_by_difficulty[level]:.2f}")
        Console().print(table)
