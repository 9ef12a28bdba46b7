"""Logic: propositional and first-order formulas (grammars/logic.lark).

Tasks: `verdict` of one formula (valid / contingent / unsatisfiable); `entails` of a
pair `A |= B` (yes / no); `relation` of a pair `A ; B`, Bowman et al.'s seven classes
(= equivalent, < A entails B strictly, > B entails A strictly, ^ negation,
| alternation, v cover, # independent). Every formula node is labelled with its own
verdict, so the cell is supervised at every subformula; the pair node carries the
pair's answer, which is why `entails` and `relation` list the verdicts among their
answers too.

This file holds the domain, LogicDomain. The package, imports flowing one way
(roles <- semantics <- worlds <- grid; roles <- syntax; grid, semantics, syntax <- generator):
- roles.py: the node kinds, and `resolve` (names every leaf of a parsed tree by its role);
- semantics.py: the labeller's exact evaluator (truth tables as bitmasks for
  propositional formulas; every finite structure up to the monadic bound, as numpy
  arrays, for first-order ones), its limits, and `node_answers`;
- worlds.py: the worlds a grid is evaluated in: all of them where they fit, else a
  seeded sample of structures of any signature;
- grid.py: the world grid the model computes (LogicTask, the grid positions, the
  quantifiers' slots);
- syntax.py: `render` (one tree in each surface syntax);
- generator.py: the seeded generator (LogicDifficulty, random formulas, the search).
The verifier (verifiers/logic/) answers the same questions independently, with z3:
proved, refuted with a checked countermodel, or unknown within its budget.
"""

from __future__ import annotations

import random
from dataclasses import replace

import lark
import numpy as np

from ... import budget
from ...errors import HybridTRMError, VerifierTimeout
from ...grammar import Node, children, kind, parse, postorder
from ...verifiers import logic as symbolic
from ...verifiers.logic import RELATIONS, Signature, signature
from ..base import Domain, Example, Verdict, Worlds
from .generator import (
    CONSTANTS,
    LETTERS,
    NATURAL,
    PREDICATES,
    VARIABLES,
    _POOL,
    _ROUNDS,
    LogicDifficulty,
    _able,
    _check_knobs,
    _formula,
    _height,
    _quantifier_depth,
    _candidates,
    _weights,
    search_worlds,
)
from .grid import ATOMS, LEAN, PAIR_CELLS, LogicTask, _grid
from .semantics import countable_within
from .roles import BINARY, PAIRS, QUANTIFIERS, TERMS, resolve
from .semantics import (
    ENTAILS,
    MAX_CELLS,
    MAX_STRUCTURES,
    MAX_TRUTH_TABLE_VARIABLES,
    ROOT_ANSWERS,
    VERDICTS,
    _node_values,
    node_answers,
)
from .syntax import SYNTAXES, render

__all__ = [
    "ATOMS", "BINARY", "CONSTANTS", "ENTAILS", "LEAN", "LETTERS", "MAX_CELLS", "MAX_STRUCTURES",
    "MAX_TRUTH_TABLE_VARIABLES", "PAIR_CELLS", "PAIRS", "PREDICATES", "QUANTIFIERS", "RELATIONS",
    "ROOT_ANSWERS", "SYNTAXES", "TERMS", "VARIABLES", "VERDICTS", "LogicDifficulty", "LogicDomain",
    "LogicTask", "node_answers", "render", "resolve",
]


GENERATOR_BUDGET = 2.0  # seconds the verifier may take to label one generated example
CONFIRMED = 4  # candidates per round the verifier checks, where the search's worlds are a sample


class LogicDomain(Domain):
    name = "logic"
    grammar = "logic"
    tasks = {
        # A verdict's formula gets 1,024 worlds up to 32 nodes, fewer beyond (at least
        # 256): on Pelletier's problems and generated first-order formulas as
        # accurate as 1,024 for all, at a bounded time per formula. The pairs keep
        # 1,024 worlds up to 128 nodes: test_massive's sampled assignments need them.
        "verdict": LogicTask("verdict", VERDICTS, "a formula is valid, contingent or unsatisfiable", cells=2**15),
        "entails": LogicTask(
            "entails", ENTAILS + VERDICTS, "does A entail B, for `A |= B`: yes / no (subformulas: their verdicts)",
            PAIR_CELLS,
        ),
        "relation": LogicTask(
            "relation", RELATIONS + VERDICTS,
            "Bowman's relation of A and B, for `A ; B`: = < > ^ | v # (subformulas: their verdicts)",
            PAIR_CELLS,
        ),
    }
    Difficulty = LogicDifficulty
    curriculum_start = {"depth": 1, "variables": 1, "quantifier_depth": 1, "operators": 2}
    node_kinds = (
        "PROP", "VAR", "CONST", "PRED", "true", "false", "not", "and", "or", "implies", "iff",
        "forall", "exists", "pred", "eq", "entails", "relation",
    )

    def parse(self, text: str) -> Node:
        return resolve(parse(self.grammar, text, domain=self.name))

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        _check_shape(tree, task)
        return node_answers(tree)

    def worlds(self, tree: Node, task: str, positions: int) -> Worlds:
        """Every node's truth at up to `positions` grid positions (see _Positions); a
        pair node's cell is which of A, B hold there."""
        _check_shape(tree, task)
        grid = _grid(tree, positions)
        positions = grid.count
        order = postorder(tree)
        index = {id(node): i for i, node in enumerate(order)}
        values = _node_values(grid, tree)
        atoms = np.full((len(order), positions), -1, dtype=np.int64)
        labels = np.full((len(order), positions), -1, dtype=np.int64)
        reads = None
        for i, (node, value) in enumerate(zip(order, values)):
            if i % 256 == 0:
                budget.check()  # a wide grid's reads: a 29k-node formula's take ~0.5 s to fill
            k = kind(node)
            if k in PAIRS:
                a, b = (values[index[id(c)]] for c in children(node))
                labels[i] = 2 + 2 * a.astype(np.int64) + b
                continue
            if value is None:
                continue
            labels[i] = value
            if k in ATOMS:
                atoms[i] = value
            if k in QUANTIFIERS:
                partners = grid.partners(node)  # one column for a vacuous quantifier: pad with it
                if reads is None:
                    widest = int(grid.size.max())
                    reads = np.broadcast_to(np.arange(positions)[None, :, None], (len(order), positions, widest)).copy()
                    budget.check()
                reads[i] = partners[:, np.minimum(np.arange(reads.shape[2]), partners.shape[1] - 1)]
        return Worlds(atoms, labels, reads, grid.exhaustive)

    def witness(self, tree: Node, task: str, cells: list[int], positions: int) -> str:
        """The smallest world in which the model's root grid shows its answer: where a
        contingent formula is false (a countermodel), or where A holds without B;
        checked exactly in that one finite structure (`holds`), and said so."""
        wanted = {"verdict": 0, "entails": 4}.get(task)
        if wanted not in cells or (task == "verdict" and 1 not in cells):
            return ""
        grid = _grid(tree, positions)
        shown = np.flatnonzero(np.array(cells[: grid.count]) == wanted)
        if not len(shown):
            return ""
        structure = grid.structure(int(shown[np.argmin(grid.size[shown])]))  # the smallest such world
        where = structure.describe(grid.sig)
        try:
            if task == "verdict":
                checked = not symbolic.holds(tree, structure)
            else:
                a, b = children(tree)
                checked = symbolic.holds(a, structure) and not symbolic.holds(b, structure)
        except HybridTRMError:  # out of budget: shown unchecked
            return f"false in {where} (not checked)" if task == "verdict" else f"A true, B false in {where} (not checked)"
        mark = "checked ✓" if checked else "does not check out ✗"
        return f"false in {where} ({mark})" if task == "verdict" else f"A true, B false in {where} ({mark})"

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        tree = self.parse(text) if tree is None else tree
        _check_shape(tree, task)
        decide = {"verdict": symbolic.verdict, "entails": symbolic.entails, "relation": symbolic.relation}[task]
        try:
            expected, evidence = decide(tree, budget_s)
        except VerifierTimeout as err:
            return Verdict(None, None, str(err))
        given = answer.strip().lower()
        if given not in ROOT_ANSWERS[task]:
            return Verdict(False, expected, f"{answer!r} is not one of {' '.join(ROOT_ANSWERS[task])}; {evidence}")
        return Verdict(given == expected, expected, evidence)

    def generate(self, rng: random.Random, difficulty: LogicDifficulty, task: str) -> Example:
        d = difficulty
        ops, syntaxes = _check_knobs(d)
        syntax = rng.choice(syntaxes) if d.syntax == "mixed" else d.syntax
        if 0 < d.first_order < 1:  # a mixture: this example is first-order or not
            d = replace(d, first_order=rng.random() < d.first_order)
            syntax = syntax if syntax in _able(d, ops) else "ascii"
        if d.first_order:
            arities = {p: rng.randint(1, d.arity) if d.arity > 1 else 1 for p in PREDICATES[: d.predicates]}
            sig = Signature((), tuple(sorted(arities.items())), tuple(CONSTANTS[: d.constants]),
                            tuple(sorted(VARIABLES[: d.variables])), d.equality > 0)
            letters = ()
        else:
            arities, letters = {}, tuple(sorted(rng.sample(LETTERS, d.variables)))
            sig = Signature(letters, (), (), (), False)
        worlds = search_worlds(sig, rng, d.quantifier_depth if d.first_order else 0)
        answers = ROOT_ANSWERS[task]
        target = rng.choices(answers, weights=_weights(d.balance, answers))[0]
        tree, answer = self._find(rng, d, ops, letters, arities, task, target, worlds)
        text = render(tree, syntax)
        meta = {"depth": _height(tree), "syntax": syntax}
        if d.first_order:
            meta["quantifier_depth"] = _quantifier_depth(tree)
        return Example(text, answer, task, meta)

    def _find(self, rng, d, ops, letters, arities, task, target, worlds) -> tuple[Node, str]:
        """A tree whose exact answer is `target`, and that answer: drawn from pools of
        random formulas by _candidates, whose answers on `worlds` are exact where the
        labeller lists every world, else a guess each candidate's verifier answer
        must confirm (CONFIRMED per round). Where no round finds one, any decided
        tree."""
        if d.balance == NATURAL:  # no search: two random formulas under a random root
            for _ in range(_ROUNDS):
                pool = [_formula(rng, d, ops, letters, task, arities) for _ in range(2)]
                root = task if task in PAIRS else rng.choice([op for op in ops if op in BINARY])
                tree = lark.Tree(root, pool)
                answer = self._answer(self.parse(render(tree, "ascii")), task)
                if answer is not None:
                    return tree, answer
        fallback = None
        for _ in range(_ROUNDS):
            pool = [_formula(rng, d, ops, letters, task, arities) for _ in range(_POOL)]
            masks = [worlds.bitmask(f) for f in pool]
            for i, tree in enumerate(_candidates(rng, task, target, ops, pool, masks, worlds.full, d)):
                if worlds.exact:
                    return tree, target
                if i == CONFIRMED:
                    break
                answer = self._answer(self.parse(render(tree, "ascii")), task)
                if answer == target:
                    return tree, answer
                fallback = fallback or (answer and (tree, answer))
        if fallback is None:  # the drawn answer did not turn up: take any pair, labelled exactly
            root = task if task in PAIRS else next(op for op in ops if op in BINARY)
            tree = lark.Tree(root, [pool[0], pool[1]])
            answer = self._answer(self.parse(render(tree, "ascii")), task)
            fallback = answer and (tree, answer)
        if not fallback:
            raise HybridTRMError(f"logic: no formula the verifier decides within {GENERATOR_BUDGET}s turned up; use smaller knobs")
        return fallback

    def _answer(self, tree: Node, task: str) -> str | None:
        """The exact answer: the labeller's where it can list the worlds, else the
        verifier's (None where it cannot decide within GENERATOR_BUDGET)."""
        if countable_within(signature(tree), MAX_STRUCTURES):
            try:
                return self.label_subtrees(tree, task)[-1]
            except HybridTRMError:  # a table past MAX_CELLS
                pass
        decide = {"verdict": symbolic.verdict, "entails": symbolic.entails, "relation": symbolic.relation}[task]
        try:
            return decide(tree, GENERATOR_BUDGET)[0]
        except VerifierTimeout:
            return None


def _check_shape(tree: Node, task: str) -> None:
    k = kind(tree)
    if task == "verdict" and k in PAIRS:
        raise HybridTRMError(f"logic/verdict takes one formula; a pair `A {'|=' if k == 'entails' else ';'} B` is task {k}")
    if task in PAIRS and k != task:
        shape = {"entails": "A |= B", "relation": "A ; B"}[task]
        raise HybridTRMError(f"logic/{task} takes a pair written `{shape}`")
