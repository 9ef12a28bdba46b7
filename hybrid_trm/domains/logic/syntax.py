"""Surface syntaxes: `render` writes one tree in any of SYNTAXES (ascii, words,
unicode, and the datasets' evans and bowman), as text that parses back to it."""

from __future__ import annotations

from ...errors import HybridTRMError
from ...grammar import Node, children, kind, postorder
from .roles import PAIRS, QUANTIFIERS, TERMS

SYNTAXES = ("ascii", "words", "unicode", "evans", "bowman")
_SPELLING = {
    "ascii": {"not": "~", "and": " & ", "or": " | ", "implies": " -> ", "iff": " <-> ", "forall": "forall ",
              "exists": "exists ", "dot": ". ", "true": "true", "false": "false", "entails": " |= "},
    "words": {"not": "not ", "and": " and ", "or": " or ", "implies": " implies ", "iff": " iff ", "forall": "forall ",
              "exists": "exists ", "dot": ". ", "true": "true", "false": "false", "entails": " |= "},
    "unicode": {"not": "¬", "and": " ∧ ", "or": " ∨ ", "implies": " → ", "iff": " ↔ ", "forall": "∀", "exists": "∃",
                "dot": ". ", "true": "⊤", "false": "⊥", "entails": " ⊨ "},
}
_LEVEL = {"iff": 1, "implies": 2, "or": 3, "and": 4}  # binding strength; atoms and negation: 5
# The kinds each syntax can write (the datasets' syntaxes are propositional).
_WRITES = {
    "evans": {"PROP", "not", "and", "or", "implies", "entails", "relation"},
    "bowman": {"PROP", "not", "and", "or", "entails", "relation"},
}


def render(tree: Node, syntax: str = "ascii") -> str:
    """Text in the given syntax that parses back to this tree. Iterative: any depth."""
    if syntax not in SYNTAXES:
        raise HybridTRMError(f"logic: unknown syntax {syntax!r}; syntaxes: {', '.join(SYNTAXES)}")
    out: dict[int, tuple[str, int, bool]] = {}  # node -> (text, level, ends in an open quantifier)
    for node in postorder(tree):
        k = kind(node)
        if k in TERMS:
            continue
        if syntax in _WRITES and k not in _WRITES[syntax]:
            raise HybridTRMError(f"logic: the {syntax} syntax cannot write a {k} node")
        parts = [out.pop(id(c)) for c in children(node) if kind(c) not in TERMS]
        out[id(node)] = _render_node(syntax, k, node, parts)
    return out[id(tree)][0]


def _render_node(syntax: str, k: str, node: Node, parts: list) -> tuple[str, int, bool]:
    if k == "PROP":
        return str(node), 5, False
    if k in ("pred", "eq"):
        terms = [str(t) for t in node.children]
        text = f"{terms[0]}({', '.join(terms[1:])})" if k == "pred" else f"{terms[0]} = {terms[1]}"
        return text, 5, False
    if k in PAIRS:
        joint = " ; " if k == "relation" else (_SPELLING.get(syntax, _SPELLING["ascii"])["entails"])
        return parts[0][0] + joint + parts[1][0], 0, False
    if syntax == "evans":
        if k == "not":
            return f"~({parts[0][0]})", 5, False
        op = {"and": "&", "or": "|", "implies": ">"}[k]
        return f"({parts[0][0]}{op}{parts[1][0]})", 5, False
    if syntax == "bowman":
        if k == "not":
            return f"( not {parts[0][0]} )", 5, False
        return f"( {parts[0][0]} ( {k} {parts[1][0]} ) )", 5, False
    spell = _SPELLING[syntax]
    if k in ("true", "false"):
        return spell[k], 5, False
    if k in QUANTIFIERS:
        return f"{spell[k]}{node.children[0]}{spell['dot']}{parts[0][0]}", 0, True
    if k == "not":
        text, level, is_open = parts[0]
        if 0 < level < 5:  # a binary operand; a quantifier needs no parentheses here
            return f"{spell['not']}({text})", 5, False
        return spell["not"] + text, 5, is_open
    level = _LEVEL[k]
    (lt, ll, lo), (rt, rl, ro) = parts
    # A left operand in parentheses if it binds more loosely, would swallow the
    # operator (an open quantifier), or sits on the wrong side of its own operator.
    if ll < level or lo or (ll == level and k == "implies"):
        lt = f"({lt})"
    if 0 < rl < level or (rl == level and k != "implies"):  # (a quantifier, level 0, may close a formula)
        rt, ro = f"({rt})", False
    return lt + spell[k] + rt, level, ro
