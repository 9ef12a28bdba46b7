"""The labeller's closed world (docs/english.md, "The closed world"): negation as
failure over a stratified theory, as ProofWriter's closed-world (CWA) datasets read it.

A closed-world theory states what holds: facts, and rules whose conclusions hold.
A negated condition of a rule (`it is not big`) and a negated statement hold where
the atom (`it is big`) is not derived; a statement is `true` or `false`, never
`unknown`. That gives one answer only where no predicate depends on its own
negation through the rules (the theory is stratified): `strata` orders the
predicates by the negations beneath them, and refuses a theory that has no such
order.

The rules are chained in passes (`passes`): the first holds the rules whose
negated conditions are about predicates no rule concludes (the facts decide
them), and each next pass adds the rules whose negated conditions the passes
before it decided. A pass takes each negated condition whose atom the pass before
did not derive as a stated fact (depth 0), so that the last pass, which holds
every rule, derives each atom in the round of its proof depth: the fewest rounds
of rules that derive it, a negated condition being a leaf of the proof, as in
ProofWriter's. An atom that is not derived has no proof depth: its negation
holds by the absence of a proof, not by one.

`check` refuses, when parsed, a negated fact or conclusion in a closed-world theory.
"""

from __future__ import annotations

import networkx as nx

from ...errors import HybridTRMError
from ...grammar import Node, children, kind
from .chaining import FALSE, TRUE, Chaining, instances
from .reading import Literal, Rule, Theory
from .roles import NEGATIVE, refusal

CLOSED = "ask_closed"  # the root of `THEORY Q (closed world): STATEMENT`


def strata(rules: list[Rule]) -> dict[str, int]:
    """Each predicate some rule concludes -> its stratum: the most negated
    conditions on a path of rules down to the facts, counting only negations of
    predicates a rule concludes (the facts alone decide the others). HybridTRMError
    where a predicate depends on its own negation."""
    concluded = {h.predicate for rule in rules for h in rule.head}
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(concluded))
    for rule in rules:
        for condition in rule.body:
            if condition.predicate not in concluded:
                continue
            for h in rule.head:
                before = graph.get_edge_data(condition.predicate, h.predicate, {}).get("negative", False)
                graph.add_edge(condition.predicate, h.predicate, negative=before or not condition.positive)
    condensed = nx.condensation(graph)
    component = condensed.graph["mapping"]
    for u, v, negative in graph.edges(data="negative"):
        if negative and component[u] == component[v]:
            raise _unstratified(graph, u, v)
    level: dict[int, int] = {}
    for c in nx.topological_sort(condensed):
        level[c] = max(
            (level[component[u]] + int(negative)
             for v in condensed.nodes[c]["members"] for u, _, negative in graph.in_edges(v, data="negative")
             if component[u] != c),
            default=0,
        )
    return {p: level[component[p]] for p in graph}


def _unstratified(graph: nx.DiGraph, u: str, v: str) -> HybridTRMError:
    """`not U` gives V, and V gives U back through the rules: U depends on its own negation."""
    cycle = " -> ".join(["not " + u, *nx.shortest_path(graph, v, u)])
    return HybridTRMError(
        f"english: the closed-world theory is not stratified: {u} depends on its own negation ({cycle}), "
        "so negation as failure gives it no one answer"
    )


def passes(rules: list[Rule]) -> list[list[Rule]]:
    """The rules of each pass, in order (module docstring): a rule joins the pass of
    the lowest stratum among its conclusions, and stays in every pass after it."""
    layer = strata(rules)
    joins = [min(layer[h.predicate] for h in rule.head) for rule in rules]
    levels = sorted(set(joins))
    return [[rule for rule, j in zip(rules, joins) if j <= level] for level in levels] or [[]]


def failed(ground: list[tuple[tuple[Literal, ...], tuple[Literal, ...]]], derived: set[Literal]) -> set[Literal]:
    """The negated conditions of the ground rules whose atom is not in `derived`: they hold."""
    return {c for body, _ in ground for c in body if not c.positive and c.negated() not in derived}


class ClosedChaining:
    """Every atom a closed-world theory derives, with its proof depth (the module's docstring)."""

    def __init__(self, theory: Theory):
        constants = theory.constants()
        derived = set(theory.facts)
        for rules in passes(theory.rules):
            stated = theory.facts + sorted(failed(instances(rules, constants), derived))
            chaining = Chaining(stated, rules, constants)
            derived = {lit for lit in chaining.depth if lit.positive}
        self.depth = {lit: d for lit, d in chaining.depth.items() if lit.positive}

    def truth(self, lit: Literal) -> str:
        """true where the atom is derived and the literal is positive, or it is not and the literal negated."""
        held = (lit if lit.positive else lit.negated()) in self.depth
        return TRUE if held == lit.positive else FALSE

    def proof_depth(self, lit: Literal) -> int | None:
        """The proof depth of the literal's atom (None: the atom is not derived)."""
        return self.depth.get(lit if lit.positive else lit.negated())


def check(tree: Node, text: str) -> None:
    """Refuse, with its position, a negated fact or conclusion in a closed-world
    theory: there `not` says only that an atom is not derived."""
    if kind(tree) != CLOSED:
        return
    for sentence in children(tree.children[0]):
        k = kind(sentence)
        parts = sentence.children[1].children if k in ("rule", "generic") else children(sentence) if k == "conjunction" else [sentence]
        for part in parts:
            if kind(part) in NEGATIVE:  # at the word negated: big, cat, chase
                word = part.children[-2] if kind(part) == "rel_not" else part.children[-1]
                raise refusal(
                    text, word, "a fact or conclusion that holds: a closed-world theory states no negation "
                    "(`not` there means `not derived`, in a rule's conditions and the question)",
                )
