"""What a resolved tree says, as the labeller reads it: ground facts, rules of
literals over one variable, the statement asked about, and the literal of every
ground literal node (which the labeller labels).

A literal is a predicate over constants and VAR (the rule's variable), positive or
negated. A rule's conjuncts, and a fact's (The dog is big and red.), that leave
their subject out take the previous conjunct's; a generic sentence's class gives
the rule's conditions, one per adjective and noun, about its variable. A discourse
(a farmer, he, Bob and Anne) is not a theory this reads.

This is the labeller's own reading; the verifier's translation (translate.py) reads
the same tree on its own, so that the two can disagree where either is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import lark

from ...errors import HybridTRMError
from ...grammar import Node, children, kind
from . import lexicon
from .roles import ASKS, DISCOURSE, LITERALS, NEGATIVE, subject

VAR = "?"  # the rule's variable, among a literal's arguments


class Literal(NamedTuple):
    positive: bool
    predicate: str
    args: tuple[str, ...]

    def negated(self) -> Literal:
        return Literal(not self.positive, self.predicate, self.args)

    def bind(self, value: str) -> Literal:
        return Literal(self.positive, self.predicate, tuple(value if a == VAR else a for a in self.args))

    @property
    def ground(self) -> bool:
        return VAR not in self.args


class Rule(NamedTuple):
    body: tuple[Literal, ...]
    head: tuple[Literal, ...]

    @property
    def ground(self) -> bool:
        return all(lit.ground for lit in self.body + self.head)


@dataclass
class Theory:
    facts: list[Literal] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    question: Literal | None = None
    nodes: dict[int, Literal] = field(default_factory=dict)  # id(literal node) -> its literal, ground ones only
    closed: bool = False  # asked `Q (closed world):`: negation as failure (closed.py)

    def constants(self) -> list[str]:
        """Every constant the theory and the question name, in order of appearance."""
        seen: dict[str, None] = {}
        lits = self.facts + [lit for r in self.rules for lit in r.body + r.head]
        lits += [self.question] if self.question is not None else []
        for lit in lits:
            seen.update((a, None) for a in lit.args if a != VAR)
        return list(seen)


def read(tree: Node) -> Theory:
    """The theory (and statement) a resolved `ask`, `ask_closed` or `theory` tree states."""
    out = Theory(closed=kind(tree) == "ask_closed")
    sentences = tree
    if kind(tree) in ASKS:
        sentences, statement = tree.children
        out.question = _literal(statement, None, out)
    if kind(sentences) != "theory":
        raise HybridTRMError(f"english: expected a theory, found a {kind(sentences)} node")
    for sentence in children(sentences):
        k = kind(sentence)
        if k in LITERALS:
            out.facts.append(_literal(sentence, None, out))
        elif k == "conjunction":  # The dog is big and red.
            out.facts.extend(_conjuncts(sentence, out))
        elif k == "rule":
            conditions, conclusions = sentence.children
            out.rules.append(Rule(_conjuncts(conditions, out), _conjuncts(conclusions, out)))
        elif k == "generic":
            kind_of, properties = sentence.children
            body = tuple(Literal(True, lexicon.predicate(t), (VAR,)) for t in kind_of.children if kind(t) != "KIND")
            head = tuple(_literal(p, VAR, out) for p in properties.children)
            out.rules.append(Rule(body, head))
        else:
            raise HybridTRMError(f"english: a theory holds no {k} node")
    return out


def _conjuncts(node: lark.Tree, out: Theory) -> tuple[Literal, ...]:
    """The literals of a conditions / conclusions list, each conjunct without a
    subject taking the previous one's."""
    lits: list[Literal] = []
    for part in node.children:
        lits.append(_literal(part, lits[-1].args[0] if lits else None, out))
    return tuple(lits)


def _literal(node: lark.Tree, inherited: str | None, out: Theory) -> Literal:
    k = node.data
    written = subject(node)
    who = _argument(written) if written is not None else inherited
    if who is None:
        raise HybridTRMError(f"english: a {k} conjunct without a subject to take")
    if k in ("rel", "rel_not"):
        lit = Literal(k not in NEGATIVE, lexicon.predicate(node.children[-2]), (who, _argument(node.children[-1])))
    else:
        lit = Literal(k not in NEGATIVE, lexicon.predicate(node.children[-1]), (who,))
    if lit.ground:
        out.nodes[id(node)] = lit
    return lit


def _argument(part: Node) -> str:
    if kind(part) in DISCOURSE:
        raise HybridTRMError(f"english: a theory's facts are about named things, not a {kind(part)} ({str(part)!r})")
    return VAR if kind(part) == "VAR" else lexicon.constant(part)
