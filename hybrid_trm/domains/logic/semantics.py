"""The labeller's exact semantics: every world of a signature. Truth tables as
bitmasks for propositional formulas (_TruthTables); every finite structure up to
the monadic bound, as numpy arrays, for first-order ones (_Structures), sized
before anything is enumerated (_check_size, against MAX_STRUCTURES and MAX_CELLS).
`node_answers` labels every node of a tree with its exact answer."""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import product

import numpy as np

from ... import budget
from ...errors import HybridTRMError
from ...grammar import Node, children, kind, postorder
from ...verifiers.logic import RELATIONAL_BOUND, RELATIONS, Signature, bowman_relation, signature
from .roles import PAIRS, QUANTIFIERS, TERMS

VERDICTS = ("valid", "contingent", "unsatisfiable")
ENTAILS = ("yes", "no")
ROOT_ANSWERS = {"verdict": VERDICTS, "entails": ENTAILS, "relation": RELATIONS}

MAX_TRUTH_TABLE_VARIABLES = 24  # 2^24 worlds: a 2 MB bitmask per subformula
MAX_CELLS = 4_000_000  # worlds x assignments of the variables: the largest first-order table labelled
MAX_STRUCTURES = 100_000  # structures x assignments of the propositions: the worlds W enumerated


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


def _combine(op: str, a: int, b: int, full: int) -> int:
    """A binary connective on bitmasks of worlds."""
    if op == "and":
        return a & b
    if op == "or":
        return a | b
    if op == "implies":
        return (full ^ a) | b
    return full ^ (a ^ b)  # iff


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


def countable_within(sig: Signature, most: int) -> bool:
    """Whether the labeller's structures of `sig`, times the letters' assignments,
    number at most `most` (decided in log space first: the count can be astronomical)."""
    if _log10_structures_at_least(sig) + len(sig.props) * _LOG2 > math.log10(max(1, most)) + 1e-9:
        return False
    return (_structure_count(sig) << len(sig.props)) <= most
