"""ListOps' own fast path (domains/listops.py, _ListsPath): the tree Lark builds,
token positions included, on every text it reads; where it does not read a text
(an error, several lines), the LALR tables' fast path and Lark say what they said."""

from __future__ import annotations

import random

import lark
import pytest

from hybrid_trm import benchmarks, grammar
from hybrid_trm.domains import registry
from hybrid_trm.domains.listops import _ListsPath
from hybrid_trm.errors import HybridTRMError, ParseError
from hybrid_trm.fast_lalr import FastLALR

LISTOPS = registry.get("listops")


def _same(a, b) -> bool:
    """Equal trees, each token's type, text and positions too."""
    if type(a) is not type(b):
        return False
    if isinstance(a, lark.Token):
        return str(a) == str(b) and all(getattr(a, k) == getattr(b, k) for k in a.__slots__)
    return a.data == b.data and len(a.children) == len(b.children) and all(map(_same, a.children, b.children))


def _lark(text: str):
    """Lark's own tree (a lone digit out of `start`, as grammar.parse gives it), or None where it refuses the text."""
    try:
        tree = grammar.load_grammar("listops").parse(text)
    except lark.exceptions.UnexpectedInput:
        return None
    start = isinstance(tree, lark.Tree) and tree.data == "start" and len(tree.children) == 1
    return tree.children[0] if start else tree


def _texts() -> list[str]:
    rng = random.Random(0)
    lines = [e.input for e in benchmarks.load("listops")[2][:200]]  # the benchmark's binarised form
    for knobs in ({}, {"depth": 12, "arity": 9}, {"binarised": True}):
        lines += [LISTOPS.example(5, i, LISTOPS.difficulty(**knobs), "value").input for i in range(100)]
    lines += ["7", " 7 ", "(7)", "[MAX 1 ] ]", "[MAX ]", "[MAX 1", "12", "[max 1 2]", "[ MIN 1 ]", "[\tsm 1 ]", "7 7",
              "[MAX 1 ]x", "]", "[MED 5 ((( 6 ]", "[SM 9 ) ( ]", "[MAX 1\n2 ]", "[MAX 1 ]\n", "[MAX ١ ]", "[\u00a0MAX 1 ]"]
    mutated = []
    for text in lines[:300]:
        chars = list(text)
        i = rng.randrange(len(chars))
        mutated += ["".join(chars[:i] + chars[i + 1:]), "".join(chars[:i] + [rng.choice("[]() 19MAXsm\t")] + chars[i:])]
    return lines + mutated


def test_the_lists_path_builds_lark_s_tree_or_declines():
    tables = FastLALR(grammar.load_grammar("listops"))
    path = _ListsPath(tables)
    read = 0
    for text in _texts():
        theirs, ours = _lark(text), path._lists(text)
        if ours is not None:
            read += 1
            assert theirs is not None and _same(ours, theirs), text
        got = path.parse(text)  # declined: the tables' answer
        assert (got is None) == (theirs is None) and (got is None or _same(got, theirs)), text
    assert read > 500


def test_the_domain_parses_as_before_and_refuses_what_lark_refuses():
    for text in _texts():
        theirs = _lark(text)
        if theirs is None:
            with pytest.raises(HybridTRMError):  # ParseError, or an empty input's
                LISTOPS.parse(text)
        else:
            assert _same(LISTOPS.parse(text), theirs), text
    with pytest.raises(ParseError) as caught:
        LISTOPS.parse("[MAX 1 2 ] 3")
    assert caught.value.line == 1 and caught.value.column == 12
