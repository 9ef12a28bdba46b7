"""Shipped checkpoints, one per domain/task: `<domain>-<task>.safetensors` + `.json`.
Each is reproduced by `hybrid-trm train --preset <domain>-<task>` (see training/presets.py)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def path(domain: str, task: str) -> Path:
    return Path(str(resources.files(__name__).joinpath(f"{domain}-{task}")))


def require(domain: str, task: str) -> Path:
    """The shipped checkpoint of domain/task (that of the task whose model runs it,
    for a task a run answers: Domain.run_by), or a CheckpointError saying there is none."""
    from .. import checkpoints
    from ..domains import registry
    from ..errors import CheckpointError

    found = path(*registry.get(domain).model_of(task))
    if not checkpoints.exists(found):
        raise CheckpointError(f"no shipped checkpoint for {domain}/{task}; train one and pass --checkpoint")
    return found


def shipped() -> list[Path]:
    """Every shipped checkpoint."""
    folder = Path(str(resources.files(__name__)))
    return [p.with_suffix("") for p in sorted(folder.glob("*.json"))]
