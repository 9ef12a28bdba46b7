"""Load Lark grammars (LALR, cached) and parse text into lark trees.

Building a Lark LALR parser from a grammar's text takes 7-59 ms (and ~9 ms more
for Lark's own grammar of grammars, once a process); a fresh `hybrid-trm solve`
would pay it for every grammar it tries. So a parser built once is kept on disk,
as JSON (Lark's own serialization, never pickle: `Lark.load` reads the dict), in
the user's cache folder, keyed by a hash of the grammar's text, Lark's version
and the options: reading it back takes 0.6-10 ms. HYBRID_TRM_CACHE_DIR names another
folder (empty: no cache). A cache that cannot be read or written is rebuilt or
skipped, never an error.

Also the one traversal every later stage shares: `postorder` lists a tree's nodes
children-first, left to right, without recursion, so labels (domains) and tensors
(trees.py) index the same nodes in the same order.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark

from . import budget
from .errors import HybridTRMError, ParseError
from .fast_lalr import fast_parser

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
    return cached_parser(text)


# Options of every parser (build_parser's): part of the cache's key.
PARSER_OPTIONS = {"parser": "lalr", "start": "start", "maybe_placeholders": False}
CACHE_VARIABLE = "HYBRID_TRM_CACHE_DIR"
CACHE_FORMAT = 1  # of the files below: part of the key


def build_parser(text: str) -> lark.Lark:
    """The parser every domain uses, from a grammar's text: LALR, from `start`.
    Built anew (grammar_check reads what Lark logs while building); load_grammar's
    parsers come from the cache (cached_parser)."""
    # propagate_positions is off: it walks the tree recursively and costs time.
    return lark.Lark(text, **PARSER_OPTIONS)


def cached_parser(text: str) -> lark.Lark:
    """build_parser(text), read from the cache folder where a parser of this text
    was built before (by this version of Lark), else built and written there."""
    path = _cache_file(text)
    if path is not None:
        try:
            return lark.Lark.load(json.loads(path.read_text(encoding="utf-8"), object_hook=_decoded))
        except Exception:  # noqa: BLE001 - missing, partly written, or from elsewhere: build it
            pass
    parser = build_parser(text)
    if path is not None:
        _write_cache(path, parser)
    return parser


def _cache_file(text: str) -> Path | None:
    folder = os.environ.get(CACHE_VARIABLE)
    if folder is None:
        home = os.path.expanduser("~")
        base = os.environ.get("XDG_CACHE_HOME") or ("" if home.startswith("~") else os.path.join(home, ".cache"))
        folder = base and os.path.join(base, "hybrid-trm")  # no home folder: no cache
    if not folder:
        return None
    key = json.dumps([CACHE_FORMAT, lark.__version__, sorted(PARSER_OPTIONS.items()), text])
    return Path(folder) / "grammars" / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.json"


def _write_cache(path: Path, parser: lark.Lark) -> None:
    """The parser's serialization, written whole (a temporary file renamed) or not at all."""
    import tempfile  # a first build's only: not every fresh process's import

    try:
        data, memo = parser.memo_serialize([lark.lexer.TerminalDef, lark.grammar.Rule])
        encoded = json.dumps(_encoded({"data": data, "memo": memo}))
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as f:
                f.write(encoded)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except (OSError, TypeError, ValueError):  # a read-only home; an option JSON cannot hold
        pass


# Lark's serialization holds tuples and dicts with integer keys, which JSON has not:
# written as one-key objects whose key no grammar's name can be (a NUL).
_TUPLE, _PAIRS = "\0tuple", "\0pairs"


def _encoded(value):
    if isinstance(value, dict):
        if all(type(k) is str and not k.startswith("\0") for k in value):
            return {k: _encoded(v) for k, v in value.items()}
        return {_PAIRS: [[_encoded(k), _encoded(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE: [_encoded(v) for v in value]}
    if isinstance(value, list):
        return [_encoded(v) for v in value]
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _decoded(obj: dict):
    if len(obj) == 1:
        if _TUPLE in obj:
            return tuple(obj[_TUPLE])
        if _PAIRS in obj:
            return {tuple(k) if type(k) is list else k: v for k, v in obj[_PAIRS]}
    return obj


def parse(grammar: str, text: str, domain: str | None = None) -> Node:
    """Parse `text` with the named grammar; raise ParseError with a caret on failure."""
    return parse_with(load_grammar(grammar), text, domain or grammar)


def parse_with(parser: lark.Lark, text: str, name: str) -> Node:
    """Parse `text` with `parser`; errors name the grammar (or domain) `name`."""
    if not text or text.isspace():  # no copy of the text made to find out
        raise HybridTRMError(f"{name}: empty input")
    fast = fast_parser(parser)
    tree = fast.parse(text) if fast is not None else None
    if tree is None:  # not parsed on the fast path: Lark's own parse gives the tree or the error
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
        token = str(err.token)
        found = repr(token) if len(token) <= 40 else f"{token[:20]!r}… ({len(token):,} characters)"
    names = getattr(err, "expected", None) or getattr(err, "allowed", None) or []
    expected = sorted(_readable(parser, t) for t in names)
    source_line = text.splitlines()[line - 1] if text.splitlines() else ""
    start = max(0, column - 1 - 40)
    # Escaped, so that the input's control characters never reach the terminal
    # (a clear-screen, a window title), with the caret under the escaped column.
    before, after = printable(source_line[start : column - 1]), printable(source_line[column - 1 : column - 1 + 40])
    context = f"  {before}{after}\n  {' ' * len(before)}^"
    return ParseError(domain, line, column, context, expected, found)


def printable(text: str) -> str:
    """`text` with every character a terminal would act on (escape sequences,
    carriage returns, bidirectional marks) written as Python escapes."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


_TERMINAL_NAMES = {
    "$END": "end of input", "NUMBER": "a number", "DIGIT": "a digit 0-9", "INT": "an integer",
    "PRED": "a capitalised predicate name",  # logic
    "_MAX": "'[MAX'", "_MIN": "'[MIN'", "_MED": "'[MED'", "_SM": "'[SM'",  # listops
    # english
    "LOWER": "a lowercase word not ending in a plain -s (big, eagle, chase, wumpus)",
    "LOWER_S": "a word ending in -s (a verb: chases; a plural noun: cats)", "CAPITAL": "a capitalised name",
    "_THE": "'the'", "_EVERY": "'Every', 'Each'", "_A": "'a', 'an'", "SOME": "'something', 'someone'",
    "IT": "'it'", "THEY": "'they'", "THEM": "'them'", "KIND": "'things', 'people'", "_IF": "'If'", "_ALL": "'All'",
    "_THEN": "'then'", "_AND": "'and'", "_NOT": "'not'", "_IS": "'is'", "_ARE": "'are'", "_DOES": "'does'", "_DO": "'do'",
    "HE": "'he', 'she'", "HIM": "'him', 'her'", "FORMER": "'former'", "LATTER": "'latter'", "_WHO": "'who', 'which', 'that'",
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
    if terminal == "NAME":  # logic's names are lowercase; a program's may be any case
        return "a name" if "A-Z" in pattern.value else "a lowercase name"
    return terminal


def kind(node: Node) -> str:
    """The node's kind: the rule alias for a subtree (`add`, `max`), the terminal type for a leaf."""
    return node.data if isinstance(node, lark.Tree) else node.type


def children(node: Node) -> list[Node]:
    return node.children if isinstance(node, lark.Tree) else []


def measure(root: Node) -> tuple[int, int, int]:
    """(nodes, height, most children of any node): what budget.check_tree limits.
    In postorder a node's last child stands just before it, and each earlier child
    just before the subtree of the next: subtree sizes find the children's heights
    by position (plain lists), not by a lookup per node."""
    order = postorder(root)
    height, size = [0] * len(order), [1] * len(order)
    widest = 0
    tree = lark.Tree
    for i, node in enumerate(order):
        if not i & 4095:  # a tree past the size limits takes a second to measure
            budget.check()
        if isinstance(node, tree) and node.children:
            below = len(node.children)
            if below > widest:
                widest = below
            c, tall, grown = i - 1, 0, 1
            for _ in range(below):
                if height[c] >= tall:
                    tall = height[c] + 1
                grown += size[c]
                c -= size[c]
            height[i], size[i] = tall, grown
    return len(order), height[-1], widest


def postorder(root: Node) -> list[Node]:
    """All nodes, each after its children, children left to right. Iterative: any depth."""
    # The mirror image of a preorder that visits children right to left, reversed:
    # one pass, each node pushed once (every later stage calls this once per tree).
    order: list[Node] = []
    stack: list[Node] = [root]
    tree = lark.Tree
    while stack:
        node = stack.pop()
        order.append(node)
        if isinstance(node, tree):
            stack.extend(node.children)
    order.reverse()
    return order
