"""Load Lark grammars (LALR, cached) and parse text into lark trees.

Also the one traversal every later stage shares: `postorder` lists a tree's nodes
children-first, left to right, without recursion, so labels (domains) and tensors
(trees.py) index the same nodes in the same order.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark

from .errors import HybridTRMError, ParseError

Node = lark.Tree | lark.Token


@lru_cache(maxsize=None)
def load_grammar(name_or_path: str) -> lark.Lark:
    """An LALR parser for a built-in grammar name (`arith`) or a path to a .lark file."""
    path = Path(name_or_path)
    if path.suffix == ".lark":
        if not path.is_file():
            raise HybridTRMError(f"grammar file not found: {path}")
        text = path.read_text(encoding="utf-8")
    else:
        source = resources.files("hybrid_trm.grammars").joinpath(f"{name_or_path}.lark")
        if not source.is_file():
            raise HybridTRMError(f"no built-in grammar named {name_or_path!r}")
        text = source.read_text(encoding="utf-8")
    return build_parser(text)


def build_parser(text: str) -> lark.Lark:
    """The parser every domain uses, from a grammar's text: LALR, from `start`."""
    # propagate_positions is off: it walks the tree recursively and costs time.
    return lark.Lark(text, parser="lalr", start="start", maybe_placeholders=False)


def parse(grammar: str, text: str, domain: str | None = None) -> Node:
    """Parse `text` with the named grammar; raise ParseError with a caret on failure."""
    return parse_with(load_grammar(grammar), text, domain or grammar)


def parse_with(parser: lark.Lark, text: str, name: str) -> Node:
    """Parse `text` with `parser`; errors name the grammar (or domain) `name`."""
    if not text.strip():
        raise HybridTRMError(f"{name}: empty input")
    try:
        tree = parser.parse(text)
    except lark.exceptions.UnexpectedInput as err:
        raise _parse_error(name, text, err, parser) from None
    # `?start` inlines a single child; a lone token (e.g. "7") stays wrapped in `start`.
    if isinstance(tree, lark.Tree) and tree.data == "start" and len(tree.children) == 1:
        return tree.children[0]
    return tree


def pretty(node: Node) -> str:
    """A tree as indented lines, one node a line (a lone token: its kind and text)."""
    if isinstance(node, lark.Token):
        return f"{node.type}\t{node}"
    return node.pretty().rstrip()


def _parse_error(domain: str, text: str, err: lark.exceptions.UnexpectedInput, parser: lark.Lark) -> ParseError:
    line = getattr(err, "line", None) or 1
    column = getattr(err, "column", None) or 1
    token = getattr(err, "token", None)
    if isinstance(err, lark.exceptions.UnexpectedEOF) or getattr(token, "type", None) == "$END":
        # Point just past the last character.
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        found = "end of input"
    elif isinstance(err, lark.exceptions.UnexpectedCharacters):
        found = repr(text[err.pos_in_stream]) if err.pos_in_stream < len(text) else "end of input"
    else:
        found = repr(str(err.token))
    names = getattr(err, "expected", None) or getattr(err, "allowed", None) or []
    expected = sorted(_readable(parser, t) for t in names)
    source_line = text.splitlines()[line - 1] if text.splitlines() else ""
    start = max(0, column - 1 - 40)
    snippet = source_line[start : column - 1 + 40]
    context = f"  {snippet}\n  {' ' * (column - 1 - start)}^"
    return ParseError(domain, line, column, context, expected, found)


_TERMINAL_NAMES = {
    "$END": "end of input", "NUMBER": "a number", "DIGIT": "a digit 0-9",
    "NAME": "a lowercase name", "PRED": "a capitalised predicate name",  # logic
}


def _readable(parser: lark.Lark, terminal: str) -> str:
    """A terminal as a person would write it: `'+'` rather than `PLUS`."""
    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    try:
        pattern = parser.get_terminal(terminal).pattern
    except (AttributeError, KeyError):
        return terminal
    if isinstance(pattern, lark.lexer.PatternStr):
        return repr(pattern.value)
    return terminal


def kind(node: Node) -> str:
    """The node's kind: the rule alias for a subtree (`add`, `max`), the terminal type for a leaf."""
    return node.data if isinstance(node, lark.Tree) else node.type


def children(node: Node) -> list[Node]:
    return node.children if isinstance(node, lark.Tree) else []


def postorder(root: Node) -> list[Node]:
    """All nodes, each after its children, children left to right. Iterative: any depth."""
    order: list[Node] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded or isinstance(node, lark.Token):
            order.append(node)
            continue
        stack.append((node, True))
        for child in reversed(node.children):
            stack.append((child, False))
    return order
