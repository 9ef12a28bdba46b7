"""The world grid: what the model computes. LogicTask reads an answer off the
model's truth grid; _Positions are the grid positions (a world and, first-order,
an element for every quantifier slot) and the semantics of every node kind there;
_grid builds them for a tree. The worlds themselves come from worlds.py: every
one where they fit (the grid then decides), else a seeded sample leaning toward
the worlds that decide the answer."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ... import budget
from ...grammar import Node, children, kind
from ...verifiers.logic import Signature, Structure, bowman_relation, signature
from ..base import WorldTask
from .roles import PAIRS, QUANTIFIERS, TERMS
from .semantics import _connective
from .worlds import LEAN, Letters, WorldSet, first_order_worlds

__all__ = ["ATOMS", "LEAN", "PAIR_CELLS", "LogicTask", "_grid"]

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

    def witnessed(self, answer: str) -> bool:
        """Whether the answer claims only what some world shows (a countermodel, a
        world of each case), never that no world of some kind exists: such an answer
        stands on a sample of worlds as well as on all of them."""
        return answer in ("contingent", "no", "#")


def _leanings(tree: Node, sig: Signature) -> list[np.ndarray]:
    """Where the answer's deciding worlds likely lie, one direction per case that
    decides it: a letter (or predicate) that occurs only positively in A is more
    often true where A is (and false where A is not). A formula: toward it true,
    and toward it false; `A |= B`: toward A true and B false; `A ; B`: toward each
    of the four cases. Each direction is +1 / -1 / 0 per symbol, in the order of
    sig.props then sig.predicates."""
    symbols = list(sig.props) + [name for name, _ in sig.predicates]

    def toward(formula: Node) -> np.ndarray:
        score = dict.fromkeys(symbols, 0)
        stack = [(formula, 1)]
        while stack:
            node, sign = stack.pop()
            k = kind(node)
            if k == "PROP":
                score[str(node)] += sign
            elif k == "pred":
                score[str(node.children[0])] += sign
            elif k == "iff":
                stack.extend((c, 0) for c in children(node))
            else:
                flip = {"not": [-1], "implies": [-1, 1]}.get(k, [1] * len(children(node)))
                stack.extend((c, sign * f) for c, f in zip(children(node), flip) if kind(c) not in TERMS)
        return np.sign(np.array([score[s] for s in symbols], dtype=np.int64))

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
    slots = _slots(tree)
    rng = np.random.default_rng(zlib.crc32(repr(sig).encode()))
    leanings = _leanings(tree, sig)
    if not sig.first_order:
        worlds: WorldSet = Letters(sig, positions, rng, leanings)
    else:
        worlds = first_order_worlds(sig, positions, slots[1], rng, leanings)
    return _Positions(tree, sig, worlds, slots)


def _slots(tree: Node) -> tuple[dict[int, int | None], int]:
    """A slot per quantifier: how many quantifiers enclose it, counting only those
    whose variable occurs (a vacuous quantifier has no slot: it reads its body where
    it stands). Given to the quantifier node, its variable and every occurrence it
    binds. Quantifiers that never nest share a slot, so a position needs an element
    per level of nesting, not per variable name. Returns ({id: slot}, slots)."""
    binder: dict[int, int] = {}  # id(occurrence) -> id(its quantifier)
    used: set[int] = set()
    scopes: dict[str, list[Node]] = {}  # a name's enclosing quantifiers, innermost last
    stack: list[tuple[Node, bool]] = [(tree, False)]  # (node, leaving its scope)
    seen = 0
    while stack:
        node, leaving = stack.pop()
        k = kind(node)
        if leaving:
            scopes[str(node.children[0])].pop()
            continue
        seen += 1
        if seen % 4096 == 0:
            budget.check()
        if k in QUANTIFIERS:
            scopes.setdefault(str(node.children[0]), []).append(node)
            stack.extend([(node, True), (node.children[1], False)])
        elif k in ("pred", "eq"):
            for t in node.children:
                if kind(t) == "VAR":
                    binder[id(t)] = id(scopes[str(t)][-1])
                    used.add(id(scopes[str(t)][-1]))
        else:
            stack.extend((c, False) for c in children(node))
    slot: dict[int, int | None] = {}
    deepest = 0
    depths: list[tuple[Node, int]] = [(tree, 0)]
    while depths:
        node, depth = depths.pop()
        if kind(node) in QUANTIFIERS:
            mine = depth if id(node) in used else None
            slot[id(node)] = slot[id(node.children[0])] = mine
            deepest = max(deepest, depth + (mine is not None))
            depths.append((node.children[1], depth + (mine is not None)))
        else:
            depths.extend((c, depth) for c in children(node))
    for token, quantifier in binder.items():
        slot[token] = slot[quantifier]
    return slot, deepest


class _Positions:
    """The grid positions the model evaluates a formula at, with the semantics of
    every node kind there (the interface of the labeller's semantics, on arrays of
    positions).

    A position is a world and, first-order, an element for every quantifier slot:
    a quantifier reads its body at the positions that differ from its own only in
    its slot's element (`partners`). Propositional: every assignment when they fit
    in `count`, else a seeded sample, half uniform and half leaning each letter, by
    a random strength up to LEAN, toward one of `leanings` (+1 true, -1 false, 0
    neither; see _leanings), in equal shares. First-order: see worlds.py. The
    worlds may be shared by several formulas of one signature (the generator's
    search): each gets its own positions over them."""

    def __init__(self, tree: Node, sig: Signature, worlds: WorldSet, slots: tuple[dict[int, int], int] | None = None):
        self.sig, self.worlds = sig, worlds
        self.slot, self.slots = slots or _slots(tree)
        self.exhaustive = worlds.exhaustive
        counts = worlds.size**self.slots if sig.first_order else np.ones(worlds.count, dtype=np.int64)
        self.world = np.repeat(np.arange(worlds.count), counts)
        self.first = np.cumsum(counts) - counts  # each world's first position
        self.size = worlds.size[self.world]
        # A world's positions in product order (the first slot slowest): a position's
        # index within its world in base `size`, one digit per slot (none when no
        # quantifier binds one, as in P(a)).
        local = np.arange(len(self.world)) - np.repeat(self.first, counts)
        place = self.size[:, None] ** np.arange(self.slots - 1, -1, -1)  # (positions, slots)
        self.sigma = (local[:, None] // place % np.maximum(self.size, 1)[:, None]).astype(np.int64)
        self.count = len(self.world)
        self._partners: dict[int, np.ndarray] = {}

    def partners(self, quantifier: Node) -> np.ndarray:
        """(positions, K): for each position, the positions that differ from it only in
        the quantifier's slot, one per element of its world (repeated to K columns)."""
        i = self.slot[id(quantifier)]
        if i is None:  # vacuous: its body where it stands
            return np.arange(self.count)[:, None]
        if i not in self._partners:
            stride = self.size ** (self.slots - 1 - i)  # positions of a world are in product order
            base = np.arange(self.count) - self.sigma[:, i] * stride
            elements = np.arange(int(self.size.max()))
            elements = np.where(elements[None, :] < self.size[:, None], elements[None, :], 0)
            self._partners[i] = base[:, None] + elements * stride[:, None]
        return self._partners[i]

    def structure(self, j: int) -> Structure:
        """The world of position j."""
        return self.worlds.structure(int(self.world[j]))

    def describe(self, j: int) -> str:
        """The world of position j, as the verifier writes an interpretation."""
        return self.structure(j).describe(self.sig)

    def _term(self, token: Node) -> np.ndarray:
        if kind(token) == "VAR":
            return self.sigma[:, self.slot[id(token)]]
        return self.worlds.constant(str(token))[self.world]

    def value(self, k: str, node: Node, args: list) -> np.ndarray:
        if k == "PROP":
            return self.worlds.prop(str(node))[self.world]
        if k in ("true", "false"):
            return np.full(self.count, k == "true")
        if k == "pred":
            return self.worlds.holds(str(node.children[0]), self.world, [self._term(t) for t in node.children[1:]])
        if k == "eq":
            return self._term(node.children[0]) == self._term(node.children[1])
        if k == "not":
            return ~args[0]
        if k in QUANTIFIERS:
            body = args[1][self.partners(node)]
            return body.all(axis=1) if k == "forall" else body.any(axis=1)
        return _connective(k, *args)
