"""The torch-free runtime (hybrid_trm/runtime) against the torch model, side by
side in one run, per model: answer agreement and the largest logit difference on
the same inputs, `solve` latency after loading on a ~100-node input, batch `eval`
end to end (parse included) on the same examples, and the cold start of a fresh
`hybrid-trm solve` process (wall time and peak memory).

`agreement` is also how `hybrid-trm export` checks an export before writing it.
Every figure is from this run; nothing is compared with numbers measured elsewhere.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import benchmarks
from ..domains.base import Example, WorldTask
from ..errors import HybridTRMError
from ..evaluate import evaluate_examples
from ..execution import executes
from ..grammar import postorder
from ..inference import grid_batch_size, inference_tensors
from ..loading import Loaded, trained_width
from ..trees import TreeTensors, batch, batch_arrays

# The largest |torch - numpy| logit accepted, as a share of the largest |logit|
# (at least 1): both are float32, and on arith/exact's 15-unit logits torch itself
# is 9e-5 from a float64 run of the same model (the runtime 3e-5).
TOLERANCE = 1e-4

# The shipped models' inputs for agreement: their benchmark sets (sampled evenly)
# and, where there is none, the generator at the model's eval difficulty.
BENCHMARK_SETS = {
    ("listops", "value"): ["listops"],
    ("logic", "entails"): [f"evans:{s}" for s in ("validate", "test_easy", "test_hard", "test_big", "test_massive", "test_exam")],
    ("logic", "relation"): [f"bowman:{n}" for n in range(7, 13)],
    ("logic", "verdict"): [f"pelletier:{f}" for f in ("propositional", "monadic", "relational", "equality")],
}


@dataclass
class Agreement:
    model: str
    inputs: int  # inputs both runtimes answered
    nodes: int
    answers_agree: int  # inputs whose answer is the same
    nodes_agree: int  # nodes whose answer, steps and cycles are all the same
    max_logit_difference: float  # over every node and grid position
    max_logit: float  # the largest |logit| seen: the scale the tolerance is relative to
    skipped: int = 0  # inputs neither runtime answers (a node kind the model never saw, a size limit)

    @property
    def agrees(self) -> bool:
        same = self.answers_agree == self.inputs and self.nodes_agree == self.nodes
        return same and self.max_logit_difference <= TOLERANCE * max(1.0, self.max_logit)


def agreement(torch_loaded: Loaded, runtime_loaded: Loaded, texts: list[str], worlds: int | None = None) -> Agreement:
    """Both models on the same inputs, batched as inference batches them (a batch
    per grid width): every node's logits, answer, steps and cycles compared."""
    import torch

    domain, task = runtime_loaded.domain, runtime_loaded.task
    tensors, skipped = _tensors(runtime_loaded, texts, worlds)
    out = Agreement(f"{domain.name}/{task.name}", len(tensors), sum(t.nodes for t in tensors), 0, 0, 0.0, 0.0, skipped)
    for chunk in _chunks(task, tensors, worlds):
        with torch.inference_mode():
            theirs = torch_loaded.model(batch(chunk), with_loss=False)
        arrays = batch_arrays(chunk)
        ours = runtime_loaded.model.forward(arrays)
        logits = theirs.final.numpy()
        out.max_logit_difference = max(out.max_logit_difference, float(np.abs(logits - ours.final).max()))
        out.max_logit = max(out.max_logit, float(np.abs(logits).max()))
        same_grid = (logits.argmax(-1) == ours.final.argmax(-1)).all(-1)
        same = same_grid & (theirs.steps.numpy() == ours.steps) & (theirs.cycles.numpy() == ours.cycles)
        out.nodes_agree += int(same.sum())
        out.answers_agree += int(same_grid[arrays.roots].sum())
    return out


def _tensors(loaded: Loaded, texts: list[str], worlds: int | None) -> tuple[list[TreeTensors], int]:
    """The inputs as the model reads them; those it refuses are counted, not compared."""
    out, skipped = [], 0
    for text in texts:
        try:
            tree = loaded.domain.parse(text)
            loaded.check_kinds(tree)
            out.extend(inference_tensors(loaded.domain, loaded.task, [tree], trained_width(loaded.config), worlds))
        except HybridTRMError:
            skipped += 1
    return out, skipped


def _chunks(task, tensors: list[TreeTensors], worlds: int | None) -> list[list[TreeTensors]]:
    """Batches of one grid width, of inference's size (fewer trees on a wide grid of worlds)."""
    size = grid_batch_size(task, 256, worlds) if isinstance(task, WorldTask) else 256
    out = []
    for width in sorted({t.literal.shape[1] for t in tensors}):
        same = [t for t in tensors if t.literal.shape[1] == width]
        out.extend(same[i:i + size] for i in range(0, len(same), size))
    return out


def inputs_for(loaded: Loaded, n: int, seed: int = 0) -> list[str]:
    """n inputs for a model (examples_for's)."""
    return [e.input for e in examples_for(loaded, n, seed)]


def examples_for(loaded: Loaded, n: int, seed: int = 0) -> list[Example]:
    """n examples for a model: its benchmark sets' lines, sampled evenly, or (none
    shipped) generated at the difficulty it was evaluated at in training."""
    domain, task = loaded.domain, loaded.task
    sets = BENCHMARK_SETS.get((domain.name, task.name))
    if n == 0:
        return []
    if sets:
        examples = [e for name in sets for e in benchmarks.load(name)[2]]
        step = max(1, len(examples) // n)
        return examples[::step][:n]
    knobs = loaded.config.get("training", {}).get("eval_difficulty") or {}
    try:
        difficulty = domain.difficulty(**knobs)
    except HybridTRMError:  # knobs of an older version of the domain
        difficulty = domain.difficulty()
    return [domain.example(seed, i, difficulty, task.name) for i in range(n)]


@dataclass
class Latency:
    model: str
    nodes: int
    torch_ms: float  # median `solve` (parse, tensorize, model, answers; not the verifier)
    runtime_ms: float
    torch_model_ms: float  # of which the model's forward
    runtime_model_ms: float


def latency(torch_loaded: Loaded, runtime_loaded: Loaded, text: str, repeats: int) -> Latency:
    """Median `solve` time after loading (no verifier: the same code for both) of one input."""
    from ..solver import solve_text

    figures = []
    for loaded in (torch_loaded, runtime_loaded):
        solve_text(loaded, text, verify=False)  # a first answer, not timed
        totals, models = [], []
        for _ in range(repeats):
            timings: dict[str, float] = {}
            start = time.perf_counter()
            solution = solve_text(loaded, text, verify=False, timings=timings)
            totals.append(time.perf_counter() - start)
            # A run whose questions the model answered before (Loaded.answered: the
            # programs executor's digit facts) asks it nothing: no model time.
            models.append(timings.get("model", 0.0))
        figures.append((1000 * statistics.median(totals), 1000 * statistics.median(models)))
    name = f"{runtime_loaded.domain.name}/{runtime_loaded.task.name}"
    return Latency(name, solution.nodes, figures[0][0], figures[1][0], figures[0][1], figures[1][1])


@dataclass
class EvalSpeed:
    model: str
    inputs: int
    nodes: int  # of the inputs' parse trees
    jobs: int  # worker processes (1: the bench's own process)
    torch_s: float  # wall time of evaluate_examples on every input, parse included: the median of the runs
    runtime_s: float
    torch_accuracy: float
    runtime_accuracy: float
    same_report: bool  # the two reports equal: accuracy, by depth and arity, steps, errors
    runtime_stages: dict[str, float]  # seconds per stage (parse, tensorize, model, answers) of the runtime's median run
    torch_stages: dict[str, float]
    # CPU seconds (user + system, this process and its workers) of those median runs:
    # on a machine other processes keep busy, what the work itself took.
    runtime_cpu_s: float = 0.0
    torch_cpu_s: float = 0.0

    def to_json(self) -> dict:
        return {
            **asdict(self), "torch_nodes_per_s": self.nodes / self.torch_s, "runtime_nodes_per_s": self.nodes / self.runtime_s,
        }


def eval_speed(torch_loaded: Loaded, runtime_loaded: Loaded, examples: list[Example], repeats: int, jobs: int = 1) -> EvalSpeed:
    """`evaluate_examples` (what `hybrid-trm eval` runs: texts in, parsed, tensorized,
    batched, answered and scored) with each model on the same examples, the two
    alternately, `repeats` runs each after a warm-up: the median run of each."""
    domain, task, width = runtime_loaded.domain, runtime_loaded.task, trained_width(runtime_loaded.config)
    nodes = sum(len(postorder(domain.parse(e.input))) for e in examples)

    def scored(loaded: Loaded, items: list[Example], timings: dict | None = None):
        return evaluate_examples(
            loaded.model, domain, task, items, width=width, timings=timings, jobs=jobs, execute=executes(loaded),
        )

    runs: dict[str, list] = {"torch": [], "numpy": []}
    for _ in range(repeats):
        for name, loaded in (("torch", torch_loaded), ("numpy", runtime_loaded)):
            if not runs[name]:
                scored(loaded, examples[:32])  # warm-up
            timings: dict[str, float] = {}
            start, cpu = time.perf_counter(), _cpu_seconds()
            report = scored(loaded, examples, timings)
            runs[name].append((time.perf_counter() - start, timings, report, _cpu_seconds() - cpu))
    (torch_s, torch_stages, theirs, torch_cpu), (runtime_s, runtime_stages, ours, runtime_cpu) = (
        sorted(runs[name], key=lambda run: run[0])[len(runs[name]) // 2] for name in ("torch", "numpy")
    )
    return EvalSpeed(
        f"{domain.name}/{task.name}", len(examples), nodes, jobs, torch_s, runtime_s, theirs.accuracy, ours.accuracy,
        theirs == ours, runtime_stages, torch_stages, runtime_cpu, torch_cpu,
    )


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended (eval's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class ColdStart:
    runtime: str
    seconds: float  # median wall time: process start to exit, the answer printed
    cpu_seconds: float  # median CPU time (user + system) of those processes: what other processes' load adds least to
    max_rss_mb: float  # the largest peak resident memory of those runs
    answer: str


def cold_start(checkpoint: str, text: str, runtime: str, repeats: int, bytecode: Path) -> ColdStart:
    """`hybrid-trm solve TEXT --checkpoint C --runtime R` in fresh processes, one at a
    time: the median wall and CPU time (process start to exit, the answer printed)
    and the peak memory. Each reads the modules' bytecode from the folder
    `bytecode` (PYTHONPYCACHEPREFIX), which a first, untimed run writes, as an
    installed package has its own: else, where PYTHONDONTWRITEBYTECODE is set (as
    on this project's machines), every run would compile the project's sources
    again, 0.1-0.15 s of CPU. A small launcher process starts them: a child forked
    from this one, torch and all, would count this process's memory as its own peak."""
    command = [sys.executable, "-m", "hybrid_trm", "solve", text, "--checkpoint", checkpoint, "--runtime", runtime]
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, json.dumps(command), str(repeats + 1)], capture_output=True, text=True,
        env={**environment, "PYTHONPYCACHEPREFIX": str(bytecode)},
    )
    if launched.returncode != 0:
        raise HybridTRMError(f"cold start of `hybrid-trm {' '.join(command[3:])}` failed: {launched.stderr.strip()[-300:]}")
    runs = json.loads(launched.stdout)[1:]  # the first wrote the bytecode
    return ColdStart(
        runtime, statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), max(r[2] for r in runs) / 1024,
        runs[-1][3],
    )


# Runs a command N times; prints [[seconds, CPU seconds, peak KB, first line of output], ...].
# Exit code 3 is an answer the verifier rejected: still an answer.
_LAUNCHER = """
import json, os, subprocess, sys, tempfile, time
command, runs = json.loads(sys.argv[1]), []
for _ in range(int(sys.argv[2])):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode not in (0, 3):
            sys.exit(err.read().decode(errors="replace"))
        runs.append([seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, out.read().decode(errors="replace").split(chr(10))[0]])
print(json.dumps(runs))
"""


# Generator knobs of each model's ~100-node latency input (bench speed's, for arith
# and listops; logic's depth 8 gives 90-100 nodes, its default about 25).
LATENCY_KNOBS = {
    ("listops", "value"): {"depth": 6},
    ("arith", "mod10"): {"operands": 50, "operands_min": 50, "digits": 3},
    ("arith", "exact"): {"operands": 50, "operands_min": 50, "digits": 3, "ops": "+-"},
    ("logic", "verdict"): {"depth": 8},
    ("logic", "entails"): {"depth": 8},
    ("logic", "relation"): {"depth": 8},
}


@dataclass
class RuntimeReport:
    agreements: list[Agreement]
    latencies: list[Latency]
    evals: list[EvalSpeed]
    cold_starts: dict[str, list[ColdStart]]  # per model: the runtime's, then torch's

    def to_json(self) -> dict:
        return {
            "tolerance": TOLERANCE,
            "agreement": [{**asdict(a), "agrees": a.agrees} for a in self.agreements],
            "latency": [asdict(x) for x in self.latencies],
            "eval": [e.to_json() for e in self.evals],
            "cold_start": {model: [asdict(s) for s in runs] for model, runs in self.cold_starts.items()},
            "load": list(os.getloadavg()),
        }


def run(
    models: list[tuple[str, str]], n: int, repeats: int, cold_repeats: int, seed: int = 0, eval_n: int = 0,
    eval_repeats: int = 3, eval_jobs: int = 1,
) -> RuntimeReport:
    """Per shipped model: export it (to a temporary folder), then agreement on n of
    its inputs, latency (median of `repeats`), batch eval on `eval_n` of its
    examples (median of `eval_repeats` runs per runtime, in `eval_jobs` processes;
    none where eval_n is 0) and cold starts (`cold_repeats` fresh processes per
    runtime, none where 0)."""
    from .. import pretrained
    from ..export import export
    from ..solver import cached_load
    from .speed import input_near

    report = RuntimeReport([], [], [], {})
    with tempfile.TemporaryDirectory() as folder:
        for domain, task in models:
            checkpoint = str(pretrained.require(domain, task))
            exported = str(export(checkpoint, Path(folder) / f"{domain}-{task}", check_inputs=0).folder)
            theirs, ours = cached_load(checkpoint, domain, task, None, "torch"), cached_load(exported, domain, task, None, "numpy")
            report.agreements.append(agreement(theirs, ours, inputs_for(ours, n, seed)))
            text = input_near(ours, 100, seed, LATENCY_KNOBS.get((domain, task), {}), tries=300)
            report.latencies.append(latency(theirs, ours, text, repeats))
            if eval_n:
                report.evals.append(eval_speed(theirs, ours, examples_for(ours, eval_n, seed), eval_repeats, eval_jobs))
            if cold_repeats:
                bytecode = Path(folder) / "bytecode"
                report.cold_starts[f"{domain}/{task}"] = [
                    cold_start(exported, text, "numpy", cold_repeats, bytecode),
                    cold_start(checkpoint, text, "torch", cold_repeats, bytecode),
                ]
    return report
