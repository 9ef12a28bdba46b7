"""The world grid: what the model computes. LogicTask reads an answer off the
model's truth grid; _Positions are the grid positions (worlds, first-order with an
element for every bound variable) and the semantics of every node kind there;
_grid seeds them by a tree's signature, _leanings biases sampled worlds toward the
ones that decide the answer."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ... import budget
from ...errors import HybridTRMError
from ...grammar import Node, children, kind
from ...verifiers import logic as symbolic
from ...verifiers.logic import Signature, bowman_relation, signature
from ..base import WorldTask
from .roles import PAIRS, QUANTIFIERS, TERMS
from .semantics import _connective, _semantics

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
