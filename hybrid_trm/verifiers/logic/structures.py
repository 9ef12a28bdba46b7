"""Finite structures, and checking a formula in one of them exactly.

A Signature says what a formula talks about; a Structure interprets it on the
elements 0..n-1. `holds` is the model checker every refutation goes through: the
verifier's countermodels (z3's or the grounding's) and the model's own witness
world are each checked here before a user sees them as certified."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Callable

from ... import budget
from ...errors import HybridTRMError
from ...grammar import Node, children, kind, postorder

QUANTIFIERS = ("forall", "exists")


@dataclass(frozen=True)
class Signature:
    """What a formula (or a pair) talks about: the symbols a structure interprets."""

    props: tuple[str, ...]
    predicates: tuple[tuple[str, int], ...]  # (name, arity), sorted by name
    constants: tuple[str, ...]
    variables: tuple[str, ...]  # every name a quantifier binds
    equality: bool

    @property
    def first_order(self) -> bool:
        return bool(self.predicates or self.constants or self.variables or self.equality)

    @property
    def monadic(self) -> bool:
        return all(arity <= 1 for _, arity in self.predicates)


def signature(tree: Node) -> Signature:
    props, preds, consts, variables, eq = set(), {}, set(), set(), False
    for node in postorder(tree):
        k = kind(node)
        if k == "PROP":
            props.add(str(node))
        elif k == "CONST":
            consts.add(str(node))
        elif k == "VAR":
            variables.add(str(node))
        elif k == "pred":
            preds[str(node.children[0])] = len(node.children) - 1
        elif k == "eq":
            eq = True
    return Signature(tuple(sorted(props)), tuple(sorted(preds.items())), tuple(sorted(consts)), tuple(sorted(variables)), eq)


@dataclass(frozen=True)
class Structure:
    """An interpretation on the elements 0..size-1 (size 0: propositional)."""

    size: int
    relations: dict[str, frozenset[tuple[int, ...]]] = field(default_factory=dict)  # predicate -> tuples where it holds
    constants: dict[str, int] = field(default_factory=dict)
    props: dict[str, bool] = field(default_factory=dict)

    def describe(self, sig: Signature) -> str:
        """`a=T b=F` for a propositional interpretation; `domain {0,1}; P = {0}; a = 1`
        for a first-order one. A symbol the structure leaves open is false."""
        shown_props = [f"{p}={'T' if self.props.get(p, False) else 'F'}" for p in sig.props]
        if not sig.first_order:
            return " ".join(shown_props) if shown_props else "any assignment"
        parts = [f"domain {{{','.join(map(str, range(self.size)))}}}"]
        for name, arity in sig.predicates:
            members = sorted(self.relations.get(name, ()))
            shown = [str(a[0]) if arity == 1 else f"({','.join(map(str, a))})" for a in members]
            parts.append(f"{name} = {{{','.join(shown)}}}")
        parts += [f"{c} = {self.constants[c]}" for c in sig.constants]
        return "; ".join(parts + shown_props)


def tabulate(tree: Node, n: int, cell: Callable, tick: Callable[[], None]):
    """A closed formula's value over the domain {0..n-1}, bottom up, iteratively
    (any depth): each node once per assignment of its free variables (n^free
    cells), `cell(kind, node, env, child)` computing one, where `child(c, bind)`
    reads child c's value under env updated by bind. `tick()` runs before each
    cell (a deadline's check). What a value is, is the cell's: a bool when model
    checking, a z3 expression when grounding."""
    free: dict[int, tuple[str, ...]] = {}
    tables: dict[int, dict] = {}
    for node in postorder(tree):
        k = kind(node)
        if k in ("VAR", "CONST", "PRED"):
            continue
        if k in ("pred", "eq"):
            names = tuple(sorted({str(t) for t in node.children if kind(t) == "VAR"}))
        elif k in QUANTIFIERS:
            names = tuple(v for v in free[id(node.children[1])] if v != str(node.children[0]))
        else:
            names = tuple(sorted({v for c in children(node) for v in free[id(c)]}))
        free[id(node)] = names
        table = {}
        for values in product(range(n), repeat=len(names)):
            tick()
            env = dict(zip(names, values))

            def child(c, bind: dict[str, int] | None = None, env=env):
                e = {**env, **bind} if bind else env
                return tables[id(c)][tuple(e[v] for v in free[id(c)])]

            table[values] = cell(k, node, env, child)
        for c in children(node):
            tables.pop(id(c), None)
        tables[id(node)] = table
    if free[id(tree)]:
        raise HybridTRMError(f"logic: a formula with free variables ({', '.join(free[id(tree)])}) has no truth value")
    return tables[id(tree)][()]


def holds(tree: Node, structure: Structure) -> bool:
    """Whether a closed formula is true in `structure`, computed exactly (`tabulate`).
    Checks the caller's budget as it goes."""
    cells = [0]

    def tick() -> None:
        cells[0] += 1
        if cells[0] % 4096 == 0:
            budget.check()

    return tabulate(tree, structure.size, lambda k, node, env, child: _cell(k, node, env, child, structure), tick)


def _cell(k: str, node: Node, env: dict[str, int], child: Callable, s: Structure) -> bool:
    def term(token: Node) -> int:
        return env[str(token)] if kind(token) == "VAR" else s.constants[str(token)]

    if k == "PROP":
        return s.props.get(str(node), False)
    if k in ("true", "false"):
        return k == "true"
    if k == "pred":
        return tuple(term(t) for t in node.children[1:]) in s.relations.get(str(node.children[0]), ())
    if k == "eq":
        left, right = (term(t) for t in node.children)
        return left == right
    if k == "not":
        return not child(node.children[0])
    if k in QUANTIFIERS:
        var, body = str(node.children[0]), node.children[1]
        parts = (child(body, {var: e}) for e in range(s.size))
        return all(parts) if k == "forall" else any(parts)
    a, b = (child(c) for c in node.children)
    if k == "and":
        return a and b
    if k == "or":
        return a or b
    if k == "implies":
        return (not a) or b
    if k == "iff":
        return a == b
    raise HybridTRMError(f"logic: cannot evaluate a {k!r} node")
