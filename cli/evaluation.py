"""`hybrid-trm eval`: accuracy of a checkpoint on a JSONL file or a named
benchmark, as a table by depth and by arity, or as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hybrid_trm.domains import registry
from hybrid_trm.domains.base import Example
from hybrid_trm.errors import HybridTRMError

from .common import HaltThreshold, InnerSteps, MaxCycles, Worlds, correlation_text, strategy_table, user_errors


def read_jsonl(path: Path, task: str | None) -> list[Example]:
    if not path.is_file():
        raise HybridTRMError(f"no such file: {path}")
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item["input"], str):
                raise TypeError("input must be a string")
            examples.append(Example(item["input"], str(item["answer"]), item.get("task", task)))
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise HybridTRMError(f"{path}:{number}: not an example object with input and answer ({err})") from None
    if not examples:
        raise HybridTRMError(f"{path}: no examples")
    return examples


@user_errors
def eval_command(
    domain: Annotated[Optional[str], typer.Argument(help="Domain of the file's examples.")] = None,
    file: Annotated[Optional[Path], typer.Argument(help="JSONL: {\"input\": ..., \"answer\": ...} a line.")] = None,
    task: Annotated[Optional[str], typer.Option(help="Task (default: the domain's first).")] = None,
    benchmark: Annotated[Optional[str], typer.Option(help=(
        "A shipped benchmark instead of a file: listops, evans:<split> (validate, test_easy, "
        "test_hard, test_big, test_massive, test_exam), bowman:<7..12>."
    ))] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(help="Checkpoint (default: the shipped one).")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N examples.")] = None,
    worlds: Worlds = None,
    inner_steps: InnerSteps = None,
    max_cycles: MaxCycles = None,
    halt_threshold: HaltThreshold = None,
    jobs: Annotated[Optional[int], typer.Option(min=1, help=(
        "Worker processes that score at once, each on one thread (default: one per core torch uses; "
        "1: all in this process). Forked, on Linux; elsewhere one process."
    ))] = None,
    plot: Annotated[Optional[Path], typer.Option(help="Also draw steps per node (by latent updates, and by the domain's difficulty) to this PNG (needs matplotlib).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score a checkpoint: accuracy overall, by depth and by arity; steps per node."""
    import torch

    from hybrid_trm import benchmarks, checkpoints, pretrained
    from hybrid_trm.evaluate import Recursion, evaluate_examples, load, plot_steps, strategies, trained_width, unseen_kinds

    if plot is not None:
        from hybrid_trm.plotting import pyplot

        pyplot()  # checked before the run, not after

    if benchmark is not None:
        if file is not None:
            raise HybridTRMError("give either a FILE or --benchmark, not both")
        domain, task, examples = benchmarks.load(benchmark)
    elif domain is None or file is None:
        raise HybridTRMError("give DOMAIN FILE.jsonl, or --benchmark NAME")
    else:
        dom = registry.get(domain)
        examples = read_jsonl(file, None)
        named = {e.task for e in examples if e.task is not None}
        if task is None and len(named) == 1:
            task = named.pop()  # the file says which task its answers belong to
        elif task is None and checkpoint is not None:
            saved = checkpoints.load(checkpoint)[1]
            if saved["domain"] == domain:
                task = saved["task"]  # the checkpoint says which task it answers
        task = dom.task(task).name
        examples = [Example(e.input, e.answer, e.task or task) for e in examples]
        wrong = {e.task for e in examples} - {task}
        if wrong:
            raise HybridTRMError(f"{file} holds examples of task(s) {', '.join(sorted(wrong))}, not {task}; pass --task")
    task = registry.get(domain).task(task).name
    if limit:
        examples = examples[:limit]
    loaded = load(checkpoint or pretrained.require(domain, task), domain, task, Recursion(inner_steps, max_cycles, halt_threshold))
    console = Console(stderr=True)
    # Drawn at each chunk, not by rich's refresh thread: eval's workers are forked,
    # and a fork copies no thread but every lock one holds.
    with Progress(console=console, transient=True, disable=json_output, auto_refresh=False) as progress:
        bar = progress.add_task(f"eval {domain}/{task}", total=len(examples))
        progress.refresh()
        report = evaluate_examples(
            loaded.model, loaded.domain, loaded.task, examples,
            progress=lambda done: progress.update(bar, completed=done, refresh=True), width=trained_width(loaded.config),
            worlds=worlds, jobs=jobs or torch.get_num_threads(),
        )
    unseen = unseen_kinds(loaded, report)
    if unseen:
        console.print(f"[yellow]warning:[/] {unseen}")
    if plot is not None:
        plot_steps(report, f"{benchmark or file} ({domain}/{task})", plot)
    if json_output:
        out = report.to_json()
        out.update({"domain": domain, "task": task, "benchmark": benchmark})
        out["strategy"] = [vars(s) for s in strategies(loaded)]
        typer.echo(json.dumps(out))
        return
    name = benchmark or str(file)
    Console(soft_wrap=True).print(  # one line however narrow the terminal, for whoever greps it
        f"[bold]{name}[/]  {domain}/{task}  accuracy {report.accuracy:.2%}  (n={report.n})  "
        f"latent updates per node {report.steps_mean:.2f}  answer updates per node {report.cycles_mean:.2f}"
    )
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
    strategy = strategies(loaded)
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

