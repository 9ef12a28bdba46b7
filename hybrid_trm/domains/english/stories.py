"""Seeded discourses for the `antecedent` task (docs/english.md, "The generator"):
one reference whose antecedent lies a chosen number of sentences back, behind
distractors, built in that order, so that nothing is drawn and thrown away.

  A farmer owns a donkey.          distractor: agrees with `he`; recency rules it out
  A man meets Anne.                the antecedent (distance 2 from `he`)
  Anne does not see a boy.         filler: Anne is not `he`; a boy under `not`, a
                                   distractor that accessibility rules out
  He is old.                       the reference

The reference is one of he, she, it, they, `the NOUN`, `the former`, `the latter`.
Between it and its antecedent stand only noun phrases it does not agree with (the
fillers) and distractors it cannot reach; distractors it could reach stand before
the antecedent. Fillers are named again by name or `the NOUN` (a definite
description the labeller labels too); every referent has its own noun, but a
`the NOUN` reference and its distractors, which share it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ...errors import HybridTRMError
from .lexicon import third_person
from .vocabulary import (
    DISCOURSE_ADJECTIVES, DISCOURSE_MEN, DISCOURSE_VERBS, DISCOURSE_WOMEN, FEMALE_NOUNS, MALE_NOUNS,
    PERSON_NOUNS, THINGS,
)

ANAPHORS = ("he", "she", "it", "they", "the", "former", "latter")
AGREES = {"he": ("m", "mf"), "she": ("f", "mf"), "it": ("n",), "they": ("p",)}
OBJECT_FORM = {"he": "him", "she": "her", "it": "it", "they": "them"}


@dataclass(eq=False)
class Referent:
    gender: str  # m, f, mf, n, p (agreement.py)
    name: str | None = None
    noun: str | None = None
    adjective: str | None = None  # an indefinite's: an old farmer
    members: list["Referent"] = field(default_factory=list)  # a coordination's
    introduced: bool = False


@dataclass
class Story:
    """Sentences as they are written, with the spans of the marked mentions."""

    text: str = ""
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    count: int = 0

    def add(self, pieces: list[tuple[str, str | None]]) -> None:
        """One sentence: (words, mark) pieces, the first capitalised, a full stop after."""
        if self.text:
            self.text += " "
        for i, (words, mark) in enumerate(pieces):
            if i:
                self.text += " "
            if i == 0:
                words = words[:1].upper() + words[1:]
            if mark is not None:
                self.spans[mark] = (len(self.text), len(self.text) + len(words))
            self.text += words
        self.text += "."
        self.count += 1


class Cast:
    """The referents of one discourse, each drawn fresh (its own name or noun)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.decks = {
            "m": rng.sample(DISCOURSE_MEN, len(DISCOURSE_MEN)), "f": rng.sample(DISCOURSE_WOMEN, len(DISCOURSE_WOMEN)),
            "m_noun": rng.sample(MALE_NOUNS, len(MALE_NOUNS)), "f_noun": rng.sample(FEMALE_NOUNS, len(FEMALE_NOUNS)),
            "mf_noun": rng.sample(PERSON_NOUNS, len(PERSON_NOUNS)), "n_noun": rng.sample(THINGS, len(THINGS)),
            "adj": rng.sample(DISCOURSE_ADJECTIVES, len(DISCOURSE_ADJECTIVES)),
            "verb": rng.sample(DISCOURSE_VERBS, len(DISCOURSE_VERBS)),
        }

    def draw(self, deck: str) -> str:
        if not self.decks[deck]:
            raise HybridTRMError("english: a discourse this long needs more words than vocabulary.py has; lower distance or distractors")
        return self.decks[deck].pop()

    def word(self, deck: str) -> str:
        """A word that may come again (adjectives and verbs)."""
        return self.rng.choice(self.decks[deck])

    def one(self, genders: tuple[str, ...], named: bool = True, noun: str | None = None) -> Referent:
        """A singular referent of one of `genders`: a name (m, f) or a noun."""
        gender = self.rng.choice(genders)
        if noun is not None:
            return Referent(gender, noun=noun, adjective=self._adjective())
        if named and gender in ("m", "f") and self.rng.random() < 0.5:
            return Referent(gender, name=self.draw(gender))
        return Referent(gender, noun=self.draw(f"{gender}_noun"), adjective=self._adjective())

    def group(self) -> Referent:
        members = [self.one(("m", "f", "mf", "n")) for _ in range(self.rng.choice((2, 2, 3)))]
        for m in members:
            m.adjective = None  # a coordination's members are one word each (grammars/english.lark)
        return Referent("p", members=members)

    def _adjective(self) -> str | None:
        return self.word("adj") if self.rng.random() < 0.25 else None

    def mention(self, r: Referent, first_word: bool = False) -> str:
        """How the referent is named: a name; `a NOUN` the first time, `the NOUN` after."""
        if r.members:
            text = " and ".join(self.mention(m) for m in r.members)
        elif r.name is not None:
            text = r.name
        elif r.introduced:
            text = f"the {r.noun}"
        else:
            words = " ".join(filter(None, (r.adjective, r.noun)))
            text = f"{'an' if words[0] in 'aeiou' else 'a'} {words}"
        r.introduced = True
        return text


def check_knobs(d) -> list[str]:
    """The kinds of reference the knobs allow (HybridTRMError: knobs that allow none)."""
    kinds = [k.strip() for k in d.anaphors.split(",") if k.strip()]
    if not kinds or not set(kinds) <= set(ANAPHORS):
        raise HybridTRMError(f"english: anaphors={d.anaphors!r}: a comma-separated list of {', '.join(ANAPHORS)}")
    if not (0 <= d.distance_min <= d.distance and d.distractors >= 0):
        raise HybridTRMError(f"english: distance {d.distance_min}..{d.distance}, distractors {d.distractors}: out of range")
    if d.distance == 0:
        kinds = [k for k in kinds if k not in ("former", "latter")]
        if not kinds:
            raise HybridTRMError("english: `the former` / `the latter` refer to an earlier sentence: distance >= 1")
    return kinds


def discourse(rng: random.Random, d) -> tuple[str, dict, dict[str, tuple[int, int]]]:
    """(text, meta, the spans of the reference and of its antecedent)."""
    reference = rng.choice(check_knobs(d))
    low = max(d.distance_min, 1 if reference in ("former", "latter") else 0)
    distance = rng.randint(low, max(low, d.distance))
    distractors = rng.randint(0, d.distractors)
    between = max(0, distance - 1)
    hidden = 0 if reference == "they" else rng.randint(0, min(distractors, between))  # under `not`, between
    writer = Writer(rng, Cast(rng), reference)
    story = Story()
    before = [writer.distractor() for _ in range(distractors - hidden)]
    if rng.random() < 0.3:
        before.insert(rng.randint(0, len(before)), writer.filler_sentence())
    for pieces in before:
        story.add(pieces)
    antecedent = writer.antecedent_sentence()
    if distance == 0:
        story.add(antecedent + [("and", None)] + writer.reference_clause())
    else:
        story.add(antecedent)
        negated = set(rng.sample(range(between), hidden))
        for i in range(between):
            story.add(writer.negated_distractor() if i in negated else writer.filler_sentence())
        story.add(writer.reference_clause())
    meta = {
        "style": "discourse", "anaphor": reference, "distance": distance, "distractors": distractors,
        "sentences": story.count,
    }
    return story.text, meta, story.spans


class Writer:
    """The sentences of one discourse about one reference (see the module's docstring)."""

    def __init__(self, rng: random.Random, cast: Cast, reference: str):
        self.rng, self.cast, self.reference = rng, cast, reference
        self.fillers: list[Referent] = []
        self.target = self._target()

    def _target(self) -> Referent:
        c, kind = self.cast, self.reference
        if kind == "they":
            return c.group()
        if kind in AGREES:
            return c.one(AGREES[kind])
        if kind == "the":
            return c.one(("m", "f", "mf", "n"), named=False)
        return c.one(("m", "f", "mf", "n"))  # former, latter: whatever the sentence holds

    def _agrees(self, r: Referent) -> bool:
        if self.reference in AGREES:
            return r.gender in AGREES[self.reference]
        return self.reference == "the" and r.noun == self.target.noun

    def filler(self, fresh: bool = False, besides: Referent | None = None) -> Referent:
        """A referent the reference does not agree with: one named before (not
        `besides`), or a new one."""
        named = [f for f in self.fillers if f is not besides]
        if named and not fresh and self.rng.random() < 0.5:
            return self.rng.choice(named)
        genders = [g for g in ("m", "f", "mf", "n") if self.reference not in AGREES or g not in AGREES[self.reference]]
        made = self.cast.one(tuple(genders))
        self.fillers.append(made)
        return made

    def clause(self, subject: Referent, obj: Referent | None, marks: dict | None = None) -> list[tuple[str, str | None]]:
        """`SUBJECT is ADJ` or `SUBJECT VERBs OBJECT` (plural: are, the base form)."""
        marks = marks or {}
        plural = bool(subject.members)
        out = [(self.cast.mention(subject), marks.get(id(subject)))]
        if obj is None:
            return out + [(f"{'are' if plural else 'is'} {self.cast.word('adj')}", None)]
        verb = self.cast.word("verb")
        return out + [(verb if plural else third_person(verb), None), (self.cast.mention(obj), marks.get(id(obj)))]

    def distractor(self) -> list[tuple[str, str | None]]:
        """A sentence, before the antecedent, naming a referent the reference agrees with
        (for `the former` / `the latter`: a sentence of two referents)."""
        c, kind = self.cast, self.reference
        if kind in ("former", "latter"):
            return self.clause(self.filler(fresh=True), self.filler(fresh=True))
        if kind == "they":
            other = c.group()
        elif kind == "the":
            other = Referent(self.target.gender, noun=self.target.noun, adjective=c.word("adj"))
        else:
            other = c.one(AGREES[kind])
        if kind == "they" or self.rng.random() < 0.5:  # a coordination is a subject (grammars/english.lark)
            return self.clause(other, self.filler() if self.rng.random() < 0.6 else None)
        return self.clause(self.filler(), other)

    def negated_distractor(self) -> list[tuple[str, str | None]]:
        """`FILLER does not VERB a NOUN`: a noun the reference agrees with (any, for
        `the former` / `the latter`), under `not`, so out of its reach."""
        kind = self.reference
        if kind == "the":
            hidden = Referent(self.target.gender, noun=self.target.noun)
        else:
            hidden = self.cast.one(AGREES.get(kind, ("m", "f", "mf", "n")), named=False)
            hidden.adjective = None
        subject = self.filler()
        return [(self.cast.mention(subject), None), (f"does not {self.cast.word('verb')}", None), (self.cast.mention(hidden), None)]

    def filler_sentence(self) -> list[tuple[str, str | None]]:
        """A sentence of fillers alone (one referent, for `the former` / `the latter`)."""
        if self.reference in ("former", "latter") or self.rng.random() < 0.4:
            return self.clause(self.filler(), None)
        subject = self.filler()
        return self.clause(subject, self.filler(besides=subject))

    def antecedent_sentence(self) -> list[tuple[str, str | None]]:
        """The sentence that names the reference's antecedent (marked `antecedent`)."""
        t, marks = self.target, {id(self.target): "antecedent"}
        if self.reference in ("former", "latter"):
            other = self.filler(fresh=True)
            pair = (t, other) if self.reference == "former" else (other, t)
            return self.clause(*pair, marks=marks)
        roll = self.rng.random()
        if roll < 0.4:
            return self.clause(t, self.filler(), marks)
        if roll < 0.7 and not t.members:  # a coordination is a subject
            return self.clause(self.filler(), t, marks)
        return self.clause(t, None, marks)

    def reference_clause(self) -> list[tuple[str, str | None]]:
        """The clause of the reference (marked `anaphor`): its subject, or the object of a
        filler's verb."""
        kind, c = self.reference, self.cast
        plural = kind == "they"
        if kind in ("former", "latter", "the"):
            words = f"the {kind}" if kind != "the" else f"the {self.target.noun}"
            as_object = kind == "the" and self.rng.random() < 0.4
        else:
            words = kind
            as_object = self.rng.random() < 0.4
        if as_object:
            words = OBJECT_FORM.get(words, words)
            verb = c.word("verb")
            return [(c.mention(self.filler()), None), (third_person(verb), None), (words, "anaphor")]
        if self.rng.random() < 0.5:
            return [(words, "anaphor"), (f"{'are' if plural else 'is'} {c.word('adj')}", None)]
        verb = c.word("verb")
        return [(words, "anaphor"), (verb if plural else third_person(verb), None), (c.mention(self.filler()), None)]
