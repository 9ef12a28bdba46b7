"""The tree reasoner: the recursive cell applied bottom-up, one tree level at a
time, with the input embedding and the answer head around it.

Where the domain labels prefixes (the answer over a node's first j children), the
latent after reading child j is scored against it: a scan of five children gets
five labels instead of one, which is what lets it learn a running sum mod 10.

A node's input x is its kind, the digits of its literal (for number leaves), a
summary of its children's answer distributions over any number of children
(ListOps lists have unbounded arity) and its first child's answer (the operand
whose role differs in most operators: a - b is not b - a). The summary is either
the sum (a count per answer) or, with summary = "share", the share of children
per answer and whether any child has it, which do not grow with the number of
children; with summary = "ordinal", the share is replaced by a balance per answer:
more children at or below it than above, as many, or fewer (the order statistics a
median reads, exact at any length, where shares of 5 children fix a threshold only
to within a fifth). The cell also reads the children one by one, in order, one inner step
each (a sum mod 10 is a running total; see cell.py for the two kinds of scan).

On a grid of worlds (logic), a quantifier reads its body's answers at the
positions the batch's `reads` name (every element of its variable), as the
presence of each answer among them; every other node reads where it stands.

With a halting head (ModelConfig.halting), each node stops after the first outer
cycle at which the head says its answer is already right; the cycles after it
compute only the nodes still running, and outer_cycles is the most a node may run.
The head is trained, at every cycle a node runs, on whether its answer was right
then (TRM's halting target), and in training a share of nodes is made to run on
past where it would stop (exploration), so that the later cycles keep learning.
With a controller as well (ModelConfig.controller: the recursion strategy), each
node kind has its own inner steps per cycle and its own halting offset, both
learnt by the depth reward (training/depth_rl.py): a number leaf may think for one
step where an addition thinks for six.

forward(batch) -> Output(final answer logits, loss, steps and cycles per node):
one call for training and inference; the loss is cross-entropy on every labelled
node at every outer cycle it ran, plus the halting head's binary cross-entropy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from .. import budget
from ..errors import HybridTRMError
from ..trees import IGNORE, NO_LITERAL, TreeBatch
from .cell import RecursiveCell
from .cells import LevelCells, distinct_cells, unique_rows
from .config import ModelConfig
from .levels import ByClass, Level, LevelRun, Signals, least_per_node


@dataclass
class Output:
    final: torch.Tensor  # (N, P, C) each node's answer logits at the last outer cycle it ran
    loss: torch.Tensor | None
    # (N,) latent updates each node ran: cycles x (children + n), or children + cycles x n
    # with the answer fold, which reads the children once.
    steps: torch.Tensor
    cycles: torch.Tensor  # (N,) outer cycles (answer updates) each node ran
    inner_steps: torch.Tensor  # (N,) latent updates per cycle each node thought for (n, or its controller's choice)
    # Halting sampled from the policy (halting="sample"): the log-probability of the stop
    # / go-on decisions each node took, and the first cycle (from 1) at which its answer
    # matched its label (0: none did, or it has no label).
    halt_log_prob: torch.Tensor | None = None
    first_right: torch.Tensor | None = None
    # The loss as a sum of means, each with the number of items it averages, in an
    # order fixed by the model's config: what lets ranks that each hold a share of a
    # batch make the whole batch's loss (training/distributed.py).
    loss_terms: list[tuple[torch.Tensor, torch.Tensor]] | None = None


HALTING_MODES = ("off", "threshold", "sample")
SHARED_LEAVES_FROM = 512  # leaves in a batch from which distinct_leaves runs them once each


class TreeReasoner(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        h = config.hidden
        self.kind_embedding = nn.Embedding(config.kinds, h)
        self.literal_embedding = nn.Embedding(NO_LITERAL + 1, h)
        if config.summary == "sum":
            self.child_counts = nn.Linear(config.classes, h, bias=False)
        else:
            self.child_presence = nn.Linear(config.classes, h, bias=False)
            if config.summary == "ordinal":
                self.child_balance = nn.Linear(2 * config.classes, h, bias=False)
            else:
                self.child_share = nn.Linear(config.classes, h, bias=False)
        self.first_child = nn.Linear(config.classes, h, bias=False)
        self.child_answer = nn.Linear(config.classes, h, bias=False)
        self.z_init = nn.Parameter(torch.zeros(h))
        self.y_init = nn.Parameter(torch.zeros(h))
        self.cell = RecursiveCell(h, config.expansion, config.carry, config.carry_down)
        self.head = nn.Linear(h, config.classes)
        # Reads the latent after each child of the scan: the answer over the children so
        # far (a running sum, a running max), where the domain labels such prefixes.
        self.prefix_head = nn.Linear(h, config.classes)
        if config.scan == "answer":
            self.scan_start = nn.Parameter(torch.zeros(h))
            self.running_answer = nn.Linear(config.classes, h, bias=False)
        if config.halting:
            # "This node's answer is already right", read off each grid position of y;
            # a node is as sure as its least sure position. Starts out saying "go on".
            self.halt_head = nn.Linear(h, 1)
            nn.init.constant_(self.halt_head.bias, -3.0)
        if config.controller:
            # Per node kind: logits over inner steps 1..n, starting out at n (what the
            # model trained with), and the halting logit's offset.
            self.strategy_steps = nn.Parameter(torch.zeros(config.kinds, config.inner_steps))
            with torch.no_grad():
                self.strategy_steps[:, -1] = 2.0
            self.strategy_halt = nn.Parameter(torch.zeros(config.kinds))
        nn.init.normal_(self.z_init, std=0.02)
        nn.init.normal_(self.y_init, std=0.02)

    def forward(
        self, batch: TreeBatch, with_loss: bool = True, groups: list[tuple[int, int]] | None = None,
        halting: str | None = None, explore: float = 0.0,
    ) -> Output:
        """Run the cell over the batch one group of nodes at a time: by default each
        level is one group (at inference, a level is cut into parts of at most
        PART_CELLS grid cells; its nodes do not read each other). `groups` = one node each gives the per-node recursion
        (same numbers, one node per step) that benchmarks compare against.

        Without the loss and without sampling, the leaves (the first level, most of
        the nodes in a tree) are computed once per distinct leaf (see
        distinct_leaves); `groups` = batch.levels runs the same loop without that.

        `halting`: "off" runs every node for all outer cycles; "threshold" (the default
        for a model with a halting head) stops a node after the first cycle whose
        halting probability passes the config's threshold, and the cycles after it
        compute only the nodes still running; "sample" draws each stop from that
        probability (the depth reward's policy). With the loss, `explore` is the
        share of nodes made to run a random 2..T cycles before they may stop (TRM's
        exploration), so the later cycles keep being trained.

        The batch is moved to the model's device (devices.py); what comes back is
        on that device too."""
        cfg = self.config
        device = self.z_init.device
        batch = batch.to(device)
        mode = self._halting_mode(halting)
        n, p = batch.nodes, batch.literal.shape[1]  # grid width comes with the data
        finals: list[torch.Tensor] = []
        signals = Signals(cfg.outer_cycles) if with_loss else None
        supervise_prefixes = with_loss and bool((batch.prefix_labels != IGNORE).any())
        steps = torch.zeros(n, dtype=torch.long, device=device)
        cycles = torch.zeros(n, dtype=torch.long, device=device)
        thought = torch.full((n,), cfg.inner_steps, dtype=torch.long, device=device)
        log_probs: list[torch.Tensor] = []
        first_right = torch.zeros(n, dtype=torch.long, device=device) if mode == "sample" else None
        inferring = groups is None and not with_loss and mode != "sample"
        # A grid of worlds runs once per distinct cell (cells.py); other grids share equal leaves.
        cells = distinct_cells(batch, per_node=cfg.halting) if inferring and not cfg.carry and p > 1 else None
        shared = self.distinct_leaves(batch, mode) if inferring and cells is None else None
        # Each node's answer distribution (each class's, with cells), read by its parent;
        # written one group at a time.
        answers = torch.zeros((n, p, cfg.classes) if cells is None else (cells.classes, cfg.classes), device=device)
        if cells is not None:
            groups = cells.parts(PART_CELLS)
            by_class = ByClass(cells.classes, cfg.classes, device)
        elif groups is None and not with_loss:
            groups = _level_parts(batch, shared is not None)
        for group in groups or batch.levels:
            budget.check()  # one level at a time: a deep tree's answer stops at its time budget
            if cells is not None:
                run = self._run_level(self._cells_level(group, answers), mode, with_loss, explore, signals, None)
                by_class.add(group.first, run.final[:, 0], run.cycles, run.inner)
                answers[group.first:group.first + group.rows] = torch.softmax(run.final[:, 0], dim=-1)
                continue
            start, end = group
            if shared is not None and start == 0:  # the leaf level, from its distinct leaves
                leaf, which = shared
                finals.append(leaf.final[which])
                answers[start:end] = torch.softmax(finals[-1], dim=-1)
                steps[start:end], cycles[start:end], thought[start:end] = leaf.steps[which], leaf.cycles[which], leaf.inner_steps[which]
                continue
            level = self._nodes_level(batch, start, end, answers, supervise_prefixes)
            run = self._run_level(level, mode, with_loss, explore, signals, None if first_right is None else first_right[start:end])
            finals.append(run.final)
            if run.log_prob is not None:
                log_probs.append(run.log_prob)
            answers[start:end] = torch.softmax(run.final, dim=-1)
            arity = torch.stack(level.present, 1).sum(1).flatten() if level.present else 0
            steps[start:end] = (1 if run.folded else run.cycles) * arity + run.cycles * run.inner
            cycles[start:end] = run.cycles
            thought[start:end] = run.inner
        if cells is not None:
            finals, cycles, thought = by_class.per_cell(cells)
            arity = torch.bincount(batch.child_parent, minlength=n)
            steps = (1 if cfg.scan == "answer" else cycles) * arity + cycles * thought
        loss, terms = signals.loss(cfg.classes, cfg.halting, device) if signals is not None else (None, None)
        return Output(
            torch.cat(finals), loss, steps, cycles, thought,
            torch.cat(log_probs) if log_probs else None, first_right, terms,
        )

    def _halting_mode(self, halting: str | None) -> str:
        """forward's halting mode: the one asked, else "threshold" with a halting head
        and "off" without; refused where unknown or where the model has no head."""
        mode = halting or ("threshold" if self.config.halting else "off")
        if mode not in HALTING_MODES:
            raise HybridTRMError(f"halting must be one of {', '.join(HALTING_MODES)}, not {mode!r}")
        if mode != "off" and not self.config.halting:
            raise HybridTRMError("this model has no halting head; train it with halting to stop nodes early")
        return mode

    def _nodes_level(self, batch: TreeBatch, start: int, end: int, answers: torch.Tensor, supervise_prefixes: bool) -> Level:
        """Nodes [start, end) of the batch as the cycles read them (node_input)."""
        x, own, scan, present, (lo, hi) = self.node_input(batch, start, end, answers)

        def prefixes(after_child: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
            return self.prefix_logits(batch, start, lo, hi, after_child), batch.prefix_labels[batch.child[lo:hi]]

        labels = batch.labels[start:end]
        return Level(x, own, scan, present, batch.kind[start:end], labels, None, prefixes if supervise_prefixes else None)

    def _cells_level(self, group: LevelCells, answers: torch.Tensor) -> Level:
        """A part of a level's distinct cells (cells.py) as the cycles read them
        (cells_input); unlabelled: cells run at inference only."""
        device = answers.device
        x, own, scan, present = self.cells_input(group, answers)
        row_node = None if group.node is None else torch.from_numpy(group.node).to(device)
        return Level(x, own, scan, present, torch.from_numpy(group.kind).to(device), None, row_node)

    def _run_level(
        self, level: Level, mode: str, with_loss: bool, explore: float, signals: Signals | None,
        first_right: torch.Tensor | None,
    ) -> LevelRun:
        """The outer cycles of one group of rows. TRM's deep supervision: every cycle
        is scored (into `signals`, with the loss), and its gradient reaches back
        through that cycle only. With halting, a row stops after the cycle at which
        the head says its answer is right (mode "sample": draws the stop), and the
        cycles after it compute only the rows still running. `first_right`: the
        group's share of Output.first_right (mode "sample"), written in place."""
        cfg = self.config
        x, device = level.x, level.x.device
        rows = len(x)
        partial = [None if bool(has.all()) else has for has in level.present]
        y, z = self.y_init.expand_as(x), self.z_init.expand_as(x)
        folded = self.cell.fold(level.own, level.scan, partial, self.scan_answer) if cfg.scan == "answer" else []
        if signals is not None and level.prefixes is not None and folded:
            signals.add_prefixes(*level.prefixes(folded))
        inner, log_prob = self._inner_steps(level.kinds, mode)
        minimum = None  # cycles a row must run before it may stop (exploration)
        if with_loss and explore > 0 and mode == "threshold" and cfg.outer_cycles > 1:
            chosen = torch.rand(rows, device=device) < explore
            minimum = torch.where(chosen, torch.randint(2, cfg.outer_cycles + 1, (rows,), device=device), 1)
        running: torch.Tensor | None = None  # rows still running (None: all of them)
        final = None
        ran = torch.zeros(rows, dtype=torch.long, device=device)

        def part(v):
            return v if running is None else v[running]

        for t in range(cfg.outer_cycles):
            if t > 0:
                y, z = y.detach(), z.detach()
            if folded:
                z = part(folded[-1])
            y, z, after_child = self.cell.cycle(
                part(x), y, z, part(inner) if torch.is_tensor(inner) else inner, [] if folded else [part(c) for c in level.scan],
                [h if h is None else part(h) for h in partial],
            )
            now = part(torch.arange(rows, device=device))  # rows this cycle ran
            ran[now] += 1
            last = t == cfg.outer_cycles - 1
            if not (with_loss or mode != "off" or last):
                continue
            logits = self.head(y)
            final = logits if running is None else final.index_copy(0, running, logits)
            if signals is not None:
                signals.scores[t].append(logits)
                signals.targets[t].append(part(level.labels))
                if level.prefixes is not None and after_child and running is None:
                    signals.add_prefixes(*level.prefixes(after_child))
            if mode == "off":
                continue
            halt = self._halting(y, logits, level, part, now, t, signals, first_right)
            if last:
                break
            if mode == "sample":
                stop = torch.bernoulli(torch.sigmoid(halt.detach())).bool()
                chosen = torch.where(stop, nn.functional.logsigmoid(halt), nn.functional.logsigmoid(-halt))
                log_prob = log_prob.index_add(0, now, chosen)
            else:
                stop = torch.sigmoid(halt) > cfg.halt_threshold
                if minimum is not None:
                    stop &= part(minimum) <= t + 1
            if bool(stop.any()):
                go_on = ~stop
                running = now[go_on]
                y, z = y[go_on], z[go_on]
                if not len(running):
                    break
        return LevelRun(final, ran, inner, bool(folded), log_prob)

    def _inner_steps(self, kinds: torch.Tensor, mode: str) -> tuple[int | torch.Tensor, torch.Tensor | None]:
        """Inner steps per cycle for rows of these kinds: n, or with a controller (and
        halting on) its choice per row; and, where halting is sampled, the
        log-probability of the choices taken so far, (R,)."""
        log_prob = torch.zeros(len(kinds), device=kinds.device) if mode == "sample" else None
        if not self.config.controller or mode == "off":
            return self.config.inner_steps, log_prob
        inner, chosen = self.strategy(kinds, sample=mode == "sample")
        return inner, None if log_prob is None else log_prob + chosen

    def _halting(
        self, y: torch.Tensor, logits: torch.Tensor, level: Level, part: Callable[[torch.Tensor], torch.Tensor],
        now: torch.Tensor, t: int, signals: Signals | None, first_right: torch.Tensor | None,
    ) -> torch.Tensor:
        """The halting logit of each running row after cycle t: its least sure grid
        position (with per-node cell classes, its node's least sure class), plus the
        controller's offset for its kind. With the loss, the head's targets are
        recorded (whether each labelled row's answer is right now); with
        `first_right`, the first cycle each row was right."""
        halt = self.halt_head(y).squeeze(-1).amin(-1)  # (R,)
        if level.row_node is not None:  # a node's classes stop together, as its positions do
            halt = least_per_node(halt, part(level.row_node))
        if self.config.controller:
            halt = halt + self.strategy_halt[part(level.kinds)]
        if signals is None and first_right is None:
            return halt
        wanted = part(level.labels)
        labelled = (wanted != IGNORE).any(-1)
        right = ((logits.argmax(-1) == wanted) | (wanted == IGNORE)).all(-1) & labelled
        if signals is not None:
            signals.halt_scores.append(halt[labelled])
            signals.halt_targets.append(right[labelled].float())
        if first_right is not None:
            unset = first_right[now] == 0
            first_right[now[unset & right]] = t + 1
        return halt

    def distinct_leaves(self, batch: TreeBatch, mode: str) -> tuple[Output, torch.Tensor] | None:
        """The leaf level (height 0) run once per distinct leaf: a leaf reads nothing
        but its kind and literal, so equal leaves compute equal numbers, and ListOps'
        thousands of digits are ten rows. Returns that run's output and, per leaf of
        the batch, its row there (None: no two leaves are alike, or too few leaves to
        pay for the second forward call: one `solve` input of ~50 leaves ran 1-3 ms
        slower with it)."""
        start, end = batch.levels[0]
        if end - start < SHARED_LEAVES_FROM:
            return None
        key = torch.cat([batch.kind[start:end, None], batch.literal[start:end]], dim=1)
        device = key.device  # the rows are sorted in numpy, on the CPU
        distinct, which = (torch.from_numpy(a).to(device) for a in unique_rows(key.cpu().numpy()))
        if len(distinct) == end - start:
            return None
        u, p = len(distinct), batch.literal.shape[1]
        none = torch.zeros(0, dtype=torch.long, device=device)
        ignored = torch.full((u, p), IGNORE, device=device)
        leaves = TreeBatch(
            kind=distinct[:, 0].contiguous(), literal=distinct[:, 1:].contiguous(), labels=ignored, prefix_labels=ignored,
            height=torch.zeros(u, dtype=torch.long, device=device), levels=[(0, u)], child=none, child_parent=none,
            child_rank=none, roots=torch.arange(u, device=device), tree=torch.arange(u, device=device),
        )
        return self.forward(leaves, with_loss=False, halting=mode), which

    def strategy(self, kinds: torch.Tensor, sample: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The controller's inner steps for nodes of these kinds, (R,) from 1: its most
        likely choice, or (sample) a draw from it; and the choice's log-probability."""
        logits = torch.log_softmax(self.strategy_steps[kinds], dim=-1)
        choice = torch.multinomial(logits.detach().exp(), 1).squeeze(1) if sample else logits.argmax(-1)
        return choice + 1, logits.gather(1, choice[:, None]).squeeze(1)

    def prefix_logits(self, batch: TreeBatch, start: int, lo: int, hi: int, after_child: list[torch.Tensor]) -> torch.Tensor:
        """The prefix head on the state after each child, one row per edge [lo, hi)."""
        rows, ranks = batch.child_parent[lo:hi] - start, batch.child_rank[lo:hi]
        return self.prefix_head(torch.stack(after_child, 1)[rows, ranks])

    def scan_answer(self, z: torch.Tensor | None) -> torch.Tensor:
        """The answer scan's state after a child: the running answer that z holds,
        as the prefix head reads it, embedded (None: the state before any child)."""
        if z is None:
            return self.scan_start
        return self.running_answer(torch.softmax(self.prefix_head(z), dim=-1))

    def node_input(self, batch: TreeBatch, start: int, end: int, answers: torch.Tensor):
        """For nodes [start, end): x (L, P, H); for the scan, their children's answers
        by rank, each (L, P, H), and which nodes have a child of that rank, each
        (L, 1, 1); and the range of their edges."""
        x = self.kind_embedding(batch.kind[start:end])[:, None, :] + self.literal_embedding(batch.literal[start:end])
        lo, hi = batch.edge_range(start, end)
        if lo == hi:  # leaves
            return x, x, [], [], (lo, hi)
        rows, ranks = batch.child_parent[lo:hi] - start, batch.child_rank[lo:hi]
        child_answers = answers[batch.child[lo:hi]]  # (E, P, C)
        if batch.reads is not None:  # each class's presence among the positions a node reads
            reads = batch.reads[batch.child_parent[lo:hi]]  # (E, P, K)
            e, p, k = reads.shape
            gathered = child_answers.gather(1, reads.reshape(e, p * k, 1).expand(-1, -1, child_answers.shape[2]))
            child_answers = gathered.view(e, p, k, -1).amax(2)
        device = answers.device
        slots = torch.zeros(end - start, int(ranks.max()) + 1, *answers.shape[1:], device=device)  # (L, J, P, C)
        slots = slots.index_put((rows, ranks), child_answers)
        present = torch.zeros(end - start, slots.shape[1], 1, 1, dtype=torch.bool, device=device)
        present = present.index_put((rows, ranks), torch.tensor(True, device=device))
        return *self.with_children(x, slots, present), (lo, hi)

    def cells_input(self, cells: LevelCells, answers: torch.Tensor):
        """node_input for distinct cells (cells.py), each a row of one position:
        `answers` (classes, C) holds every class below them."""
        device = answers.device  # the classes are found in numpy (cells.py), on the CPU
        kind, literal = torch.from_numpy(cells.kind).to(device), torch.from_numpy(cells.literal).to(device)
        x = (self.kind_embedding(kind) + self.literal_embedding(literal))[:, None, :]
        if not cells.reads.shape[1]:  # leaves
            return x, x, [], []
        sets = torch.from_numpy(cells.reads).to(device)  # (R, J, S) the child classes each reads, per rank
        read = sets >= 0
        slots = (answers[sets.clamp(min=0)] * read[..., None]).amax(2)  # (R, J, C): each class's presence
        return self.with_children(x, slots[:, :, None, :], read.any(2)[:, :, None, None])

    def with_children(self, x: torch.Tensor, slots: torch.Tensor, present: torch.Tensor):
        """x with its children's summary and first child, the scan's inputs, and which
        children are present, from their answers by rank `slots` (L, J, P, C; zeros
        where absent) and `present` (L, J, 1, 1)."""
        counts = slots.sum(1)
        if self.config.summary == "sum":
            summary = self.child_counts(counts)
        else:
            arity = present.sum(1)  # (L, 1, 1)
            # Answers are probabilities, so an absent child's zeros never win the max.
            summary = self.child_presence(slots.amax(1))
            if self.config.summary == "ordinal":
                # Per answer v: the children at or below v against those above it,
                # held to [-1, 1]. A count's margin is one child at any length, so
                # the pattern (-1 below the lower median, 0 up to the upper one, 1
                # from there) is the same at 30 children as at 5; a share's margin
                # shrinks to 1/30, which no list of 5 shows. A tie (an even list's
                # lower median) is a feature of its own, not the midpoint between
                # "fewer" and "more" (which the median's floor would have to split).
                balance = (2 * counts.cumsum(-1) - arity).clamp(-1.0, 1.0)
                summary = summary + self.child_balance(torch.cat([balance, 1 - balance.abs()], -1))
            else:
                # In units of an even spread (1 = a 1/classes share): a share of 0.2 on a
                # raw scale is too faint a signal for the median's thresholds to be learnt.
                summary = summary + self.child_share(counts * (self.config.classes / arity.clamp(min=1)))
        scan = self.child_answer(slots).unbind(1)
        return x + summary + self.first_child(slots[:, 0]), x, list(scan), list(present.unbind(1))

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


# Grid cells (rows x positions) an inference step computes at once: a level of a wide
# formula on 1,024 worlds holds millions, whose single steps take seconds and
# gigabytes. Its nodes are independent of each other, so the level runs in parts of
# this size, and a time budget is checked between them (a part's step: ~0.1 s).
PART_CELLS = 1 << 17


def _level_parts(batch: TreeBatch, shared_leaves: bool) -> list[tuple[int, int]]:
    """Each level's node range, cut into parts of at most PART_CELLS grid cells (the
    leaf level whole where distinct_leaves computes it). In training every level
    runs whole, as it always has."""
    rows = max(1, PART_CELLS // batch.literal.shape[1])
    parts = []
    for start, end in batch.levels:
        if shared_leaves and start == 0:
            parts.append((start, end))
        else:
            parts.extend((lo, min(lo + rows, end)) for lo in range(start, end, rows))
    return parts
