"""The labeller's forward chaining (docs/english.md, "The open-world reading").

A theory's facts hold at depth 0; a rule whose conditions all hold for some value
of its variable (a constant the theory names) adds its conclusions at one more than
the deepest condition. Rounds go on until nothing new is added: each literal's
depth is then the fewest rounds of rules any proof of it needs. Negation is as
stated: `x is not big` holds only where a fact says so or a rule concludes it, never
because `x is big` does not follow.

`extend` asks what else would follow if one more literal held (no depths): the
generator uses it to keep each theory's answers the same under classical logic
(docs/english.md, "When forward chaining is complete").
"""

from __future__ import annotations

from collections import defaultdict

from ...errors import HybridTRMError
from .reading import VAR, Literal, Rule, Theory

TRUE, FALSE, UNKNOWN = "true", "false", "unknown"


class Chaining:
    """The closure of a theory's facts under its rules, with every literal's depth."""

    def __init__(self, facts: list[Literal], rules: list[Rule], constants: list[str]):
        self.instances = instances(rules, constants)
        self.by_condition: dict[Literal, list[int]] = defaultdict(list)
        for i, (body, _) in enumerate(self.instances):
            for lit in set(body):
                self.by_condition[lit].append(i)
        self.depth: dict[Literal, int] = {}
        for lit in facts:
            self.depth.setdefault(lit, 0)
        frontier = set(self.depth)
        fired = [i for i, (body, _) in enumerate(self.instances) if not body]  # `All things are big`: round 1
        rounds = 0
        while frontier or fired:
            rounds += 1
            candidates = set(fired)
            fired = []
            for lit in frontier:
                candidates.update(self.by_condition.get(lit, ()))
            added = set()
            for i in sorted(candidates):
                body, head = self.instances[i]
                if all(self.depth.get(b, rounds) < rounds for b in body):
                    for h in head:
                        if h not in self.depth:
                            self.depth[h] = rounds
                            added.add(h)
            frontier = added
        self.rounds = max(0, rounds - 1)  # the deepest round that added a literal

    @classmethod
    def of(cls, theory: Theory) -> Chaining:
        return cls(theory.facts, theory.rules, theory.constants())

    def contradiction(self) -> tuple[Literal, Literal] | None:
        """A literal that holds with its negation, if any (the first by depth)."""
        for lit in sorted(self.depth, key=lambda l: (self.depth[l], l)):
            if lit.positive and lit.negated() in self.depth:
                return lit, lit.negated()
        return None

    def truth(self, lit: Literal) -> str:
        if lit in self.depth:
            return TRUE
        if lit.negated() in self.depth:
            return FALSE
        return UNKNOWN

    def proof_depth(self, lit: Literal) -> int | None:
        """The depth of the proof of the literal or of its negation (None: neither follows)."""
        if lit in self.depth:
            return self.depth[lit]
        return self.depth.get(lit.negated())

    def extend(self, extra: Literal) -> set[Literal]:
        """The literals that would follow, beyond these, if `extra` held as well."""
        new = {extra} - set(self.depth)
        agenda = list(new)
        while agenda:
            lit = agenda.pop()
            for i in self.by_condition.get(lit, ()):
                body, head = self.instances[i]
                if all(b in self.depth or b in new for b in body):
                    for h in head:
                        if h not in self.depth and h not in new:
                            new.add(h)
                            agenda.append(h)
        return new

    def consistent_with(self, extra: Literal) -> bool:
        """Whether the closure stays free of contradictions if `extra` held as well."""
        new = self.extend(extra)
        return not any(lit.negated() in self.depth or lit.negated() in new for lit in new)


def instances(rules: list[Rule], constants: list[str]) -> list[tuple[tuple[Literal, ...], tuple[Literal, ...]]]:
    """Every rule with its variable bound to each constant (a ground rule: once)."""
    out = []
    for rule in rules:
        if rule.ground:
            out.append((rule.body, rule.head))
            continue
        for c in constants:
            out.append((tuple(lit.bind(c) for lit in rule.body), tuple(lit.bind(c) for lit in rule.head)))
    return out


def require_consistent(chaining: Chaining) -> None:
    """Raise where the theory contradicts itself: everything would follow, and no
    answer is right."""
    clash = chaining.contradiction()
    if clash is not None:
        raise HybridTRMError(
            f"english: the theory contradicts itself: {_show(clash[0])} and {_show(clash[1])} both follow"
        )


def _show(lit: Literal) -> str:
    args = ", ".join("x" if a == VAR else a for a in lit.args)
    return f"{'' if lit.positive else '~'}{lit.predicate}({args})"
