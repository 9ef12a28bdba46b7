"""The english domain (docs/english.md): the contract on generated theories, the
labeller's forward chaining agreeing with the verifier's translation + z3 on
generated theories of every depth, the depth knob, the grammar's template classes
and their translations, refusals with their positions, the words the generator
writes reading back as the grammar and lexicon say. Discourse and references:
tests/test_english_discourse.py."""

from __future__ import annotations

import collections
import re
from pathlib import Path

import lark
import pytest

from hybrid_trm.domains import contract
from hybrid_trm.domains.english import EnglishDomain, lexicon, translate, vocabulary
from hybrid_trm.domains.english.labels import proof_depths
from hybrid_trm.errors import HybridTRMError, ParseError
from hybrid_trm.grammar import kind, load_grammar, postorder

DOMAIN = EnglishDomain()
GRAMMAR = Path(__file__).resolve().parent.parent / "grammars" / "english.lark"
BIGGER = {"depth": 6, "entities": 5, "rules": 8, "facts": 8, "relations": 3, "negation": 0.5}


@pytest.mark.parametrize("knobs", [{}, BIGGER], ids=["default", "bigger"])
@pytest.mark.parametrize("task", ["truth", "logic"])
def test_generated_theories_keep_the_contract(task, knobs):
    failed = [f"{c.name}: {c.failure}" for c in contract.check(DOMAIN, task, knobs, n=40) if not c.passed]
    assert not failed, failed


def test_the_labeller_agrees_with_the_verifier_at_every_depth():
    """Forward chaining over the labeller's reading vs the translation proved or
    refuted by z3: the same answer on 300 theories of proof depth 0-5, every style."""
    answers, styles, disagreements = collections.Counter(), collections.Counter(), []
    for depth in range(6):
        difficulty = DOMAIN.difficulty(depth=depth, depth_min=depth)
        for i in range(50):
            ex = DOMAIN.example(2024, 1000 * depth + i, difficulty, "truth")
            verdict = DOMAIN.verify(ex.input, ex.answer, "truth", budget_s=10.0)
            answers[ex.answer] += 1
            styles[ex.meta["style"]] += 1
            if verdict.correct is not True:
                disagreements.append((ex.input, ex.answer, verdict.expected, verdict.evidence))
    assert not disagreements, disagreements[:3]
    assert all(80 <= answers[a] <= 120 for a in ("true", "false", "unknown")), answers  # about a third each
    assert all(styles[s] >= 60 for s in ("people", "animals", "prontoqa")), styles


def test_deep_theories_with_many_distractors_agree_too():
    difficulty = DOMAIN.difficulty(depth=10, depth_min=8, entities=5, rules=10, facts=10, negation=0.5, relations=3)
    for i in range(30):
        ex = DOMAIN.example(5, i, difficulty, "truth")
        verdict = DOMAIN.verify(ex.input, ex.answer, "truth", budget_s=10.0)
        assert verdict.correct is True, (ex.input, ex.answer, verdict)


@pytest.mark.parametrize("depth", [0, 1, 3, 5, 8])
def test_the_depth_knob_is_the_statements_proof_depth(depth):
    difficulty = DOMAIN.difficulty(depth=depth, depth_min=depth)
    for i in range(30):
        ex = DOMAIN.example(9, i, difficulty, "truth")
        tree = DOMAIN.parse(ex.input)
        assert ex.meta["proof_depth"] == depth
        # unknown: neither the statement nor its negation has a proof
        want = None if ex.answer == "unknown" else depth
        assert proof_depths(tree)[-1] == want, ex.input
        assert DOMAIN.node_difficulty(tree, "truth", 1)[-1] == want


def test_generation_is_a_pure_function_of_the_seed():
    d = DOMAIN.difficulty(depth=4)
    first = [DOMAIN.example(3, i, d, "truth").to_json() for i in range(20)]
    assert first == [DOMAIN.example(3, i, d, "truth").to_json() for i in range(20)]
    assert first != [DOMAIN.example(4, i, d, "truth").to_json() for i in range(20)]
    logic = [DOMAIN.example(3, i, d, "logic") for i in range(5)]
    assert [e.input for e in logic] == [e["input"] for e in first[:5]]  # one stream of theories, two questions


def test_the_answers_and_styles_knobs_are_respected():
    d = DOMAIN.difficulty(answers="true,unknown", style="prontoqa")
    examples = [DOMAIN.example(1, i, d, "truth") for i in range(40)]
    assert {e.answer for e in examples} == {"true", "unknown"}
    assert {e.meta["style"] for e in examples} == {"prontoqa"}
    with pytest.raises(HybridTRMError, match="answers"):
        DOMAIN.example(1, 0, DOMAIN.difficulty(answers="yes"), "truth")


# --- The fragment: each template class, and its translation ----------------------------

TEMPLATES = [
    ("The cat is big.", "Big(cat)"),
    ("Bob is not young.", "~Young(bob)"),
    ("The bear does not chase the lion.", "~Chase(bear, lion)"),
    ("The bald eagle chases Bob.", "Chase(bald_eagle, bob)"),
    ("Anne is a cat.", "Cat(anne)"),
    ("Max is not an impus.", "~Impus(max)"),
    ("If something is big and it chases the cat then the cat is red.", "forall x. (Big(x) & Chase(x, cat) -> Red(cat))"),
    ("If someone is young then they are rough.", "forall x. (Young(x) -> Rough(x))"),
    ("If something is not big then it is not red.", "forall x. (~Big(x) -> ~Red(x))"),
    ("If someone is big and red then they chase the cat and are kind.",
     "forall x. (Big(x) & Red(x) -> (Chase(x, cat) & Kind(x)))"),
    ("If someone needs the squirrel and they do not like the squirrel then the squirrel visits them.",
     "forall x. (Need(x, squirrel) & ~Like(x, squirrel) -> Visit(squirrel, x))"),
    ("If something is a wumpus and not cold then it is an impus.", "forall x. (Wumpus(x) & ~Cold(x) -> Impus(x))"),
    ("If the cat is big and red then the bald eagle does not see the cat.", "Big(cat) & Red(cat) -> ~See(bald_eagle, cat)"),
    ("All big, red things are kind.", "forall x. (Big(x) & Red(x) -> Kind(x))"),
    ("All cats are furry.", "forall x. (Cat(x) -> Furry(x))"),
    ("All things are big.", "forall x. Big(x)"),
    ("Young things are big.", "forall x. (Young(x) -> Big(x))"),
    ("Big people are rough.", "forall x. (Big(x) -> Rough(x))"),
    ("Big, round people are not nice.", "forall x. (Big(x) & Round(x) -> ~Nice(x))"),
    ("Every wumpus is an impus.", "forall x. (Wumpus(x) -> Impus(x))"),
    ("Each impus is not cold.", "forall x. (Impus(x) -> ~Cold(x))"),
    ("Every big wumpus is a tumpus and not cold.", "forall x. (Big(x) & Wumpus(x) -> (Tumpus(x) & ~Cold(x)))"),
    ("Wumpuses are not impuses.", "forall x. (Wumpus(x) -> ~Impus(x))"),
    ("Puppies are nervous.", "forall x. (Puppy(x) -> Nervous(x))"),
]


@pytest.mark.parametrize("text,formula", TEMPLATES, ids=[t for t, _ in TEMPLATES])
def test_each_template_parses_and_translates(text, formula):
    tree = DOMAIN.parse(text)
    assert translate(tree).text() == formula
    assert {kind(n) for n in postorder(tree)} <= set(DOMAIN.node_kinds)
    from hybrid_trm.domains.logic import LogicDomain

    LogicDomain().parse(formula)  # the logic grammar reads it


def test_a_question_translates_to_an_entailment():
    text = "The cat is big. If something is big then it is red. Q: The cat is not red."
    want = "(Big(cat)) & (forall x. (Big(x) -> Red(x))) |= ~Red(cat)"
    assert translate(DOMAIN.parse(text)).text() == want
    assert DOMAIN.parse(text.rstrip(".")) == DOMAIN.parse(text)  # the statement's full stop is optional


def test_leaves_are_named_by_their_role():
    tree = DOMAIN.parse("Young cats are big. Bob chases the bald eagle. If someone is red then they like Bob.")
    leaves = [(kind(n), str(n)) for n in postorder(tree) if isinstance(n, lark.Token)]
    assert leaves == [
        ("ADJ", "Young"), ("NOUN", "cats"), ("ADJ", "big"),
        ("NAME", "Bob"), ("VERB", "chases"), ("WORD", "bald"), ("WORD", "eagle"),
        ("VAR", "someone"), ("ADJ", "red"), ("VAR", "they"), ("VERB", "like"), ("NAME", "Bob"),
    ]


@pytest.mark.parametrize(
    "text,line,column,found",
    [
        ("The cat is big.\nThe dog is big and.", 2, 19, "'.'"),  # `and` then nothing
        ("Some cats are big.", 1, 1, "'S'"),  # no such determiner
        ("Anne is big.\nHe is red.", 2, 1, "'He'"),  # nothing masculine before `He`
        ("Bob likes.", 1, 10, "'.'"),
        ("The cats are big.", 1, 5, "'cats'"),  # an entity's words do not end in a plain -s
        ("Bob is big. Q: If Bob is big then Bob is red.", 1, 16, "'If'"),  # the statement is a fact
        ("If it is big then Bob is red.", 1, 4, "'it'"),  # a pronoun with nothing to refer to
        ("If something is big and someone is red then it is kind.", 1, 25, "'someone'"),  # one variable
        ("Bob likes the cat.\nBob is like.", 2, 8, "'like'"),  # a verb and an adjective at once
    ],
)
def test_a_sentence_outside_the_fragment_is_a_parse_error_at_its_position(text, line, column, found):
    with pytest.raises(ParseError) as err:
        DOMAIN.parse(text)
    assert (err.value.line, err.value.column, err.value.found) == (line, column, found), str(err.value)
    assert err.value.expected and "^" in err.value.context


def test_a_question_asked_as_english_asks_it_gets_a_hint_to_write_q():
    text = "Anne is kind. If someone is kind then they are green. Is Anne green?"
    with pytest.raises(ParseError) as err:
        DOMAIN.parse(text)
    assert (err.value.line, err.value.column, err.value.found) == (1, 58, "'Anne'")
    assert str(err.value).endswith("hint: ask a question as a statement after `Q:`, as in `Anne is kind. Q: Anne is kind.`")
    assert DOMAIN.parse(text.replace("Is Anne green?", "Q: Anne is green."))  # what the hint says parses
    with pytest.raises(ParseError) as err:
        DOMAIN.parse("Anne is kind. Anne is.")
    assert err.value.hint == "" and "hint" not in str(err.value)  # no question mark, no hint


def test_the_grammar_is_conflict_free_and_takes_the_fast_path():
    from hybrid_trm.fast_lalr import fast_parser
    from hybrid_trm.grammar_check import check

    result = check(GRAMMAR)
    assert result.parser is not None and result.clean, result.findings
    parser = load_grammar("english")
    fast = fast_parser(parser)
    assert fast is not None
    for i in range(100):  # the fast path builds Lark's own tree
        text = DOMAIN.example(8, i, DOMAIN.difficulty(depth=5, rules=6, facts=6), "truth").input
        assert fast.parse(text) == parser.parse(text), text


# --- Labels and the verifier's evidence --------------------------------------------------

def test_every_ground_literal_is_labelled_with_its_truth_and_depth():
    text = (
        "The cat is big. If something is big then it is red. The cat chases the dog. "
        "If something chases the dog and it is red then the dog is kind. If the dog is kind then the dog is not cold. "
        "Q: The dog is cold."
    )
    tree = DOMAIN.parse(text)
    order = postorder(tree)
    labelled = [
        (kind(n), " ".join(str(t) for t in n.scan_values(lambda v: isinstance(v, lark.Token))), label, depth)
        for n, label, depth in zip(order, DOMAIN.label_subtrees(tree, "truth"), DOMAIN.node_difficulty(tree, "truth", 1))
        if label is not None
    ]
    assert labelled[:-1] == [
        ("is", "cat big", "true", 0),
        ("rel", "cat chases dog", "true", 0),
        ("is", "dog kind", "true", 2),  # the conclusion of `if something chases the dog and it is red`
        ("is", "dog kind", "true", 2),  # the condition of `if the dog is kind`
        ("is_not", "dog cold", "true", 3),
        ("is", "dog cold", "false", 3),  # the statement
    ]
    assert labelled[-1][0::2] == ("ask", "false") and labelled[-1][3] == 3
    assert DOMAIN.label_subtrees(tree, "logic") == [None] * len(order)


def test_the_evidence_is_a_proof_or_two_models():
    text = "The cat is big. The cat is round. If something is big then it is red. Q: The cat is red."
    proved = DOMAIN.verify(text, "true", "truth")
    proof, _, model = proved.evidence.partition("; its negation does not: ")
    assert proved.correct and proof == "Red(cat) follows from [1] Big(cat); [3] forall x. (Big(x) -> Red(x))"
    assert model.startswith("domain {")  # a model of the theory in which the cat is red
    unknown = DOMAIN.verify(text.replace("Q: The cat is red.", "Q: The cat is kind."), "true", "truth")
    assert unknown.correct is False and unknown.expected == "unknown"
    assert unknown.evidence.count("domain {") == 2  # a model each way


def test_a_contradictory_theory_has_no_answer():
    text = "The cat is big. If something is big then it is not big. Q: The cat is red."
    with pytest.raises(HybridTRMError, match="contradicts itself"):
        DOMAIN.label_subtrees(DOMAIN.parse(text), "truth")
    verdict = DOMAIN.verify(text, "unknown", "truth")
    assert verdict.correct is False and verdict.expected is None and "no model" in verdict.evidence


def test_classical_logic_answers_past_forward_chaining_where_a_theory_allows_it():
    """The labeller's forward chaining does not reason backwards (modus tollens); the
    verifier's classical reading does. The generator makes no such theory
    (docs/english.md, "When forward chaining is complete"); a user may."""
    text = "If something is big then it is red. Bob is not red. Q: Bob is big."
    assert DOMAIN.label_subtrees(DOMAIN.parse(text), "truth")[-1] == "unknown"
    verdict = DOMAIN.verify(text, "unknown", "truth")
    assert verdict.correct is False and verdict.expected == "false"


def test_the_logic_task_checks_by_equivalence():
    ex = DOMAIN.example(6, 0, DOMAIN.difficulty(depth=2), "logic")
    assert DOMAIN.verify(ex.input, ex.answer, "logic").correct is True
    renamed = re.sub(r"\bx\b", "y", ex.answer).replace("~", "not ")
    verdict = DOMAIN.verify(ex.input, renamed, "logic")
    assert verdict.correct is True and "equivalent" in verdict.evidence
    assert DOMAIN.verify(ex.input, DOMAIN.tasks["logic"].wrong_answer(ex.answer), "logic").correct is False
    assert DOMAIN.verify(ex.input, ex.answer.split(" |= ")[0], "logic").correct is False  # the statement left out
    broken = DOMAIN.verify(ex.input, "Big(", "logic")
    assert broken.correct is False and "not a formula" in broken.evidence


# --- Words --------------------------------------------------------------------------------

def test_the_generators_words_read_back():
    grammar = load_grammar("english")
    word, sword = (grammar.get_terminal(name).pattern.to_regexp() for name in ("LOWER", "LOWER_S"))
    for adjective in vocabulary.ADJECTIVES + vocabulary.PROPERTIES:
        assert re.fullmatch(word, adjective), adjective
    for noun in vocabulary.NOUNS + ("cat", "puppy", "box", "bus"):
        assert re.fullmatch(word, noun) and re.fullmatch(sword, lexicon.plural(noun)), noun
        assert lexicon.singular(lexicon.plural(noun)) == noun
    for verb in vocabulary.VERBS + ("fly", "go", "watch"):
        assert re.fullmatch(word, verb) and re.fullmatch(sword, lexicon.third_person(verb)), verb
        assert lexicon.lemma(lexicon.third_person(verb)) == verb
    for animal in vocabulary.ANIMALS:
        assert all(re.fullmatch(word, w) for w in animal.split()), animal
