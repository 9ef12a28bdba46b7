"""`hybrid-trm export`: a checkpoint written for the torch-free runtime."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import user_errors


@user_errors
def export(
    checkpoint: Annotated[str, typer.Argument(help=(
        "Checkpoint to export (its path, with or without .safetensors / .json), or a shipped model as domain/task."
    ))],
    out: Annotated[Path, typer.Option("--out", help="Folder to write model.safetensors and model.json to.")],
    check: Annotated[int, typer.Option(min=0, help="Inputs the export is checked on beside the torch model (0: none).")] = 32,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Write a model for the torch-free runtime (numpy alone): its inference weights and
    config in one folder, checked first against the torch model. Answer with it by
    `hybrid-trm solve TEXT --checkpoint FOLDER` or `hybrid_trm.runtime.load(FOLDER)`,
    where torch is not installed too."""
    from hybrid_trm.bench.runtime import TOLERANCE
    from hybrid_trm.export import export as export_model

    report = export_model(checkpoint, out, check_inputs=check)
    c = report.check
    if json_output:
        typer.echo(json.dumps({
            "folder": str(report.folder), "model": report.model, "parameters": report.parameters, "bytes": report.bytes,
            "checked_inputs": c.inputs, "answers_agree": c.answers_agree,
            "max_logit_difference": c.max_logit_difference, "tolerance": TOLERANCE,
        }))
        return
    typer.echo(f"exported {report.model} ({report.parameters:,} parameters, {report.bytes / 1024:,.0f} KiB) to {report.folder}")
    if c.inputs:
        typer.echo(
            f"  checked on {c.inputs} inputs beside torch: {c.answers_agree} answers agree, "
            f"largest logit difference {c.max_logit_difference:.1e} (accepted: {TOLERANCE:g} x the largest logit, {c.max_logit:.1f})"
        )
