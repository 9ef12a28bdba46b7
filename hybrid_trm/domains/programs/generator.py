"""Seeded random programs, written as a person would (one statement a line,
four spaces a level), whose runs stay small.

Values stay small by construction: a product always has a constant factor of 2-5,
a value set inside a loop is taken `% K` unless it only adds a constant, and
every loop has a counter bounded by `loop_bound` (a `for` over a short range, a
`while` whose counter is raised first thing in its body). Functions call only
functions defined after them (no cycle, at most `call_depth` deep), except the
recursive ones, whose first parameter falls by one or two at each recursive call
and whose base case returns at zero or below; the arguments they are called with
are taken `% M` for a small M. So runs end, mostly within a few hundred
statements; a few stop with `error` (a division by a variable that is zero, a
read of a variable that was not set) or `timeout` (long nested loops).

The shares of dead code, possibly-unset reads and recursive functions default by
task (None), so that each task's per-node labels come about half and half: dead
and live statements for `dead`, `unset` and `ok` reads for `unset`, `yes` and `no`
defs and calls for `recursive`; a little of each elsewhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from ...errors import HybridTRMError

DATA = ("a", "b", "c", "d", "e", "s", "t", "x", "y", "z")  # variables a statement may set
LOOP = ("i", "j", "k", "l", "m")  # the counter of a loop at each nesting of loops
PARAMS = ("n", "p", "q", "r")
FUNCTIONS = ("f", "g", "h", "step", "walk", "calc", "mix", "fold", "scan", "pick")
FALSE = ("0", "1 > 2", "3 == 4", "2 - 2", "not 1", "5 < 3 and 1", "7 % 7", "0 or 0", "2 * 3 < 4")
TRUE = ("1", "2 > 1", "3 == 3", "not 0", "4 % 3", "1 or 0", "6 / 2 >= 3", "-1")
# Loosest first: or, and, not, comparisons, + -, * / %, unary -, atoms.
OR, AND, NOT, CMP, SUM, PRODUCT, UNARY, ATOM = range(8)


@dataclass(frozen=True)
class ProgramsDifficulty:
    # Statements of the top level, drawn in [statements_min, statements]; each
    # function's body adds up to a third as many.
    statements: int = 12
    statements_min: int = 3
    depth: int = 3  # most if / while / for bodies nested inside each other
    # Most trips of one loop: train at <= 9, test up to 30 (trips multiply when nested).
    loop_bound: int = 5
    loop_bound_min: int = 1  # fewest trips a loop's bound is drawn from
    functions: int = 2  # defs, drawn in [functions_min, functions]
    functions_min: int = 0
    call_depth: int = 2  # longest chain of calls between non-recursive functions
    dead: float | None = None  # chance a block holds dead code (None: 0.65 for task dead, 0.1 else)
    unset: float | None = None  # chance a read takes a variable that may be unset (None: 0.7 for unset, 0.003 else)
    recursion: float | None = None  # chance a function recurses (None: 0.4 for recursive, 0.25 else)
    errors: float = 0.05  # chance a division is by a variable (which may be 0: `error`)
    # 1: the example is one digit fact the executor's run of such a program asks
    # (execute.facts_asked: `return ((7 + 8) + 1);`), what the executor's model
    # learns from.
    expressions: int = 0
    # With `expressions`, the share of the facts drawn evenly among all the facts the
    # arithmetic can ask (schoolbook.facts), not from a run: runs of small programs
    # ask some far more often than others, and a few never.
    redraw: float = 0.0


def resolve(d: ProgramsDifficulty, task: str) -> ProgramsDifficulty:
    """The knobs with the task's defaults filled in, checked."""
    d = replace(
        d,
        dead=(0.65 if task == "dead" else 0.1) if d.dead is None else d.dead,
        unset=(0.7 if task == "unset" else 0.003) if d.unset is None else d.unset,
        recursion=(0.4 if task == "recursive" else 0.25) if d.recursion is None else d.recursion,
        functions_min=max(d.functions_min, 1 if task == "recursive" and d.functions else 0),
    )
    if not (1 <= d.statements_min <= d.statements and 0 <= d.functions_min <= d.functions and d.depth >= 0):
        raise HybridTRMError(f"programs: knobs out of range: {d}")
    if not (0 <= d.loop_bound_min <= d.loop_bound and d.call_depth >= 1):
        raise HybridTRMError(f"programs: knobs out of range: {d}")
    if not 0 <= d.redraw <= 1:
        raise HybridTRMError(f"programs: knobs out of range: {d}")
    return d


@dataclass
class Function:
    name: str
    params: tuple[str, ...]
    shape: str  # plain, count (linear recursion), fib (two recursive calls), mutual (a pair)
    chain: int = 1  # the longest chain of calls from it down the non-recursive ones
    partner: Function | None = None  # of a mutual pair: the other

    @property
    def recursive(self) -> bool:
        return self.shape != "plain"


def program(rng: random.Random, d: ProgramsDifficulty) -> str:
    """One program's text."""
    count = rng.randint(d.functions_min, d.functions)
    names = rng.sample(FUNCTIONS, min(count, len(FUNCTIONS)))
    funcs = [Function(name, (), "plain") for name in names]
    _shape(rng, d, funcs)
    defs: list[list[str]] = [[] for _ in funcs]
    for i in reversed(range(len(funcs))):  # a function calls only those after it: written first
        writer = Writer(rng, d, funcs[i + 1:], funcs[i])
        defs[i] = writer.function()
    main = Writer(rng, d, funcs, None).main()
    parts = list(defs)
    after = rng.randint(0, len(defs)) if defs and rng.random() < 0.3 else len(defs)
    parts.insert(after, main)  # sometimes defs after the code that calls them
    return "\n\n".join("\n".join(lines) for lines in parts) + "\n"


def _shape(rng: random.Random, d: ProgramsDifficulty, funcs: list[Function]) -> None:
    """Which functions recurse and how, and their parameters."""
    i = 0
    while i < len(funcs):
        f = funcs[i]
        if rng.random() < d.recursion:
            shapes = ["count", "count", "fib"] + (["mutual"] if i + 1 < len(funcs) else [])
            f.shape = rng.choice(shapes)
        extra = rng.randint(0, 2)
        if f.shape == "plain":
            f.params = PARAMS[: rng.randint(0, 3)]
        elif f.shape == "mutual":
            g = funcs[i + 1]
            g.shape, f.partner, g.partner = "mutual", g, f
            f.params = g.params = PARAMS[: 1 + extra % 2]
            i += 1
        else:
            f.params = PARAMS[: 1 + (extra if f.shape == "count" else 0)]
        i += 1


class Writer:
    """Writes one function's body, or the top level's: the statements as lines,
    and what it knows of which variables are set (approximately: the labeller
    decides exactly)."""

    def __init__(self, rng: random.Random, d: ProgramsDifficulty, callees: list[Function], me: Function | None):
        self.rng, self.d, self.me = rng, d, me
        # Plain functions it may call keep the call chain within call_depth.
        limit = d.call_depth - 1 if me is not None else d.call_depth
        self.callees = [f for f in callees if f.recursive or f.chain <= limit]
        self.sure: dict[str, None] = dict.fromkeys(me.params if me else ())  # set on every path here
        self.maybe: dict[str, None] = {}  # set on some path
        self.loops = 0  # loops around the statement being written
        self.calling = False  # writing a call's arguments
        self.called: list[Function] = []

    # -- whole bodies -------------------------------------------------------------

    def main(self) -> list[str]:
        lines = [f"{v} = {self.rng.randint(0, 9)};" for v in self.rng.sample(DATA, self.rng.randint(1, 3))]
        for line in lines:
            self.sure[line.split(" ")[0]] = None
        lines += self.block(self.rng.randint(self.d.statements_min, self.d.statements), 0, dead_ok=True)
        lines.append(f"return {self.expr(2)};")
        return lines

    def function(self) -> list[str]:
        me, rng = self.me, self.rng
        body: list[str] = []
        size = rng.randint(1, max(1, self.d.statements // 3))
        if me.recursive:
            base = "n < 2" if me.shape == "fib" else rng.choice(("n <= 0", "n < 1", "n == 0 or n < 0"))
            body += [f"if ({base}) {{", f"    return {self.base_value()};", "}"]
            body += self.block(size, 0, dead_ok=True)
            body += self.recursive_return()
        else:
            body += self.block(size, 0, dead_ok=True)
            body.append(f"return {self.bounded(self.expr(2))};")
        me.chain = 1 + max((f.chain for f in self.called if not f.recursive), default=0)
        return [f"def {me.name}({', '.join(me.params)}) {{", *_indent(body), "}"]

    def base_value(self) -> str:
        return self.rng.choice(["n", str(self.rng.randint(0, 5))] + list(self.me.params[1:]))

    def recursive_return(self) -> list[str]:
        me, rng = self.me, self.rng
        target = me.partner or me
        rest = [self.expr(1) for _ in me.params[1:]]
        call = f"{target.name}({', '.join(['n - 1', *rest])})"
        if me.shape == "fib":
            other = f"{me.name}(n - 2)"
            return [f"return ({call} + {other}) % {rng.randint(5, 50)};"]
        if rng.random() < 0.4:
            v = rng.choice(DATA)
            self.sure[v] = None
            return [f"{v} = {call};", f"return ({v} + {self.atom()}) % {rng.randint(5, 50)};"]
        return [f"return ({self.atom()} + {call}) % {rng.randint(5, 50)};"]

    # -- statements ---------------------------------------------------------------

    def block(self, size: int, nest: int, dead_ok: bool = False) -> list[str]:
        """About `size` statements at nesting `nest`, perhaps with dead code."""
        lines: list[str] = []
        left = size
        while left > 0:
            used, more = self.statement(left, nest)
            lines += more
            left -= used
        if dead_ok and self.rng.random() < self.d.dead:
            lines = self.dead_code(lines, nest)
        return lines

    def statement(self, left: int, nest: int) -> tuple[int, list[str]]:
        """(statements written, lines) of one statement, compound or not."""
        rng = self.rng
        choices = ["assign"] * 5
        if nest < self.d.depth and left > 1:
            choices += ["if"] * 2 + ["if_else"] * 2 + ["for"] * 2 + ["while"] * 2
        if nest < self.d.depth and rng.random() < 0.4:  # not often: an early return cuts the run short
            choices += ["exit"] + ["skip"] * (2 if self.loops else 0)
        pick = rng.choice(choices)
        if pick == "assign":
            return 1, [self.assign()]
        inner = rng.randint(1, max(1, min(left - 1, 4)))
        if pick == "exit":  # an early return under a condition
            return 2, [f"if ({self.cond()}) {{", f"    return {self.bounded(self.expr(1))};", "}"]
        if pick == "skip":
            word = rng.choice(("break", "continue"))
            return 2, [f"if ({self.cond()}) {{", f"    {word};", "}"]
        if pick == "if":
            return 1 + inner, [f"if ({self.cond()}) {{", *self.nested(inner, nest), "}"]
        if pick == "if_else":
            return self.if_else(inner, nest)
        return self.loop(pick, inner, nest)

    def nested(self, size: int, nest: int, loop: bool = False, dead_ok: bool = True) -> list[str]:
        """A body that may not run: what it sets is `maybe` after it."""
        before = dict(self.sure)
        self.loops += loop
        lines = self.block(size, nest + 1, dead_ok)
        self.loops -= loop
        for v in self.sure:
            if v not in before:
                self.maybe[v] = None
        self.sure = before
        return _indent(lines)

    def if_else(self, inner: int, nest: int) -> tuple[int, list[str]]:
        lines = [f"if ({self.cond()}) {{", *self.nested(inner, nest)]
        used = 1 + inner
        while self.rng.random() < 0.3:  # else if
            more = self.rng.randint(1, 2)
            lines += [f"}} else if ({self.cond()}) {{", *self.nested(more, nest)]
            used += 1 + more
        more = self.rng.randint(1, 2)
        return used + more, lines + ["} else {", *self.nested(more, nest), "}"]

    def loop(self, pick: str, inner: int, nest: int) -> tuple[int, list[str]]:
        rng, d = self.rng, self.d
        counter = LOOP[self.loops] if self.loops < len(LOOP) else f"i{self.loops}"
        bound = rng.randint(d.loop_bound_min, d.loop_bound)
        if rng.random() < 0.3 and self.sure and bound:  # a bound the program computes, 1..bound
            span = f"{self.read(sure=True)} % {bound} + 1"
        else:
            span = str(bound)
        self.sure[counter] = None
        if pick == "for":
            low = rng.randint(0, 2)
            high = str(low + int(span)) if span.isdigit() else (f"{span}" if low == 0 else f"{low} + {span}")
            body = self.nested(inner, nest, loop=True)
            del self.sure[counter]
            self.maybe[counter] = None  # unset after a loop that ran no trip
            return 1 + inner, [f"for {counter} in range({low}, {high}) {{", *body, "}"]
        step = f"    {counter} = {counter} + 1;"
        if rng.random() < 0.2:  # no condition: it leaves by a break
            test = [f"    if ({counter} >= {span}) {{", "        break;", "    }"]
            body = self.nested(inner, nest, loop=True)
            return 3 + inner, [f"{counter} = 0;", f"while ({rng.choice(TRUE)}) {{", step, *test, *body, "}"]
        cond = f"{counter} < {span}"
        if rng.random() < 0.25:
            cond = f"{cond} and {self.cond(simple=True)}"
        body = self.nested(inner, nest, loop=True)
        return 2 + inner, [f"{counter} = 0;", f"while ({cond}) {{", step, *body, "}"]

    def assign(self) -> str:
        rng = self.rng
        known = [v for v in self.sure if v in DATA]
        target = rng.choice(known) if known and rng.random() < 0.6 else rng.choice(DATA)
        if target in self.sure and rng.random() < 0.2:
            value = f"{target} {rng.choice('+-')} {rng.randint(1, 9)}"
        else:
            value = self.expr(2)
            if self.loops or "*" in value or "(" in value or rng.random() < 0.3:
                value = self.bounded(value)
        self.sure[target] = None
        return f"{target} = {value};"

    # -- dead code ----------------------------------------------------------------

    def dead_code(self, lines: list[str], nest: int) -> list[str]:
        """`lines` with one kind of dead code put in (docs/programs.md, `dead`)."""
        rng = self.rng
        size = rng.randint(1, 3)
        shapes = ["if", "while", "else", "after", "both"]
        pick = rng.choice(shapes)
        where = rng.randint(0, len(lines))
        while where < len(lines) and lines[where].startswith(("    ", "}")):
            where += 1  # between statements, not inside one
        before = dict(self.sure), dict(self.maybe)
        if pick == "if":
            dead = [f"if ({rng.choice(FALSE)}) {{", *self.nested(size, nest, dead_ok=False), "}"]
        elif pick == "while":
            dead = [f"while ({rng.choice(FALSE)}) {{", *self.nested(size, nest, loop=True, dead_ok=False), "}"]
        elif pick == "else":  # at the end: its live branch reads what the block set
            where = len(lines)
            dead = [f"if ({rng.choice(TRUE)}) {{", *self.nested(size, nest), "} else {",
                    *self.nested(size, nest, dead_ok=False), "}"]
        else:
            if pick == "after":
                word = rng.choice(("break", "continue")) if self.loops and rng.random() < 0.6 else None
                end = [f"{word};"] if word else [f"return {self.bounded(self.expr(1))};"]
            else:
                end = [f"if ({self.cond()}) {{", f"    return {self.expr(1)};", "} else {",
                       f"    return {self.expr(1)};", "}"]
            after = self.block(size, nest)
            self.sure, self.maybe = before
            return lines + end + after
        self.sure, self.maybe = before
        return lines[:where] + dead + lines[where:]

    # -- expressions --------------------------------------------------------------

    def read(self, sure: bool = False) -> str:
        """A variable to read: mostly one set on every path here; at the `unset`
        share one set only on some, or none."""
        rng = self.rng
        maybe = [v for v in self.maybe if v not in self.sure]
        if not sure and rng.random() < self.d.unset:
            if maybe and rng.random() < 0.8:
                return rng.choice(maybe)
            return rng.choice([v for v in DATA if v not in self.sure] or list(DATA))
        known = list(self.sure)
        return rng.choice(known) if known else str(rng.randint(0, 9))

    def atom(self) -> str:
        return self.read() if self.rng.random() < 0.65 else str(self.rng.randint(0, 9))

    def expr(self, size: int) -> str:
        return self._expr(size)[0]

    def _expr(self, size: int) -> tuple[str, int]:
        """(text, precedence) of an arithmetic expression of about `size` operators."""
        rng = self.rng
        if size <= 0 or rng.random() < 0.25:
            return self.atom(), ATOM
        pick = rng.choice(["+", "-", "+", "*", "/", "%", "neg", "call", "call"])
        if pick == "call" and self.callees and not self.calling:  # no call inside a call's arguments
            return self.call(rng.choice(self.callees)), ATOM
        if pick in ("neg", "call"):
            return f"-{_wrap(self._expr(0), UNARY)}", UNARY
        left = self._expr(size - 1)
        if pick in "+-":
            right = self._expr(size - 1)
            return f"{_wrap(left, SUM)} {pick} {_wrap(right, SUM + 1)}", SUM
        if pick == "*":
            return f"{_wrap(left, PRODUCT)} * {rng.randint(2, 5)}", PRODUCT
        divisor = self.read() if rng.random() < self.d.errors else str(rng.randint(1, 9))
        return f"{_wrap(left, PRODUCT)} {pick} {divisor}", PRODUCT

    def bounded(self, text: str) -> str:
        return text if _atomic(text) else _modulo(text, self.rng.randint(5, 100))

    def call(self, f: Function) -> str:
        self.called.append(f)
        self.calling = True
        args = [self.expr(1) for _ in f.params]
        self.calling = False
        if f.recursive and args:  # the depth of its recursion: small
            args[0] = _modulo(args[0], min(self.d.loop_bound + 2, 7 if f.shape == "fib" else 12))
        return f"{f.name}({', '.join(args)})"

    def cond(self, simple: bool = False) -> str:
        rng = self.rng
        ops = ("<", "<=", ">", ">=", "==", "!=")
        test = f"{self.expr(1)} {rng.choice(ops)} {self.expr(0)}"
        if rng.random() < 0.2:
            test = f"{self.read()} % 2 == {rng.randint(0, 1)}"
        if not simple and rng.random() < 0.2:
            test = f"{test} {rng.choice(('and', 'or'))} {self.read()} {rng.choice(ops)} {rng.randint(0, 9)}"
        if not simple and rng.random() < 0.1:
            test = f"not ({test})"
        return test


def _wrap(part: tuple[str, int], least: int) -> str:
    """The text, in parentheses where its precedence is below `least`."""
    text, precedence = part
    return text if precedence >= least else f"({text})"


def _atomic(text: str) -> bool:
    """A name, an integer or one call: no parentheses needed around it."""
    if text.isidentifier() or text.isdigit():
        return True
    name, _, rest = text.partition("(")
    if not name.isidentifier() or not text.endswith(")"):
        return False
    depth = 0
    for i, char in enumerate(rest):
        depth += (char == "(") - (char == ")")
        if depth < 0:
            return i == len(rest) - 1  # the call's own closing parenthesis, last
    return False


def _modulo(text: str, k: int) -> str:
    return f"{text if _atomic(text) else f'({text})'} % {k}"


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]
