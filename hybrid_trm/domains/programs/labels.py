"""Every node's label for each task (docs/programs.md, "The tasks"), in
`grammar.postorder` order, from the labeller's own executor (run.py), analyses
(flow.py) and call graph (calls.py); and the whole program's answer.
"""

from __future__ import annotations

from ...grammar import Node, children, kind, postorder
from .calls import recursive
from .flow import Unset, dead_statements
from .run import run
from .syntax import STATEMENTS
from .tasks import join

COUNT_LIMIT = 10**5  # trips: a count past the task's 5 digits (an empty loop run at once) is left unlabelled
HOLDERS = frozenset(("block", "funcdef", "program"))  # dead: labelled with the dead statements inside


def node_labels(tree: Node, task: str) -> list[str | None]:
    order = postorder(tree)
    if task == "output":
        result = run(tree)
        labels = [_text(result.values.get(id(n))) for n in order]
        labels[-1] = result.answer
        return labels
    if task == "trips":
        result = run(tree)
        labels = [
            _text(result.counts.get(id(n), 0), COUNT_LIMIT) if kind(n) in STATEMENTS else None for n in order
        ]
        labels[-1] = str(result.executed)
        return labels
    if task == "dead":
        return dead_labels(order, dead_statements(tree))
    if task == "unset":
        marks = Unset(tree).marks
        return [marks.get(id(n)) for n in order]
    if task == "recursive":
        names = recursive(tree)
        return [_recursive_label(n, names) for n in order]
    raise ValueError(f"programs has no task {task!r}")


def answer(tree: Node, task: str) -> str:
    """The whole program's answer."""
    if task == "unset":
        return join(Unset(tree).names(tree))
    if task == "recursive":
        return join(recursive(tree))
    return node_labels(tree, task)[-1]


def answer_from_labels(tree: Node, task: str, labels: list[str | None]) -> str:
    """The whole program's answer read off per-node labels (in postorder), as a
    model gives them: for `unset` the variables of the reads labelled `unset`, for
    `recursive` the functions whose def is labelled `yes`; else the root's label."""
    order = postorder(tree)
    if task == "unset":
        return join(str(n) for n, label in zip(order, labels) if label == "unset")
    if task == "recursive":
        return join(str(n.children[0]) for n, label in zip(order, labels) if kind(n) == "funcdef" and label == "yes")
    return labels[-1]


def _text(value: int | None, limit: int | None = None) -> str | None:
    if value is None or (limit is not None and abs(value) >= limit):
        return None
    return str(value)


def dead_labels(order: list[Node], dead: set[int]) -> list[str | None]:
    """`dead`'s labels of the nodes in `order` (a tree's postorder), the ids of its
    dead statements given: each statement `1` or `0`, each block, def and the
    program the dead statements inside it."""
    inside: dict[int, int] = {}  # id(node) -> dead statements in its subtree, itself included
    labels: list[str | None] = []
    for node in order:
        below = sum(inside.pop(id(c), 0) for c in children(node))
        k = kind(node)
        mine = int(id(node) in dead) if k in STATEMENTS else 0
        inside[id(node)] = below + mine
        labels.append(str(mine) if k in STATEMENTS else str(below) if k in HOLDERS else None)
    return labels


def _recursive_label(node: Node, names: set[str]) -> str | None:
    k = kind(node)
    if k == "funcdef" or k == "call":
        return "yes" if str(node.children[0]) in names else "no"
    return None
