"""Export a checkpoint for the torch-free runtime (hybrid_trm/runtime): a folder
holding the inference weights alone (`model.safetensors`, float32, no optimizer
state) and the checkpoint's config (`model.json`) with a `runtime` section.

The runtime runs the level loop in numpy, so the export needs no ONNX: the
weights and the config are the whole model. Before anything is written, the
exported model is run beside the torch model on the same inputs, and an export
whose answers differ, or whose logits are further apart than bench/runtime.py's
TOLERANCE, is refused; so is a model the runtime does not run (a baseline, the
meta-level's cell). Exporting needs torch; running the export does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import checkpoints
from .bench.runtime import TOLERANCE, Agreement, agreement, inputs_for
from .errors import HybridTRMError
from .loading import load, model_config
from .runtime import loading as runtime_loading
from .runtime.reasoner import TreeReasoner
from .runtime.weights import Weights

CHECK_INPUTS = 32  # generated inputs an export is checked on


@dataclass
class ExportReport:
    folder: Path
    model: str  # domain/task
    parameters: int
    bytes: int  # of model.safetensors
    check: Agreement


def export(name: str | Path, out: str | Path, check_inputs: int = CHECK_INPUTS, seed: int = 0) -> ExportReport:
    """Write `name`'s model (a checkpoint, or a shipped model as domain/task) to the
    folder `out` for the runtime, checked first on `check_inputs` inputs (bench/runtime.py's
    inputs_for: the model's benchmark sets where shipped, generated ones otherwise)."""
    runtime_loading.require_torch("exporting a model")
    path = runtime_loading.checkpoint_path(name)
    base = checkpoints.stem(path)
    runtime_loading.refuse_unsupported(checkpoints.load(path, framework="numpy")[1], base)
    torch_loaded = load(path)
    state = {k: v.detach().float().contiguous() for k, v in torch_loaded.model.state_dict().items()}
    cfg = model_config(torch_loaded.config["model"], base)
    weights = Weights.of({k: v.numpy() for k, v in state.items()}, cfg, base)
    ours = runtime_loading.Exported(TreeReasoner(cfg, weights), torch_loaded.domain, torch_loaded.task, torch_loaded.config)
    check = agreement(torch_loaded, ours, inputs_for(ours, check_inputs, seed))
    if not check.agrees:
        raise HybridTRMError(
            f"checkpoint {base}: the runtime's answers differ from torch's ({check.answers_agree} of {check.inputs} inputs "
            f"agree, largest logit difference {check.max_logit_difference:.1e}); nothing was written"
        )
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise HybridTRMError(f"--out {folder} is a file; give a folder to write the exported model to")
    config = {**torch_loaded.config, "runtime": {
        "format": runtime_loading.FORMAT, "engine": "numpy", "exported_from": base.name,
        "check": {"inputs": check.inputs, "answers_agree": check.answers_agree,
                  "max_logit_difference": check.max_logit_difference, "tolerance": TOLERANCE},
    }}
    written = checkpoints.save(folder / runtime_loading.EXPORTED, checkpoints.prefixed("model", state), config)
    runtime_loading.load(folder)  # it reads back as the runtime will read it
    tensors_file = checkpoints.files(written)[0]
    parameters = sum(v.numel() for v in state.values())
    return ExportReport(folder, f"{ours.domain.name}/{ours.task.name}", parameters, tensors_file.stat().st_size, check)

