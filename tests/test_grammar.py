"""The grammars: what parses into which tree, and what a parse error tells a user."""

from __future__ import annotations

from pathlib import Path

import lark
import pytest

import naive
from hybrid_trm.domains import registry
from hybrid_trm.errors import HybridTRMError, ParseError
from hybrid_trm.fast_lalr import fast_parser
from hybrid_trm.grammar import children, kind, parse, postorder

ROOT = Path(__file__).resolve().parents[1]


def shape(node):
    """A tree as nested tuples: (kind, children...) or (kind, token text)."""
    if isinstance(node, lark.Token):
        return (node.type, str(node))
    return (node.data, *(shape(c) for c in node.children))


def N(v):
    return ("NUMBER", str(v))


def D(v):
    return ("DIGIT", str(v))


@pytest.mark.parametrize(
    "text,expected,value",
    [
        ("3 - -2", ("sub", N(3), ("neg", N(2))), 5),
        ("4 + -12", ("add", N(4), ("neg", N(12))), -8),
        ("-(4*2)", ("neg", ("mul", N(4), N(2))), -8),
        ("123 * 4567", ("mul", N(123), N(4567)), 123 * 4567),
        ("2+3*4", ("add", N(2), ("mul", N(3), N(4))), 14),
        ("(2+3)*4", ("mul", ("add", N(2), N(3)), N(4)), 20),
        ("10-3-2", ("sub", ("sub", N(10), N(3)), N(2)), 5),
        ("10-(3-2)", ("sub", N(10), ("sub", N(3), N(2))), 9),
        ("2*3*4", ("mul", ("mul", N(2), N(3)), N(4)), 24),
        ("--7", ("neg", ("neg", N(7))), 7),
        ("((7))", N(7), 7),
        ("  8\n+\t1 ", ("add", N(8), N(1)), 9),
    ],
)
def test_arith_trees(text, expected, value):
    arith = registry.get("arith")
    tree = arith.parse(text)
    assert shape(tree) == expected
    assert arith.label_subtrees(tree, "exact")[-1] == str(value)
    assert arith.label_subtrees(tree, "mod10")[-1] == str(value % 10)


def test_listops_written_form():
    tree = registry.get("listops").parse("[MAX 2 9 [MIN 4 7 ] 0 ]")
    assert shape(tree) == ("max", D(2), D(9), ("min", D(4), D(7)), D(0))
    assert registry.get("listops").label_subtrees(tree, "value")[-1] == "9"


def test_listops_binarised_form_is_the_written_tree():
    listops = registry.get("listops")
    binarised = listops.parse("( ( ( ( ( [SM 6 ) 5 ) 9 ) 0 ) ] )")
    written = listops.parse("[SM 6 5 9 0 ]")
    assert shape(binarised) == shape(written) == ("sm", D(6), D(5), D(9), D(0))
    nested = listops.parse("( ( ( [MAX 2 ) 9 ) ( ( ( [MIN 4 ) 7 ) ] ) ) 0 ) ] )")
    assert shape(nested) == shape(listops.parse("[MAX 2 9 [MIN 4 7 ] 0 ]"))


@pytest.mark.parametrize("op", ["MAX", "MIN", "MED", "SM"])
def test_listops_every_operator_and_unbounded_arity(op):
    digits = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    text = f"[{op} " + " ".join(map(str, digits)) + " ]"
    tree = registry.get("listops").parse(text)
    assert kind(tree) == op.lower() and len(children(tree)) == len(digits)
    assert registry.get("listops").label_subtrees(tree, "value")[-1] == str(naive.listops_text_value(text))


def test_listops_multi_digit_is_an_error_not_two_arguments():
    with pytest.raises(ParseError) as info:
        registry.get("listops").parse("[MAX 12 3 ]")
    err = info.value
    assert (err.line, err.column) == (1, 6)
    assert_caret_under(err, "[MAX 12 3 ]", "1")


def assert_caret_under(err: ParseError, text: str, char: str):
    """The context shows the offending line with a caret under the bad character."""
    snippet, caret = err.context.split("\n")
    assert caret.strip() == "^"
    col = caret.index("^")
    assert snippet[col] == char, (snippet, caret)
    source_line = text.splitlines()[err.line - 1]
    assert source_line[err.column - 1] == char
    assert snippet.strip() in source_line


@pytest.mark.parametrize(
    "text,line,column,char,expects",
    [
        ("3 $ 4", 1, 3, "$", ["'+'", "'*'"]),
        ("1 +\n2 ) 3", 2, 3, ")", ["'+'", "end of input"]),
        ("(1 + 2", None, None, None, ["')'"]),
        ("3 + * 4", 1, 5, "*", ["a number", "'('", "'-'"]),
        ("1+" * 50 + "$", 1, 101, "$", ["a number"]),
        ("2 3", 1, 3, "3", ["'+'"]),
    ],
)
def test_parse_error_position_context_and_expected(text, line, column, char, expects):
    with pytest.raises(ParseError) as info:
        parse("arith", text, domain="arith")
    err = info.value
    assert isinstance(err, HybridTRMError)
    assert err.domain == "arith"
    for token in expects:
        assert token in err.expected, err.expected
    message = str(err)
    assert f"line {err.line}, column {err.column}" in message
    assert err.context in message
    if char is None:  # unexpected end of input: the caret sits just past the last character
        assert err.found == "end of input"
        lines = text.splitlines()
        assert (err.line, err.column) == (len(lines), len(lines[-1]) + 1)
        snippet, caret = err.context.split("\n")
        assert caret.index("^") == len(snippet)
    else:
        assert (err.line, err.column) == (line, column)
        assert_caret_under(err, text, char)
        assert char in err.found


def test_parse_error_at_end_of_text():
    with pytest.raises(ParseError) as info:
        registry.get("listops").parse("[MAX 1 2")
    err = info.value
    assert (err.line, err.column) == (1, 9)
    assert "']'" in err.expected and err.found == "end of input"


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_input_is_a_clear_error(text):
    with pytest.raises(HybridTRMError, match="empty input"):
        registry.get("arith").parse(text)


def test_unknown_grammar_is_an_error():
    with pytest.raises(HybridTRMError, match="no built-in grammar"):
        parse("no-such-grammar", "1")
    with pytest.raises(HybridTRMError, match="not found"):
        parse("/no/such/file.lark", "1")


def test_postorder_is_children_first_left_to_right():
    tree = registry.get("arith").parse("(1 - 2) * -3")
    got = [kind(n) + (f":{n}" if isinstance(n, lark.Token) else "") for n in postorder(tree)]
    assert got == ["NUMBER:1", "NUMBER:2", "sub", "NUMBER:3", "neg", "mul"]


def benchmark_lines(n):
    path = ROOT / "datasets" / "listops" / "test_d20s.tsv"
    return path.read_text(encoding="utf-8").splitlines()[:n]


def test_listops_benchmark_file_parses_and_labels_agree():
    listops = registry.get("listops")
    lines = benchmark_lines(200)
    assert len(lines) == 200
    for line in lines:
        label, text = line.split("\t", 1)
        tree = listops.parse(text)
        assert listops.label_subtrees(tree, "value")[-1] == label, text
        assert naive.listops_text_value(text) == int(label), text
        verdict = listops.verify(text, label, "value")
        assert verdict.correct is True and verdict.expected == label


def test_shipped_benchmark_loader_matches_file():
    from hybrid_trm import benchmarks

    domain, task, examples = benchmarks.load("listops")
    assert (domain, task) == ("listops", "value")
    assert len(examples) == 10_000
    first = benchmark_lines(3)
    assert [(e.answer, e.input) for e in examples[:3]] == [tuple(l.split("\t", 1)) for l in first]
    with pytest.raises(HybridTRMError, match="unknown benchmark"):
        benchmarks.load("nope")


# The parser cache (grammar.cached_parser): a parser read back from its JSON is the
# one built from the grammar's text, and a cache that cannot be used is no error.

CACHE_SAMPLES = 40


@pytest.mark.parametrize("name", ["arith", "listops", "logic", "programs", "english"])
def test_a_cached_parser_is_the_built_one(name, tmp_path, monkeypatch):
    from hybrid_trm import grammar

    monkeypatch.setenv(grammar.CACHE_VARIABLE, str(tmp_path))
    text = (ROOT / "grammars" / f"{name}.lark").read_text(encoding="utf-8")
    built = grammar.cached_parser(text)  # built, and written
    assert list((tmp_path / "grammars").glob("*.json")), "no cache file written"
    read = grammar.cached_parser(text)
    assert read.source_path == "<deserialized>"  # from the file, not built again
    domain = registry.get(name)
    texts = [domain.example(5, i, domain.difficulty(), None).input for i in range(CACHE_SAMPLES)]
    texts += [t[: len(t) // 2] for t in texts[:10]] + [t + " ]" for t in texts[:10]]  # errors too
    for t in texts:
        outcomes = []
        for parser in (built, read):
            try:
                outcomes.append(grammar.parse_with(parser, t, name))
            except ParseError as err:
                outcomes.append(str(err))
        assert outcomes[0] == outcomes[1], t
        assert (fast_parser(read) is None) == (fast_parser(built) is None)


def test_a_broken_or_absent_cache_is_rebuilt_or_skipped(tmp_path, monkeypatch):
    from hybrid_trm import grammar

    text = (ROOT / "grammars" / "listops.lark").read_text(encoding="utf-8")
    monkeypatch.setenv(grammar.CACHE_VARIABLE, str(tmp_path))
    grammar.cached_parser(text)
    (cached,) = (tmp_path / "grammars").glob("*.json")
    cached.write_text('{"data": {"trunc')  # a partly written file
    assert grammar.cached_parser(text).source_path != "<deserialized>"  # built again ...
    assert grammar.cached_parser(text).source_path == "<deserialized>"  # ... and written whole
    monkeypatch.setenv(grammar.CACHE_VARIABLE, "")  # no cache at all
    assert grammar.cached_parser(text).source_path != "<deserialized>"
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(grammar.CACHE_VARIABLE, str(tmp_path / "file"))  # a folder that cannot be made
    assert grammar.parse_with(grammar.cached_parser(text), "[MAX 1 2 ]", "listops").data == "max"


def test_the_fast_path_reads_runs_of_ignored_characters_as_lark_does():
    """One match reads a token with the spaces (and ListOps' parentheses) before it:
    the same trees and token positions as Lark's, trailing ones included, and a
    character no terminal matches after a long run is refused at once, not after
    a search back through the run (quadratic, or worse with `\\s+` repeated)."""
    import time

    from hybrid_trm.grammar import load_grammar

    def tokens(node):
        return [(t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos)
                for t in (node.scan_values(lambda v: isinstance(v, lark.Token)) if isinstance(node, lark.Tree) else [node])]

    for grammar, text in [
        ("listops", "( ( [MAX 2 ) 9 ) ]  \n"), ("listops", "  \t[min ( 4 ) 7 ]"), ("listops", "7 ( ) "),
        ("arith", " 12 - -7\n - (40 + 13)\n\n"), ("logic", "forall x.\n  P(x) -> exists y. P(y)  "),
    ]:
        parser = load_grammar(grammar)
        fast, theirs = fast_parser(parser).parse(text), parser.parse(text)
        assert fast is not None and fast == theirs and tokens(fast) == tokens(theirs), text
    parser = load_grammar("listops")
    for run in (" " * 200_000, "( " * 100_000, " \n" * 100_000):
        start = time.perf_counter()
        assert fast_parser(parser).parse("[MAX 1" + run + "@ ]") is None
        assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("name", ["arith", "listops", "logic", "programs"])
def test_the_fast_path_without_runs_reads_as_lark_does(name, monkeypatch):
    """Before Python 3.11 (no atomic groups) the scan matches one terminal at a time,
    ignored ones included: the same trees as Lark's all the same."""
    from hybrid_trm import fast_lalr, grammar

    parser = grammar.load_grammar(name)
    monkeypatch.setattr(fast_lalr, "_skipping_scanner", lambda scanner, ignore: scanner._mres[0])
    plain = fast_lalr.FastLALR(parser)
    domain = registry.get(name)
    for i in range(30):
        text = domain.example(9, i, domain.difficulty(), None).input
        for t in (text, text + "  \n", text[: len(text) // 2] + " @"):
            try:
                theirs = parser.parse(t)
            except lark.exceptions.UnexpectedInput:
                theirs = None
            assert plain.parse(t) == theirs, t  # None (Lark's parse raises its error) where Lark refuses it
