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
    return advance([walk], None).value


class Done:
    """What `advance` returns when the walk has ended: its value."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def advance(stack: list[Walk], value: Any, pause: tuple[type, ...] = ()) -> Any:
    """Drive the walk whose generators are on `stack` (the outermost first), `value`
    sent to the innermost, until it ends (Done, with its value) or a generator
    yields an instance of `pause`, which is returned: the walk waits there, to be
    advanced again with the value that answers it (the executor's questions)."""
    while True:
        try:
            sub = stack[-1].send(value)
        except StopIteration as done:
            stack.pop()
            if not stack:
                return Done(done.value)
            value = done.value
            continue
        if pause and isinstance(sub, pause):
            return sub
        stack.append(sub)
        value = None
