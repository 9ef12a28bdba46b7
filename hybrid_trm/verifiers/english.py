"""Symbolic ground truth for english: the translation (domains/english/translate.py)
checked by the logic domain's prover (verifiers/logic: z3, with countermodels
checked in finite structures). It shares no code with the domain's labeller, whose
answers come from forward chaining over its own reading of the tree.

  truth   `THEORY Q: S` is `true` where THEORY |= S is proved, `false` where
          THEORY |= ~S is, `unknown` where a model of THEORY with S and one
          without S are both found (and checked); the evidence is the proof (the
          sentences z3's unsat core names) or the two models
  logic   a translation is right where it is logically equivalent to the
          verifier's own: the same formula up to logic (order, parentheses,
          variable names, `A -> B` as `~A | B`), with the same predicate and
          constant names; a pair `A |= S` part by part. A discourse's references
          are resolved by the verifier's own resolver (english_references.py)
  antecedent  the translation with every reference resolved, checked as logic's;
          the evidence lists each reference and its antecedent

Past `budget_s` the verifier raises VerifierTimeout saying what it was doing.
"""

from __future__ import annotations

import time

import lark
import z3

from ..errors import HybridTRMError, ParseError, VerifierTimeout
from ..grammar import Node, kind
from .logic import entails, signature
from .logic.quantified import Encoding

CORE_SHARE = 0.25  # of the time left after the answer, what finding the proof's sentences may take
MAX_SHOWN = 8  # sentences of a proof shown in the evidence; the rest are counted


def _logic():
    from ..domains.logic import LogicDomain  # the logic grammar's parse, leaves resolved

    return LogicDomain()


def truth(tree: Node, budget_s: float = 2.0) -> tuple[str, str]:
    """(true | false | unknown, evidence) of a resolved `ask` tree."""
    from ..domains.english.translate import translate

    if kind(tree) != "ask":
        raise HybridTRMError("english/truth takes `THEORY Q: STATEMENT`")
    translation = translate(tree)
    start = time.monotonic()
    left = lambda: max(0.05, budget_s - (time.monotonic() - start))  # noqa: E731
    logic = _logic()
    theory = translation.theory
    statement = translation.statement
    negated = statement[1:] if statement.startswith("~") else f"~{statement}"
    follows, why_not = entails(logic.parse(f"{theory} |= {statement}"), budget_s)
    negation, why_not_negation = entails(logic.parse(f"{theory} |= {negated}"), left())
    if follows == "yes" and negation == "yes":
        return "contradictory", "the theory has no model: every statement follows, and no answer is right"
    if follows == "yes":
        proof = _proof(translation.sentences, statement, left() * CORE_SHARE)
        return "true", f"{statement} follows{proof}; its negation does not: {_model(why_not_negation)}"
    if negation == "yes":
        proof = _proof(translation.sentences, negated, left() * CORE_SHARE)
        return "false", f"{negated} follows{proof}; {statement} does not: {_model(why_not)}"
    return "unknown", (
        f"neither {statement} nor its negation follows: the theory holds and {statement} is false in "
        f"{_model(why_not)}; the theory holds and {statement} is true in {_model(why_not_negation)}"
    )


def references_match(tree: Node, answer: str, budget_s: float = 2.0) -> tuple[bool, str, str]:
    """(whether `answer` is equivalent to the translation with the references the
    resolver finds, that translation, evidence: the references, then the comparison)."""
    from ..domains.english.translate import translate
    from .english_references import resolve

    resolution = resolve(tree)
    want = translate(tree, resolution.antecedents).text()
    correct, _, evidence = translation_matches(tree, answer, budget_s, want)
    shown = "; ".join(resolution.lines) if resolution.lines else "none"
    return correct, want, f"references: {shown}; translation: {want}; {evidence}"


def translation_matches(tree: Node, answer: str, budget_s: float = 2.0, want: str | None = None) -> tuple[bool, str, str]:
    """(whether `answer` is equivalent to the translation `want`, by default the
    verifier's own, with references resolved by its resolver; want; evidence)."""
    from ..domains.english.roles import DISCOURSE
    from ..domains.english.translate import translate
    from ..grammar import postorder
    from .english_references import resolve

    if want is None:
        discourse = any(kind(n) in DISCOURSE for n in postorder(tree))
        want = translate(tree, resolve(tree).antecedents if discourse else None).text()
    if answer.strip() == want:
        return True, want, "the same formula as the verifier's translation"
    logic = _logic()
    try:
        given = logic.parse(answer)
    except (ParseError, HybridTRMError) as err:
        return False, want, f"not a formula of the logic grammar: {str(err).splitlines()[0]}"
    ours = logic.parse(want)
    pairs = [(ours, given)]
    if kind(ours) == "entails" or kind(given) == "entails":
        if kind(ours) != kind(given):
            return False, want, "a pair `A |= S` and a single formula are not the same translation"
        pairs = list(zip(ours.children, given.children))
    start = time.monotonic()
    for part, (a, b) in zip(("theory", "statement"), pairs):
        for x, y, what in ((a, b, "the translation does not entail the answer"), (b, a, "the answer does not entail the translation")):
            seconds = budget_s - (time.monotonic() - start)
            if seconds <= 0:
                raise VerifierTimeout(f"verifier ran past its budget of {budget_s:g}s comparing translations")
            verdict, evidence = entails(lark.Tree("entails", [x, y]), seconds)
            if verdict != "yes":
                where = f" ({part})" if len(pairs) > 1 else ""
                return False, want, f"not equivalent{where}: {what}; {evidence}"
    return True, want, "logically equivalent to the verifier's translation (z3)"


def _model(evidence: str) -> str:
    """The structure in an `entails` countermodel line."""
    return evidence.split(": ", 1)[1] if ": " in evidence else evidence


def _proof(sentences: list[str], goal: str, seconds: float) -> str:
    """`from [2] ..., [5] ...`: the theory's sentences z3's unsat core of THEORY & ~goal
    names ('' where z3 does not find one within `seconds`)."""
    logic = _logic()
    tree = logic.parse(" & ".join(f"({s})" for s in sentences) + f" |= {goal}")
    parts, target = _conjuncts(tree.children[0], len(sentences)), tree.children[1]
    ctx = z3.Context()
    encoding = Encoding(signature(tree), ctx)
    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", max(1, int(seconds * 1000)))
    solver.set("core.minimize", True)
    marks = [z3.Bool(f"sentence {i + 1}", ctx) for i in range(len(parts))]
    for mark, part in zip(marks, parts):
        solver.add(z3.Implies(mark, encoding.formula(part)))
    solver.add(z3.Not(encoding.formula(target)))
    if solver.check(*marks) != z3.unsat:
        return ""
    used = sorted(int(str(m).split()[1]) for m in solver.unsat_core())
    shown = [f"[{i}] {sentences[i - 1]}" for i in used[:MAX_SHOWN]]
    more = f" and {len(used) - MAX_SHOWN} more" if len(used) > MAX_SHOWN else ""
    return " from " + "; ".join(shown) + more if shown else ""


def _conjuncts(node: Node, count: int) -> list[Node]:
    """The theory's sentences: the left-nested `and` of `(f1) & (f2) & ...` undone."""
    parts: list[Node] = []
    while len(parts) < count - 1:
        node, right = node.children
        parts.append(right)
    parts.append(node)
    return parts[::-1]
