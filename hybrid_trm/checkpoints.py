"""Checkpoints: safetensors tensors + a JSON config beside them. Never pickle.

A checkpoint named `runs/listops` is the pair `runs/listops.safetensors` and
`runs/listops.json`. Tensors under `model.` are the weights inference uses (the
EMA); `train.` holds what resuming needs (raw weights, optimizer moments). Both
files are written to temporary names and renamed, so an interrupt never leaves a
half-written checkpoint; the JSON and the tensors carry the same `step`, and a
pair whose steps differ is refused as mismatched.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .errors import CheckpointError

FORMAT = 1


def stem(path: str | Path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".safetensors", ".json") else path


def files(path: str | Path) -> tuple[Path, Path]:
    """The (tensors, config) pair of a checkpoint; `runs/lr0.003` keeps its dot."""
    base = stem(path)
    return base.with_name(base.name + ".safetensors"), base.with_name(base.name + ".json")


def exists(path: str | Path) -> bool:
    return all(f.is_file() for f in files(path))


def save(path: str | Path, tensors: dict[str, torch.Tensor], config: dict) -> Path:
    base = stem(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    config = {"format": FORMAT, **config}
    step = str(config.get("step", 0))
    tensor_file, json_file = files(base)
    tmp_tensors = tensor_file.with_name(tensor_file.name + ".tmp")
    tmp_json = json_file.with_name(json_file.name + ".tmp")
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(tmp_tensors), metadata={"step": step})
    tmp_json.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_tensors, tensor_file)
    os.replace(tmp_json, json_file)
    return base


def load(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    base = stem(path)
    tensor_file, json_file = files(base)
    for f in (tensor_file, json_file):
        if not f.is_file():
            raise CheckpointError(f"checkpoint {base}: missing {f.name}")
    try:
        config = json.loads(json_file.read_text(encoding="utf-8"))
        tensors = load_file(str(tensor_file))
        with safe_open(str(tensor_file), framework="pt") as handle:
            step = (handle.metadata() or {}).get("step")
    except (OSError, ValueError, SafetensorError) as err:
        raise CheckpointError(f"checkpoint {base}: unreadable ({err})") from None
    if config.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {base}: format {config.get('format')!r}, expected {FORMAT}")
    if step != str(config.get("step", 0)):
        raise CheckpointError(
            f"checkpoint {base}: {json_file.name} is at step {config.get('step')} but {tensor_file.name} at {step}; "
            "the pair does not belong together"
        )
    return tensors, config


def section(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors under `prefix.`, with the prefix removed."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def prefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}
