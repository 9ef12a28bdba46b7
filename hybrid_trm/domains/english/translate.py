"""The translation of a resolved english tree into the logic domain's syntax
(grammars/logic.lark), one first-order formula per sentence (docs/english.md, "The
translation"):

  The cat is big.                        Big(cat)
  The bear does not chase the lion.      ~Chase(bear, lion)
  Anne is a cat.                         Cat(anne)
  If something is big and it chases      forall x. (Big(x) & Chase(x, cat) -> Red(cat))
    the cat then the cat is red.
  If the cat is big then it ...          (a rule without `something`: no quantifier)
  All big, red things are kind.          forall x. (Big(x) & Red(x) -> Kind(x))
  Every wumpus is not an impus.          forall x. (Wumpus(x) -> ~Impus(x))

A theory is the conjunction of its sentences, `(f1) & (f2) & ...`; with a statement,
`THEORY Q: S` is the pair `(f1) & ... |= S`. This is the verifier's reading of a
tree; the labeller reads trees on its own (reading.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import HybridTRMError
from ...grammar import Node, children, kind
from . import lexicon
from .roles import LITERALS, NEGATIVE

X = lexicon.VARIABLE


@dataclass
class Translation:
    sentences: list[str]  # one formula per sentence of the theory, in order
    statement: str | None  # the statement's formula (None: a theory alone)

    @property
    def theory(self) -> str:
        if len(self.sentences) == 1:
            return self.sentences[0]
        return " & ".join(f"({s})" for s in self.sentences)

    def text(self) -> str:
        """The whole input as one logic input: a formula, or a pair `A |= B`."""
        return self.theory if self.statement is None else f"{self.theory} |= {self.statement}"


def translate(tree: Node) -> Translation:
    statement = None
    if kind(tree) == "ask":
        tree, asked = tree.children
        statement = _atom(asked, None)
    if kind(tree) != "theory":
        raise HybridTRMError(f"english: a translation starts at a theory, not a {kind(tree)} node")
    return Translation([sentence(s) for s in children(tree)], statement)


def sentence(node: Node) -> str:
    """One sentence of a theory as a formula."""
    k = kind(node)
    if k in LITERALS:
        return _atom(node, None)
    if k == "generic":
        cls, props = node.children
        conditions = [f"{lexicon.predicate(w)}({X})" for w in cls.children if kind(w) != "KIND"]
        conclusions = [_atom(p, X) for p in props.children]
        return _quantified(conditions, conclusions)
    if k == "rule":
        conditions, conclusions = (_conjunction(part) for part in node.children)
        if any(kind(leaf) == "VAR" for part in node.children for leaf in _leaves(part)):
            return _quantified(conditions, conclusions)
        return f"{' & '.join(conditions)} -> {_joined(conclusions)}"
    raise HybridTRMError(f"english: cannot translate a {k} node as a sentence")


def _quantified(conditions: list[str], conclusions: list[str]) -> str:
    if not conditions:  # All things are big.
        return f"forall {X}. {_joined(conclusions)}"
    return f"forall {X}. ({' & '.join(conditions)} -> {_joined(conclusions)})"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"


def _conjunction(node: Node) -> list[str]:
    """A conditions / conclusions list; a conjunct with no subject has the one before's."""
    out, last_subject = [], None
    for part in node.children:
        written = _written_subject(part)
        if written is not None:
            last_subject = _term(written)
        out.append(_atom(part, last_subject))
    return out


def _atom(node: Node, subject: str | None) -> str:
    """A literal node as an atom or a negated atom; `subject` where none is written."""
    k = kind(node)
    written = _written_subject(node)
    who = _term(written) if written is not None else subject
    if who is None:
        raise HybridTRMError(f"english: a {k} with no subject")
    if k in ("rel", "rel_not"):
        verb, obj = node.children[-2], node.children[-1]
        atom = f"{lexicon.predicate(verb)}({who}, {_term(obj)})"
    else:
        atom = f"{lexicon.predicate(node.children[-1])}({who})"
    return "~" + atom if k in NEGATIVE else atom


def _written_subject(node: Node) -> Node | None:
    arity = 3 if kind(node) in ("rel", "rel_not") else 2
    return node.children[0] if len(node.children) == arity else None


def _term(node: Node) -> str:
    return X if kind(node) == "VAR" else lexicon.constant(node)


def _leaves(node: Node) -> list[Node]:
    stack, out = [node], []
    while stack:
        n = stack.pop()
        if children(n):
            stack.extend(children(n))
        else:
            out.append(n)
    return out
