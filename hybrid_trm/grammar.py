"""Load Lark grammars (LALR, cached) and parse text into lark trees.

Also the one traversal every later stage shares: `postorder` lists a tree's nodes
children-first, left to right, without recursion, so labels (domains) and tensors
(trees.py) index the same nodes in the same order.
"""

from __future__ import annotations

import bisect
import weakref
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable

import lark

from . import budget
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
    fast = _fast_parser(parser)
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


class _FastLALR:
    """Lark's own LALR tables, driven in one loop over one regex scan of the text,
    building the tree Lark builds by Lark's rules for it (below): the same tree as
    `Lark.parse`, in about a third of the time. Lark lexes with a Python call per
    match, spaces included, feeds the parser a token at a time through several
    layers, makes a Token of every terminal and calls a tree builder at every
    reduction. Here a terminal that every rule filters out is never made a Token,
    and a rule that passes its one child up (`?item: DIGIT`) only moves the
    parser's state. It answers None wherever it is not sure to agree with Lark (any
    token the parser refuses, any character no terminal matches), and the caller
    then parses with Lark, which raises its error.

    Lark's tree for a rule (maybe_placeholders off, no transformer): its children
    without the terminals it filters out (anonymous strings and _NAMES, unless the
    rule is `!`-kept), each child of a `_rule` spliced in, named by the rule's alias
    (or template, or name); a `?rule` without an alias gives its only child itself.

    Scanning all terminals at once is Lark's basic lexer; Lark uses the contextual
    one, which tries only the terminals the parser state accepts. The two agree on
    every token the parser accepts when no string terminal hides inside a regex
    terminal (no `unless` callback): the first terminal in Lark's order that matches
    is then also the first among any accepted subset that holds it."""

    def __init__(self, parser: lark.Lark):
        lexer = lark.lexer.BasicLexer(parser.lexer_conf)
        self.scan = lexer.scanner._mres[0]
        self.ignore = lexer.ignore_types
        table = parser.parser.parser.parser.parse_table
        start = parser.options.start[0]
        self.start_state, self.end_state = table.start_states[start], table.end_states[start]
        shift = lark.parsers.lalr_analysis.Shift
        # Per state, per terminal or rule name: (next state, None) for a shift, (None,
        # (rule length, its tree builder or None to pass its child up, the rule's name))
        # for a reduce. Names are made plain strings: Lark's are Tokens, whose == is a
        # Python call.
        reduced = {rule: (len(rule.expansion), _builder(rule), str(rule.origin.name)) for rule in parser.rules}
        self.actions = {
            state: {str(symbol): (arg, None) if action is shift else (None, reduced[arg]) for symbol, (action, arg) in row.items()}
            for state, row in table.states.items()
        }
        # Terminals every rule filters out: shifted as None, never read.
        terminals = [(s, r.options.keep_all_tokens) for r in parser.rules for s in r.expansion if s.is_term]
        self.dropped = {str(s.name) for s, _ in terminals} - {str(s.name) for s, keep in terminals if keep or not s.filter_out}
        self.new_token = lark.Token._future_new  # Token(...) without its deprecation checks

    @classmethod
    def of(cls, parser: lark.Lark) -> _FastLALR | None:
        """The fast path for `parser`, or None where it could disagree with Lark."""
        options = parser.options
        if options.parser != "lalr" or options.lexer not in ("basic", "contextual") or options.postlex is not None:
            return None
        if options.lexer_callbacks or len(options.start) != 1:
            return None
        if options.transformer is not None or options.tree_class not in (None, lark.Tree):
            return None
        if options.maybe_placeholders or options.propagate_positions:
            return None
        # It reads Lark's parse table and lexer, which are not Lark's public API: a
        # Lark whose insides moved gets Lark's own parse, not an error.
        try:
            lexer = lark.lexer.BasicLexer(parser.lexer_conf)
            scanner = lexer.scanner  # builds lexer.callback too
            if lexer.callback or len(scanner._mres) != 1:  # an `unless` string, or > 100 terminals
                return None
            return cls(parser)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def parse(self, text: str) -> Node | None:
        actions, end_state, ignore, dropped = self.actions, self.end_state, self.ignore, self.dropped
        states, values = [self.start_state], []
        newlines = [i for i, c in enumerate(text) if c == "\n"] if "\n" in text else None
        pos = 0
        check, tokens = budget.check, 0
        try:
            for match in self.scan.finditer(text):
                tokens += 1
                if not tokens & 4095:  # a time budget stops a long parse (budget.py)
                    check()
                start = match.start()
                if start != pos:
                    return None  # a character no terminal matches
                pos = match.end()
                kind = match.lastgroup
                if kind in ignore:
                    continue
                token = None if kind in dropped else self._token(kind, match.group(), start, pos, newlines)
                while True:
                    shift, reduce = actions[states[-1]][kind]
                    if reduce is None:
                        states.append(shift)
                        values.append(token)
                        break
                    _reduce(reduce, states, values, actions)
            if pos != len(text):
                return None
            while True:
                shift, reduce = actions[states[-1]]["$END"]
                if reduce is None:
                    return None
                _reduce(reduce, states, values, actions)
                if states[-1] == end_state:
                    return values[-1]
        except KeyError:  # a token the parser refuses here
            return None

    def _token(self, kind: str, value: str, start: int, end: int, newlines: list[int] | None) -> lark.Token:
        """Lark's token, with its line and column as Lark counts them."""
        if newlines is None:
            return self.new_token(kind, value, start, 1, start + 1, 1, end + 1, end)
        line, end_line = bisect.bisect_left(newlines, start), bisect.bisect_left(newlines, end)
        line_start = newlines[line - 1] + 1 if line else 0
        end_start = newlines[end_line - 1] + 1 if end_line else 0
        column, end_column = start - line_start + 1, end - end_start + 1
        return self.new_token(kind, value, start, line + 1, column, end_line + 1, end_column, end)


def _reduce(reduce: tuple, states: list, values: list, actions: dict) -> None:
    """Replace a rule's symbols on the stacks by what its tree builder makes of them."""
    size, build, rule = reduce
    if build is None:  # its one child passes up as it is
        del states[-1]
    else:
        children = values[-size:] if size else []
        if size:
            del states[-size:]
            del values[-size:]
        values.append(build(children))
    states.append(actions[states[-1]][rule][0])


def _builder(rule) -> Callable[[list], object] | None:
    """What Lark's tree builder makes of a rule's children (see _FastLALR); None for
    a `?rule` of one symbol that it keeps and does not splice: the child itself."""
    options = rule.options
    include = [
        (i, not s.is_term and s.name.startswith("_"))
        for i, s in enumerate(rule.expansion) if options.keep_all_tokens or not (s.is_term and s.filter_out)
    ]
    single = options.expand1 and not rule.alias
    if single and include == [(0, False)] and len(rule.expansion) == 1:
        return None
    name = rule.alias or options.template_source or rule.origin.name
    inline = rule.origin.name.startswith("_")  # its children go into its parent's (a list stands for it)
    every = [i for i, _ in include] == list(range(len(rule.expansion)))
    spliced = any(expand for _, expand in include)
    tree = lark.Tree

    def build(children: list):
        if every and not spliced:
            out = children
        elif not spliced:
            out = [children[i] for i, _ in include]
        else:
            # A rule that repeats (`item+` is `_plus: item | _plus item`) splices the
            # list made so far into a list for its parent: grown in place, where it
            # is the first part and a list this parser made (no one else holds it),
            # so n items cost n appends, not n copies of ever longer lists.
            head, rest = include[0], include[1:]
            if inline and head[1] and type(children[head[0]]) is list:
                out = children[head[0]]
            else:
                out, rest = [], include
            for i, expand in rest:
                if expand:
                    out.extend(children[i])
                else:
                    out.append(children[i])
        if single and len(out) == 1:
            return out[0]
        return out if inline else tree(name, out)

    return build


_FAST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _fast_parser(parser: lark.Lark) -> _FastLALR | None:
    if parser not in _FAST:
        _FAST[parser] = _FastLALR.of(parser)
    return _FAST[parser]


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
    """(nodes, height, most children of any node): what budget.check_tree limits."""
    heights: dict[int, int] = {}
    widest = 0
    order = postorder(root)
    for i, node in enumerate(order):
        if not i & 4095:  # a tree past the size limits takes a second to measure
            budget.check()
        below = node.children if isinstance(node, lark.Tree) else ()
        widest = max(widest, len(below))
        heights[id(node)] = 1 + max((heights.pop(id(c)) for c in below), default=-1)
    return len(order), heights[id(root)], widest


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
