"""The worlds a formula's grid is evaluated in (a WorldSet): every one where they
fit, so that the grid decides; otherwise a seeded sample that scales with the
formula, not with its signature.

- Letters: propositional assignments, all 2^v or a sample.
- Enumerated: the labeller's structures (semantics.py), every one up to the
  monadic finite-model bound: exhaustive for a monadic formula.
- Sampled: every one-element structure where they are few, then random
  structures of 1..MAX_SAMPLED_SIZE elements, any number of predicates of any
  arity, constants and equality. A predicate's truth at a tuple
  is a hash of (world, predicate, elements) against the world's density for that
  predicate, so no table is ever built: an arity-10 predicate costs what a unary
  one does. Densities run from empty to full (a quarter of them exactly 0 or 1);
  half the worlds lean each predicate and letter toward one of the deciding
  directions (see grid._leanings)."""

from __future__ import annotations

from itertools import product
from typing import Protocol

import numpy as np

from ...errors import HybridTRMError
from ...verifiers.logic import Signature, Structure
from . import semantics

LEAN = 0.4  # the largest shift of a letter's chance of being true in a leaning world
MAX_SAMPLED_SIZE = 8  # elements of the largest sampled structure
MIN_WORLDS = 4  # sampled structures are small enough that at least this many fit the grid
MAX_TUPLES = 2**16  # a sampled structure's predicates have at most this many argument tuples each
EXTREME = 0.25  # the share of sampled densities that are exactly 0 or 1
ONE_ELEMENT_SHARE = 0.25  # the most of a sampled grid that lists every one-element structure
MAX_SPREAD = 4.0  # the largest standard deviation of a sampled world's per-element log-odds offsets


class WorldSet(Protocol):
    count: int  # worlds
    size: np.ndarray  # (count,) elements of each world (1 for a propositional one)
    exhaustive: bool  # every world the answer depends on is here

    def prop(self, name: str) -> np.ndarray: ...  # (count,) bool
    def constant(self, name: str) -> np.ndarray: ...  # (count,) int
    def holds(self, predicate: str, world: np.ndarray, terms: list[np.ndarray]) -> np.ndarray: ...
    def structure(self, w: int) -> Structure: ...


def _split_leaning(count: int, leanings: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(rows, direction) for the leaning half of `count` worlds, in equal shares."""
    rows = np.array_split(np.arange(count // 2, count), max(1, len(leanings)))
    return list(zip(rows, leanings))


class Letters:
    """Propositional worlds: every assignment when 2^v fit in `count` (world w sets
    letter i to bit i of w), else a sample, half uniform, half leaning."""

    def __init__(self, sig: Signature, count: int, rng: np.random.Generator, leanings: list[np.ndarray]):
        v = len(sig.props)
        self.exhaustive = v < 63 and 2**v <= count
        if self.exhaustive:
            bits = (np.arange(2**v)[:, None] >> np.arange(v)) & 1
        else:
            chance = np.full((count, v), 0.5)
            for rows, lean in _split_leaning(count, leanings):
                chance[rows] += lean[:v] * rng.random((len(rows), 1)) * LEAN
            bits = rng.random((count, v)) < chance
        self.count = len(bits)
        self.size = np.ones(self.count, dtype=np.int64)
        self.props = {name: bits[:, i].astype(bool) for i, name in enumerate(sig.props)}

    def prop(self, name: str) -> np.ndarray:
        return self.props[name]

    def constant(self, name: str) -> np.ndarray:
        raise HybridTRMError("logic: a propositional world has no constants")

    def holds(self, predicate, world, terms):
        raise HybridTRMError("logic: a propositional world has no predicates")

    def structure(self, w: int) -> Structure:
        return Structure(0, props={p: bool(v[w]) for p, v in self.props.items()})


class Enumerated:
    """The labeller's structures (every one up to the monadic bound), each once per
    assignment of the letters."""

    def __init__(self, sem, sig: Signature):
        self.sem, self.count = sem, sem.W
        self.size = sem.present.sum(1)
        self.exhaustive = sig.monadic  # with a relation the labeller stops at RELATIONAL_BOUND

    def prop(self, name: str) -> np.ndarray:
        return self.sem.props[name].reshape(-1)

    def constant(self, name: str) -> np.ndarray:
        return self.sem.consts[name].reshape(-1)

    def holds(self, predicate: str, world: np.ndarray, terms: list[np.ndarray]) -> np.ndarray:
        return self.sem.preds[predicate][(world, *terms)]

    def structure(self, w: int) -> Structure:
        sig = self.sem.sig
        relations = {
            name: frozenset(tuple(map(int, args)) for args in np.argwhere(self.sem.preds[name][w])) for name, _ in sig.predicates
        }
        constants = {c: int(self.constant(c)[w]) for c in sig.constants}
        props = {p: bool(self.prop(p)[w]) for p in sig.props}
        return Structure(int(self.size[w]), relations, constants, props)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: 64 well-mixed bits from 64 (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


class Sampled:
    """Random structures filling `count` positions (size^slots each): sizes from 1
    up to the largest that lets MIN_WORLDS fit, each size an equal share of the
    positions. Per world only a key, a size and how it leans are stored; every
    symbol's value (a letter, a constant's element, a predicate's density, its
    offsets, its truth at a tuple) is a hash of the world's key and the symbol, so
    memory does not grow with the signature (see the module's docstring)."""

    def __init__(self, sig: Signature, count: int, slots: int, rng: np.random.Generator, leanings: list[np.ndarray]):
        self.sig, self.exhaustive = sig, False
        arity = max((a for _, a in sig.predicates), default=0)
        most = MAX_SAMPLED_SIZE
        while most > 1 and (most**slots > max(1, count // MIN_WORLDS) or most**arity > MAX_TUPLES):
            most -= 1
        # First every one-element structure, where they are few: a one-element
        # countermodel is the commonest kind, and there are 2^(predicates + letters).
        symbols = len(sig.predicates) + len(sig.props)
        self.singles = 2**symbols if symbols <= 16 and 2**symbols <= count * ONE_ELEMENT_SHARE else 0
        # Then each size gets an equal share of the positions: many small worlds, a few large.
        weights = 1.0 / np.arange(1, most + 1) ** slots
        draws = iter(rng.choice(np.arange(1, most + 1), size=count, p=weights / weights.sum()).tolist())
        sizes, total = [1] * self.singles, self.singles
        while total < count:
            n = next(draws)
            while n > 1 and total + n**slots > count:
                n -= 1
            if total + n**slots > count:
                break
            sizes.append(n)
            total += n**slots
        if not sizes:
            raise HybridTRMError(f"logic: a grid of {count} positions holds no world; use a larger grid (--worlds)")
        self.size = np.array(sizes, dtype=np.int64)
        self.count = W = len(sizes)
        self.keys = rng.integers(0, 2**63, W, dtype=np.uint64)
        # Half the worlds lean, in equal shares, toward one of `leanings` (row -1: none).
        self.leaning = np.full(W, -1, dtype=np.int64)
        for g, (rows, _) in enumerate(_split_leaning(W, leanings)):
            self.leaning[rows] = g
        self.directions = np.array(leanings, dtype=np.float64).reshape(len(leanings), -1) if len(leanings) else None
        self.strength = rng.random(W)
        # How far a world's rows and columns run full or empty (see holds).
        self.spread = rng.random(W) * MAX_SPREAD
        self.prop_index = {name: i for i, name in enumerate(sig.props)}
        self.const_index = {name: i for i, name in enumerate(sig.constants)}
        self.pred_index = {name: i for i, (name, _) in enumerate(sig.predicates)}

    def _uniform(self, world: np.ndarray, *salt: int) -> np.ndarray:
        """A uniform [0, 1) draw per world, fixed by the world's key and `salt`."""
        return _unit(_mix(self.keys[world] ^ _salt(*salt)))

    def _lean(self, world: np.ndarray, symbol: int) -> np.ndarray:
        """Each world's shift toward its leaning's direction for the symbol (at
        position `symbol` of sig.props + sig.predicates), times its strength."""
        if self.directions is None:
            return np.zeros(len(world))
        group = self.leaning[world]
        direction = np.where(group >= 0, self.directions[np.maximum(group, 0), symbol], 0.0)
        return direction * self.strength[world]

    def _listed(self, world: np.ndarray, bit: int) -> np.ndarray:
        """In the listed one-element worlds (the first `singles`), a symbol's truth is
        a bit of the world's index: predicates first, then letters."""
        return (world >> bit) & 1 == 1

    def prop(self, name: str) -> np.ndarray:
        i = self.prop_index[name]
        world = np.arange(self.count)
        drawn = self._uniform(world, 1, i) < 0.5 + self._lean(world, i) * LEAN
        return np.where(world < self.singles, self._listed(world, len(self.sig.predicates) + i), drawn)

    def constant(self, name: str) -> np.ndarray:
        world = np.arange(self.count)
        return np.floor(self._uniform(world, 2, self.const_index[name]) * self.size).astype(np.int64)

    def holds(self, predicate: str, world: np.ndarray, terms: list[np.ndarray]) -> np.ndarray:
        """u < chance: u a hash of (world, predicate, elements); chance the world's
        density for the predicate (a quarter exactly 0 or 1; leaning shifts it)
        moved in log-odds by an offset per (argument place, element) and one for
        tuples of one element repeated, each of the world's spread."""
        i = self.pred_index[predicate]
        density = self._uniform(world, 3, i)
        extreme = self._uniform(world, 4, i) < EXTREME
        density = np.where(extreme, (density < 0.5).astype(np.float64), density)
        density = np.clip(density + self._lean(world, len(self.sig.props) + i) * 2 * LEAN, 0, 1)
        logit = np.log(np.clip(density, 1e-9, 1)) - np.log(np.clip(1 - density, 1e-9, 1))
        h = _mix(self.keys[world] ^ _salt(5, i))
        for j, t in enumerate(terms):
            element = np.asarray(t).astype(np.uint64) + np.uint64(1)
            h = _mix(h ^ element * _GOLDEN)
            offset = _unit(_mix(_mix(self.keys[world] ^ _salt(6, i, j)) ^ element * _GOLDEN))
            logit = logit + self.spread[world] * (offset - 0.5) * 2 * np.sqrt(3)  # unit variance, times the spread
        if len(terms) > 1:  # and one more on the diagonal: reflexive, irreflexive relations
            diagonal = np.all([np.asarray(t) == np.asarray(terms[0]) for t in terms[1:]], axis=0)
            offset = self._uniform(world, 7, i)
            logit = logit + diagonal * self.spread[world] * (offset - 0.5) * 2 * np.sqrt(3)
        uniform = _unit(h)
        chance = np.where((density == 0) | (density == 1), density, 1 / (1 + np.exp(-np.clip(logit, -50, 50))))
        return np.where(world < self.singles, self._listed(world, i), uniform < chance)

    def structure(self, w: int) -> Structure:
        n = int(self.size[w])
        relations = {}
        for name, arity in self.sig.predicates:
            tuples = np.array(list(product(range(n), repeat=arity)), dtype=np.int64).reshape(-1, arity)
            held = self.holds(name, np.full(len(tuples), w), [tuples[:, j] for j in range(arity)])
            relations[name] = frozenset(tuple(map(int, t)) for t in tuples[held])
        constants = {c: int(self.constant(c)[w]) for c in self.sig.constants}
        props = {p: bool(self.prop(p)[w]) for p in self.sig.props}
        return Structure(n, relations, constants, props)


_MASK = 2**64 - 1


def _salt(*parts: int) -> np.uint64:
    """64 mixed bits of some small integers (splitmix64 in Python integers)."""
    h = 0
    for x in parts:
        z = (h ^ ((x + 1) * int(_GOLDEN))) & _MASK
        z = ((z ^ (z >> 30)) * int(_MIX1)) & _MASK
        z = ((z ^ (z >> 27)) * int(_MIX2)) & _MASK
        h = z ^ (z >> 31)
    return np.uint64(h)


def _unit(h: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) float from 64 mixed bits."""
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def first_order_worlds(sig: Signature, count: int, slots: int, rng: np.random.Generator, leanings) -> WorldSet:
    """Every structure the labeller enumerates, where they are few enough to fit
    the grid; else a sample."""
    if semantics.countable_within(sig, count):
        try:
            sem = semantics._semantics(sig)
        except HybridTRMError:  # a table past MAX_CELLS
            sem = None
        if sem is not None and int((sem.present.sum(1) ** slots).sum()) <= count:
            return Enumerated(sem, sig)
    return Sampled(sig, count, slots, rng, leanings)


__all__ = ["LEAN", "Enumerated", "Letters", "Sampled", "WorldSet", "first_order_worlds"]
