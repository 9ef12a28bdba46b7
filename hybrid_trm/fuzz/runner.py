"""The fuzzer's runner: each input solved as `hybrid-trm solve` solves it, here or
in forked workers, and a report of how each ended. See the package docstring."""

from __future__ import annotations

import multiprocessing
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .. import budget
from ..domains import registry
from ..errors import HybridTRMError
from .inputs import FAMILIES, FuzzInput, Sizes, fuzz_input

OUTCOMES = ("answered", "project error", "other exception", "over budget")
# An input is over budget past its timeout plus this: the budget is checked between
# steps (every 4,096 tokens of a parse, every model level), so a step under way when
# the deadline passes still finishes; a second covers the largest such step.
SLACK_S = 1.0
# This long past timeout + SLACK_S the runner interrupts an input (an alarm signal):
# one that ignores its budget is then reported over budget instead of stalling the run.
HARD_STOP_S = 5.0
CLIP = 160  # characters of an input's repr kept in a report
SLOWEST = 10  # slowest inputs a report lists


@dataclass
class Case:
    """One input's outcome, with what reproduces it: fuzz_input(seed, index)."""

    family: str
    shape: str
    seed: int
    index: int
    domain: str | None
    task: str | None
    outcome: str
    seconds: float
    error: str  # "Type: message" of the exception ('' when answered)
    text: str  # the input's repr, clipped


class _HardStop(BaseException):
    """The runner's alarm, in an input that outran its budget by HARD_STOP_S. A
    BaseException, so that no `except Exception` in the code under test swallows it."""


@contextmanager
def _hard_stop(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (SIGALRM: the main thread on POSIX only;
    elsewhere the block runs unguarded). Python code stops at once; a long C call
    (a regex, a torch op) stops when it returns."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum, frame):
        raise _HardStop

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def solve_case(item: FuzzInput, timeout: float, slack: float = SLACK_S) -> Case:
    """Solve one input as `hybrid-trm solve` would, and say how it ended."""
    from .. import solver

    outcome, error = "answered", ""
    start = time.perf_counter()
    try:
        with _hard_stop(timeout + slack + HARD_STOP_S):
            solver.solve(item.text, item.domain, item.task, timeout=timeout)
    except HybridTRMError as err:
        outcome, error = "project error", _described(err)
    except _HardStop:
        outcome, error = "over budget", f"stopped by the fuzzer after {timeout + slack + HARD_STOP_S:g} s: solve ignored its budget"
    except Exception as err:  # the one place for a broad catch: any other exception is a finding to record, and the next input must still run
        outcome, error = "other exception", _described(err)
    seconds = time.perf_counter() - start
    if seconds > timeout + slack and outcome in ("answered", "project error"):
        error = f"{outcome} after {seconds:.2f} s" + (f": {error}" if error else "")
        outcome = "over budget"
    return Case(item.family, item.shape, item.seed, item.index, item.domain, item.task, outcome, seconds, error, _clipped(item.text))


def _described(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}"
    return text if len(text) <= 500 else f"{text[:500]}… ({len(text):,} characters)"


def _clipped(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= CLIP else f"{shown[:CLIP]}… ({len(text):,} characters)"


@dataclass(frozen=True)
class _Job:
    """What every worker needs to draw and solve its inputs (sent once, at its start)."""

    seed: int
    sizes: Sizes
    canary: str
    timeout: float
    slack: float


_JOB: _Job | None = None  # this process's job: set in the runner, or in a worker at its start


def _start(job: _Job, forked: bool) -> None:
    """Ready a process to solve the job's inputs."""
    global _JOB
    _JOB = job
    if forked:
        import torch

        torch.set_num_threads(1)  # the workers share the cores; one thread each
    _warm_up()


def _warm_up() -> None:
    """Load and warm each shipped model before any input is timed: solve does not
    charge a model's first load to the budget, but the fuzzer's clock would."""
    from .. import checkpoints, pretrained

    for name in registry.names():
        domain = registry.get(name)
        for task in domain.tasks:
            if checkpoints.exists(pretrained.path(name, task)):
                text = domain.example(0, 0, domain.difficulty(), task).input
                solve_case(FuzzInput(0, -1, "warm-up", "warm-up", text, name, task), timeout=60.0)  # a crash here recurs, recorded, in the inputs


def _solve_range(bounds: tuple[int, int]) -> list[Case]:
    job = _JOB
    return [
        solve_case(fuzz_input(job.seed, i, job.sizes, job.canary), job.timeout, job.slack) for i in range(*bounds)
    ]


CHUNK = 20  # inputs a worker solves per task: small, so the progress bar moves


def _solved_chunks(job: _Job, n: int, jobs: int) -> Iterator[list[Case]]:
    """The cases of inputs 0..n-1, a chunk at a time, in any order: here, or in
    `jobs` forked workers (each loads the models once; fork is Linux's default,
    so elsewhere they run here)."""
    bounds = [(i, min(i + CHUNK, n)) for i in range(0, n, CHUNK)]
    if jobs <= 1 or sys.platform != "linux":
        _start(job, forked=False)
        for b in bounds:
            yield _solve_range(b)
        return
    context = multiprocessing.get_context("fork")
    # A worker that dies (a crash in C code, killed for memory) breaks the pool: the
    # run then ends with an error that names the chunk, to rerun with --jobs 1.
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start, initargs=(job, True)) as pool:
        pending = {pool.submit(_solve_range, b): b for b in bounds}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                b = pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool as err:
                    raise RuntimeError(
                        f"a fuzz worker died solving inputs {b[0]}..{b[1] - 1} of seed {job.seed} ({err!r}); rerun them with jobs=1"
                    ) from err


@dataclass
class FuzzReport:
    n: int
    seed: int
    timeout: float
    slack: float
    jobs: int
    seconds: float  # the whole run, wall time
    counts: dict[str, dict[str, int]]  # family -> outcome -> inputs
    slowest_s: dict[str, float]  # family -> its slowest input's seconds
    slowest: list[Case]  # the SLOWEST slowest inputs, any family
    failures: list[Case]  # every other exception and over-budget input, by index
    payloads_executed: list[str]  # what the payloads created in the canary's folder: must be nothing
    project_errors: dict[str, int] = field(default_factory=dict)  # by exception type: how inputs were refused

    @classmethod
    def of(cls, cases: list[Case], job: _Job, n: int, jobs: int, seconds: float, executed: list[str]) -> FuzzReport:
        cases = sorted(cases, key=lambda c: c.index)
        counts = {f: dict.fromkeys(OUTCOMES, 0) for f in FAMILIES}
        slowest_s = dict.fromkeys(FAMILIES, 0.0)
        refused: dict[str, int] = {}
        for c in cases:
            counts[c.family][c.outcome] += 1
            slowest_s[c.family] = max(slowest_s[c.family], c.seconds)
            if c.outcome == "project error":
                kind = c.error.partition(":")[0]
                refused[kind] = refused.get(kind, 0) + 1
        return cls(
            n=n, seed=job.seed, timeout=job.timeout, slack=job.slack, jobs=jobs, seconds=seconds,
            counts=counts, slowest_s=slowest_s, slowest=sorted(cases, key=lambda c: -c.seconds)[:SLOWEST],
            failures=[c for c in cases if c.outcome in ("other exception", "over budget")],
            payloads_executed=executed, project_errors=dict(sorted(refused.items(), key=lambda kv: -kv[1])),
        )

    def total(self, outcome: str) -> int:
        return sum(by[outcome] for by in self.counts.values())

    @property
    def failed(self) -> bool:
        """Any other exception, over-budget input or executed payload."""
        return bool(self.failures or self.payloads_executed)

    def summary(self) -> str:
        return (
            f"{self.n} inputs: {self.total('other exception')} other exceptions, "
            f"{self.total('over budget')} over budget, {len(self.payloads_executed)} payloads executed"
        )

    def to_json(self) -> dict:
        out = asdict(self)
        out["slowest_s"] = {f: round(s, 3) for f, s in self.slowest_s.items()}
        for case in (*out["slowest"], *out["failures"]):
            case["seconds"] = round(case["seconds"], 3)
        return out


def run(
    n: int, seed: int, timeout: float = budget.DEFAULT_SECONDS, jobs: int = 1,
    progress: Callable[[int], None] | None = None, sizes: Sizes = Sizes(), slack: float = SLACK_S,
) -> FuzzReport:
    """Solve inputs 0..n-1 of the seeded stream, each within `timeout` seconds, in
    this process or (jobs > 1) in forked workers; `progress(k)` after every k
    inputs. The payloads' canary lies in a temporary folder; whatever appears there
    is reported as a payload that ran."""
    start = time.perf_counter()
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="hybrid-trm-fuzz-") as folder:
        job = _Job(seed, sizes, str(Path(folder) / "CANARY"), timeout, slack)
        for chunk in _solved_chunks(job, n, jobs):
            cases.extend(chunk)
            if progress is not None:
                progress(len(chunk))
        executed = sorted(str(p) for p in Path(folder).iterdir())
    return FuzzReport.of(cases, job, n, jobs, time.perf_counter() - start, executed)
