"""What a domain is: a grammar, tasks with their answer vocabularies, a seeded
generator with difficulty knobs, a labeller for every subtree, and a verifier.

Nothing here imports torch: domains describe data; the model learns from it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, ClassVar

from ..errors import HybridTRMError
from ..grammar import Node, parse, postorder


@dataclass(frozen=True)
class Task:
    """A named question about an input whose answer is one class out of `answers`.

    The model sees every answer as a grid of `positions` cells, each one of
    `len(answers)` classes; a one-class task is the grid of one cell.
    """

    name: str
    answers: tuple[str, ...]
    description: str = ""

    @property
    def positions(self) -> int:
        return 1

    @property
    def classes(self) -> int:
        return len(self.answers)

    def encode(self, answer: str, width: int | None = None) -> list[int]:
        """The grid of class ids for an answer string; raises on an answer outside the task.
        `width` is for grid tasks; a one-class task has width 1."""
        try:
            return [self.answers.index(answer.strip())]
        except ValueError:
            raise HybridTRMError(f"task {self.name}: {answer!r} is not one of {', '.join(self.answers)}") from None

    def decode(self, grid: list[int]) -> str:
        return self.answers[grid[0]]

    def wrong_answer(self, answer: str) -> str | None:
        """An answer other than `answer`, which a verifier must reject (None: the
        task has only one answer): the vocabulary's next one, or one more where
        the answer is an integer outside it."""
        if answer not in self.answers:
            return str(int(answer) + 1)
        if len(self.answers) < 2:
            return None
        return self.answers[(self.answers.index(answer) + 1) % len(self.answers)]


@dataclass(frozen=True)
class WorldTask(Task):
    """A question answered over worlds (interpretations, sampled or all of them).

    The model's grid holds one cell per world; a cell is one of `cell_classes` (a
    formula: false / true in that world). The answer is read off which classes occur
    anywhere in the root's grid (valid: true in every world), so a task trained on
    64 worlds runs on 1024: the cell's weights do not depend on the world."""

    cell_classes: tuple[str, ...] = ("false", "true")
    worlds: int = 1024  # grid positions at inference
    training_worlds: int = 64  # in training, unless the run sets its width
    # The most confidence an answer gets that says no world of some kind exists
    # (valid: no countermodel), read off a sample of worlds: a sample cannot show
    # that. Measured: about 9 in 10 such answers are right on formulas drawn as they
    # come (docs/logic.md).
    sampled_confidence: float = 0.9
    # By default a tree gets `worlds` positions, fewer where its nodes x worlds would
    # pass `cells` (a 300-node formula: 436), never fewer than `min_worlds`: the time
    # per input stays bounded by its cells. An explicit number of worlds is kept.
    cells: int = 2**17
    min_worlds: int = 256

    @property
    def positions(self) -> int:
        return self.worlds

    def grid_positions(self, nodes: int, worlds: int | None = None) -> int:
        """The positions of a tree of `nodes` nodes: `worlds` where given, else see `cells`."""
        if worlds is not None:
            return worlds
        return max(min(self.min_worlds, self.worlds), min(self.worlds, self.cells // max(1, nodes)))

    @property
    def classes(self) -> int:
        return len(self.cell_classes)

    def decode(self, grid: list[int]) -> str:
        return self.read(frozenset(grid))

    def read(self, present: frozenset[int]) -> str:
        """The answer, from the set of cell classes that occur in the grid."""
        raise NotImplementedError

    def witnessed(self, answer: str) -> bool:
        """Whether the answer claims only what some world on the grid shows, never
        that no world of some kind exists (which a sample cannot show)."""
        return False


@dataclass
class Worlds:
    """One tree over P positions (worlds, or a world and values of its variables),
    nodes in postorder: what tensorize reads for a WorldTask."""

    atoms: Any  # (N, P) int: an atom's truth (0/1) at each position, -1 at other nodes
    labels: Any  # (N, P) int: each node's cell class at each position, -1 unlabelled
    # (N, P, K) int or None: the positions at which a node reads its children at each
    # of its own positions (a quantifier reads its body at every value of its
    # variable); None: every node reads its children where it stands.
    reads: Any = None
    exhaustive: bool = True  # every world the answer depends on is on the grid (False: a sample)


@dataclass(frozen=True)
class IntegerTask(Task):
    """An integer answer as a grid of decimal digits in ten's complement, least
    significant first: addition, subtraction and negation then only carry upwards,
    one position per inner step, and the sign needs no comparison of magnitudes."""

    digits: int = 12  # largest magnitude: 10**digits - 1
    # Whether a node's answer needs its digits read from the top down as well as
    # carried up (a comparison, a division: the model's carry_down).
    carry_down: bool = False

    @property
    def positions(self) -> int:
        return self.digits + 1  # one more digit carries the sign

    def encode(self, answer: str, width: int | None = None) -> list[int]:
        """Ten's complement over `width` positions (default: the task's): one digit
        fewer than the width, plus the sign."""
        width = width or self.positions
        value = parse_integer(answer, self.name)
        if abs(value) >= 10 ** (width - 1):
            raise HybridTRMError(f"task {self.name}: {value} has more than {width - 1} digits")
        value %= 10**width
        return [(value // 10**i) % 10 for i in range(width)]

    def decode(self, grid: list[int]) -> str:
        value = sum(d * 10**i for i, d in enumerate(grid))
        if grid[-1] >= 5:
            value -= 10 ** len(grid)
        return str(value)

    def wrong_answer(self, answer: str) -> str | None:
        return str(int(answer) + 1)


def parse_integer(text: str, what: str) -> int:
    """An integer from a user's string, strictly (never evaluated as code)."""
    stripped = text.strip()
    body = stripped[1:] if stripped[:1] in "+-" else stripped
    if not body.isdigit() or not body.isascii():
        raise HybridTRMError(f"{what}: {text!r} is not an integer")
    return int(stripped)


@dataclass
class Example:
    input: str
    answer: str
    task: str
    meta: dict[str, Any] = field(default_factory=dict)  # depth, arity, operands: what eval groups by

    def to_json(self) -> dict[str, Any]:
        return {"input": self.input, "answer": self.answer, "task": self.task, **self.meta}


# What a run (Domain.run) asks its model: question texts in, (answer, confidence)
# out, one pair per text.
Answerer = Callable[[list[str]], list[tuple[str, float]]]


@dataclass
class Run:
    """A task's answer for one input from a run whose questions a model answered."""

    answer: str
    confidence: float  # the least confidence of the run's answers
    node_answers: list[str]  # per node, in postorder ('' where the run gives a node none)
    node_steps: list[int]  # per node: the questions asked for it (or the rounds it took)


@dataclass
class Verdict:
    correct: bool | None  # None: the check did not finish within its budget
    expected: str | None
    evidence: str


class Domain:
    """Base class of every domain, built-in or plugin. Subclasses set the class
    attributes and implement generate and verify, and label_subtrees where they can."""

    name: ClassVar[str]
    grammar: ClassVar[str]  # a built-in grammar name or a path to a .lark file
    tasks: ClassVar[dict[str, Task]]
    Difficulty: ClassVar[type]  # a dataclass of named knobs
    node_kinds: ClassVar[tuple[str, ...]]  # every kind the grammar's trees can hold

    def parse(self, text: str) -> Node:
        return parse(self.grammar, text, domain=self.name)

    def question(self, text: str) -> Node:
        """A question a run asks this domain's model (Domain.run), as the tree the
        model reads: the text parsed, unless the domain asks in another form."""
        return self.parse(text)

    def task(self, name: str | None) -> Task:
        if name is None:
            return next(iter(self.tasks.values()))
        if name not in self.tasks:
            from ..errors import UnknownDomainError

            raise UnknownDomainError(
                f"domain {self.name} has no task {name!r}; tasks: {', '.join(self.tasks)}"
            )
        return self.tasks[name]

    def difficulty(self, **knobs: Any) -> Any:
        known = {f.name for f in fields(self.Difficulty)}
        unknown = set(knobs) - known
        if unknown:
            raise HybridTRMError(
                f"domain {self.name}: unknown difficulty knob(s) {', '.join(sorted(unknown))}; knobs: {', '.join(sorted(known))}"
            )
        return replace(self.Difficulty(), **knobs)

    def example(self, seed: int, index: int, difficulty: Any, task: str | None = None) -> Example:
        """The index-th example of a seeded stream: reproducible on its own."""
        return self.generate(random.Random(seed * 1_000_003 + index), difficulty, self.task(task).name)

    def generate(self, rng: random.Random, difficulty: Any, task: str) -> Example:
        raise NotImplementedError

    def label_subtrees(self, tree: Node, task: str) -> list[str | None]:
        """The answer of every subtree, in `grammar.postorder` order (None: no label).
        The default labels none: the model then learns from each example's answer
        at its root alone, which is much harder (docs/dynamic-depth.md, "the curriculum"); label every
        node you can."""
        return [None] * len(postorder(tree))

    def label_prefixes(self, tree: Node, task: str) -> list[str | None]:
        """For every node, in postorder: as a child, its parent's answer over the
        children up to and including it (None: no such label, the default).
        Lets the cell's scan over a node's children learn from every step."""
        return [None] * len(postorder(tree))

    def walked_kinds(self, difficulty: Any) -> frozenset[str]:
        """Node kinds that a model trained at `difficulty` answers without having
        seen them, because code around the model walks them (the programs
        executor: statements, names, calls); none by default."""
        return frozenset()

    def node_difficulty(self, tree: Node, task: str, positions: int) -> list[int | None]:
        """For every node, in postorder, how much work its own answer takes given its
        children's (None: not measured for this node or task), on an answer grid of
        `positions`: what a halting model's steps per node should track. The
        domain's `difficulty_measure` names it."""
        return [None] * len(postorder(tree))

    difficulty_measure: ClassVar[dict[str, str]] = {}  # task -> what node_difficulty counts
    # Tasks answered by running the input with a model that answers questions the
    # run asks: task -> that model's task, "task" in this domain or "domain/task" in
    # another (programs: the executor's model answers `output`'s digit facts,
    # and its run also counts the statements executed: `trips`; english `truth` and
    # programs' analyses: forward chaining whose rounds the logic model evaluates,
    # domains/rounds.py). Such a task has no checkpoint of its own; it loads the
    # other's (pretrained.require), and `run` answers it.
    run_by: ClassVar[dict[str, str]] = {}

    def model_of(self, task: str) -> tuple[str, str]:
        """The domain and task whose model (and checkpoint) answers `task`: its own,
        or the one whose questions a run of the input asks (run_by)."""
        domain, _, other = self.run_by.get(task, task).rpartition("/")
        return domain or self.name, other

    def run(self, trees: list[Node], task: str, ask: Answerer) -> list[Run]:
        """Answer `task` for each tree by a run that asks `ask` its questions (texts
        that the domain of `model_of(task)` reads with `question`, answered with
        that task's answers and a confidence, in batches); only where the domain
        runs its inputs."""
        raise HybridTRMError(f"{self.name}/{task} is answered by its model directly, not by a run")

    # Integer knobs a curriculum advances, each from this, its easiest value, up to
    # the training difficulty's (see training/curriculum.py).
    curriculum_start: ClassVar[dict[str, int]] = {}

    def answer_digits(self, tree: Node, task: str) -> int | None:
        """An upper bound on the digits of any subtree's answer, for integer tasks
        (None: no bound known). Inference sizes the answer grid by it."""
        return None

    def worlds(self, tree: Node, task: str, positions: int) -> Worlds:
        """For a WorldTask: the tree's atoms and labels at up to `positions` grid
        positions (fewer when fewer worlds exist; trees of one batch are then
        repeated to one width, so position j of a grid of P stands for j mod P)."""
        raise NotImplementedError

    def witness(self, tree: Node, task: str, cells: list[int], positions: int) -> str:
        """For a WorldTask: the world in which the model's root grid (`cells`, over
        `positions` grid positions) shows its answer, readably ('' if none)."""
        return ""

    def task_for(self, tree: Node) -> str | None:
        """The task an input's shape asks for, where it says one (`solve` without
        --task); None (the default): the shipped models decide (solver.pick_task)."""
        return None

    def symbolic_answer(self, tree: Node, task: str) -> str | None:
        """The answer to a task no model gives (a formula: english's `logic`), from
        the domain's own reading of the tree, for `solve` where no checkpoint of the
        task exists; the verifier then checks it as it would a model's. None (the
        default): the task is answered by a model only."""
        return None

    def verify(self, text: str, answer: str, task: str, budget_s: float = 2.0, tree: Node | None = None) -> Verdict:
        """Whether `answer` is right for `text`, computed exactly within `budget_s`
        seconds (correct=None when it runs out). `tree`: the text's parse, where the
        caller has it (solve parses once); None: parse the text."""
        raise NotImplementedError
