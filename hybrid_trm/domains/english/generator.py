"""Seeded theories whose statement has a proof of a chosen depth (docs/english.md,
"The generator").

The proof is built backwards from the statement, one rule a step, so depth d is
drawn, not searched for: the statement's literal is the conclusion of a rule whose
condition is a fresh literal, which is the conclusion of the next rule down, and
so on to a stated fact d rules below. A step may add a side condition (a fresh
stated fact) and, among animals, go through a relation (`If something chases the
dog then it is red`) or hop to another entity (`If something chases the cat then
the cat is red`). Each literal of the proof is new to it, so no other path through
the proof's own rules is shorter.

  true      the statement is the proof's conclusion
  false     the statement is its negation
  unknown   the proof's conclusion or its negation, with one fact the proof
            stands on left out (depth 0: a literal nothing states)

Then distractors: facts and rules over the same entities and predicates (the
proof's included, so that they look relevant), each kept only where the statement's
answer and proof depth stay as drawn and the theory stays one on which forward
chaining answers as classical logic does (docs/english.md, "When forward chaining is
complete"): every predicate keeps one sign in rule conditions, the closure is free
of contradictions, and every ground literal the labeller labels but cannot decide
can be added, negated or not, without one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ...errors import HybridTRMError
from .chaining import FALSE, TRUE, UNKNOWN, Chaining
from .reading import VAR, Literal, Rule, Theory
from .render import Writer
from .vocabulary import ADJECTIVES, ANIMALS, NAMES, NOUNS, PRONTOQA_NAMES, PROPERTIES, VERBS

STYLES = ("people", "animals", "prontoqa")
TRIES = 4  # candidate distractors drawn per one asked for


@dataclass(frozen=True)
class EnglishDifficulty:
    # Proof depth of the statement (unknown: of the proof one fact short), drawn in
    # [depth_min, depth]: ProofWriter trains at <= 3 and tests to 5.
    depth: int = 3
    depth_min: int = 0
    entities: int = 3  # entities a theory may name
    attributes: int = 6  # adjectives (PrOntoQA: nouns and adjectives) beyond the proof's own
    relations: int = 2  # verbs among animals; 0: none
    rules: int = 3  # rules beside the proof's
    facts: int = 4  # facts beside the proof's
    negation: float = 0.3  # chance a predicate is written negated wherever it is a condition (`is not big`)
    answers: str = "true,false,unknown"  # drawn uniformly: about a third each
    # people, animals, prontoqa, or mixed (each a third); discourse: a story of
    # references (stories.py), what `antecedent` always asks about and `logic` may
    style: str = "mixed"
    # Discourses: the reference's antecedent is [distance_min, distance] sentences back
    # (0: the same sentence), behind up to `distractors` noun phrases it agrees with but
    # cannot take (named before the antecedent, or under `not`). Issue 21's target:
    # trained at distance <= 2 with <= 2 distractors, right at 3-10 with up to 6.
    distance: int = 2
    distance_min: int = 0
    distractors: int = 2
    anaphors: str = "he,she,it,they,the,former,latter"  # the kinds of reference drawn, uniformly
    # open: negation as stated (true / false / unknown); closed: negation as failure,
    # ProofWriter's CWA (true / false; `negation` is then the share of negated
    # conditions, and `unknown` is not drawn): closed_theories.py
    world: str = "open"


def check_knobs(d: EnglishDifficulty) -> tuple[str, ...]:
    answers = tuple(a.strip() for a in d.answers.split(",") if a.strip())
    if not answers or not set(answers) <= {TRUE, FALSE, UNKNOWN}:
        raise HybridTRMError(f"english: answers={d.answers!r}: a comma-separated list of true, false, unknown")
    if d.style not in (*STYLES, "mixed", "discourse"):
        raise HybridTRMError(f"english: style={d.style!r}: one of {', '.join(STYLES)}, mixed, discourse")
    if not (0 <= d.depth_min <= d.depth and d.entities >= 1 and min(d.attributes, d.relations, d.rules, d.facts) >= 0):
        raise HybridTRMError(f"english: knobs out of range: {d}")
    if not 0 <= d.negation <= 1:
        raise HybridTRMError(f"english: negation={d.negation}: a share between 0 and 1")
    if d.world not in ("open", "closed"):
        raise HybridTRMError(f"english: world={d.world!r}: open (negation as stated) or closed (negation as failure)")
    return answers


def theory(rng: random.Random, d: EnglishDifficulty) -> tuple[str, str, dict]:
    """(text `THEORY Q: STATEMENT`, the answer drawn, meta) of one example."""
    answers = check_knobs(d)
    style = rng.choice(STYLES) if d.style == "mixed" else d.style
    depth = rng.randint(d.depth_min, d.depth)
    target = rng.choice(answers)
    world = World(rng, d, style)
    build = Proof(world, rng)
    facts, rules, goal = build.backwards(depth)
    question = goal if target == TRUE else goal.negated() if target == FALSE else None
    if target == UNKNOWN:
        question, facts = build.unprovable(goal, facts, depth)
    kept = Distractors(world, rng, facts, rules, question, target, depth)
    kept.add(d.facts, d.rules)
    writer = Writer(world.parts, world.names)
    sentences = [writer.fact(f) for f in kept.facts] + [writer.rule(r, rng) for r in kept.rules]
    rng.shuffle(sentences)
    text = " ".join(sentences) + " Q: " + writer.fact(question)
    meta = {"proof_depth": depth, "style": style, "sentences": len(sentences), "rules": len(kept.rules)}
    return text, target, meta


class World:
    """One theory's vocabulary: its entities, predicates and their signs."""

    def __init__(self, rng: random.Random, d: EnglishDifficulty, style: str):
        self.rng, self.style = rng, style
        self.parts: dict[str, tuple[str, str]] = {}  # predicate -> (part of speech, word)
        self.names: dict[str, str] = {}  # constant -> as written
        self.positive: dict[str, bool] = {}  # predicate -> its sign wherever it is a condition
        self.negation = d.negation
        pool = {"people": NAMES, "animals": ANIMALS, "prontoqa": PRONTOQA_NAMES}[style]
        for word in rng.sample(pool, min(d.entities, len(pool))):
            constant = word.lower().replace(" ", "_")
            self.names[constant] = word if style != "animals" else f"the {word}"
        self.entities = list(self.names)
        adjectives = PROPERTIES if style == "prontoqa" else ADJECTIVES
        self._decks = {"adj": rng.sample(adjectives, len(adjectives)), "noun": rng.sample(NOUNS, len(NOUNS))}
        verbs = rng.sample(VERBS, min(d.relations, len(VERBS))) if style == "animals" else []
        self.verbs = [self._add("verb", v) for v in verbs]
        # Predicates beyond the proof's, for distractors (which draw on the proof's too).
        nouns = d.attributes // 2 if style == "prontoqa" else 0
        for part in ["adj"] * (d.attributes - nouns) + ["noun"] * nouns:
            self.fresh(part)

    def fresh(self, part: str) -> str:
        """A predicate not used yet in this theory."""
        deck = self._decks[part]
        if not deck:
            raise HybridTRMError(
                f"english: a {self.style} theory this deep needs more {'adjectives' if part == 'adj' else 'nouns'} "
                "than the vocabulary has (vocabulary.py); lower depth or attributes"
            )
        return self._add(part, deck.pop())

    def _add(self, part: str, word: str) -> str:
        name = word[:1].upper() + word[1:]
        self.parts[name] = (part, word)
        # PrOntoQA's taxonomy is stated positively: every wumpus is a tumpus.
        self.positive[name] = part == "noun" or self.rng.random() >= self.negation
        return name

    def literal(self, predicate: str, *args: str) -> Literal:
        """The literal with the predicate's own sign."""
        return Literal(self.positive[predicate], predicate, args)

    def unary(self) -> list[str]:
        return [p for p, (part, _) in self.parts.items() if part != "verb"]


class Proof:
    """The proof of the statement, built backwards (see the module's docstring)."""

    def __init__(self, world: World, rng: random.Random):
        self.world, self.rng = world, rng
        self.side_facts: list[Literal] = []
        self.base: Literal | None = None  # the fact at the bottom of the proof
        self.keys: set[tuple[str, str]] = set()  # (verb, object) of every relation the proof holds

    def goal(self) -> Literal:
        w, rng = self.world, self.rng
        c = rng.choice(w.entities)
        if w.style == "prontoqa":
            return w.literal(w.fresh("noun"), c) if rng.random() < 0.4 else w.literal(w.fresh("adj"), c)
        if w.verbs and len(w.entities) > 1 and rng.random() < 0.3:
            relation = self._relation(c)
            if relation is not None:
                return relation
        return w.literal(w.fresh("adj"), c)

    def backwards(self, depth: int) -> tuple[list[Literal], list[Rule], Literal]:
        """(facts, rules, the conclusion): a proof of `depth` rules."""
        goal = current = self.goal()
        rules: list[Rule] = []
        for _ in range(depth):
            rule, current = self._step(current)
            rules.append(rule)
        self.base = current
        return [current] + self.side_facts, rules, goal

    def unprovable(self, goal: Literal, facts: list[Literal], depth: int) -> tuple[Literal, list[Literal]]:
        """(an unknown statement, the facts without one the proof needs). A fact of
        a fresh predicate about the same entity takes the missing one's place, so
        that the entity is still named (depth 0: the statement is nowhere stated)."""
        question = goal if self.rng.random() < 0.5 else goal.negated()
        if depth == 0:
            missing = goal
        else:
            missing = self.base if not self.side_facts or self.rng.random() < 0.7 else self.rng.choice(self.side_facts)
        stand_in = self.world.literal(self.world.fresh("adj"), missing.args[0])
        return question, [f for f in facts if f != missing] + [stand_in]

    def _step(self, current: Literal) -> tuple[Rule, Literal]:
        """The rule concluding `current`, and its condition on the proof (one step down)."""
        w, rng = self.world, self.rng
        c = current.args[0]
        if w.style == "prontoqa":  # every wumpus is a tumpus
            below = w.literal(w.fresh("noun"), c)
            return Rule((_lift(below, c),), (_lift(current, c),)), below
        forms = {"variable": 4.0, "ground": 1.5}
        if w.style == "animals" and w.verbs and len(w.entities) > 1 and len(current.args) == 1:
            forms.update(relation=2.0, hop=2.5)
        form = rng.choices(list(forms), weights=list(forms.values()))[0]
        if form == "relation":  # if something chases the dog then it is red
            below = self._relation(c)
            if below is not None:
                return Rule((_lift(below, c),) + self._side(c, True), (_lift(current, c),)), below
        if form == "hop":  # if something chases the cat then the cat is red
            other = rng.choice([e for e in w.entities if e != c])
            below = self._relation(other, c)
            if below is not None:
                return Rule((_lift(below, other),), (current,)), below
        below = w.literal(w.fresh("adj"), c)
        if form == "ground":
            return Rule((below,) + self._side(c, False), (current,)), below
        return Rule((_lift(below, c),) + self._side(c, True), (_lift(current, c),)), below

    def _relation(self, subject: str, obj: str | None = None) -> Literal | None:
        """A relation literal of the subject whose (verb, object) the proof has not
        used (None: all used): no rule of the proof then matches it but its own."""
        w = self.world
        objects = [obj] if obj is not None else [e for e in w.entities if e != subject]
        free = [(v, o) for v in w.verbs for o in objects if (v, o) not in self.keys]
        if not free:
            return None
        verb, target = self.rng.choice(free)
        self.keys.add((verb, target))
        return w.literal(verb, subject, target)

    def _side(self, c: str, lifted: bool) -> tuple[Literal, ...]:
        """Sometimes a second condition: a fresh predicate, stated of the entity."""
        if self.rng.random() >= 0.3:
            return ()
        fact = self.world.literal(self.world.fresh("adj"), c)
        self.side_facts.append(fact)
        return (_lift(fact, c),) if lifted else (fact,)


def _sensible(rule: Rule) -> bool:
    """Not `if X then X` nor `if X then not X`, and no condition twice."""
    atoms = [(lit.predicate, lit.args) for lit in rule.body]
    return len(set(atoms)) == len(atoms) and not any((h.predicate, h.args) in atoms for h in rule.head)


def _lift(lit: Literal, c: str) -> Literal:
    """The literal with the entity `c` as the rule's variable."""
    return Literal(lit.positive, lit.predicate, tuple(VAR if a == c else a for a in lit.args))


class Distractors:
    """Facts and rules added to a theory while its answer, depth and classical
    reading stay as they are (see the module's docstring)."""

    def __init__(self, world: World, rng: random.Random, facts: list[Literal], rules: list[Rule],
                 question: Literal, target: str, depth: int):
        self.world, self.rng = world, rng
        self.facts, self.rules = list(facts), list(rules)
        self.question, self.target, self.depth = question, target, depth

    def add(self, facts: int, rules: int) -> None:
        wanted = ["fact"] * facts + ["rule"] * rules
        self.rng.shuffle(wanted)
        for what in wanted:
            for _ in range(TRIES):
                if what == "fact":
                    fact = self._fact()
                    if fact not in self.facts and self.keeps(self.facts + [fact], self.rules):
                        self.facts.append(fact)
                        break
                else:
                    rule = self._rule()
                    if rule is not None and _sensible(rule) and rule not in self.rules and self.keeps(self.facts, self.rules + [rule]):
                        self.rules.append(rule)
                        break

    def keeps(self, facts: list[Literal], rules: list[Rule]) -> bool:
        """Whether the theory keeps its answer and depth, and stays one on which
        forward chaining is complete."""
        chaining = Chaining.of(Theory(facts, rules, self.question))
        if chaining.contradiction() is not None or chaining.truth(self.question) != self.target:
            return False
        if self.target != UNKNOWN and chaining.proof_depth(self.question) != self.depth:
            return False
        labelled = {lit for r in rules for lit in r.body + r.head if lit.ground} | {self.question}
        for lit in sorted(labelled):
            if chaining.truth(lit) == UNKNOWN and not (chaining.consistent_with(lit) and chaining.consistent_with(lit.negated())):
                return False
        return True

    def _sign(self, predicate: str) -> bool:
        """Mostly the predicate's own sign; sometimes the other (a fact or conclusion
        the statement's negation may hang on)."""
        own = self.world.positive[predicate]
        return own if self.rng.random() < 0.8 else not own

    def _fact(self) -> Literal:
        w, rng = self.world, self.rng
        c = rng.choice(w.entities)
        if w.verbs and len(w.entities) > 1 and rng.random() < 0.4:
            verb = rng.choice(w.verbs)
            return Literal(self._sign(verb), verb, (c, rng.choice([e for e in w.entities if e != c])))
        predicate = rng.choice(w.unary())
        return Literal(self._sign(predicate), predicate, (c,))

    def _rule(self) -> Rule | None:
        w, rng = self.world, self.rng
        unary = w.unary()
        if w.style == "prontoqa":
            nouns = [p for p in unary if w.parts[p][0] == "noun"]
            if not nouns:
                return None
            body, head = rng.choice(nouns), rng.choice(unary)
            return Rule((w.literal(body, VAR),), (Literal(self._sign(head), head, (VAR,)),))
        if rng.random() < 0.15:  # a ground rule
            c, e = rng.choice(w.entities), rng.choice(w.entities)
            body = w.literal(rng.choice(unary), c)
            head_predicate = rng.choice(unary)
            return Rule((body,), (Literal(self._sign(head_predicate), head_predicate, (e,)),))
        body = [self._condition()]
        if rng.random() < 0.35:
            body.append(self._condition(second=True))
        return Rule(tuple(body), (self._conclusion(),))

    def _condition(self, second: bool = False) -> Literal:
        w, rng = self.world, self.rng
        if w.verbs and len(w.entities) > 0 and rng.random() < 0.3:
            verb, e = rng.choice(w.verbs), rng.choice(w.entities)
            return w.literal(verb, e, VAR) if second and rng.random() < 0.3 else w.literal(verb, VAR, e)
        return w.literal(rng.choice(w.unary()), VAR)

    def _conclusion(self) -> Literal:
        w, rng = self.world, self.rng
        if w.verbs and rng.random() < 0.25:
            verb = rng.choice(w.verbs)
            return Literal(self._sign(verb), verb, (VAR, rng.choice(w.entities)))
        predicate = rng.choice(w.unary())
        if w.style == "animals" and rng.random() < 0.15:  # about an entity: if something chases the cat then the cat is red
            return Literal(self._sign(predicate), predicate, (rng.choice(w.entities),))
        return Literal(self._sign(predicate), predicate, (VAR,))
