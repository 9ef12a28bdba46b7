"""One input, end to end: parse (once), check its size, tensorize, run the
reasoner, verify; timed, and within a time budget (budget.py)."""

from __future__ import annotations

import inspect
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

import lark

from . import budget, checkpoints, pretrained
from .domains import registry
from .domains.base import Domain, Verdict, WorldTask
from .errors import BudgetExceeded, HybridTRMError, ParseError
from .execution import executes, run_predictions
from .inference import Prediction, add_time, inference_tensors
from .loading import load, Loaded, Recursion, trained_width
from .grammar import Node, children, kind, measure, postorder
from .trees import TreeTensors


@dataclass
class Solution:
    domain: str
    task: str
    answer: str
    confidence: float
    verified: bool | None
    expected: str | None
    evidence: str
    nodes: int
    # Where the model's grid of worlds shows its answer ('' if nowhere; None: the
    # task has no worlds, and --json leaves the key out).
    witness: str | None
    steps_mean: float  # inner steps per node (latent updates, all outer cycles)
    ms: float  # parse + model + verify, after the model is loaded
    tree: Node | None = None
    node_answers: list[str] = field(default_factory=list)
    node_steps: list[int] = field(default_factory=list)
    node_cycles: list[int] = field(default_factory=list)
    node_expected: list[str | None] = field(default_factory=list)
    # Who answered: "model", or where a task has no model, the domain's own reading
    # ("labeller": Domain.symbolic_answer), checked by the verifier all the same.
    answered_by: str = "model"

    def to_json(self) -> dict:
        """The JSON `solve --json` prints; a confidence that is not a number
        (weights that overflowed) is null, never NaN, which JSON does not have."""
        return {
            "domain": self.domain, "task": self.task, "answer": self.answer,
            "confidence": round(self.confidence, 6) if math.isfinite(self.confidence) else None, "verified": self.verified,
            "expected": self.expected, "evidence": self.evidence, "nodes": self.nodes,
            "steps_mean": round(self.steps_mean, 3), "ms": round(self.ms, 3),
            **({} if self.witness is None else {"witness": self.witness}),
            **({} if self.answered_by == "model" else {"answered_by": self.answered_by}),
        }

    def trace_nodes(self) -> list[dict]:
        """The tree, one node a dict in preorder (a parent before its children, in
        order): its kind (and token), depth, predicted answer, the true one where
        known (None where not), and the latent updates (steps) and answer updates
        (cycles) it ran. What --trace prints, and --json --trace gives as `trace`."""
        if self.tree is None:
            return []
        order = postorder(self.tree)
        index = {id(n): i for i, n in enumerate(order)}
        out = []
        stack = [(self.tree, 0)]
        while stack:
            node, depth = stack.pop()
            i = index[id(node)]
            out.append({
                "node": f"{kind(node)} {node}" if isinstance(node, lark.Token) else kind(node), "depth": depth,
                "answer": self.node_answers[i], "expected": self.node_expected[i] if self.node_expected else None,
                "steps": self.node_steps[i], "cycles": self.node_cycles[i],
            })
            stack.extend((child, depth + 1) for child in reversed(children(node)))
        return out

    def trace_lines(self) -> list[str]:
        """trace_nodes as text: indented by depth, the true answer where it differs."""
        lines = []
        for n in self.trace_nodes():
            truth = n["expected"]
            note = "" if truth is None or truth == n["answer"] else f"   (expected {truth})"
            steps = f"  [{n['steps']} steps, {n['cycles']} cycles]" if self.answered_by == "model" else ""
            answer = f" → {n['answer']}" if n["answer"] or self.answered_by == "model" else ""
            lines.append(f"{'  ' * min(n['depth'], 40)}{n['node']}{answer}{steps}{note}")
        return lines


def solve(
    text: str, domain: str | None = None, task: str | None = None, checkpoint: str | Path | None = None, *,
    timeout: float | None = budget.DEFAULT_SECONDS, verify: bool = True, trace: bool = False,
    worlds: int | None = None, recursion: Recursion | None = None, runtime: str | None = None, device: str | None = None,
) -> Solution:
    """Answer one input: the domain whose grammar accepts it (unless given), the
    domain's first task whose shipped model knows every node kind in it (unless
    given), or `checkpoint`'s model (a checkpoint or an exported folder); parsed
    once, the whole within `timeout` seconds (None: no limit). `runtime`: "torch"
    or "numpy" (hybrid_trm/runtime); None: numpy for an exported folder or where
    torch does not import, torch otherwise. `device`: where the torch model runs
    (devices.py: cpu, the default, cuda, cuda:N, mps, auto; the numpy runtime runs
    on the CPU). Raises HybridTRMError (BudgetExceeded past the budget, ParseError,
    a size limit, a device this machine lacks) on input it cannot answer."""
    from .runtime.loading import checked_runtime

    runtime = checked_runtime(runtime, checkpoint)
    with budget.limit(timeout, "solve"):
        budget.stage("parsing", f"{len(text):,} characters")
        budget.check_text(text)
        if checkpoint is not None:
            loaded = cached_load(str(checkpoint), domain, task, recursion, runtime, device)  # domain and task default to the checkpoint's
            tree = loaded.domain.parse(text)
        else:
            if domain is None:
                domain, tree = detect_domain(text)
            else:
                tree = registry.get(domain).parse(text)
            dom = registry.get(domain)
            task_name = dom.task(task if task is not None else pick_task(dom, tree)).name
            answered = without_model(dom, text, tree, task_name, verify, trace)
            if answered is not None:  # a task no model answers (english's translations)
                return answered
            loaded = cached_load(str(pretrained.require(domain, task_name)), domain, task_name, recursion, runtime, device)
        return solve_text(loaded, text, tree, verify=verify, trace=trace, worlds=worlds)


def without_model(domain: Domain, text: str, tree: Node, task: str, verify: bool, trace: bool) -> Solution | None:
    """The answer of the domain's own reading (Domain.symbolic_answer) where no
    shipped checkpoint answers the task and the domain has one: verified as a
    model's answer is; no confidence (null in JSON), no steps. None otherwise."""
    start = time.perf_counter()
    if checkpoints.exists(pretrained.path(*domain.model_of(task))):
        return None
    answer = domain.symbolic_answer(tree, task)
    if answer is None:
        return None
    verdict = _verified(domain, text, tree, answer, task) if verify else Verdict(None, None, "")
    labels = _expected_nodes(domain, tree, task) if trace else []
    n = len(postorder(tree))
    return Solution(
        domain=domain.name, task=task, answer=answer, confidence=math.nan, verified=verdict.correct,
        expected=verdict.expected, evidence=verdict.evidence, nodes=n, witness=None, steps_mean=0.0,
        ms=(time.perf_counter() - start) * 1000, tree=tree if trace else None,
        node_answers=["" if label is None else label for label in labels] if trace else [],
        node_steps=[0] * n, node_cycles=[0] * n, node_expected=labels, answered_by="labeller",
    )


def cached_load(
    path: str, domain: str | None, task: str | None, recursion: Recursion | None, runtime: str = "torch",
    device: str | None = None,
) -> Loaded:
    """A checkpoint loaded (and warmed up) once per process and device, for answer
    after answer, and again when its files change; the first load is not charged to
    the time budget. `path` may be an exported folder (its checkpoint is loaded),
    and for the numpy runtime a shipped model's name (runtime/loading.py)."""
    from . import devices
    from .runtime.loading import checkpoint_path, is_exported

    device = devices.checked_name(device)
    if runtime == "numpy" and device not in ("cpu", "auto"):  # auto: the CPU, the one device numpy runs on
        raise HybridTRMError(f"the numpy runtime runs on the CPU, not {device}: use device cpu, or the torch runtime on {device}")
    with budget.uncharged():  # resolving a device imports torch: start-up, like the first load
        device = "cpu" if runtime == "numpy" else str(devices.resolve(device))  # "cuda:0": one cached model per device
        if runtime == "numpy" or is_exported(path):
            path = str(checkpoint_path(path))
        return _warm(path, _written(path), domain, task, recursion, runtime, device)


def _written(path: str) -> tuple[int, ...]:
    """When a checkpoint's files were last written: part of what a cached load is keyed by."""
    return tuple(f.stat().st_mtime_ns for f in checkpoints.files(path) if f.is_file())


@lru_cache(maxsize=16)
def _trained_kinds(path: str, written: tuple[int, ...]) -> frozenset[str] | None:
    trained = checkpoints.load(path, framework="numpy")[1].get("trained_node_kinds")  # either runtime's
    return None if trained is None else frozenset(trained)


@lru_cache(maxsize=16)
def _warm(
    path: str, written: tuple[int, ...], domain: str | None, task: str | None, recursion: Recursion | None, runtime: str,
    device: str = "cpu",
) -> Loaded:
    if runtime == "numpy":
        from .runtime.loading import load as load_for_numpy

        loaded = load_for_numpy(path, domain, task, recursion)
    else:
        loaded = load(path, domain, task, recursion, device)
    with budget.limit(None):
        warm_up(loaded)  # the first answer's time is its own, not the libraries' start-up
    return loaded


def detect_domain(text: str) -> tuple[str, Node]:
    """The one registered domain whose grammar accepts the text, and its tree."""
    accepted, errors = [], []
    for name in registry.names():
        try:
            accepted.append((name, registry.get(name).parse(text)))
        except ParseError as err:
            errors.append(err)
    if len(accepted) == 1:
        return accepted[0]
    if accepted:
        raise HybridTRMError(f"the input parses in several domains ({', '.join(n for n, _ in accepted)}); pass --domain")
    # Report the domain whose parser read furthest (most likely the one meant), and
    # where each of the others stopped.
    furthest = max(errors, key=lambda e: (e.line, e.column))
    others = [f"{e.domain} at line {e.line}, column {e.column} (found {e.found})" for e in errors if e is not furthest]
    if others:
        furthest.args = (f"{furthest}\n(no domain reads it; {furthest.domain} read furthest; {'; '.join(others)})",)
    raise furthest


def pick_task(domain: Domain, tree: Node) -> str | None:
    """The task the input's shape asks for, where the domain says (Domain.task_for:
    english, a question or a discourse); else the domain's first task whose
    shipped model was trained on every node kind of the tree (arith: `exact` for
    + and -, `mod10` once there is a `*`); if none was, the one that lacks fewest,
    which will say what it lacks."""
    asked = domain.task_for(tree)
    if asked is not None:
        return asked
    kinds = {kind(n) for n in postorder(tree)}
    lacking: dict[str, int] = {}
    for name in domain.tasks:
        path = pretrained.path(domain.name, name)
        if checkpoints.exists(path):
            trained = _trained_kinds(str(path), _written(str(path)))
            lacking[name] = 0 if trained is None else len(kinds - trained)
            if lacking[name] == 0:
                return name
    return min(lacking, key=lacking.get) if lacking else None  # None: the domain's first task


def solve_text(
    loaded: Loaded, text: str, tree: Node | None = None, verify: bool = True, trace: bool = False,
    worlds: int | None = None, timings: dict[str, float] | None = None,
) -> Solution:
    """One input with a loaded model: `tree` is the text's parse where the caller
    has it already. Sizes are checked before the model runs (budget.check_tree);
    the stages check the caller's time budget, if any (budget.limit).
    `timings`: seconds per stage (parse, tensorize, model, answers, verify) are added to it."""
    start = time.perf_counter()
    tree, tensors = prepared(loaded, text, tree, worlds, timings)
    budget.stage("running the model")
    if executes(loaded):  # a run whose questions the model answers (a program, a digit fact at a time)
        predict = partial(loaded.predict, timings=timings)
        width = trained_width(loaded.config)
        prediction = run_predictions(loaded.domain, loaded.task, width, predict, [tree], loaded.answered)[0]
    else:
        prediction = loaded.predict([tensors], node_answers=trace, timings=timings)[0]
    return finished(loaded, text, tree, tensors, prediction, start, verify, trace, worlds, timings)


def prepared(
    loaded: Loaded, text: str, tree: Node | None, worlds: int | None = None, timings: dict[str, float] | None = None,
) -> tuple[Node, TreeTensors]:
    """An input parsed (unless `tree` is its parse), its sizes checked, and tensorized."""
    stage = time.perf_counter()
    domain, task = loaded.domain, loaded.task
    if tree is None:
        budget.stage("parsing", f"{len(text):,} characters")
        budget.check_text(text)
        tree = domain.parse(text)
    nodes, depth, arity = measure(tree)
    budget.stage("checking sizes", f"{len(text):,} characters, {nodes:,} nodes, depth {depth:,}")
    budget.check_tree(nodes, depth, arity)
    loaded.check_kinds(tree)
    stage = add_time(timings, "parse", stage)
    budget.stage("tensorizing")
    tensors = inference_tensors(domain, task, [tree], trained_width(loaded.config), worlds)[0]
    add_time(timings, "tensorize", stage)
    return tree, tensors


def finished(
    loaded: Loaded, text: str, tree: Node, tensors: TreeTensors, prediction: Prediction, start: float,
    verify: bool = True, trace: bool = False, worlds: int | None = None, timings: dict[str, float] | None = None,
) -> Solution:
    """The model's prediction for one input made a Solution: its world, the verifier's
    verdict, and (trace) every node's expected answer; `start`: when the input's work began."""
    domain, task = loaded.domain, loaded.task
    stage = time.perf_counter()
    grid = task.grid_positions(tensors.nodes, worlds) if isinstance(task, WorldTask) else 0
    witness = domain.witness(tree, task.name, prediction.cells, grid) if isinstance(task, WorldTask) else None
    stage = add_time(timings, "answers", stage)
    verdict = _verified(domain, text, tree, prediction.answer, task.name) if verify else Verdict(None, None, "")
    add_time(timings, "verify", stage)
    ms = (time.perf_counter() - start) * 1000
    expected_nodes = _expected_nodes(domain, tree, task.name) if trace else []
    if expected_nodes and expected_nodes[-1] is None:  # a root the labeller leaves out (past the answer grid)
        expected_nodes[-1] = verdict.expected
    return Solution(
        domain=domain.name, task=task.name, answer=prediction.answer, confidence=prediction.confidence,
        verified=verdict.correct, expected=verdict.expected, evidence=verdict.evidence,
        nodes=tensors.nodes, witness=witness, steps_mean=prediction.steps_mean, ms=ms,
        tree=tree if trace else None, node_answers=prediction.node_answers, node_steps=prediction.node_steps,
        node_cycles=prediction.node_cycles, node_expected=expected_nodes,
    )


def _verified(domain: Domain, text: str, tree: Node, answer: str, task: str) -> Verdict:
    """The verifier's verdict, within what is left of the time budget but a margin
    (VERIFY_SECONDS where there is none): a verifier that runs out says so itself
    (an unknown verdict, what it tried) and the answer is shown unverified. Past
    the budget, the error says what the model answered: unverified, so not an answer."""
    budget.stage("verifying")
    current = budget.current()
    seconds = VERIFY_SECONDS if current is None else max(1e-3, current.remaining() - VERIFY_MARGIN)
    verdict = domain.verify(text, answer, task, seconds, **_tree_argument(domain, tree))
    try:
        budget.check()
    except BudgetExceeded as err:
        raise BudgetExceeded(f"{err} (the model answered {answer!r}, unverified; --no-verify skips the check)", err.stage) from None
    return verdict


VERIFY_SECONDS = 2.0  # a verifier's budget where the caller set none
VERIFY_MARGIN = 0.25  # seconds of the caller's budget kept back from the verifier, to report what it did


def _tree_argument(domain: Domain, tree: Node) -> dict:
    """`tree=` for a verify that takes the parsed tree (the built-ins do), so the
    text is not parsed again; none for a plugin written before it could."""
    return {"tree": tree} if "tree" in inspect.signature(domain.verify).parameters else {}


def warm_up(loaded: Loaded) -> None:
    """Solve one small generated input, so that the first real answer is not charged
    with the libraries' start-up (torch's first forward, sympy's caches)."""
    difficulty = loaded.domain.difficulty()
    for index in range(100):
        text = loaded.domain.example(0, index, difficulty, loaded.task.name).input
        tree = loaded.domain.parse(text)
        try:
            loaded.check_kinds(tree)
        except HybridTRMError:
            continue  # e.g. a `*` for a model trained on + and -
        solve_text(loaded, text, tree)
        return


def _expected_nodes(domain: Domain, tree: Node, task: str) -> list[str | None]:
    """Every node's exact answer for --trace; none where the labeller cannot list the
    worlds (a first-order signature past its limits): the trace then shows the
    model's answers alone."""
    try:
        return domain.label_subtrees(tree, task)
    except BudgetExceeded:
        raise
    except HybridTRMError:
        return []
