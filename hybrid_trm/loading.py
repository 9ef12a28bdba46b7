"""Load a trained reasoner: a checkpoint's config and weights checked and built
into a model (or a baseline), with how deep it recurses where not as it trained.
What it then does with inputs is inference.py's; scoring them, evaluate.py's.
Loaded and Recursion import no torch: the runtime (hybrid_trm/runtime) loads
its models as a Loaded too, with a numpy network in place of the torch one."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from . import checkpoints
from .domains import registry
from .domains.base import Domain, Task
from .errors import CheckpointError, HybridTRMError
from .grammar import kind, postorder
from .model.config import ModelConfig

if TYPE_CHECKING:
    import torch

    from .inference import Prediction
    from .model.reasoner import TreeReasoner
    from .trees import TreeTensors


@dataclass
class Loaded:
    model: TreeReasoner
    domain: Domain
    task: Task  # the task answered: the model's own, or one a run of it answers (Domain.run_by)
    config: dict  # the checkpoint's JSON
    # The model's answers to the questions runs of inputs asked it (execution.py),
    # kept while it is loaded: the model is deterministic, so a later input's run
    # asks it only questions no run asked before (programs: digit facts).
    answered: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def own_task(self) -> Task:
        """The task the model was trained on, whose answers it predicts (another
        domain's, where a run of this domain's inputs asks that domain's questions)."""
        return registry.get(self.config["domain"]).task(self.config["task"])

    def predict(
        self, trees: list[TreeTensors], node_answers: bool = False, timings: dict[str, float] | None = None,
    ) -> list[Prediction]:
        """The model's predictions for tensorized trees, as answers of its own task
        (inference.predict_trees; the runtime's model answers through its own)."""
        from .inference import predict_trees

        return predict_trees(self.model, self.own_task, trees, node_answers=node_answers, timings=timings)

    def untrained(self, kinds) -> list[str]:
        """Those of `kinds` the model never saw in training (none where the
        checkpoint does not record what it saw, or where it answers another
        domain's questions: the run asks it only those), sorted."""
        trained = self.config.get("trained_node_kinds")
        if trained is None or self.config["domain"] != self.domain.name:
            return []
        return sorted(set(kinds) - set(trained))

    def check_kinds(self, tree) -> None:
        """Refuse a tree with node kinds the model never saw in training: its answer
        there would be a guess, however confident."""
        unseen = self.untrained(kind(n) for n in postorder(tree))
        if unseen:
            raise HybridTRMError(
                f"the {self.domain.name}/{self.task.name} model was not trained on {', '.join(unseen)} nodes "
                f"(it knows {', '.join(self.config['trained_node_kinds'])}); use another --task or --checkpoint"
            )




@dataclass(frozen=True)
class Recursion:
    """How deep a loaded model recurses, where not as it trained: the weights are the
    same at every step, so a model may run longer on inputs deeper or wider than
    training's, or (halt_threshold 1) run every node for all its cycles."""

    inner_steps: int | None = None  # latent updates per answer update (n)
    max_cycles: int | None = None  # answer updates a node may run (T); a halting model stops before
    halt_threshold: float | None = None  # a node stops once its halting probability exceeds this

    def applied(self, model: dict) -> dict:
        """The checkpoint's model config with these changes. Each is bounded as a
        model's own sizes are (ModelConfig.LIMITS): every node runs up to inner steps
        x cycles cell steps, and each cycle's answers are kept for the loss."""
        for what, value, most in (
            ("inner steps", self.inner_steps, ModelConfig.LIMITS["inner_steps"]),
            ("max cycles", self.max_cycles, ModelConfig.LIMITS["outer_cycles"]),
        ):
            if value is not None and not 1 <= value <= most:
                raise HybridTRMError(f"{what} must be from 1 to {most:,}, not {value:,}")
        if self.halt_threshold is not None:
            if not 0.0 <= self.halt_threshold <= 1.0:
                raise HybridTRMError(f"the halting threshold is a probability in [0, 1], not {self.halt_threshold}")
            if not model.get("halting"):
                raise HybridTRMError("this model has no halting head (it was trained without halting); drop the halting threshold")
        if self.inner_steps is not None and model.get("controller"):
            raise HybridTRMError(
                f"this model's controller picks each node's inner steps (1..{model['inner_steps']}, by node kind); drop the inner steps"
            )
        changes = {"inner_steps": self.inner_steps, "outer_cycles": self.max_cycles, "halt_threshold": self.halt_threshold}
        return {**model, **{k: v for k, v in changes.items() if v is not None}}


def load(
    path: str | Path, domain: str | None = None, task: str | None = None, recursion: Recursion | None = None,
    device: str | None = None,
) -> Loaded:
    """A checkpoint ready for inference; refuses one made for another domain or task,
    and one whose config or weights do not make a model (CheckpointError, one line
    naming the file). `recursion` changes how deep it recurses (see Recursion);
    `device` is where it runs (devices.py: cpu, the default, cuda, cuda:N, mps, auto)."""
    from . import devices

    where = devices.resolve(device)  # a device this machine lacks is refused before the file is read
    tensors, config = checkpoints.load(path)  # its structure and weights checked there
    name = checkpoints.stem(path)
    config, dom, tsk = resolved(config, path, domain, task, recursion)
    model = _model(config["model"], recursion, name)
    try:
        model.load_state_dict(checkpoints.section(tensors, "model"))
    except RuntimeError as err:  # names missing, extra or wrongly shaped weights
        raise CheckpointError(f"checkpoint {name}: weights do not fit its config ({_one_line(err)})") from None
    model.to(where).eval()
    return Loaded(model, dom, tsk, config)


def resolved(
    config: dict, path: str | Path, domain: str | None, task: str | None, recursion: Recursion | None,
) -> tuple[dict, Domain, Task]:
    """A checkpoint's config (with `recursion` applied) and the domain and task it
    answers as installed here: its own, or `domain`/`task` where their runs ask its
    model's questions (execution.runs); refuses one made for another domain or
    task, the meta-level's cell, and one whose vocabulary its domain does not have."""
    name = checkpoints.stem(path)
    checkpoints.one_model(config, path)
    if recursion is not None and "baseline" not in config["model"]:
        config = {**config, "model": recursion.applied(config["model"])}
    try:
        own = registry.get(config["domain"])
        own_task = own.task(config["task"])
        asked = own if domain is None else registry.get(domain)
    except HybridTRMError as err:  # a domain not installed here, or a task it does not have
        raise CheckpointError(f"checkpoint {name} is for {config['domain']}/{config['task']}: {err}") from None
    if domain not in (None, config["domain"]) or task not in (None, config["task"]):
        from .execution import runs

        if task is None or not runs(config, asked, task):
            raise CheckpointError(
                f"checkpoint {name} is for {config['domain']}/{config['task']}, "
                f"not {domain or config['domain']}/{task or config['task']}"
            )
    if config["vocab"]["node_kinds"] != list(own.node_kinds) or config["vocab"]["answers"] != list(own_task.answers):
        raise CheckpointError(f"checkpoint {name}: its vocabulary does not match domain {own.name} as installed")
    return config, asked, asked.task(task or config["task"])


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def _model(shape: dict, recursion: Recursion | None, name) -> TreeReasoner:
    """The network a checkpoint's model config describes: the recursive model, or
    a baseline (model/baselines.py), which has no recursion to change. Its fields
    are checked (names, types, sizes) before anything is allocated."""
    if "baseline" not in shape:
        from .model.reasoner import TreeReasoner

        return TreeReasoner(model_config(shape, name))
    from .model import baselines

    _check_fields(baselines.BaselineConfig, shape, name)
    if recursion is not None and recursion != Recursion():
        raise CheckpointError(f"checkpoint {name} is the {shape['baseline']} baseline: it has no recursion to change")
    return _baseline(baselines, shape, name)


def model_config(shape: dict, name) -> ModelConfig:
    """A recursive model's config from a checkpoint's `model` section, its fields
    checked (names, types, sizes: CheckpointError naming the checkpoint)."""
    _check_fields(ModelConfig, shape, name)
    try:
        return ModelConfig(**shape)
    except HybridTRMError as err:  # ModelConfig's checks: types and sizes
        raise CheckpointError(f"checkpoint {name}: its model config is refused: {err}") from None


def _check_fields(kind_of: type, shape: dict, name) -> None:
    """Refuse a model config with fields its config class does not have, or without one it needs."""
    known = {f.name for f in fields(kind_of)}
    needed = {f.name for f in fields(kind_of) if f.default is MISSING and f.default_factory is MISSING}
    unknown, missing = sorted(set(shape) - known), sorted(needed - set(shape))
    if unknown or missing:
        what = [f"unknown field(s) {', '.join(unknown)}"] if unknown else []
        what += [f"no {', '.join(missing)}"] if missing else []
        raise CheckpointError(f"checkpoint {name}: its model config is not one this version builds ({'; '.join(what)})")


# A baseline's sizes, as ModelConfig.LIMITS bounds the recursive model's: checked
# here, before its own config divides by `heads` or builds `layers` layers.
BASELINE_LIMITS = {"kinds": 10_000, "classes": 10_000, "hidden": 4096, "layers": 64, "heads": 64, "positions": 1024}


def _baseline(baselines, shape: dict, name) -> torch.nn.Module:
    """The baseline a checkpoint's config describes, its types and sizes checked, and
    its parameters counted on the meta device (no memory) before it is built."""
    import torch

    for field_name, most in BASELINE_LIMITS.items():
        value = shape.get(field_name, 1)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
            raise CheckpointError(f"checkpoint {name}: model {field_name} must be a whole number from 1 to {most:,}, not {value!r}")
    if not isinstance(shape["baseline"], str) or not isinstance(shape.get("worlds", False), bool):
        raise CheckpointError(f"checkpoint {name}: model baseline must be a string and worlds true or false")
    try:
        config = baselines.BaselineConfig(**shape)
        with torch.device("meta"):
            parameters = sum(p.numel() for p in baselines.build(config).parameters())
    except HybridTRMError as err:
        raise CheckpointError(f"checkpoint {name}: its model config is refused: {err}") from None
    if parameters > ModelConfig.MAX_PARAMETERS:
        raise CheckpointError(
            f"checkpoint {name}: its {config.baseline} baseline would have {parameters:,} parameters; "
            f"at most {ModelConfig.MAX_PARAMETERS:,} are accepted"
        )
    return baselines.build(config)


@dataclass
class Strategy:
    """The recursion strategy a controller learnt for one node kind."""

    kind: str
    inner_steps: int  # latent updates per answer update
    halt_threshold: float  # the head's probability at which a node of this kind stops


def strategies(loaded: Loaded) -> list[Strategy]:
    """Per node kind the model was trained on, its controller's strategy (empty: none)."""
    import torch

    model = loaded.model
    if not model.config.controller:
        return []
    kinds = list(loaded.domain.node_kinds)
    trained = loaded.config.get("trained_node_kinds") or kinds
    ids = torch.tensor([kinds.index(k) for k in trained], device=model.strategy_halt.device)
    with torch.no_grad():
        steps, _ = model.strategy(ids, sample=False)
        theta = torch.tensor(model.config.halt_threshold, device=ids.device).clamp(1e-6, 1 - 1e-6)
        # sigmoid(h + offset) > theta  <=>  sigmoid(h) > sigmoid(logit(theta) - offset)
        thresholds = torch.sigmoid(torch.logit(theta) - model.strategy_halt[ids])
    if model.config.halt_threshold >= 1.0:
        thresholds = torch.ones_like(thresholds)
    return [Strategy(k, int(n), round(float(t), 3)) for k, n, t in zip(trained, steps.tolist(), thresholds.tolist())]


def trained_width(config: dict) -> int | None:
    """The answer grid width a checkpoint was trained on (None: the task's)."""
    return config.get("training", {}).get("width")
