"""Independent reference semantics for the built-in domains, written for the tests
without reading the library's labellers: a recursive-descent evaluator over the
raw text, and a recursive evaluator over the lark tree that returns every
subtree's value in postorder."""

from __future__ import annotations

import re

import lark

# --- arithmetic, straight from the text -------------------------------------------------


def arith_text_value(text: str) -> int:
    tokens = re.findall(r"\d+|[-+*()]", text)
    assert "".join(tokens) == re.sub(r"\s+", "", text), f"unexpected characters in {text!r}"
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take(expected=None):
        nonlocal pos
        tok = tokens[pos]
        if expected is not None:
            assert tok == expected, (tok, expected, text)
        pos += 1
        return tok

    def sum_():
        value = product()
        while peek() in ("+", "-"):
            op = take()
            right = product()
            value = value + right if op == "+" else value - right
        return value

    def product():
        value = unary()
        while peek() == "*":
            take()
            value *= unary()
        return value

    def unary():
        if peek() == "-":
            take()
            return -unary()
        if peek() == "(":
            take("(")
            value = sum_()
            take(")")
            return value
        return int(take())

    value = sum_()
    assert pos == len(tokens), f"trailing tokens in {text!r}"
    return value


# --- ListOps, straight from the text ----------------------------------------------------


def floored_median(values: list[int]) -> int:
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) // 2


LISTOPS = {
    "MAX": max,
    "MIN": min,
    "MED": floored_median,
    "SM": lambda args: sum(args) % 10,
}


def listops_text_value(text: str) -> int:
    """Evaluate with a stack; round parentheses (the binarised form) carry no meaning."""
    stack: list[tuple[str, list[int]]] = [("TOP", [])]
    for tok in text.replace("(", " ").replace(")", " ").split():
        if tok.startswith("["):
            stack.append((tok[1:], []))
        elif tok == "]":
            op, args = stack.pop()
            stack[-1][1].append(LISTOPS[op](args))
        else:
            assert len(tok) == 1 and tok.isdigit(), tok
            stack[-1][1].append(int(tok))
    assert len(stack) == 1 and len(stack[0][1]) == 1
    return stack[0][1][0]


# --- recursive over the lark tree: every subtree, in postorder ------------------------------


def _kind(node):
    return node.data if isinstance(node, lark.Tree) else node.type


def subtree_values(node, leaf, combine) -> list[int]:
    """Values of all subtrees, children first, left to right (recursive on purpose)."""
    out: list[int] = []

    def visit(n):
        if isinstance(n, lark.Token):
            value = leaf(n)
        else:
            value = combine(_kind(n), [visit(c) for c in n.children])
        out.append(value)
        return value

    visit(node)
    return out


def arith_combine(kind: str, args: list[int]) -> int:
    if kind == "add":
        return args[0] + args[1]
    if kind == "sub":
        return args[0] - args[1]
    if kind == "mul":
        return args[0] * args[1]
    if kind == "neg":
        assert len(args) == 1
        return -args[0]
    raise AssertionError(kind)


def listops_combine(kind: str, args: list[int]) -> int:
    return LISTOPS[kind.upper()](args)


def expected_labels(domain: str, task: str, tree) -> list[str | None]:
    """What every subtree's label should be, by the reference semantics."""
    if domain == "arith":
        values = subtree_values(tree, lambda t: int(str(t)), arith_combine)
        if task == "mod10":
            return [str(v % 10) for v in values]
        return [str(v) if abs(v) < 10**12 else None for v in values]
    if domain == "listops":
        return [str(v) for v in subtree_values(tree, lambda t: int(str(t)), listops_combine)]
    raise KeyError(domain)


def text_value(domain: str, task: str, text: str) -> int:
    if domain == "arith":
        v = arith_text_value(text)
        return v % 10 if task == "mod10" else v
    if domain == "listops":
        return listops_text_value(text)
    raise KeyError(domain)


# --- the rounds' closed formulas (domains/rounds.py), as the logic model's verdicts --------


def round_verdicts(texts: list[str]) -> list[tuple[str, float]]:
    """Each formula `(..&..) | (..)` of true / false: `valid` where it holds, else
    `unsatisfiable`, at confidence 1 (the answers an exact logic model gives)."""
    out = []
    for text in texts:
        term = r"\((true|false)( & (true|false))*\)"
        assert re.fullmatch(rf"{term}( \| {term})*", text), text
        holds = any("false" not in conjunction for conjunction in text.split(" | "))
        out.append(("valid" if holds else "unsatisfiable", 1.0))
    return out
