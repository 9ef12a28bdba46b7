"""The programs verifier on hand-written programs: every answer below was worked
out by hand (the counts in the comments), not by running the verifier."""

from __future__ import annotations

import time

import pytest
from lark import Token, Tree

from hybrid_trm import budget
from hybrid_trm.errors import BudgetExceeded, HybridTRMError, VerifierTimeout
from hybrid_trm.grammar import parse
from hybrid_trm.verifiers.programs import expected


def answer(text: str, task: str) -> str:
    return expected(parse("programs", text), task, 10.0)[0]


def evidence(text: str, task: str) -> str:
    return expected(parse("programs", text), task, 10.0)[1]


DOC_EXAMPLE = """def fact(n) { if (n <= 1) { return 1; } return n * fact(n - 1); }
x = 0; i = 0;
while (i < 5) { x = x + i; i = i + 1; }
for j in range(0, 3) { if (j == 1) { continue; } x = x + j; }
return x + fact(3);     # 10 + 2 + 6 = 18
"""


def test_the_docs_example():
    # top: 2 assigns, while + 5 trips x 2, for + (2 + 2 + 2), return = 21;
    # fact(3), fact(2), fact(1): an if and a return each = 6
    assert answer(DOC_EXAMPLE, "output") == "18"
    assert answer(DOC_EXAMPLE, "trips") == "27"
    assert evidence(DOC_EXAMPLE, "trips").startswith("ran 27 statements; returned 18")
    assert answer(DOC_EXAMPLE, "dead") == "0"
    assert answer(DOC_EXAMPLE, "unset") == "none"
    assert answer(DOC_EXAMPLE, "recursive") == "fact"


@pytest.mark.parametrize("text, value", [
    ("return -7 / 2;", "-4"), ("return -7 % 2;", "1"), ("return 7 / -2;", "-4"), ("return 7 % -2;", "-1"),
    ("return 2 + 3 * 4 - -2;", "16"), ("return (2 + 3) * 4;", "20"), ("return 10 - 4 - 3;", "3"),
    ("return 1 + 2 < 4 and not 0;", "1"), ("return not 1 == 2;", "1"), ("return 1 or 0 and 0;", "1"),
    ("return 3 and 5;", "1"), ("return 0 or 0;", "0"), ("return 2 != 2;", "0"), ("return --5;", "5"),
    ("return 999999999999;", "999999999999"), ("return -999999999999;", "-999999999999"),
])
def test_expressions(text, value):
    assert answer(text, "output") == value


def test_short_circuit_skips_a_division_by_zero():
    text = "x = 0; if (x != 0 and 10 / x > 1) { return 1; } if (x == 0 or 10 / x) { return 3; } return 2;"
    assert answer(text, "output") == "3"
    assert answer(text, "trips") == "4"  # assign, if, if, return


@pytest.mark.parametrize("text, where", [
    ("x = 1;\ny = 0;\nz = x / y;\nreturn z;", "division by zero at line 3"),
    ("x = 1;\nreturn 7 % (x - 1);", "% by zero at line 2"),
    ("if (0) { x = 1; }\nreturn x;", "x read at line 2 before it is set"),
    ("return 1000000000000;", "reaches 10^12"),
    ("x = 1000000 * 1000000;\nreturn 0;", "reaches 10^12"),
    ("return 999999999999 + 1 - 1;", "reaches 10^12"),  # the intermediate value counts
    ("x = 1;", "the program ended without `return`"),
    ("def f() { x = 1; }\nreturn f();", "function f (called at line 2) ended without `return`"),
    ("x = 5;\ndef f() { return x; }\nreturn f();", "x read at line 2"),  # a function does not see the top level
])
def test_errors(text, where):
    assert answer(text, "output") == "error"
    assert where in evidence(text, "output")


def test_an_error_statement_counts():
    assert answer("x = 1;\ny = 0;\nz = x / y;\nreturn z;", "trips") == "3"


RECURSE = "def f(n) { if (n == 0) { return 0; } return 1 + f(n - 1); }\n"


def test_call_depth():
    assert answer(RECURSE + "return f(99);", "output") == "99"  # f(0) is the 100th call deep
    assert answer(RECURSE + "return f(100);", "output") == "error"
    assert "nested more than 100 deep" in evidence(RECURSE + "return f(100);", "output")


def test_timeout():
    assert answer("while (1) { }", "output") == "timeout"
    assert answer("while (1) { }", "trips") == "10000"
    # 2 assigns + while + 4998 trips x 2 + return = 10,000 statements: it ends
    ends = "x = 0; y = 0; while (x < {n}) {{ x = x + 1; y = y + 2; }} return y;"
    assert answer(ends.format(n=4998), "output") == "9996"
    assert answer(ends.format(n=4998), "trips") == "10000"
    # one trip more: the 10,001st statement is the last trip's `y = y + 2`
    assert answer(ends.format(n=4999), "output") == "timeout"
    assert answer(ends.format(n=4999), "trips") == "10000"


def test_loops_that_run_no_statement():
    # reading: `while (1) { }` never executes a 10,001st statement, yet never ends: a timeout
    assert "loops forever" in evidence("x = 1;\nwhile (x < 2) { }\nreturn x;", "output")
    assert answer("def f() { return 1; } while (1 or f()) { } return 0;", "output") == "timeout"
    # a condition whose call runs statements counts them: each test runs f's if and return
    calls = "def f(n) { if (n > 3) { return 1; } return 0; } i = 5; while (f(i)) { } return 0;"
    assert answer(calls, "output") == "timeout"
    assert answer("while (0) { } return 4;", "output") == "4"
    # an empty for runs all its trips at once: i ends at b - 1
    assert answer("for i in range(0, 999999999999) { } return i;", "output") == "999999999998"
    assert answer("for i in range(0, 999999999999) { } return i;", "trips") == "2"


def test_nested_loops_trips():
    fors = "t = 0; for i in range(0, 3) { for j in range(0, i) { t = t + 1; } } return t;"
    assert answer(fors, "output") == "3"  # 0 + 1 + 2
    assert answer(fors, "trips") == "9"  # t=0, for, 3 inner fors, 3 assigns, return
    whiles = "i = 0; s = 0; while (i < 3) { j = 0; while (j < 2) { s = s + 1; j = j + 1; } i = i + 1; } return s;"
    assert answer(whiles, "output") == "6"
    assert answer(whiles, "trips") == "25"  # 2 + while + 3 x (j=0, while, 2 x 2, i=i+1) + return


def test_break_and_continue():
    in_for = "s = 0; for i in range(0, 10) { if (i == 5) { break; } if (i % 2 == 1) { continue; } s = s + i; } return s * 100 + i;"
    assert answer(in_for, "output") == "605"  # s = 0 + 2 + 4; i stays 5 after the break
    assert answer(in_for, "trips") == "20"  # s=0, for, 5 trips x 3, if + break, return
    in_while = "i = 0; s = 0; while (1) { i = i + 1; if (i > 4) { break; } if (i == 2) { continue; } s = s + i; } return s;"
    assert answer(in_while, "output") == "8"  # 1 + 3 + 4
    assert answer(in_while, "trips") == "23"  # 2, while, 4 trips x 4, i=5: 3, return


def test_else_if_chain():
    text = ("def sign(x) { if (x < 0) { return -1; } else if (x == 0) { return 0; } else { return 1; } }\n"
            "return sign(-5) * 100 + sign(0) * 10 + sign(7);")
    assert answer(text, "output") == "-99"
    # sign(-5): if_else, return; sign(0) and sign(7): if_else, the inner if_else, return; the top return
    assert answer(text, "trips") == "9"
    assert answer(text, "dead") == "0"


def test_for_variable():
    assert answer("x = 0; for j in range(0, 3) { j = j + 10; x = x + j; } return x * 100 + j;", "output") == "3312"
    assert answer("x = 0; for j in range(5, 2) { x = 1; } return j;", "output") == "error"
    assert answer("for j in range(0, 3) { } return j;", "output") == "2"
    # the bounds are evaluated once
    assert answer("n = 3; s = 0; for j in range(0, n) { n = n + 1; s = s + 1; } return s;", "output") == "3"


def test_function_scopes():
    assert answer("def f(x) { x = x + 1; return x; } x = 1; y = f(10); return x * 100 + y;", "output") == "111"
    assert answer("y = g(1); def g(a) { b = a * 2; return b; } return y;", "output") == "2"  # called before its def


MUTUAL = """def even(n) { if (n == 0) { return 1; } return odd(n - 1); }
def odd(n) { if (n == 0) { return 0; } return even(n - 1); }
return even(10) * 10 + odd(7);"""


def test_mutual_recursion():
    assert answer(MUTUAL, "output") == "11"
    assert answer(MUTUAL, "recursive") == "even,odd"
    assert evidence(MUTUAL, "recursive") in ("even -> odd -> even", "odd -> even -> odd")


def test_recursive_sets():
    text = """def a() { return b(); }
def b() { return 1; }
def c() { return c(); }
def d() { return e(); }
def e() { return d() + a(); }
def p() { return 1; return p(); }
return a();"""
    assert answer(text, "recursive") == "c,d,e,p"  # p calls itself in dead code: it counts
    assert "c -> c" in evidence(text, "recursive")
    assert answer("def f() { return 1; } return f();", "recursive") == "none"
    assert answer("return 1;", "recursive") == "none"


@pytest.mark.parametrize("text, dead", [
    ("x = 1; return x; x = 2; y = 3;", 2),
    ("for i in range(0, 3) { break; x = 1; } while (i) { continue; y = 1; z = 2; } return 0;", 3),
    ("while (0) { x = 1; y = 2; } return 0;", 2),
    ("if (1 > 2) { x = 1; } else { y = 2; } return 0;", 1),
    ("if (2 > 1) { x = 1; } else { y = 2; if (y) { z = 1; } } return 0;", 3),
    ("while (1) { x = 1; } return 0;", 1),
    ("x = 1; while (1) { if (x) { break; } } return 0;", 0),
    ("x = 1; if (x) { return 1; } else { return 2; } y = 1; return y;", 2),
    ("if (1 / 0) { x = 1; } return 0;", 0),  # a constant division by zero is not constant
    ("def f() { return 1; } return 0;", 0),  # an uncalled function's body is reachable from its entry
    ("def f() { return 1; x = 2; } return 0;", 1),
    ("x = 1; if (0) { if (x) { y = 1; } else { z = 2; } w = 3; } return 0;", 4),
    ("for i in range(0, 0) { x = 1; } return 0;", 0),  # for is not folded
    ("x = 1; while (x) { if (x) { continue; } else { break; } x = 2; } return 0;", 1),
    ("if (0 and 1 / 0) { x = 1; } return 0;", 1),  # reading: `and` short-circuits when folding too
    ("if (1000000 * 1000000) { x = 1; } return 0;", 0),  # reading: a run would stop there: not constant
])
def test_dead(text, dead):
    assert answer(text, "dead") == str(dead)


def test_dead_evidence():
    text = "x = 1;\nreturn x;\nx = 2;\nwhile (1) { }\ny = 3;"
    got = evidence(text, "dead")
    assert got.startswith("3 dead")
    assert got == "3 dead: in the top level, cut off by the return at line 2: assign at line 3, while at line 4, assign at line 5"
    loop = evidence("while (1) {\n  x = 1;\n  continue;\n  break;\n}\nreturn 0;", "dead")
    assert "cut off by the continue between lines 2 and 6: break between lines 2 and 6" in loop
    assert "cut off by the while at line 1 (its condition is always 1): return at line 6" in loop
    both = evidence("x = 1;\nif (x) { return 1; }\nelse { return 2; }\ny = 1;", "dead")
    assert both == "1 dead: in the top level, cut off by the return at line 2 and the return at line 3: assign at line 4"


@pytest.mark.parametrize("text, names", [
    ("if (y) { x = 1; } return x;", "x,y"),
    ("x = 1; if (x) { y = 1; } else { y = 2; } return y;", "none"),
    ("return 0; return z;", "none"),  # a read in dead code is ok
    ("while (0) { return q; } return 0;", "none"),
    ("if (1) { x = 1; } return x;", "none"),  # the constant condition has no false edge
    ("x = x + 1; return x;", "x"),  # the right-hand side is read before the target is set
    ("for i in range(0, 3) { s = i; } return s + i;", "i,s"),  # the loop may run no time
    ("i = 9; for i in range(0, n) { } return i;", "n"),
    ("def f(a) { return a + b; } return f(1);", "b"),  # parameters are set
    ("x = 1; def f() { return x; } return f();", "x"),  # the top level's x is not f's
    ("i = 0; while (i < 3) { if (i > 0) { return t; } t = i; i = i + 1; } return 0;", "t"),
    ("while (1) { x = 1; break; } return x;", "none"),
    ("Z = 1; if (Z) { a = 1; } return a + B;", "B,a"),
])
def test_unset(text, names):
    assert answer(text, "unset") == names


def test_unset_evidence_names_the_path():
    got = evidence("x = 1;\nif (x > 0) {\n  y = 1;\n}\nreturn y;", "unset")
    assert got == "y read at line 5 before any assignment on the path: entry -> line 2 (if, false branch) -> line 5"


def test_deep_nesting_never_recurses():
    depth = 10_000
    ifs = "x = 1;\n" + "if (x) {\n" * depth + "return x;\n" + "}\n" * depth
    tree = parse("programs", ifs)
    assert expected(tree, "output", 30.0)[0] == "timeout"  # x = 1 and 10,000 ifs: the return is the 10,002nd
    assert expected(tree, "trips", 30.0)[0] == "10000"
    assert expected(tree, "dead", 30.0)[0] == "0"
    assert expected(tree, "unset", 30.0)[0] == "none"
    fits = "x = 1;\n" + "if (x) {\n" * 9998 + "return x;\n" + "}\n" * 9998  # 10,000 statements
    assert answer(fits, "output") == "1"
    assert answer("return " + "(" * depth + "7" + ")" * depth + ";", "output") == "7"
    assert answer("return " + "-" * depth + "7;", "output") == "7"
    assert answer("return " + "not " * (depth - 1) + "0;", "output") == "1"
    assert answer("if (" + "-" * depth + "0) { x = 1; } return 0;", "dead") == "1"


def test_the_budget():
    slow = "x = 0; for i in range(0, 4000) { x = " + " + ".join(["1"] * 500) + "; } return x;"
    tree = parse("programs", slow)
    start = time.monotonic()
    with pytest.raises(VerifierTimeout, match="programs/output: ran past its 0.05 s budget while running the program"):
        expected(tree, "output", 0.05)
    assert time.monotonic() - start < 1.0
    with budget.limit(0.05, "eval"), pytest.raises(BudgetExceeded):
        expected(tree, "trips", 60.0)  # the caller's budget ends first


@pytest.mark.parametrize("text, problem", [
    ("return g(1);", "call to undefined function g at line 1"),
    ("def f(a) { return a; } return f(1, 2);", "f takes 1 argument(s), called with 2"),
    ("def f() { return 1; }\ndef f() { return 2; } return f();", "function f is defined twice (lines 1 and 2)"),
    ("def f(a, a) { return a; } return f(1, 2);", "names parameter a twice"),
    ("x = 1;\nbreak;\nreturn x;", "`break` outside a loop (near line 1)"),
    ("def f() { continue; } while (1) { x = f(); }", "`continue` outside a loop"),
])
def test_malformed_programs(text, problem):
    for task in ("output", "dead", "recursive"):
        with pytest.raises(HybridTRMError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            answer(text, task)


def _token(kind: str, text: str) -> Token:
    return Token(kind, text, line=1, column=1)


@pytest.mark.parametrize("tree, problem", [
    (Tree("program", [_token("INT", "1")]), "a malformed program node"),
    (Tree("program", [Tree("assign", [_token("NAME", "x")])]), "a malformed assign node"),
    (Tree("program", [Tree("return", [Tree("block", [])])]), "a malformed return node"),
    (Tree("program", [Tree("frob", [])]), r"a malformed program node \(children: frob\)"),
    (Tree("program", [Tree("if", [_token("INT", "1"), Tree("block", [
        Tree("funcdef", [_token("NAME", "f"), Tree("block", [Tree("return", [_token("INT", "1")])])])])])]),
     "functions are defined at the top level only"),
])
def test_malformed_trees(tree, problem):
    for task in ("output", "unset", "recursive"):
        with pytest.raises(HybridTRMError, match=problem):
            expected(tree, task, 1.0)


def test_bad_calls():
    with pytest.raises(HybridTRMError, match="no task 'speed'"):
        answer("return 1;", "speed")
    with pytest.raises(HybridTRMError, match="takes a `program` tree"):
        expected(parse("arith", "1+2"), "output", 1.0)
