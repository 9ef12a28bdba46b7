"""Facts and rules (reading.Literal, reading.Rule) written as the sentences that
read back to them, in the templates of RuleTaker / ProofWriter and PrOntoQA:

  facts      The cat is big.  Bob is not young.  Max is a wumpus.
             The bear chases the lion.  The bear does not chase the lion.
  rules      If someone is young then they are rough.
             If something is big and it chases the cat then the cat is red.
             If the cat is big and red then the cat is kind.
  generic    All big, red things are kind.  Young people are big.
             Every wumpus is an impus.  Each impus is not cold.  Wumpuses are tumpuses.

A Writer knows each predicate's part of speech and word, and each constant's name;
which template a rule gets is drawn from those that can write it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .lexicon import plural, third_person
from .reading import VAR, Literal, Rule


@dataclass
class Writer:
    parts: dict[str, tuple[str, str]]  # predicate -> (adj | noun | verb, its word: big, wumpus, chase)
    names: dict[str, str]  # constant -> how it is written: Bob, the bald eagle

    def fact(self, lit: Literal) -> str:
        return _sentence(self._clause(lit, self.names[lit.args[0]], plural=False))

    def rule(self, rule: Rule, rng: random.Random) -> str:
        forms = [self._conditional]
        if self._generic_shape(rule):
            forms += [self._all, self._bare]
            if sum(self.parts[lit.predicate][0] == "noun" for lit in rule.body) == 1:
                forms += [self._every] * 2
        return rng.choice(forms)(rule, rng)

    # --- If ... then ...

    def _conditional(self, rule: Rule, rng: random.Random) -> str:
        variable = rng.choice(("something", "someone"))
        if any(self.parts[lit.predicate][0] == "noun" and VAR in lit.args for lit in rule.body + rule.head):
            variable = "something"  # `they` takes no noun: they are a cat
        number = variable == "someone"  # plural pronouns for someone: they, them
        body = sorted(rule.body, key=lambda lit: lit.args[0] != VAR) if not rule.ground else list(rule.body)
        conditions = self._conjuncts(body, rng, number, first_variable=None if rule.ground else variable)
        conclusions = self._conjuncts(list(rule.head), rng, number, first_variable=None)
        return _sentence(f"If {conditions} then {conclusions}")

    def _conjuncts(self, lits: list[Literal], rng: random.Random, number: bool, first_variable: str | None) -> str:
        out, previous, was_plural, was_be = [], None, False, False
        for i, lit in enumerate(lits):
            who = lit.args[0]
            if i == 0 and first_variable is not None:
                out.append(self._clause(lit, first_variable, plural=False, number=number))
                was_plural = False
            elif who == previous and rng.random() < 0.5:
                out.append(self._elided(lit, number, was_plural, was_be))
            else:
                pronoun = "they" if number else "it"
                subject = pronoun if who == VAR else self.names[who]
                was_plural = who == VAR and number
                out.append(self._clause(lit, subject, plural=was_plural, number=number))
            previous, was_be = who, self.parts[lit.predicate][0] != "verb"
        return " and ".join(out)

    def _clause(self, lit: Literal, subject: str, plural: bool, number: bool = False) -> str:
        part, word = self.parts[lit.predicate]
        if part == "verb":
            obj = self._object(lit.args[1], number)
            if plural:
                return f"{subject} {word} {obj}" if lit.positive else f"{subject} do not {word} {obj}"
            return f"{subject} {third_person(word)} {obj}" if lit.positive else f"{subject} does not {word} {obj}"
        be = "are" if plural else "is"
        noun = f"{_article(word)} {word}" if part == "noun" else word
        return f"{subject} {be} {noun}" if lit.positive else f"{subject} {be} not {noun}"

    def _elided(self, lit: Literal, number: bool, plural: bool, after_be: bool) -> str:
        """A conjunct without its subject, in the number of the clause before: `and
        red` after `is big`, `and is red` after a verb."""
        part, word = self.parts[lit.predicate]
        neg = "" if lit.positive else "not "
        if part == "verb":
            obj = self._object(lit.args[1], number)
            if plural:
                return f"{word} {obj}" if lit.positive else f"do not {word} {obj}"
            return f"{third_person(word)} {obj}" if lit.positive else f"does not {word} {obj}"
        if part == "noun":
            return f"is {neg}{_article(word)} {word}"
        return f"{neg}{word}" if after_be else f"{'are' if plural else 'is'} {neg}{word}"

    def _object(self, who: str, number: bool) -> str:
        if who == VAR:
            return "them" if number else "it"
        return self.names[who]

    # --- Generic sentences

    def _generic_shape(self, rule: Rule) -> bool:
        """Conditions that are a class (positive adjectives, at most one noun, about
        the variable) and conclusions that are properties of it."""
        if not rule.body or not all(lit.args == (VAR,) for lit in rule.body + rule.head):
            return False
        if not all(lit.positive and self.parts[lit.predicate][0] != "verb" for lit in rule.body):
            return False
        nouns = [lit for lit in rule.body if self.parts[lit.predicate][0] == "noun"]
        return len(nouns) <= 1 and all(self.parts[lit.predicate][0] != "verb" for lit in rule.head)

    def _class(self, rule: Rule, rng: random.Random) -> tuple[list[str], str | None]:
        adjectives = [self.parts[lit.predicate][1] for lit in rule.body if self.parts[lit.predicate][0] == "adj"]
        nouns = [self.parts[lit.predicate][1] for lit in rule.body if self.parts[lit.predicate][0] == "noun"]
        return adjectives, (nouns[0] if nouns else None)

    def _properties(self, rule: Rule, singular: bool) -> str:
        out = []
        for lit in rule.head:
            part, word = self.parts[lit.predicate]
            if part == "noun":
                word = f"{_article(word)} {word}" if singular else plural(word)
            out.append(word if lit.positive else f"not {word}")
        return " and ".join(out)

    def _all(self, rule: Rule, rng: random.Random) -> str:
        return _sentence(f"All {self._described(rule, rng)} are {self._properties(rule, singular=False)}")

    def _bare(self, rule: Rule, rng: random.Random) -> str:
        adjectives, noun = self._class(rule, rng)
        if not adjectives and noun is None:  # `Things are big` would read `Things` as a noun
            return self._all(rule, rng)
        words = self._described(rule, rng)
        return _sentence(f"{words[:1].upper()}{words[1:]} are {self._properties(rule, singular=False)}")

    def _described(self, rule: Rule, rng: random.Random) -> str:
        """big, red things / big red cats / wumpuses."""
        adjectives, noun = self._class(rule, rng)
        head = plural(noun) if noun else rng.choice(("things", "people"))
        return " ".join(filter(None, (rng.choice((", ", " ")).join(adjectives), head)))

    def _every(self, rule: Rule, rng: random.Random) -> str:
        adjectives, noun = self._class(rule, rng)
        return _sentence(f"{rng.choice(('Every', 'Each'))} {' '.join(adjectives + [noun])} is {self._properties(rule, singular=True)}")


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
