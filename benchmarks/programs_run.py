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
them; the sums inside products and divisions are not counted). With
`--hybrid CHECKPOINT ... --programs FILE ...`: an executor whose `+`, `-` and
comparisons ask the `arith/exact` checkpoint one whole sum each (a comparison
as `a - b`), while products and quotients keep the schoolbook's digit facts,
asked of the shipped `programs/output` model: `output` and `trips` right on each
file, and its latency on the 15 programs (numpy runtime; the digit facts' answers
kept, as after `hybrid_trm.load`; the whole sums kept from one program to the
next, or cleared before each).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import hybrid_trm
from hybrid_trm.domains.programs import schoolbook
from hybrid_trm.domains.programs.execute import Executor, execute_many, run_of
from hybrid_trm.domains.programs.labels import answer
from hybrid_trm.domains.programs.run import Machine, Stop
from hybrid_trm.domains.programs.schoolbook import Fact
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
    for tree, run in zip(trees, execute_many(trees, ask)):
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
    answers = ask(list(facts))
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


def _sum_text(a: int, op: str, b: int) -> str:
    return f"{a} {op} {b}" if b >= 0 else f"{a} {op} -{-b}"


def whole_sums(checkpoints: list[str], files: list[str]) -> None:
    domain = hybrid_trm.domain("programs")
    for path in files:
        runs = [_sums_of(domain.parse(json.loads(line)["input"])) for line in open(path)]
        distinct = sorted({s for r in runs for s in r})
        texts = [_sum_text(*s) for s in distinct]
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


WHOLE = "whole: "  # marks a whole sum among the facts a hybrid run asks


def _whole_sums(k: str, a: int, b: int | None):
    """An operator worked out with `+`, `-` and comparisons asked as one whole sum
    each, everything else by the schoolbook (schoolbook.operate)."""
    if k in ("add", "sub"):
        return (yield Fact(WHOLE + _sum_text(a, "+" if k == "add" else "-", b)))
    if k in schoolbook._COMPARED:  # the comparison read off the sign of a - b, as the schoolbook reads it
        return int(schoolbook._COMPARED[k]((yield Fact(WHOLE + _sum_text(a, "-", b)))))
    return (yield schoolbook.operate(k, a, b))


class _Hybrid(Executor):
    arithmetic = staticmethod(_whole_sums)


def _hybrid_answerer(sums, facts):
    """Whole sums to `sums`, digit facts to `facts`, each a closed_model."""

    def answer(texts: list[str]) -> list[tuple[str, float]]:
        whole = [t[len(WHOLE):] for t in texts if t.startswith(WHOLE)]
        digit = [t for t in texts if not t.startswith(WHOLE)]
        got = {WHOLE + w: a for w, a in zip(whole, sums(whole) if whole else [])}
        got.update(zip(digit, facts(digit) if digit else []))
        return [got[t] for t in texts]

    return answer


def hybrid(checkpoints: list[str], files: list[str]) -> None:
    domain = hybrid_trm.domain("programs")
    facts = hybrid_trm.load("programs/output", runtime="numpy").loaded
    ask_facts = closed_model(facts.domain, facts.own_task, trained_width(facts.config), facts.predict, facts.answered)
    texts = programs()
    for checkpoint in checkpoints:
        loaded = hybrid_trm.load(checkpoint, runtime="numpy").loaded

        def sums(kept: dict):
            return closed_model(loaded.domain, loaded.own_task, trained_width(loaded.config), loaded.predict, kept)

        for path in files:
            trees = [domain.parse(json.loads(line)["input"]) for line in open(path)]
            runs = execute_many(trees, _hybrid_answerer(sums({}), ask_facts), _Hybrid)
            right = {
                task: sum(run_of(t, run, task).answer == answer(t, task) for t, run in zip(trees, runs))
                for task in ("output", "trips")
            }
            print(
                f"{path} with {checkpoint}: output {right['output']} of {len(trees)} "
                f"({100 * right['output'] / len(trees):.1f}%), trips {right['trips']} ({100 * right['trips'] / len(trees):.1f}%)"
            )
        for keep in (True, False):
            kept: dict = {}
            times, right = [], 0
            for text in texts:
                tree = domain.parse(text)
                start = time.perf_counter()
                run = execute_many([tree], _hybrid_answerer(sums(kept if keep else {}), ask_facts), _Hybrid)[0]
                times.append(1000 * (time.perf_counter() - start))
                right += run.answer == answer(tree, "output")
            print(
                f"{checkpoint}: the {len(texts)} latency programs one after another, whole sums "
                f"{'kept' if keep else 'cleared before each'}: median {statistics.median(times):.1f} ms "
                f"(slowest {max(times):.1f}), output right on {right}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", nargs="*", default=[], help="eval files (JSONL) of programs")
    parser.add_argument("--known", nargs="*", default=[], help="programs/output checkpoints: count the digit facts each has right")
    parser.add_argument("--whole-sums", nargs="*", default=[], help="arith/exact checkpoints: score the sums runs of --programs work out")
    parser.add_argument("--hybrid", nargs="*", default=[], help="arith/exact checkpoints: run --programs asking them whole sums")
    parser.add_argument("--programs", nargs="*", default=[], help="JSONL files of programs, for --whole-sums and --hybrid")
    args = parser.parse_args()
    if args.hybrid:
        hybrid(args.hybrid, args.programs)
        return
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
