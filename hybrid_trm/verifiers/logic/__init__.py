"""Symbolic ground truth for logic: a formula's verdict, `A |= B`, and Bowman's
relation of two formulas, decided with z3 on expressions built from the parse tree
(never from a string), each within a time budget. Every answer says how it was
reached: *proved* (no model exists, by the method named), *refuted* (a model or
countermodel, printed readably and checked by `structures.holds`), or, where the
budget ran out first, VerifierTimeout naming what was tried.

Input trees are resolved (`domains.logic.resolve`): leaves are PROP, VAR, CONST, PRED.

How a first-order search for a model goes (search.py):
  1. z3 on the formula itself (quantified.py): an uninterpreted sort of elements,
     quantifier instantiation. Its "no model" is a proof for any signature;
  2. where z3 gives up, the finite search (grounding.py): every domain {0..n-1} up to
     a bound. Monadic formulas have a finite-model bound, so there it decides;
     with a relation it can only find models, and says how far it looked.

The finite-model bound used for monadic formulas, with k unary predicates, r
variable names and c constants: a formula that has a model has one with at most
2^k * (r + c) elements, and without equality one with at most 2^k. Sources: Boolos,
Burgess & Jeffrey, "Computability and Logic", 5th ed. (2007), ch. 21 (Lemma 21.8:
2^k without identity; the chapter extends the argument to identity); Pietruszczak,
"Cardinalities of models and the expressive power of monadic predicate logic (with
equality and individual constants)", Reports on Mathematical Logic 30 (1996) 49-64,
which gives a sharper bound of the form c + 2^k * r; the result goes back to Löwenheim (1915). Why,
briefly: an element's type is the set of predicates it satisfies (2^k types). Keep
the constants' elements and, of each type, up to r others; a formula with r
variables (reusable) cannot tell a class of >= r such elements from a bigger one (an
Ehrenfeucht-Fraïssé game with r pebbles), so the submodel satisfies the same
formulas. Without equality elements of one type cannot be told apart at all.
"""

from __future__ import annotations

from ...errors import HybridTRMError
from ...grammar import Node, kind
from .search import RELATIONAL_BOUND, Search
from .structures import Signature, Structure, holds, signature

__all__ = [
    "RELATIONAL_BOUND", "RELATIONS", "Signature", "Structure", "bowman_relation", "entails", "holds",
    "relation", "signature", "verdict",
]

# Bowman et al.'s seven relations between the sets of worlds of A and B, in the order
# they are tested: degenerate pairs (A or B valid or unsatisfiable) take the first that fits.
RELATIONS = ("=", "<", ">", "^", "|", "v", "#")


def verdict(tree: Node, budget_s: float = 2.0, max_size: int = RELATIONAL_BOUND) -> tuple[str, str]:
    """("valid" | "contingent" | "unsatisfiable", evidence) of one formula."""
    search = Search(signature(tree), budget_s, max_size)
    model = search.find([(tree, True)])
    if model is None:
        return "unsatisfiable", f"unsatisfiable: proved, {search.proof('model')}"
    counter = search.find([(tree, False)])
    if counter is None:
        return "valid", f"valid: proved, {search.proof('countermodel')}"
    return "contingent", f"contingent: true in {model}; false in (countermodel) {counter}"


def entails(tree: Node, budget_s: float = 2.0, max_size: int = RELATIONAL_BOUND) -> tuple[str, str]:
    """("yes" | "no", evidence) of a pair `A |= B`."""
    a, b = _pair(tree, "entails")
    search = Search(signature(tree), budget_s, max_size)
    counter = search.find([(a, True), (b, False)])
    if counter is None:
        return "yes", f"A ∧ ¬B is unsatisfiable: proved, {search.proof('countermodel')}"
    return "no", f"countermodel (A true, B false): {counter}"


def relation(tree: Node, budget_s: float = 2.0, max_size: int = RELATIONAL_BOUND) -> tuple[str, str]:
    """(one of RELATIONS, evidence) of a pair `A ; B`, from four satisfiability checks."""
    a, b = _pair(tree, "relation")
    search = Search(signature(tree), budget_s, max_size)
    cases = {"A∧¬B": (True, False), "¬A∧B": (False, True), "A∧B": (True, True), "¬A∧¬B": (False, False)}
    found = {}
    for name, (pa, pb) in cases.items():
        found[name] = search.find([(a, pa), (b, pb)])
        if found[name] is None:
            found[name] = None, search.proof("model")
    a_in_b, b_in_a = isinstance(found["A∧¬B"], tuple), isinstance(found["¬A∧B"], tuple)
    disjoint, cover = isinstance(found["A∧B"], tuple), isinstance(found["¬A∧¬B"], tuple)
    answer = bowman_relation(a_in_b, b_in_a, disjoint, cover)
    facts = [f"{name} unsatisfiable ({found[name][1]})" if isinstance(found[name], tuple) else f"{name} in {found[name]}" for name in cases]
    return answer, f"{answer}: " + "; ".join(facts)


def bowman_relation(a_entails_b: bool, b_entails_a: bool, disjoint: bool, cover: bool) -> str:
    if a_entails_b and b_entails_a:
        return "="
    if a_entails_b:
        return "<"
    if b_entails_a:
        return ">"
    if disjoint and cover:
        return "^"
    if disjoint:
        return "|"
    if cover:
        return "v"
    return "#"


def _pair(tree: Node, task: str) -> tuple[Node, Node]:
    if kind(tree) != task:
        shape = {"entails": "A |= B", "relation": "A ; B"}[task]
        raise HybridTRMError(f"logic/{task} takes a pair written `{shape}`, not a {kind(tree)} node")
    return tree.children[0], tree.children[1]
