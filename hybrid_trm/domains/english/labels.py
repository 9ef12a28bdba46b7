"""Every node's label for `truth` and its proof depth (the node's difficulty), in
`grammar.postorder` order, from the labeller's reading (reading.py) and forward
chaining (chaining.py; in the closed world, closed.py).

Labelled: every literal node whose subject and object are constants (a fact, a
ground condition or conclusion of a rule, the statement), with its truth under the
theory, and the `ask` root with the statement's. A fact is `true` at depth 0. A
literal with a variable (in a rule or a generic sentence) has no truth of its own:
unlabelled, as are the theory, rules and leaves.
"""

from __future__ import annotations

from ...grammar import Node, kind, postorder
from .chaining import Chaining, require_consistent
from .closed import ClosedChaining
from .reading import Theory, read
from .roles import ASKS


def truth_labels(tree: Node) -> list[str | None]:
    theory, chaining = _closed(tree)
    labels = [chaining.truth(theory.nodes[id(n)]) if id(n) in theory.nodes else None for n in postorder(tree)]
    if kind(tree) in ASKS:
        labels[-1] = chaining.truth(theory.question)
    return labels


def proof_depths(tree: Node) -> list[int | None]:
    """For each labelled node, the depth of the proof of its literal or of the
    literal's negation (None: neither follows, or unlabelled; in the closed world,
    of its atom: None where the atom is not derived)."""
    theory, chaining = _closed(tree)
    depths = [chaining.proof_depth(theory.nodes[id(n)]) if id(n) in theory.nodes else None for n in postorder(tree)]
    if kind(tree) in ASKS:
        depths[-1] = chaining.proof_depth(theory.question)
    return depths


def truth(tree: Node) -> str:
    """The statement's answer: true, false or unknown (the closed world: true or false)."""
    theory, chaining = _closed(tree)
    return chaining.truth(theory.question)


def _closed(tree: Node) -> tuple[Theory, Chaining | ClosedChaining]:
    """The theory and its closure under the rules (open world: refused where it contradicts itself)."""
    theory = read(tree)
    if theory.closed:
        return theory, ClosedChaining(theory)
    chaining = Chaining.of(theory)
    require_consistent(chaining)
    return theory, chaining
