"""Logic: propositional and first-order formulas (grammars/logic.lark).

Tasks: `verdict` of one formula (valid / contingent / unsatisfiable); `entails` of a
pair `A |= B` (yes / no); `relation` of a pair `A ; B`, Bowman et al.'s seven classes
(= equivalent, < A entails B strictly, > B entails A strictly, ^ negation,
| alternation, v cover, # independent). Every formula node is labelled with its own
verdict, so the cell is supervised at every subformula; the pair node carries the
pair's answer, which is why `entails` and `relation` list the verdicts among their
answers too.

Holds: `resolve` (names every leaf of a parsed tree by its role), the labeller's exact
evaluator (truth tables as bitmasks for propositional formulas; every finite
structure up to the monadic bound, as numpy arrays, for first-order ones), `render`
(one tree in each surface syntax) and the seeded generator. The verifier
(verifiers/logic.py) answers the same questions independently, with z3.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import product

import lark
import numpy as np

from .. import budget
from ..errors import HybridTRMError, VerifierTimeout
from ..grammar import Node, children, kind, parse, postorder
from ..verifiers import logic as symbolic
from ..verifiers.logic import RELATIONAL_BOUND, RELATIONS, Signature, bowman_relation, signature
from .base import Domain, Example, Verdict, Worlds, WorldTask

VERDICTS = ("valid", "contingent", "unsatisfiable")
ENTAILS = ("yes", "no")
ROOT_ANSWERS = {"verdict": VERDICTS, "entails": ENTAILS, "relation": RELATIONS}

TERMS = ("VAR", "CONST", "PRED")  # leaves that are not formulas: no label
PAIRS = ("entails", "relation")
QUANTIFIERS = ("forall", "exists")
BINARY = ("and", "or", "implies", "iff")

MAX_TRUTH_TABLE_VARIABLES = 24  # 2^24 worlds: a 2 MB bitmask per subformula
MAX_CELLS = 4_000_000  # worlds x assignments of the variables: the largest first-order table labelled
MAX_STRUCTURES = 100_000  # structures x assignments of the propositions: the worlds W enumerated


# --- leaves by role -----------------------------------------------------------------


def resolve(root: Node) -> Node:
    """Name every leaf by its role, in place: PROP (a propositional variable, also a
    capitalised name without arguments), VAR (a term some enclosing quantifier binds,
    and the quantifier's own variable), CONST (a term no quantifier binds: free
    names are constants), PRED (the predicate of P(...)). Iterative: any depth.
    Raises when one predicate is used with two arities."""
    arity: dict[str, int] = {}

    def retype(token: Node, role: str) -> lark.Token:
        return lark.Token.new_borrow_pos(role, str(token), token)

    def note_arity(name: str, n: int) -> None:
        if arity.setdefault(name, n) != n:
            raise HybridTRMError(
                f"logic: {name} is used with {arity[name]} and with {n} arguments; give each predicate one arity"
            )

    if isinstance(root, lark.Token):
        if root.type == "PRED":
            note_arity(str(root), 0)
        return retype(root, "PROP")
    stack: list[tuple[lark.Tree, frozenset]] = [(root, frozenset())]
    while stack:
        node, bound = stack.pop()
        k = node.data
        if k in QUANTIFIERS:
            bound = bound | {str(node.children[0])}
        for i, child in enumerate(node.children):
            if not isinstance(child, lark.Token):
                stack.append((child, bound))
            elif k == "pred" and i == 0:
                note_arity(str(child), len(node.children) - 1)
                node.children[i] = retype(child, "PRED")
            elif k in ("pred", "eq") or (k in QUANTIFIERS and i == 0):
                node.children[i] = retype(child, "VAR" if str(child) in bound else "CONST")
            else:
                if child.type == "PRED":
                    note_arity(str(child), 0)
                node.children[i] = retype(child, "PROP")
    return root


# --- the labeller's semantics: every world of a signature -----------------------------


class _TruthTables:
    """Propositional worlds: the 2^p assignments, a formula's value the bitmask of
    the worlds where it holds (world w sets variable i to bit i of w)."""

    def __init__(self, props: tuple[str, ...]):
        if len(props) > MAX_TRUTH_TABLE_VARIABLES:
            raise HybridTRMError(
                f"logic: {len(props):,} propositional variables; the labeller's truth tables stop at "
                f"{MAX_TRUTH_TABLE_VARIABLES} (MAX_TRUTH_TABLE_VARIABLES)"
            )
        worlds = 1 << len(props)
        self.full = (1 << worlds) - 1
        self.masks = {}
        for i, name in enumerate(props):
            run = 1 << i
            mask, width = ((1 << run) - 1) << run, 2 * run
            while width < worlds:
                mask |= mask << width
                width *= 2
            self.masks[name] = mask

    def value(self, k: str, node: Node, args: list):
        full = self.full
        if k == "PROP":
            return self.masks[str(node)]
        if k == "true":
            return full
        if k == "false":
            return 0
        if k == "not":
            return full ^ args[0]
        return _combine(k, args[0], args[1], full)

    def verdict(self, value: int) -> str:
        return "valid" if value == self.full else "unsatisfiable" if value == 0 else "contingent"

    def worlds_of(self, value: int) -> int:
        return value


class _Structures:
    """First-order worlds: every structure the signature needs (see verifiers/logic.py
    for the monadic bound), padded to D elements, times every assignment of the
    constants and propositional variables. A formula's value is a boolean array
    (W, then one axis per variable name: D where the variable is free, else 1)."""

    def __init__(self, sig: Signature):
        self.sig = sig
        self.vars = {v: i for i, v in enumerate(sig.variables)}
        self.D = _check_size(sig)
        sizes, namings = [], []
        held: dict[str, list] = {name: [] for name, _ in sig.predicates}  # (structure, *args) where it holds
        for s, (n, relations, constants) in enumerate(_enumerate_structures(sig)):
            if s % 256 == 0:  # up to MAX_STRUCTURES of them: a caller's budget may stop the enumeration
                budget.check()
            sizes.append(n)
            namings.append(constants)
            for name, tuples in relations.items():
                held[name].extend((s, *args) for args in tuples)
        # Each structure once per assignment of the propositions, structure-major: W worlds.
        S, copies = len(sizes), 2 ** len(sig.props)
        self.W = S * copies
        shape = (self.W,) + (1,) * len(self.vars)
        self.present = np.repeat(np.arange(self.D)[None, :] < np.array(sizes)[:, None], copies, axis=0)  # (W, D)
        named = np.array(namings, dtype=np.int64).reshape(S, len(sig.constants)).repeat(copies, axis=0)
        self.consts = {c: named[:, i].reshape(shape) for i, c in enumerate(sig.constants)}
        truth = np.array(list(product((False, True), repeat=len(sig.props))), dtype=bool).reshape(copies, len(sig.props))
        truth = np.tile(truth, (S, 1))
        self.props = {p: truth[:, i].reshape(shape) for i, p in enumerate(sig.props)}
        self.preds = {}
        for name, arity in sig.predicates:
            table = np.zeros((S,) + (self.D,) * arity, dtype=bool)
            if held[name]:
                table[tuple(np.array(held[name]).T)] = True
            self.preds[name] = table.repeat(copies, axis=0)
        self.world_index = np.arange(self.W).reshape(shape)
        self.full = (1 << self.W) - 1

    def _axis(self, var: str, values: np.ndarray) -> np.ndarray:
        """`values` (length D or (W, D)) laid along the variable's axis."""
        shape = [1] * (1 + len(self.vars))
        shape[1 + self.vars[var]] = self.D
        if values.ndim == 2:
            shape[0] = self.W
        return values.reshape(shape)

    def _term(self, token: Node) -> np.ndarray:
        if kind(token) == "VAR":
            return self._axis(str(token), np.arange(self.D))
        return self.consts[str(token)]

    def value(self, k: str, node: Node, args: list):
        ones = (1,) * (1 + len(self.vars))
        if k == "PROP":
            return self.props[str(node)]
        if k in ("true", "false"):
            return np.full(ones, k == "true")
        if k == "pred":
            table = self.preds[str(node.children[0])]
            return table[(self.world_index, *(self._term(t) for t in node.children[1:]))]
        if k == "eq":
            return self._term(node.children[0]) == self._term(node.children[1])
        if k == "not":
            return ~args[0]
        if k in QUANTIFIERS:
            var, body = str(node.children[0]), args[1]
            present = self._axis(var, self.present)
            axis = 1 + self.vars[var]
            if k == "forall":
                return np.all(body | ~present, axis=axis, keepdims=True)
            return np.any(body & present, axis=axis, keepdims=True)
        return _connective(k, *args)

    def _assignments(self, value: np.ndarray) -> np.ndarray:
        """Which cells of `value` assign its free variables to elements that exist."""
        mask = np.ones((self.W,) + (1,) * len(self.vars), dtype=bool)
        for var, i in self.vars.items():
            if value.shape[1 + i] == self.D and self.D > 1:
                mask = mask & self._axis(var, self.present)
        return mask

    def verdict(self, value: np.ndarray) -> str:
        mask = self._assignments(value)
        if np.all(value | ~mask):
            return "valid"
        return "contingent" if np.any(value & mask) else "unsatisfiable"

    def worlds_of(self, value: np.ndarray) -> int:
        """A closed formula's value as a bitmask over the W worlds."""
        row = np.broadcast_to(value, (self.W,) + value.shape[1:]).reshape(self.W, -1)[:, 0]
        return int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little")


def _connective(k: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if k == "and":
        return a & b
    if k == "or":
        return a | b
    if k == "implies":
        return ~a | b
    return a == b  # iff


def _enumerate_structures(sig: Signature):
    """(size n, {predicate: set of argument tuples}, the constants' elements) of every
    structure to check, one per isomorphism class where that is cheap to ensure.

    Monadic: an element's type is the set of unary predicates it holds (2^k types).
    Without equality elements of one type cannot be told apart, so a structure is a
    nonempty set of types, one element each, and each constant names one of them.
    With equality and r variables, a formula cannot tell r elements of one type from
    more (see the bound in verifiers/logic.py): a structure is the constants' elements
    (a partition of the constants, each block typed) plus 0..r further elements of
    each type. This stays within the verifier's bound 2^k * (r + #constants).
    With a predicate of arity >= 2: every interpretation on 1..RELATIONAL_BOUND
    elements, the constants named up to renaming of the elements."""
    c = len(sig.constants)
    if not sig.monadic:
        for n in range(1, RELATIONAL_BOUND + 1):
            tuples = {name: list(product(range(n), repeat=arity)) for name, arity in sig.predicates}
            namings = _restricted_growth(c, n)
            for picks in product(*(product((False, True), repeat=len(t)) for t in tuples.values())):
                relations = {name: {a for a, keep in zip(tuples[name], pick) if keep} for name, pick in zip(tuples, picks)}
                for blocks in namings:
                    yield n, relations, blocks
        return
    unary = [name for name, _ in sig.predicates]
    types = list(product((False, True), repeat=len(unary)))

    def structure(elements: list, constants: tuple[int, ...]):
        relations = {name: {(e,) for e, t in enumerate(elements) if t[j]} for j, name in enumerate(unary)}
        return len(elements), relations, constants

    if not sig.equality:
        for chosen in product((False, True), repeat=len(types)):
            elements = [t for t, keep in zip(types, chosen) if keep]
            if elements:
                for constants in product(range(len(elements)), repeat=c):
                    yield structure(elements, constants)
        return
    r = len(sig.variables)
    # Without variables no further elements: one empty choice, not one 0 per type
    # (constants alone admit 2^16 types within the limits).
    extras = list(product(range(r + 1), repeat=len(types))) if r else [()]
    for blocks in _restricted_growth(c, c):
        named = max(blocks, default=-1) + 1
        for block_types in product(types, repeat=named):
            for counts in extras:
                elements = list(block_types) + [t for t, m in zip(types, counts) for _ in range(m)]
                if elements:
                    yield structure(elements, blocks)


def _restricted_growth(count: int, n: int):
    """Every way to name `count` constants by elements 0..n-1 up to renaming: each
    takes an element already named or the next new one. (Only after _check_size:
    their number is part of the structure count.)"""
    out = [()]
    for _ in range(count):
        out = [s + (e,) for s in out for e in range(min(n, max(s, default=-1) + 2))]
    return out


def _check_size(sig: Signature) -> int:
    """The largest domain D of the structures _enumerate_structures yields, once their
    number (times the propositions' assignments) is within MAX_STRUCTURES and the
    cells of a table within MAX_CELLS; raises naming the limit, before anything is
    enumerated. The count is first bounded from below in log space: the exact count
    for P(x,x,x,x,x,x,x,x,x,x) has 17,776 digits, and for 20 arguments it would not
    fit in memory."""
    p, r = len(sig.props), len(sig.variables)
    low = _log10_structures_at_least(sig) + p * _LOG2
    if low > math.log10(MAX_STRUCTURES) + 1e-9:
        shown = "10^(10^299)" if math.isinf(low) else f"10^{math.floor(low):,}"
        _too_large(f"more than {shown} structures to check, at most {MAX_STRUCTURES:,} (MAX_STRUCTURES)")
    count = _structure_count(sig) << p  # small now: the bound above is tight enough
    if count > MAX_STRUCTURES:
        _too_large(f"{count:,} structures to check, at most {MAX_STRUCTURES:,} (MAX_STRUCTURES)")
    if not sig.monadic:
        D = RELATIONAL_BOUND
    else:  # every type once; with equality also the constants apart and r more of each type
        types = 2 ** len(sig.predicates)
        D = len(sig.constants) + r * types if sig.equality else types
    if r * math.log10(D) > math.log10(MAX_CELLS) or count * D**r > MAX_CELLS:
        _too_large(f"{count:,} worlds x {D}^{r} assignments of the variables, at most {MAX_CELLS:,} cells (MAX_CELLS)")
    return D


def _too_large(what: str):
    raise HybridTRMError(
        f"logic: too large to label exactly: {what}; use fewer predicates, variables, constants or arguments"
    )


_LOG2 = math.log10(2)


def _power(base: int, exponent: int) -> float:
    """base^exponent as a float, inf past float range (base >= 1)."""
    return math.inf if exponent * math.log10(base) > 300 else float(base) ** exponent


def _log10_structures_at_least(sig: Signature) -> float:
    """A lower bound on log10 of _structure_count(sig), cheap for any signature (inf
    past float range), and close enough that where it is within MAX_STRUCTURES every
    factor of the exact count is small (at most 17 constants, 2^16 types, 3^a <= 19)."""
    c, k = len(sig.constants), len(sig.predicates)
    if not sig.monadic:  # the largest size alone: 2^tuples relations, >= B^c / B! namings of the constants
        B = RELATIONAL_BOUND
        tuples = sum(_power(B, arity) for _, arity in sig.predicates)
        return tuples * _LOG2 + c * math.log10(B) - math.log10(math.factorial(B))
    types = _power(2, k)
    if not sig.equality:  # 2^T - 1 nonempty sets of types; all T types with T^c namings
        return max((types - 1) * _LOG2, c * k * _LOG2)
    r = len(sig.variables)
    # The constants' elements: all apart (T^c typings) or in at most two blocks
    # (2^(c-1) partitions); then 0..r further elements of each type.
    named = max(c * k * _LOG2, (c - 1) * _LOG2) if c else 0.0
    return named + (types * math.log10(r + 1) if r else 0.0)


def _partitions(count: int, most: int) -> list[int]:
    """S(count, j) for j = 0..most: the ways to split `count` constants into j named
    elements, i.e. restricted-growth strings with j distinct values."""
    row = [1] + [0] * most
    for _ in range(count):
        row = [0] + [j * row[j] + row[j - 1] for j in range(1, most + 1)]
    return row


def _structure_count(sig: Signature) -> int:
    """How many structures _enumerate_structures yields (one more when monadic with
    equality and no constants: the empty one it skips). Exact integers: call it after the
    log-space bound, as for a wide signature they are astronomically long."""
    c, T = len(sig.constants), 2 ** len(sig.predicates)
    if not sig.monadic:
        sizes = range(1, RELATIONAL_BOUND + 1)
        return sum(2 ** sum(n**a for _, a in sig.predicates) * sum(_partitions(c, n)) for n in sizes)
    if not sig.equality:
        return sum(math.comb(T, s) * s**c for s in range(1, T + 1))
    r = len(sig.variables)
    return sum(ways * T**j for j, ways in enumerate(_partitions(c, c))) * (r + 1) ** T


@lru_cache(maxsize=64)
def _semantics(sig: Signature):
    return _Structures(sig) if sig.first_order else _TruthTables(sig.props)


def node_answers(tree: Node) -> list[str | None]:
    """Every node's exact answer in postorder: a formula's verdict, nothing for a
    term, and for a pair node its entails / relation answer."""
    sem = _semantics(signature(tree))
    values: dict[int, object] = {}
    labels: list[str | None] = []
    for node in postorder(tree):
        budget.check()  # a node costs up to 2^24 bits or MAX_CELLS cells
        k = kind(node)
        if k in TERMS:
            labels.append(None)
            continue
        args = [values.pop(id(c)) for c in children(node) if kind(c) not in TERMS]
        if k in PAIRS:
            a, b = (sem.worlds_of(v) for v in args)
            labels.append(_pair_answer(k, a, b, sem.full))
            continue
        if k in QUANTIFIERS:
            args = [None, args[0]]
        value = sem.value(k, node, args)
        values[id(node)] = value
        labels.append(sem.verdict(value))
    return labels


def _pair_answer(k: str, a: int, b: int, full: int) -> str:
    a_in_b, b_in_a = a & ~b == 0, b & ~a == 0
    if k == "entails":
        return "yes" if a_in_b else "no"
    return bowman_relation(a_in_b, b_in_a, a & b == 0, a | b == full)


# --- the world grid: what the model computes ---------------------------------------

ATOMS = ("PROP", "pred", "eq", "true", "false")
# A formula's cell: its truth in the world. A pair node's cell: which of A and B hold.
PAIR_CELLS = ("false", "true", "neither", "B only", "A only", "both")


@dataclass(frozen=True)
class LogicTask(WorldTask):
    """A logic question read off the model's truth grid: a formula is valid where it
    holds in every world checked; A entails B where no world has A without B; the
    relation from which of A-and-B, A-only, B-only, neither occur."""

    def read(self, present: frozenset[int]) -> str:
        pair = {c - 2 for c in present if c >= 2}  # 2a + b
        if not pair:
            return "valid" if present == {1} else "unsatisfiable" if present == {0} else "contingent"
        a_only, b_only, both, neither = 2 in pair, 1 in pair, 3 in pair, 0 in pair
        if self.name == "entails":
            return "no" if a_only else "yes"
        return bowman_relation(not a_only, not b_only, not both, not neither)


LEAN = 0.4  # the largest shift of a letter's chance of being true in a leaning world


def _leanings(tree: Node, sig: Signature) -> list[np.ndarray]:
    """Where the answer's deciding worlds likely lie, one direction per case that
    decides it: a letter that occurs only positively in A is more often true where
    A is (and false where A is not). A formula: toward it true, and toward it false;
    `A |= B`: toward A true and B false; `A ; B`: toward each of the four cases.
    Each direction is +1 / -1 / 0 per letter (sig.props order)."""
    def toward(formula: Node) -> np.ndarray:
        score = dict.fromkeys(sig.props, 0)
        stack = [(formula, 1)]
        while stack:
            node, sign = stack.pop()
            k = kind(node)
            if k == "PROP":
                score[str(node)] += sign
            elif k == "iff":
                stack.extend((c, 0) for c in children(node))
            else:
                flip = {"not": [-1], "implies": [-1, 1]}.get(k, [1] * len(children(node)))
                stack.extend((c, sign * f) for c, f in zip(children(node), flip) if kind(c) not in TERMS)
        return np.sign(np.array([score[p] for p in sig.props]))

    k = kind(tree)
    if k not in PAIRS:
        return [toward(tree), -toward(tree)]
    a, b = (toward(c) for c in children(tree))
    if k == "entails":
        return [np.sign(a - b)]
    return [np.sign(sa * a + sb * b) for sa in (1, -1) for sb in (1, -1)]


def _grid(tree: Node, positions: int) -> "_Positions":
    """The positions a tree is evaluated at: seeded by its signature, so the same
    tree always gets the same worlds."""
    sig = signature(tree)
    return _Positions(sig, positions, zlib.crc32(repr(sig).encode()), _leanings(tree, sig))


class _Positions:
    """The grid positions the model evaluates a formula at, with the semantics of
    every node kind there (the interface of _TruthTables, on arrays of positions).

    A position is a world and, first-order, an element for every variable name a
    quantifier binds: a world is one of the labeller's structures (with an
    assignment of the propositions), and a quantifier over x reads its body at the
    positions that differ from its own only in x's element (`partners`). All
    positions when they fit in `count`; else a seeded sample of worlds, first-order
    each with all its assignments, as many as fit. A sampled propositional world is
    a random assignment: half of them uniform, the rest leaning each letter, by a
    random strength up to LEAN, toward one of `leanings` (+1 true, -1 false, 0
    neither; see _leanings), in equal shares."""

    def __init__(self, sig: Signature, count: int, seed: int, leanings: list[np.ndarray] = ()):
        rng = np.random.default_rng(seed)
        self.sig = sig
        self.vars = {v: i for i, v in enumerate(sig.variables)}
        if not sig.first_order:
            self.sem = None
            v = len(sig.props)
            if v < 63 and 2**v <= count:
                bits = (np.arange(2**v)[:, None] >> np.arange(v)) & 1  # world w: variable i is bit i
            else:
                chance = np.full((count, v), 0.5)
                for rows, lean in zip(np.array_split(np.arange(count // 2, count), max(1, len(leanings))), leanings):
                    chance[rows] += lean * rng.random((len(rows), 1)) * LEAN
                bits = rng.random((count, v)) < chance
            self.world = np.zeros(len(bits), dtype=np.int64)
            self.props = {name: bits[:, i].astype(bool) for i, name in enumerate(sig.props)}
            self.sigma = np.zeros((len(bits), 0), dtype=np.int64)
            self.size = np.ones(len(bits), dtype=np.int64)
        else:
            try:
                self.sem = _semantics(sig)
            except HybridTRMError as err:
                why = str(err).removeprefix("logic: ")
                raise HybridTRMError(f"logic: the model's grid of worlds cannot hold this formula's structures: {why}") from None
            sizes = self.sem.present.sum(1)
            per_world = sizes ** len(self.vars)
            chosen, total = [], 0
            for i, w in enumerate(range(self.sem.W) if per_world.sum() <= count else rng.permutation(self.sem.W)):
                if i % 1024 == 0:
                    budget.check()
                if total + per_world[w] <= count:
                    chosen.append(w)
                    total += per_world[w]
            if not chosen:
                raise HybridTRMError(
                    f"logic: one world needs {per_world.min()} grid positions (elements ^ variables); "
                    f"the grid has {count}: use fewer variables or a larger grid"
                )
            chosen = np.array(chosen)
            counts = per_world[chosen]
            self.world = np.repeat(chosen, counts)
            self.size = sizes[self.world]
            # A world's positions in product order (the first variable slowest): a
            # position's index within its world in base `size`, one digit per variable
            # (none when no quantifier binds one, as in P(a)).
            local = np.arange(len(self.world)) - np.repeat(np.cumsum(counts) - counts, counts)
            place = self.size[:, None] ** np.arange(len(self.vars) - 1, -1, -1)  # (positions, variables)
            self.sigma = (local[:, None] // place % self.size[:, None]).astype(np.int64)
            self.props = {p: self.sem.props[p].reshape(-1)[self.world] for p in sig.props}
        self.count = len(self.world)
        self._partners: dict[str, np.ndarray] = {}

    def partners(self, var: str) -> np.ndarray:
        """(positions, K): for each position, the positions that differ from it only in
        var's element, one per element of its world (repeated to K columns)."""
        if var not in self._partners:
            self._partners[var] = self._find_partners(var)
        return self._partners[var]

    def _find_partners(self, var: str) -> np.ndarray:
        i, r = self.vars[var], len(self.vars)
        stride = self.size ** (r - 1 - i)  # positions of a world are in product order
        base = np.arange(self.count) - self.sigma[:, i] * stride
        elements = np.arange(int(self.size.max()))
        elements = np.where(elements[None, :] < self.size[:, None], elements[None, :], 0)
        return base[:, None] + elements * stride[:, None]

    def describe(self, j: int) -> str:
        """The world of position j, as the verifier writes an interpretation."""
        props = {p: bool(v[j]) for p, v in self.props.items()}
        if self.sem is None:
            return symbolic.describe(self.sig, 0, {}, {}, props)
        w = self.world[j]
        relations = {name: {tuple(map(int, args)) for args in np.argwhere(self.sem.preds[name][w])} for name, _ in self.sig.predicates}
        constants = {c: int(self.sem.consts[c].reshape(-1)[w]) for c in self.sig.constants}
        return symbolic.describe(self.sig, int(self.size[j]), relations, constants, props)

    def _term(self, token: Node) -> np.ndarray:
        if kind(token) == "VAR":
            return self.sigma[:, self.vars[str(token)]]
        return self.sem.consts[str(token)].reshape(-1)[self.world]

    def value(self, k: str, node: Node, args: list) -> np.ndarray:
        if k == "PROP":
            return self.props[str(node)]
        if k in ("true", "false"):
            return np.full(self.count, k == "true")
        if k == "pred":
            table = self.sem.preds[str(node.children[0])]
            return table[(self.world, *(self._term(t) for t in node.children[1:]))]
        if k == "eq":
            return self._term(node.children[0]) == self._term(node.children[1])
        if k == "not":
            return ~args[0]
        if k in QUANTIFIERS:
            body = args[1][self.partners(str(node.children[0]))]
            return body.all(axis=1) if k == "forall" else body.any(axis=1)
        return _connective(k, *args)


# --- surface syntaxes ----------------------------------------------------------------

SYNTAXES = ("ascii", "words", "unicode", "evans", "bowman")
_SPELLING = {
    "ascii": {"not": "~", "and": " & ", "or": " | ", "implies": " -> ", "iff": " <-> ", "forall": "forall ",
              "exists": "exists ", "dot": ". ", "true": "true", "false": "false", "entails": " |= "},
    "words": {"not": "not ", "and": " and ", "or": " or ", "implies": " implies ", "iff": " iff ", "forall": "forall ",
              "exists": "exists ", "dot": ". ", "true": "true", "false": "false", "entails": " |= "},
    "unicode": {"not": "¬", "and": " ∧ ", "or": " ∨ ", "implies": " → ", "iff": " ↔ ", "forall": "∀", "exists": "∃",
                "dot": ". ", "true": "⊤", "false": "⊥", "entails": " ⊨ "},
}
_LEVEL = {"iff": 1, "implies": 2, "or": 3, "and": 4}  # binding strength; atoms and negation: 5
# The kinds each syntax can write (the datasets' syntaxes are propositional).
_WRITES = {
    "evans": {"PROP", "not", "and", "or", "implies", "entails", "relation"},
    "bowman": {"PROP", "not", "and", "or", "entails", "relation"},
}


def render(tree: Node, syntax: str = "ascii") -> str:
    """Text in the given syntax that parses back to this tree. Iterative: any depth."""
    if syntax not in SYNTAXES:
        raise HybridTRMError(f"logic: unknown syntax {syntax!r}; syntaxes: {', '.join(SYNTAXES)}")
    out: dict[int, tuple[str, int, bool]] = {}  # node -> (text, level, ends in an open quantifier)
    for node in postorder(tree):
        k = kind(node)
        if k in TERMS:
            continue
        if syntax in _WRITES and k not in _WRITES[syntax]:
            raise HybridTRMError(f"logic: the {syntax} syntax cannot write a {k} node")
        parts = [out.pop(id(c)) for c in children(node) if kind(c) not in TERMS]
        out[id(node)] = _render_node(syntax, k, node, parts)
    return out[id(tree)][0]


def _render_node(syntax: str, k: str, node: Node, parts: list) -> tuple[str, int, bool]:
    if k == "PROP":
        return str(node), 5, False
    if k in ("pred", "eq"):
        terms = [str(t) for t in node.children]
        text = f"{terms[0]}({', '.join(terms[1:])})" if k == "pred" else f"{terms[0]} = {terms[1]}"
        return text, 5, False
    if k in PAIRS:
        joint = " ; " if k == "relation" else (_SPELLING.get(syntax, _SPELLING["ascii"])["entails"])
        return parts[0][0] + joint + parts[1][0], 0, False
    if syntax == "evans":
        if k == "not":
            return f"~({parts[0][0]})", 5, False
        op = {"and": "&", "or": "|", "implies": ">"}[k]
        return f"({parts[0][0]}{op}{parts[1][0]})", 5, False
    if syntax == "bowman":
        if k == "not":
            return f"( not {parts[0][0]} )", 5, False
        return f"( {parts[0][0]} ( {k} {parts[1][0]} ) )", 5, False
    spell = _SPELLING[syntax]
    if k in ("true", "false"):
        return spell[k], 5, False
    if k in QUANTIFIERS:
        return f"{spell[k]}{node.children[0]}{spell['dot']}{parts[0][0]}", 0, True
    if k == "not":
        text, level, is_open = parts[0]
        if 0 < level < 5:  # a binary operand; a quantifier needs no parentheses here
            return f"{spell['not']}({text})", 5, False
        return spell["not"] + text, 5, is_open
    level = _LEVEL[k]
    (lt, ll, lo), (rt, rl, ro) = parts
    # A left operand in parentheses if it binds more loosely, would swallow the
    # operator (an open quantifier), or sits on the wrong side of its own operator.
    if ll < level or lo or (ll == level and k == "implies"):
        lt = f"({lt})"
    if 0 < rl < level or (rl == level and k != "implies"):  # (a quantifier, level 0, may close a formula)
        rt, ro = f"({rt})", False
    return lt + spell[k] + rt, level, ro


# --- the generator -------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PREDICATES = "PQRSTUVW"
VARIABLES = "xyzuvw"
CONSTANTS = "abcdefgh"
_POOL = 12  # formulas drawn per round; answers are searched among their combinations
_REDRAWS = 200  # tries at a formula within the operators cap
_ROUNDS = 8


@dataclass(frozen=True)
class LogicDifficulty:
    # False (0): propositional letters; True (1): monadic predicates over x, y, ...;
    # a number between: the chance that an example is first-order.
    first_order: float = False
    variables: int = 3  # propositional letters (drawn from a..z), or first-order variables x, y, z, u, v, w
    predicates: int = 2  # first-order: unary predicates P, Q, R, ... (monadic: verdicts are exact)
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
    # empty: uniform. Drawn answers are found by search, so rare ones cost time.
    balance: str = ""
    syntax: str = "ascii"  # ascii, words, unicode, evans, bowman, or mixed (one per example)
    # Most operators (negations, connectives, quantifiers) in each formula of a pair,
    # or in a verdict's formula; 0: no cap. Bowman's train0-6 hold pairs of <= 6.
    operators: int = 0
    truth_constants: float = 0.0  # chance that an atom is `true` or `false`


class LogicDomain(Domain):
    name = "logic"
    grammar = "logic"
    tasks = {
        "verdict": LogicTask("verdict", VERDICTS, "a formula is valid, contingent or unsatisfiable"),
        "entails": LogicTask(
            "entails", ENTAILS + VERDICTS, "does A entail B, for `A |= B`: yes / no (subformulas: their verdicts)",
            PAIR_CELLS,
        ),
        "relation": LogicTask(
            "relation", RELATIONS + VERDICTS,
            "Bowman's relation of A and B, for `A ; B`: = < > ^ | v # (subformulas: their verdicts)",
            PAIR_CELLS,
        ),
    }
    Difficulty = LogicDifficulty
    curriculum_start = {"depth": 1, "variables": 1, "quantifier_depth": 1, "operators": 2}
    node_kinds = (
        "PROP", "VAR", "CONST", "PRED", "true", "false", "not", "and", "or", "implies", "iff",
        "forall", "exists", "pred", "eq", "entails", "relation",
    )

    def parse(self, text: str) -> Node:
        return resolve(parse(self.grammar, text, domain=self.name))

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        _check_shape(tree, task)
        return node_answers(tree)

    def worlds(self, tree: Node, task: str, positions: int) -> Worlds:
        """Every node's truth at up to `positions` grid positions (see _Positions); a
        pair node's cell is which of A, B hold there."""
        _check_shape(tree, task)
        grid = _grid(tree, positions)
        positions = grid.count
        order = postorder(tree)
        index = {id(node): i for i, node in enumerate(order)}
        values = _node_values(grid, tree)
        atoms = np.full((len(order), positions), -1, dtype=np.int64)
        labels = np.full((len(order), positions), -1, dtype=np.int64)
        reads = None
        for i, (node, value) in enumerate(zip(order, values)):
            k = kind(node)
            if k in PAIRS:
                a, b = (values[index[id(c)]] for c in children(node))
                labels[i] = 2 + 2 * a.astype(np.int64) + b
                continue
            if value is None:
                continue
            labels[i] = value
            if k in ATOMS:
                atoms[i] = value
            if k in QUANTIFIERS:
                partners = grid.partners(str(node.children[0]))
                if reads is None:
                    reads = np.broadcast_to(np.arange(positions)[None, :, None], (len(order), positions, partners.shape[1])).copy()
                reads[i] = partners
        return Worlds(atoms, labels, reads)

    def witness(self, tree: Node, task: str, cells: list[int], positions: int) -> str:
        """The world in which the model's root grid shows its answer: where a
        contingent formula is false (a countermodel), or where A holds without B."""
        wanted = {"verdict": 0, "entails": 4}.get(task)
        if wanted not in cells or (task == "verdict" and 1 not in cells):
            return ""
        where = _grid(tree, positions).describe(cells.index(wanted))
        return f"false in {where}" if task == "verdict" else f"A true, B false in {where}"

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        tree = self.parse(text) if tree is None else tree
        _check_shape(tree, task)
        decide = {"verdict": symbolic.verdict, "entails": symbolic.entails, "relation": symbolic.relation}[task]
        try:
            expected, evidence = decide(tree, budget_s)
        except VerifierTimeout as err:
            return Verdict(None, None, str(err))
        given = answer.strip().lower()
        if given not in ROOT_ANSWERS[task]:
            return Verdict(False, expected, f"{answer!r} is not one of {' '.join(ROOT_ANSWERS[task])}; {evidence}")
        return Verdict(given == expected, expected, evidence)

    def generate(self, rng: random.Random, difficulty: LogicDifficulty, task: str) -> Example:
        d = difficulty
        ops, syntaxes = _check_knobs(d)
        syntax = rng.choice(syntaxes) if d.syntax == "mixed" else d.syntax
        if 0 < d.first_order < 1:  # a mixture: this example is first-order or not
            d = replace(d, first_order=rng.random() < d.first_order)
            syntax = syntax if syntax in _able(d, ops) else "ascii"
        if d.first_order:
            sig = Signature((), tuple((p, 1) for p in PREDICATES[: d.predicates]), tuple(CONSTANTS[: d.constants]),
                            tuple(sorted(VARIABLES[: d.variables])), d.equality > 0)
            letters = ()
        else:
            letters = tuple(sorted(rng.sample(LETTERS, d.variables)))
            sig = Signature(letters, (), (), (), False)
        sem = _semantics(sig)
        answers = ROOT_ANSWERS[task]
        target = rng.choices(answers, weights=_weights(d.balance, answers))[0]
        tree = None
        for _ in range(_ROUNDS):
            pool = [_formula(rng, d, ops, letters, task) for _ in range(_POOL)]
            worlds = [sem.worlds_of(_value(sem, f)) for f in pool]
            tree = _search(rng, task, target, ops, pool, worlds, sem.full, d)
            if tree is not None:
                break
        if tree is None:  # the drawn answer did not turn up: take any pair, labelled exactly
            root = task if task in PAIRS else next(op for op in ops if op in BINARY)
            tree = lark.Tree(root, [pool[0], pool[1]])
        text = render(tree, syntax)
        labels = self.label_subtrees(self.parse(text), task)
        meta = {"depth": _height(tree), "syntax": syntax}
        if d.first_order:
            meta["quantifier_depth"] = _quantifier_depth(tree)
        return Example(text, labels[-1], task, meta)


def _check_shape(tree: Node, task: str) -> None:
    k = kind(tree)
    if task == "verdict" and k in PAIRS:
        raise HybridTRMError(f"logic/verdict takes one formula; a pair `A {'|=' if k == 'entails' else ';'} B` is task {k}")
    if task in PAIRS and k != task:
        shape = {"entails": "A |= B", "relation": "A ; B"}[task]
        raise HybridTRMError(f"logic/{task} takes a pair written `{shape}`")


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
    if not balance.strip():
        return [1.0] * len(answers)
    try:
        weights = [float(w) for w in balance.split(",")]
    except ValueError:
        weights = []
    if len(weights) != len(answers) or min(weights) < 0 or sum(weights) <= 0:
        raise HybridTRMError(f"logic: balance {balance!r} needs {len(answers)} weights >= 0 for {' '.join(answers)}")
    return weights


def _value(sem, tree: Node):
    """The root value of a generated (resolved) formula under the labeller's semantics."""
    return _node_values(sem, tree)[-1]


def _node_values(sem, tree: Node) -> list:
    """Every formula node's value under `sem`, in postorder (None at terms and pairs)."""
    values: dict[int, object] = {}
    out = []
    for node in postorder(tree):
        budget.check()
        k = kind(node)
        if k in TERMS or k in PAIRS:
            out.append(None)
            continue
        args = [values[id(c)] for c in children(node) if kind(c) not in TERMS]
        values[id(node)] = sem.value(k, node, [None, *args] if k in QUANTIFIERS else args)
        out.append(values[id(node)])
    return out


def _search(rng, task, target, ops, pool, worlds, full, d) -> Node | None:
    """A tree over the pool whose answer is `target`: for a verdict, a pool formula,
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
                        return pool[i]
            elif root == "not":
                for i in rng.sample(range(n), n):
                    if _verdict_of(full ^ worlds[i], full) == target:
                        return lark.Tree("not", [pool[i]])
            else:
                for i, j in pairs:
                    for flip in flips:
                        right = full ^ worlds[j] if flip else worlds[j]
                        if _verdict_of(_combine(root, worlds[i], right, full), full) == target:
                            return lark.Tree(root, [pool[i], _copy(lark.Tree("not", [pool[j]]) if flip else pool[j])])
        return None
    for i, j in pairs:
        a, b = worlds[i], worlds[j]
        for flip in flips:
            bb = full ^ b if flip else b
            if _pair_answer(task, a, bb, full) == target:
                right = lark.Tree("not", [pool[j]]) if flip else pool[j]
                return lark.Tree(task, [pool[i], _copy(right)])
    return None


def _verdict_of(worlds: int, full: int) -> str:
    return "valid" if worlds == full else "unsatisfiable" if worlds == 0 else "contingent"


def _combine(op: str, a: int, b: int, full: int) -> int:
    """A binary connective on bitmasks of worlds."""
    if op == "and":
        return a & b
    if op == "or":
        return a | b
    if op == "implies":
        return (full ^ a) | b
    return full ^ (a ^ b)  # iff


def _copy(tree: Node) -> Node:
    """A fresh copy (nodes are told apart by identity). Generated trees are shallow."""
    if isinstance(tree, lark.Token):
        return lark.Token(tree.type, str(tree))
    return lark.Tree(tree.data, [_copy(c) for c in tree.children])


def _formula(rng: random.Random, d: LogicDifficulty, ops: list[str], letters: tuple[str, ...], task: str) -> Node:
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
            formula = _grow(rng, d, ops, letters, height, (), 0, 0)
        else:
            nesting = rng.randint(d.quantifier_depth_min, d.quantifier_depth)
            formula = _grow(rng, d, ops, letters, max(height, nesting), (), d.quantifier_depth, nesting)
        if not d.operators or _connectives(formula) <= room:
            return formula
    raise HybridTRMError(f"logic: no formula of depth >= {d.depth_min} turned up with at most {d.operators} operators")


def _connectives(tree: Node) -> int:
    """Negations, binary connectives and quantifiers: Bowman's count of operators."""
    return sum(kind(node) in ("not", *BINARY, *QUANTIFIERS) for node in postorder(tree))


def _grow(rng, d, ops, letters, height: int, bound: tuple[str, ...], quantifiers: int, need: int) -> Node:
    """A formula of exactly `height` levels on one path, which also holds `need`
    nested quantifiers; `bound` are the variables in scope, `quantifiers` the nesting
    still allowed on any path."""
    terms = bound + tuple(CONSTANTS[: d.constants]) if d.first_order else ()
    must_bind = d.first_order and not terms
    if height == 0 and not must_bind:
        return _atom(rng, d, letters, terms, bound)
    chance = need / height if need else d.quantifier
    if d.first_order and quantifiers > 0 and (must_bind or rng.random() < chance):
        free = [v for v in VARIABLES[: d.variables] if v not in bound]
        var = rng.choice(free or list(VARIABLES[: d.variables]))
        scope = tuple(b for b in bound if b != var) + (var,)
        body = _grow(rng, d, ops, letters, max(0, height - 1), scope, quantifiers - 1, max(0, need - 1))
        return lark.Tree(rng.choice(QUANTIFIERS), [lark.Token("VAR", var), body])
    if height == 0:  # must bind, but no nesting left: only constants could help, and there are none
        raise HybridTRMError("logic: cannot write a first-order atom without a variable in scope or a constant")
    op = rng.choice(ops)
    if op == "not":
        return lark.Tree("not", [_grow(rng, d, ops, letters, height - 1, bound, quantifiers, need)])
    deep = _grow(rng, d, ops, letters, height - 1, bound, quantifiers, need)
    side = _grow(rng, d, ops, letters, rng.randint(0, height - 1), bound, quantifiers, 0)
    left, right = (deep, side) if rng.random() < 0.5 else (side, deep)
    return lark.Tree(op, [left, right])


def _atom(rng, d, letters, terms, bound) -> Node:
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
    return lark.Tree("pred", [lark.Token("PRED", rng.choice(PREDICATES[: d.predicates])), term()])


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
