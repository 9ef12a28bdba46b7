"""Logic: propositional and first-order formulas (grammars/logic.lark).

Tasks: `verdict` of one formula (valid / contingent / unsatisfiable); `entails` of a
pair `A |= B` (yes / no); `relation` of a pair `A ; B`, Bowman et al.'s seven classes
(= equivalent, < A entails B strictly, > B entails A strictly, ^ negation,
| alternation, v cover, # independent). Every formula node is labelled with its own
verdict, so the cell is supervised at every subformula; the pair node carries the
pair's answer, which is why `entails` and `relation` list the verdicts among their
answers too.

This file holds the domain, LogicDomain. The package, imports flowing one way
(roles <- semantics <- grid; roles <- syntax; semantics, syntax <- generator):
- roles.py: the node kinds, and `resolve` (names every leaf of a parsed tree by its role);
- semantics.py: the labeller's exact evaluator (truth tables as bitmasks for
  propositional formulas; every finite structure up to the monadic bound, as numpy
  arrays, for first-order ones), its limits, and `node_answers`;
- grid.py: the world grid the model computes (LogicTask, the grid positions);
- syntax.py: `render` (one tree in each surface syntax);
- generator.py: the seeded generator (LogicDifficulty, random formulas, the search).
The verifier (verifiers/logic.py) answers the same questions independently, with z3.
"""

from __future__ import annotations

import random
from dataclasses import replace

import lark
import numpy as np

from ...errors import HybridTRMError, VerifierTimeout
from ...grammar import Node, children, kind, parse, postorder
from ...verifiers import logic as symbolic
from ...verifiers.logic import RELATIONS, Signature
from ..base import Domain, Example, Verdict, Worlds
from .generator import (
    CONSTANTS,
    LETTERS,
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
    _search,
    _weights,
)
from .grid import ATOMS, LEAN, PAIR_CELLS, LogicTask, _grid
from .roles import BINARY, PAIRS, QUANTIFIERS, TERMS, resolve
from .semantics import (
    ENTAILS,
    MAX_CELLS,
    MAX_STRUCTURES,
    MAX_TRUTH_TABLE_VARIABLES,
    ROOT_ANSWERS,
    VERDICTS,
    _node_values,
    _semantics,
    _value,
    node_answers,
)
from .syntax import SYNTAXES, render

__all__ = [
    "ATOMS", "BINARY", "CONSTANTS", "ENTAILS", "LEAN", "LETTERS", "MAX_CELLS", "MAX_STRUCTURES",
    "MAX_TRUTH_TABLE_VARIABLES", "PAIR_CELLS", "PAIRS", "PREDICATES", "QUANTIFIERS", "RELATIONS",
    "ROOT_ANSWERS", "SYNTAXES", "TERMS", "VARIABLES", "VERDICTS", "LogicDifficulty", "LogicDomain",
    "LogicTask", "node_answers", "render", "resolve",
]


class LogicDomain(Domain):
    name = "logic"
    grammar = "logic"
    tasks = {
        "verdict": LogicTask("verdict", VERDICTS, "a formula is valid, contingent or unsatisfiable"),
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
                partners = grid.partners(str(node.children[0]))
                if reads is None:
                    reads = np.broadcast_to(np.arange(positions)[None, :, None], (len(order), positions, partners.shape[1])).copy()
                reads[i] = partners
        return Worlds(atoms, labels, reads)

    def witness(self, tree: Node, task: str, cells: list[int], positions: int) -> str:
        """The world in which the model's root grid shows its answer: where a
        contingent formula is false (a countermodel), or where A holds without B."""
        wanted = {"verdict": 0, "entails": 4}.get(task)
        if wanted not in cells or (task == "verdict" and 1 not in cells):
            return ""
        where = _grid(tree, positions).describe(cells.index(wanted))
        return f"false in {where}" if task == "verdict" else f"A true, B false in {where}"

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
            sig = Signature((), tuple((p, 1) for p in PREDICATES[: d.predicates]), tuple(CONSTANTS[: d.constants]),
                            tuple(sorted(VARIABLES[: d.variables])), d.equality > 0)
            letters = ()
        else:
            letters = tuple(sorted(rng.sample(LETTERS, d.variables)))
            sig = Signature(letters, (), (), (), False)
        sem = _semantics(sig)
        answers = ROOT_ANSWERS[task]
        target = rng.choices(answers, weights=_weights(d.balance, answers))[0]
        tree = None
        for _ in range(_ROUNDS):
            pool = [_formula(rng, d, ops, letters, task) for _ in range(_POOL)]
            worlds = [sem.worlds_of(_value(sem, f)) for f in pool]
            tree = _search(rng, task, target, ops, pool, worlds, sem.full, d)
            if tree is not None:
                break
        if tree is None:  # the drawn answer did not turn up: take any pair, labelled exactly
            root = task if task in PAIRS else next(op for op in ops if op in BINARY)
            tree = lark.Tree(root, [pool[0], pool[1]])
        text = render(tree, syntax)
        labels = self.label_subtrees(self.parse(text), task)
        meta = {"depth": _height(tree), "syntax": syntax}
        if d.first_order:
            meta["quantifier_depth"] = _quantifier_depth(tree)
        return Example(text, labels[-1], task, meta)


def _check_shape(tree: Node, task: str) -> None:
    k = kind(tree)
    if task == "verdict" and k in PAIRS:
        raise HybridTRMError(f"logic/verdict takes one formula; a pair `A {'|=' if k == 'entails' else ';'} B` is task {k}")
    if task in PAIRS and k != task:
        shape = {"entails": "A |= B", "relation": "A ; B"}[task]
        raise HybridTRMError(f"logic/{task} takes a pair written `{shape}`")
