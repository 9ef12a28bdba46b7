"""The english domain's discourse (docs/english.md, "Resolving references"): each
construction's parse and translation, each rule of reference resolution, the
labeller's references agreeing with the verifier's resolver on generated and
random discourses, the discourse knobs, and `solve` showing the references."""

from __future__ import annotations

import collections
import json
import random
import re

import lark
import pytest

from hybrid_trm.domains import contract
from hybrid_trm.domains.english import EnglishDomain, lexicon, vocabulary
from hybrid_trm.errors import HybridTRMError, ParseError
from hybrid_trm.grammar import kind, load_grammar, postorder

DOMAIN = EnglishDomain()

STORY = DOMAIN.difficulty()
FAR = DOMAIN.difficulty(distance=10, distance_min=3, distractors=6)

DISCOURSES = [
    ("A farmer owns a donkey. The farmer is old.",
     "exists x1. exists x2. ((Farmer(x1) & Donkey(x2) & Own(x1, x2)) & (Old(x1)))"),
    ("A farmer owns a donkey. He beats it.",
     "exists x1. exists x2. ((Farmer(x1) & Donkey(x2) & Own(x1, x2)) & (Beat(x1, x2)))"),
    ("Anne meets Bob. She likes him.", "(Meet(anne, bob)) & (Like(anne, bob))"),
    ("An old man who owns a donkey is happy.", "exists x1. exists x2. (Old(x1) & Man(x1) & Donkey(x2) & Own(x1, x2) & Happy(x1))"),
    ("Bob likes a man who does not own a donkey.",
     "exists x1. (Man(x1) & ~exists x2. (Donkey(x2) & Own(x1, x2)) & Like(bob, x1))"),
    ("Bob does not own a donkey.", "~exists x1. (Donkey(x1) & Own(bob, x1))"),
    ("Bob and a farmer own a cat. They are happy.",
     "exists x1. exists x2. ((Farmer(x1) & Cat(x2) & Own(bob, x2) & Own(x1, x2)) & (Happy(bob) & Happy(x1)))"),
    ("Bob and Anne are cats and do not like the dog.", "Cat(bob) & Cat(anne) & ~Like(bob, dog) & ~Like(anne, dog)"),
    ("A king meets a queen. The former is old and the latter is young.",
     "exists x1. exists x2. ((King(x1) & Queen(x2) & Meet(x1, x2)) & (Old(x1) & Young(x2)))"),
    ("The dog is big and red.", "Big(dog) & Red(dog)"),
    ("A cat is big. If something likes the cat then it is red.",  # `the cat` in a rule: the discourse's cat
     "exists x1. ((Cat(x1) & Big(x1)) & (forall x. (Like(x, x1) -> Red(x))))"),
]


@pytest.mark.parametrize("text,formula", DISCOURSES, ids=[t for t, _ in DISCOURSES])
def test_each_discourse_construction_parses_and_translates(text, formula):
    tree = DOMAIN.parse(text)
    assert {kind(n) for n in postorder(tree)} <= set(DOMAIN.node_kinds)
    assert DOMAIN.symbolic_answer(tree, "antecedent") == formula
    verdict = DOMAIN.verify(text, formula, "antecedent")
    assert verdict.correct is True and verdict.expected == formula, verdict
    from hybrid_trm.domains.logic import LogicDomain

    LogicDomain().parse(formula)  # the logic grammar reads it


def _references(text: str) -> list[tuple[str, str | None]]:
    tree = DOMAIN.parse(text)
    labels = DOMAIN.label_subtrees(tree, "antecedent")
    shown = [(str(n) if isinstance(n, lark.Token) else "the " + " ".join(map(str, n.children)), label)
             for n, label in zip(postorder(tree), labels) if label is not None]
    return shown


@pytest.mark.parametrize(
    "text,references",
    [
        # recency: the nearest noun phrase that agrees; counted back in noun phrases
        ("A farmer owns a donkey. Bob is old. He beats it.", [("He", "1"), ("it", "3")]),
        # agreement: gender (names from the lexicon, nouns of persons), number
        ("Bob meets Anne. A cat sees her. She is old.", [("her", "2"), ("She", "1")]),
        ("Bob and Anne meet a cat. It sees them. They are old.", [("It", "1"), ("them", "5"), ("They", "1")]),
        # accessibility: an indefinite under `not` is out of reach
        ("A dog is old. Bob does not own a cat. It is grey.", [("It", "3")]),
        # binding: an object pronoun is not its clause's subject
        ("Bob meets a man. The man likes him.", [("the man", "1"), ("him", "3")]),
        # descriptions: an indefinite's words, the noun last; a name-like `the ...` word for word
        ("An old farmer meets a young farmer. The old farmer is happy.", [("the old farmer", "2")]),
        ("The polar bear is big. The bear is old. The polar bear is cold.",
         [("the polar bear", "new"), ("the bear", "new"), ("the polar bear", "2")]),
        # the former / the latter: the nearest earlier sentence naming two things
        ("A man meets a dog. Anne is old. The former is happy. The latter is tired.",
         [("former", "3"), ("latter", "3")]),
        # a rule's pronouns are its variable's
        ("If someone is big then they are kind.", [("they", "1")]),
    ],
)
def test_each_resolution_rule(text, references):
    assert _references(text) == references


@pytest.mark.parametrize(
    "text,column,found,expected",
    [
        ("Anne is old. He is tall.", 14, "'He'", "masculine"),  # gender
        ("A cat is old. They are tall.", 15, "'They'", "plural"),  # number
        ("Bob does not own a cat. It is old.", 25, "'It'", "not under `not`"),  # accessibility
        ("Bob owns a cat. Bob likes him.", 27, "'him'", "not its clause's subject"),  # binding
        ("Bob is old. The former is tall.", 17, "'former'", "two things"),
        ("Bob and Anne is old.", 14, "'is'", "'are'"),  # a plural subject takes `are`
        ("He are old.", 4, "'are'", "'is'"),
        ("If something is big then he is red.", 26, "'he'", "'it'"),  # a rule's pronouns are it, they, them
        ("A man who owns a donkey and is old is happy.", 25, "'and'", "'is'"),  # a relative clause is one clause
    ],
)
def test_an_agreement_error_is_a_parse_error_at_the_reference(text, column, found, expected):
    with pytest.raises(ParseError) as err:
        DOMAIN.parse(text)
    assert (err.value.line, err.value.column, err.value.found) == (1, column, found), str(err.value)
    assert any(expected in e for e in err.value.expected), err.value.expected


def test_the_labeller_and_the_resolver_agree_on_generated_discourses():
    """The labeller's one pass (discourse.py) vs the verifier's search back
    (english_references.py): the same antecedent for every reference of 400
    discourses, near and far."""
    from hybrid_trm.domains.english import discourse
    from hybrid_trm.verifiers.english_references import resolve

    references, kinds = 0, collections.Counter()
    for difficulty, n in ((STORY, 250), (FAR, 150)):
        for i in range(n):
            ex = DOMAIN.example(31, i, difficulty, "antecedent")
            tree = DOMAIN.parse(ex.input)
            ours, theirs = discourse.read(tree), resolve(tree)
            assert ours.back == theirs.back and ours.new == theirs.new, ex.input
            assert {k: id(v) for k, v in ours.antecedents.items()} == {k: id(v) for k, v in theirs.antecedents.items()}
            references += len(ours.back) + len(ours.new)
            kinds[ex.meta["anaphor"]] += 1
    assert references > 1000 and set(kinds) == {"he", "she", "it", "they", "the", "former", "latter"}, (references, kinds)


def _random_discourse(rng) -> str:
    """Sentences drawn from a few noun phrases of every kind, most of which some
    reference in them cannot resolve."""
    subjects = ["Bob", "Anne", "Alex", "a farmer", "a man", "an old donkey", "the donkey", "the old farmer", "the cat",
                "a man who owns a donkey", "a cat which does not like Anne", "he", "she", "it", "the former", "the latter"]
    objects = ["Bob", "a donkey", "the donkey", "the farmer", "him", "her", "it", "them", "the latter", "a dog that sees it"]
    sentences = []
    for _ in range(rng.randint(1, 5)):
        if rng.random() < 0.1:
            sentences.append(f"If something likes {rng.choice(['the cat', 'the donkey', 'Bob'])} then it is red")
            continue
        plural = rng.random() < 0.2
        who = rng.choice(["Bob and a farmer", "the cat and Anne", "they"]) if plural else rng.choice(subjects)
        verb = rng.choice([("is old", "are old"), ("owns", "own"), ("does not like", "do not like")])[plural]
        clause = f"{who} {verb}" + ("" if verb.endswith("old") else f" {rng.choice(objects)}")
        if rng.random() < 0.3:
            clause += f" and {rng.choice(['is happy', 'likes ' + rng.choice(objects)])}"
        sentences.append(clause[:1].upper() + clause[1:])
    return ". ".join(sentences) + "."


def test_the_labeller_and_the_resolver_agree_on_random_discourses_and_on_what_they_refuse():
    from hybrid_trm.domains.english import discourse, roles
    from hybrid_trm.grammar import parse
    from hybrid_trm.verifiers.english_references import resolve

    outcomes = collections.Counter()
    for i in range(600):
        text = _random_discourse(random.Random(i))
        tree = roles.resolve(parse("english", text, "english"))
        roles.check(tree, text)
        try:
            ours = discourse.read(tree)
        except discourse.Unresolved:
            ours = None
        try:
            theirs = resolve(tree)
        except HybridTRMError:
            theirs = None
        assert (ours is None) == (theirs is None), text
        outcomes["refused" if ours is None else "resolved"] += 1
        if ours is not None:
            assert ours.back == theirs.back and ours.new == theirs.new, text
            assert {k: id(v) for k, v in ours.antecedents.items()} == {k: id(v) for k, v in theirs.antecedents.items()}
    assert min(outcomes.values()) > 150, outcomes


@pytest.mark.parametrize("knobs", [{}, {"distance": 10, "distance_min": 3, "distractors": 6}], ids=["near", "far"])
def test_generated_discourses_keep_the_contract(knobs):
    failed = [f"{c.name}: {c.failure}" for c in contract.check(DOMAIN, "antecedent", knobs, n=30) if not c.passed]
    assert not failed, failed


def test_the_distance_and_distractor_knobs():
    for difficulty, low, high in ((STORY, 0, 2), (FAR, 3, 10)):
        seen = set()
        for i in range(60):
            ex = DOMAIN.example(5, i, difficulty, "antecedent")
            tree = DOMAIN.parse(ex.input)
            labelled = [n for n, label in zip(postorder(tree), DOMAIN.label_subtrees(tree, "antecedent")) if label == str(ex.meta["back"])]
            assert labelled and low <= ex.meta["distance"] <= high and 0 <= ex.meta["distractors"] <= difficulty.distractors
            seen.add(ex.meta["distance"])
        assert seen == set(range(low, high + 1)), seen
    only = DOMAIN.difficulty(anaphors="former", distance=0)
    with pytest.raises(HybridTRMError, match="distance >= 1"):
        DOMAIN.example(1, 0, only, "antecedent")
    with pytest.raises(HybridTRMError, match="style=discourse"):
        DOMAIN.example(1, 0, DOMAIN.difficulty(style="discourse"), "truth")
    logic = DOMAIN.example(1, 0, DOMAIN.difficulty(style="discourse"), "logic")
    assert logic.answer == DOMAIN.example(1, 0, DOMAIN.difficulty(style="discourse"), "antecedent").answer


def test_the_translation_means_what_the_discourse_says():
    """Checked by the logic domain's prover: what follows and what does not."""
    from hybrid_trm.domains.logic import LogicDomain
    from hybrid_trm.verifiers.logic import entails

    logic = LogicDomain()
    text = "A farmer owns a donkey. Bob does not own a cat. Anne meets him. He beats it."  # he: Bob; it: the donkey
    said = DOMAIN.symbolic_answer(DOMAIN.parse(text), "logic")
    for claim, verdict in [
        ("exists b. (Donkey(b) & Beat(bob, b))", "yes"),
        ("forall c. (Cat(c) -> ~Own(bob, c))", "yes"),
        ("Meet(anne, bob)", "yes"),
        ("exists a. exists b. (Farmer(a) & Beat(a, b))", "no"),
        ("Beat(bob, bob)", "no"),
    ]:
        assert entails(logic.parse(f"{said} |= {claim}"), 10.0)[0] == verdict, claim


def test_a_wrong_reference_is_rejected_with_the_references_shown():
    text = "A farmer owns a donkey. He beats it."
    wrong = "exists x1. exists x2. ((Farmer(x1) & Donkey(x2) & Own(x1, x2)) & (Beat(x1, x1)))"  # `it`: the farmer
    verdict = DOMAIN.verify(text, wrong, "antecedent")
    assert verdict.correct is False and "not equivalent" in verdict.evidence
    assert "'it' (sentence 2) → 'a donkey' (sentence 1, 2 back)" in verdict.evidence
    assert DOMAIN.task("antecedent").encode("3") == [3] and DOMAIN.task("antecedent").encode("new") == [0]
    with pytest.raises(HybridTRMError, match="not a reference's label"):
        DOMAIN.task("antecedent").encode(wrong)
    with pytest.raises(HybridTRMError, match="discourse"):
        DOMAIN.label_subtrees(DOMAIN.parse(text + " Q: Bob is old."), "truth")


def test_solve_shows_the_references_and_the_translation(cli):
    text = "A farmer owns a donkey. He beats it."
    result = cli("solve", "--domain", "english", "--task", "antecedent", text)
    assert result.exit_code == 0, result.output
    answer, summary, verifier = result.output.splitlines()
    assert answer == DISCOURSES[1][1] and "english/antecedent  confidence 1.000  verified ✓" in summary
    assert verifier.startswith("  verifier: references: 'He' (sentence 2) → 'a farmer' (sentence 1, 2 back); 'it'")
    shown = json.loads(cli("solve", "--domain", "english", "--task", "antecedent", text, "--json").output)
    assert "answered_by" not in shown and shown["verified"] is True  # the logic model picked each antecedent
    # the translation task has no model: the labeller answers it, and says so
    logic = json.loads(cli("solve", "--domain", "english", "--task", "logic", text, "--json").output)
    assert logic["answered_by"] == "labeller" and logic["confidence"] is None and logic["verified"] is True


def test_the_discourse_words_read_back_with_their_genders():
    from hybrid_trm.domains.english import agreement

    grammar = load_grammar("english")
    word = grammar.get_terminal("LOWER").pattern.to_regexp()
    assert all(agreement.name_gender(n) == "m" for n in vocabulary.DISCOURSE_MEN)
    assert all(agreement.name_gender(n) == "f" for n in vocabulary.DISCOURSE_WOMEN)
    for nouns, gender in ((vocabulary.MALE_NOUNS, "m"), (vocabulary.FEMALE_NOUNS, "f"),
                          (vocabulary.PERSON_NOUNS, "mf"), (vocabulary.THINGS, "n")):
        assert all(agreement.noun_gender(n) == gender and re.fullmatch(word, n) for n in nouns), gender
    for verb in vocabulary.DISCOURSE_VERBS:
        assert lexicon.lemma(lexicon.third_person(verb)) == verb
    words = [*vocabulary.MALE_NOUNS, *vocabulary.FEMALE_NOUNS, *vocabulary.PERSON_NOUNS, *vocabulary.THINGS,
             *vocabulary.DISCOURSE_ADJECTIVES, *vocabulary.DISCOURSE_VERBS]
    assert len(words) == len(set(words))  # a word is one predicate of one arity


def test_the_fast_parser_builds_lark_trees_of_discourses():
    from hybrid_trm.fast_lalr import fast_parser

    parser = load_grammar("english")
    fast = fast_parser(parser)
    for text in [t for t, _ in DISCOURSES] + [DOMAIN.example(8, i, STORY, "antecedent").input for i in range(50)]:
        assert fast.parse(text) == parser.parse(text), text
