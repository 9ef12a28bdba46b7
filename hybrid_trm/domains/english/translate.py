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
  A farmer owns a donkey. He beats it.   exists x1. exists x2. ((Farmer(x1) & Donkey(x2)
                                           & Own(x1, x2)) & (Beat(x1, x2)))
  Bob does not own a donkey.             ~exists x1. (Donkey(x1) & Own(bob, x1))
  Bob and Anne are old.                  Old(bob) & Old(anne)

A theory is the conjunction of its sentences, `(f1) & (f2) & ...`, inside `exists`
for every indefinite not under `not` (a discourse's referents); with a statement,
`THEORY Q: S` is the pair `(f1) & ... |= S`. A pronoun, `the former` / `the
latter` and a definite description that refers back stand for what they refer to:
`antecedents` (id of the node -> the mention it refers back to) says which, as the
labeller (discourse.py) or the verifier's resolver (verifiers/english_references.py)
read it. This is the verifier's reading of a tree; the labeller reads facts and
rules on its own (reading.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lark

from ...errors import HybridTRMError
from ...grammar import Node, children, kind
from . import lexicon
from .roles import ASKS, DISCOURSE, LITERALS, NEGATIVE, subject

X = lexicon.VARIABLE


@dataclass
class Translation:
    sentences: list[str]  # one formula per sentence of the theory, in order (a discourse's: open)
    statement: str | None  # the statement's formula (None: a theory alone)
    variables: list[str] = field(default_factory=list)  # a discourse's referents, bound around the theory

    @property
    def theory(self) -> str:
        body = self.sentences[0] if len(self.sentences) == 1 else " & ".join(f"({s})" for s in self.sentences)
        if not self.variables:
            return body
        return "".join(f"exists {v}. " for v in self.variables) + f"({body})"

    def text(self) -> str:
        """The whole input as one logic input: a formula, or a pair `A |= B`."""
        return self.theory if self.statement is None else f"{self.theory} |= {self.statement}"


def translate(tree: Node, antecedents: dict[int, Node] | None = None) -> Translation:
    """The translation; `antecedents` is required where the tree holds a discourse
    (a pronoun, an indefinite, `the former`, a coordination)."""
    asked = None
    if kind(tree) in ASKS:
        tree, asked = tree.children
    if kind(tree) != "theory":
        raise HybridTRMError(f"english: a translation starts at a theory, not a {kind(tree)} node")
    translator = _Translator(tree, antecedents)
    sentences = [translator.sentence(s) for s in children(tree)]
    statement = " & ".join(translator.literal(asked, None, [])[0]) if asked is not None else None
    return Translation(sentences, statement, translator.variables)


class _Translator:
    def __init__(self, tree: Node, antecedents: dict[int, Node] | None):
        indefinites = [n for n in tree.iter_subtrees_topdown() if n.data == "indefinite"]
        if antecedents is None and any(kind(n) in DISCOURSE for n in _leaves_and_trees(tree)):
            raise HybridTRMError("english: a discourse's translation needs its references resolved first")
        self.antecedents = antecedents or {}
        self.names = {id(n): f"{X}{i + 1}" for i, n in enumerate(indefinites)}
        self.variables: list[str] = []  # those bound around the whole theory
        self.found: dict[int, Node] = {}  # id(reference) -> what introduced its referent

    def sentence(self, node: Node) -> str:
        """One sentence of a theory as a formula."""
        k = kind(node)
        if k in LITERALS or k == "conjunction":
            return " & ".join(self.conjuncts(node, self.variables))
        if k == "generic":
            cls, props = node.children
            conditions = [f"{lexicon.predicate(w)}({X})" for w in cls.children if kind(w) != "KIND"]
            conclusions = [atom for p in props.children for atom in self.literal(p, [X], [])[0]]
            return _quantified(conditions, conclusions)
        if k == "rule":
            conditions, conclusions = (self.conjuncts(part, []) for part in node.children)
            if any(kind(leaf) == "VAR" for leaf in _leaves_and_trees(node)):
                return _quantified(conditions, conclusions)
            return f"{' & '.join(conditions)} -> {_joined(conclusions)}"
        raise HybridTRMError(f"english: cannot translate a {k} node as a sentence")

    def conjuncts(self, node: Node, bound: list[str]) -> list[str]:
        """A literal, or a list of them (a conjunct with no subject has the one before's)."""
        parts = node.children if kind(node) in ("conjunction", "conditions", "conclusions") else [node]
        out, who = [], None
        for part in parts:
            formulas, who = self.literal(part, who, bound)
            out += formulas
        return out

    def literal(self, node: Node, inherited: list[str] | None, bound: list[str]) -> tuple[list[str], list[str]]:
        """(the formulas a literal node says, its subject's terms); `inherited`: the
        subject where none is written; the variables of indefinites go to `bound`."""
        k = kind(node)
        written = subject(node)
        formulas = self.restrictions(written, bound) if written is not None else []
        who = self.terms(written) if written is not None else inherited
        if who is None:
            raise HybridTRMError(f"english: a {k} with no subject")
        if k not in ("rel", "rel_not"):
            predicate = lexicon.predicate(node.children[-1])
            return formulas + [("~" if k in NEGATIVE else "") + f"{predicate}({s})" for s in who], who
        verb, obj = lexicon.predicate(node.children[-2]), node.children[-1]
        if k == "rel":
            formulas += self.restrictions(obj, bound)
            return formulas + [f"{verb}({s}, {o})" for s in who for o in self.terms(obj)], who
        for s in who:  # an indefinite under `not` is bound there: no donkey that Bob owns
            local: list[str] = []
            inner = self.restrictions(obj, local) + [f"{verb}({s}, {o})" for o in self.terms(obj)]
            if local:
                formulas.append("~" + "".join(f"exists {v}. " for v in local) + f"({' & '.join(inner)})")
            else:
                formulas += ["~" + f for f in inner]
        return formulas, who

    def terms(self, node: Node) -> list[str]:
        """The terms a noun phrase stands for (a coordination: one for each member)."""
        node = self.referent(node)
        k = kind(node)
        if k == "indefinite":
            return [self.names[id(node)]]
        if k == "group":
            return [t for member in node.children for t in self.terms(self.referent(member))]
        return [X] if k == "VAR" else [lexicon.constant(node)]

    def referent(self, node: Node) -> Node:
        """The noun phrase that introduced what `node` refers to: back along the
        antecedents (each one earlier) to one that refers to nothing before it."""
        passed = []
        while kind(node) in ("PRONOUN", "FORMER", "LATTER") or (kind(node) == "entity" and id(node) in self.antecedents):
            if id(node) in self.found:
                node = self.found[id(node)]
                break
            if id(node) not in self.antecedents:
                raise HybridTRMError(f"english: {str(node)!r} (line {node.line}) has no antecedent")
            passed.append(node)
            node = self.antecedents[id(node)]
        self.found.update((id(n), node) for n in passed)  # a chain of `he`s is walked once
        return node

    def restrictions(self, node: Node, bound: list[str]) -> list[str]:
        """What an indefinite says of its referent (a farmer who owns a donkey:
        Farmer(x1) & Donkey(x2) & Own(x1, x2)); its variable is added to `bound`."""
        if kind(node) == "group":
            return [f for member in node.children for f in self.restrictions(member, bound)]
        if kind(node) != "indefinite":
            return []
        name = self.names[id(node)]
        bound.append(name)
        out = [f"{lexicon.predicate(w)}({name})" for w in node.children if isinstance(w, lark.Token)]
        for clause in (c for c in node.children if isinstance(c, lark.Tree)):
            out += self.literal(clause, [name], bound)[0]
        return out


def _quantified(conditions: list[str], conclusions: list[str]) -> str:
    if not conditions:  # All things are big.
        return f"forall {X}. {_joined(conclusions)}"
    return f"forall {X}. ({' & '.join(conditions)} -> {_joined(conclusions)})"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"


def _leaves_and_trees(node: Node) -> list[Node]:
    stack, out = [node], []
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(children(n))
    return out
