"""Run a trained reasoner: load a checkpoint, predict answers for texts, and
score examples with accuracy by depth and by arity."""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import numpy as np
import torch

from . import budget, checkpoints
from .domains import registry
from .domains.base import Domain, Example, Task, WorldTask
from .errors import CheckpointError, HybridTRMError
from .grammar import Node, kind, postorder
from .grammar import measure as tree_size
from .model.reasoner import ModelConfig, TreeReasoner
from .trees import TreeTensors, batch, tensorize, tensorize_worlds

T = TypeVar("T")


@dataclass
class Loaded:
    model: TreeReasoner
    domain: Domain
    task: Task
    config: dict  # the checkpoint's JSON

    def untrained(self, kinds) -> list[str]:
        """Those of `kinds` the model never saw in training (none where the
        checkpoint does not record what it saw), sorted."""
        trained = self.config.get("trained_node_kinds")
        return [] if trained is None else sorted(set(kinds) - set(trained))

    def check_kinds(self, tree) -> None:
        """Refuse a tree with node kinds the model never saw in training: its answer
        there would be a guess, however confident."""
        unseen = self.untrained(kind(n) for n in postorder(tree))
        if unseen:
            raise HybridTRMError(
                f"the {self.domain.name}/{self.task.name} model was not trained on {', '.join(unseen)} nodes "
                f"(it knows {', '.join(self.config['trained_node_kinds'])}); use another --task or --checkpoint"
            )


def unseen_kinds(loaded: Loaded, report: Report) -> str | None:
    """A warning where the scored inputs held node kinds the model never saw in
    training (what `solve` refuses; eval scores them, as guesses); None otherwise."""
    unseen = loaded.untrained(report.node_kinds)
    if not unseen:
        return None
    return (
        f"the {loaded.domain.name}/{loaded.task.name} model was not trained on {', '.join(unseen)} nodes "
        f"({sum(report.node_kinds[k] for k in unseen):,} of the {sum(report.node_kinds.values()):,} nodes scored): "
        "its answers on inputs holding them are guesses"
    )


# The most worlds a logic formula is evaluated in (`--worlds`): every world of 16
# letters. Each node holds a state per world: on 65,536 worlds, one latent state of
# a 100-node formula is 0.8 GB at hidden 32 (the default grid is 1,024 worlds).
MAX_WORLDS = 65_536


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


def load(path: str | Path, domain: str | None = None, task: str | None = None, recursion: Recursion | None = None) -> Loaded:
    """A checkpoint ready for inference; refuses one made for another domain or task,
    and one whose config or weights do not make a model (CheckpointError, one line
    naming the file). `recursion` changes how deep it recurses (see Recursion)."""
    tensors, config = checkpoints.load(path)  # its structure and weights checked there
    name = checkpoints.stem(path)
    checkpoints.one_model(config, path)
    if recursion is not None and "baseline" not in config["model"]:
        config = {**config, "model": recursion.applied(config["model"])}
    if domain not in (None, config["domain"]) or task not in (None, config["task"]):
        raise CheckpointError(
            f"checkpoint {name} is for {config['domain']}/{config['task']}, "
            f"not {domain or config['domain']}/{task or config['task']}"
        )
    try:
        dom = registry.get(config["domain"])
        tsk = dom.task(config["task"])
    except HybridTRMError as err:  # a domain not installed here, or a task it does not have
        raise CheckpointError(f"checkpoint {name} is for {config['domain']}/{config['task']}: {err}") from None
    if config["vocab"]["node_kinds"] != list(dom.node_kinds) or config["vocab"]["answers"] != list(tsk.answers):
        raise CheckpointError(f"checkpoint {name}: its vocabulary does not match domain {dom.name} as installed")
    model = _model(config["model"], recursion, name)
    try:
        model.load_state_dict(checkpoints.section(tensors, "model"))
    except RuntimeError as err:  # names missing, extra or wrongly shaped weights
        raise CheckpointError(f"checkpoint {name}: weights do not fit its config ({_one_line(err)})") from None
    model.eval()
    return Loaded(model, dom, tsk, config)


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def _model(shape: dict, recursion: Recursion | None, name) -> TreeReasoner:
    """The network a checkpoint's model config describes: the recursive model, or
    a baseline (model/baselines.py), which has no recursion to change. Its fields
    are checked (names, types, sizes) before anything is allocated."""
    from .model import baselines

    kind_of = baselines.BaselineConfig if "baseline" in shape else ModelConfig
    known = {f.name for f in fields(kind_of)}
    needed = {f.name for f in fields(kind_of) if f.default is MISSING and f.default_factory is MISSING}
    unknown, missing = sorted(set(shape) - known), sorted(needed - set(shape))
    if unknown or missing:
        what = [f"unknown field(s) {', '.join(unknown)}"] if unknown else []
        what += [f"no {', '.join(missing)}"] if missing else []
        raise CheckpointError(f"checkpoint {name}: its model config is not one this version builds ({'; '.join(what)})")
    if kind_of is ModelConfig:
        try:
            return TreeReasoner(ModelConfig(**shape))
        except HybridTRMError as err:  # ModelConfig's checks: types and sizes
            raise CheckpointError(f"checkpoint {name}: its model config is refused: {err}") from None
    if recursion is not None and recursion != Recursion():
        raise CheckpointError(f"checkpoint {name} is the {shape['baseline']} baseline: it has no recursion to change")
    return _baseline(baselines, shape, name)


# A baseline's sizes, as ModelConfig.LIMITS bounds the recursive model's: checked
# here, before its own config divides by `heads` or builds `layers` layers.
BASELINE_LIMITS = {"kinds": 10_000, "classes": 10_000, "hidden": 4096, "layers": 64, "heads": 64, "positions": 1024}


def _baseline(baselines, shape: dict, name) -> torch.nn.Module:
    """The baseline a checkpoint's config describes, its types and sizes checked, and
    its parameters counted on the meta device (no memory) before it is built."""
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
    model = loaded.model
    if not model.config.controller:
        return []
    kinds = list(loaded.domain.node_kinds)
    trained = loaded.config.get("trained_node_kinds") or kinds
    ids = torch.tensor([kinds.index(k) for k in trained])
    with torch.no_grad():
        steps, _ = model.strategy(ids, sample=False)
        theta = torch.tensor(model.config.halt_threshold).clamp(1e-6, 1 - 1e-6)
        # sigmoid(h + offset) > theta  <=>  sigmoid(h) > sigmoid(logit(theta) - offset)
        thresholds = torch.sigmoid(torch.logit(theta) - model.strategy_halt[ids])
    if model.config.halt_threshold >= 1.0:
        thresholds = torch.ones_like(thresholds)
    return [Strategy(k, int(n), round(float(t), 3)) for k, n, t in zip(trained, steps, thresholds)]


def inference_tensors(
    domain: Domain, task: Task, trees: list, trained_width: int | None = None, worlds: int | None = None
) -> list[TreeTensors]:
    """Trees as the model reads them. An integer answer's grid is as wide as the
    tree's values need (a sign digit above the domain's bound on their digits),
    never narrower than the grid the model was trained on, never wider than the
    task's: the cell's weights are shared across positions, but carries running
    through many more positions than it trained on are where it errs. Each tree
    gets its own width, so that its answer does not depend on the trees it is
    batched with (predict_trees runs each width apart).
    A WorldTask's grid has `worlds` positions (default: the task's)."""
    if isinstance(task, WorldTask):
        if worlds is not None and worlds < 1:
            raise HybridTRMError(f"worlds must be at least 1, not {worlds}")
        for tree in trees:
            budget.check_grid(len(postorder(tree)), worlds or task.positions)
        return tensorize_worlds(domain, trees, task, worlds or task.positions, labelled=False)
    if worlds is not None:
        raise HybridTRMError(f"{domain.name}/{task.name} is not answered over worlds; a number of worlds applies to logic tasks")
    if task.positions == 1:
        return [tensorize(domain, tree, task) for tree in trees]
    out = []
    for tree in trees:
        digits = domain.answer_digits(tree, task.name)
        width = None if digits is None else min(task.positions, max(trained_width or 0, digits + 1))
        out.append(tensorize(domain, tree, task, width=width))
    return out


def trained_width(config: dict) -> int | None:
    """The answer grid width a checkpoint was trained on (None: the task's)."""
    return config.get("training", {}).get("width")


# Trees per inference batch. A level's rows are one matmul each: on 2,000 ListOps
# inputs of ~40 nodes, batches of 1,024 took 0.28-0.34 s in the model, of 256 0.47-0.55.
INFERENCE_TREES = 1024


def grid_batch_size(task: Task, trees: int, worlds: int | None = None) -> int:
    """Trees per inference batch: fewer on a wide grid of worlds, whose every node
    holds a state per world (256 trees of 300 nodes on 1024 worlds need gigabytes):
    two trees at a time on 1024 worlds, 32 on 64."""
    if not isinstance(task, WorldTask):
        return trees
    return max(1, trees * 2 // (worlds or task.positions))


@dataclass
class Prediction:
    answer: str
    confidence: float
    steps_mean: float  # latent updates per node of this tree
    node_answers: list[str] = field(default_factory=list)  # every node, in postorder
    node_steps: list[int] = field(default_factory=list)  # latent updates of every node, in postorder
    node_cycles: list[int] = field(default_factory=list)  # answer updates of every node, in postorder
    cells: list[int] = field(default_factory=list)  # the root's grid: digits, or one cell per world


def add_time(timings: dict[str, float] | None, stage: str, since: float) -> float:
    """Add the time from `since` to now to `timings[stage]` (None: not timed); returns now."""
    now = time.perf_counter()
    if timings is not None:
        timings[stage] = timings.get(stage, 0.0) + now - since
    return now


def _add_timings(timings: dict[str, float], more: dict[str, float]) -> None:
    """Add `more`'s seconds per stage to `timings`'."""
    for stage, seconds in more.items():
        timings[stage] = timings.get(stage, 0.0) + seconds


@torch.inference_mode()
def predict_trees(
    model: TreeReasoner, task: Task, trees: list[TreeTensors], node_answers: bool = False, halting: str | None = None,
    timings: dict[str, float] | None = None,
) -> list[Prediction]:
    """`halting`: as TreeReasoner.forward's ("off": every node at the fixed maximum).
    `timings`: seconds are added to its "tensorize" (batching), "model" and "answers".
    Trees of different grid widths (see inference_tensors) run as one batch per width."""
    widths = sorted({t.literal.shape[1] for t in trees})
    if len(widths) > 1:
        out: list[Prediction | None] = [None] * len(trees)
        for width in widths:
            rows = [i for i, t in enumerate(trees) if t.literal.shape[1] == width]
            for i, prediction in zip(rows, predict_trees(model, task, [trees[i] for i in rows], node_answers, halting, timings)):
                out[i] = prediction
        return out
    start = time.perf_counter()
    tree_batch = batch(trees)
    start = add_time(timings, "tensorize", start)
    output = model(tree_batch, with_loss=False, halting=halting)
    start = add_time(timings, "model", start)
    probs = torch.softmax(output.final, dim=-1)  # (N, P, C)
    best, grid = probs.max(dim=-1)  # (N, P)
    # A grid of worlds is as sure as its least sure world; digits must all be right.
    confidence = best.amin(dim=-1) if isinstance(task, WorldTask) else best.prod(dim=-1)
    roots = tree_batch.roots
    steps_mean = torch.zeros(len(trees)).index_add(0, tree_batch.tree, output.steps.float())
    steps_mean /= torch.tensor([t.nodes for t in trees], dtype=torch.float)
    # Read out as Python lists in one call each, not a tensor index per tree.
    out = [
        Prediction(task.decode(cells), c, s, cells=list(cells))
        for cells, c, s in zip(grid[roots].tolist(), confidence[roots].tolist(), steps_mean.tolist())
    ]
    # Batch positions back to each tree's postorder: nodes were sorted stably by height.
    order = torch.argsort(tree_batch.tree * (tree_batch.nodes + 1) + _postorder_rank(trees, tree_batch))
    node_steps, node_cycles = output.steps[order].tolist(), output.cycles[order].tolist()
    node_grid = grid[order].tolist() if node_answers else None
    hi = 0
    for pred, t in zip(out, trees):
        lo, hi = hi, hi + t.nodes
        pred.node_steps, pred.node_cycles = node_steps[lo:hi], node_cycles[lo:hi]
        if node_grid is not None:
            pred.node_answers = [task.decode(cells) for cells in node_grid[lo:hi]]
    add_time(timings, "answers", start)
    return out


def _postorder_rank(trees: list[TreeTensors], tree_batch) -> torch.Tensor:
    """Each batch node's index in its own tree's postorder."""
    ranks = torch.cat([torch.arange(t.nodes) for t in trees])
    heights = torch.cat([torch.from_numpy(t.height) for t in trees])
    order = torch.argsort(heights, stable=True)
    return ranks[order]


def predict(
    model: TreeReasoner, domain: Domain, task: Task, texts: list[str], batch_size: int = INFERENCE_TREES, width: int | None = None,
    worlds: int | None = None,
) -> list[Prediction]:
    out: list[Prediction] = []
    batch_size = grid_batch_size(task, batch_size, worlds)
    for i in range(0, len(texts), batch_size):
        trees = inference_tensors(domain, task, [domain.parse(t) for t in texts[i : i + batch_size]], width, worlds)
        out.extend(predict_trees(model, task, trees))
    return out


@dataclass
class Report:
    accuracy: float  # of every input given, those that could not be scored counted as wrong
    n: int  # every input given, scored or not
    by_depth: dict[int, tuple[float, int]]  # depth -> (accuracy, n)
    by_arity: dict[int, tuple[float, int]]  # largest number of children of any node -> (accuracy, n)
    steps_mean: float = 0.0  # latent updates per node, over every node of every input
    steps_histogram: dict[int, int] = field(default_factory=dict)  # latent updates -> nodes that ran that many
    cycles_mean: float = 0.0  # answer updates per node (what a halting model decides)
    difficulty: Difficulty | None = None  # steps against the domain's node difficulty
    node_kinds: dict[str, int] = field(default_factory=dict)  # node kind -> nodes of that kind, over every input
    # The inputs that could not be scored (unparsable, too large, past their time
    # budget, ...): (where, why), where counted as errors_at says: "index" of the
    # example in the list scored (from 0), or "line" of the file it came from.
    errors: list[tuple[int, str]] = field(default_factory=list)
    errors_at: str = "index"

    def located(self, lines: list[int], unread: list[tuple[int, str]]) -> Report:
        """This report with its errors at the lines of the file the examples came
        from (`lines[i]`: example i's), and `unread`, the (line, why) of lines that
        held no example, counted as wrong inputs too."""
        right = round(self.accuracy * self.n)  # exact: accuracy is right / n
        n = self.n + len(unread)
        errors = sorted([(lines[i], why) for i, why in self.errors] + list(unread))
        return replace(self, accuracy=right / max(1, n), n=n, errors=errors, errors_at="line")

    def to_json(self) -> dict:
        def table(rows):
            return {str(k): {"accuracy": a, "n": n} for k, (a, n) in sorted(rows.items())}

        return {
            "accuracy": self.accuracy, "n": self.n, "by_depth": table(self.by_depth), "by_arity": table(self.by_arity),
            "steps_mean": self.steps_mean, "steps_histogram": {str(k): v for k, v in sorted(self.steps_histogram.items())},
            "cycles_mean": self.cycles_mean, "difficulty": None if self.difficulty is None else asdict(self.difficulty),
            "node_kinds": self.node_kinds,
            "errors": [{self.errors_at: where, "error": why} for where, why in self.errors],
        }


@dataclass
class Difficulty:
    """How a node's work tracks its difficulty (Domain.node_difficulty): its latent
    updates (children read + thinking) and its answer updates (what halting decides)."""

    measure: str  # what the difficulty counts
    nodes: int  # nodes that have one
    steps_correlation: float | None  # Pearson's r of latent updates against difficulty (None: either is constant)
    cycles_correlation: float | None  # Pearson's r of answer updates against difficulty
    steps_by_difficulty: dict[int, float]  # difficulty -> mean latent updates
    cycles_by_difficulty: dict[int, float]  # difficulty -> mean answer updates

    @classmethod
    def of(cls, measure: str, nodes: list[tuple[int, int, int]]) -> Difficulty | None:
        """From (difficulty, latent updates, answer updates) per node; None without any."""
        if not nodes:
            return None
        hard, steps, cycles = (torch.tensor([float(v) for v in column]) for column in zip(*nodes))
        return cls(
            measure, len(nodes), _pearson(hard, steps), _pearson(hard, cycles),
            _means_by(hard, steps), _means_by(hard, cycles),
        )


def _pearson(a: torch.Tensor, b: torch.Tensor) -> float | None:
    if len(a) < 2 or float(a.std()) == 0 or float(b.std()) == 0:
        return None
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


def _means_by(keys: torch.Tensor, values: torch.Tensor) -> dict[int, float]:
    return {int(k): float(values[keys == k].mean()) for k in torch.unique(keys)}


def same_answer(task: Task, predicted: str, expected: str) -> bool:
    """Compare as the task's grids, so "007" and "7" are one integer."""
    try:
        return task.encode(predicted) == task.encode(expected)
    except Exception:
        return predicted.strip() == expected.strip()


def evaluate_examples(
    model: TreeReasoner, domain: Domain, task: Task, examples: list[Example], batch_size: int = INFERENCE_TREES,
    progress=None, width: int | None = None, worlds: int | None = None, halting: str | None = None,
    timings: dict[str, float] | None = None, jobs: int = 1, timeout: float | None = None, strict: bool = False,
    where: Callable[[int], str] | None = None,
) -> Report:
    """Accuracy on examples; `width` is the answer grid the model trained on, `worlds`
    the grid of a WorldTask (see inference_tensors), `halting` the forward pass's mode
    ("off": every node runs n inner steps and all its cycles, whatever its halting
    head and controller say). `timings`: seconds per stage (parse, tensorize, model,
    answers: decoding and scoring) are added to it, for `bench speed`; with workers,
    the sum of theirs. `jobs` > 1: that many worker processes score chunks of the
    examples at once, each on one thread (see _scored_chunks); the report is the same.

    An example that cannot be scored (unparsable, past a size limit, past its time
    budget: a HybridTRMError) counts as wrong and is listed in Report.errors with
    why; the others are scored as if it were not there. `strict`: raise the first
    one instead, once its chunk is scored. `timeout`: seconds each example may take
    to be parsed, sized and tensorized, and its share of the batch it runs in (see
    _predictions); None: no budget of its own. `where(i)` names example i in
    messages ("data.jsonl:12"; default "example i")."""
    if jobs < 1:
        raise HybridTRMError(f"jobs must be at least 1, not {jobs}")
    if worlds is not None and not 1 <= worlds <= MAX_WORLDS:
        raise HybridTRMError(f"worlds must be from 1 to {MAX_WORLDS:,}, not {worlds:,}")
    where = where or (lambda i: f"example {i}")
    was_training = model.training
    model.eval()
    # Every chunk keeps thousands of tree nodes alive, so the garbage collector runs
    # often, and each full run walks every object already loaded (torch, sympy, the
    # model): a fifth of the eval's time. Those are set aside (not freed) until the end.
    gc.freeze()
    batch_size = grid_batch_size(task, batch_size, worlds)
    measure = domain.difficulty_measure.get(task.name)
    score = functools.partial(_scored_chunk, model, domain, task, width, worlds, halting, measure, timeout, where)
    tally = _Tally(np.zeros(len(domain.node_kinds), dtype=np.int64))
    try:
        # Each example with its index, so that a chunk (here or in a worker) names its failures.
        for scores in _scored_chunks(score, list(enumerate(examples)), batch_size, jobs):
            if strict and scores.errors:
                index, why = scores.errors[0]
                raise HybridTRMError(f"{where(index)}: {why}")
            tally.add(scores)
            if progress:
                progress(len(tally.correct) + len(tally.errors))
    finally:
        model.train(was_training)
        gc.unfreeze()
    if timings is not None:
        _add_timings(timings, tally.timings)
    n = len(tally.correct) + len(tally.errors)
    return Report(
        accuracy=sum(tally.correct) / max(1, n), n=n,
        by_depth=_group(tally.depths, tally.correct), by_arity=_group(tally.arities, tally.correct),
        steps_mean=_mean(tally.steps), steps_histogram=dict(tally.steps), cycles_mean=_mean(tally.cycles),
        difficulty=Difficulty.of(measure, tally.difficulty) if measure else None,
        node_kinds={k: int(n) for k, n in zip(domain.node_kinds, tally.kinds) if n}, errors=tally.errors,
    )


@dataclass
class _Tally:
    """What the scored chunks add up to, in the examples' order."""

    kinds: np.ndarray  # nodes per kind id
    correct: list[bool] = field(default_factory=list)  # per example scored
    depths: list[int] = field(default_factory=list)
    arities: list[int] = field(default_factory=list)
    steps: Counter[int] = field(default_factory=Counter)
    cycles: Counter[int] = field(default_factory=Counter)
    difficulty: list[tuple[int, int, int]] = field(default_factory=list)  # (difficulty, latent, answer updates) per node
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    errors: list[tuple[int, str]] = field(default_factory=list)  # (index, why) per example that could not be scored

    def add(self, other: _Tally) -> None:
        self.kinds += other.kinds
        self.correct += other.correct
        self.depths += other.depths
        self.arities += other.arities
        self.difficulty += other.difficulty
        self.steps.update(other.steps)
        self.cycles.update(other.cycles)
        self.errors += other.errors
        _add_timings(self.timings, other.timings)


def _within(seconds: float | None, what: str):
    """A time budget of `seconds` for `what`; None: none of its own (the caller's, if any, still holds)."""
    return contextlib.nullcontext() if seconds is None else budget.limit(seconds, what)


def _scored_chunk(
    model: TreeReasoner, domain: Domain, task: Task, width: int | None, worlds: int | None, halting: str | None,
    measure: str | None, timeout: float | None, where: Callable[[int], str], chunk: list[tuple[int, Example]],
) -> _Tally:
    """Parse, tensorize, predict and score one chunk of (index, example): each one
    made ready on its own, under its own time budget, so that one that fails
    (a HybridTRMError: anything else is a bug, and propagates) is recorded with
    why and left out of the batch the others run in."""
    out = _Tally(np.zeros(len(domain.node_kinds), dtype=np.int64))
    ready: list[tuple[int, Example, Node, TreeTensors]] = []
    for index, ex in chunk:
        try:
            with _within(timeout, f"the input at {where(index)}"):
                ready.append((index, ex, *_prepared(domain, task, width, worlds, ex.input, out.timings)))
        except HybridTRMError as err:
            out.errors.append((index, str(err)))
    if not ready:
        return out
    out.kinds += np.bincount(np.concatenate([tensors.kind for *_, tensors in ready]), minlength=len(out.kinds))
    predictions = _predictions(model, task, [(i, t) for i, _, _, t in ready], halting, timeout, where, out)
    start = time.perf_counter()
    for (index, ex, tree, tensors), pred in zip(ready, predictions):
        if pred is None:  # failed in the model: recorded by _predictions
            continue
        out.correct.append(same_answer(task, pred.answer, ex.answer))
        out.steps.update(pred.node_steps)
        out.cycles.update(pred.node_cycles)
        if measure:
            hard = domain.node_difficulty(tree, task.name, tensors.literal.shape[1])
            out.difficulty.extend((d, s, c) for d, s, c in zip(hard, pred.node_steps, pred.node_cycles) if d is not None)
        out.depths.append(int(tensors.height.max()))
        out.arities.append(_arity(tensors))
    out.errors.sort()  # in the examples' order, whichever stage found them
    add_time(out.timings, "answers", start)
    return out


def _prepared(
    domain: Domain, task: Task, width: int | None, worlds: int | None, text: str, timings: dict[str, float],
) -> tuple[Node, TreeTensors]:
    """One input parsed, made the model's tensors and its size checked against the
    limits (budget.py) before the model runs, within the current time budget."""
    start = time.perf_counter()
    budget.stage("parsing", f"{len(text):,} characters")
    budget.check_text(text)
    tree = domain.parse(text)
    if isinstance(task, WorldTask):  # a row per node per world: sized before it is built
        _check_size(text, *tree_size(tree))
    start = add_time(timings, "parse", start)
    budget.stage("tensorizing")
    # One tree at a time, so that one the tensors cannot hold (a number wider than the
    # grid, a formula with too many worlds) fails alone; trees of different widths then
    # run as one batch per width (predict_trees), as `solve` runs each one.
    tensors = inference_tensors(domain, task, [tree], width, worlds)[0]
    if not isinstance(task, WorldTask):
        # Sized from the tensors, which are no larger than the parse tree: a walk of the
        # tree (grammar.measure) costs as much as tensorizing it, and a third of a parse.
        _check_size(text, tensors.nodes, int(tensors.height.max()), _arity(tensors))
    add_time(timings, "tensorize", start)
    return tree, tensors


def _check_size(text: str, nodes: int, depth: int, arity: int) -> None:
    budget.stage("checking sizes", f"{len(text):,} characters, {nodes:,} nodes, depth {depth:,}")
    budget.check_tree(nodes, depth, arity)


def _arity(tensors: TreeTensors) -> int:
    """The most children of any node of a tree."""
    return int(tensors.child_rank.max()) + 1 if tensors.nodes > 1 else 0


def _predictions(
    model: TreeReasoner, task: Task, trees: list[tuple[int, TreeTensors]], halting: str | None, timeout: float | None,
    where: Callable[[int], str], out: _Tally,
) -> list[Prediction | None]:
    """The model's prediction for each (index, tensors): all as one batch, within
    `timeout` x their number; where the batch fails (past that, or an input the
    model cannot hold), each alone within `timeout`, so that only the inputs at fault
    are lost: each is None, its error recorded in `out`. At worst the model runs for
    twice the time the inputs' budgets add up to."""
    if len(trees) > 1:
        try:
            with _within(None if timeout is None else timeout * len(trees), f"a batch of {len(trees)} inputs"):
                budget.stage("running the model", f"{sum(t.nodes for _, t in trees):,} nodes")
                return predict_trees(model, task, [t for _, t in trees], halting=halting, timings=out.timings)
        except HybridTRMError:
            pass  # run one at a time, below
    predictions: list[Prediction | None] = []
    for index, tensors in trees:
        try:
            with _within(timeout, f"the input at {where(index)}"):
                budget.stage("running the model", f"{tensors.nodes:,} nodes")
                predictions.append(predict_trees(model, task, [tensors], halting=halting, timings=out.timings)[0])
        except HybridTRMError as err:
            out.errors.append((index, str(err)))
            predictions.append(None)
    return predictions


# The least a worker's chunk holds (fewer where a batch is smaller, as on a grid of
# worlds): a forked worker's first chunk costs it tens of milliseconds to start.
WORKER_CHUNK_MIN = 256


def _scored_chunks(score: Callable[[list], T], items: list, batch_size: int, jobs: int) -> Iterator[T]:
    """`score` of each chunk of `items` (at most `batch_size` each), in order: here,
    or with `jobs` > 1 in that many worker processes at once, each on one torch
    thread, the chunks sized to keep every worker busy. Parsing is Python, which a
    process runs on one core at a time; workers parse side by side. They are forked,
    so they start with the model and the items as they are here (nothing is sent
    but chunk bounds); where fork is not the platform's way (macOS, Windows), the
    chunks are scored here."""
    size = min(batch_size, max(-(-len(items) // jobs), WORKER_CHUNK_MIN))
    bounds = [(i, i + size) for i in range(0, len(items), size)]
    jobs = min(jobs, len(bounds))
    if jobs <= 1 or sys.platform != "linux":  # (no items: no chunk)
        for i in range(0, len(items), batch_size):
            yield score(items[i : i + batch_size])
        return
    global _FORKED
    _FORKED = (score, items)
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=torch.set_num_threads, initargs=(1,))
    try:
        yield from pool.map(_forked_chunk, bounds)
    finally:  # also where a chunk failed (its error is raised here) or the caller stopped early
        pool.shutdown(cancel_futures=True)
        _FORKED = None


_FORKED: tuple[Callable, list] | None = None  # what forked workers score: set before they start


def _forked_chunk(bounds: tuple[int, int]):
    score, items = _FORKED
    return score(items[bounds[0] : bounds[1]])


def _mean(counts: Counter[int]) -> float:
    return sum(k * v for k, v in counts.items()) / max(1, sum(counts.values()))


def _group(keys: list[int], correct: list[bool]) -> dict[int, tuple[float, int]]:
    groups: dict[int, list[bool]] = defaultdict(list)
    for k, c in zip(keys, correct):
        groups[k].append(c)
    return {k: (sum(v) / len(v), len(v)) for k, v in groups.items()}


def plot_steps(report: Report, title: str, path: Path) -> Path:
    """Steps per node, to a PNG: the share of nodes by latent updates, and (where the
    domain measures a node's difficulty) the mean latent and answer updates by
    difficulty; accuracy by depth otherwise."""
    from .plotting import pyplot

    plt = pyplot()
    figure, (spread, work) = plt.subplots(1, 2, figsize=(11, 4))
    total = sum(report.steps_histogram.values()) or 1
    steps = sorted(report.steps_histogram)
    spread.bar(steps, [report.steps_histogram[s] / total for s in steps], color="C0")
    spread.set_xlabel("latent updates (children read + thinking)")
    spread.set_ylabel("share of nodes")
    spread.set_title(f"{report.steps_mean:.2f} latent, {report.cycles_mean:.2f} answer updates per node", fontsize=10)
    hard = report.difficulty
    if hard is not None:
        levels = sorted(hard.steps_by_difficulty)
        work.plot(levels, [hard.steps_by_difficulty[k] for k in levels], marker="o", label="latent updates")
        work.plot(levels, [hard.cycles_by_difficulty[k] for k in levels], marker="s", label="answer updates")
        work.set_xlabel(hard.measure)
        work.set_ylabel("mean per node")
        work.set_title(f"work by {hard.measure} ({hard.nodes:,} nodes)", fontsize=10)
        work.legend(fontsize=8)
    else:
        depths = sorted(report.by_depth)
        work.plot(depths, [report.by_depth[d][0] for d in depths], marker="o")
        work.set_xlabel("tree height")
        work.set_ylabel("accuracy")
        work.set_ylim(0, 1.02)
        work.set_title("accuracy by depth", fontsize=10)
    for axes in (spread, work):
        axes.xaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(f"{title}: accuracy {report.accuracy:.2%} (n={report.n:,})", fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
