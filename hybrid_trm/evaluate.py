"""Run a trained reasoner: load a checkpoint, predict answers for texts, and
score examples with accuracy by depth and by arity."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import checkpoints
from .domains import registry
from .domains.base import Domain, Example, Task, WorldTask
from .errors import CheckpointError, HybridTRMError
from .grammar import children, kind, postorder
from .model.reasoner import ModelConfig, TreeReasoner
from .trees import TreeTensors, batch, tensorize, tensorize_worlds


@dataclass
class Loaded:
    model: TreeReasoner
    domain: Domain
    task: Task
    config: dict  # the checkpoint's JSON

    def check_kinds(self, tree) -> None:
        """Refuse a tree with node kinds the model never saw in training: its answer
        there would be a guess, however confident."""
        trained = self.config.get("trained_node_kinds")
        if trained is None:
            return
        unseen = sorted({kind(n) for n in postorder(tree)} - set(trained))
        if unseen:
            raise HybridTRMError(
                f"the {self.domain.name}/{self.task.name} model was not trained on {', '.join(unseen)} nodes "
                f"(it knows {', '.join(trained)}); use another --task or --checkpoint"
            )


def load(path: str | Path, domain: str | None = None, task: str | None = None, inner_steps: int | None = None) -> Loaded:
    """A checkpoint ready for inference; refuses one made for another domain or task.
    `inner_steps` runs the cell for that many latent updates per answer update
    instead of the number it trained with (more, for inputs deeper or wider than
    training's: the weights are the same at every step)."""
    tensors, config = checkpoints.load(path)
    if inner_steps is not None:
        if inner_steps < 1:
            raise HybridTRMError(f"inner steps must be at least 1, not {inner_steps}")
        config = {**config, "model": {**config["model"], "inner_steps": inner_steps}}
    if domain not in (None, config["domain"]) or task not in (None, config["task"]):
        raise CheckpointError(
            f"checkpoint {checkpoints.stem(path)} is for {config['domain']}/{config['task']}, "
            f"not {domain or config['domain']}/{task or config['task']}"
        )
    dom = registry.get(config["domain"])
    tsk = dom.task(config["task"])
    if config["vocab"]["node_kinds"] != list(dom.node_kinds) or config["vocab"]["answers"] != list(tsk.answers):
        raise CheckpointError(f"checkpoint {checkpoints.stem(path)}: its vocabulary does not match domain {dom.name} as installed")
    model = TreeReasoner(ModelConfig(**config["model"]))
    try:
        model.load_state_dict(checkpoints.section(tensors, "model"))
    except RuntimeError as err:
        raise CheckpointError(f"checkpoint {checkpoints.stem(path)}: weights do not fit its config ({err})") from None
    model.eval()
    return Loaded(model, dom, tsk, config)


def inference_tensors(
    domain: Domain, task: Task, trees: list, trained_width: int | None = None, worlds: int | None = None
) -> list[TreeTensors]:
    """Trees as the model reads them, to be batched together. An integer answer's
    grid is as wide as the values need (a sign digit above the domain's bound on
    their digits), never narrower than the grid the model was trained on, never
    wider than the task's: the cell's weights are shared across positions, but
    carries running through many more positions than it trained on are where it errs.
    A WorldTask's grid has `worlds` positions (default: the task's)."""
    if isinstance(task, WorldTask):
        if worlds is not None and worlds < 1:
            raise HybridTRMError(f"worlds must be at least 1, not {worlds}")
        return tensorize_worlds(domain, trees, task, worlds or task.positions, labelled=False)
    if worlds is not None:
        raise HybridTRMError(f"{domain.name}/{task.name} is not answered over worlds; a number of worlds applies to logic tasks")
    width = None
    if task.positions > 1:
        bounds = [domain.answer_digits(tree, task.name) for tree in trees]
        if None not in bounds:
            width = min(task.positions, max([trained_width or 0] + [d + 1 for d in bounds]))
    return [tensorize(domain, tree, task, width=width) for tree in trees]


def trained_width(config: dict) -> int | None:
    """The answer grid width a checkpoint was trained on (None: the task's)."""
    return config.get("training", {}).get("width")


def grid_batch_size(task: Task, trees: int, worlds: int | None = None) -> int:
    """Trees per inference batch: fewer on a wide grid of worlds, whose every node
    holds a state per world (256 trees of 300 nodes on 1024 worlds need gigabytes)."""
    if not isinstance(task, WorldTask):
        return trees
    return max(1, trees * 8 // (worlds or task.positions))


@dataclass
class Prediction:
    answer: str
    confidence: float
    steps_mean: float  # latent updates per node of this tree
    node_answers: list[str] = field(default_factory=list)  # every node, in postorder
    node_steps: list[int] = field(default_factory=list)  # latent updates of every node, in postorder
    cells: list[int] = field(default_factory=list)  # the root's grid: digits, or one cell per world


@torch.inference_mode()
def predict_trees(model: TreeReasoner, task: Task, trees: list[TreeTensors], node_answers: bool = False) -> list[Prediction]:
    tree_batch = batch(trees)
    output = model(tree_batch, with_loss=False)
    probs = torch.softmax(output.final, dim=-1)  # (N, P, C)
    best, grid = probs.max(dim=-1)  # (N, P)
    # A grid of worlds is as sure as its least sure world; digits must all be right.
    confidence = best.amin(dim=-1) if isinstance(task, WorldTask) else best.prod(dim=-1)
    roots = tree_batch.roots.tolist()
    steps_mean = torch.zeros(len(trees)).index_add(0, tree_batch.tree, output.steps.float())
    steps_mean /= torch.tensor([t.nodes for t in trees], dtype=torch.float)
    out = [
        Prediction(task.decode(grid[r].tolist()), float(confidence[r]), float(s), cells=grid[r].tolist())
        for r, s in zip(roots, steps_mean.tolist())
    ]
    # Batch positions back to each tree's postorder: nodes were sorted stably by height.
    order = torch.argsort(tree_batch.tree * (tree_batch.nodes + 1) + _postorder_rank(trees, tree_batch))
    for pred, idx in zip(out, torch.split(order, [t.nodes for t in trees])):
        pred.node_steps = output.steps[idx].tolist()
        if node_answers:
            pred.node_answers = [task.decode(grid[i].tolist()) for i in idx.tolist()]
    return out


def _postorder_rank(trees: list[TreeTensors], tree_batch) -> torch.Tensor:
    """Each batch node's index in its own tree's postorder."""
    ranks = torch.cat([torch.arange(t.nodes) for t in trees])
    heights = torch.cat([torch.from_numpy(t.height) for t in trees])
    order = torch.argsort(heights, stable=True)
    return ranks[order]


def predict(
    model: TreeReasoner, domain: Domain, task: Task, texts: list[str], batch_size: int = 256, width: int | None = None,
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
    accuracy: float
    n: int
    by_depth: dict[int, tuple[float, int]]  # depth -> (accuracy, n)
    by_arity: dict[int, tuple[float, int]]  # largest number of children of any node -> (accuracy, n)
    steps_mean: float = 0.0  # latent updates per node, over every node of every input
    steps_histogram: dict[int, int] = field(default_factory=dict)  # latent updates -> nodes that ran that many

    def to_json(self) -> dict:
        def table(rows):
            return {str(k): {"accuracy": a, "n": n} for k, (a, n) in sorted(rows.items())}

        return {
            "accuracy": self.accuracy, "n": self.n, "by_depth": table(self.by_depth), "by_arity": table(self.by_arity),
            "steps_mean": self.steps_mean, "steps_histogram": {str(k): v for k, v in sorted(self.steps_histogram.items())},
        }


def same_answer(task: Task, predicted: str, expected: str) -> bool:
    """Compare as the task's grids, so "007" and "7" are one integer."""
    try:
        return task.encode(predicted) == task.encode(expected)
    except Exception:
        return predicted.strip() == expected.strip()


def evaluate_examples(
    model: TreeReasoner, domain: Domain, task: Task, examples: list[Example], batch_size: int = 256,
    progress=None, width: int | None = None, worlds: int | None = None,
) -> Report:
    """Accuracy on examples; `width` is the answer grid the model trained on, `worlds`
    the grid of a WorldTask (see inference_tensors)."""
    was_training = model.training
    model.eval()
    batch_size = grid_batch_size(task, batch_size, worlds)
    correct: list[bool] = []
    depths: list[int] = []
    arities: list[int] = []
    steps: Counter[int] = Counter()
    for i in range(0, len(examples), batch_size):
        chunk = examples[i : i + batch_size]
        parsed = [domain.parse(ex.input) for ex in chunk]
        trees = inference_tensors(domain, task, parsed, width, worlds)
        for ex, tree, tensors, pred in zip(chunk, parsed, trees, predict_trees(model, task, trees)):
            correct.append(same_answer(task, pred.answer, ex.answer))
            steps.update(pred.node_steps)
            depths.append(int(tensors.height.max()))
            arities.append(max(len(children(n)) for n in postorder(tree)))
        if progress:
            progress(len(correct))
    model.train(was_training)
    return Report(
        accuracy=sum(correct) / max(1, len(correct)), n=len(correct),
        by_depth=_group(depths, correct), by_arity=_group(arities, correct),
        steps_mean=sum(k * v for k, v in steps.items()) / max(1, sum(steps.values())), steps_histogram=dict(steps),
    )


def _group(keys: list[int], correct: list[bool]) -> dict[int, tuple[float, int]]:
    groups: dict[int, list[bool]] = defaultdict(list)
    for k, c in zip(keys, correct):
        groups[k].append(c)
    return {k: (sum(v) / len(v), len(v)) for k, v in groups.items()}
