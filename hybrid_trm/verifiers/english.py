"""Symbolic ground truth for english: the translation (domains/english/translate.py)
checked by the logic domain's prover (verifiers/logic: z3, with countermodels
checked in finite structures). It shares no code with the domain's labeller, whose
answers come from forward chaining over its own reading of the tree.

  truth   `THEORY Q: S` is `true` where THEORY |= S is proved, `false` where
          THEORY |= ~S is, `unknown` where a model of THEORY with S and one
          without S are both found (and checked); the evidence is the proof (the
          sentences z3's unsat core names) or the two models.
          `THEORY Q (closed world): S` (negation as failure) is `true` where S
          holds in the theory's one model: the well-founded model of the
          translation's rules grounded over its constants, computed by the
          alternating fixpoint (no strata: a theory whose predicates do depend on
          their own negation is refused first, by a check of its own); the
          evidence is the rule that derives S's atom, or why none does
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
from typing import NamedTuple

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

    if kind(tree) == "ask_closed":
        return closed_truth(translate(tree), budget_s)
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


# --- The closed world: the well-founded model of the ground rules ---------------------------

Atom = str  # `Red(cat)`, as the translation writes it


class _Ground(NamedTuple):
    """A rule bound to constants: it concludes `head` where every atom of `positive`
    holds and none of `negated` does."""

    positive: tuple[Atom, ...]
    negated: tuple[Atom, ...]
    head: tuple[Atom, ...]
    sentence: int  # its sentence, from 1
    binding: str | None  # the constant its variable is bound to (None: a ground sentence)


def closed_truth(translation, budget_s: float = 2.0) -> tuple[str, str]:
    """(true | false, evidence) of a closed-world question, from its translation
    (the module's docstring)."""
    deadline = time.monotonic() + budget_s
    logic = _logic()
    parsed = [logic.parse(s) for s in translation.sentences]
    statement = logic.parse(translation.statement)
    constants = list(dict.fromkeys(
        str(t) for tree in [*parsed, statement] for t in tree.scan_values(lambda v: getattr(v, "type", "") == "CONST")
    ))
    facts: list[Atom] = []
    lifted: list[tuple[list[tuple[bool, lark.Tree]], list[lark.Tree], int]] = []
    for number, tree in enumerate(parsed, 1):
        body, head = _rule_of(tree, translation.sentences[number - 1])
        if body is None:
            facts += [_atom(a) for a in head]
        else:
            lifted.append((body, head, number))
    _require_stratified(lifted)
    rules = [g for body, head, number in lifted for g in _grounded(body, head, number, constants)]
    model, alternations = _well_founded(facts, rules, deadline, budget_s)
    positive = kind(statement) != "not"
    atom = _atom(statement if positive else statement.children[0])
    answer = "true" if (atom in model) == positive else "false"
    why = _why(atom, model, facts, rules, translation.sentences)
    return answer, (
        f"closed world (negation as failure): {why}; so {translation.statement} is {answer}; the theory's one model "
        f"(well-founded, two-valued after {alternations} alternations) holds {len(model)} ground "
        f"atom{'s' if len(model) != 1 else ''}"
    )


def _rule_of(tree: lark.Tree, written: str) -> tuple[list[tuple[bool, lark.Tree]] | None, list[lark.Tree]]:
    """(conditions as (positive, atom), conclusions) of one translated sentence;
    conditions None: a fact (or facts, joined by &)."""
    body_tree, head_tree = None, tree
    if kind(tree) == "forall":
        head_tree = tree.children[1]
        body_tree = lark.Tree("and", [])  # All things are big: no condition
    if kind(head_tree) == "implies":
        body_tree, head_tree = head_tree.children
    head = _flattened(head_tree)
    if any(kind(h) != "pred" for h in head):
        raise HybridTRMError(f"english: a closed-world theory states only what holds, not {written!r}")
    if body_tree is None:
        return None, head
    body = [(kind(c) == "pred", c if kind(c) == "pred" else c.children[0]) for c in _flattened(body_tree)]
    return body, head


def _flattened(tree: lark.Tree) -> list[lark.Tree]:
    """The conjuncts of a left-nested `and` (a single formula: itself)."""
    if kind(tree) != "and":
        return [tree]
    return [c for child in tree.children for c in _flattened(child)]


def _atom(pred: lark.Tree, binding: str | None = None) -> Atom:
    name, *args = (str(t) if t.type != "VAR" else binding for t in pred.children)
    return f"{name}({', '.join(args)})"


def _grounded(body, head, number: int, constants: list[str]) -> list[_Ground]:
    variable = any(t.type == "VAR" for _, a in body for t in a.children) or any(
        t.type == "VAR" for a in head for t in a.children
    )
    out = []
    for c in constants if variable else [None]:
        positive = tuple(_atom(a, c) for holds, a in body if holds)
        negated = tuple(_atom(a, c) for holds, a in body if not holds)
        out.append(_Ground(positive, negated, tuple(_atom(a, c) for a in head), number, c))
    return out


def _require_stratified(lifted) -> None:
    """Refuse a theory in which a predicate concluded by a rule depends on its own
    negation: there negation as failure gives no one answer."""
    depends: dict[str, set[str]] = {}  # predicate -> the predicates of the conditions that conclude it
    negated: list[tuple[str, str]] = []  # (P, Q): `not P` is a condition of a rule that concludes Q
    for body, head, _ in lifted:
        for h in head:
            for holds, a in body:
                depends.setdefault(str(h.children[0]), set()).add(str(a.children[0]))
                if not holds:
                    negated.append((str(a.children[0]), str(h.children[0])))
    for p, q in negated:
        seen, stack = {p}, [p]  # does P depend on Q, through conditions?
        while stack:
            r = stack.pop()
            if r == q:
                how = f"not {p} gives {p}" if p == q else f"not {p} gives {q}, and {q} gives {p}"
                raise HybridTRMError(
                    f"english: the closed-world theory is not stratified: {p} depends on its own negation "
                    f"({how}), so negation as failure gives it no one answer"
                )
            for s in depends.get(r, ()):
                if s not in seen:
                    seen.add(s)
                    stack.append(s)


def _well_founded(facts: list[Atom], rules: list[_Ground], deadline: float, budget_s: float) -> tuple[dict[Atom, tuple], int]:
    """The well-founded model by the alternating fixpoint: `under` (what surely
    holds) and `over` (what may) squeeze together; each is the least model of the
    rules with a negated condition read against the other. Atom -> (level, the
    rule that derives it, None: stated) where the model is two-valued."""
    under: dict[Atom, tuple] = {}
    for alternations in range(1, len(rules) + 3):
        over = _least(facts, rules, under, deadline, budget_s)
        again = _least(facts, rules, over, deadline, budget_s)
        if again.keys() == under.keys():
            if over.keys() != under.keys():
                undecided = sorted(over.keys() - under.keys())
                raise HybridTRMError(f"english: the closed world leaves {', '.join(undecided[:3])} undecided")
            return _least(facts, rules, under, deadline, budget_s), alternations
        under = again
    raise HybridTRMError("english: the alternating fixpoint did not settle")  # it settles within len(rules) + 1


def _least(facts: list[Atom], rules: list[_Ground], reference: dict, deadline: float, budget_s: float) -> dict[Atom, tuple]:
    """The least model of the rules whose negated atoms are all outside `reference`,
    level by level: an atom's level is the first round whose rules, reading only
    the atoms of the rounds before, derive it."""
    holds: dict[Atom, tuple] = {a: (0, None) for a in facts}
    usable = [r for r in rules if not any(n in reference for n in r.negated)]
    level = 0
    while True:
        if time.monotonic() > deadline:
            raise VerifierTimeout(f"verifier ran past its budget of {budget_s:g}s computing the closed world's model")
        level += 1
        new: dict[Atom, tuple] = {}
        for rule in usable:
            if all(p in holds for p in rule.positive):
                new.update((h, (level, rule)) for h in rule.head if h not in holds and h not in new)
        if not new:
            return holds
        holds.update(new)


def _why(atom: Atom, model: dict[Atom, tuple], facts: list[Atom], rules: list[_Ground], sentences: list[str]) -> str:
    """The rule instance that derives the atom, or the condition each rule concluding it lacks."""
    def shown(rule: _Ground) -> str:
        bound = f" with x = {rule.binding}" if rule.binding is not None else ""
        return f"[{rule.sentence}] {sentences[rule.sentence - 1]}{bound}"

    if atom in model:
        level, rule = model[atom]
        if rule is None:
            return f"{atom} is stated"
        conditions = [*rule.positive, *(f"~{n} ({n} does not follow)" for n in rule.negated)]
        return f"{atom} follows at proof depth {level} by {shown(rule)}, from {', '.join(conditions) or 'no condition'}"
    lacking = []
    for rule in (r for r in rules if atom in r.head):
        missing = [p for p in rule.positive if p not in model]
        blocked = [n for n in rule.negated if n in model]
        what = f"lacks {missing[0]}" if missing else f"is blocked: {blocked[0]} follows"
        lacking.append(f"{shown(rule)} {what}")
    if not lacking:
        return f"{atom} does not follow: it is not stated and no rule concludes it"
    more = f" and {len(lacking) - MAX_SHOWN} more" if len(lacking) > MAX_SHOWN else ""
    return f"{atom} does not follow: {'; '.join(lacking[:MAX_SHOWN])}{more}"
