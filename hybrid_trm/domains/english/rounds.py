"""english/truth answered by forward chaining run by a model (docs/english.md,
"The model: rounds of rules"; the rounds themselves: domains/rounds.py), and
english/antecedent by a reading whose every choice of antecedent a model makes.

The run keeps the bookkeeping a theory's reading gives: its ground literals, the
stated ones, and every rule bound to each constant the theory names
(chaining.instances). The model says, round by round, which literals follow.
The statement's answer is then read as the labeller reads it (chaining.py):
`true` where the model derived it, `false` where it derived its negation,
`unknown` where neither.
"""

from __future__ import annotations

from ...errors import HybridTRMError
from ...grammar import Node, kind, postorder
from ..base import Answerer, Run
from ..rounds import HOLDS, Chain, chain_many
from . import discourse
from .chaining import FALSE, TRUE, UNKNOWN, instances
from .reading import Literal, Theory, read
from .translate import translate


def truths(trees: list[Node], ask: Answerer) -> list[Run]:
    """Every theory (a resolved `ask` tree) chained forward with `ask` evaluating
    each round's formulas, in lockstep: its answer, per node in postorder every
    ground literal node's truth (the `ask` root the statement's) and the rounds each took."""
    theories = [read(tree) for tree in trees]
    chains = chain_many([Chain.of(t.facts, instances(t.rules, t.constants())) for t in theories], ask)
    return [_run(tree, theory, chain) for tree, theory, chain in zip(trees, theories, chains)]


def _truth(chain: Chain, lit: Literal) -> str:
    if lit in chain.derived:
        return TRUE
    return FALSE if lit.negated() in chain.derived else UNKNOWN


def _steps(chain: Chain, lit: Literal) -> int:
    """The rounds it took to derive the literal or its negation (where neither was,
    the rounds it was asked in)."""
    return chain.steps(lit.negated() if lit not in chain.derived and lit.negated() in chain.derived else lit)


def _run(tree: Node, theory: Theory, chain: Chain) -> Run:
    order = postorder(tree)
    nodes = theory.nodes
    answers = [_truth(chain, nodes[id(n)]) if id(n) in nodes else "" for n in order]
    steps = [_steps(chain, nodes[id(n)]) if id(n) in nodes else 0 for n in order]
    if kind(tree) == "ask" and theory.question is not None:
        answers[-1], steps[-1] = _truth(chain, theory.question), _steps(chain, theory.question)
    return Run(answers[-1], chain.confidence, answers, steps)


def antecedents(trees: list[Node], ask: Answerer) -> list[Run]:
    """Every discourse's references, read as the labeller reads them
    (discourse.py) but each anaphor's antecedent picked by the model: each
    candidate, latest first, is asked the conjunction of its features (accessible,
    agrees in gender and number, not the clause's own subject; for a definite
    description, described by its words), `(true & true & false)`, and the first
    the model calls `valid` is taken. Per reference its label (noun phrases back,
    or `new`) and its steps (candidates asked); the root the translation with
    every reference resolved."""
    out = []
    for tree in trees:
        steps: dict[int, int] = {}
        confidence = 1.0

        def decide(anaphor: Node, candidates: discourse.Candidates) -> int | None:
            nonlocal confidence
            features = [f for _, f in candidates]
            if not features:
                return None
            answers = ask(["(" + " & ".join("true" if holds else "false" for holds in f) + ")" for f in features])
            confidence = min([confidence, *(c for _, c in answers)])
            chosen = next((i for i, (answer, _) in enumerate(answers) if answer == HOLDS), None)
            steps[id(anaphor)] = len(features) if chosen is None else chosen + 1
            return chosen

        try:
            references = discourse.read(tree, decide=decide)
        except discourse.Unresolved as err:  # the model took none of the candidates
            raise HybridTRMError(f"english: the model takes no antecedent for {str(err.node)!r}") from None
        order = postorder(tree)
        answers = [references.label(n) or "" for n in order]
        answers[-1] = translate(tree, references.antecedents).text()
        out.append(Run(answers[-1], confidence, answers, [steps.get(id(n), 0) for n in order]))
    return out
