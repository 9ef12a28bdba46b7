"""Forward chaining over ground rules, run by a model (the rounds of english/truth
and programs/recursive): what follows, and when, the model says.

A problem is a set of atoms stated (derived in round 0) and ground rules, each a
body of atoms (its conditions, all of which must hold) and a head of atoms (its
conclusions). Each round, every atom some rule concludes and none has derived
yet is asked one closed formula in the logic domain's syntax: the disjunction,
over the rules that conclude it, of the conjunction of their conditions, each
written `true` where it was derived in an earlier round and `false` where not:
`(true & false) | (true)`. The atoms whose formula the model calls `valid` (it
holds) are derived in this round. After the first round an atom is asked again
only where one of its conditions was derived in the round before: its formula is
otherwise the one already answered (the model is deterministic). Rounds go on
until one derives nothing, so an atom whose proof is d rules deep is derived in
round d when every answer is right, and how many rounds run is the model's
answers' to decide. Many problems run in lockstep: one batch of questions a round.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Hashable, Iterable

from .base import Answerer

HOLDS = "valid"  # the logic model's answer for a closed formula that is true


@dataclass
class Chain:
    """One problem's run: the rules that conclude each atom, what is derived and in which round."""

    concluded_by: dict[Hashable, list[tuple]]  # atom -> the body of each rule that concludes it
    derived: dict[Hashable, int] = field(default_factory=dict)  # atom -> its round (0: stated)
    asked: dict[Hashable, int] = field(default_factory=lambda: defaultdict(int))  # atom -> times it was asked
    rounds: int = 0
    confidence: float = 1.0
    conditions_of: dict[Hashable, set] = field(default_factory=lambda: defaultdict(set))  # atom -> atoms it is a condition of
    pending: set = field(default_factory=set)  # the atoms to ask in the next round

    @classmethod
    def of(cls, stated: Iterable[Hashable], rules: Iterable[tuple[tuple, tuple]]) -> Chain:
        concluded_by: dict[Hashable, dict[tuple, None]] = defaultdict(dict)
        for body, head in rules:
            for atom in head:
                concluded_by[atom][tuple(body)] = None  # each distinct body once
        chain = cls({atom: list(bodies) for atom, bodies in concluded_by.items()})
        chain.derived.update((atom, 0) for atom in stated)
        for atom, bodies in chain.concluded_by.items():
            for body in bodies:
                for condition in body:
                    chain.conditions_of[condition].add(atom)
        chain.pending = {atom for atom in chain.concluded_by if atom not in chain.derived}
        return chain

    def questions(self) -> list[tuple[Hashable, str]]:
        """This round's: each pending atom (module docstring) with its formula, in a fixed order."""
        return [(atom, self.formula(self.concluded_by[atom])) for atom in self.concluded_by if atom in self.pending]

    def formula(self, bodies: list[tuple]) -> str:
        def conjunction(body: tuple) -> str:
            return " & ".join("true" if atom in self.derived else "false" for atom in body) or "true"

        return " | ".join(f"({conjunction(body)})" for body in bodies)

    def add(self, atoms: list[Hashable]) -> None:
        """Derive `atoms` in a new round; pending then: the atoms they are conditions of."""
        self.rounds += 1
        self.derived.update((atom, self.rounds) for atom in atoms)
        self.pending = {other for atom in atoms for other in self.conditions_of.get(atom, ()) if other not in self.derived}

    def steps(self, atom: Hashable) -> int:
        """The round the atom was derived in; where it was not, the times it was asked."""
        return self.derived[atom] if atom in self.derived else self.asked.get(atom, 0)


def chain_many(chains: list[Chain], ask: Answerer) -> list[Chain]:
    """Run every chain to its end with `ask` evaluating each round's formulas, in
    lockstep (the chains are updated in place, and returned)."""
    running = list(chains)
    while running:
        asked = [(chain, atom, text) for chain in running for atom, text in chain.questions()]
        answers = ask([text for *_, text in asked]) if asked else []
        new: dict[int, list[Hashable]] = defaultdict(list)
        for (chain, atom, _), (answer, confidence) in zip(asked, answers):
            chain.asked[atom] += 1
            chain.confidence = min(chain.confidence, confidence)
            if answer == HOLDS:
                new[id(chain)].append(atom)
        for chain in running:
            if new[id(chain)]:
                chain.add(new[id(chain)])
        running = [chain for chain in running if new[id(chain)]]
    return chains
