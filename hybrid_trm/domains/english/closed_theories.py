"""Seeded closed-world theories (docs/english.md, "The closed world"; the knob
`world=closed`): ProofWriter's CWA, whose statement's atom has a proof of a chosen
depth, or has one of that depth taken away.

The proof is built backwards from the statement as the open world's is
(generator.Proof), every condition on it positive; at the share `negation`, a
rule of it also gets a negated condition about a fresh predicate that nothing
states or concludes (`and they are not blue`), which holds by failure, and the
rule at the bottom of the proof has one in place of the fact beneath it (`If
someone is not blue then they are red`: no fact is needed). Then the answer is
drawn among true and false, and whether the statement's atom follows, half and
half:

  follows   true: the statement is the proof's conclusion; false: its negation
  fails     one thing the proof stands on is taken away: a fact it needs (a fact
            of a fresh predicate about the same entity stands in), or, the closed
            world's own way, a negated condition is blocked by stating its atom;
            false: the statement is the conclusion; true: its negation
            (depth 0: a literal nothing states)

So a negated statement is as often true as false. Distractors: positive facts,
and rules whose conditions are negated at the share `negation`, each kept only
where the theory stays stratified, the answer stays as drawn and, where the atom
follows, so does its proof depth.
"""

from __future__ import annotations

import random

from ...errors import HybridTRMError
from .chaining import TRUE, UNKNOWN
from .closed import ClosedChaining
from .generator import STYLES, Distractors, EnglishDifficulty, Proof, World, check_knobs
from .reading import VAR, Literal, Rule, Theory
from .render import Writer

QUESTION = "Q (closed world):"  # the marker of the closed world (grammars/english.lark)


def closed_theory(rng: random.Random, d: EnglishDifficulty) -> tuple[str, str, dict]:
    """(text `THEORY Q (closed world): STATEMENT`, the answer drawn, meta) of one example."""
    answers = [a for a in check_knobs(d) if a != UNKNOWN]
    if not answers:
        raise HybridTRMError(f"english: answers={d.answers!r}: the closed world answers true or false")
    style = rng.choice(STYLES) if d.style == "mixed" else d.style
    depth = rng.randint(d.depth_min, d.depth)
    target = rng.choice(answers)
    follows = rng.random() < 0.5
    world = ClosedWorld(rng, d, style)
    build = ClosedProof(world, rng, d.negation)
    facts, rules, goal = build.backwards(depth)
    if not follows:
        facts = build.take_away(goal, facts, depth)
    question = goal if (target == TRUE) == follows else goal.negated()
    kept = ClosedDistractors(world, rng, facts, rules, question, target, depth if follows else None)
    kept.add(d.facts, d.rules)
    writer = Writer(world.parts, world.names)
    sentences = [writer.fact(f) for f in kept.facts] + [writer.rule(r, rng) for r in kept.rules]
    rng.shuffle(sentences)
    text = " ".join(sentences) + f" {QUESTION} " + writer.fact(question)
    meta = {
        "proof_depth": depth, "style": style, "sentences": len(sentences), "rules": len(kept.rules),
        "world": "closed", "follows": follows,
    }
    return text, target, meta


class ClosedWorld(World):
    """A world whose predicates are positive where they are conditions: a negated
    condition (negation as failure) is added on purpose, never by a predicate's sign."""

    def _add(self, part: str, word: str) -> str:
        name = super()._add(part, word)
        self.positive[name] = True
        return name


class ClosedProof(Proof):
    """The proof, with negated conditions that hold by failure (module docstring)."""

    def __init__(self, world: World, rng: random.Random, negation: float):
        super().__init__(world, rng)
        self.negation = negation
        self.blockable: list[Literal] = []  # the atoms of the proof's negated conditions, bound as the proof binds them

    def _step(self, current: Literal) -> tuple[Rule, Literal]:
        rule, below = super()._step(current)
        if self.rng.random() < self.negation:  # the rule's variable is bound to below's subject
            rule = Rule(rule.body + (self._failure(rule, below.args[0]),), rule.head)
        return rule, below

    def _failure(self, rule: Rule, entity: str) -> Literal:
        """A negated condition of a fresh predicate, about the rule's variable (bound to `entity`)."""
        atom = self.world.literal(self.world.fresh("adj"), entity)
        self.blockable.append(atom)
        return Literal(False, atom.predicate, (entity,) if rule.ground else (VAR,))

    def backwards(self, depth: int) -> tuple[list[Literal], list[Rule], Literal]:
        facts, rules, goal = super().backwards(depth)
        bottom = rules[-1] if rules else None
        # A bottom rule with only a negated condition applies to every entity; that
        # stays the goal's own only where no rule hops from one entity to another.
        if bottom is not None and self.rng.random() < self.negation and not any(_hops(r) for r in rules):
            if bottom.ground or all(h.args == (VAR,) for h in bottom.head):
                rules[-1] = Rule((self._failure(bottom, self.base.args[0]),) + bottom.body[1:], bottom.head)
                facts = [f for f in facts if f != self.base]
                self.base = None
        return facts, rules, goal

    def take_away(self, goal: Literal, facts: list[Literal], depth: int) -> list[Literal]:
        """The facts with one the proof needs left out (and a stand-in), or with the
        atom of one of its negated conditions stated (module docstring)."""
        w, rng = self.world, self.rng
        needed = ([self.base] if self.base is not None else []) + self.side_facts if depth else [goal]
        if self.blockable and (not needed or rng.random() < 0.5):
            return facts + [rng.choice(self.blockable)]
        missing = needed[0] if len(needed) == 1 or rng.random() < 0.7 else rng.choice(needed[1:])
        stand_in = w.literal(w.fresh("adj"), missing.args[0])
        return [f for f in facts if f != missing] + [stand_in]


def _hops(rule: Rule) -> bool:
    """If something chases the cat then the cat is red: a variable in the conditions only."""
    return not rule.ground and all(h.ground for h in rule.head)


class ClosedDistractors(Distractors):
    """Positive facts and rules, some of whose conditions are negated, kept where the
    theory stays stratified and its answer (and, where the atom follows, its depth)
    as drawn."""

    def __init__(self, world: World, rng: random.Random, facts: list[Literal], rules: list[Rule],
                 question: Literal, target: str, depth: int | None):
        super().__init__(world, rng, facts, rules, question, target, -1 if depth is None else depth)
        self.negation = world.negation

    def keeps(self, facts: list[Literal], rules: list[Rule]) -> bool:
        try:
            chaining = ClosedChaining(Theory(facts, rules, self.question, closed=True))
        except HybridTRMError:  # not stratified
            return False
        if chaining.truth(self.question) != self.target:
            return False
        return self.depth < 0 or chaining.proof_depth(self.question) == self.depth

    def _sign(self, predicate: str) -> bool:
        return True  # a closed-world theory states no negation

    def _condition(self, second: bool = False) -> Literal:
        lit = super()._condition(second)
        return lit.negated() if self.rng.random() < self.negation else lit
