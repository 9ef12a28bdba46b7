"""Speed, measured side by side in one run: the level-batched forward against a
per-node recursion of the same model on the same trees, the cell's FLOP/s against
a large matmul, batch eval end to end and by stage (parse, tensorize, model,
answers; in one worker process per thread, and in one process), the parser and
the verifier alone on the same inputs, `solve` latency and its stages per model
on an input of about 100 nodes, after the model is loaded (`run` measures them
all; `plot` draws them). The logic models against the verifier: bench/logic.py.

Every figure is a ratio or a time from this run; nothing is compared against
numbers measured elsewhere."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch

from ..domains.base import Example
from ..evaluate import evaluate_examples
from ..inference import inference_tensors
from ..loading import Loaded, trained_width
from ..grammar import postorder
from ..solver import solve_text
from ..trees import batch, encode_texts

@dataclass
class BatchedVsNaive:
    trees: int
    nodes: int
    level_batched_s: float
    naive_s: float
    max_abs_difference: float  # between the two forwards' logits: the same numbers
    # The level loop alone, every leaf computed (groups = the levels): what the
    # batching buys without the forward's sharing of equal leaves.
    level_loop_s: float | None = None

    def to_json(self) -> dict:
        out = {
            **asdict(self),
            "level_batched_nodes_per_s": self.nodes / self.level_batched_s,
            "naive_nodes_per_s": self.nodes / self.naive_s,
            "level_batched_vs_naive": self.naive_s / self.level_batched_s,
        }
        if self.level_loop_s is not None:
            out["level_loop_vs_naive"] = self.naive_s / self.level_loop_s
        return out


@dataclass
class SolveLatency:
    model: str  # domain/task
    nodes: int
    ms_median: float
    ms_p90: float
    stages_ms: dict[str, float] = field(default_factory=dict)  # median per stage: parse, tensorize, model, answers, verify


def _best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@torch.inference_mode()
def batched_vs_naive(loaded: Loaded, texts: list[str], repeats: int = 3) -> BatchedVsNaive:
    """The level loop against the same model run one node at a time (children first)."""
    model = loaded.model
    tree_batch = batch(encode_texts(loaded.domain, loaded.task, texts))
    one_by_one = [(i, i + 1) for i in range(tree_batch.nodes)]
    batched = model(tree_batch, with_loss=False).final
    naive = model(tree_batch, with_loss=False, groups=one_by_one).final
    return BatchedVsNaive(
        trees=len(texts), nodes=tree_batch.nodes,
        level_batched_s=_best_time(lambda: model(tree_batch, with_loss=False), repeats),
        naive_s=_best_time(lambda: model(tree_batch, with_loss=False, groups=one_by_one), 1),
        max_abs_difference=float((batched - naive).abs().max()),
        level_loop_s=_best_time(lambda: model(tree_batch, with_loss=False, groups=tree_batch.levels), repeats),
    )


def solve_latency(loaded: Loaded, text: str, repeats: int = 50) -> SolveLatency:
    """`solve` end to end (parse, tensorize, model, verify) on one input, warm, and
    the median time of each stage."""
    solve_text(loaded, text)
    runs = []
    for _ in range(repeats):
        timings: dict[str, float] = {}
        runs.append((solve_text(loaded, text, timings=timings).ms, timings))
    times = sorted(ms for ms, _ in runs)
    return SolveLatency(
        model=f"{loaded.domain.name}/{loaded.task.name}",
        nodes=encode_texts(loaded.domain, loaded.task, [text])[0].nodes,
        ms_median=statistics.median(times), ms_p90=times[int(0.9 * (len(times) - 1))],
        stages_ms={stage: 1000 * statistics.median(t[stage] for _, t in runs) for stage in runs[0][1]},
    )


def input_near(loaded: Loaded, nodes: int, seed: int, knobs: dict, tries: int = 300) -> str:
    """The generated input (of the model's domain and task) whose size is nearest `nodes`."""
    domain, task = loaded.domain, loaded.task
    difficulty = domain.difficulty(**knobs)
    texts = [domain.example(seed, i, difficulty, task.name).input for i in range(tries)]
    sizes = [t.nodes for t in encode_texts(domain, task, texts)]
    return min(zip(texts, sizes), key=lambda pair: abs(pair[1] - nodes))[0]


# --- where the time goes: stages, the parser and the verifier alone, the cell against the matmul peak


def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of one size x size float32 matmul (best of `repeats`), at torch's
    current thread count: the machine's ceiling for the cell's arithmetic."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / _best_time(lambda: a @ b, repeats)


@dataclass
class CellFlops:
    """The cell's arithmetic in the level-batched forward, against the matmul peak."""

    trees: int
    nodes: int
    cell_rows: int  # rows (node x grid position) the cell's network computed, over all its calls
    flops_per_row: int  # 2 x in x out of each of its linears: up and down (and the carry, on a grid of digits)
    forward_s: float  # the whole forward (best of the repeats), of which the cell is most
    peak_flops_per_s: float  # matmul_peak, measured in the same run
    # The same for the level loop with every leaf computed (groups = the levels):
    # more rows per call, so nearer the peak, but more work per node.
    level_loop_rows: int = 0
    level_loop_s: float = 0.0

    def to_json(self) -> dict:
        flops = self.cell_rows * self.flops_per_row
        out = {
            **asdict(self), "cell_flops_per_node": flops / self.nodes, "cell_flops_per_s": flops / self.forward_s,
            "cell_flops_fraction_of_peak": flops / self.forward_s / self.peak_flops_per_s,
        }
        if self.level_loop_s:
            out["level_loop_fraction_of_peak"] = self.level_loop_rows * self.flops_per_row / self.level_loop_s / self.peak_flops_per_s
        return out


@torch.inference_mode()
def cell_flops(loaded: Loaded, texts: list[str], peak_flops_per_s: float, repeats: int = 3) -> CellFlops:
    """Count the rows the cell's network computes in one level-batched forward over
    `texts` (calls are counted, not estimated), then time the forward."""
    model, cell = loaded.model, loaded.model.cell
    domain, task = loaded.domain, loaded.task
    tree_batch = batch(inference_tensors(domain, task, [domain.parse(t) for t in texts], trained_width(loaded.config)))
    counted = {"net": 0, "carry": 0}
    net, below = cell.net, cell.below

    def counting_net(u):
        counted["net"] += u.shape[:-1].numel()
        return net(u)

    def counting_below(z):
        counted["carry"] += z.shape[:-1].numel()
        return below(z)

    hidden, wide = cell.up.in_features, cell.up.out_features
    net_flops, carry_flops = 2 * (hidden * wide + wide * hidden), 2 * hidden * hidden

    def rows_of(groups) -> int:
        """Rows of the network one forward computes (a carry row counts as its share of one)."""
        counted["net"] = counted["carry"] = 0
        cell.net, cell.below = counting_net, counting_below  # instance attributes shadow the methods ...
        try:
            model(tree_batch, with_loss=False, groups=groups)
        finally:
            del cell.net, cell.below  # ... until deleted
        return counted["net"] + counted["carry"] * carry_flops // net_flops

    return CellFlops(
        trees=len(texts), nodes=tree_batch.nodes, cell_rows=rows_of(None), flops_per_row=net_flops,
        forward_s=_best_time(lambda: model(tree_batch, with_loss=False), repeats), peak_flops_per_s=peak_flops_per_s,
        level_loop_rows=rows_of(tree_batch.levels),
        level_loop_s=_best_time(lambda: model(tree_batch, with_loss=False, groups=tree_batch.levels), repeats),
    )


@dataclass
class StageTimes:
    """Seconds per stage of batch `eval` (parse, tensorize, model, answers), as
    evaluate_examples measures them on itself."""

    what: str  # "eval listops/value"
    items: int
    nodes: int
    total_s: float  # wall time of the whole call
    stages: dict[str, float]  # with workers, the sum of theirs (CPU seconds, more than the wall time)
    jobs: int = 1  # worker processes (1: the eval's own process)

    def to_json(self) -> dict:
        return {**asdict(self), "nodes_per_s": self.nodes / self.total_s, "slowest": max(self.stages, key=self.stages.get)}

    def describe(self) -> str:
        return f"{self.jobs} workers" if self.jobs > 1 else "one process"


def eval_stages(loaded: Loaded, examples: list[Example], repeats: int = 3, jobs: int = 1) -> tuple[StageTimes, float]:
    """`evaluate_examples` (what `hybrid-trm eval` runs: texts in, parse, tensorize,
    batch, model, answers scored; in `jobs` worker processes) on `examples`, timed
    end to end (workers started and stopped within) and by stage; the run of median
    total of `repeats`. Returns it and the accuracy."""
    domain, task, width = loaded.domain, loaded.task, trained_width(loaded.config)
    nodes = sum(len(postorder(domain.parse(e.input))) for e in examples)
    evaluate_examples(loaded.model, domain, task, examples[:64], width=width, strict=True)  # warm-up
    runs = []
    for _ in range(repeats):
        timings: dict[str, float] = {}
        start = time.perf_counter()
        report = evaluate_examples(loaded.model, domain, task, examples, width=width, timings=timings, jobs=jobs, strict=True)
        runs.append((time.perf_counter() - start, timings))
    total, timings = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
    return StageTimes(f"eval {domain.name}/{task.name}", len(examples), nodes, total, timings, jobs), report.accuracy


@dataclass
class PerItem:
    """One stage alone, one input at a time: the parser, or the symbolic verifier."""

    what: str
    items: int
    nodes: int
    total_s: float
    ms_median: float

    def to_json(self) -> dict:
        return {**asdict(self), "nodes_per_s": self.nodes / self.total_s, "ms_per_item": 1000 * self.total_s / self.items}


def per_item(what: str, fn: Callable[[Example], object], examples: list[Example], nodes: int) -> PerItem:
    """Time `fn` on each example in turn (after one warm-up call)."""
    fn(examples[0])
    times = []
    for example in examples:
        start = time.perf_counter()
        fn(example)
        times.append(time.perf_counter() - start)
    return PerItem(what, len(examples), nodes, sum(times), 1000 * statistics.median(times))


def parser_speed(loaded: Loaded, examples: list[Example], nodes: int) -> PerItem:
    domain = loaded.domain
    return per_item(f"parse {domain.name}", lambda e: domain.parse(e.input), examples, nodes)


def verifier_speed(loaded: Loaded, examples: list[Example], nodes: int) -> PerItem:
    """The symbolic verifier on each example's own answer (parse included: it reads text)."""
    domain, task = loaded.domain, loaded.task
    return per_item(f"verify {domain.name}/{task.name}", lambda e: domain.verify(e.input, e.answer, task.name), examples, nodes)


@dataclass
class SpeedSizes:
    """How much `bench speed` measures; QUICK is the CI smoke test's."""

    trees: int = 256  # batch of the level-batched vs per-node forward (its nodes run one at a time too)
    cell_nodes: int = 10_000  # at least this many nodes in the batch timed against the matmul peak
    eval_examples: int = 2000  # batch eval, end to end; the parser and the verifier run on the same
    solve_repeats: int = 50
    matmul_size: int = 2048
    repeats: int = 3


QUICK = SpeedSizes(trees=16, cell_nodes=10_000, eval_examples=300, solve_repeats=5, matmul_size=1024, repeats=2)


@dataclass
class SpeedReport:
    threads: int  # torch's intra-op threads for every model figure and the matmul peak
    load: tuple[float, float]  # the machine's 1-minute load average before and after
    batched: BatchedVsNaive
    cell: CellFlops
    # The same on one thread against one thread's matmul, as each eval worker runs it
    # (None: the run is on one thread already).
    cell_one_thread: CellFlops | None
    eval: StageTimes  # one worker per thread
    eval_accuracy: float  # of the eval run (a check that it answered, not a result)
    eval_one_process: StageTimes | None  # the same eval in this process, on every thread (None: one thread, the same run)
    parser: PerItem  # on the eval examples, one at a time
    verifier: PerItem  # on the eval examples, one at a time
    solve: list[SolveLatency]

    @property
    def evals(self) -> list[StageTimes]:
        """The eval in workers, then (where measured) in one process."""
        return [e for e in (self.eval, self.eval_one_process) if e is not None]

    def to_json(self) -> dict:
        """Ratios "a_vs_b" are b's time over a's: how many times faster a is."""
        cell, ev = self.cell.to_json(), self.eval.to_json()
        neural_ms = 1000 * self.eval.total_s / self.eval.items  # batched, parse included, per item
        return {
            **self.batched.to_json(),
            "threads": self.threads, "load_average": list(self.load),
            # Idle OpenMP threads spin (ACTIVE, the default) or sleep (PASSIVE): on a
            # machine whose cores are busy elsewhere, spinning threads wait on each other.
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "eval_nodes_per_s": ev["nodes_per_s"], "eval_jobs": self.eval.jobs,
            "eval_one_process_nodes_per_s": None if self.eval_one_process is None else self.eval_one_process.to_json()["nodes_per_s"],
            "cell_flops_fraction_of_peak": cell["cell_flops_fraction_of_peak"],
            "cell_flops_fraction_of_peak_one_thread": (
                None if self.cell_one_thread is None else self.cell_one_thread.to_json()["cell_flops_fraction_of_peak"]
            ),
            "neural_vs_verifier": self.verifier.to_json()["ms_per_item"] / neural_ms,
            "neural_ms_per_item": neural_ms,
            "matmul_peak_flops_per_s": self.cell.peak_flops_per_s,
            "cell": cell, "cell_one_thread": None if self.cell_one_thread is None else self.cell_one_thread.to_json(),
            "eval": {**ev, "accuracy": self.eval_accuracy},
            "eval_one_process": None if self.eval_one_process is None else self.eval_one_process.to_json(),
            "parser": self.parser.to_json(), "verifier": self.verifier.to_json(),
            "solve": [asdict(s) for s in self.solve],
        }


def run(
    loaded: Loaded, solve_inputs: list[tuple[Loaded, str]], sizes: SpeedSizes = SpeedSizes(), seed: int = 0,
) -> SpeedReport:
    """Every `bench speed` figure, in one run: the model's generated inputs (seed
    `seed`) through the level-batched and the per-node forward, the cell against a
    matmul timed here (and on one thread, as an eval worker runs it), batch eval
    by stage, the parser and the verifier alone on the same inputs, and `solve` by
    stage on each (model, input)."""
    load_before = os.getloadavg()[0]
    domain, task = loaded.domain, loaded.task
    difficulty = domain.difficulty()
    examples = [domain.example(seed, i, difficulty, task.name) for i in range(max(sizes.trees, sizes.eval_examples))]
    batched = batched_vs_naive(loaded, [e.input for e in examples[: sizes.trees]], sizes.repeats)
    peak = matmul_peak(sizes.matmul_size, sizes.repeats + 2)
    cell_texts, cell_nodes, i = [], 0, 0
    while cell_nodes < sizes.cell_nodes:  # the batch grows until it holds enough nodes
        text = examples[i].input if i < len(examples) else domain.example(seed, i, difficulty, task.name).input
        cell_texts.append(text)
        cell_nodes += len(postorder(domain.parse(text)))
        i += 1
    cell = cell_flops(loaded, cell_texts, peak, sizes.repeats)
    threads = torch.get_num_threads()
    cell_one_thread = None
    if threads > 1:
        torch.set_num_threads(1)
        try:
            cell_one_thread = cell_flops(loaded, cell_texts, matmul_peak(sizes.matmul_size, sizes.repeats + 2), sizes.repeats)
        finally:
            torch.set_num_threads(threads)
    eval_examples = examples[: sizes.eval_examples]
    stages, accuracy = eval_stages(loaded, eval_examples, sizes.repeats, jobs=threads)
    one_process = eval_stages(loaded, eval_examples, sizes.repeats)[0] if threads > 1 else None
    parser = parser_speed(loaded, eval_examples, stages.nodes)
    verifier = verifier_speed(loaded, eval_examples, stages.nodes)
    solve = [solve_latency(model, text, sizes.solve_repeats) for model, text in solve_inputs]
    return SpeedReport(
        threads, (load_before, os.getloadavg()[0]), batched, cell, cell_one_thread, stages, accuracy, one_process, parser, verifier,
        solve,
    )


def plot(report: SpeedReport, path: Path) -> None:
    """Draw where the time goes (eval and solve, by stage) and nodes/s per path, to a PNG."""
    from ..plotting import pyplot

    plt = pyplot()
    out = report.to_json()
    fig, (stages_ax, rates_ax) = plt.subplots(1, 2, figsize=(13, 4.5))
    evals = report.evals
    # (label, ms per stage, wall ms per input): with workers the stages are their sum.
    rows = [
        (f"{e.what}, {e.describe()}\n({e.items} inputs, {e.nodes:,} nodes)", {k: 1000 * v / e.items for k, v in e.stages.items()},
         1000 * e.total_s / e.items)
        for e in evals
    ]
    rows += [(f"solve {s.model}\n({s.nodes} nodes)", s.stages_ms, s.ms_median) for s in report.solve]
    names = list(dict.fromkeys(stage for _, stages, _ in rows for stage in stages))
    for row, (label, stages, wall_ms) in enumerate(rows):
        total = sum(stages.values()) or 1.0
        left = 0.0
        for j, stage in enumerate(names):
            share = stages.get(stage, 0.0) / total
            stages_ax.barh(row, share, left=left, color=f"C{j}", label=stage if row == 0 else None)
            left += share
        stages_ax.text(1.01, row, f"{wall_ms:.2f} ms/input", va="center", fontsize=8)
    stages_ax.set_yticks(range(len(rows)), [label for label, _, _ in rows], fontsize=8)
    stages_ax.invert_yaxis()
    stages_ax.set_xlim(0, 1.25)
    stages_ax.set_xlabel("share of the time per input")
    stages_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(names), fontsize=8)
    stages_ax.set_title("where the time goes")
    rates = {
        "level-batched forward": out["level_batched_nodes_per_s"], "per-node forward": out["naive_nodes_per_s"],
        **{f"eval end to end, {e.describe()}": e.nodes / e.total_s for e in evals}, "parser alone": out["parser"]["nodes_per_s"],
        "verifier": out["verifier"]["nodes_per_s"],
    }
    rates_ax.barh(list(rates), list(rates.values()), color="C0")
    rates_ax.set_xscale("log")
    rates_ax.invert_yaxis()
    for row, value in enumerate(rates.values()):
        rates_ax.text(value, row, f" {value:,.0f}", va="center", fontsize=8)
    rates_ax.set_xlabel("tree nodes per second (log)")
    one = report.cell_one_thread
    rates_ax.set_title(
        f"{report.threads} thread(s); cell at {out['cell_flops_fraction_of_peak']:.0%} of a "
        f"{out['matmul_peak_flops_per_s'] / 1e9:.0f} GFLOP/s matmul"
        + ("" if one is None else f" (one thread: {out['cell_flops_fraction_of_peak_one_thread']:.0%} of {one.peak_flops_per_s / 1e9:.0f})"),
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
