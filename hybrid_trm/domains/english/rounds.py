"""english/truth answered by forward chaining run by a model (docs/english.md,
"The model: rounds of rules"; the rounds themselves: domains/rounds.py), and
english/antecedent by a reading whose every choice of antecedent a model makes.

The run keeps the bookkeeping a theory's reading gives: its ground literals, the
stated ones, and every rule bound to each constant the theory names
(chaining.instances). The model says, round by round, which literals follow.
The statement's answer is then read as the labeller reads it (chaining.py):
`true` where the model derived it, `false` where it derived its negation,
`unknown` where neither. In the closed world (closed.py) the rules run in passes,
stratum by stratum, each pass's negated conditions decided by the model's own
run of the pass before; the statement is `true` where its atom was derived and
it is positive, or was not and it is negated.
"""

from __future__ import annotations

from ...errors import HybridTRMError
from ...grammar import Node, kind, postorder
from ..base import Answerer, Run
from ..rounds import HOLDS, Chain, chain_many
from . import closed, discourse
from .chaining import FALSE, TRUE, UNKNOWN, instances
from .reading import Literal, Theory, read
from .roles import ASKS
from .translate import translate


def truths(trees: list[Node], ask: Answerer) -> list[Run]:
    """Every theory (a resolved `ask` or `ask_closed` tree) chained forward with
    `ask` evaluating each round's formulas, in lockstep: its answer, per node in
    postorder every ground literal node's truth (the root the statement's) and the
    rounds each took. A closed-world theory runs a chain a pass (`Passes`)."""
    theories = [read(tree) for tree in trees]
    runs = [Passes(t) for t in theories]
    while True:
        chains = [chain for chain in (r.next_chain() for r in runs) if chain is not None]
        if not chains:
            break
        chain_many(chains, ask)
    return [_run(tree, theory, r) for tree, theory, r in zip(trees, theories, runs)]


class Passes:
    """One theory's chains. Open world: one. Closed world (closed.py): one a pass,
    each over the rules of its pass, in which a negated condition is a literal
    stated (round 0, `true` in the formulas) where the chain before it did not
    derive its atom, and never derived otherwise (`false`); the last chain, over
    every rule, answers. So the stratum below decides each negated condition, and
    the last chain's rounds are proof depths, a negated condition a leaf."""

    def __init__(self, theory: Theory):
        self.theory = theory
        self.constants = theory.constants()
        self.todo = closed.passes(theory.rules) if theory.closed else [theory.rules]
        self.chain: Chain | None = None
        self.confidence = 1.0

    def next_chain(self) -> Chain | None:
        """The next pass's chain, to run (None: all have run)."""
        if self.chain is not None:
            self.confidence = min(self.confidence, self.chain.confidence)
        if not self.todo:
            return None
        ground = instances(self.todo.pop(0), self.constants)
        stated = list(self.theory.facts)
        if self.theory.closed:
            derived = set(self.chain.derived) if self.chain is not None else set(stated)
            stated += sorted(closed.failed(ground, {lit for lit in derived if lit.positive}))
        self.chain = Chain.of(stated, ground)
        return self.chain

    def truth(self, lit: Literal) -> str:
        derived = self.chain.derived
        if self.theory.closed:  # the atom derived, or not
            return TRUE if ((lit if lit.positive else lit.negated()) in derived) == lit.positive else FALSE
        if lit in derived:
            return TRUE
        return FALSE if lit.negated() in derived else UNKNOWN

    def steps(self, lit: Literal) -> int:
        """The rounds it took to derive the literal or its negation (closed world:
        its atom; where neither was, the rounds it was asked in)."""
        chain = self.chain
        if self.theory.closed:
            return chain.steps(lit if lit.positive else lit.negated())
        return chain.steps(lit.negated() if lit not in chain.derived and lit.negated() in chain.derived else lit)


def _run(tree: Node, theory: Theory, run: Passes) -> Run:
    order = postorder(tree)
    nodes = theory.nodes
    answers = [run.truth(nodes[id(n)]) if id(n) in nodes else "" for n in order]
    steps = [run.steps(nodes[id(n)]) if id(n) in nodes else 0 for n in order]
    if kind(tree) in ASKS and theory.question is not None:
        answers[-1], steps[-1] = run.truth(theory.question), run.steps(theory.question)
    return Run(answers[-1], run.confidence, answers, steps)


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
