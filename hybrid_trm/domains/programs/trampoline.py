"""Recursion without Python's stack: a walk written as generators that `yield`
the generator of a sub-walk and receive its result, driven by one loop.

The labeller's executor and analyses follow the program's nesting (a block in a
loop in an if in a call...), which a user's input can make thousands deep; each
level here is one generator on a list, not a Python frame.
"""

from __future__ import annotations

from typing import Any, Generator

Walk = Generator[Any, Any, Any]


def drive(walk: Walk) -> Any:
    """Run `walk` to its end: each generator it yields runs to its own end first,
    its return value sent back. An exception raised in any ends the whole drive."""
    stack = [walk]
    value = None
    while True:
        try:
            sub = stack[-1].send(value)
        except StopIteration as done:
            stack.pop()
            if not stack:
                return done.value
            value = done.value
            continue
        stack.append(sub)
        value = None
