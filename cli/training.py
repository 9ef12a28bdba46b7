"""`hybrid-trm train`: train a reasoner on a domain's generated data, with a
progress bar, periodic eval, atomic checkpoints, and resume after an interrupt."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from hybrid_trm.domains import registry
from hybrid_trm.errors import HybridTRMError

from .common import parse_knobs, user_errors


@user_errors
def train(
    domain: Annotated[Optional[str], typer.Argument(help="Domain to train on (or use --preset).")] = None,
    task: Annotated[Optional[str], typer.Option(help="Task of the domain (default: its first).")] = None,
    preset: Annotated[Optional[str], typer.Option(help="A shipped checkpoint's recipe, e.g. listops-value.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Checkpoint path (default: runs/DOMAIN-TASK).")] = None,
    steps: Annotated[Optional[int], typer.Option(min=1, help="Optimizer steps.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(min=1, help="Trees per step.")] = None,
    knob: Annotated[Optional[list[str]], typer.Option(help="Training difficulty knob name=value, repeatable.")] = None,
    eval_knob: Annotated[Optional[list[str]], typer.Option(help="Held-out eval difficulty knob name=value.")] = None,
    lr: Annotated[Optional[float], typer.Option(min=0.0, help="Peak learning rate.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed of the model and the data stream.")] = None,
    hidden: Annotated[Optional[int], typer.Option(min=4, help="Width of the cell.")] = None,
    inner_steps: Annotated[Optional[int], typer.Option(min=1, help="Latent updates per answer update (n).")] = None,
    outer_cycles: Annotated[Optional[int], typer.Option(min=1, help="Answer updates per node (T).")] = None,
    expansion: Annotated[Optional[int], typer.Option(min=1, help="MLP width of the cell, as a multiple of --hidden.")] = None,
    scan: Annotated[Optional[str], typer.Option(help="What the scan carries between children: latent or answer (a fold).")] = None,
    summary: Annotated[Optional[str], typer.Option(help="Children's answers in x: sum (counts) or share (shares and presence).")] = None,
    eval_every: Annotated[Optional[int], typer.Option(min=1, help="Steps between evaluations.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue from --out if it exists.")] = True,
) -> None:
    """Train the recursive cell with deep supervision on every subtree."""
    from hybrid_trm.training.loop import TrainConfig, build_model, train as run_training
    from hybrid_trm.training.presets import PRESETS

    if preset is not None:
        if preset not in PRESETS:
            raise HybridTRMError(f"unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
        config = PRESETS[preset]
        if domain is not None and domain != config.domain:
            raise HybridTRMError(f"preset {preset} trains domain {config.domain}, not {domain}")
    elif domain is None:
        raise HybridTRMError("name a DOMAIN or a --preset")
    else:
        dom = registry.get(domain)
        config = TrainConfig(domain=domain, task=dom.task(task).name)
    changes = {
        name: value
        for name, value in dict(
            steps=steps, batch_size=batch_size, lr=lr, seed=seed, hidden=hidden,
            inner_steps=inner_steps, outer_cycles=outer_cycles, expansion=expansion, scan=scan, summary=summary,
            eval_every=eval_every,
        ).items()
        if value is not None
    }
    if knob:
        changes["difficulty"] = {**config.difficulty, **parse_knobs(knob)}
    if eval_knob:
        changes["eval_difficulty"] = {**config.eval_difficulty, **parse_knobs(eval_knob)}
    config = dataclasses.replace(config, **changes)
    dom = registry.get(config.domain)
    build_model(config)  # an unknown --scan or --summary fails here, before any work
    dom.difficulty(**config.difficulty)  # unknown knobs fail here, before any work
    dom.difficulty(**config.eval_difficulty)
    out = out or Path("runs") / f"{config.domain}-{config.task}"

    with Progress(
        TextColumn(f"[bold]{config.domain}/{config.task}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        transient=False,
    ) as progress:
        bar = progress.add_task("train", total=config.steps, status="")

        def on_step(step: int, metrics: dict) -> None:
            status = f"loss {metrics['loss']:.4f}"
            if "eval_accuracy" in metrics:
                status += f"  eval {metrics['eval_accuracy']:.2%}"
            progress.update(bar, completed=step, status=status)
            if not progress.console.is_terminal and (step % config.eval_every == 0 or step == config.steps):
                # A log file gets a line per evaluation instead of a live bar.
                progress.console.print(f"step {step}/{config.steps}  {status}  {metrics['train_seconds']:.0f}s")

        metrics = run_training(config, out, resume=resume, on_step=on_step)
    summary = f"checkpoint {out}: loss {metrics.get('loss')}"
    if "eval_accuracy" in metrics:
        summary += f", held-out accuracy {metrics['eval_accuracy']:.2%}"
    typer.echo(summary + f", {metrics['train_seconds']:.0f}s of training")
