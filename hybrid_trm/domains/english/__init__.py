"""English: controlled English whose meaning is first-order logic (grammars/english.lark,
docs/english.md): the rule-and-fact language of RuleTaker / ProofWriter and the
taxonomic language of PrOntoQA.

Tasks: `truth` of `THEORY Q: STATEMENT` (true / false / unknown, open world: the
statement follows, its negation follows, or neither), every ground literal node
labelled with its truth and its proof depth as the node's difficulty; `logic`, the
input's translation to the logic domain's syntax (a formula, checked by logical
equivalence).

The package, imports flowing one way (lexicon <- roles <- reading <- chaining <-
labels; lexicon, roles <- translate; reading, chaining, render, vocabulary <- generator):
- lexicon.py: words and the predicate and constant names they become;
- roles.py: node kinds, `resolve` (every leaf named by its role), `check` (what the
  fragment refuses when parsed);
- reading.py: the labeller's reading of a tree (facts, rules, the statement);
- chaining.py: the labeller's forward chaining (truth and proof depth);
- labels.py: every node's label and difficulty;
- translate.py: the translation to logic, which the verifier checks with;
- tasks.py: how each task's answers are written;
- vocabulary.py, render.py, generator.py: seeded theories (EnglishDifficulty).
The verifier (verifiers/english.py) answers with the translation and the logic
domain's prover (z3), sharing no code with the forward chaining;
tests/test_english.py compares the two.
"""

from __future__ import annotations

import random

from ...errors import HybridTRMError, VerifierTimeout
from ...grammar import Node, kind, parse
from ..base import Domain, Example, Task, Verdict
from .generator import EnglishDifficulty, theory
from .labels import proof_depths, truth, truth_labels
from .roles import NODE_KINDS, check, resolve
from .tasks import ANSWERS, TranslationTask
from .translate import translate

__all__ = ["EnglishDifficulty", "EnglishDomain", "translate"]


class EnglishDomain(Domain):
    name = "english"
    grammar = "english"
    tasks = {
        "truth": Task(
            "truth", ANSWERS, "THEORY Q: STATEMENT: true / false / unknown, open world (each ground literal: its truth)"
        ),
        "logic": TranslationTask("logic", (), "the translation to the logic domain's syntax (a formula)"),
    }
    Difficulty = EnglishDifficulty
    curriculum_start = {"depth": 0, "rules": 0, "facts": 0}
    node_kinds = NODE_KINDS
    difficulty_measure = {
        "truth": "a ground statement's proof depth: rounds of rules that derive it or its negation (0: stated)"
    }

    def parse(self, text: str) -> Node:
        tree = resolve(parse(self.grammar, text, domain=self.name))
        check(tree, text)
        return tree

    def generate(self, rng: random.Random, difficulty: EnglishDifficulty, task: str) -> Example:
        text, drawn, meta = theory(rng, difficulty)
        tree = self.parse(text)
        answer = truth(tree)
        if answer != drawn:  # the generator's own guarantee (generator.py): a bug if it fails
            raise HybridTRMError(f"english: generated {drawn!r} but the labeller says {answer!r}: {text}")
        if task == "logic":
            answer = translate(tree).text()
        return Example(text, answer, task, meta)

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        self.task(task)
        if task == "logic":
            return super().label_subtrees(tree, task)
        _require_question(tree)
        return truth_labels(tree)

    def node_difficulty(self, tree: Node, task: str, positions: int) -> list[int | None]:
        """truth: each labelled literal's proof depth (None where neither it nor its
        negation follows); None elsewhere."""
        if task != "truth":
            return super().node_difficulty(tree, task, positions)
        return proof_depths(tree)

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        from ...verifiers import english as symbolic

        self.task(task)
        tree = self.parse(text) if tree is None else tree
        try:
            if task == "logic":
                correct, want, evidence = symbolic.translation_matches(tree, answer, budget_s)
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
    if kind(tree) != "ask":
        raise HybridTRMError("english/truth takes `THEORY Q: STATEMENT`: a theory, then `Q:` and one statement")
