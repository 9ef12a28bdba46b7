"""The rule-based reference resolver: the verifier of english's `antecedent` task
(docs/english.md, "Resolving references").

It lists every noun phrase of the tree first (a mention: a name, `the ...`, an
indefinite, a coordination, a pronoun, `the former` / `the latter`, a rule's
`something` and its pronouns), each with its sentence, the scopes it stands in (a
rule; the object of `does not`), and its clause's subject. Then, for each anaphor
in turn, it searches back mention by mention for the nearest one whose referent
passes the rules:

  accessibility  the referent was not introduced in a scope the anaphor is outside
                 of (a rule's variable, an indefinite under `not`); names and
                 descriptions without an antecedent are everywhere accessible
  agreement      he/him: masculine or either; she/her: feminine or either; it: not
                 a person; they/them: a coordination; inside a rule, it/they/them:
                 the rule's variable; `the WORDS`: a referent introduced as an
                 indefinite holding every word, with the same noun last, or the
                 same description word for word
  binding        an object pronoun is not its own clause's subject (that would be
                 `himself`)
  recency        the nearest such mention wins
  former/latter  the first / last of the referents of the nearest earlier sentence
                 that mentions two or more accessible singular ones

The labeller (domains/english/discourse.py) reads references in one pass with a
stack of scopes; nothing here is shared with it but the lexicon of genders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lark

from .. import budget
from ..errors import HybridTRMError
from ..grammar import Node, children, kind
from ..domains.english.agreement import PRONOUN_GENDER, name_gender, noun_gender

MENTIONS = ("NAME", "entity", "indefinite", "group", "PRONOUN", "FORMER", "LATTER", "VAR")
CLAUSES = ("is", "is_not", "isa", "isa_not", "rel", "rel_not")


@dataclass
class Mention:
    node: Node
    sentence: int
    scopes: tuple[int, ...]  # ids of the rules and negated objects it stands in, outermost first
    subject: Mention | None  # the subject of its clause where it is an object (None: it is a subject)
    # Filled in by resolution: ("name", "Bob"), ("described", words) for a constant,
    # ("indefinite" | "group" | "variable", the index of the mention that introduced it).
    referent: tuple = ()


@dataclass
class Resolution:
    antecedents: dict[int, Node] = field(default_factory=dict)  # id(anaphor) -> the mention it refers back to
    back: dict[int, int] = field(default_factory=dict)  # id(anaphor) -> noun phrases counted back
    new: set[int] = field(default_factory=set)  # definite descriptions with no antecedent
    lines: list[str] = field(default_factory=list)  # each reference, as a person reads it


def resolve(tree: Node) -> Resolution:
    """Every anaphor's antecedent; HybridTRMError where one has none."""
    mentions = _mentions(tree)
    intro: dict[tuple, Mention] = {}  # referent -> the mention that introduced it
    out = Resolution()
    for i, m in enumerate(mentions):
        if not i & 1023:  # a time budget stops a long discourse (budget.py)
            budget.check()
        found = _antecedent(mentions, i, intro)
        if found is None:
            m.referent = _fresh(m, i)
            intro.setdefault(m.referent, m)
            if kind(m.node) == "entity":
                out.new.add(id(m.node))
            continue
        j = found
        m.referent = mentions[j].referent
        out.antecedents[id(m.node)] = mentions[j].node
        out.back[id(m.node)] = i - j
        out.lines.append(
            f"{_shown(m.node)} (sentence {m.sentence + 1}) → {_shown(mentions[j].node)} "
            f"(sentence {mentions[j].sentence + 1}, {i - j} back)"
        )
    return out


def _fresh(m: Mention, index: int) -> tuple:
    """The referent a mention that refers to nothing earlier introduces."""
    k, node = kind(m.node), m.node
    if k == "NAME":
        return ("name", str(node))
    if k == "entity":
        return ("described", tuple(str(w) for w in node.children))
    if k == "VAR" and str(node) in ("something", "someone"):
        return ("variable", index)
    if k in ("indefinite", "group"):
        return (k, index)
    raise HybridTRMError(f"english: {_shown(node)} (sentence {m.sentence + 1}) refers to nothing before it")


def _antecedent(mentions: list[Mention], i: int, intro: dict[tuple, Mention]) -> int | None:
    """The index of the mention the i-th refers back to (None: it refers to nothing earlier)."""
    m = mentions[i]
    k = kind(m.node)
    if k in ("NAME", "indefinite", "group") or (k == "VAR" and str(m.node) in ("something", "someone")):
        return None
    if k in ("FORMER", "LATTER"):
        wanted = _former_latter(mentions, i, intro)
        return next(j for j in range(i - 1, -1, -1) if mentions[j].referent == wanted) if wanted else None
    subject_referent = m.subject.referent if m.subject is not None else None
    for j in range(i - 1, -1, -1):
        r = mentions[j].referent
        origin = intro[r]
        if not _accessible(r, origin, m):
            continue
        if k == "entity" and _describes(m.node, r, origin):
            return j
        if k == "VAR" and r[0] == "variable":
            return j
        if k == "PRONOUN" and r != subject_referent and _agrees(str(m.node).lower(), r, origin):
            return j
    return None


def _accessible(referent: tuple, origin: Mention, m: Mention) -> bool:
    """Names and descriptions are accessible everywhere; what an indefinite, a
    coordination or `something` introduced, only within the scopes it stands in."""
    return referent[0] in ("name", "described") or origin.scopes == m.scopes[: len(origin.scopes)]


def _describes(node: Node, referent: tuple, origin: Mention) -> bool:
    words = [str(w) for w in node.children]
    if referent[0] == "described":
        return list(referent[1]) == words
    if referent[0] != "indefinite":
        return False
    own = [str(w) for w in origin.node.children if isinstance(w, lark.Token)]
    return own[-1] == words[-1] and all(w in own for w in words)


def _agrees(pronoun: str, referent: tuple, origin: Mention) -> bool:
    wanted = PRONOUN_GENDER[pronoun]
    if referent[0] == "group":
        return wanted == "p"
    if referent[0] == "name":
        gender = name_gender(referent[1])
    elif referent[0] == "described":
        gender = noun_gender(referent[1][-1])
    elif referent[0] == "indefinite":
        gender = noun_gender(str([w for w in origin.node.children if isinstance(w, lark.Token)][-1]))
    else:
        return False  # a rule's variable
    return gender == wanted or (gender == "mf" and wanted in ("m", "f"))


def _former_latter(mentions: list[Mention], i: int, intro: dict[tuple, Mention]) -> tuple | None:
    m = mentions[i]
    j = i  # mentions[j:i] will be the sentence's
    for sentence in range(m.sentence - 1, -1, -1):
        end = j
        while j > 0 and mentions[j - 1].sentence >= sentence:
            j -= 1
        there: list[tuple] = []
        for x in mentions[j:end]:
            origin = intro.get(x.referent)
            if x.sentence != sentence or origin is None or x.referent in there:
                continue
            if x.referent[0] in ("group", "variable") or not _accessible(x.referent, origin, m):
                continue
            there.append(x.referent)
        if len(there) >= 2:
            return there[0] if kind(m.node) == "FORMER" else there[-1]
    raise HybridTRMError(
        f"english: `the {m.node}` (sentence {m.sentence + 1}) has no earlier sentence that mentions two things"
    )


def _mentions(tree: Node) -> list[Mention]:
    """Every mention in reading order, with its sentence, scopes and clause subject."""
    theory, statement = tree.children if kind(tree) in ("ask", "ask_closed") else (tree, None)
    sentences = [*children(theory), *([statement] if statement is not None else [])]
    out: list[Mention] = []
    by_node: dict[int, Mention] = {}  # a clause's subject comes before its objects
    for number, sentence in enumerate(sentences):
        parents: dict[int, Node] = {}
        stack = [sentence]
        while stack:  # preorder, children left to right
            node = stack.pop()
            for child in children(node):
                parents[id(child)] = node
            stack.extend(reversed(children(node)))
            if kind(node) in MENTIONS:
                subject = _clause_subject(node, parents)
                out.append(Mention(node, number, _scopes(node, parents), by_node.get(id(subject))))
                by_node[id(node)] = out[-1]
    return out


def _scopes(node: Node, parents: dict[int, Node]) -> tuple[int, ...]:
    found, child = [], node
    while id(child) in parents:
        parent = parents[id(child)]
        if kind(parent) == "rule" or (kind(parent) == "rel_not" and parent.children[-1] is child):
            found.append(id(parent))
        child = parent
    return tuple(reversed(found))


def _clause_subject(node: Node, parents: dict[int, Node]) -> Node | None:
    """The subject of the clause `node` is an object of (None: `node` is a subject,
    or a member of a coordination)."""
    clause = parents.get(id(node))
    if clause is None or kind(clause) not in CLAUSES or _written_subject(clause) is node:
        return None
    written = _written_subject(clause)
    while written is None:  # a conjunct without a subject: the one before's, or the indefinite's
        holder = parents.get(id(clause))
        if holder is None:
            return None
        if kind(holder) == "indefinite":
            return holder
        before = holder.children[: holder.children.index(clause)]
        if not before:
            return None
        clause = before[-1]
        written = _written_subject(clause)
    return written


def _written_subject(clause: Node) -> Node | None:
    with_subject = 3 if kind(clause) in ("rel", "rel_not") else 2
    return clause.children[0] if len(clause.children) == with_subject else None


def _shown(node: Node) -> str:
    """A mention as it reads: 'he', 'a farmer', 'Bob and the cat', 'the former'."""
    k = kind(node)
    if isinstance(node, lark.Token):
        return repr(f"the {node}" if k in ("FORMER", "LATTER") else str(node))
    return repr(" and ".join(_bare(c) for c in node.children) if k == "group" else _bare(node))


def _bare(node: Node) -> str:
    if isinstance(node, lark.Token):
        return str(node)
    words = [str(w) for w in node.children if isinstance(w, lark.Token)]
    if kind(node) == "entity":
        return "the " + " ".join(words)
    return ("an " if words[0][:1] in "aeiou" else "a ") + " ".join(words)
