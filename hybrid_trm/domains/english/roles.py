"""The node kinds of an english tree, `resolve` (every leaf named by its role), and
`check`, which refuses what the grammar lets through but the fragment does not hold
(docs/english.md, "Refused when parsed"). The lowest module of the package.

The grammar tells words apart by shape (LOWER, LOWER_S, CAPITAL); after `resolve` a
leaf is one of: NAME (a proper name), WORD (a word of an entity's name, under
`entity`), ADJ, NOUN, VERB, VAR (something, someone, it, they, them: a rule's
variable), PRONOUN (he, she, it, they, him, her, them outside a rule: a discourse
pronoun), FORMER, LATTER (`the former`, `the latter`) or KIND (things, people: a
class with no noun). An `indefinite` (a farmer, a man who owns a donkey) holds its
ADJ and NOUN words and perhaps its relative clause, a literal without a subject; a
`group` (Bob and a farmer) its members; a `conjunction` the clauses of a sentence.
"""

from __future__ import annotations

import lark

from ...errors import ParseError
from ...grammar import Node, children, kind, postorder, printable
from . import lexicon

LITERALS = ("is", "is_not", "isa", "isa_not", "rel", "rel_not")
NEGATIVE = ("is_not", "isa_not", "rel_not")
# Parts of a literal, which `truth` never labels (`antecedent` labels its references).
TERMS = ("NAME", "WORD", "ADJ", "NOUN", "VERB", "VAR", "KIND", "entity", "PRONOUN", "FORMER", "LATTER")
DISCOURSE = ("indefinite", "group", "PRONOUN", "FORMER", "LATTER")  # what only a discourse holds
ASKS = ("ask", "ask_closed")  # THEORY Q: STATEMENT, and THEORY Q (closed world): STATEMENT
NODE_KINDS = (  # ask_closed last: the others keep the indices a trained model knows them by
    "ask", "theory", "rule", "conditions", "conclusions", "generic", "class", "conjunction", "indefinite", "group",
    *LITERALS, *TERMS, "ask_closed",
)
_VARIABLES = ("SOME", "IT", "THEY", "THEM")  # in a rule: its variable
_PRONOUNS = ("HE", "HIM")  # pronouns only a discourse holds


def resolve(root: Node) -> Node:
    """Retype every leaf, in place, by its role (see the module's docstring)."""
    for node in postorder(root):
        if not isinstance(node, lark.Tree):
            continue
        k = node.data
        parts = node.children
        if k == "entity":
            node.children = [_retype(token, "WORD") for token in parts]
        elif k == "indefinite":
            words = [i for i, part in enumerate(parts) if isinstance(part, lark.Token)]
            for i in words:
                parts[i] = _retype(parts[i], "NOUN" if i == words[-1] else "ADJ")
        elif k == "group":
            node.children = [_term(part) for part in parts]
        elif k == "class":
            for i, token in enumerate(parts):
                if token.type != "KIND":
                    parts[i] = _retype(token, "NOUN" if i == len(parts) - 1 else "ADJ")
        elif k in ("is", "is_not", "isa", "isa_not"):
            parts[-1] = _retype(parts[-1], "ADJ" if k in ("is", "is_not") else "NOUN")
            if len(parts) == 2:
                parts[0] = _term(parts[0])
        elif k in ("rel", "rel_not"):
            parts[-2] = _retype(parts[-2], "VERB")
            parts[-1] = _term(parts[-1])
            if len(parts) == 3:
                parts[0] = _term(parts[0])
    _discourse_pronouns(root)
    return root


def _discourse_pronouns(root: Node) -> None:
    """it, they, them outside a rule are discourse pronouns, not a rule's variable."""
    sentences = root.children[0] if kind(root) in ASKS else root
    for sentence in children(sentences):
        if kind(sentence) in ("rule", "generic"):
            continue
        for node in postorder(sentence):
            if isinstance(node, lark.Tree):
                node.children = [_retype(c, "PRONOUN") if kind(c) == "VAR" else c for c in node.children]


def _retype(token: lark.Token, role: str) -> lark.Token:
    return lark.Token.new_borrow_pos(role, str(token), token)


def _term(part: Node) -> Node:
    """A subject or object: a tree (entity, indefinite, group) stays, as do FORMER and
    LATTER; a name or a pronoun is retyped."""
    if isinstance(part, lark.Tree) or part.type in ("FORMER", "LATTER", "NAME", "VAR", "PRONOUN"):
        return part
    if part.type in _VARIABLES:
        return _retype(part, "VAR")
    return _retype(part, "PRONOUN" if part.type in _PRONOUNS else "NAME")


def subject(node: lark.Tree) -> Node | None:
    """A literal's written subject (None: left out, as after `and` or in a generic)."""
    k, parts = node.data, node.children
    if (k in ("rel", "rel_not") and len(parts) == 3) or (k not in ("rel", "rel_not") and len(parts) == 2):
        return parts[0]
    return None


def check(tree: Node, text: str) -> None:
    """Refuse, with the position, a rule's pronoun that has nothing to refer to, a
    rule with two variables, a word used both as a verb and as an adjective or noun,
    and two spellings that would be one constant."""
    arity: dict[str, tuple[int, lark.Token]] = {}
    constants: dict[str, str] = {}
    for node in postorder(tree):
        k = kind(node)
        if k == "rule":
            _check_variable(node, text)
        elif k in ("ADJ", "NOUN", "VERB"):
            name, n = lexicon.predicate(node), 2 if k == "VERB" else 1
            first = arity.setdefault(name, (n, node))
            if first[0] != n:
                use = {1: "an adjective or a noun", 2: "a verb"}
                raise refusal(
                    text, node, f"a word used as {use[first[0]]} (line {first[1].line}, column {first[1].column}), "
                    f"not as {use[n]}: {name} is one predicate",
                )
        elif k in ("NAME", "entity"):
            written = lexicon.surface(node)
            other = constants.setdefault(lexicon.constant(node), written)
            if other.lower() != written.lower():
                first = node if isinstance(node, lark.Token) else node.children[0]
                raise refusal(text, first, f"another name: {other!r} and {written!r} would be one constant")


def _check_variable(rule: lark.Tree, text: str) -> None:
    """One `something` / `someone`, before any pronoun that refers to it."""
    introduced = None
    for token in postorder(rule):
        if kind(token) != "VAR":
            continue
        if str(token) in ("something", "someone"):
            if introduced is not None:
                raise refusal(text, token, f"it or they: a rule has one variable, introduced by {introduced!r}")
            introduced = str(token)
        elif introduced is None:
            raise refusal(
                text, token, f"`something` or `someone` before {str(token)!r}: a rule's pronoun refers to its variable"
            )


def refusal(text: str, token: lark.Token, expected: str) -> ParseError:
    line, column = token.line or 1, token.column or 1
    lines = text.splitlines() or [""]
    source = lines[line - 1] if line <= len(lines) else ""
    start = max(0, column - 1 - 40)
    before, after = printable(source[start : column - 1]), printable(source[column - 1 : column - 1 + 40])
    context = f"  {before}{after}\n  {' ' * len(before)}^"
    return ParseError("english", line, column, context, [expected], repr(str(token)))
