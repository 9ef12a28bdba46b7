"""The programs executor's figures that `eval` does not print (docs/programs.md):
`solve` latency on 50-statement programs after loading, and how the facts a loop
asks track its trips. Not part of the package.

    OMP_NUM_THREADS=1 python benchmarks/programs_run.py [--facts prog-in.jsonl ...]
    OMP_NUM_THREADS=1 python benchmarks/programs_run.py --known CHECKPOINT ...

Latency: the first 15 generated programs (seed 78, `statements=30
statements_min=25`) of 45-55 statements, on the torch and numpy runtimes: solved
one after another after `hybrid_trm.load` (the model's answers kept between them,
Loaded.answered), and each with no answers kept (cleared first). With `--facts`,
per loop of each file's programs: the facts its condition (a `while`: every node
of it) or its counting (a `for`) asked, and its decisions, against its trips
(Pearson r). With `--known` alone: how many of the 510 digit facts each
`programs/output` checkpoint answers as the labeller does, and the wrong ones
(bench accuracy's entrants: runs/bench-accuracy/programs/output/recursive, ...).
With `--whole-sums CHECKPOINT ... --programs FILE ...`: how an `arith/exact`
checkpoint does on the whole-number sums and differences that runs of the files'
programs work out (each `+`, `-` and comparison, a comparison as `a - b`): the
distinct ones it gets right, and the programs whose every one it gets right (an
executor asking the cell for whole numbers, not digit facts, would need all of
them; the sums inside products and divisions are not counted).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import hybrid_trm
from hybrid_trm.domains.programs import schoolbook
from hybrid_trm.domains.programs.execute import execute_many
from hybrid_trm.domains.programs.labels import answer
from hybrid_trm.domains.programs.run import Machine, Stop
from hybrid_trm.domains.programs.syntax import STATEMENTS, functions
from hybrid_trm.domains.programs.trampoline import drive
from hybrid_trm.execution import closed_model
from hybrid_trm.grammar import kind, postorder
from hybrid_trm.loading import trained_width


def programs(n: int = 15) -> list[str]:
    domain = hybrid_trm.domain("programs")
    difficulty = domain.difficulty(statements=30, statements_min=25, depth=3, loop_bound=9, call_depth=2)
    texts, index = [], 0
    while len(texts) < n:
        text = domain.example(78, index, difficulty, "output").input
        index += 1
        if 45 <= sum(kind(x) in STATEMENTS for x in postorder(domain.parse(text))) <= 55:
            texts.append(text)
    return texts


def latency(runtime: str, texts: list[str]) -> None:
    r = hybrid_trm.load("programs/output", runtime=runtime)
    kept, cleared = [], []
    for text in texts:  # one after another, the answers kept
        start = time.perf_counter()
        assert r.solve(text).verified
        kept.append(1000 * (time.perf_counter() - start))
    for text in texts:
        r.loaded.answered.clear()
        start = time.perf_counter()
        r.solve(text)
        cleared.append(1000 * (time.perf_counter() - start))
    print(
        f"{runtime}: in a row after loading median {statistics.median(kept):.1f} ms (first {kept[0]:.1f}, "
        f"slowest {max(kept):.1f}); no answers kept median {statistics.median(cleared):.1f} ms"
    )


def facts_per_loop(path: str) -> None:
    r = hybrid_trm.load("programs/output")
    loaded = r.loaded
    ask = closed_model(loaded.domain, loaded.own_task, trained_width(loaded.config), loaded.predict, loaded.answered)
    trees = [loaded.domain.parse(json.loads(line)["input"]) for line in open(path)]
    facts, decisions, trips = [], [], []
    for tree, run in zip(trees, execute_many(trees, lambda texts: ask([f"return {t};" for t in texts]))):
        for node in postorder(tree):
            if kind(node) in ("while", "for"):
                asking = postorder(node.children[0]) if kind(node) == "while" else [node]
                facts.append(sum(run.asks.get(id(n), 0) for n in asking))
                decisions.append(run.decisions.get(id(node), 0))
                trips.append(run.counts.get(id(node), 0))
    print(
        f"{path}: {len(trips)} loops; r(facts, trips) {np.corrcoef(facts, trips)[0, 1]:.3f}, "
        f"r(decisions, trips) {np.corrcoef(decisions, trips)[0, 1]:.3f}"
    )


def known_facts(path: str) -> None:
    loaded = hybrid_trm.load(path).loaded
    ask = closed_model(loaded.domain, loaded.own_task, trained_width(loaded.config), loaded.predict)
    facts = schoolbook.facts()
    answers = ask([f"return {f};" for f in facts])
    wrong = [(f, a) for f, (a, _) in zip(facts, answers) if a != answer(loaded.domain.parse(f"return {f};"), "output")]
    print(f"{path}: {len(facts) - len(wrong)} of {len(facts)} facts right; wrong: {', '.join(f'{f} = {a}' for f, a in wrong) or 'none'}")


class _Recording(Machine):
    """The labeller's run, keeping each sum, difference and comparison it works out."""

    def __init__(self, tree):
        super().__init__(functions(tree))
        self.sums: list[tuple[int, str, int]] = []

    def operate(self, node, k, a, b):
        if k in ("add", "sub", "lt", "le", "gt", "ge", "eq", "ne"):
            self.sums.append((a, "+" if k == "add" else "-", b))
        return super().operate(node, k, a, b)


def _sums_of(tree) -> list[tuple[int, str, int]]:
    machine = _Recording(tree)
    try:
        drive(machine.program(tree))
    except Stop:
        pass
    return machine.sums


def whole_sums(checkpoints: list[str], files: list[str]) -> None:
    domain = hybrid_trm.domain("programs")
    for path in files:
        runs = [_sums_of(domain.parse(json.loads(line)["input"])) for line in open(path)]
        distinct = sorted({s for r in runs for s in r})
        texts = [f"{a} {op} {b}" if b >= 0 else f"{a} {op} -{-b}" for a, op, b in distinct]
        for checkpoint in checkpoints:
            r = hybrid_trm.load(checkpoint)
            got = [s.answer for i in range(0, len(texts), 512) for s in r.solve_many(texts[i : i + 512], verify=False)]
            right = {s for s, g in zip(distinct, got) if g == str(s[0] + s[2] if s[1] == "+" else s[0] - s[2])}
            every = sum(all(s in right for s in run) for run in runs)
            wrong = [f"{a} {op} {b}" for a, op, b in distinct if (a, op, b) not in right]
            print(
                f"{path} with {checkpoint}: {len(right):,} of {len(distinct):,} distinct sums right; programs with "
                f"every one right {every} of {len(runs)} ({100 * every / len(runs):.1f}%); wrong: {', '.join(wrong[:6]) or 'none'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", nargs="*", default=[], help="eval files (JSONL) of programs")
    parser.add_argument("--known", nargs="*", default=[], help="programs/output checkpoints: count the digit facts each has right")
    parser.add_argument("--whole-sums", nargs="*", default=[], help="arith/exact checkpoints: score the sums runs of --programs work out")
    parser.add_argument("--programs", nargs="*", default=[], help="JSONL files of programs, for --whole-sums")
    args = parser.parse_args()
    if args.whole_sums:
        whole_sums(args.whole_sums, args.programs)
        return
    if args.known:
        for path in args.known:
            known_facts(path)
        return
    texts = programs()
    for runtime in ("torch", "numpy"):
        latency(runtime, texts)
    for path in args.facts:
        facts_per_loop(path)


if __name__ == "__main__":
    main()
