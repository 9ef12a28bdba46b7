"""programs/recursive answered by rounds run by a model (docs/programs.md,
"`recursive` by rounds"; the rounds themselves: domains/rounds.py).

The run keeps the bookkeeping the program's text gives, its call graph
(calls.callees: which functions each function's body calls). Stated: f reaches g
for every call of g in f's body. Rules: f reaches g where f calls h and h reaches
g, for every function g. The model says, round by round, which pairs follow, and
a function is recursive where it reaches itself: in round 0 where it calls
itself, in round k where the shortest cycle through it has k + 1 calls.
"""

from __future__ import annotations

from ...grammar import Node, kind, postorder
from ..base import Answerer, Run
from ..rounds import Chain, chain_many
from .calls import callees
from .tasks import join

YES, NO = "yes", "no"


def recursive_many(trees: list[Node], ask: Answerer) -> list[Run]:
    """Every program's recursive functions from rounds on its call graph, in
    lockstep: per `funcdef` and `call` node whether its function is recursive
    (steps: the round its cycle closed, or the rounds it was asked in), the
    root the sorted names (or `none`)."""
    graphs = [callees(tree) for tree in trees]
    chains = chain_many([_chain(graph) for graph in graphs], ask)
    return [_run(tree, graph, chain) for tree, graph, chain in zip(trees, graphs, chains)]


def _chain(graph: dict[str, set[str]]) -> Chain:
    defined = sorted(graph)
    stated = [(f, g) for f in defined for g in sorted(graph[f]) if g in graph]
    rules = [
        (((f, h), (h, g)), ((f, g),)) for f in defined for h in sorted(graph[f]) if h in graph for g in defined
    ]
    return Chain.of(stated, rules)


def _run(tree: Node, graph: dict[str, set[str]], chain: Chain) -> Run:
    order = postorder(tree)
    names = {f for f in graph if (f, f) in chain.derived}
    answers, steps = [], []
    for node in order:
        if kind(node) in ("funcdef", "call") and str(node.children[0]) in graph:
            name = str(node.children[0])
            answers.append(YES if name in names else NO)
            steps.append(chain.steps((name, name)))
        else:
            answers.append("")
            steps.append(0)
    answers[-1] = join(names)
    return Run(answers[-1], chain.confidence, answers, steps)
