"""Score a loaded reasoner on examples: accuracy overall, by depth and by arity,
steps per node, the inputs that could not be scored and why (loading.py loads
the model, inference.py runs it). The model is the torch one or the numpy
runtime's (hybrid_trm/runtime): with the latter, nothing here imports torch."""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar, Union

import numpy as np

from . import budget, devices
from .domains.base import Domain, Example, Task, WorldTask
from .errors import HybridTRMError
from .grammar import Node
from .grammar import measure as tree_size
from .inference import (
    INFERENCE_TREES, MAX_WORLDS, Prediction, add_time, add_timings, grid_batch_size, inference_tensors, predict_trees,
)
from .loading import Loaded
from .runtime.predict import predict_trees as predict_trees_numpy
from .runtime.reasoner import TreeReasoner as NumpyReasoner
from .trees import TreeTensors

if TYPE_CHECKING:  # the torch model: imported by whoever loaded it
    from .model.reasoner import TreeReasoner

T = TypeVar("T")
AnyReasoner = Union["TreeReasoner", NumpyReasoner]  # torch's, or the numpy runtime's


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


REFUSED_SHOWN = 10  # where the first refused inputs were, in Report.to_json's `refused`


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
            # The same at a glance: how many inputs got no answer, and where the first were.
            "refused": {
                "count": len(self.errors),
                {"line": "lines", "index": "indices"}[self.errors_at]: [where for where, _ in self.errors[:REFUSED_SHOWN]],
            },
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
        hard, steps, cycles = (np.array(column, dtype=np.float64) for column in zip(*nodes))
        return cls(
            measure, len(nodes), _pearson(hard, steps), _pearson(hard, cycles),
            _means_by(hard, steps), _means_by(hard, cycles),
        )


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or float(a.std()) == 0 or float(b.std()) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def _means_by(keys: np.ndarray, values: np.ndarray) -> dict[int, float]:
    return {int(k): float(values[keys == k].mean()) for k in np.unique(keys)}


def same_answer(task: Task, predicted: str, expected: str) -> bool:
    """Compare as the task's grids, so "007" and "7" are one integer."""
    try:
        return task.encode(predicted) == task.encode(expected)
    except Exception:
        return predicted.strip() == expected.strip()


def evaluate_examples(
    model: AnyReasoner, domain: Domain, task: Task, examples: list[Example], batch_size: int = INFERENCE_TREES,
    progress=None, width: int | None = None, worlds: int | None = None, halting: str | None = None,
    timings: dict[str, float] | None = None, jobs: int = 1, timeout: float | None = None, strict: bool = False,
    where: Callable[[int], str] | None = None, execute: bool = False,
) -> Report:
    """Accuracy on examples; `width` is the answer grid the model trained on, `worlds`
    the grid of a WorldTask (see inference_tensors), `halting` the forward pass's mode
    ("off": every node runs n inner steps and all its cycles, whatever its halting
    head and controller say). `timings`: seconds per stage (parse, tensorize, model,
    answers: decoding and scoring) are added to it, for `bench speed`; with workers,
    the sum of theirs. `jobs` > 1: that many worker processes score chunks of the
    examples at once, each on one thread (see _scored_chunks); the report is the same.
    A model on an accelerator (devices.py) scores in this process whatever `jobs`
    says: a forked worker cannot use its parent's GPU.

    An example that cannot be scored (unparsable, past a size limit, past its time
    budget: a HybridTRMError) counts as wrong and is listed in Report.errors with
    why; the others are scored as if it were not there. `strict`: raise the first
    one instead, once its chunk is scored. `timeout`: seconds each example may take
    to be parsed, sized and tensorized, and its share of the batch it runs in (see
    _predictions); None: no budget of its own. `where(i)` names example i in
    messages ("data.jsonl:12"; default "example i"). `execute`: the model answers
    the questions of a run (programs: digit facts), and each input is answered by
    its run (execution.py).
    `model`: the torch model, or the numpy runtime's (the same report, within
    float32 rounding; bench runtime compares them)."""
    if jobs < 1:
        raise HybridTRMError(f"jobs must be at least 1, not {jobs}")
    if worlds is not None and not 1 <= worlds <= MAX_WORLDS:
        raise HybridTRMError(f"worlds must be from 1 to {MAX_WORLDS:,}, not {worlds:,}")
    where = where or (lambda i: f"example {i}")
    if isinstance(model, NumpyReasoner):
        was_training = None  # the numpy runtime's model only infers
    else:
        if devices.of(model).type != "cpu":
            jobs = 1
        was_training = model.training
        model.eval()
    # Every chunk keeps thousands of tree nodes alive, so the garbage collector runs
    # often, and each full run walks every object already loaded (torch, sympy, the
    # model): a fifth of the eval's time. Those are set aside (not freed) until the end.
    gc.freeze()
    batch_size = grid_batch_size(task, batch_size, worlds)
    measure = domain.difficulty_measure.get(task.name)
    score = functools.partial(_scored_chunk, model, domain, task, width, worlds, halting, measure, timeout, where, execute)
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
        if was_training is not None:
            model.train(was_training)
        gc.unfreeze()
    if timings is not None:
        add_timings(timings, tally.timings)
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
        add_timings(self.timings, other.timings)


def _within(seconds: float | None, what: str):
    """A time budget of `seconds` for `what`; None: none of its own (the caller's, if any, still holds)."""
    return contextlib.nullcontext() if seconds is None else budget.limit(seconds, what)


def _scored_chunk(
    model: AnyReasoner, domain: Domain, task: Task, width: int | None, worlds: int | None, halting: str | None,
    measure: str | None, timeout: float | None, where: Callable[[int], str], execute: bool,
    chunk: list[tuple[int, Example]],
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
    predicted = predict_trees_numpy if isinstance(model, NumpyReasoner) else predict_trees
    if execute:
        from .execution import question_task, run_predictions

        own = question_task(domain, task)[1]  # the model's task: its questions' answers

        def closed(tensors):
            return predicted(model, own, tensors, timings=out.timings)

        run = functools.partial(run_predictions, domain, task, width, closed)
        predictions = _predictions(run, [(i, tree) for i, _, tree, _ in ready], _runs, timeout, where, out)
    else:
        predict = functools.partial(predicted, model, task, halting=halting, timings=out.timings)
        predictions = _predictions(predict, [(i, t) for i, _, _, t in ready], _nodes, timeout, where, out)
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
    predict: Callable[[list], list[Prediction]], items: list[tuple[int, object]], sizes: Callable[[list], str],
    timeout: float | None, where: Callable[[int], str], out: _Tally,
) -> list[Prediction | None]:
    """The prediction for each (index, item), `predict` answering a list of items
    (tensorized trees, or programs the executor runs): all as one batch, within
    `timeout` x their number; where the batch fails (past that, or an input the
    model cannot hold), each alone within `timeout`, so that only the inputs at fault
    are lost: each is None, its error recorded in `out`. At worst the model runs for
    twice the time the inputs' budgets add up to. `sizes` says what a list holds."""
    if len(items) > 1:
        try:
            with _within(None if timeout is None else timeout * len(items), f"a batch of {len(items)} inputs"):
                budget.stage("running the model", sizes([x for _, x in items]))
                return predict([x for _, x in items])
        except HybridTRMError:
            pass  # run one at a time, below
    predictions: list[Prediction | None] = []
    for index, item in items:
        try:
            with _within(timeout, f"the input at {where(index)}"):
                budget.stage("running the model", sizes([item]))
                predictions.append(predict([item])[0])
        except HybridTRMError as err:
            out.errors.append((index, str(err)))
            predictions.append(None)
    return predictions


def _nodes(trees: list[TreeTensors]) -> str:
    return f"{sum(t.nodes for t in trees):,} nodes"


def _runs(trees: list[Node]) -> str:
    return f"{len(trees):,} inputs, each answered by a run whose questions the model answers"


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
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_one_thread)
    try:
        yield from pool.map(_forked_chunk, bounds)
    finally:  # also where a chunk failed (its error is raised here) or the caller stopped early
        pool.shutdown(cancel_futures=True)
        _FORKED = None


_FORKED: tuple[Callable, list] | None = None  # what forked workers score: set before they start


def _one_thread() -> None:
    """A worker's torch runs on one thread (numpy's BLAS reads OMP_NUM_THREADS,
    one unless the user set it: cli/common.py)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


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
