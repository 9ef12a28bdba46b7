"""Every node's label for `truth` and its proof depth (the node's difficulty), in
`grammar.postorder` order, from the labeller's reading (reading.py) and forward
chaining (chaining.py).

Labelled: every literal node whose subject and object are constants (a fact, a
ground condition or conclusion of a rule, the statement), with its truth under the
theory, and the `ask` root with the statement's. A fact is `true` at depth 0. A
literal with a variable (in a rule or a generic sentence) has no truth of its own:
unlabelled, as are the theory, rules and leaves.
"""

from __future__ import annotations

from ...grammar import Node, kind, postorder
from .chaining import Chaining, answer, require_consistent
from .reading import Theory, read


def truth_labels(tree: Node) -> list[str | None]:
    theory, chaining = _closed(tree)
    labels = [chaining.truth(theory.nodes[id(n)]) if id(n) in theory.nodes else None for n in postorder(tree)]
    if kind(tree) == "ask":
        labels[-1] = answer(chaining, theory.question)
    return labels


def proof_depths(tree: Node) -> list[int | None]:
    """For each labelled node, the depth of the proof of its literal or of the
    literal's negation (None: neither follows, or unlabelled)."""
    theory, chaining = _closed(tree)
    depths = [chaining.proof_depth(theory.nodes[id(n)]) if id(n) in theory.nodes else None for n in postorder(tree)]
    if kind(tree) == "ask":
        depths[-1] = chaining.proof_depth(theory.question)
    return depths


def truth(tree: Node) -> str:
    """The statement's answer: true, false or unknown."""
    theory, chaining = _closed(tree)
    return answer(chaining, theory.question)


def _closed(tree: Node) -> tuple[Theory, Chaining]:
    theory = read(tree)
    chaining = Chaining.of(theory)
    require_consistent(chaining)
    return theory, chaining
