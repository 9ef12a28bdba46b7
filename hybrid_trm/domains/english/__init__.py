"""English: controlled English whose meaning is first-order logic (grammars/english.lark,
docs/english.md): the rule-and-fact language of RuleTaker / ProofWriter and the
taxonomic language of PrOntoQA.

Tasks: `truth` of `THEORY Q: STATEMENT` (true / false / unknown, open world: the
statement follows, its negation follows, or neither) and of `THEORY Q (closed
world): STATEMENT` (true / false, negation as failure), every ground literal node
labelled with its truth and its proof depth as the node's difficulty; `logic`, the
input's translation to the logic domain's syntax (a formula, checked by logical
equivalence); `antecedent`, every pronoun, `the former` / `the latter` and definite
description labelled with how many noun phrases back its antecedent is, and the
translation with every reference resolved at the root.

The package, imports flowing one way (lexicon <- roles <- reading <- chaining <-
labels; lexicon, roles <- translate; reading, chaining, render, vocabulary <- generator):
- lexicon.py: words and the predicate and constant names they become;
- roles.py: node kinds, `resolve` (every leaf named by its role), `check` (what the
  fragment refuses when parsed);
- reading.py: the labeller's reading of a tree (facts, rules, the statement);
- chaining.py: the labeller's forward chaining (truth and proof depth);
- closed.py: the labeller's closed world: strata, and forward chaining in passes;
- rounds.py: `truth` answered by forward chaining run by a model, each round's
  formulas asked of the logic model (domains/rounds.py), and `antecedent` by
  the labeller's reading with the model picking each antecedent;
- labels.py: every node's label and difficulty;
- agreement.py: the genders of names and nouns pronouns agree with;
- discourse.py: the labeller's reading of references (antecedents, counts back);
- translate.py: the translation to logic, which the verifier checks with;
- tasks.py: how each task's answers are written;
- vocabulary.py, render.py, generator.py: seeded theories (EnglishDifficulty);
  closed_theories.py: seeded closed-world theories; stories.py: seeded discourses.
The verifier (verifiers/english.py) answers with the translation and the logic
domain's prover (z3) (the closed world: the translation's well-founded model, by
an alternating fixpoint), sharing no code with the forward chaining, and resolves
references with its own rules (verifiers/english_references.py);
tests/test_english.py compares each pair.
"""

from __future__ import annotations

import random

import lark

from ...errors import HybridTRMError, ParseError, VerifierTimeout
from ...grammar import Node, kind, parse, postorder
from ..base import Answerer, Domain, Example, Run, Task, Verdict
from . import closed, discourse, rounds, stories
from .closed_theories import closed_theory
from .generator import EnglishDifficulty, theory
from .labels import proof_depths, truth, truth_labels
from .roles import ASKS, DISCOURSE, NODE_KINDS, check, resolve
from .tasks import ANSWERS, REFERENCES, ReferenceTask, TranslationTask
from .translate import translate

__all__ = ["EnglishDifficulty", "EnglishDomain", "translate"]


# A question mark is in no sentence of the fragment: one is a question asked as English asks it.
QUESTION_HINT = "ask a question as a statement after `Q:`, as in `Anne is kind. Q: Anne is kind.`"


class EnglishDomain(Domain):
    name = "english"
    grammar = "english"
    tasks = {
        "truth": Task(
            "truth", ANSWERS,
            "THEORY Q: STATEMENT: true / false / unknown, open world; THEORY Q (closed world): STATEMENT: "
            "true / false, negation as failure (each ground literal: its truth)",
        ),
        "logic": TranslationTask("logic", (), "the translation to the logic domain's syntax (a formula)"),
        "antecedent": ReferenceTask(
            "antecedent", REFERENCES,
            "each pronoun and definite description: noun phrases back to its antecedent (new: none); "
            "the root: the translation with every reference resolved",
        ),
    }
    Difficulty = EnglishDifficulty
    curriculum_start = {"depth": 0, "rules": 0, "facts": 0}
    node_kinds = NODE_KINDS
    difficulty_measure = {
        "truth": "a ground statement's proof depth: rounds of rules that derive it or its negation (0: stated; "
                 "closed world: that derive its atom)",
        "antecedent": "a reference's noun phrases counted back to its antecedent",
    }

    def parse(self, text: str) -> Node:
        try:
            tree = resolve(parse(self.grammar, text, domain=self.name))
        except ParseError as err:
            if "?" not in text:
                raise
            raise err.with_hint(QUESTION_HINT) from None
        check(tree, text)
        closed.check(tree, text)
        if any(kind(n) in ("PRONOUN", "FORMER", "LATTER") for n in postorder(tree)):
            discourse.read(tree, text)  # a reference with nothing to refer to is refused here
        return tree

    def generate(self, rng: random.Random, difficulty: EnglishDifficulty, task: str) -> Example:
        if task == "antecedent" or difficulty.style == "discourse":
            if task == "truth":
                raise HybridTRMError("english: truth asks about theories; style=discourse is for antecedent and logic")
            return self._story(rng, difficulty, task)
        if difficulty.world == "closed" and task != "truth":
            raise HybridTRMError(
                "english: world=closed is for truth: the logic task's translation is classical logic, "
                "which has no negation as failure"
            )
        text, drawn, meta = (closed_theory if difficulty.world == "closed" else theory)(rng, difficulty)
        tree = self.parse(text)
        answer = truth(tree)
        if answer != drawn:  # the generator's own guarantee (generator.py): a bug if it fails
            raise HybridTRMError(f"english: generated {drawn!r} but the labeller says {answer!r}: {text}")
        if task == "logic":
            answer = translate(tree).text()
        return Example(text, answer, task, meta)

    def _story(self, rng: random.Random, difficulty: EnglishDifficulty, task: str) -> Example:
        text, meta, spans = stories.discourse(rng, difficulty)
        tree = self.parse(text)
        references = discourse.read(tree)
        anaphor, meant = (_mention_at(tree, spans[mark]) for mark in ("anaphor", "antecedent"))
        if references.antecedents.get(id(anaphor)) is not meant:  # the generator's own guarantee: a bug if it fails
            raise HybridTRMError(f"english: the labeller resolves {str(anaphor)!r} otherwise than generated: {text}")
        meta["back"] = references.back[id(anaphor)]
        return Example(text, translate(tree, references.antecedents).text(), task, meta)

    # truth: forward chaining whose every round the logic model evaluates;
    # antecedent: a reading whose every choice of antecedent it makes (rounds.py).
    run_by = {"truth": "logic/verdict", "antecedent": "logic/verdict"}

    def run(self, trees: list[Node], task: str, ask: Answerer) -> list[Run]:
        """truth: each theory chained forward in rounds, in lockstep, `ask` (the
        logic model) deciding which literals each round derives; antecedent: each
        discourse read with `ask` picking every antecedent (rounds.py)."""
        if task == "antecedent":
            return rounds.antecedents(trees, ask)
        if task != "truth":
            return super().run(trees, task, ask)
        for tree in trees:
            _require_question(tree)
        return rounds.truths(trees, ask)

    def task_for(self, tree: Node) -> str:
        """`THEORY Q: STATEMENT` asks for its truth; a discourse (a farmer, he, Bob
        and Anne), for its references; anything else, for its translation."""
        if kind(tree) in ASKS:
            return "truth"
        return "antecedent" if any(kind(n) in DISCOURSE for n in postorder(tree)) else "logic"

    def symbolic_answer(self, tree: Node, task: str) -> str | None:
        """logic, antecedent: the translation, with the references the labeller
        resolves (`solve` answers so while no model does)."""
        if task not in ("logic", "antecedent"):
            return None
        _require_open(tree, task)
        references = discourse.read(tree) if any(kind(n) in DISCOURSE for n in postorder(tree)) else None
        return translate(tree, references.antecedents if references else None).text()

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        self.task(task)
        if task == "logic":
            return super().label_subtrees(tree, task)
        if task == "antecedent":
            _require_open(tree, task)
            references = discourse.read(tree)
            return [references.label(n) for n in postorder(tree)]
        _require_question(tree)
        return truth_labels(tree)

    def node_difficulty(self, tree: Node, task: str, positions: int) -> list[int | None]:
        """truth: each labelled literal's proof depth (None where neither it nor its
        negation follows); antecedent: each reference's count back (None: `new`);
        None elsewhere."""
        if task == "antecedent":
            back = discourse.read(tree).back
            return [back.get(id(n)) for n in postorder(tree)]
        if task != "truth":
            return super().node_difficulty(tree, task, positions)
        return proof_depths(tree)

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        from ...verifiers import english as symbolic

        self.task(task)
        tree = self.parse(text) if tree is None else tree
        try:
            if task in ("logic", "antecedent"):
                _require_open(tree, task)
                match = symbolic.references_match if task == "antecedent" else symbolic.translation_matches
                correct, want, evidence = match(tree, answer, budget_s)
                return Verdict(correct, want, evidence)
            _require_question(tree)
            want, evidence = symbolic.truth(tree, budget_s)
        except VerifierTimeout as err:
            return Verdict(None, None, str(err))
        if want not in ANSWERS:  # a theory with no model: no answer is right
            return Verdict(False, None, evidence)
        given = answer.strip().lower()
        if given not in ANSWERS:
            return Verdict(False, want, f"{answer!r} is not one of {', '.join(ANSWERS)}; {evidence}")
        return Verdict(given == want, want, evidence)


def _require_question(tree: Node) -> None:
    if kind(tree) not in ASKS:
        raise HybridTRMError(
            "english/truth takes `THEORY Q: STATEMENT` (or `THEORY Q (closed world): STATEMENT`): "
            "a theory, then `Q:` and one statement"
        )
    if any(kind(n) in DISCOURSE for n in postorder(tree)):
        raise HybridTRMError(
            "english/truth reads theories about named things (Bob, the cat); a discourse (a farmer, he, "
            "Bob and Anne) is for the antecedent and logic tasks"
        )


def _require_open(tree: Node, task: str) -> None:
    if kind(tree) == closed.CLOSED:
        raise HybridTRMError(
            f"english/{task}: `Q (closed world):` asks for truth under negation as failure, which the "
            "translation to classical logic does not say; ask the truth task"
        )


def _mention_at(tree: Node, span: tuple[int, int]) -> Node:
    """The outermost noun phrase whose first word lies in the span of the text."""
    for node in reversed(postorder(tree)):  # parents before their children
        if kind(node) in discourse.MENTIONS:
            first = node if isinstance(node, lark.Token) else next(node.scan_values(lambda v: True))
            if span[0] <= first.start_pos < span[1]:
                return node
    raise HybridTRMError(f"english: no noun phrase at characters {span[0]}-{span[1]}")
