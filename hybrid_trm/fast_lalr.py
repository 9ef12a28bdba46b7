"""The fast path of parsing: Lark's own LALR tables driven in one loop over one
regex scan of the text, building the tree Lark builds (FastLALR's docstring says
how, and when it steps aside for Lark). grammar.parse_with uses it for every
grammar whose parser it can drive.
"""

from __future__ import annotations

import bisect
import re
import sys
from typing import Callable

import lark

from . import budget

Node = lark.Tree | lark.Token


class FastLALR:
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
        self.ignore = lexer.ignore_types
        self.scan = _skipping_scanner(lexer.scanner, self.ignore).scanner
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
    def of(cls, parser: lark.Lark) -> FastLALR | None:
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
        make, token_class = str.__new__, lark.Token
        states, values = [self.start_state], []
        newlines = [i for i, c in enumerate(text) if c == "\n"] if "\n" in text else None
        pos, check, tokens = 0, budget.check, 0
        try:
            # One match a token and the ignored characters before it (_skipping_scanner),
            # each from where the last one ended, until none matches.
            for match in iter(self.scan(text).match, None):
                tokens += 1
                if not tokens & 4095:  # a time budget stops a long parse (budget.py)
                    check()
                pos = match.end()
                kind = match.lastgroup
                if kind is None:  # the ignored characters that end the text
                    break
                if kind in ignore:
                    continue
                if kind in dropped:
                    token = None
                elif newlines is None:  # Lark's Token, made as Token._future_new makes it, a call fewer
                    start = match.start(kind)
                    token = make(token_class, value := match.group(kind))
                    token.type, token.start_pos, token.value, token.line, token.column = kind, start, value, 1, start + 1
                    token.end_line, token.end_column, token.end_pos = 1, pos + 1, pos
                else:
                    token = self._token(kind, match.group(kind), match.start(kind), pos, newlines)
                while True:  # reduce while the state says so (_reduce, inlined: the parse's inner loop)
                    shift, reduce = actions[states[-1]][kind]
                    if reduce is None:
                        break
                    length, build, rule = reduce
                    if build is None:  # its one child passes up as it is
                        states[-1] = actions[states[-2]][rule][0]
                        continue
                    if length:
                        children = values[-length:]
                        del states[-length:]
                        del values[-length:]
                    else:
                        children = []
                    values.append(build(children))
                    states.append(actions[states[-1]][rule][0])
                states.append(shift)
                values.append(token)
            if pos != len(text):
                return None  # a character no terminal matches
            while True:
                shift, reduce = actions[states[-1]]["$END"]
                if reduce is None:
                    return None
                _reduce(reduce, states, values, actions)
                if states[-1] == end_state:
                    return values[-1]
        except KeyError:  # a token the parser refuses here
            return None

    def _token(self, kind: str, value: str, start: int, end: int, newlines: list[int]) -> lark.Token:
        """Lark's token, with its line and column as Lark counts them, in a text of several lines."""
        line, end_line = bisect.bisect_left(newlines, start), bisect.bisect_left(newlines, end)
        line_start = newlines[line - 1] + 1 if line else 0
        end_start = newlines[end_line - 1] + 1 if end_line else 0
        column, end_column = start - line_start + 1, end - end_start + 1
        return self.new_token(kind, value, start, line + 1, column, end_line + 1, end_column, end)


def _skipping_scanner(scanner, ignore: set[str]):
    """Lark's one regex of every terminal (`scanner`), preceded by the run of ignored
    terminals (spaces, ListOps' parentheses) before the next token, so that one
    match reads a token and what precedes it, not one match each; a run that ends
    the text matches with no group. The run takes an ignored terminal where Lark's
    scan would: where it is the first terminal, in Lark's order, that matches (no
    terminal before it does). The run is atomic, so that a character no terminal
    matches fails at once, in time linear in the run (Python 3.11's `(?>...)`;
    before 3.11, no run: one match per terminal, as Lark scans)."""
    union = scanner._mres[0]
    if not ignore or (scanner.re_ is re and sys.version_info < (3, 11)) or scanner.use_bytes:
        return union
    terminals, runs = scanner.terminals, []
    for i, terminal in enumerate(terminals):
        if terminal.name in ignore:
            before = [t.pattern.to_regexp() for t in terminals[:i] if t.name not in ignore]
            guard = f"(?!{'|'.join(before)})" if before else ""
            runs.append(f"{guard}(?:{terminal.pattern.to_regexp()})")
    return scanner.re_.compile(f"(?>(?:{'|'.join(runs)})*)(?:{union.pattern}|\\Z)", union.flags)


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
    """What Lark's tree builder makes of a rule's children (see FastLALR); None for
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

    # The shapes most rules have, each one call with nothing to decide: a rule
    # keeping all its children (a tree of them, or for a `_rule` the list itself),
    # and a repeat (`_plus: _plus item`) appending its item to the list so far.
    if every and not spliced and not single:
        return (lambda children: children) if inline else (lambda children: tree(name, children))
    if inline and not single and include == [(0, True), (1, False)]:
        def repeat(children: list):
            out = children[0]
            if type(out) is not list:
                return build(children)
            out.append(children[1])
            return out

        return repeat
    if not inline and not single and len(include) == 1 and include[0][1]:  # `list: "[" _items "]"`: a tree of the list
        spliced_at = include[0][0]

        def of_list(children: list):
            items = children[spliced_at]
            return tree(name, items) if type(items) is list else build(children)

        return of_list

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


_FAST = "_hybrid_trm_fast"  # the attribute of a Lark parser that holds its fast path (or None)


def fast_parser(parser: lark.Lark) -> FastLALR | None:
    """The parser's fast path, made at its first parse and kept on it (one attribute
    read a parse, and gone with the parser)."""
    fast = getattr(parser, _FAST, False)
    if fast is False:
        fast = FastLALR.of(parser)
        setattr(parser, _FAST, fast)
    return fast


def specialize(parser: lark.Lark, path: Callable[[FastLALR], object]) -> None:
    """Make `path(its FastLALR)` the parser's fast path: a grammar's own reader, whose
    parse(text) answers as FastLALR.parse does (Lark's tree, or None where Lark's
    parse is to give the tree or the error). Nothing where it has no FastLALR."""
    fast = fast_parser(parser)
    if isinstance(fast, FastLALR):
        setattr(parser, _FAST, path(fast))
