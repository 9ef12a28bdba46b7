"""Fuzzing `solve`: seeded inputs no user should be able to break it with, solved
in process the way `hybrid-trm solve` solves them, and a report of what came back.

Every input is drawn by its own `random.Random(seed * 1_000_003 + index)` (as a
domain's examples are), so any one reproduces alone: `fuzz_input(seed, index)`.
Four families, in turn by index:

  unicode    random bytes decoded as UTF-8, random code points (control characters,
             terminal escapes, bidirectional marks, NUL, combining marks, astral and
             look-alike characters), and such characters inside valid inputs
  mutation   a generated example of a random domain and task, with 1-5 token edits
  extreme    deep, wide, high-arity, long literals, long inputs, whitespace runs: the
             edges of the size limits (budget.py), and past them
  injection  Python, shell, format-string, sympy, pickle, path, JSON/YAML and SQL
             payloads, alone and inside valid inputs (as names where the grammar
             allows them); each would create the canary file if it ever ran

An injection input holds the canary's path (the runner's lies in a temporary
folder; a report shows each failing input's text). Inputs go to `solver.solve`;
the CLI's own argument handling, `eval` files and user checkpoints are not fuzzed.

Each input ends in one outcome: answered; a project error (HybridTRMError: the one
clear line the CLI prints); another exception (a bug); or over budget (a bug: it
took longer than its timeout plus SLACK_S). Whether an answer is right is not the
fuzzer's business (the verifiers and tests/test_domains.py judge that).
"""

from .inputs import FAMILIES, PAYLOADS, FuzzInput, Sizes, fuzz_input
from .runner import OUTCOMES, SLACK_S, SLOWEST, Case, FuzzReport, run, solve_case

__all__ = [
    "FAMILIES", "OUTCOMES", "PAYLOADS", "SLACK_S", "SLOWEST", "Case", "FuzzInput", "FuzzReport", "Sizes",
    "fuzz_input", "run", "solve_case",
]
