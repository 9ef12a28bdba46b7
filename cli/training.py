"""`hybrid-trm train`: train a reasoner on a domain's generated data, with a
progress bar, periodic eval, atomic checkpoints, and resume after an interrupt."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from hybrid_trm.domains import registry
from hybrid_trm.errors import HybridTRMError

from .output import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from .common import DEFAULT_DEVICE, Device, parse_knobs, user_errors


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
    outer_cycles: Annotated[Optional[int], typer.Option(min=1, help="Answer updates per node (T; with --halting, the most a node may run).")] = None,
    expansion: Annotated[Optional[int], typer.Option(min=1, help="MLP width of the cell, as a multiple of --hidden.")] = None,
    scan: Annotated[Optional[str], typer.Option(help="What the scan carries between children: latent or answer (a fold).")] = None,
    summary: Annotated[Optional[str], typer.Option(help="Children's answers in x: sum (counts), share (shares and presence) or ordinal (per answer, whether more children lie at or below it than above, and presence: what a median reads, at any length).")] = None,
    halting: Annotated[Optional[bool], typer.Option(
        "--halting/--no-halting", help="A halting head per node: each node stops on its own, within --outer-cycles.",
    )] = None,
    halt_explore: Annotated[Optional[float], typer.Option(
        min=0.0, max=1.0, help="--halting: share of nodes made to run a random 2..T cycles before they may stop (default 0.1).",
    )] = None,
    init: Annotated[Optional[Path], typer.Option(help="Start from this checkpoint's weights (those whose name and shape fit).")] = None,
    eval_every: Annotated[Optional[int], typer.Option(min=1, help="Steps between evaluations.")] = None,
    curriculum: Annotated[Optional[bool], typer.Option(
        "--curriculum/--no-curriculum",
        help="Start at the easiest difficulty and move each knob up when held-out accuracy there passes 95%.",
    )] = None,
    curriculum_mix: Annotated[Optional[float], typer.Option(
        min=0.0, max=1.0, help="--curriculum: share of each batch drawn from the whole training range (default 0).",
    )] = None,
    supervision: Annotated[Optional[str], typer.Option(help=(
        "What is labelled: subtrees (every node, the default) or root (the whole input's answer only)."
    ))] = None,
    resume: Annotated[bool, typer.Option(help="Continue from --out if it exists.")] = True,
    depth_rl: Annotated[bool, typer.Option(
        "--depth-rl", help="Fine-tune the halting head of the --init checkpoint with the depth reward (policy gradient).",
    )] = False,
    meta: Annotated[Optional[list[str]], typer.Option(
        help="Train one shared cell on several presets at once (repeat: --meta arith-mod10 --meta logic-verdict).",
    )] = None,
    step_penalty: Annotated[Optional[float], typer.Option(
        min=0.0, help="--depth-rl: reward lost per answer update beyond the first right one, and per n inner steps with --controller (default 0.02).",
    )] = None,
    controller: Annotated[bool, typer.Option(
        "--controller", help="--depth-rl: also learn the recursion strategy, inner steps and halting threshold per node kind.",
    )] = False,
    device: Device = DEFAULT_DEVICE,
) -> None:
    """Train the recursive cell with deep supervision on every subtree."""
    from hybrid_trm.training.curriculum import Curriculum
    from hybrid_trm.training.distributed import check_batch, from_environment, rank_device
    from hybrid_trm.training.loop import TrainConfig, build_model, train as run_training
    from hybrid_trm.training.presets import PRESETS

    if meta:
        if depth_rl or preset or domain or init or knob or eval_knob or curriculum or supervision:
            raise HybridTRMError("--meta trains on its presets' data, from scratch: drop the other data and model options")
        _meta(meta, out, steps, batch_size, lr, seed, hidden, expansion, inner_steps, outer_cycles, halting, scan, summary, device)
        return
    if depth_rl:
        shaped = dict(
            preset=preset, knob=knob, eval_knob=eval_knob, hidden=hidden, inner_steps=inner_steps,
            outer_cycles=outer_cycles, expansion=expansion, scan=scan, summary=summary, halting=halting,
            halt_explore=halt_explore, eval_every=eval_every, curriculum=curriculum, curriculum_mix=curriculum_mix,
            supervision=supervision,
        )
        given = [f"--{k.replace('_', '-')}" for k, v in shaped.items() if v]
        if given:
            raise HybridTRMError(f"--depth-rl fine-tunes a trained model as it is; drop {', '.join(given)}")
        if init is None:
            raise HybridTRMError("--depth-rl fine-tunes a halting checkpoint: pass it as --init")
        _depth_rl(init, out, domain, task, steps, batch_size, lr, seed, step_penalty, controller, device)
        return
    if step_penalty is not None or controller:
        raise HybridTRMError("--step-penalty and --controller are the depth reward's; they go with --depth-rl")
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
            eval_every=eval_every, halting=halting, halt_explore=halt_explore, init=None if init is None else str(init),
            curriculum=curriculum, curriculum_mix=curriculum_mix, supervision=supervision,
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

    levels = len(Curriculum.up_to(dom, config.difficulty).levels) if config.curriculum else 0

    def status(metrics: dict) -> str:
        text = f"loss {metrics['loss']:.4f}"
        if "eval_accuracy" in metrics:
            text += f"  eval {metrics['eval_accuracy']:.2%}"
        if levels:
            text += f"  level {metrics['curriculum_schedule'][-1][1] + 1}/{levels}"
        return text

    ranks = from_environment()
    try:  # here, before the progress bar: one line, no bar
        check_batch(config.batch_size, ranks)
        rank_device(device, ranks)
    except HybridTRMError:
        if ranks.lead:
            raise
        raise typer.Exit(2) from None  # rank 0 says why, once
    if resume and _trained_past(out, config.steps, quiet=not ranks.lead):
        return
    if not ranks.lead:  # one of torchrun's ranks: rank 0 reports for all of them
        run_training(config, out, resume=resume, device=device)
        return
    with _progress(f"{config.domain}/{config.task}", config.steps, config.eval_every, status) as on_step:
        metrics = run_training(config, out, resume=resume, on_step=on_step, device=device)
    for step, level, knobs in metrics.get("curriculum_schedule", []):
        typer.echo(f"curriculum: step {step}, level {level + 1}/{levels}: {knobs}")
    summary = f"checkpoint {out}: loss {metrics.get('loss')}"
    if "eval_accuracy" in metrics:
        summary += f", held-out accuracy {metrics['eval_accuracy']:.2%}"
    typer.echo(summary + f", {metrics['train_seconds']:.0f}s of training")


def _trained_past(out: Path, steps: int, quiet: bool = False) -> bool:
    """Whether the checkpoint at `out` is already at `steps` or past it: then nothing
    is trained, and the command says so (unless `quiet`) rather than show a bar at 0."""
    from hybrid_trm import checkpoints

    if not checkpoints.exists(out):
        return False
    step = checkpoints.load(out)[1].get("step", 0)
    if step >= steps and not quiet:
        typer.echo(
            f"checkpoint {out} is already at step {step:,} of --steps {steps:,}: nothing to train. "
            "Pass a larger --steps to continue it, or --no-resume (or another --out) to train anew."
        )
    return step >= steps


@contextlib.contextmanager
def _progress(title: str, total: int, log_every: int, status: Callable[[dict], str]):
    """A progress bar; yields on_step(step, metrics). A log file (no terminal) gets a
    line every `log_every` steps instead of a live bar."""
    with Progress(
        TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        transient=False,
    ) as progress:
        bar = progress.add_task("train", total=total, status="")

        def on_step(step: int, metrics: dict) -> None:
            progress.update(bar, completed=step, status=status(metrics))
            if not progress.console.is_terminal and (step % log_every == 0 or step == total):
                progress.console.print(f"step {step}/{total}  {status(metrics)}  {metrics['train_seconds']:.0f}s")

        yield on_step


def _depth_rl(init, out, domain, task, steps, batch_size, lr, seed, step_penalty, controller, device) -> None:
    from hybrid_trm import checkpoints, devices
    from hybrid_trm.training.depth_rl import DepthRLConfig, fine_tune

    devices.resolve(device)  # before the progress bar
    saved = checkpoints.one_model(checkpoints.load(init)[1], init)
    if domain not in (None, saved["domain"]) or task not in (None, saved["task"]):
        raise HybridTRMError(f"checkpoint {init} is for {saved['domain']}/{saved['task']}, not {domain}/{task or saved['task']}")
    changes = dict(steps=steps, batch_size=batch_size, lr=lr, seed=seed, step_penalty=step_penalty)
    config = DepthRLConfig(**{k: v for k, v in changes.items() if v is not None}, controller=controller)
    out = out or Path("runs") / f"{saved['domain']}-{saved['task']}-rl"

    def status(metrics: dict) -> str:
        return (
            f"reward {metrics['reward']:+.3f}  nodes right {metrics['node_accuracy']:.2%}  cycles {metrics['cycles']:.2f}  "
            f"inner steps {metrics['inner_steps']:.2f}"
        )

    with _progress(f"depth reward {saved['domain']}/{saved['task']}", config.steps, 25, status) as on_step:
        metrics = fine_tune(init, out, config, on_step, device)
    typer.echo(f"checkpoint {out}: {status(metrics)}, {metrics['verifier_timeouts']} verifier timeouts in the last batch, "
               f"{metrics['train_seconds']:.0f}s")


def _meta(
    presets, out, steps, batch_size, lr, seed, hidden, expansion, inner_steps, outer_cycles, halting, scan, summary, device,
) -> None:
    from hybrid_trm import devices
    from hybrid_trm.training.meta import MetaConfig, train_meta

    devices.resolve(device)  # before the progress bar
    changes = dict(
        steps=steps, batch_size=batch_size, lr=lr, seed=seed, hidden=hidden, expansion=expansion,
        inner_steps=inner_steps, outer_cycles=outer_cycles, halting=halting, scan=scan, summary=summary,
    )
    config = MetaConfig(presets=list(presets), **{k: v for k, v in changes.items() if v is not None})
    out = out or Path("runs") / "meta"

    def status(metrics: dict) -> str:
        return "loss " + "  ".join(f"{name} {loss:.4f}" for name, loss in metrics["loss"].items())

    with _progress("meta-level " + " + ".join(config.presets), config.steps, 250, status) as on_step:
        metrics = train_meta(config, out, on_step, device)
    accuracy = ", ".join(f"{name} {a:.2%}" for name, a in metrics["eval_accuracy"].items())
    typer.echo(f"checkpoint {out}: held-out accuracy {accuracy}, {metrics['train_seconds']:.0f}s of training")
