"""Load a model for the numpy runtime: an exported folder (`hybrid-trm export`),
a checkpoint, or a shipped model by name, checked as the torch loader checks
it (loading.py) and refused, in one line, where the runtime cannot run it.

An exported folder holds one checkpoint pair, `model.safetensors` (the inference
weights alone, float32) and `model.json` (the checkpoint's config with a
`runtime` section saying what exported it and how closely it matched torch).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import lark
import numpy as np

from .. import checkpoints, pretrained
from ..domains import registry
from ..errors import CheckpointError, HybridTRMError, TorchMissing
from ..grammar import postorder
from ..loading import Loaded, Recursion, Strategy, model_config, resolved
from .predict import predict_trees
from .reasoner import TreeReasoner
from .weights import Weights

EXPORTED = "model"  # an exported folder's checkpoint: DIR/model.safetensors + DIR/model.json
FORMAT = 1  # of the config's runtime section
RUNTIMES = ("numpy", "torch")


@dataclass
class Exported(Loaded):
    """A model loaded for the numpy runtime: Loaded, answering through numpy."""

    model: TreeReasoner

    def predict(self, trees, node_answers: bool = False, timings: dict[str, float] | None = None):
        return predict_trees(self.model, self.own_task, trees, node_answers=node_answers, timings=timings)

    def check_kinds(self, tree) -> None:
        """Loaded.check_kinds, its kinds gathered in one pass (a solve's)."""
        trained = self.config.get("trained_node_kinds")
        if trained is None or self.config["domain"] != self.domain.name:
            return
        token = lark.Token
        if not {n.type if isinstance(n, token) else n.data for n in postorder(tree)}.issubset(trained):
            super().check_kinds(tree)  # its error

    def strategies(self) -> list[Strategy]:
        """loading.strategies without torch: per node kind the model was trained on,
        its controller's strategy (empty: none)."""
        model = self.model
        if not model.config.controller:
            return []
        kinds = list(self.domain.node_kinds)
        trained = self.config.get("trained_node_kinds") or kinds
        ids = np.array([kinds.index(k) for k in trained])
        theta = np.float32(min(max(model.config.halt_threshold, 1e-6), 1 - 1e-6))
        # sigmoid(h + offset) > theta  <=>  sigmoid(h) > sigmoid(logit(theta) - offset)
        thresholds = 1 / (1 + np.exp(model.w.strategy_halt[ids] - np.log(theta / (1 - theta))))
        if model.config.halt_threshold >= 1.0:
            thresholds = np.ones_like(thresholds)
        return [Strategy(k, int(n), round(float(t), 3)) for k, n, t in zip(trained, model.strategy(ids).tolist(), thresholds.tolist())]


def is_exported(path: str | Path) -> bool:
    """Whether `path` is a folder that `hybrid-trm export` wrote."""
    return Path(path).is_dir() and (Path(path) / f"{EXPORTED}.json").is_file()


def checkpoint_path(name: str | Path) -> Path:
    """The checkpoint a name stands for: an exported folder's, a checkpoint's own
    path (with or without its suffix), or a shipped model as "domain/task" or a
    domain alone (its first task)."""
    path = Path(name)
    if path.is_dir():
        if not is_exported(path):
            raise CheckpointError(f"{path} is a folder without {EXPORTED}.json: not one `hybrid-trm export` wrote")
        return path / EXPORTED
    domain, _, task = str(name).partition("/")
    if not checkpoints.exists(path) and domain in registry.names() and "/" not in task:
        return pretrained.require(domain, registry.get(domain).task(task or None).name)
    return path


def load(
    name: str | Path, domain: str | None = None, task: str | None = None, recursion: Recursion | None = None,
) -> Exported:
    """A model ready for the numpy runtime (checkpoint_path says what `name` may be);
    refuses, with one line naming the file, what it cannot run as torch would
    (a baseline, the meta-level's cell, an export of a newer format) and what
    does not make a model (a config or weights that do not fit)."""
    path = checkpoint_path(name)
    tensors, config = checkpoints.load(path, framework="numpy")  # structure and finite weights checked there
    base = checkpoints.stem(path)
    refuse_unsupported(config, base)
    config, dom, tsk = resolved(config, path, domain, task, recursion)
    cfg = model_config(config["model"], base)
    weights = Weights.of(checkpoints.section(tensors, "model"), cfg, base)
    return Exported(TreeReasoner(cfg, weights), dom, tsk, config)


def refuse_unsupported(config: dict, name) -> None:
    """A CheckpointError where the runtime cannot run this checkpoint (checkpoints.load
    has checked its structure)."""
    checkpoints.one_model(config, name)
    if "baseline" in config["model"]:
        raise CheckpointError(
            f"checkpoint {name} is the {config['model']['baseline']} baseline: the runtime runs the recursive "
            "model only (use --runtime torch)"
        )
    section = config.get("runtime", {})
    if not isinstance(section, dict) or not isinstance(section.get("format", FORMAT), int) or section.get("format", FORMAT) > FORMAT:
        raise CheckpointError(
            f"checkpoint {name} was exported in a runtime format this version does not read "
            f"({section.get('format') if isinstance(section, dict) else section!r}; it reads {FORMAT}): upgrade hybrid-trm"
        )


def default_runtime(checkpoint: str | Path | None = None) -> str:
    """The runtime a model runs on when none is asked for: numpy for an exported
    folder, or where torch does not import; torch otherwise."""
    if checkpoint is not None and is_exported(checkpoint):
        return "numpy"
    return "torch" if torch_imports() else "numpy"


def checked_runtime(runtime: str | None, checkpoint: str | Path | None = None) -> str:
    """`runtime` if it is one there is (torch: if it imports), default_runtime's
    choice where it is None."""
    if runtime is None:
        return default_runtime(checkpoint)
    if runtime not in RUNTIMES:
        raise HybridTRMError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
    if runtime == "torch":
        require_torch("the torch runtime")
    return runtime


def require_torch(what: str) -> None:
    """TorchMissing (a HybridTRMError naming the extra to install) where torch does not import."""
    if not torch_imports():
        raise TorchMissing(what)


def torch_imports() -> bool:
    try:
        importlib.import_module("torch")  # the torch runtime's first import: seconds, then cached
    except ImportError:
        return False
    return True
