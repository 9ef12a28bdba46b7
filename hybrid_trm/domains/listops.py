"""ListOps (Nangia & Bowman 2018): nested lists of MAX, MIN, MED (median, rounded
down) and SM (sum mod 10) over single digits. One task, `value` (0..9)."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

import lark

from .. import budget
from ..errors import HybridTRMError, VerifierTimeout
from ..fast_lalr import FastLALR, specialize
from ..grammar import Node, children, kind, load_grammar, postorder
from ..verifiers.numeric import evaluate, listops_combine
from .base import Domain, Example, Task, Verdict, parse_integer

OPS = {"max": "[MAX", "min": "[MIN", "med": "[MED", "sm": "[SM"}
FOLDS = ("max", "min", "sm")  # operators whose answer over a prefix is a fold (label_prefixes)
_COUNTED = ("sm", "med")  # the operators whose arguments node_difficulty counts


@dataclass(frozen=True)
class ListOpsDifficulty:
    # Nesting depth, drawn uniformly in [depth_min, depth]; one argument chain
    # reaches it, the other arguments are lists with chance `sublist`.
    depth: int = 8
    depth_min: int = 1
    arity: int = 5  # arguments per list, drawn in [arity_min, arity]
    arity_min: int = 2
    sublist: float = 0.25  # as in the benchmark's generator
    ops: str = "max,min,med,sm"
    binarised: bool = False  # render as the benchmark files do: ( ( [MAX 2 ) 9 ) ] )
    # "chain" (the above) or "lra": Long Range Arena's generator (Tay et al. 2021,
    # lra_benchmarks/data/listops.py): every argument, and the root, a list with
    # chance `sublist` until `depth` (its max_depth: lists nest at most depth - 1
    # deep), the rest digits, kept when length_min < length < length_max, where a
    # digit counts 1 and a list 2 more (its operator and "]"). Its distribution is
    # depth=10 arity=10 binarised=true, the lengths' defaults.
    shape: str = "chain"
    length_min: int = 500
    length_max: int = 2000


class ListOpsDomain(Domain):
    name = "listops"
    grammar = "listops"
    tasks = {"value": Task("value", tuple(str(d) for d in range(10)), "the value of the list, 0..9")}
    Difficulty = ListOpsDifficulty
    curriculum_start = {"depth": 1, "arity": 2}
    node_kinds = ("DIGIT", "max", "min", "med", "sm")

    def generate(self, rng: random.Random, difficulty: ListOpsDifficulty, task: str) -> Example:
        if difficulty.shape == "lra":
            tree = _lra_tree(rng, difficulty)
            meta = {"depth": _depth(tree), "arity": _max_arity(tree), "length": _length(tree)}
            return Example(_render(tree, difficulty.binarised), str(_value(tree)), task, meta)
        if difficulty.shape != "chain":
            raise HybridTRMError(f"listops: shape must be chain or lra, not {difficulty.shape!r}")
        depth = rng.randint(difficulty.depth_min, difficulty.depth)
        tree = _list(rng, difficulty, depth)
        # The answer from the generated tree itself, by the labeller's semantics: a
        # parse of the text here cost a training batch a quarter of its making.
        return Example(_render(tree, difficulty.binarised), str(_value(tree)), task, {"depth": depth, "arity": _max_arity(tree)})

    def parse(self, text: str) -> Node:
        """Domain.parse, the grammar's parser reading one-line texts on a path of
        its own (_ListsPath): the same tree, twice as fast as the LALR tables."""
        if self.grammar == "listops":
            specialize(load_grammar("listops"), _ListsPath)  # once a parser: then a check that it is
        return super().parse(text)

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        values: dict[int, int] = {}
        labels: list[str | None] = []
        for node in postorder(tree):
            value = _apply(kind(node), node, [values.pop(id(c)) for c in children(node)])
            values[id(node)] = value
            labels.append(str(value))
        return labels

    difficulty_measure = {"value": "arguments of SM and MED"}

    def node_difficulty(self, tree: Node, task: str, positions: int) -> list[int | None]:
        """The number of arguments of an SM or MED node (a sum or a median over more
        arguments is more work; MAX and MIN are not counted)."""
        tree_class = lark.Tree  # kind and children, read inline: eval asks this of every input
        return [
            (len(n.children) if n.data in _COUNTED else None) if isinstance(n, tree_class) else (0 if n.type in _COUNTED else None)
            for n in postorder(tree)
        ]

    def label_prefixes(self, tree: Node, task: str) -> list[str | None]:
        """The answer over each prefix of a list's arguments, for the operators that
        are folds: MAX, MIN and SM over a prefix follow from their answer over the
        shorter prefix and the next argument. A median does not (the median of
        3 1 4 and of 3 1 9 is 3, but 3 1 4 2 and 3 1 9 7 have 2 and 5), so a fold
        taught the median of every prefix learns a guess that drifts on lists longer
        than it saw; a MED node's arguments carry no prefix label."""
        values: dict[int, int] = {}
        prefix: dict[int, str] = {}
        order = postorder(tree)
        for node in order:
            args = [values[id(c)] for c in children(node)]
            if kind(node) in FOLDS:
                for j, child in enumerate(children(node)):
                    prefix[id(child)] = str(_apply(kind(node), node, args[: j + 1]))
            values[id(node)] = _apply(kind(node), node, args)
        return [prefix.get(id(node)) for node in order]

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        try:
            value = int(evaluate(self.parse(text) if tree is None else tree, listops_combine, budget_s))
        except VerifierTimeout as err:
            return Verdict(None, None, str(err))
        evidence = f"value of the list = {value}"
        try:
            correct = parse_integer(answer, f"answer to {task}") == value
        except HybridTRMError as err:
            return Verdict(False, str(value), f"{err}; {evidence}")
        return Verdict(correct, str(value), evidence)


# The grammar's list terminals and the alias each list's tree is named by (grammars/listops.lark).
_LISTS = {"_MAX": "max", "_MIN": "min", "_MED": "med", "_SM": "sm"}


class _ListsPath:
    """The fast path (fast_lalr.FastLALR's place) for ListOps: the same Lark tree
    (tests/test_listops_parse.py compares them) from the grammar's own scanner
    (one regex match a token, spaces and parentheses skipped before it) and a
    stack of open lists in place of the LALR tables: a list's tree is its items,
    a digit a Token with Lark's positions. Texts of several lines, and any it does
    not read (an error, most likely), go to FastLALR, as before."""

    def __init__(self, tables: FastLALR):
        self.tables = tables

    def parse(self, text: str) -> Node | None:
        tree = self._lists(text)
        return tree if tree is not None else self.tables.parse(text)

    def _lists(self, text: str) -> Node | None:
        if "\n" in text:  # Lark's lines and columns: the tables' path counts them
            return None
        make, token_class, tree_class, check = str.__new__, lark.Token, lark.Tree, budget.check
        ignore, lists = self.tables.ignore, _LISTS
        open_lists: list[tuple[str, list]] = []  # (alias, items so far), innermost last
        root, pos, tokens = None, 0, 0
        for match in iter(self.tables.scan(text).match, None):
            tokens += 1
            if not tokens & 4095:  # a time budget stops a long parse (budget.py)
                check()
            pos = match.end()
            terminal = match.lastgroup
            if terminal is None:  # the ignored characters that end the text
                break
            if terminal in ignore:
                continue
            if root is not None:  # anything after the whole list
                return None
            if terminal == "DIGIT":  # Lark's Token on one line, as FastLALR makes it
                start = match.start(terminal)
                node = make(token_class, value := match.group(terminal))
                node.type, node.start_pos, node.value, node.line, node.column = terminal, start, value, 1, start + 1
                node.end_line, node.end_column, node.end_pos = 1, pos + 1, pos
            elif terminal in lists:
                open_lists.append((lists[terminal], []))
                continue
            elif terminal == "RSQB" and open_lists and open_lists[-1][1]:
                name, items = open_lists.pop()
                node = tree_class(name, items)
            else:  # a `]` closing nothing or an empty list
                return None
            if open_lists:
                open_lists[-1][1].append(node)
            else:
                root = node
        return root if pos == len(text) and not open_lists else None


def _apply(node_kind: str, node: Node, args: list[int]) -> int:
    """Plain-integer semantics for labels; the verifier computes independently (verifiers/numeric.py)."""
    if node_kind == "DIGIT":
        return int(node)
    if node_kind == "max":
        return max(args)
    if node_kind == "min":
        return min(args)
    if node_kind == "sm":
        return sum(args) % 10
    if node_kind == "med":
        return int(statistics.median(args))
    raise HybridTRMError(f"listops: unknown node {node_kind!r}")


# Generated trees: an int (a digit) or (op, [arguments]).


def _list(rng: random.Random, d: ListOpsDifficulty, depth: int) -> tuple:
    ops = d.ops.split(",")
    n = rng.randint(d.arity_min, d.arity)
    deep_slot = rng.randrange(n)
    args: list = []
    for i in range(n):
        if depth > 1 and i == deep_slot:
            args.append(_list(rng, d, depth - 1))
        elif depth > 1 and rng.random() < d.sublist:
            args.append(_list(rng, d, rng.randint(1, depth - 1)))
        else:
            args.append(rng.randint(0, 9))
    return (rng.choice(ops), args)


LRA_TRIES = 10_000  # trees drawn for one inside the lengths; LRA's own defaults need ~10


def _lra_tree(rng: random.Random, d: ListOpsDifficulty):
    """A tree drawn as LRA draws one, again until its length lies inside the bounds."""
    if d.length_max - d.length_min < 2:
        raise HybridTRMError(f"listops: no length lies strictly between length_min {d.length_min} and length_max {d.length_max}")
    for _ in range(LRA_TRIES):
        tree = _lra_node(rng, d, 1)
        if d.length_min < _length(tree) < d.length_max:
            return tree
    raise HybridTRMError(
        f"listops: {LRA_TRIES:,} LRA trees at depth {d.depth}, arity {d.arity}, sublist {d.sublist} missed "
        f"length {d.length_min}..{d.length_max}; widen the lengths or raise depth, arity or sublist"
    )


def _lra_node(rng: random.Random, d: ListOpsDifficulty, depth: int):
    if depth >= d.depth or rng.random() >= d.sublist:
        return rng.randint(0, 9)
    n = rng.randint(d.arity_min, d.arity)
    return (rng.choice(d.ops.split(",")), [_lra_node(rng, d, depth + 1) for _ in range(n)])


def _render(tree, binarised: bool) -> str:
    if isinstance(tree, int):
        return str(tree)
    op, args = tree
    parts = [_render(a, binarised) for a in args]
    if not binarised:
        return f"{OPS[op]} {' '.join(parts)} ]"
    # ( ( ( [OP a ) b ) c ) ] ) -- the benchmark files' left-branching binarisation.
    text = f"( {OPS[op]} {parts[0]} )"
    for part in parts[1:]:
        text = f"( {text} {part} )"
    return f"( {text} ] )"


def _value(tree) -> int:
    if isinstance(tree, int):
        return tree
    op, args = tree
    return _apply(op, None, [_value(a) for a in args])


def _max_arity(tree) -> int:
    if isinstance(tree, int):
        return 0
    return max([len(tree[1])] + [_max_arity(a) for a in tree[1]])


def _depth(tree) -> int:
    """Lists nested in each other, the outermost counted (a digit: 0)."""
    if isinstance(tree, int):
        return 0
    return 1 + max(_depth(a) for a in tree[1])


def _length(tree) -> int:
    """LRA's length: 1 a digit, 2 a list (its operator and "]") besides its arguments."""
    if isinstance(tree, int):
        return 1
    return 2 + sum(_length(a) for a in tree[1])
