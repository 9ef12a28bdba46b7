"""The seeded generator: LogicDifficulty's knobs and their checks, random formulas
(_formula, _grow, _atom) and the search over a pool of them for a tree with the
drawn answer (_search). LogicDomain.generate (in __init__) drives them."""

from __future__ import annotations

import random
from dataclasses import dataclass

import lark
import numpy as np

from ...errors import HybridTRMError
from ...grammar import Node, children, kind, postorder
from .roles import BINARY, PAIRS, QUANTIFIERS
from .grid import _Positions
from .semantics import _combine, _node_values, _pair_answer, _semantics, countable_within
from .worlds import Sampled
from .syntax import SYNTAXES, _WRITES

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PREDICATES = "PQRSTUVW"
VARIABLES = "xyzuvw"
CONSTANTS = "abcdefgh"
_POOL = 12  # formulas drawn per round; answers are searched among their combinations
_REDRAWS = 200  # tries at a formula within the operators cap
_ROUNDS = 8
NATURAL = "natural"  # the balance knob's value for no search
EXACT_SEARCH = 4096  # the most worlds a search lists exactly
SEARCH_POSITIONS = 512  # the sampled worlds a search reads answers off, where the signature's are too many to list
MAX_ARITY = 4


@dataclass(frozen=True)
class LogicDifficulty:
    # False (0): propositional letters; True (1): predicates over x, y, ...;
    # a number between: the chance that an example is first-order.
    first_order: float = False
    variables: int = 3  # propositional letters (drawn from a..z), or first-order variables x, y, z, u, v, w
    predicates: int = 2  # first-order: predicates P, Q, R, ...
    arity: int = 1  # first-order: each predicate takes 1..arity arguments (drawn per example); 1: monadic
    constants: int = 0  # first-order: constants a, b, ... (terms no quantifier binds)
    equality: float = 0.0  # first-order: chance that an atom is t = u rather than P(t)
    # Formula height in connectives and quantifiers, drawn in [depth_min, depth]; one
    # path reaches it. A verdict's formula is two drawn formulas joined at the root.
    # (meta["depth"] is the tree's height: P(x) stands one level above its terms.)
    depth: int = 4
    depth_min: int = 1
    # First-order: quantifiers nested on one path, drawn in [quantifier_depth_min,
    # quantifier_depth] for each drawn formula; other paths nest no deeper.
    quantifier_depth: int = 2
    quantifier_depth_min: int = 1
    quantifier: float = 0.3  # first-order: chance that another inner node is a quantifier
    ops: str = "not,and,or,implies,iff"
    # Weights of the task's answers in their order (verdict: valid,contingent,unsatisfiable);
    # empty: uniform. Drawn answers are found by search, so rare ones cost time. Where
    # the signature has too many worlds to list, the search reads answers off sampled
    # worlds (confirmed by the verifier), so it favours formulas whose countermodels
    # are common. "natural": no search, random formulas as they come, any answer.
    balance: str = ""
    syntax: str = "ascii"  # ascii, words, unicode, evans, bowman, or mixed (one per example)
    # Most operators (negations, connectives, quantifiers) in each formula of a pair,
    # or in a verdict's formula; 0: no cap. Bowman's train0-6 hold pairs of <= 6.
    operators: int = 0
    truth_constants: float = 0.0  # chance that an atom is `true` or `false`


class _Exact:
    """The search's worlds: every one of the labeller's, as bitmasks."""

    exact = True

    def __init__(self, sem):
        self.sem, self.full = sem, sem.full

    def bitmask(self, formula: Node) -> int:
        return self.sem.worlds_of(_node_values(self.sem, formula)[-1])


class _Sampled:
    """The search's worlds where the signature's are too many to list: a seeded
    sample of structures, shared by the pool, as bitmasks. An answer found here is
    a guess, to be confirmed by the verifier."""

    exact = False

    def __init__(self, sig, seed: int, slots: int):
        self.sig = sig
        self.worlds = Sampled(sig, SEARCH_POSITIONS, slots, np.random.default_rng(seed), [])
        self.full = (1 << self.worlds.count) - 1

    def bitmask(self, formula: Node) -> int:
        positions = _Positions(formula, self.sig, self.worlds)
        row = _node_values(positions, formula)[-1][positions.first]
        return int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little")


def search_worlds(sig, rng: random.Random, slots: int):
    """Exact worlds where the labeller can list them (then the search's answer is
    the label), else a sample seeded from `rng`."""
    if countable_within(sig, EXACT_SEARCH):
        return _Exact(_semantics(sig))
    return _Sampled(sig, rng.randrange(2**32), slots)


def _check_knobs(d: LogicDifficulty) -> tuple[list[str], list[str]]:
    ops = [op.strip() for op in d.ops.split(",") if op.strip()]
    unknown = set(ops) - {"not", *BINARY}
    if unknown or not set(ops) & set(BINARY):
        raise HybridTRMError(f"logic: ops {d.ops!r} needs at least one of {', '.join(BINARY)} and only those and not")
    if d.depth_min < 1 or d.depth < d.depth_min:
        raise HybridTRMError("logic: need 1 <= depth_min <= depth")
    if d.first_order:
        if not (1 <= d.predicates <= len(PREDICATES) and 1 <= d.variables <= len(VARIABLES)):
            raise HybridTRMError(f"logic: first-order needs 1..{len(PREDICATES)} predicates and 1..{len(VARIABLES)} variables")
        if not 1 <= d.arity <= MAX_ARITY:
            raise HybridTRMError(f"logic: arity is 1..{MAX_ARITY}, not {d.arity}")
        if not 0 <= d.constants <= len(CONSTANTS):
            raise HybridTRMError(f"logic: 0..{len(CONSTANTS)} constants")
        if d.quantifier_depth < 1 and d.constants < 1:
            raise HybridTRMError("logic: first-order formulas need quantifier_depth >= 1 or a constant")
        if not 0 <= d.quantifier_depth_min <= d.quantifier_depth:
            raise HybridTRMError("logic: need 0 <= quantifier_depth_min <= quantifier_depth")
    elif not 1 <= d.variables <= len(LETTERS):
        raise HybridTRMError(f"logic: 1..{len(LETTERS)} propositional variables")
    if not 0 <= d.first_order <= 1:
        raise HybridTRMError(f"logic: first_order is a chance in [0, 1], not {d.first_order}")
    able = _able(d, ops)
    if d.syntax == "mixed":
        return ops, able
    if d.syntax not in SYNTAXES:
        raise HybridTRMError(f"logic: unknown syntax {d.syntax!r}; syntaxes: {', '.join(SYNTAXES)}, mixed")
    if d.syntax not in able:
        what = f"ops {d.ops!r}" + (" or quantifiers" if d.first_order else "")
        raise HybridTRMError(f"logic: the {d.syntax} syntax cannot write {what}")
    return ops, [d.syntax]


def _able(d: LogicDifficulty, ops: list[str]) -> list[str]:
    """The syntaxes that can write every kind these knobs generate."""
    kinds = set(ops) | {"PROP"} | ({"pred", "forall", "exists"} if d.first_order else set())
    kinds |= {"true", "false"} if d.truth_constants else set()
    return [s for s in SYNTAXES if s not in _WRITES or kinds <= _WRITES[s]]


def _weights(balance, answers: tuple[str, ...]) -> list[float]:
    balance = str(balance)  # `--knob balance=1` arrives as an int
    if not balance.strip() or balance == NATURAL:
        return [1.0] * len(answers)
    try:
        weights = [float(w) for w in balance.split(",")]
    except ValueError:
        weights = []
    if len(weights) != len(answers) or min(weights) < 0 or sum(weights) <= 0:
        raise HybridTRMError(f"logic: balance {balance!r} needs {len(answers)} weights >= 0 for {' '.join(answers)}")
    return weights


def _candidates(rng, task, target, ops, pool, worlds, full, d):
    """Trees over the pool whose answer on `worlds` is `target`, best first: for a verdict, a pool formula,
    its negation or two joined by a root operator drawn first (so the root does not
    give the answer away); for a pair, two different pool formulas. The second
    formula may be negated where `not` is among the ops."""
    n = len(pool)
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    rng.shuffle(pairs)
    flips = (False, True) if "not" in ops else (False,)  # B or ~B
    if task == "verdict":
        roots = ["single"] + [op for op in ops]
        rng.shuffle(roots)
        for root in roots:
            if root == "single":
                for i in rng.sample(range(n), n):
                    if _height(pool[i]) >= d.depth_min and _verdict_of(worlds[i], full) == target:
                        yield pool[i]
            elif root == "not":
                for i in rng.sample(range(n), n):
                    if _verdict_of(full ^ worlds[i], full) == target:
                        yield lark.Tree("not", [pool[i]])
            else:
                for i, j in pairs:
                    for flip in flips:
                        right = full ^ worlds[j] if flip else worlds[j]
                        if _verdict_of(_combine(root, worlds[i], right, full), full) == target:
                            yield lark.Tree(root, [pool[i], _copy(lark.Tree("not", [pool[j]]) if flip else pool[j])])
        return
    for i, j in pairs:
        a, b = worlds[i], worlds[j]
        for flip in flips:
            bb = full ^ b if flip else b
            if _pair_answer(task, a, bb, full) == target:
                right = lark.Tree("not", [pool[j]]) if flip else pool[j]
                yield lark.Tree(task, [pool[i], _copy(right)])


def _verdict_of(worlds: int, full: int) -> str:
    return "valid" if worlds == full else "unsatisfiable" if worlds == 0 else "contingent"


def _copy(tree: Node) -> Node:
    """A fresh copy (nodes are told apart by identity). Generated trees are shallow."""
    if isinstance(tree, lark.Token):
        return lark.Token(tree.type, str(tree))
    return lark.Tree(tree.data, [_copy(c) for c in tree.children])


def _formula(rng: random.Random, d: LogicDifficulty, ops: list[str], letters: tuple[str, ...], task: str, arities: dict[str, int]) -> Node:
    """One random formula; a verdict's formula gets one level less (a root joins two).
    With an `operators` cap, drawn again until it leaves room for what _search may
    add: a negation (where `not` is an op) and, for a verdict, a root and a second
    formula."""
    low, high = (d.depth_min - 1, d.depth - 1) if task == "verdict" else (d.depth_min, d.depth)
    flip = "not" in ops
    room = d.operators - flip if task in PAIRS else (d.operators - 1 - flip) // 2
    for _ in range(_REDRAWS):
        height = rng.randint(max(0, low), max(0, high))
        if not d.first_order:
            formula = _grow(rng, d, ops, (letters, arities), height, (), 0, 0)
        else:
            nesting = rng.randint(d.quantifier_depth_min, d.quantifier_depth)
            formula = _grow(rng, d, ops, (letters, arities), max(height, nesting), (), d.quantifier_depth, nesting)
        if not d.operators or _connectives(formula) <= room:
            return formula
    raise HybridTRMError(f"logic: no formula of depth >= {d.depth_min} turned up with at most {d.operators} operators")


def _connectives(tree: Node) -> int:
    """Negations, binary connectives and quantifiers: Bowman's count of operators."""
    return sum(kind(node) in ("not", *BINARY, *QUANTIFIERS) for node in postorder(tree))


def _grow(rng, d, ops, symbols, height: int, bound: tuple[str, ...], quantifiers: int, need: int) -> Node:
    """A formula of exactly `height` levels on one path, which also holds `need`
    nested quantifiers; `symbols` are the letters and the predicates' arities,
    `bound` the variables in scope, `quantifiers` the nesting still allowed on any
    path."""
    terms = bound + tuple(CONSTANTS[: d.constants]) if d.first_order else ()
    must_bind = d.first_order and not terms
    if height == 0 and not must_bind:
        return _atom(rng, d, symbols, terms, bound)
    chance = need / height if need else d.quantifier
    if d.first_order and quantifiers > 0 and (must_bind or rng.random() < chance):
        free = [v for v in VARIABLES[: d.variables] if v not in bound]
        var = rng.choice(free or list(VARIABLES[: d.variables]))
        scope = tuple(b for b in bound if b != var) + (var,)
        body = _grow(rng, d, ops, symbols, max(0, height - 1), scope, quantifiers - 1, max(0, need - 1))
        return lark.Tree(rng.choice(QUANTIFIERS), [lark.Token("VAR", var), body])
    if height == 0:  # must bind, but no nesting left: only constants could help, and there are none
        raise HybridTRMError("logic: cannot write a first-order atom without a variable in scope or a constant")
    op = rng.choice(ops)
    if op == "not":
        return lark.Tree("not", [_grow(rng, d, ops, symbols, height - 1, bound, quantifiers, need)])
    deep = _grow(rng, d, ops, symbols, height - 1, bound, quantifiers, need)
    side = _grow(rng, d, ops, symbols, rng.randint(0, height - 1), bound, quantifiers, 0)
    left, right = (deep, side) if rng.random() < 0.5 else (side, deep)
    return lark.Tree(op, [left, right])


def _atom(rng, d, symbols, terms, bound) -> Node:
    letters, arities = symbols
    if d.truth_constants and rng.random() < d.truth_constants:
        return lark.Tree(rng.choice(("true", "false")), [])
    if not d.first_order:
        return lark.Token("PROP", rng.choice(letters))

    def term(avoid: str = "") -> lark.Token:
        # Half the time the innermost bound variable, so few quantifiers are vacuous.
        name = terms[len(terms) - 1 - d.constants] if bound and rng.random() < 0.5 else rng.choice(terms)
        if name == avoid and len(terms) > 1:
            name = rng.choice([t for t in terms if t != avoid])
        return lark.Token("VAR" if name in VARIABLES else "CONST", name)

    if rng.random() < d.equality:
        left = term()
        return lark.Tree("eq", [left, term(avoid=str(left))])
    name = rng.choice(PREDICATES[: d.predicates])
    return lark.Tree("pred", [lark.Token("PRED", name)] + [term() for _ in range(arities[name])])


def _height(tree: Node) -> int:
    heights: dict[int, int] = {}
    for node in postorder(tree):
        heights[id(node)] = 1 + max((heights.pop(id(c)) for c in children(node)), default=-1)
    return heights[id(tree)]


def _quantifier_depth(tree: Node) -> int:
    depth: dict[int, int] = {}
    for node in postorder(tree):
        inner = max((depth.pop(id(c)) for c in children(node)), default=0)
        depth[id(node)] = inner + (kind(node) in QUANTIFIERS)
    return depth[id(tree)]
