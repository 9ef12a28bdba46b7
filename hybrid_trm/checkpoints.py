"""Checkpoints: safetensors tensors + a JSON config beside them. Never pickle.

A checkpoint named `runs/listops` is the pair `runs/listops.safetensors` and
`runs/listops.json`. Tensors under `model.` are the weights inference uses (the
EMA); `train.` holds what resuming needs (raw weights, optimizer moments). Both
files are written to temporary names and renamed, so an interrupt never leaves a
half-written checkpoint; the JSON and the tensors carry the same `step`, and a
pair whose steps differ is refused as mismatched.

`load(path, framework="numpy")` reads the same pair as numpy arrays, for the
torch-free runtime (hybrid_trm/runtime); nothing here imports torch until a
checkpoint is saved or loaded as torch tensors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from safetensors import SafetensorError, safe_open

from .errors import CheckpointError

if TYPE_CHECKING:
    import torch

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
    from safetensors.torch import save_file

    base = stem(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    config = {"format": FORMAT, **config}
    step = str(config.get("step", 0))
    tensor_file, json_file = files(base)
    tmp_tensors = tensor_file.with_name(tensor_file.name + ".tmp")
    tmp_json = json_file.with_name(json_file.name + ".tmp")
    # CPU tensors, whatever device trained them: a checkpoint loads anywhere (loading.load moves it).
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp_tensors), metadata={"step": step})
    tmp_json.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_tensors, tensor_file)
    os.replace(tmp_json, json_file)
    return base


def load(path: str | Path, framework: str = "pt") -> tuple[dict[str, torch.Tensor], dict]:
    """The pair's tensors and config, each checked before use: a checkpoint is user
    input (a file passed to `--checkpoint`), and one that is torn, truncated, edited
    or not a checkpoint at all is refused with one line that names the file and what
    is wrong (CheckpointError), never a traceback, a hang or a huge allocation.
    `framework`: "pt" (torch tensors) or "numpy" (arrays, without torch)."""
    base = stem(path)
    tensor_file, json_file = files(base)
    for f in (tensor_file, json_file):
        if not f.is_file():
            raise CheckpointError(f"checkpoint {base}: missing {f.name}")
    config = _read_config(json_file, base)
    tensors, step = _read_tensors(tensor_file, base, framework)
    if step != str(config.get("step", 0)):
        raise CheckpointError(
            f"checkpoint {base}: {json_file.name} is at step {config.get('step')} but {tensor_file.name} at {step}; "
            "the pair does not belong together"
        )
    return tensors, config


# Far above any config this project writes (a few kilobytes; a long run's eval
# history adds tens of bytes per evaluation): a larger file is not a config.
MAX_CONFIG_BYTES = 16 * 2**20


def _read_config(json_file: Path, base: Path) -> dict:
    """The JSON config, refused unless it has the structure `check_config` asks for."""
    try:
        if json_file.stat().st_size > MAX_CONFIG_BYTES:
            raise CheckpointError(
                f"checkpoint {base}: {json_file.name} is {json_file.stat().st_size:,} bytes; "
                f"a checkpoint's config is at most {MAX_CONFIG_BYTES:,}"
            )
        # RecursionError: JSON nested thousands of levels deep ("[[[[...").
        config = json.loads(json_file.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CheckpointError(f"checkpoint {base}: {json_file.name} is unreadable ({_first_line(err)})") from None
    problem = check_config(config)
    if problem:
        raise CheckpointError(f"checkpoint {base}: {json_file.name} is not a checkpoint's config: {problem}")
    return config


def check_config(config) -> str | None:
    """What is wrong with a checkpoint's config, or None: a JSON object of this
    FORMAT, at a whole-number step, describing one model (domain, task, vocab,
    model: what loading it reads) or the meta-level's shared cell (meta, and a
    model section per task). The model section's fields are checked by the config
    class that builds it (ModelConfig, BaselineConfig: loading.load)."""
    if not isinstance(config, dict):
        return f"it holds a JSON {_json_type(config)}, not an object"
    if config.get("format") != FORMAT or isinstance(config.get("format"), bool):
        return f"format {config.get('format')!r}, expected {FORMAT}"
    step = config.get("step", 0)
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        return f"step must be a whole number, not {step!r}"
    for name, kind in (("metrics", dict), ("training", dict), ("parameters", int)):
        if name in config and not isinstance(config[name], kind):
            return f"{name} must be a JSON {_json_type(kind())}, not a {_json_type(config[name])}"
    if "meta" not in config:
        return _model_problem(config)
    if not isinstance(config["meta"], dict) or not isinstance(config.get("tasks"), dict):
        return "meta and tasks must be JSON objects"
    for name, section in config["tasks"].items():
        problem = _model_problem(section) if isinstance(section, dict) else "not a JSON object"
        if problem:
            return f"task {name}: {problem}"
    return None


def _model_problem(config: dict) -> str | None:
    """What is wrong with one model's part of a config, or None."""
    for name, kind in (("domain", str), ("task", str), ("vocab", dict), ("model", dict)):
        if name not in config:
            return f"it has no {name!r}"
        if not isinstance(config[name], kind):
            return f"{name} must be a JSON {_json_type(kind())}, not a {_json_type(config[name])}"
    lists = [("vocab.node_kinds", config["vocab"].get("node_kinds")), ("vocab.answers", config["vocab"].get("answers"))]
    if "trained_node_kinds" in config:
        lists.append(("trained_node_kinds", config["trained_node_kinds"]))
    for name, value in lists:
        if not isinstance(value, list):
            return f"{name} must be a list of strings, not a {_json_type(value)}"
        if not all(isinstance(v, str) for v in value):
            return f"{name} must be a list of strings; it holds a {_json_type(next(v for v in value if not isinstance(v, str)))}"
    return None


def _json_type(value) -> str:
    """A Python value's JSON name, for a line that says what a config holds instead."""
    names = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _read_tensors(tensor_file: Path, base: Path, framework: str) -> tuple[dict[str, torch.Tensor], str | None]:
    """The tensors and the step their metadata records. safetensors checks the header
    against the file (sizes, offsets, dtypes) before it reads a byte of data, so a
    truncated file or one whose header lies is refused, not read past its end; a
    weight that is NaN or infinite is refused here too: every answer from it would be."""
    if framework == "pt":
        from safetensors.torch import load_file
    else:
        from safetensors.numpy import load_file
    try:
        with safe_open(str(tensor_file), framework=framework) as handle:
            step = (handle.metadata() or {}).get("step")
        tensors = load_file(str(tensor_file))
    except (OSError, ValueError, TypeError, SafetensorError) as err:  # TypeError: a dtype numpy lacks (bfloat16)
        raise CheckpointError(f"checkpoint {base}: {tensor_file.name} is unreadable ({_first_line(err)})") from None
    for name, tensor in tensors.items():
        if not _finite(tensor):
            raise CheckpointError(
                f"checkpoint {base}: {tensor_file.name} holds NaN or infinite values in {name}; "
                "the run that wrote it diverged (train again, or resume from an earlier checkpoint)"
            )
    return tensors, step


def _finite(tensor) -> bool:
    """Whether a tensor (torch's or numpy's) holds no NaN or infinite value."""
    if isinstance(tensor, np.ndarray):
        return not np.issubdtype(tensor.dtype, np.floating) or bool(np.isfinite(tensor).all())
    import torch

    return not tensor.is_floating_point() or bool(torch.isfinite(tensor).all())


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def one_model(config: dict, path: str | Path) -> dict:
    """`config` itself, if it is one model's (not the meta-level's shared cell)."""
    if "meta" in config:
        raise CheckpointError(
            f"checkpoint {stem(path)} is the meta-level's shared cell over {', '.join(config['tasks'])}; "
            "start a model from it with `train --init`"
        )
    return config


def section(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors under `prefix.`, with the prefix removed."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def prefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}
