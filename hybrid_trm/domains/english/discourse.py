"""The labeller's reading of references (docs/english.md, "Resolving references"):
which earlier noun phrase every pronoun, `the former` / `the latter` and definite
description refers to, and how many noun phrases back it is.

One pass over the tree in reading order keeps the discourse's referents, latest
mentioned last, each with its gender, its description (an indefinite's words),
whether it is still accessible, and its latest mention. A scope (a rule; the object of `does not`)
closes when the pass leaves it, and the referents introduced in it stop being
accessible. An anaphor takes, among the accessible referents it agrees with, the
one mentioned last; its label is the count of noun phrases back to that mention.

The verifier (verifiers/english_references.py) resolves the same tree its own way:
it lists the mentions first and searches back from each anaphor. Tests compare the
two on generated discourses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import lark

from ... import budget
from ...grammar import Node, children, kind
from .agreement import PRONOUN_GENDER, name_gender, noun_gender
from .roles import ASKS, LITERALS, refusal, subject

NEW = "new"  # the label of a definite description that introduces its referent
MENTIONS = ("NAME", "entity", "indefinite", "group", "PRONOUN", "FORMER", "LATTER", "VAR")  # noun phrases
AGREES = {"m": ("m", "mf"), "f": ("f", "mf"), "n": ("n",), "p": ("p",)}  # pronoun gender -> referent genders
WANTED = {
    "m": "masculine and singular (Bob, a man, a farmer)",
    "f": "feminine and singular (Anne, a woman, a farmer)",
    "n": "singular and not a person (a donkey, the cat)",
    "p": "plural (Bob and a farmer)",
}


@dataclass(eq=False)
class Referent:
    gender: str  # m, f, mf, n, p (agreement.py); "" for a rule's variable
    words: tuple[str, ...] = ()  # an indefinite's words (a description matches a subset); a constant's
    constant: bool = False  # a name or a definite description with no antecedent: matched word for word
    open: bool = True  # accessible: False once the scope it was introduced in has closed
    last: int = -1  # the position of its latest mention
    node: Node | None = None  # its latest mention


@dataclass
class References:
    """Every anaphor's antecedent and how far back it is."""

    antecedents: dict[int, Node] = field(default_factory=dict)  # id(anaphor) -> the mention it refers back to
    back: dict[int, int] = field(default_factory=dict)  # id(anaphor) -> noun phrases counted back
    new: set[int] = field(default_factory=set)  # id of each definite description that introduces its referent

    def label(self, node: Node) -> str | None:
        if id(node) in self.back:
            return str(self.back[id(node)])
        return NEW if id(node) in self.new else None


# How an anaphor picks its antecedent: given the anaphor and its candidates, latest
# first, each with the features it must have all of (accessible, agrees, ...),
# the index of the one it takes (None: none). The labeller takes the first whose
# features all hold; a model may be asked instead (rounds.antecedents).
Candidates = Iterator[tuple[object, tuple[bool, ...]]]
Decide = Callable[[Node, Candidates], "int | None"]


def first_match(anaphor: Node, candidates: Candidates) -> int | None:
    """The labeller's choice: the latest candidate whose features all hold."""
    return next((i for i, (_, features) in enumerate(candidates) if all(features)), None)


class Unresolved(Exception):
    def __init__(self, node: Node, expected: str):
        super().__init__(expected)
        self.node, self.expected = node, expected


def read(tree: Node, text: str | None = None, decide: Decide = first_match) -> References:
    """The references of a resolved tree, each anaphor's antecedent picked by
    `decide` (the labeller's rule by default); an anaphor with nothing to refer to
    raises ParseError at its position (Unresolved where `text` is None)."""
    reader = _Reader(decide)
    try:
        reader.run(tree)
    except Unresolved as err:
        if text is None:
            raise
        token = err.node if isinstance(err.node, lark.Token) else next(err.node.scan_values(lambda v: True))
        raise refusal(text, token, err.expected) from None
    return reader.out


_OPEN = object()  # a walk item: a scope starts here
_CLOSE = object()  # a walk item: the innermost scope ends here
_SENTENCE = object()  # a walk item: a sentence of the theory starts here


class _Reader:
    def __init__(self, decide: Decide = first_match):
        self.decide = decide
        self.out = References()
        self.position = 0
        self.constants: dict[tuple[str, ...], Referent] = {}
        self.recent: dict[Referent, None] = {}  # every referent mentioned, the latest mentioned last
        self.scopes: list[list[Referent]] = []
        self.sentences: list[list[Referent]] = []  # the referents each sentence mentions, in order
        self.variable: Referent | None = None  # the current rule's

    def run(self, tree: Node) -> None:
        theory, statement = (tree.children if kind(tree) in ASKS else (tree, None))
        items: list[tuple] = []
        for sentence in [*children(theory), *([statement] if statement is not None else [])]:
            items += [(_SENTENCE, None), (sentence, None)]
        items.reverse()
        walked = 0
        while items:
            walked += 1
            if not walked & 1023:  # a time budget stops a long discourse (budget.py)
                budget.check()
            node, role = items.pop()
            if node is _SENTENCE:
                self.sentences.append([])
            elif node is _OPEN:
                self.scopes.append([])
            elif node is _CLOSE:
                for referent in self.scopes.pop():
                    referent.open = False
            else:
                items.extend(reversed(self._visit(node, role)))

    def _visit(self, node: Node, role) -> list[tuple]:
        """What to walk next, in order, after `node` itself (role: (holder, is_object),
        holder[0] being the subject of the clause the node is a part of)."""
        k = kind(node)
        if k == "generic":
            return []  # a class is no noun phrase
        if k == "rule":
            self.variable = None
            return [(_OPEN, None)] + [(c, None) for c in node.children] + [(_CLOSE, None)]
        if k in ("conditions", "conclusions", "conjunction"):
            holder = [None]  # a conjunct without its subject has the previous one's
            return [(c, (holder, False)) for c in node.children]
        if k in LITERALS:
            holder = role[0] if role is not None else [None]
            parts = node.children
            written = subject(node)
            after = [(p, (holder, True)) for p in parts[1 if written is not None else 0:]]
            if k == "rel_not":  # its object is under the negation
                after = after[:-1] + [(_OPEN, None)] + after[-1:] + [(_CLOSE, None)]
            return ([(written, (holder, False))] if written is not None else []) + after
        if k in MENTIONS:
            return self._mention(node, role)
        return []

    def _mention(self, node: Node, role) -> list[tuple]:
        holder, is_object = role if role is not None else ([None], False)
        k = kind(node)
        referent, anaphor = self._referent(node, k, holder[0] if is_object else None)
        if anaphor:
            self.out.antecedents[id(node)] = referent.node
            self.out.back[id(node)] = self.position - referent.last
        referent.last, referent.node = self.position, node
        self.recent.pop(referent, None)
        self.recent[referent] = None
        self.position += 1
        if self.sentences:
            self.sentences[-1].append(referent)
        if not is_object:
            holder[0] = referent
        if k == "indefinite":  # its relative clause is about it
            return [(c, ([referent], False)) for c in node.children if isinstance(c, lark.Tree)]
        if k == "group":
            return [(c, ([None], True)) for c in node.children]
        return []

    def _referent(self, node: Node, k: str, clause_subject: Referent | None) -> tuple[Referent, bool]:
        """(the referent, whether the node refers back to it)."""
        if k == "NAME":
            return self._constant((str(node),), name_gender(str(node))), False
        if k == "entity":
            words = tuple(str(w) for w in node.children)
            found = self._described(node, words)
            if found is None:
                self.out.new.add(id(node))
                return self._constant(words, noun_gender(words[-1])), False
            return found, True
        if k == "indefinite":
            words = tuple(str(w) for w in node.children if isinstance(w, lark.Token))
            return self._introduce(Referent(noun_gender(words[-1]), words)), False
        if k == "group":
            return self._introduce(Referent("p")), False
        if k == "VAR":
            if str(node) in ("something", "someone"):
                self.variable = self._introduce(Referent(""))
                return self.variable, False
            return self.variable, True  # roles.check: a rule's pronoun follows its variable
        if k == "PRONOUN":
            return self._pronoun(node, PRONOUN_GENDER[str(node).lower()], clause_subject), True
        return self._former_latter(node, k), True

    def _introduce(self, referent: Referent) -> Referent:
        if self.scopes:
            self.scopes[-1].append(referent)
        return referent

    def _constant(self, words: tuple[str, ...], gender: str) -> Referent:
        if words not in self.constants:
            self.constants[words] = Referent(gender, words, constant=True)
        return self.constants[words]

    def _pick(self, node: Node, candidates: Candidates) -> Referent | None:
        """The candidate `decide` picks (candidates: (referent, features), latest first)."""
        seen: list[Referent] = []

        def kept() -> Candidates:
            for referent, features in candidates:
                seen.append(referent)
                yield referent, features

        index = self.decide(node, kept())
        return None if index is None else seen[index]

    def _described(self, node: Node, words: tuple[str, ...]) -> Referent | None:
        """The accessible referent mentioned last that `the WORDS` describes."""

        def describes(r: Referent) -> bool:
            return bool(r.words) and r.words[-1] == words[-1] and (r.words == words if r.constant else set(words) <= set(r.words))

        return self._pick(node, ((r, (r.open, describes(r))) for r in reversed(self.recent)))

    def _pronoun(self, node: Node, gender: str, clause_subject: Referent | None) -> Referent:
        candidates = ((r, (r.open, r.gender in AGREES[gender], r is not clause_subject)) for r in reversed(self.recent))
        found = self._pick(node, candidates)
        if found is not None:
            return found
        why = ", not its clause's subject," if clause_subject is not None else ""
        raise Unresolved(
            node, f"a noun phrase before {str(node)!r}{why} that is {WANTED[gender]} and not under `not` or in a rule"
        )

    def _former_latter(self, node: Node, k: str) -> Referent:
        """The first or the last of the two or more things the latest earlier
        sentence that mentions two or more accessible things mentions."""

        def sentences() -> Candidates:
            for i in range(len(self.sentences) - 2, -1, -1):
                distinct = list(dict.fromkeys(r for r in self.sentences[i] if r.open and r.gender not in ("p", "")))
                pick = (distinct[0] if k == "FORMER" else distinct[-1]) if distinct else None
                yield pick, (len(distinct) >= 2,)

        found = self._pick(node, sentences())
        if found is not None:
            return found
        raise Unresolved(node, f"an earlier sentence that mentions two things, for `the {str(node)}` to refer to")
