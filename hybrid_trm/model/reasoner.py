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
children. The cell also reads the children one by one, in order, one inner step
each (a sum mod 10 is a running total; see cell.py for the two kinds of scan).

On a grid of worlds (logic), a quantifier reads its body's answers at the
positions the batch's `reads` name (every element of its variable), as the
presence of each answer among them; every other node reads where it stands.

forward(batch) -> (logits per outer cycle, loss): one call for training and
inference; the loss is cross-entropy on every labelled node at every outer cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..errors import HybridTRMError
from ..trees import IGNORE, NO_LITERAL, TreeBatch
from .cell import RecursiveCell


@dataclass
class ModelConfig:
    kinds: int  # node kinds of the domain's grammar
    classes: int = 10  # answer classes per grid position
    hidden: int = 64  # width of z, y and every embedding
    expansion: int = 4  # MLP width of the cell, as a multiple of hidden
    inner_steps: int = 3  # n: latent updates per answer update
    outer_cycles: int = 2  # T: answer updates; each one is supervised
    # What the scan carries from one child to the next: "latent" (z itself) or
    # "answer" (the running answer z holds: a fold that does not drift with length).
    scan: str = "latent"
    # How x summarises the children's answers: "sum" (a count per answer) or
    # "share" (the share of children per answer, and whether any child has it:
    # both the same for 5 children as for 30).
    summary: str = "sum"
    # Whether grid position i reads position i-1 (a digit's carry); off for a grid of
    # worlds, where a position is one interpretation and a quantifier reads its body
    # at other positions through the batch's `reads`.
    carry: bool = True

    def __post_init__(self):
        if self.scan not in ("latent", "answer"):
            raise HybridTRMError(f"scan must be 'latent' or 'answer', not {self.scan!r}")
        if self.summary not in ("sum", "share"):
            raise HybridTRMError(f"summary must be 'sum' or 'share', not {self.summary!r}")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Output:
    logits: list[torch.Tensor]  # (N, P, C) per outer cycle (only the last without loss): the answer is the last
    loss: torch.Tensor | None
    # (N,) latent updates each node ran: T x (children + n), or children + T x n with
    # the answer fold, which reads the children once.
    steps: torch.Tensor

    @property
    def final(self) -> torch.Tensor:
        return self.logits[-1]


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
            self.child_share = nn.Linear(config.classes, h, bias=False)
            self.child_presence = nn.Linear(config.classes, h, bias=False)
        self.first_child = nn.Linear(config.classes, h, bias=False)
        self.child_answer = nn.Linear(config.classes, h, bias=False)
        self.z_init = nn.Parameter(torch.zeros(h))
        self.y_init = nn.Parameter(torch.zeros(h))
        self.cell = RecursiveCell(h, config.expansion, config.carry)
        self.head = nn.Linear(h, config.classes)
        # Reads the latent after each child of the scan: the answer over the children so
        # far (a running sum, a running max), where the domain labels such prefixes.
        self.prefix_head = nn.Linear(h, config.classes)
        if config.scan == "answer":
            self.scan_start = nn.Parameter(torch.zeros(h))
            self.running_answer = nn.Linear(config.classes, h, bias=False)
        nn.init.normal_(self.z_init, std=0.02)
        nn.init.normal_(self.y_init, std=0.02)

    def forward(self, batch: TreeBatch, with_loss: bool = True, groups: list[tuple[int, int]] | None = None) -> Output:
        """Run the cell over the batch one group of nodes at a time: by default each
        level is one group. `groups` = one node each gives the per-node recursion
        (same numbers, one node per step) that benchmarks compare against."""
        cfg = self.config
        n, p = batch.nodes, batch.literal.shape[1]  # grid width comes with the data
        # Each node's answer distribution, read by its parent; written one group at a time.
        answers = torch.zeros(n, p, cfg.classes)
        cycles: list[list[torch.Tensor]] = [[] for _ in range(cfg.outer_cycles)]
        prefix_scores: list[torch.Tensor] = []  # (E, P, C) per group (and cycle, for the latent scan)
        prefix_targets: list[torch.Tensor] = []
        supervise_prefixes = with_loss and bool((batch.prefix_labels != IGNORE).any())
        steps = torch.zeros(n, dtype=torch.long)
        for start, end in groups or batch.levels:
            x, own, scan, present, (lo, hi) = self.node_input(batch, start, end, answers)
            partial = [None if bool(has.all()) else has for has in present]
            y = self.y_init.expand_as(x)
            z = self.z_init.expand_as(x)
            folded = self.cell.fold(own, scan, partial, self.scan_answer) if cfg.scan == "answer" else []
            if supervise_prefixes and folded:
                prefix_scores.append(self.prefix_logits(batch, start, lo, hi, folded))
                prefix_targets.append(batch.prefix_labels[batch.child[lo:hi]])
            for t in range(cfg.outer_cycles):
                # TRM's deep supervision: every cycle is scored, and its gradient
                # reaches back through that cycle only.
                if t > 0:
                    y, z = y.detach(), z.detach()
                if folded:
                    z = folded[-1]
                y, z, after_child = self.cell.cycle(x, y, z, cfg.inner_steps, [] if folded else scan, partial)
                if with_loss or t == cfg.outer_cycles - 1:
                    cycles[t].append(self.head(y))
                if supervise_prefixes and after_child:
                    prefix_scores.append(self.prefix_logits(batch, start, lo, hi, after_child))
                    prefix_targets.append(batch.prefix_labels[batch.child[lo:hi]])
            answers[start:end] = torch.softmax(cycles[-1][-1], dim=-1)
            arity = torch.stack(present, 1).sum(1).flatten() if present else 0
            steps[start:end] = (1 if folded else cfg.outer_cycles) * arity + cfg.outer_cycles * cfg.inner_steps
        logits = [torch.cat(c) for c in cycles if c]
        loss = None
        if with_loss:
            loss = sum(self.scored(l, batch.labels) for l in logits) / len(logits)
            if prefix_scores:
                loss = loss + self.scored(torch.cat(prefix_scores), torch.cat(prefix_targets))
        return Output(logits, loss, steps)

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

    def scored(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cross-entropy over every labelled grid cell (0 when none is labelled)."""
        targets = targets.reshape(-1)
        if not bool((targets != IGNORE).any()):
            return logits.sum() * 0.0
        return nn.functional.cross_entropy(logits.reshape(-1, self.config.classes), targets, ignore_index=IGNORE)

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
        counts = torch.zeros(end - start, *answers.shape[1:]).index_add(0, rows, child_answers)
        if self.config.summary == "sum":
            summary = self.child_counts(counts)
        else:
            arity = torch.zeros(end - start).index_add(0, rows, torch.ones(len(rows)))
            index = rows[:, None, None].expand_as(child_answers)
            presence = torch.zeros_like(counts).scatter_reduce(0, index, child_answers, "amax", include_self=False)
            # In units of an even spread (1 = a 1/classes share): a share of 0.2 on a
            # raw scale is too faint a signal for the median's thresholds to be learnt.
            share = counts * (self.config.classes / arity.clamp(min=1)[:, None, None])
            summary = self.child_share(share) + self.child_presence(presence)
        slots = torch.zeros(end - start, int(ranks.max()) + 1, *answers.shape[1:])  # (L, K, P, C)
        slots = slots.index_put((rows, ranks), child_answers)
        present = torch.zeros(end - start, slots.shape[1], 1, 1, dtype=torch.bool).index_put((rows, ranks), torch.tensor(True))
        scan = self.child_answer(slots).unbind(1)
        own = x
        x = x + summary + self.first_child(slots[:, 0])
        return x, own, list(scan), list(present.unbind(1)), (lo, hi)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
