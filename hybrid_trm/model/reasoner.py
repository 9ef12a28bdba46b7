"""The tree reasoner: the recursive cell applied bottom-up, one tree level at a
time, with the input embedding and the answer head around it.

Where the domain labels prefixes (the answer over a node's first j children), the
latent after reading child j is scored against it: a scan of five children gets
five labels instead of one, which is what lets it learn a running sum mod 10.

A node's input x is its kind, the digits of its literal (for number leaves), the
sum of its children's answer distributions (a count of answers over any number
of children: ListOps lists have unbounded arity) and its first child's answer
(the operand whose role differs in most operators: a - b is not b - a). The cell
also reads the children one by one, in order, one inner step each (a sum mod 10
is a running total).

forward(batch) -> (logits per outer cycle, loss): one call for training and
inference; the loss is cross-entropy on every labelled node at every outer cycle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

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

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Output:
    logits: list[torch.Tensor]  # (N, P, C) per outer cycle (only the last without loss): the answer is the last
    loss: torch.Tensor | None
    steps: torch.Tensor  # (N,) latent updates each node ran: cycles x (children read + n)

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
        self.child_counts = nn.Linear(config.classes, h, bias=False)
        self.first_child = nn.Linear(config.classes, h, bias=False)
        self.child_answer = nn.Linear(config.classes, h, bias=False)
        self.z_init = nn.Parameter(torch.zeros(h))
        self.y_init = nn.Parameter(torch.zeros(h))
        self.cell = RecursiveCell(h, config.expansion)
        self.head = nn.Linear(h, config.classes)
        # Reads the latent after each child of the scan: the answer over the children so
        # far (a running sum, a running max), where the domain labels such prefixes.
        self.prefix_head = nn.Linear(h, config.classes)
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
        prefix_logits: list[torch.Tensor] = []  # (E, P, C) per group and cycle
        prefix_targets: list[torch.Tensor] = []
        supervise_prefixes = with_loss and bool((batch.prefix_labels != IGNORE).any())
        steps = torch.zeros(n, dtype=torch.long)
        for start, end in groups or batch.levels:
            x, scan, present, (lo, hi) = self.node_input(batch, start, end, answers)
            partial = [None if bool(has.all()) else has for has in present]
            y = self.y_init.expand_as(x)
            z = self.z_init.expand_as(x)
            for t in range(cfg.outer_cycles):
                # TRM's deep supervision: every cycle is scored, and its gradient
                # reaches back through that cycle only.
                if t > 0:
                    y, z = y.detach(), z.detach()
                y, z, after_child = self.cell.cycle(x, y, z, cfg.inner_steps, scan, partial)
                if with_loss or t == cfg.outer_cycles - 1:
                    cycles[t].append(self.head(y))
                if supervise_prefixes and after_child:
                    rows, ranks = batch.child_parent[lo:hi] - start, batch.child_rank[lo:hi]
                    prefix_logits.append(self.prefix_head(torch.stack(after_child, 1)[rows, ranks]))
                    prefix_targets.append(batch.prefix_labels[batch.child[lo:hi]])
            answers[start:end] = torch.softmax(cycles[-1][-1], dim=-1)
            arity = torch.stack(present, 1).sum(1).flatten() if present else 0
            steps[start:end] = cfg.outer_cycles * (arity + cfg.inner_steps)
        logits = [torch.cat(c) for c in cycles if c]
        loss = None
        if with_loss:
            loss = sum(self.scored(l, batch.labels) for l in logits) / len(logits)
            if prefix_logits:
                loss = loss + self.scored(torch.cat(prefix_logits), torch.cat(prefix_targets))
        return Output(logits, loss, steps)

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
            return x, [], [], (lo, hi)
        rows, ranks = batch.child_parent[lo:hi] - start, batch.child_rank[lo:hi]
        child_answers = answers[batch.child[lo:hi]]  # (E, P, C)
        counts = torch.zeros(end - start, *answers.shape[1:]).index_add(0, rows, child_answers)
        slots = torch.zeros(end - start, int(ranks.max()) + 1, *answers.shape[1:])  # (L, K, P, C)
        slots = slots.index_put((rows, ranks), child_answers)
        present = torch.zeros(end - start, slots.shape[1], 1, 1, dtype=torch.bool).index_put((rows, ranks), torch.tensor(True))
        scan = self.child_answer(slots).unbind(1)
        x = x + self.child_counts(counts) + self.first_child(slots[:, 0])
        return x, list(scan), list(present.unbind(1)), (lo, hi)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())
