"""Arithmetic by hand, every digit fact a question: how the executor
(execute.py) computes a value with a model.

A value is written in decimal digits, its sign apart, and an operation runs as
by hand, column by column, from the units:
- a sum asks `((7 + 8) + 1)`: two digits and the carry;
- a difference asks `(((3 + 10) - 8) - 1)`: a digit lent ten, less the other
  digit and the borrow;
- a product asks `(7 * 8)` for each digit of one factor times each of the
  other, and adds the units and the tens of those products, and then the
  partial products, as a sum does;
- a quotient and remainder are long division: for each digit brought down, the
  largest multiple of the divisor that fits is found by trial (a product of the
  divisor and one digit, then a difference that borrows or not), searched by
  halving the digits 0-9;
- a comparison is the difference of its sides' magnitudes: whether it borrowed
  and whether it is zero (with the signs);
- `and`, `or` and `not` ask `(1 and 0)`, `(0 or 1)`, `(not 1)` of the operands'
  truth (zero or not).

The model's answer to a column is read as two decimal digits: the column's digit
and its carry (a difference: whether it borrowed, the tens digit 0). What stays
the run's own is a machine's bookkeeping: which column comes next, the signs,
whether a value is zero, how the search of a quotient digit goes on. Every
question lies in a finite set (`facts`: 510 of them) whatever the values, so
a model right on every one of them runs every program exactly, however long
it is and however wide its values.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

from .closed import literal
from .run import Stop


class Fact:
    """What the arithmetic yields to have one digit fact answered: its text (an
    expression of the programs grammar); the walk waits for the answer, an int."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _sum_fact(a: int, b: int, carry: int) -> str:
    return f"(({a} + {b}) + {literal(carry)})"


def _difference_fact(a: int, b: int, borrow: int) -> str:
    return f"((({a} + 10) - {b}) - {borrow})"


def _product_fact(a: int, b: int) -> str:
    return f"({a} * {b})"


@lru_cache(maxsize=1)
def families() -> tuple[tuple[str, ...], ...]:
    """Every question the arithmetic asks of a model that answers them right (a
    wrong answer may lead it to ask others: a carry of 12), by kind: sums,
    differences, products, connectives."""
    digits = range(10)
    return (
        tuple(_sum_fact(a, b, c) for a, b, c in itertools.product(digits, digits, (0, 1))),
        tuple(_difference_fact(a, b, c) for a, b, c in itertools.product(digits, digits, (0, 1))),
        tuple(_product_fact(a, b) for a, b in itertools.product(digits, digits)),
        (*(f"({a} {k} {b})" for k in ("and", "or") for a, b in itertools.product((0, 1), (0, 1))), "(not 0)", "(not 1)"),
    )


@lru_cache(maxsize=1)
def facts() -> tuple[str, ...]:
    """The 510 facts of every kind (families)."""
    return tuple(fact for family in families() for fact in family)


@lru_cache(maxsize=1)
def _family_of() -> dict[str, tuple[str, ...]]:
    return {fact: family for family in families() for fact in family}


def family(fact: str) -> tuple[str, ...]:
    """The facts of the same kind as `fact` (none where it is no fact of the
    arithmetic's: a model's wrong carry)."""
    return _family_of().get(fact, ())


def digits(value: int) -> list[int]:
    """A value's magnitude in decimal digits, the units first."""
    return [int(c) for c in reversed(str(abs(value)))]


def number(column_digits: list[int], negative: bool = False) -> int:
    """The value written by these digits (the units first) and sign."""
    magnitude = sum(d * 10**i for i, d in enumerate(column_digits))
    return -magnitude if negative else magnitude


def _trimmed(column_digits: list[int]) -> list[int]:
    """Without zeros above the highest other digit (0 keeps one)."""
    end = len(column_digits)
    while end > 1 and column_digits[end - 1] == 0:
        end -= 1
    return column_digits[:end]


def _column(x: list[int], i: int) -> int:
    return x[i] if i < len(x) else 0


def add(x: list[int], y: list[int]):
    """x + y, column by column."""
    out, carry = [], 0
    for i in range(max(len(x), len(y))):
        carry, digit = divmod((yield Fact(_sum_fact(_column(x, i), _column(y, i), carry))), 10)
        out.append(digit)
    return out + [carry] if carry else out


def subtract(x: list[int], y: list[int]):
    """(x - y, whether it borrowed past the top column: x < y); where it borrowed,
    the digits are those of 10^n + x - y."""
    out, borrow = [], 0
    for i in range(max(len(x), len(y))):
        tens, digit = divmod((yield Fact(_difference_fact(_column(x, i), _column(y, i), borrow))), 10)
        out.append(digit)
        borrow = 0 if tens else 1
    return out, bool(borrow)


def times_digit(x: list[int], d: int):
    """x * d for one digit d: each digit's product, its units digits and its tens
    digits (one column up) added as a sum."""
    units, tens = [], [0]
    for a in x:
        ten, unit = divmod((yield Fact(_product_fact(a, d))), 10)
        units.append(unit)
        tens.append(ten)
    return _trimmed((yield add(units, tens)))


def multiply(x: list[int], y: list[int]):
    """x * y: the partial products of x by each digit of y, shifted, added up."""
    total = [0]
    for shift, d in enumerate(y):
        part = yield times_digit(x, d)
        total = yield add(total, [0] * shift + part)
    return _trimmed(total)


def divide(x: list[int], y: list[int]):
    """(x // y, x % y) for y not zero, by long division."""
    quotient, rest = [], [0]
    multiples: dict[int, list[int]] = {}  # k -> y * k, as first needed
    for a in reversed(x):
        rest = _trimmed([a] + rest)  # the next digit brought down
        low, high, left = 0, 9, rest  # the digit is the largest k with y * k <= rest
        while low < high:
            k = (low + high + 1) // 2
            if k not in multiples:
                multiples[k] = yield times_digit(y, k)
            difference, borrowed = yield subtract(rest, multiples[k])
            if borrowed:
                high = k - 1
            else:
                low, left = k, difference
        quotient.append(low)
        rest = _trimmed(left)
    return _trimmed(quotient[::-1]), rest


def _signed_sum(a: int, b: int):
    """a + b: a sum of magnitudes where the signs agree, else a difference."""
    if (a < 0) == (b < 0):
        return number((yield add(digits(a), digits(b))), a < 0)
    difference, borrowed = yield subtract(digits(a), digits(b))
    if borrowed:  # |a| < |b|: the sign is b's
        difference, _ = yield subtract(digits(b), digits(a))
        return number(difference, b < 0)
    return number(difference, a < 0)


def _floor_division(a: int, b: int, why: str):
    """(a // b, a % b) as the language has them (Python's: the quotient rounded
    down, the remainder of b's sign)."""
    if not any(digits(b)):
        raise Stop("error", why)
    quotient, rest = yield divide(digits(a), digits(b))
    below_zero = (a < 0) != (b < 0)
    if below_zero and any(rest):  # rounded down, not toward zero
        quotient = yield add(quotient, [1])
        rest, _ = yield subtract(digits(b), rest)
    return number(quotient, below_zero), number(rest, b < 0)


def _compared(a: int, b: int):
    """The sign of a - b (-1, 0 or 1): from the signs where they differ, else from
    one difference of the magnitudes: whether it borrowed, and whether it is zero."""
    if (a < 0) != (b < 0):
        return -1 if a < 0 else 1
    difference, borrowed = yield subtract(digits(a), digits(b))
    if not any(difference):
        return 0
    return -1 if borrowed != (a < 0) else 1


_COMPARED = {
    "lt": lambda d: d < 0, "le": lambda d: d <= 0, "gt": lambda d: d > 0, "ge": lambda d: d >= 0,
    "eq": lambda d: d == 0, "ne": lambda d: d != 0,
}


def operate(k: str, a: int, b: int | None):
    """The value of operator `k` (a node kind of the grammar) on a and b (None: a
    unary operator, or the side `and` / `or` skips), every digit fact asked."""
    if k == "neg":
        return -a
    if k == "not":
        return (yield Fact(f"(not {int(bool(a))})"))
    if k in ("and", "or"):
        return (yield Fact(f"({int(bool(a))} {k} {int(bool(b))})"))
    if k in ("add", "sub"):
        return (yield _signed_sum(a, b if k == "add" else -b))
    if k == "mul":
        return number((yield multiply(digits(a), digits(b))), (a < 0) != (b < 0))
    if k in ("div", "mod"):
        why = "division by zero" if k == "div" else "% by zero"
        quotient, remainder = yield _floor_division(a, b, why)
        return quotient if k == "div" else remainder
    return int(_COMPARED[k]((yield _compared(a, b))))
